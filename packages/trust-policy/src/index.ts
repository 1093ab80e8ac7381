export { verifyTrustedIdentity, type SubjectLike } from './identity.js';
export {
  resolveVerificationLevel,
  VALIDATION_TYPES,
  VALIDATION_ACTIONS,
  VERIFY_TIMESTAMP_OPTIONS,
  VERIFICATION_LEVELS,
  type ResolvedVerificationLevel,
} from './level.js';
export { parseOciTrustPolicy, parseBlobTrustPolicy, SUPPORTED_TRUST_POLICY_VERSIONS, MAX_TRUST_POLICY_SIZE, WILDCARD } from './policy.js';
export { isValidRegistryScope, scopeOfReference } from './scope.js';
export { selectOciPolicy, selectBlobPolicy } from './select.js';
export {
  isTrustStoreType,
  isValidTrustStoreName,
  parseTrustStoreReference,
  validateTrustStoreCertificates,
  verifyTrustStoreCertificates,
  memoryTrustStore,
  type TrustStoreType,
  type TrustStore,
  TRUST_STORE_TYPES,
  type TrustStoreReference,
  type MemoryTrustStoreInit,
} from './trust-store.js';
export {
  type VerificationLevelName,
  type ValidationType,
  type ValidationAction,
  type VerifyTimestampOption,
  type OverridableValidationType,
  type SignatureVerification,
  type TrustPolicyStatementBase,
  type TrustPolicyStatement,
  type OciTrustPolicyDocument,
  type BlobTrustPolicyStatement,
  type BlobTrustPolicyDocument,
} from './types.js';
