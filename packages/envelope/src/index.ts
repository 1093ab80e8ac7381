/**
 * `@vouch/envelope`: the envelope-agnostic Notary signature model, in any JavaScript runtime —
 * the payload, signed and unsigned attributes, signing schemes, and the contracts of an envelope
 * codec ({@link EnvelopeCodec}) and a raw signer ({@link RawSigner}).
 *
 * The codecs are separate entry points, so a bundle carries only what it uses:
 * `@vouch/envelope/jws` (JWS) and `@vouch/envelope/cose` (COSE). The key and algorithm
 * vocabulary is `@vouch/core`'s. Helpers vouch's own packages share live in
 * `@vouch/envelope/internal`, which is not part of the public API.
 *
 * @packageDocumentation
 */

// Codecs: the contract and the lookup by media type
export type {
  EncodedSigningInput,
  EnvelopeCodec,
  EnvelopeMediaTypeName,
  EnvelopeParts,
  ParsedEnvelope,
  SigningInput,
  SignRequest,
} from './model.js';
export { codecForMediaType } from './registry.js';

// Signing: raw signers and timestamps
export { localRawSigner } from './algorithms.js';
export type { RawSigner, Timestamper } from './model.js';

// The signed content: payload, attributes, signing schemes
export {
  type ExtendedAttribute,
  HeaderName,
  NOTARY_PAYLOAD_CONTENT_TYPE,
  type NotaryPayload,
  type SignedAttributes,
  type SigningScheme,
  type UnsignedAttributes,
} from './model.js';
export { encodePayload, parsePayload } from './payload.js';
