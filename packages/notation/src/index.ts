/**
 * Sign and verify OCI artifacts and blobs per the Notary Project specifications: the facade
 * of vouch. `verify` and `createVerifier` check artifacts in registries and OCI layouts against
 * a trust policy; `sign` signs them; `signBlob` and `createBlobVerifier` do the same for files
 * with detached signatures. Every failure is a {@link VouchError} with a stable `code`.
 *
 * @packageDocumentation
 */

// Errors are re-exported from @vouch/core (branch on `code`, never on `message`); blob/* signs and
// verifies blobs, sign/plugin-signer/timestamp-sign sign OCI artifacts, verify/* verifies them.
export { hasCode, isVouchError, VouchError, type VouchErrorCode } from '@vouch/core';
export {
  formatFromSignatureFileName,
  SIGNATURE_FORMAT_MEDIA_TYPES,
  type SignatureFormat,
  signatureFileName,
} from './blob/files.js';
export { type SignBlobOptions, type SignBlobResult, signBlob } from './blob/sign.js';
export { type BlobSource, blobDigestAlgorithm, DEFAULT_BLOB_MEDIA_TYPE, digestBlob } from './blob/source.js';
export {
  type BlobDescriptor,
  type BlobVerifier,
  type BlobVerifierConfig,
  compareBlobArtifact,
  createBlobVerifier,
  type VerifyBlobCallOptions,
  type VerifyBlobResult,
  verifyBlob,
  verifyBlobDescriptor,
} from './blob/verify.js';
export {
  isEnvelopeSigner,
  checkPluginSignature,
  checkPluginEnvelope,
  pluginSigner,
  type EnvelopeSignRequest,
  type EnvelopeSignResult,
  type EnvelopeSigner,
  type PluginSignerOptions,
  type CheckPluginSignatureOptions,
  type CheckPluginEnvelopeOptions,
} from './plugin-signer.js';
export {
  verificationPluginOf,
  resolveVerificationPlugin,
  runVerificationPlugin,
  assertPluginProcessedAttributes,
  capabilitiesToVerify,
  type PluginResolver,
  type VerificationPlugin,
  type ResolveVerificationPluginOptions,
  type RunVerificationPluginOptions,
  type VerificationPluginResult,
} from './plugin-verify.js';
export { sign, type SignOptions, type SignResult, DEFAULT_SIGNING_AGENT } from './sign.js';
export { checkTimestampAuthority, rfc3161Timestamper, type TimestampAuthority } from './timestamp-sign.js';
export {
  type ValidationType,
  type ValidationAction,
  type VerificationLevel,
  type CheckOutcome,
  type SignerInfo,
  type SignatureOutcome,
  type VerifyResult,
} from './types.js';
export { ocspCrlRevocation, type RevocationChecker, rfc3161Timestamp, type TimestampVerifier } from './verify/adapters.js';
export { createVerifier, type Verifier, type VerifierConfig, type VerifyCallOptions, verify } from './verify/oci.js';
export { compareOciArtifact, outcomeToJson, type SignatureInput } from './verify/signature.js';
