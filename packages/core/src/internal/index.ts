/**
 * `@vouch/core/internal`: the primitives vouch's packages share, written once — the one
 * signature verification function (with the RSA-PSS, SHA-1 and key-size rules; Ed25519 for
 * Sigstore), the one SubjectPublicKeyInfo reader, the key and algorithm OIDs, and SemVer precedence.
 *
 * For vouch's own packages: this subpath is not part of the public API and may change in any
 * release.
 *
 * @packageDocumentation
 */
export { CRYPTO_OID } from './oids.js';
export {
  bitLength,
  describePublicKey,
  describeVerificationKey,
  type Ed25519PublicKeyInfo,
  ecCoordinateBytes,
  ecdsaDerToP1363,
  ecdsaP1363ToDer,
  type VerificationKeyInfo,
} from './public-key.js';
export { compareSemver, isSemver } from './semver.js';
export {
  checkKeyForScheme,
  type Ed25519Scheme,
  hashOfOid,
  importVerificationKey,
  oidOfHash,
  SignatureCheckError,
  type SignatureScheme,
  type SignatureSchemeOptions,
  signatureScheme,
  type VerificationScheme,
  type VerifySignatureInput,
  verifySignature,
} from './signature.js';
export { uintBytes } from './uint.js';
