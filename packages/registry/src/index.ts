/**
 * `@vouch/registry`: OCI distribution for signatures, in any JavaScript runtime — a registry
 * client over an injected `fetch` (auth, retries, the Referrers API with its tag-schema
 * fallback), repositories backed by a remote registry, an OCI image layout or memory, and the
 * Notary signature manifest.
 *
 * Helpers vouch's own packages share live in `@vouch/registry/internal`, which is not part of the
 * public API.
 *
 * @packageDocumentation
 */

// Repositories: the interface and its options
export type {
  FetchOptions,
  PushBlobOptions,
  PushManifestOptions,
  ReferrersOptions,
  Repository,
  RequestOptions,
  WritableRepository,
} from './types.js';

// Remote registries: the client, credentials, repositories
export {
  createRegistryClient,
  type RegistryClient,
  type RegistryClientOptions,
  type RegistryClientStats,
  type RegistryRequest,
  type RetryOptions,
} from './remote/client.js';
export { type Credential, type CredentialProvider, staticCredentials } from './remote/auth.js';
export { type RemoteRepository, type RemoteRepositoryOptions, remoteRepository } from './remote/remote.js';

// OCI image layouts and in-memory repositories
export { type LayoutFs, type OciLayoutOptions, type OciLayoutRepository, ociLayoutRepository, parseLayoutReference } from './layout.js';
export { type MemoryRepository, type MemoryRepositoryOptions, memoryRepository } from './memory.js';

// Signature manifests
export {
  type BuildSignatureManifestOptions,
  type BuiltSignatureManifest,
  buildSignatureManifest,
  EMPTY_CONFIG_BYTES,
  type ParsedSignatureManifest,
  parseSignatureManifest,
} from './manifest.js';
