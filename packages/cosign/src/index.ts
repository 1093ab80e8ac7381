/**
 * `@vouch/cosign`: cosign's formats in the registry, and its verbs as functions, offline and
 * runtime-agnostic (WebCrypto, no Node APIs). The cryptography of verification is
 * `@vouch/sigstore`'s; this package finds what to verify and checks cosign's claims.
 *
 * - **Verify** an image's signatures and attestations in every form cosign writes — bundle
 *   referrers (cosign 3), the `.sig` / `.att` tags (cosign 2), OCI 1.1 signature referrers — with
 *   {@link verifyCosignSignatures} and {@link verifyCosignAttestations}, through any
 *   `Repository` (remote registry, OCI layout, memory); blobs with {@link verifyCosignBlob}.
 * - **Find** them without verifying: {@link findCosignSignatures}.
 * - **Sign** with a key, offline: {@link signImage} (bundle referrer, or the `.sig` tag) and
 *   {@link signBlob}.
 * - **Keys**: cosign's encrypted key file (`cosign.key`), PEM public and private keys (EC, RSA,
 *   Ed25519).
 * - **Simple signing**: the signed claim of cosign's legacy image signatures.
 *
 * @example
 * ```ts
 * import { verifyCosignSignatures } from '@vouch/cosign';
 * import { trustMaterialFromPem } from '@vouch/sigstore';
 * const trust = trustMaterialFromPem({ publicKeys: cosignPub });
 * const { verified } = await verifyCosignSignatures({ repository, reference: 'sha256:…', trust, key: cosignPub, ignoreTlog: true });
 * ```
 *
 * @packageDocumentation
 */

// Verify
export { type CosignBlobForm, type CosignBlobResult, decodeSignatureFile, type VerifyCosignBlobOptions, verifyCosignBlob } from './blob.js';
// Find
export {
  BUNDLE_LAYER_MEDIA_TYPES,
  COSIGN_SIGN_PREDICATE_TYPE,
  CosignAnnotation,
  type CosignForm,
  type CosignKind,
  CosignMediaType,
  cosignTag,
  type FindCosignSignaturesOptions,
  FORMS_OF,
  type FoundSignature,
  findCosignSignatures,
} from './formats.js';
// Keys
export {
  decryptCosignKey,
  ENCRYPTED_COSIGN_KEY_PEM,
  ENCRYPTED_SIGSTORE_KEY_PEM,
  type EncryptCosignKeyOptions,
  type EncryptedCosignKey,
  encryptCosignKey,
  isEncryptedCosignKey,
  MAX_SCRYPT_MEMORY_BYTES,
  parseEncryptedCosignKey,
} from './key-file.js';
export {
  type CosignPublicKey,
  type CosignSigner,
  defaultHashOf,
  type LoadSignerOptions,
  loadSigner,
  parsePublicKey,
  parsePublicKeys,
  publicKeyFromSpki,
  publicKeyHint,
  publicKeyToPem,
  signerFromPkcs8,
} from './keys.js';
// Sign
export {
  type BuildDsseBundleOptions,
  buildDsseBundle,
  IN_TOTO_PAYLOAD_TYPE,
  inTotoStatement,
  type SignBlobOptions,
  type SignedBlob,
  type SignedImage,
  type SignImageOptions,
  type SigningCertificates,
  signBlob,
  signImage,
} from './sign.js';
// Simple signing
export {
  type BuildSimpleSigningOptions,
  buildSimpleSigning,
  COSIGN_SIGNATURE_TYPE,
  checkSimpleSigningClaims,
  MAX_SIMPLE_SIGNING_BYTES,
  missingAnnotations,
  parseSimpleSigning,
  SIMPLE_SIGNING_MEDIA_TYPE,
  type SimpleSigningPayload,
} from './simple-signing.js';
export {
  type CosignClaim,
  type CosignSignatureOutcome,
  type CosignVerifyResult,
  outcomeToJson,
  PREDICATE_TYPES,
  predicateTypeUri,
  type VerifyCosignAttestationsOptions,
  type VerifyCosignImageOptions,
  type VerifyCosignSignaturesOptions,
  verifyCosignAttestations,
  verifyCosignSignatures,
} from './verify.js';
