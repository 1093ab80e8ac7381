export { dockerConfigPath, dockerServerKey } from './config.js';
export { type DockerCredentialsOptions, dockerCredentials } from './credentials.js';
export { type CredentialHelperOptions, runCredentialHelper } from './helper.js';
export { type DockerConfigWriteOptions, type DockerConfigWriteResult, eraseDockerCredentials, storeDockerCredentials } from './store.js';
