/**
 * `@vouch/x509`: the certificate model of vouch, in any JavaScript runtime.
 *
 * - Parse certificates (DER, PEM, multi-certificate files) and write them as PEM.
 * - Validate chains to the Notary Project profiles (code signing, timestamping), build paths
 *   for other profiles (Sigstore), and check certificate signatures.
 * - Import and export WebCrypto keys, and map them to the key vocabulary of `@vouch/core`.
 * - Build certificates and whole test PKIs, for tests and demos.
 *
 * RFC 3161 timestamps are in `@vouch/x509/tsp`, OCSP and CRLs in `@vouch/x509/revocation`.
 * Helpers vouch's own packages share live in `@vouch/x509/internal`, which is not part of the
 * public API.
 *
 * @packageDocumentation
 */

// Certificates
export type { Certificate, CertificateExtension, DnAttribute } from './types.js';
export { certificatesToPem, parseCertificate, parseCertificates } from './certificate.js';

// Chain validation and path building
export { type ChainValidationOptions, validateSigningChain, validateTimestampingChain } from './chain.js';
export { buildCertificatePath, type CertificatePathOptions } from './path.js';

// Keys and certificate signatures
export {
  exportPrivateKeyPkcs8,
  importPrivateKey,
  importPublicKey,
  keySpecOf,
  signatureAlgorithmOf,
  verifyCertificateSignature,
} from './keys.js';

// Building certificates and test PKIs
export {
  type CertificateWithKey,
  type CreateCertificateOptions,
  type CreateTestPkiOptions,
  createCertificate,
  createTestPki,
  type GeneratedCertificate,
  type GenerateTestCertificateOptions,
  generateKeyPair,
  generateTestCertificate,
  type TestPki,
} from './builder.js';
