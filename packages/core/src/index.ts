/**
 * `@vouch/core`: the vocabulary every vouch package shares and a user of them meets.
 *
 * - Errors: {@link VouchError} with a stable code from {@link VouchErrorCode} (listed in
 *   `docs/errors.md`), and the guards {@link isVouchError} and {@link hasCode}.
 * - Keys and algorithms: the one {@link KeySpec}, {@link SignatureAlgorithm} and
 *   {@link HashAlgorithm} vocabulary (notation's names), used by every other package.
 * - OCI: references, digests, descriptors, manifests, media types and limits.
 * - Transport and time: the {@link FetchLike} a registry client runs on, {@link Logger},
 *   {@link Clock}.
 *
 * Helpers vouch's packages share (bytes, streams, caches, signature verification) live in
 * `@vouch/core/internal` and `@vouch/core/asn1`, which are not part of the public API.
 *
 * @packageDocumentation
 */

// Errors
export { ERROR_CODES, hasCode, isVouchError, VouchError, type VouchErrorCode, type VouchErrorOptions } from './errors.js';

// Keys, signature and hash algorithms: one vocabulary for every package
export {
  type CertificateSignatureAlgorithm,
  HASH_ALGORITHMS,
  type HashAlgorithm,
  isHashAlgorithm,
  isKeySpec,
  isSignatureAlgorithm,
  KEY_SPECS,
  type KeySpec,
  type KeyType,
  type NamedCurve,
  type PublicKeyInfo,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithm,
} from './algorithms.js';

// References and digests
export { formatReference, type ParseReferenceOptions, parseReference, type Reference } from './reference.js';
export { type DigestAlgorithm, digestOf, type Hasher, type HasherFactory, isDigest, type ParsedDigest, parseDigest } from './digest.js';

// OCI content: descriptors, manifests, media types, annotations and size limits
export { Annotation, type Descriptor, type EnvelopeMediaType, type ImageIndex, type ImageManifest, Limits, MediaType } from './oci.js';

// PEM and text
export { decodePem, encodePem, type PemBlock } from './pem.js';
export { utf8 } from './bytes.js';

// Transport, logging and time
export { type Clock, type FetchInit, type FetchLike, type FetchResponse, fetchLike, type Logger } from './types.js';
