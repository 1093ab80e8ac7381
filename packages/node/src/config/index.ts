/**
 * `@vouch/node/config`: managing notation's configuration directory the way the `notation` CLI
 * does, for tools built on vouch (the `vouch` CLI is one): `config.json`, signing keys, trust
 * policy files, the trust store, plugin installation, and docker credentials. Files are written
 * atomically, in notation's layout, so vouch and notation can share one directory.
 *
 * Reading the directory to verify (trust store, trust policy, verifier) is in `@vouch/node`.
 *
 * @packageDocumentation
 */

// Locations
export { ConfigPaths, localKeyPaths } from './dirs.js';

// config.json
export { loadNotationConfig, type NotationConfig, notationConfigPath, parseNotationConfig, saveNotationConfig } from './notation-config.js';

// Signing keys (signingkeys.json)
export {
  addSigningKey,
  isPluginKey,
  type KeySuite,
  type LocalKeySuite,
  loadSigningKeys,
  type PluginKeySuite,
  removeSigningKeys,
  type SigningKeys,
  setDefaultSigningKey,
} from './signing-keys.js';

// Trust policy files
export {
  type ImportedOciTrustPolicy,
  importBlobTrustPolicy,
  importOciTrustPolicy,
  readBlobTrustPolicyFile,
  readOciTrustPolicyFile,
  type TrustPolicyFile,
} from './policy.js';

// Trust store
export {
  addTrustStoreCertificate,
  deleteTrustStore,
  deleteTrustStoreCertificate,
  listTrustStoreCertificates,
  showTrustStoreCertificate,
  type TrustStoreEntry,
} from '../truststore/manage.js';

// Plugins: install, list, find
export {
  type InstallPluginOptions,
  type InstallPluginResult,
  installPlugin,
  MAX_PLUGIN_INSTALL_BYTES,
  uninstallPlugin,
} from '../plugin/install.js';
export {
  type FindPluginOptions,
  findPlugin,
  type InstalledPlugin,
  listPlugins,
  type PluginDirOptions,
  pluginExecutablePath,
} from '../plugin/discovery.js';

// Docker credentials: config.json, credential helpers, writing and erasing
export { dockerConfigPath, dockerServerKey } from '../docker-config/config.js';
export { type CredentialHelperOptions, runCredentialHelper } from '../docker-config/helper.js';
export {
  type DockerConfigWriteOptions,
  type DockerConfigWriteResult,
  eraseDockerCredentials,
  storeDockerCredentials,
} from '../docker-config/store.js';
