/** The DER writer: what the reader reads back (in its strict `der` mode) byte for byte. */
import { Asn1Error, TAG } from './reader.js';

function lengthOctets(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) out.unshift(x & 0xff);
  return [0x80 | out.length, ...out];
}

/** Encode one TLV with identifier octet `tag` (tag numbers below 31) around `content`. */
export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f) throw new Asn1Error(`invalid identifier octet ${tag}`);
  let n = 0;
  for (const c of content) n += c.length;
  const head = [tag, ...lengthOctets(n)];
  const out = new Uint8Array(head.length + n);
  out.set(head, 0);
  let o = head.length;
  for (const c of content) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Identifier octet of a context-specific `[n]`, constructed or primitive. */
export function contextTag(n: number, constructed: boolean): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new Asn1Error(`context tag [${n}] needs the high-tag-number form`);
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** SEQUENCE of already encoded items. */
export function encSeq(...items: Uint8Array[]): Uint8Array {
  return tlv(TAG.SEQUENCE, ...items);
}

/** SET OF, with the elements sorted by their encoding as DER requires (X.690 11.6). */
export function encSet(...items: Uint8Array[]): Uint8Array {
  const sorted = [...items].sort((a, b) => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
  return tlv(TAG.SET, ...sorted);
}

/** OBJECT IDENTIFIER from dotted decimal (arcs of any size, 2.25.<UUID> included). */
export function encOid(oid: string): Uint8Array {
  const parts = oid.split('.');
  if (parts.length < 2 || parts.some((p) => !/^(0|[1-9]\d*)$/.test(p))) throw new Asn1Error(`invalid OID ${oid}`);
  const arcs = parts.map((p) => BigInt(p));
  if (arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) throw new Asn1Error(`invalid OID ${oid}`);
  const out: number[] = [];
  for (let a of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
    const chunk: number[] = [Number(a & 0x7fn)];
    a >>= 7n;
    while (a > 0n) {
      chunk.unshift(Number(a & 0x7fn) | 0x80);
      a >>= 7n;
    }
    out.push(...chunk);
  }
  return tlv(TAG.OID, new Uint8Array(out));
}

/**
 * INTEGER, minimally encoded: from a bigint or safe integer (negative values in two's
 * complement), or from unsigned big-endian magnitude bytes (a 0x00 is added when the top bit is set).
 */
export function encInt(v: bigint | number | Uint8Array): Uint8Array {
  if (v instanceof Uint8Array) {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    const m = v.length === 0 ? new Uint8Array([0]) : v.subarray(i);
    return m[0]! & 0x80 ? tlv(TAG.INTEGER, new Uint8Array([0]), m) : tlv(TAG.INTEGER, m);
  }
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new Asn1Error(`INTEGER ${v} is not a safe integer`);
  const x = BigInt(v);
  let len = 1;
  // the shortest two's complement that holds x
  while (x >= 1n << BigInt(len * 8 - 1) || x < -(1n << BigInt(len * 8 - 1))) len++;
  const out = new Uint8Array(len);
  let u = x < 0n ? (1n << BigInt(len * 8)) + x : x;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return tlv(TAG.INTEGER, out);
}

/** NULL. */
export function encNull(): Uint8Array {
  return new Uint8Array([TAG.NULL, 0]);
}

/** BOOLEAN (DER: TRUE is 0xff). */
export function encBool(b: boolean): Uint8Array {
  return new Uint8Array([TAG.BOOLEAN, 1, b ? 0xff : 0]);
}

/** OCTET STRING. */
export function encOctets(b: Uint8Array): Uint8Array {
  return tlv(TAG.OCTET_STRING, b);
}

/** BIT STRING of `bytes` whose last `unused` bits are not part of the value (they must be zero). */
export function encBitString(bytes: Uint8Array, unused = 0): Uint8Array {
  if (!Number.isInteger(unused) || unused < 0 || unused > 7 || (unused > 0 && bytes.length === 0)) {
    throw new Asn1Error(`invalid BIT STRING padding ${unused}`);
  }
  return tlv(TAG.BIT_STRING, new Uint8Array([unused]), bytes);
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5); whole seconds, UTC. */
export function encTime(d: Date): Uint8Array {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const y = d.getUTCFullYear();
  if (!Number.isFinite(y) || y < 0 || y > 9999) throw new Asn1Error('time out of range');
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  if (y >= 1950 && y < 2050) return tlv(TAG.UTC_TIME, ascii(`${p(y % 100)}${body}`));
  return tlv(TAG.GENERALIZED_TIME, ascii(`${p(y, 4)}${body}`));
}
