/**
 * @vouch/envelope — the envelope-agnostic Notary signature model: payload, signed and unsigned
 * attributes, signing schemes, the algorithm table, the codec and raw-signer contracts.
 * The codecs themselves are separate entry points so a bundle carries only what it uses:
 * `@vouch/envelope/jws` (JWS, via jose) and `@vouch/envelope/cose` (COSE).
 */
export * from './model.js';
export { parsePayload, encodePayload, sanitizeTargetArtifact } from './payload.js';
export {
  algorithmForKey,
  hashForAlgorithm,
  coseAlgorithmId,
  algorithmFromCoseId,
  isSignatureAlgorithm,
  importVerificationKey,
  verifyRawSignature,
  localRawSigner,
  SIGNATURE_ALGORITHMS,
  type HashName,
} from './algorithms.js';
export {
  SIGNING_SCHEMES,
  isSigningScheme,
  unprocessedCriticalAttributes,
  assertCriticalAttributesProcessed,
  parseRfc3339,
  formatRfc3339,
} from './attributes.js';
export { codecForMediaType } from './registry.js';
