/**
 * `@vouch/envelope/cose`: the Notary COSE envelope (`application/cose`), COSE_Sign1_Tagged
 * (RFC 9052) with notation's header labels. Import the codec value and pass it where needed:
 *
 * ```ts
 * import { cose } from '@vouch/envelope/cose';
 * const env = cose.parse(bytes);
 * await cose.verifyIntegrity(env);
 * ```
 */

import { VouchError } from '@vouch/core';
import { bytesEqual } from '@vouch/core/internal';
import { algorithmFromCoseId, coseAlgorithmId } from '../algorithms.js';
import { buildSignedAttributes, critOrder } from '../attributes.js';
import { type DecodedEnvelope, defineCodec } from '../codec.js';
import type {
  EncodedSigningInput,
  EnvelopeCodec,
  EnvelopeParts,
  ParsedEnvelope,
  SignatureAlgorithm,
  SigningInput,
  UnsignedAttributes,
} from '../model.js';
import { HeaderName, NOTARY_PAYLOAD_CONTENT_TYPE } from '../model.js';
import { parseChain } from '../sign.js';
import { type CborInput, CborMap, CborTag, type CborValue, cborToJs, decodeCbor, encodeCbor } from './cbor.js';

/** The COSE media type. */
export const COSE_MEDIA_TYPE = 'application/cose';

const LABEL_ALG = 1;
const LABEL_CRIT = 2;
const LABEL_CTY = 3;
const LABEL_X5CHAIN = 33;
const TAG_SIGN1 = 18;
const TAG_EPOCH = 1;

const malformed = (msg: string) => new VouchError('ERR_ENVELOPE_MALFORMED', msg);

/** Text labels with a fixed meaning in the protected header. */
const NOTARY_PROTECTED = new Set<string>([
  HeaderName.SIGNING_SCHEME,
  HeaderName.SIGNING_TIME,
  HeaderName.AUTHENTIC_SIGNING_TIME,
  HeaderName.EXPIRY,
]);
/** COSE has no text-labelled registered headers; integer labels are handled separately. */
const RESERVED = new Set<string>();

function labelId(k: CborValue): string {
  return typeof k === 'number' || typeof k === 'bigint' ? `i${k}` : `t${k as string}`;
}

function isLabel(k: CborValue): k is number | bigint | string {
  return typeof k === 'number' || typeof k === 'bigint' || typeof k === 'string';
}

function decodeTime(v: CborValue, label: string): Date {
  if (!(v instanceof CborTag)) throw malformed(`${label} must be a CBOR tag 1 (epoch) date/time`);
  if (v.tag !== TAG_EPOCH) throw malformed(`${label} uses CBOR tag ${v.tag}; only tag 1 (epoch seconds) is supported`);
  const s = v.value;
  if (typeof s !== 'number' || !Number.isFinite(s)) throw malformed(`${label} must be a finite number of seconds`);
  const d = new Date(Math.floor(s * 1000));
  if (Number.isNaN(d.getTime())) throw malformed(`${label} is out of range`);
  return d;
}

function encodeTime(d: Date): CborTag {
  return new CborTag(TAG_EPOCH, Math.floor(d.getTime() / 1000));
}

/** CBOR encoding of `Sig_structure = ["Signature1", protected, h'', payload]` (RFC 9052 §4.4). */
function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

function toCborInput(value: unknown, key: string): CborInput {
  if (value === undefined) throw new VouchError('ERR_INVALID_ARGUMENT', `extended attribute ${JSON.stringify(key)} has no value`);
  return value as CborInput;
}

function decode(bytes: Uint8Array): DecodedEnvelope {
  if (bytes.length < 2 || bytes[0] !== 0xd2 || bytes[1] !== 0x84) {
    throw malformed('not a COSE_Sign1_Tagged message: it must start with CBOR tag 18 and a 4-element array (0xD2 0x84)');
  }
  const top = decodeCbor(bytes, 'the COSE envelope');
  const msg = (top as CborTag).value;
  if (!(top instanceof CborTag) || top.tag !== TAG_SIGN1 || !Array.isArray(msg) || msg.length !== 4) {
    throw malformed('not a COSE_Sign1_Tagged message');
  }
  const [protectedBytes, unprotected, payloadBytes, signature] = msg;
  if (!(protectedBytes instanceof Uint8Array)) throw malformed('the COSE protected header must be a byte string');
  if (!(unprotected instanceof CborMap)) throw malformed('the COSE unprotected header must be a map');
  if (payloadBytes === null) throw malformed('detached payloads are not supported by Notary');
  if (!(payloadBytes instanceof Uint8Array)) throw malformed('the COSE payload must be a byte string');
  if (!(signature instanceof Uint8Array) || signature.length === 0) throw malformed('the COSE signature must be a non-empty byte string');

  const prot = protectedBytes.length === 0 ? new CborMap([]) : decodeCbor(protectedBytes, 'the COSE protected header');
  if (!(prot instanceof CborMap)) throw malformed('the COSE protected header must encode a map');

  let algorithm: SignatureAlgorithm | undefined;
  let cty: unknown;
  let crit: CborValue[] | undefined;
  let scheme: unknown;
  let signingTime: Date | undefined;
  let authenticSigningTime: Date | undefined;
  let expiry: Date | undefined;
  const extended: [string, unknown][] = [];
  const protectedLabels = new Set<string>();
  for (const [k, v] of prot.entries) {
    if (!isLabel(k)) throw malformed('COSE header labels must be integers or text strings');
    protectedLabels.add(labelId(k));
    if (k === LABEL_ALG) {
      if (typeof v !== 'number')
        throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', 'the COSE alg must be one of -37, -38, -39, -7, -35, -36');
      algorithm = algorithmFromCoseId(v);
      if (!algorithm) {
        throw new VouchError(
          'ERR_ENVELOPE_UNSUPPORTED',
          `COSE algorithm ${v} is not supported; Notary allows PS256/384/512 and ES256/384/512`,
          {
            details: { alg: v },
          },
        );
      }
    } else if (k === LABEL_CRIT) {
      if (!Array.isArray(v) || v.length === 0) throw malformed('the COSE crit header must be a non-empty array');
      crit = v;
    } else if (k === LABEL_CTY) {
      cty = v;
    } else if (typeof k !== 'string') {
      // Other integer labels (kid, x5chain in the protected bucket, …) carry nothing Notary uses.
    } else if (k === HeaderName.SIGNING_SCHEME) {
      scheme = v;
    } else if (k === HeaderName.SIGNING_TIME) {
      signingTime = decodeTime(v, k);
    } else if (k === HeaderName.AUTHENTIC_SIGNING_TIME) {
      authenticSigningTime = decodeTime(v, k);
    } else if (k === HeaderName.EXPIRY) {
      expiry = decodeTime(v, k);
    } else {
      extended.push([k, cborToJs(v)]);
    }
  }
  if (!algorithm) throw malformed('the COSE protected header has no alg (label 1)');
  if (cty === undefined) throw malformed('the COSE protected header has no content type (label 3)');
  if (typeof cty !== 'string') throw malformed('the COSE content type must be a text string');
  if (cty !== NOTARY_PAYLOAD_CONTENT_TYPE)
    throw malformed(`the payload content type is ${JSON.stringify(cty)}; expected ${NOTARY_PAYLOAD_CONTENT_TYPE}`);
  if (!crit) throw malformed('the COSE protected header has no crit (label 2)');
  const critNames: string[] = [];
  for (const c of crit) {
    if (typeof c === 'string') {
      critNames.push(c);
      continue;
    }
    if (typeof c !== 'number' && typeof c !== 'bigint') throw malformed('COSE crit entries must be labels (integers or text strings)');
    if (c >= 0 && c <= 8) throw malformed(`COSE crit must not list the COSE-defined label ${c}`);
    if (!protectedLabels.has(labelId(c))) throw malformed(`label ${c} is marked critical but not present in the protected header`);
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `the envelope has the unknown critical integer label ${c}`);
  }
  for (const n of critNames) {
    if (!protectedLabels.has(`t${n}`)) throw malformed(`${JSON.stringify(n)} is marked critical but not present in the protected header`);
  }
  const signedAttributes = buildSignedAttributes({
    crit: critNames,
    signingScheme: scheme,
    signingTime,
    authenticSigningTime,
    expiry,
    extended,
    reserved: RESERVED,
  });

  let chainDers: Uint8Array[] | undefined;
  const unsignedAttributes: UnsignedAttributes = {};
  for (const [k, v] of unprotected.entries) {
    if (!isLabel(k)) throw malformed('COSE header labels must be integers or text strings');
    if (protectedLabels.has(labelId(k)))
      throw malformed(`COSE header label ${String(k)} appears in both the protected and unprotected headers`);
    if (k === LABEL_X5CHAIN) {
      if (!Array.isArray(v)) throw malformed('x5chain (label 33) must be an array of DER certificates');
      if (!v.every((c): c is Uint8Array => c instanceof Uint8Array)) throw malformed('x5chain (label 33) must hold byte strings only');
      chainDers = v;
    } else if (k === HeaderName.TIMESTAMP_SIGNATURE) {
      if (!(v instanceof Uint8Array) || v.length === 0) throw malformed(`${k} must be a non-empty byte string`);
      unsignedAttributes.timestampSignature = v;
    } else if (k === HeaderName.SIGNING_AGENT) {
      if (typeof v !== 'string') throw malformed(`${k} must be a text string`);
      unsignedAttributes.signingAgent = v;
    } else if (typeof k === 'string' && NOTARY_PROTECTED.has(k)) {
      throw malformed(`${k} is a signed attribute and must be in the protected header`);
    }
  }
  if (!chainDers || chainDers.length === 0) throw malformed('the certificate chain (x5chain, label 33) is not present');
  const certificateChain = parseChain(chainDers);
  const toBeSigned = sigStructure(protectedBytes, payloadBytes);
  return { payloadBytes, signedAttributes, unsignedAttributes, certificateChain, algorithm, signature, toBeSigned };
}

/** The envelope's payload must be the one the Sig_structure ends with (the one the signature covers). */
function checkPayloadBinding(env: ParsedEnvelope): void {
  const tail = encodeCbor(env.payloadBytes);
  const tbs = env.toBeSigned;
  if (tbs.length < tail.length || !bytesEqual(tbs.subarray(tbs.length - tail.length), tail)) {
    throw new VouchError('ERR_SIGNATURE_INTEGRITY', 'the payload is not the one covered by the signature');
  }
}

function encodeSigningInput(input: SigningInput): EncodedSigningInput {
  const a = input.signedAttributes;
  const entries: [CborInput, CborInput][] = [
    [LABEL_ALG, coseAlgorithmId(input.algorithm)],
    [LABEL_CRIT, critOrder(a, 'cose')],
    [LABEL_CTY, input.payloadContentType ?? NOTARY_PAYLOAD_CONTENT_TYPE],
    [HeaderName.SIGNING_SCHEME, a.signingScheme],
  ];
  if (a.signingTime) entries.push([HeaderName.SIGNING_TIME, encodeTime(a.signingTime)]);
  if (a.authenticSigningTime) entries.push([HeaderName.AUTHENTIC_SIGNING_TIME, encodeTime(a.authenticSigningTime)]);
  if (a.expiry) entries.push([HeaderName.EXPIRY, encodeTime(a.expiry)]);
  for (const x of a.extended) entries.push([x.key, toCborInput(x.value, x.key)]);
  const protectedHeader = encodeCbor(new Map(entries));
  return { protectedHeader, payloadBytes: input.payloadBytes, toBeSigned: sigStructure(protectedHeader, input.payloadBytes) };
}

function serialize(parts: EnvelopeParts): Uint8Array {
  const u = new Map<CborInput, CborInput>();
  if (parts.certificateChain.length > 0) u.set(LABEL_X5CHAIN, parts.certificateChain);
  if (parts.unsignedAttributes?.signingAgent !== undefined) u.set(HeaderName.SIGNING_AGENT, parts.unsignedAttributes.signingAgent);
  if (parts.unsignedAttributes?.timestampSignature !== undefined)
    u.set(HeaderName.TIMESTAMP_SIGNATURE, parts.unsignedAttributes.timestampSignature);
  return encodeCbor(new CborTag(TAG_SIGN1, [parts.protectedHeader, u, parts.payloadBytes, parts.signature]));
}

/** The protected header is the first element of the COSE_Sign1 array, as encoded. */
function protectedHeaderOf(envelope: Uint8Array): Uint8Array {
  return ((decodeCbor(envelope, 'the COSE envelope') as CborTag).value as CborValue[])[0] as Uint8Array;
}

/**
 * The COSE envelope codec. Parsing enforces COSE_Sign1_Tagged (leading 0xD2 0x84), strict
 * CBOR (no duplicate keys, no indefinite lengths), labels 1/2/3 with a text content type, tag-1
 * times, crit rules, x5chain (label 33) as a non-empty array in the unprotected header, and
 * alg = the leaf key's algorithm. Encoding is canonical and byte-identical to notation's.
 * @example
 * ```ts
 * import { cose } from '@vouch/envelope/cose';
 * import { createVerifier } from '@vouch/notation';
 *
 * // accept COSE envelopes only
 * const verifier = createVerifier({ trustPolicy, trustStore, envelopes: [cose] });
 * ```
 */
export const cose: EnvelopeCodec = defineCodec({
  mediaType: COSE_MEDIA_TYPE,
  name: 'COSE',
  signHooks: { payloadStyle: 'struct', reserved: RESERVED },
  decode,
  checkPayloadBinding,
  encodeSigningInput,
  serialize,
  protectedHeaderOf,
});
