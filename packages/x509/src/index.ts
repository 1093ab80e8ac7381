/**
 * @vouch/x509 — the certificate model of vouch: parsing (DER/PEM, multi-certificate files),
 * WebCrypto key helpers, a certificate builder for tests and demos, Notary Project chain
 * validation (code signing and timestamping profiles), path building for other profiles
 * (Sigstore) and DN matching for trusted identities.
 * RFC 3161 tokens live in `@vouch/x509/tsp`, OCSP/CRL in `@vouch/x509/revocation`.
 */

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
export { certificatesToPem, parseCertificate, parseCertificates } from './certificate.js';
export {
  type ChainValidationOptions,
  isValidAt,
  MAX_CHAIN_LENGTH,
  validateCaCertificate,
  validateSigningChain,
  validateSigningLeaf,
  validateSigningTime,
  validateTimestampingChain,
  validateTimestampingLeaf,
} from './chain.js';
export {
  parseDistinguishedName,
  parseTrustedIdentity,
  subjectAttributes,
  matchesTrustedIdentity,
  trustedIdentitiesOverlap,
  MAX_DN_LENGTH,
  X509_SUBJECT_PREFIX,
  MANDATORY_IDENTITY_ATTRIBUTES,
  type TrustedIdentity,
} from './dn.js';
export { EXT_KEY_USAGE_OIDS, KEY_USAGE_NAMES, type KeyUsageName, OID } from './internal/oids.js';
export {
  type CertificateSignatureAlgorithm,
  ecdsaDerToP1363,
  ecdsaP1363ToDer,
  exportPrivateKeyPkcs8,
  importPrivateKey,
  importPublicKey,
  KEY_SPECS,
  type KeySpec,
  keySpecOf,
  type SignatureAlgorithm,
  signatureAlgorithmOf,
  signatureAlgorithmOfKey,
  verifyCertificateSignature,
} from './keys.js';
export { buildCertificatePath, type CertificatePathOptions } from './path.js';
export {
  type KeyType,
  type NamedCurve,
  type PublicKeyInfo,
  type CertificateExtension,
  type DnAttribute,
  type Certificate,
} from './types.js';
