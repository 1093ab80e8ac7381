export {
  checkDeclaredSize,
  DEFAULT_MAX_BLOB_BYTES,
  DEFAULT_MAX_MANIFEST_BYTES,
  referrersTag,
  verifyContent,
} from './content.js';
export { ociLayoutRepository, parseLayoutReference, type LayoutFs, type OciLayoutOptions, type OciLayoutRepository } from './layout.js';
export {
  isManifestMediaType,
  orderedDescriptor,
  goJson,
  parseJsonObject,
  buildSignatureManifest,
  parseSignatureManifest,
  thumbprintAnnotation,
  parseThumbprintAnnotation,
  summarizeManifest,
  inferManifestMediaType,
  referrerDescriptor,
  acceptReferrer,
  buildIndex,
  EMPTY_CONFIG,
  EMPTY_CONFIG_BYTES,
  MANIFEST_ACCEPT,
  type BuildSignatureManifestOptions,
  type BuiltSignatureManifest,
  type ParsedSignatureManifest,
  THUMBPRINT_ANNOTATION,
  type ManifestSummary,
  type ReferrerRejection,
} from './manifest.js';
export { memoryRepository, type MemoryRepositoryOptions, type MemoryRepository } from './memory.js';
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
export {
  type Repository,
  type WritableRepository,
  type PushBlobOptions,
  type PushManifestOptions,
  type RequestOptions,
  type FetchOptions,
  type ReferrersOptions,
} from './types.js';
