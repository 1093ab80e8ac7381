/**
 * `@vouch/node`: the Node.js adapters of the vouch SDK — what the runtime-agnostic packages take
 * as injected values, backed by the file system, `node:crypto`, child processes and undici.
 *
 * - Registries: a pooled {@link undiciFetch} transport, docker credentials
 *   ({@link dockerCredentials}) and OCI image layouts on disk ({@link nodeOciLayout}).
 * - notation's configuration directory, read-only: {@link notationConfigDir},
 *   {@link fileTrustStore}, {@link loadOciTrustPolicy} / {@link loadBlobTrustPolicy}, and
 *   {@link createNodeVerifier}, which wires them into a verifier.
 * - Plugins run as executables ({@link executablePlugin}); a CRL cache in notation's layout
 *   ({@link fileCrlCache}); files and detached signatures for blob signing ({@link fileStream}).
 *
 * Managing notation's configuration (trust store, signing keys and plugin CRUD, docker credential
 * writing) is in `@vouch/node/config`; the cluster controller in `@vouch/node/controller`.
 *
 * @packageDocumentation
 */

// Registries: transport, credentials, OCI layouts on disk
export { type PooledFetch, type UndiciFetchOptions, undiciFetch } from './registry/undici-fetch.js';
export { type DockerCredentialsOptions, dockerCredentials } from './docker-config/credentials.js';
export { nodeLayoutFs, nodeOciLayout } from './registry/layout-fs.js';

// Verification from notation's configuration directory
export { type NotationConfigDirOptions, notationConfigDir } from './config/dirs.js';
export { type FileTrustStore, type FileTrustStoreOptions, fileTrustStore } from './truststore/file-trust-store.js';
export { loadBlobTrustPolicy, loadOciTrustPolicy } from './config/policy.js';
export { createNodeVerifier, type NodeVerifier, type NodeVerifierOptions } from './config/verifier.js';

// Plugins as executables
export { type ExecutablePluginClient, type ExecutablePluginOptions, executablePlugin } from './plugin/executable.js';

// Revocation: the CRL cache
export { type FileCrlCacheOptions, fileCrlCache, type NotationCacheDirOptions, notationCacheDir } from './crl-cache/index.js';

// Blobs: streaming files, native hashing, detached signature files
export {
  type FileStreamOptions,
  fileStream,
  nodeHasher,
  readSignatureFile,
  type SignatureFile,
  type WriteSignatureFileOptions,
  writeSignatureFile,
} from './blob/index.js';
