export {
  checkDeclaredSize,
  DEFAULT_MAX_BLOB_BYTES,
  DEFAULT_MAX_MANIFEST_BYTES,
  referrersTag,
  verifyContent,
} from './content.js';
export * from './layout.js';
export * from './manifest.js';
export * from './memory.js';
export {
  type AuthChallenge,
  type Credential,
  type CredentialProvider,
  mergeScopes,
  parseWwwAuthenticate,
  repositoryScope,
  staticCredentials,
} from './remote/auth.js';
export {
  createRegistryClient,
  parseRetryAfter,
  type RegistryClient,
  type RegistryClientOptions,
  type RegistryClientStats,
  type RegistryRequest,
  type RetryOptions,
} from './remote/client.js';
export { type RemoteRepository, type RemoteRepositoryOptions, remoteRepository } from './remote/remote.js';
export * from './types.js';
