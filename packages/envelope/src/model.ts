import type { Descriptor, SignatureAlgorithm } from '@vouch/core';
import type { Certificate } from '@vouch/x509';

/** Media type of the Notary payload carried by every envelope. */
export const NOTARY_PAYLOAD_CONTENT_TYPE = 'application/vnd.cncf.notary.payload.v1+json';

/** The two envelope media types of the Notary Project. */
export type EnvelopeMediaTypeName = 'application/jose+json' | 'application/cose';

/**
 * Names of the Notary signed and unsigned attributes. JWS uses them as header parameter
 * names, COSE as text-string labels.
 */
export const HeaderName = {
  SIGNING_SCHEME: 'io.cncf.notary.signingScheme',
  SIGNING_TIME: 'io.cncf.notary.signingTime',
  AUTHENTIC_SIGNING_TIME: 'io.cncf.notary.authenticSigningTime',
  EXPIRY: 'io.cncf.notary.expiry',
  VERIFICATION_PLUGIN: 'io.cncf.notary.verificationPlugin',
  VERIFICATION_PLUGIN_MIN_VERSION: 'io.cncf.notary.verificationPluginMinVersion',
  TIMESTAMP_SIGNATURE: 'io.cncf.notary.timestampSignature',
  SIGNING_AGENT: 'io.cncf.notary.signingAgent',
} as const;

/** The Notary payload: `{ "targetArtifact": <OCI descriptor> }`. */
export interface NotaryPayload {
  targetArtifact: Descriptor;
}

/** Signing scheme of a Notary signature. */
export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';

/** The six signature algorithms the Notary Project allows (the vocabulary lives in @vouch/core). */
export type { SignatureAlgorithm };

/** A signed attribute that is not one of the Notary-defined ones (any unknown protected header). */
export interface ExtendedAttribute {
  key: string;
  /** JSON value (JWS) or decoded CBOR value (COSE: byte strings are Uint8Array). */
  value: unknown;
  /** Listed in `crit`: a verifier that does not understand it must fail. */
  critical: boolean;
}

/** Signed (integrity-protected) attributes, envelope-agnostic. */
export interface SignedAttributes {
  signingScheme: SigningScheme;
  /** Present (and required) for `notary.x509`; the signer's untrusted clock. */
  signingTime?: Date;
  expiry?: Date;
  /** Present (and required) for `notary.x509.signingAuthority`. */
  authenticSigningTime?: Date;
  /**
   * Every other protected header, in a stable order. Includes
   * `io.cncf.notary.verificationPlugin` and `io.cncf.notary.verificationPluginMinVersion`
   * (as notation does), which are always critical.
   */
  extended: ExtendedAttribute[];
}

/** Unsigned attributes (JWS `header`, COSE unprotected header). */
export interface UnsignedAttributes {
  /** Informational only; never validated. */
  signingAgent?: string;
  /** RFC 3161 TimeStampToken (DER) over the signature value. */
  timestampSignature?: Uint8Array;
}

/** An envelope whose structure and Notary rules have been checked (integrity not yet). */
export interface ParsedEnvelope {
  mediaType: EnvelopeMediaTypeName;
  payload: NotaryPayload;
  /** The exact signed payload bytes. */
  payloadBytes: Uint8Array;
  payloadContentType: string;
  signedAttributes: SignedAttributes;
  unsignedAttributes: UnsignedAttributes;
  /** Leaf first. Never empty. */
  certificateChain: Certificate[];
  algorithm: SignatureAlgorithm;
  /** Raw signature value (RSASSA-PSS bytes, or ECDSA r||s). */
  signature: Uint8Array;
  /** The exact bytes the signature covers (JWS signing input / COSE Sig_structure). */
  toBeSigned: Uint8Array;
}

/**
 * A signer that produces a raw signature over bytes: the shape of a local key and of a
 * plugin with the SIGNATURE_GENERATOR.RAW capability.
 */
export interface RawSigner {
  /** Leaf first; the leaf's key must be the one that signs. */
  certificateChain: Certificate[];
  /** The algorithm the signer uses; must equal the one implied by the leaf key. */
  algorithm: SignatureAlgorithm;
  /**
   * Sign `toBeSigned` (the signer hashes it). RSASSA-PSS with salt length = hash length;
   * ECDSA as fixed-width r||s (not DER).
   */
  sign(toBeSigned: Uint8Array): Promise<Uint8Array>;
}

/**
 * Obtains an RFC 3161 TimeStampToken whose message imprint is the hash (of `algorithm`'s
 * hash function, see `hashForAlgorithm`) of `signature`. Called by `sign` after the
 * signature has been checked and before the envelope is serialised; a rejection aborts signing.
 */
export type Timestamper = (signature: Uint8Array, algorithm: SignatureAlgorithm) => Promise<Uint8Array>;

/** A request to produce a signed envelope. */
export interface SignRequest {
  payload: NotaryPayload;
  signingScheme: SigningScheme;
  /**
   * Signing time (`notary.x509`) or authentic signing time (`notary.x509.signingAuthority`).
   * Truncated to whole seconds.
   */
  signingTime: Date;
  /** Truncated to whole seconds; must be later than `signingTime`. */
  expiry?: Date;
  /** Extra signed attributes; keys must not collide with registered or Notary header names. */
  extendedAttributes?: ExtendedAttribute[];
  signingAgent?: string;
  signer: RawSigner;
  /** Adds `io.cncf.notary.timestampSignature` (meaningful for `notary.x509` only). */
  timestamper?: Timestamper;
}

/** Input of the low-level {@link EnvelopeCodec.encodeSigningInput}. */
export interface SigningInput {
  /** Exact payload bytes to embed. */
  payloadBytes: Uint8Array;
  /** Defaults to {@link NOTARY_PAYLOAD_CONTENT_TYPE}. */
  payloadContentType?: string;
  algorithm: SignatureAlgorithm;
  signedAttributes: SignedAttributes;
}

/** Output of {@link EnvelopeCodec.encodeSigningInput}. */
export interface EncodedSigningInput {
  /** JWS: UTF-8 JSON of the protected header; COSE: the protected header map (CBOR). */
  protectedHeader: Uint8Array;
  payloadBytes: Uint8Array;
  /** The bytes to sign. */
  toBeSigned: Uint8Array;
}

/** Input of the low-level {@link EnvelopeCodec.serialize}. */
export interface EnvelopeParts {
  protectedHeader: Uint8Array;
  payloadBytes: Uint8Array;
  signature: Uint8Array;
  /** DER certificates, leaf first (the low-level serializer does not require any). */
  certificateChain: Uint8Array[];
  unsignedAttributes?: UnsignedAttributes;
}

/**
 * One envelope format. Codecs are plain values (`import { jws } from '@vouch/envelope/jws'`),
 * passed to whoever needs them; nothing is registered globally.
 */
export interface EnvelopeCodec {
  readonly mediaType: EnvelopeMediaTypeName;
  /**
   * Decode and check every structural and Notary rule (headers, crit, cty, scheme/time rules,
   * payload, certificate chain, alg vs leaf key). Does not check the signature.
   * Throws ERR_ENVELOPE_MALFORMED, ERR_ENVELOPE_UNSUPPORTED or ERR_SIZE_LIMIT_EXCEEDED.
   */
  parse(bytes: Uint8Array): ParsedEnvelope;
  /** Check the signature with the leaf certificate's key. Throws ERR_SIGNATURE_INTEGRITY. */
  verifyIntegrity(env: ParsedEnvelope): Promise<void>;
  /**
   * Produce an envelope. The signer's signature is verified against the leaf key before the
   * envelope is returned (ERR_SIGNING_FAILED otherwise); the result parses and verifies with
   * this codec.
   */
  sign(req: SignRequest): Promise<Uint8Array>;
  /**
   * Return `envelope` with `io.cncf.notary.timestampSignature` set to `token` (replacing any
   * existing one). Signed bytes are kept exactly; the envelope must parse.
   */
  attachTimestamp(envelope: Uint8Array, token: Uint8Array): Uint8Array;
  /**
   * Low level: encode the protected header for the given attributes exactly as notation does
   * and return the bytes to sign. No Notary validation beyond what encoding needs.
   */
  encodeSigningInput(input: SigningInput): EncodedSigningInput;
  /** Low level: serialise an envelope from its parts. No validation. */
  serialize(parts: EnvelopeParts): Uint8Array;
}
