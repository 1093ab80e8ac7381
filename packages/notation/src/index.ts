/**
 * `@vouch/notation`: sign and verify OCI artifacts and blobs per the Notary Project
 * specifications, in any JavaScript runtime — the facade of vouch.
 *
 * - Verify artifacts in registries and OCI layouts against a trust policy ({@link verify},
 *   {@link createVerifier}); sign them ({@link sign}).
 * - Sign blobs with detached signatures and verify them ({@link signBlob},
 *   {@link createBlobVerifier}).
 * - Every failure is a {@link VouchError} with a stable `code`, re-exported here with its guards.
 *
 * Trust policies and stores are `@vouch/trust-policy`'s, codecs `@vouch/envelope/jws` and
 * `@vouch/envelope/cose`, registries `@vouch/registry`.
 *
 * @packageDocumentation
 */

// Errors (branch on `code`, never on `message`)
export { hasCode, isVouchError, VouchError, type VouchErrorCode } from '@vouch/core';

// Verifying OCI artifacts
export { createVerifier, type Verifier, type VerifierConfig, type VerifyCallOptions, verify } from './verify/oci.js';
export type { CheckOutcome, SignatureOutcome, SignerInfo, VerifyResult } from './types.js';
export { outcomeToJson } from './verify/signature.js';
export { ocspCrlRevocation, type RevocationChecker, rfc3161Timestamp, type TimestampVerifier } from './verify/adapters.js';
export type { PluginResolver } from './plugin-verify.js';

// Signing OCI artifacts
export { type SignOptions, type SignResult, sign } from './sign.js';
export {
  type EnvelopeSigner,
  type EnvelopeSignRequest,
  type EnvelopeSignResult,
  type PluginSignerOptions,
  pluginSigner,
} from './plugin-signer.js';
export { rfc3161Timestamper, type TimestampAuthority } from './timestamp-sign.js';

// Blobs: signing, verifying, detached signature files
export { type SignBlobOptions, type SignBlobResult, signBlob } from './blob/sign.js';
export {
  type BlobDescriptor,
  type BlobVerifier,
  type BlobVerifierConfig,
  createBlobVerifier,
  type VerifyBlobCallOptions,
  type VerifyBlobResult,
  verifyBlob,
  verifyBlobDescriptor,
} from './blob/verify.js';
export { type BlobSource, digestBlob } from './blob/source.js';
export {
  formatFromSignatureFileName,
  SIGNATURE_FORMAT_MEDIA_TYPES,
  type SignatureFormat,
  signatureFileName,
} from './blob/files.js';
