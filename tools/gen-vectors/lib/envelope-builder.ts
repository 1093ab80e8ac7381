/**
 * A hand-rolled Notary envelope builder (JWS and COSE) for negative vectors: headers are
 * written exactly as given (wrong types, missing or extra entries, bad crit lists), then signed
 * with a real key so that only the intended rule is broken. Independent of @vouch/envelope's
 * encoders.
 */
import type { Certificate } from '@vouch/x509';
import { type CborItem, Entries, encode, Tag } from './cbor.js';
import { b64, b64url, utf8 } from './common.js';

export type Alg = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';
export const COSE_ALG: Record<Alg, number> = { PS256: -37, PS384: -38, PS512: -39, ES256: -7, ES384: -35, ES512: -36 };

export const N = {
  scheme: 'io.cncf.notary.signingScheme',
  signingTime: 'io.cncf.notary.signingTime',
  authenticSigningTime: 'io.cncf.notary.authenticSigningTime',
  expiry: 'io.cncf.notary.expiry',
  plugin: 'io.cncf.notary.verificationPlugin',
  agent: 'io.cncf.notary.signingAgent',
} as const;

export const CTY = 'application/vnd.cncf.notary.payload.v1+json';

/** A value that differs per format; `undefined` for a format leaves the header out there. */
export class PerFormat {
  constructor(
    readonly jws: unknown,
    readonly cose: CborItem | undefined,
  ) {}
}

export type HeaderValue = string | number | string[] | Date | PerFormat;
export type Header = [name: string, value: HeaderValue][];

export interface SignerKey {
  alg: Alg;
  privateKey: CryptoKey;
  chain: readonly Certificate[];
}

export interface StdHeaderOptions {
  alg: Alg;
  scheme?: 'notary.x509' | 'notary.x509.signingAuthority';
  time: Date;
  expiry?: Date;
  /** Extended attributes: [name, value, critical]. */
  extended?: [string, string, boolean][];
}

/** The header a correct signer writes (same fields and crit rules as notation). */
export function stdHeader(o: StdHeaderOptions): Header {
  const scheme = o.scheme ?? 'notary.x509';
  const sa = scheme === 'notary.x509.signingAuthority';
  const crit = [N.scheme, ...(o.extended ?? []).filter((x) => x[2]).map((x) => x[0])];
  if (sa) crit.push(N.authenticSigningTime);
  if (o.expiry) crit.push(N.expiry);
  const h: Header = [
    ['alg', o.alg],
    ['cty', CTY],
    ['crit', crit],
    [N.scheme, scheme],
    [sa ? N.authenticSigningTime : N.signingTime, o.time],
  ];
  if (o.expiry) h.push([N.expiry, o.expiry]);
  for (const [k, v] of o.extended ?? []) h.push([k, v]);
  return h;
}

export function setHeader(h: Header, name: string, value: HeaderValue | undefined): Header {
  const out = h.filter(([k]) => k !== name);
  if (value === undefined) return out;
  const i = h.findIndex(([k]) => k === name);
  if (i >= 0) out.splice(i, 0, [name, value]);
  else out.push([name, value]);
  return out;
}

export const getCrit = (h: Header) => (h.find(([k]) => k === 'crit')?.[1] ?? []) as string[];

export interface EnvelopeSpec {
  header: Header;
  payload: Uint8Array;
  signer: SignerKey;
  /** DER certificates to embed (default: the signer's chain). */
  chain?: Uint8Array[];
  /** Change something after signing. */
  tamper?: 'payload' | 'signature' | 'protected';
  /** Replace the finished JWS object before serialisation. */
  jwsPost?: (env: Record<string, unknown>) => Record<string, unknown> | string;
  /** Build the final COSE bytes from the parts. */
  cosePost?: (p: { protectedBytes: Uint8Array; unprotected: Entries; payload: Uint8Array; signature: Uint8Array }) => Uint8Array;
  /** Raw protected header text to sign (JWS) instead of the encoded `header`. */
  jwsProtectedText?: string;
  /** Raw protected header bytes to sign (COSE) instead of the encoded `header`. */
  coseProtectedBytes?: Uint8Array;
}

function signParams(key: CryptoKey): RsaPssParams | EcdsaParams {
  const a = key.algorithm as RsaHashedKeyAlgorithm & EcKeyAlgorithm;
  if (a.name === 'RSA-PSS') return { name: 'RSA-PSS', saltLength: { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 }[a.hash.name]! };
  return { name: 'ECDSA', hash: { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' }[a.namedCurve]! };
}

export async function rawSign(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign(signParams(key), key, data as BufferSource));
}

const rfc3339 = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

function jwsValue(v: HeaderValue): unknown {
  if (v instanceof PerFormat) return v.jws;
  if (v instanceof Date) return rfc3339(v);
  return v;
}

function coseValue(name: string, v: HeaderValue): CborItem | undefined {
  if (v instanceof PerFormat) return v.cose;
  if (v instanceof Date) return new Tag(1, Math.floor(v.getTime() / 1000));
  if (name === 'alg' && typeof v === 'string') return COSE_ALG[v as Alg] ?? v;
  return v as CborItem;
}

const COSE_LABEL: Record<string, number> = { alg: 1, crit: 2, cty: 3 };

export function coseProtectedEntries(h: Header): [CborItem, CborItem][] {
  const entries: [CborItem, CborItem][] = [];
  for (const [k, v] of h) {
    const cv = coseValue(k, v);
    if (cv !== undefined) entries.push([COSE_LABEL[k] ?? k, cv]);
  }
  return entries;
}

export function encodeCoseProtected(h: Header): Uint8Array {
  return encode(new Entries(coseProtectedEntries(h)));
}

function flip(b: Uint8Array): Uint8Array {
  const out = b.slice();
  out[out.length - 1]! ^= 0x01;
  return out;
}

/** A payload that describes another artifact (for tampering). */
function otherPayload(p: Uint8Array): Uint8Array {
  const s = new TextDecoder().decode(p);
  return utf8(s.replace(/sha256:([0-9a-f])/, (_m, c: string) => `sha256:${c === '0' ? '1' : '0'}`));
}

export async function buildJws(spec: EnvelopeSpec): Promise<Uint8Array> {
  const text =
    spec.jwsProtectedText ??
    JSON.stringify(Object.fromEntries(spec.header.map(([k, v]) => [k, jwsValue(v)]).filter(([, v]) => v !== undefined)));
  let protectedB64 = b64url(text);
  let payloadB64 = b64url(spec.payload);
  let signature = await rawSign(spec.signer.privateKey, utf8(`${protectedB64}.${payloadB64}`));
  if (spec.tamper === 'payload') payloadB64 = b64url(otherPayload(spec.payload));
  if (spec.tamper === 'signature') signature = flip(signature);
  if (spec.tamper === 'protected') protectedB64 = b64url(text.replace('2025-06-01T12:00:00Z', '2025-06-01T12:00:01Z'));
  const chain = spec.chain ?? spec.signer.chain.map((c) => c.der);
  let env: Record<string, unknown> | string = {
    payload: payloadB64,
    protected: protectedB64,
    header: { x5c: chain.map(b64), [N.agent]: 'vouch-vectors/1.0' },
    signature: b64url(signature),
  };
  if (spec.jwsPost) env = spec.jwsPost(env);
  return utf8(typeof env === 'string' ? env : JSON.stringify(env));
}

export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encode(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

export async function buildCose(spec: EnvelopeSpec): Promise<Uint8Array> {
  let protectedBytes = spec.coseProtectedBytes ?? encodeCoseProtected(spec.header);
  let payload = spec.payload;
  let signature = await rawSign(spec.signer.privateKey, sigStructure(protectedBytes, payload));
  if (spec.tamper === 'payload') payload = otherPayload(payload);
  if (spec.tamper === 'signature') signature = flip(signature);
  if (spec.tamper === 'protected') {
    const h = spec.header.map(([k, v]): [string, HeaderValue] => [k, v instanceof Date ? new Date(v.getTime() + 1000) : v]);
    protectedBytes = encodeCoseProtected(h);
  }
  const chain = spec.chain ?? spec.signer.chain.map((c) => c.der);
  const unprotected = new Entries([
    [33, chain],
    [N.agent, 'vouch-vectors/1.0'],
  ]);
  if (spec.cosePost) return spec.cosePost({ protectedBytes, unprotected, payload, signature });
  return encode(new Tag(18, [protectedBytes, unprotected, payload, signature]));
}
