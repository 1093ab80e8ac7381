/**
 * What both envelope codecs share (internal): a codec is its format's decoder and encoders;
 * {@link defineCodec} adds the rest the same way for JWS and COSE — the size limit before
 * decoding, the algorithm-vs-leaf-key check and payload parsing after it, the parse memo,
 * integrity (payload binding, then the leaf signature), signing and timestamp attachment.
 */
import { VouchError } from '@vouch/core';
import {
  type EncodedSigningInput,
  type EnvelopeCodec,
  type EnvelopeMediaTypeName,
  type EnvelopeParts,
  NOTARY_PAYLOAD_CONTENT_TYPE,
  type ParsedEnvelope,
  type SigningInput,
  type SignRequest,
} from './model.js';
import { memoizeParse } from './parse-cache.js';
import { parsePayload } from './payload.js';
import {
  attachTimestampWith,
  checkAlgorithmMatchesLeaf,
  checkEnvelopeSize,
  type SignHooks,
  signEnvelope,
  signingLeaf,
  verifyLeafSignature,
} from './sign.js';

/**
 * What a format's decoder read from an envelope; {@link defineCodec} checks the rest and adds the
 * payload. The decoder has checked that the content type is the Notary payload's, the only one allowed.
 */
export type DecodedEnvelope = Omit<ParsedEnvelope, 'mediaType' | 'payload' | 'payloadContentType'>;

/** One envelope format: its decoder, its encoders and the checks only it can make. */
export interface EnvelopeFormat {
  mediaType: EnvelopeMediaTypeName;
  /** The name used in error messages. */
  name: 'JWS' | 'COSE';
  /** How the shared signing flow encodes the payload and which header names are reserved. */
  signHooks: SignHooks;
  /** Decode and check the format's structure and headers; the input is within the size limit. */
  decode(bytes: Uint8Array): DecodedEnvelope;
  /** Throw ERR_SIGNATURE_INTEGRITY unless `env.payloadBytes` is the payload `env.toBeSigned` covers. */
  checkPayloadBinding(env: ParsedEnvelope): void;
  encodeSigningInput(input: SigningInput): EncodedSigningInput;
  serialize(parts: EnvelopeParts): Uint8Array;
  /** The protected header bytes exactly as signed, recovered from an envelope that parsed. */
  protectedHeaderOf(envelope: Uint8Array, parsed: ParsedEnvelope): Uint8Array;
}

/** Build the {@link EnvelopeCodec} of a format. */
export function defineCodec(format: EnvelopeFormat): EnvelopeCodec {
  const parse = (bytes: Uint8Array): ParsedEnvelope => {
    checkEnvelopeSize(bytes, format.mediaType);
    const d = format.decode(bytes);
    const leaf = d.certificateChain[0];
    if (!leaf) throw new VouchError('ERR_ENVELOPE_MALFORMED', 'the envelope has an empty certificate chain');
    checkAlgorithmMatchesLeaf(d.algorithm, leaf);
    const payload = parsePayload(d.payloadBytes);
    return { mediaType: format.mediaType, payload, payloadContentType: NOTARY_PAYLOAD_CONTENT_TYPE, ...d };
  };
  const codec: EnvelopeCodec = {
    mediaType: format.mediaType,
    // Decoding is memoised per distinct envelope bytes (see parse-cache.ts); integrity is not.
    parse: memoizeParse(parse),
    async verifyIntegrity(env: ParsedEnvelope): Promise<void> {
      const leaf = signingLeaf(env);
      // The payload the caller will use must be the one the signature covers.
      format.checkPayloadBinding(env);
      await verifyLeafSignature(env, leaf, format.name);
    },
    sign: (req: SignRequest) => signEnvelope(codec, format.signHooks, req),
    attachTimestamp: (envelope: Uint8Array, token: Uint8Array) =>
      attachTimestampWith(envelope, token, { parse, serialize: format.serialize, protectedHeaderOf: format.protectedHeaderOf }),
    encodeSigningInput: format.encodeSigningInput,
    serialize: format.serialize,
  };
  return codec;
}
