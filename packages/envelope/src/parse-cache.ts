/**
 * Parsing memo for the codecs (internal). Parsing an envelope is a pure function of its bytes,
 * and warm verification parses the same envelope on every call: each distinct envelope
 * (compared byte for byte) is decoded once, and every call gets its own {@link ParsedEnvelope}.
 * This caches decoding only — the signature and the chain are checked by `verifyIntegrity` and
 * chain validation on every call. Nothing mutable is shared between calls: byte arrays, dates,
 * certificates and extended attribute values are copies; what is shared (the payload
 * descriptor) is frozen. Inputs that fail to parse are not remembered.
 */
import { BytesCache, hashOfBytes } from '@vouch/core/internal';
import { parseCertificate } from '@vouch/x509';
import type { ExtendedAttribute, ParsedEnvelope } from './model.js';

/** Envelopes larger than this are parsed every time. */
const MAX_CACHED_BYTES = 64 * 1024;
const MAX_ENTRIES = 128;

interface Template {
  /** Private copy of the envelope bytes. */
  bytes: Uint8Array;
  /** The first parse, with every byte array a private copy; never handed out. */
  env: ParsedEnvelope;
  ders: Uint8Array[];
  signingTime?: number;
  authenticSigningTime?: number;
  expiry?: number;
}

function deepFreeze<T>(v: T): T {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v) || ArrayBuffer.isView(v)) return v;
  for (const x of Object.values(v)) deepFreeze(x);
  return Object.freeze(v);
}

/** A copy of a decoded attribute value: byte arrays, arrays, maps and plain objects are copied. */
function copyValue(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (v instanceof Uint8Array) return v.slice();
  if (Array.isArray(v)) return v.map(copyValue);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [copyValue(k), copyValue(x)]));
  if (v instanceof Date) return new Date(v.getTime());
  if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      Object.defineProperty(out, k, { value: copyValue(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

function copyExtended(list: readonly ExtendedAttribute[]): ExtendedAttribute[] {
  return list.map((a) => ({ key: a.key, value: copyValue(a.value), critical: a.critical }));
}

function templateOf(bytes: Uint8Array, env: ParsedEnvelope): Template {
  const sa = env.signedAttributes;
  const t: Template = {
    bytes: bytes.slice(),
    ders: env.certificateChain.map((c) => c.der.slice()),
    env: {
      ...env,
      payload: deepFreeze(env.payload),
      payloadBytes: env.payloadBytes.slice(),
      signedAttributes: { ...sa, extended: copyExtended(sa.extended) },
      unsignedAttributes: { ...env.unsignedAttributes },
      certificateChain: [],
      signature: env.signature.slice(),
      toBeSigned: env.toBeSigned.slice(),
    },
  };
  const ts = env.unsignedAttributes.timestampSignature;
  if (ts) t.env.unsignedAttributes.timestampSignature = ts.slice();
  if (sa.signingTime) t.signingTime = sa.signingTime.getTime();
  if (sa.authenticSigningTime) t.authenticSigningTime = sa.authenticSigningTime.getTime();
  if (sa.expiry) t.expiry = sa.expiry.getTime();
  return t;
}

/**
 * Fresh copies of `parts` carved out of one new buffer (4-byte aligned): one allocation
 * instead of one per array, which matters because each off-heap buffer costs more than the copy.
 */
function copies(parts: readonly Uint8Array[]): Uint8Array[] {
  let total = 0;
  for (const p of parts) total += (p.length + 3) & ~3;
  const arena = new Uint8Array(total);
  const out: Uint8Array[] = [];
  let o = 0;
  for (const p of parts) {
    arena.set(p, o);
    out.push(arena.subarray(o, o + p.length));
    o += (p.length + 3) & ~3;
  }
  return out;
}

function instantiate(t: Template): ParsedEnvelope {
  const e = t.env;
  const sa = e.signedAttributes;
  const signedAttributes = { ...sa, extended: sa.extended.length > 0 ? copyExtended(sa.extended) : [] };
  if (t.signingTime !== undefined) signedAttributes.signingTime = new Date(t.signingTime);
  if (t.authenticSigningTime !== undefined) signedAttributes.authenticSigningTime = new Date(t.authenticSigningTime);
  if (t.expiry !== undefined) signedAttributes.expiry = new Date(t.expiry);
  const unsignedAttributes = { ...e.unsignedAttributes };
  const ts = e.unsignedAttributes.timestampSignature;
  const [payloadBytes, signature, toBeSigned, ...rest] = copies([
    e.payloadBytes,
    e.signature,
    e.toBeSigned,
    ...t.ders,
    ...(ts ? [ts] : []),
  ]);
  if (ts) unsignedAttributes.timestampSignature = rest.pop()!;
  return {
    ...e,
    payloadBytes: payloadBytes!,
    signedAttributes,
    unsignedAttributes,
    certificateChain: rest.map((d) => parseCertificate(d)),
    signature: signature!,
    toBeSigned: toBeSigned!,
  };
}

/** Wrap a codec's parse function with the memo (one memo per codec). */
export function memoizeParse(parse: (bytes: Uint8Array) => ParsedEnvelope): (bytes: Uint8Array) => ParsedEnvelope {
  const templates = new BytesCache<Template>(MAX_ENTRIES);
  return (bytes) => {
    if (!(bytes instanceof Uint8Array) || bytes.length > MAX_CACHED_BYTES) return parse(bytes);
    const hash = hashOfBytes(bytes);
    const hit = templates.get(bytes, hash);
    if (hit) return instantiate(hit);
    const t = templateOf(bytes, parse(bytes));
    templates.set(t.bytes, t, hash, true); // the template holds its own copy of the bytes
    return instantiate(t);
  };
}
