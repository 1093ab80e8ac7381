/**
 * `@vouch/trust-policy`: Notary Project trust policies and trust stores, in any JavaScript
 * runtime — parse and validate OCI and blob trust policy documents exactly as notation does,
 * select the statement that applies to an artifact, resolve its verification level, match
 * trusted identities, and hold trust store certificates in memory ({@link memoryTrustStore}).
 *
 * @packageDocumentation
 */

// Trust policy documents
export type {
  BlobTrustPolicyDocument,
  BlobTrustPolicyStatement,
  OciTrustPolicyDocument,
  SignatureVerification,
  TrustPolicyStatement,
  ValidationAction,
  ValidationType,
  VerificationLevelName,
  VerifyTimestampOption,
} from './types.js';
export { parseBlobTrustPolicy, parseOciTrustPolicy } from './policy.js';

// Evaluating a policy: statement selection, verification level, trusted identities
export { selectBlobPolicy, selectOciPolicy } from './select.js';
export { scopeOfReference } from './scope.js';
export { type ResolvedVerificationLevel, resolveVerificationLevel } from './level.js';
export { verifyTrustedIdentity } from './identity.js';

// Trust stores
export {
  isTrustStoreType,
  isValidTrustStoreName,
  type MemoryTrustStoreInit,
  memoryTrustStore,
  parseTrustStoreReference,
  TRUST_STORE_TYPES,
  type TrustStore,
  type TrustStoreReference,
  type TrustStoreType,
  verifyTrustStoreCertificates,
} from './trust-store.js';
