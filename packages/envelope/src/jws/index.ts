/**
 * `@vouch/envelope/jws`: the Notary JWS envelope (`application/jose+json`), flattened JWS JSON
 * serialization with notation's header names. Import the codec value and pass it where needed:
 *
 * ```ts
 * import { jws } from '@vouch/envelope/jws';
 * const env = jws.parse(bytes);
 * await jws.verifyIntegrity(env);
 * ```
 */

import { utf8, VouchError } from '@vouch/core';
import { fromBase64, fromBase64Url, fromUtf8, toBase64, toBase64Url } from '@vouch/core/internal';
import { isSignatureAlgorithm } from '../algorithms.js';
import { buildSignedAttributes, critOrder, formatRfc3339, JOSE_REGISTERED, parseRfc3339 } from '../attributes.js';
import { decodeBase64Url, isBase64UrlOf } from '../base64.js';
import { type DecodedEnvelope, defineCodec } from '../codec.js';
import { encodeGoJson, isJsonObject, parseStrictJson } from '../json.js';
import type { EncodedSigningInput, EnvelopeCodec, EnvelopeParts, ParsedEnvelope, SigningInput, UnsignedAttributes } from '../model.js';
import { HeaderName, NOTARY_PAYLOAD_CONTENT_TYPE } from '../model.js';
import { parseChain } from '../sign.js';

/** The JWS media type. */
export const JWS_MEDIA_TYPE = 'application/jose+json';

const malformed = (msg: string) => new VouchError('ERR_ENVELOPE_MALFORMED', msg);

const TOP_LEVEL = ['payload', 'protected', 'header', 'signature'];
/** Protected header names with a fixed meaning (everything else is an extended attribute). */
const SYSTEM = new Set<string>([
  'alg',
  'cty',
  'crit',
  HeaderName.SIGNING_SCHEME,
  HeaderName.SIGNING_TIME,
  HeaderName.AUTHENTIC_SIGNING_TIME,
  HeaderName.EXPIRY,
]);

function b64url(s: unknown, member: string): Uint8Array {
  if (typeof s !== 'string') throw malformed(`the JWS "${member}" member must be a string`);
  const fast = decodeBase64Url(s);
  if (fast) return fast;
  try {
    return fromBase64Url(s);
  } catch (e) {
    throw new VouchError('ERR_ENVELOPE_MALFORMED', `the JWS "${member}" member is not unpadded base64url: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

function b64std(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string') throw malformed(`${what} must be a base64 string`);
  try {
    return fromBase64(s);
  } catch (e) {
    throw new VouchError('ERR_ENVELOPE_MALFORMED', `${what} is not standard base64: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * DER of x5c entries decoded before, by their exact (canonical base64) text: warm verification
 * sees the same chain on every call. Bounded; each parse gets its own copy of the bytes.
 */
const X5C_DER = new Map<string, Uint8Array>();
const X5C_DER_MAX = 256;

function x5cDer(entry: unknown, i: number): Uint8Array {
  if (typeof entry === 'string') {
    const hit = X5C_DER.get(entry);
    if (hit) return hit.slice();
  }
  const der = b64std(entry, `x5c[${i}]`);
  if (der.length <= 64 * 1024) {
    // Re-encoded so that the key does not keep a slice of the whole envelope text alive.
    X5C_DER.set(fromUtf8(utf8(entry as string)), der.slice());
    if (X5C_DER.size > X5C_DER_MAX) X5C_DER.delete(X5C_DER.keys().next().value!);
  }
  return der;
}

function time(v: unknown, name: string): Date | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw malformed(`${name} must be an RFC 3339 date-time string`);
  const d = parseRfc3339(v);
  if (!d) throw malformed(`${name} ${JSON.stringify(v)} is not an RFC 3339 date-time`);
  return d;
}

function decode(bytes: Uint8Array): DecodedEnvelope {
  let text: string;
  try {
    text = fromUtf8(bytes);
  } catch (e) {
    throw new VouchError('ERR_ENVELOPE_MALFORMED', 'the JWS envelope is not UTF-8 text', { cause: e });
  }
  const top = parseStrictJson(text, 'ERR_ENVELOPE_MALFORMED', 'the JWS envelope');
  if (!isJsonObject(top)) throw malformed('the JWS envelope must be a JSON object (flattened JWS JSON serialization)');
  for (const k of Object.keys(top)) {
    if (!TOP_LEVEL.includes(k)) {
      throw malformed(
        `the JWS envelope has the member ${JSON.stringify(k)}; only the flattened serialization with payload, protected, header and signature is allowed`,
      );
    }
  }
  for (const k of TOP_LEVEL) if (!(k in top)) throw malformed(`the JWS envelope has no "${k}" member`);

  const protectedB64 = top.protected as string;
  const payloadB64 = top.payload as string;
  const protectedBytes = b64url(top.protected, 'protected');
  const payloadBytes = b64url(top.payload, 'payload');
  const signature = b64url(top.signature, 'signature');
  if (signature.length === 0) throw malformed('the JWS signature is empty');
  const header = top.header;
  if (!isJsonObject(header)) throw malformed('the JWS "header" member must be a JSON object');

  let protectedText: string;
  try {
    protectedText = fromUtf8(protectedBytes);
  } catch (e) {
    throw new VouchError('ERR_ENVELOPE_MALFORMED', 'the JWS protected header is not UTF-8', { cause: e });
  }
  const h = parseStrictJson(protectedText, 'ERR_ENVELOPE_MALFORMED', 'the JWS protected header');
  if (!isJsonObject(h)) throw malformed('the JWS protected header must be a JSON object');
  for (const k of Object.keys(header)) {
    if (Object.hasOwn(h, k))
      throw malformed(`the header parameter ${JSON.stringify(k)} appears in both the protected and unprotected headers`);
  }

  const alg = h.alg;
  if (alg === undefined) throw malformed('the JWS protected header has no "alg"');
  if (!isSignatureAlgorithm(alg)) {
    throw new VouchError(
      'ERR_ENVELOPE_UNSUPPORTED',
      `JWS algorithm ${JSON.stringify(alg)} is not supported; Notary allows PS256/384/512 and ES256/384/512`,
      {
        details: { alg },
      },
    );
  }
  const cty = h.cty;
  if (cty === undefined) throw malformed('the JWS protected header has no "cty"');
  if (typeof cty !== 'string') throw malformed('the JWS "cty" header must be a string');
  if (cty !== NOTARY_PAYLOAD_CONTENT_TYPE)
    throw malformed(`the payload content type is ${JSON.stringify(cty)}; expected ${NOTARY_PAYLOAD_CONTENT_TYPE}`);
  if (Object.hasOwn(h, 'b64')) throw malformed('the JWS "b64" header (unencoded payload) is not allowed in Notary envelopes');
  const crit = h.crit;
  if (crit === undefined) throw malformed('the JWS protected header has no "crit"');
  if (!Array.isArray(crit) || !crit.every((c) => typeof c === 'string' && c !== ''))
    throw malformed('the JWS "crit" header must be an array of non-empty strings');
  for (const c of crit as string[]) {
    if (!Object.hasOwn(h, c)) throw malformed(`${JSON.stringify(c)} is marked critical but not present in the protected header`);
  }

  const extended: [string, unknown][] = [];
  for (const [k, v] of Object.entries(h)) if (!SYSTEM.has(k)) extended.push([k, v]);
  const signedAttributes = buildSignedAttributes({
    crit: crit as string[],
    signingScheme: h[HeaderName.SIGNING_SCHEME],
    signingTime: time(h[HeaderName.SIGNING_TIME], HeaderName.SIGNING_TIME),
    authenticSigningTime: time(h[HeaderName.AUTHENTIC_SIGNING_TIME], HeaderName.AUTHENTIC_SIGNING_TIME),
    expiry: time(h[HeaderName.EXPIRY], HeaderName.EXPIRY),
    extended,
    reserved: JOSE_REGISTERED,
  });

  const x5c = header.x5c;
  if (x5c === undefined) throw malformed('the certificate chain ("x5c" in the unprotected header) is not present');
  if (!Array.isArray(x5c) || x5c.length === 0) throw malformed('"x5c" must be a non-empty array of base64 DER certificates');
  const certificateChain = parseChain(x5c.map(x5cDer));
  const unsignedAttributes: UnsignedAttributes = {};
  const tst = header[HeaderName.TIMESTAMP_SIGNATURE];
  if (tst !== undefined) {
    const token = b64std(tst, HeaderName.TIMESTAMP_SIGNATURE);
    if (token.length === 0) throw malformed(`${HeaderName.TIMESTAMP_SIGNATURE} is empty`);
    unsignedAttributes.timestampSignature = token;
  }
  // notation reads unprotected members with Go's case-insensitive JSON matching; the signing
  // agent is informational, so accept its case variants too (e.g. "io.cncf.notary.SigningAgent").
  let agentKey: string | undefined = Object.hasOwn(header, HeaderName.SIGNING_AGENT) ? HeaderName.SIGNING_AGENT : undefined;
  agentKey ??= Object.keys(header).find((k) => k.toLowerCase() === HeaderName.SIGNING_AGENT.toLowerCase());
  if (agentKey !== undefined) {
    const agent = header[agentKey];
    if (typeof agent !== 'string') throw malformed(`${HeaderName.SIGNING_AGENT} must be a string`);
    unsignedAttributes.signingAgent = agent;
  }

  const toBeSigned = utf8(`${protectedB64}.${payloadB64}`);
  return { payloadBytes, signedAttributes, unsignedAttributes, certificateChain, algorithm: alg, signature, toBeSigned };
}

/**
 * Before the signature check (done directly with WebCrypto: `parse` has already enforced every
 * header rule, and the algorithm is the one the leaf key implies), the envelope's payload must be
 * the one the JWS signing input carries (a ParsedEnvelope may have been altered after parsing).
 */
function checkPayloadBinding(env: ParsedEnvelope): void {
  const tbs = env.toBeSigned;
  const dot = tbs.indexOf(0x2e);
  if (dot < 0 || tbs.lastIndexOf(0x2e) !== dot) throw new VouchError('ERR_SIGNATURE_INTEGRITY', 'the JWS signing input is malformed');
  if (!isBase64UrlOf(env.payloadBytes, tbs, dot + 1, tbs.length)) {
    throw new VouchError('ERR_SIGNATURE_INTEGRITY', 'the payload is not the one covered by the signature');
  }
}

function encodeSigningInput(input: SigningInput): EncodedSigningInput {
  const a = input.signedAttributes;
  const header: Record<string, unknown> = {
    alg: input.algorithm,
    cty: input.payloadContentType ?? NOTARY_PAYLOAD_CONTENT_TYPE,
    crit: critOrder(a, 'jws'),
    [HeaderName.SIGNING_SCHEME]: a.signingScheme,
  };
  if (a.signingTime) header[HeaderName.SIGNING_TIME] = formatRfc3339(a.signingTime);
  if (a.authenticSigningTime) header[HeaderName.AUTHENTIC_SIGNING_TIME] = formatRfc3339(a.authenticSigningTime);
  if (a.expiry) header[HeaderName.EXPIRY] = formatRfc3339(a.expiry);
  for (const x of a.extended) {
    if (Object.hasOwn(header, x.key))
      throw new VouchError('ERR_INVALID_ARGUMENT', `extended attribute ${JSON.stringify(x.key)} repeats a header`);
    Object.defineProperty(header, x.key, { value: x.value, enumerable: true, writable: true, configurable: true });
  }
  const protectedHeader = utf8(encodeGoJson(header, true));
  return {
    protectedHeader,
    payloadBytes: input.payloadBytes,
    toBeSigned: utf8(`${toBase64Url(protectedHeader)}.${toBase64Url(input.payloadBytes)}`),
  };
}

function serialize(parts: EnvelopeParts): Uint8Array {
  // Go struct order of notation's envelope: payload, protected, header{timestampSignature, x5c, signingAgent}, signature.
  const u = parts.unsignedAttributes ?? {};
  const header: string[] = [];
  if (u.timestampSignature !== undefined)
    header.push(`${encodeGoJson(HeaderName.TIMESTAMP_SIGNATURE)}:${encodeGoJson(toBase64(u.timestampSignature))}`);
  if (parts.certificateChain.length > 0) header.push(`"x5c":${encodeGoJson(parts.certificateChain.map(toBase64))}`);
  if (u.signingAgent !== undefined) header.push(`${encodeGoJson(HeaderName.SIGNING_AGENT)}:${encodeGoJson(u.signingAgent)}`);
  return utf8(
    `{"payload":"${toBase64Url(parts.payloadBytes)}","protected":"${toBase64Url(parts.protectedHeader)}","header":{${header.join(',')}},"signature":"${toBase64Url(parts.signature)}"}`,
  );
}

/** The signing input is `protected.payload`: its first part is the protected header as signed. */
function protectedHeaderOf(_envelope: Uint8Array, env: ParsedEnvelope): Uint8Array {
  const input = fromUtf8(env.toBeSigned);
  return fromBase64Url(input.slice(0, input.indexOf('.')));
}

/**
 * The JWS envelope codec. Parsing enforces the flattened JSON serialization with exactly
 * payload/protected/header/signature, strict JSON (no duplicate names), unpadded base64url,
 * disjoint protected/unprotected headers, alg ∈ {PS256…ES512} and equal to the leaf key's,
 * `cty`, `crit` and the signing-scheme rules, x5c in the unprotected header. Signatures are
 * checked with WebCrypto; encoding is byte-identical to notation's (sorted keys, Go escaping).
 * @example
 * ```ts
 * import { jws } from '@vouch/envelope/jws';
 *
 * const envelope = jws.parse(bytes); // ERR_ENVELOPE_MALFORMED / ERR_ENVELOPE_UNSUPPORTED on a broken envelope
 * await jws.verifyIntegrity(envelope); // ERR_SIGNATURE_INTEGRITY when altered
 * console.log(envelope.signedAttributes.signingScheme, envelope.payload.targetArtifact.digest);
 * ```
 */
export const jws: EnvelopeCodec = defineCodec({
  mediaType: JWS_MEDIA_TYPE,
  name: 'JWS',
  signHooks: { payloadStyle: 'sorted', reserved: JOSE_REGISTERED },
  decode,
  checkPayloadBinding,
  encodeSigningInput,
  serialize,
  protectedHeaderOf,
});
