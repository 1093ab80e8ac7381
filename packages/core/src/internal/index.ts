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

// Bytes, base64 and hex
export { bytesEqual, concatBytes, fromBase64, fromBase64Url, fromHex, fromUtf8, toBase64, toBase64Url, toHex } from '../bytes.js';

// Algorithm tables behind the public vocabulary
export {
  hashLength,
  isCertificateSignatureAlgorithm,
  type KeySpecInfo,
  keySpecInfo,
  keySpecOfKey,
  type SignatureAlgorithmInfo,
  signatureAlgorithmFromCose,
  signatureAlgorithmInfo,
} from '../algorithms.js';

// Digests, hashing and caches
export { digestAlgorithmOf, digestAsync, hashBytes, portableHasher } from '../digest.js';
export { BytesCache, hashOfBytes } from '../bytes-cache.js';

// OCI helpers
export { assertDescriptor, EMPTY_JSON } from '../oci.js';
export { type ArtifactReference, referenceScope, splitArtifactReference } from '../reference.js';

// Streams, errors, logging and time
export { readLimited, streamChunks } from '../stream.js';
export { toVouchError } from '../errors.js';
export { noopLogger, systemClock } from '../types.js';

// Keys, signatures and SemVer
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
