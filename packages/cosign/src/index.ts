/**
 * `@vouch/cosign`: cosign's formats, runtime-agnostic (WebCrypto, no Node APIs).
 *
 * - Keys: cosign's encrypted key file (`cosign.key`), PEM public and private keys (EC, RSA, Ed25519).
 * - Simple signing: the signed claim of cosign's image signatures, and its checks.
 *
 * @packageDocumentation
 */
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
  ED25519_OID,
  type LoadSignerOptions,
  loadSigner,
  parsePublicKey,
  parsePublicKeys,
  publicKeyFromSpki,
  publicKeyHint,
  publicKeyToPem,
  signerFromPkcs8,
} from './keys.js';
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
