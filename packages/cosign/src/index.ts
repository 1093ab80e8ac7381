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
 *   {@link signCosignBlob}.
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

// Verify images and blobs
export {
  type CosignClaim,
  type CosignSignatureOutcome,
  type CosignVerifyResult,
  outcomeToJson as cosignOutcomeToJson,
  type VerifyCosignAttestationsOptions,
  type VerifyCosignImageOptions,
  type VerifyCosignSignaturesOptions,
  verifyCosignAttestations,
  verifyCosignSignatures,
} from './verify.js';
export { type CosignBlobForm, type CosignBlobResult, type VerifyCosignBlobOptions, verifyCosignBlob } from './blob.js';

// Find signatures without verifying them
export {
  CosignAnnotation,
  type CosignForm,
  type CosignKind,
  CosignMediaType,
  cosignTag,
  type FindCosignSignaturesOptions,
  type FoundSignature,
  findCosignSignatures,
} from './formats.js';

// Sign with a key, offline
export {
  type SignBlobOptions as SignCosignBlobOptions,
  type SignedBlob,
  type SignedImage,
  type SignImageOptions,
  type SigningCertificates,
  signBlob as signCosignBlob,
  signImage,
} from './sign.js';

// Keys: cosign's encrypted key file, PEM public and private keys
export {
  decryptCosignKey,
  type EncryptCosignKeyOptions,
  type EncryptedCosignKey,
  encryptCosignKey,
  isEncryptedCosignKey,
} from './key-file.js';
export {
  type CosignPublicKey,
  type CosignSigner,
  type LoadSignerOptions,
  loadSigner,
  parsePublicKeys,
  publicKeyFromSpki,
  publicKeyToPem,
  signerFromPkcs8,
} from './keys.js';

// Simple signing: the signed claim of cosign's legacy image signatures
export { parseSimpleSigning, type SimpleSigningPayload } from './simple-signing.js';
