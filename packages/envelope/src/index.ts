/**
 * @vouch/envelope — the envelope-agnostic Notary signature model: payload, signed and unsigned
 * attributes, signing schemes, the algorithm table, the codec and raw-signer contracts.
 * The codecs themselves are separate entry points so a bundle carries only what it uses:
 * `@vouch/envelope/jws` (JWS) and `@vouch/envelope/cose` (COSE).
 */

export {
  algorithmForKey,
  algorithmFromCoseId,
  coseAlgorithmId,
  hashForAlgorithm,
  isSignatureAlgorithm,
  localRawSigner,
  SIGNATURE_ALGORITHMS,
} from './algorithms.js';
export {
  assertCriticalAttributesProcessed,
  formatRfc3339,
  isSigningScheme,
  parseRfc3339,
  SIGNING_SCHEMES,
  unprocessedCriticalAttributes,
} from './attributes.js';
export {
  NOTARY_PAYLOAD_CONTENT_TYPE,
  type EnvelopeMediaTypeName,
  HeaderName,
  type NotaryPayload,
  type SigningScheme,
  type SignatureAlgorithm,
  type ExtendedAttribute,
  type SignedAttributes,
  type UnsignedAttributes,
  type ParsedEnvelope,
  type RawSigner,
  type Timestamper,
  type SignRequest,
  type SigningInput,
  type EncodedSigningInput,
  type EnvelopeParts,
  type EnvelopeCodec,
} from './model.js';
export { encodePayload, parsePayload, sanitizeTargetArtifact } from './payload.js';
export { codecForMediaType } from './registry.js';
