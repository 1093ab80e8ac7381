/**
 * `@vouch/sigstore` — verify Sigstore bundles and cosign signatures offline, on every runtime
 * (browsers, Deno, Bun, workerd, Node; WebCrypto only).
 *
 * - **Verify** a Sigstore bundle (v0.1, v0.2, v0.3, both v0.3 media types; message signatures
 *   and DSSE envelopes with in-toto statements) with {@link verifyBundle}, or a cosign
 *   signature in its legacy registry form (signature + payload, certificate and chain, Rekor SET
 *   bundle, RFC 3161 timestamp) with {@link verifyCosignSignature}. Both check the transparency
 *   log (SET and inclusion proof with its signed checkpoint, and that the entry body describes
 *   this signature, key and artifact), the certificate chain at the signing time, the
 *   code-signing EKU, embedded SCTs, the identity (SANs and Fulcio extensions) and RFC 3161
 *   timestamps.
 * - **Trust** is one {@link TrustMaterial} value: from a Sigstore `trusted_root.json`
 *   ({@link parseTrustedRoot}) or from PEM material as a Kyverno policy carries it
 *   ({@link trustMaterialFromPem}). Nothing is ever fetched; a check that needs material that
 *   was not given fails with `ERR_TRUST_MATERIAL_MISSING`, naming the field to set.
 * - **Parse** bundles, DSSE envelopes, in-toto statements, cosign Rekor bundles and keys, for
 *   callers that inspect before (or instead of) verifying.
 *
 * Errors are `VouchError`s from `@vouch/core` (codes `ERR_BUNDLE_INVALID`, `ERR_TLOG_INVALID`,
 * `ERR_TLOG_ENTRY_MISSING`, `ERR_SCT_INVALID`, `ERR_TRUST_MATERIAL_MISSING`,
 * `ERR_SIGNATURE_INTEGRITY`, `ERR_CERT_*`, `ERR_IDENTITY_UNTRUSTED`, `ERR_TIMESTAMP_INVALID`,
 * `ERR_ARTIFACT_MISMATCH`, …).
 *
 * @packageDocumentation
 */

// Parse
export { BUNDLE_MEDIA_TYPES, parseBundle } from './bundle.js';
export { signingCertificateIdentity } from './cert/identity.js';
export { parseDsseEnvelope, parseInTotoStatement, preAuthEncoding } from './dsse.js';
export { parseRekorBundle } from './tlog/rekor-bundle.js';
export { type PemTrustMaterialOptions, parsePublicKey, trustMaterialFromPem } from './trust/pem.js';
// Trust material
export { parseTrustedRoot } from './trust/trusted-root.js';
export type {
  Bundle,
  BundleMediaType,
  CertificateAuthority,
  CertificateIdentity,
  CosignSignature,
  DsseEnvelope,
  FulcioExtensions,
  InclusionProof,
  InTotoStatement,
  PublicKeyInput,
  RekorBundle,
  SigstorePublicKey,
  SigstoreVerification,
  TlogEntry,
  TransparencyLogKey,
  TrustedPublicKey,
  TrustMaterial,
  ValidityWindow,
  VerifiedSigner,
  VerifiedTime,
  VerifiedTlogEntry,
  VerifyBundleOptions,
  VerifyCosignSignatureOptions,
  VerifyPolicyOptions,
} from './types.js';
// Verify
export { verifyBundle } from './verify/bundle.js';
export { verifyCosignSignature } from './verify/cosign.js';
