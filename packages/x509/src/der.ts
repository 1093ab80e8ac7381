/**
 * A small, strict DER reader and writer (internal). It never throws anything but
 * {@link DerError}, never reads past its input and never recurses without bound, so every
 * parser built on it terminates on arbitrary bytes.
 */

/** Thrown by the DER reader; callers convert it into a VouchError. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** One decoded TLV. `value` and `raw` are views into the input, never copies. */
export interface Tlv {
  /** The identifier octet (class | constructed | low tag number), or 0x1f-based for high tags. */
  readonly tag: number;
  /** Tag class: 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly cls: number;
  readonly constructed: boolean;
  readonly tagNumber: number;
  /** The content octets. */
  readonly value: Uint8Array;
  /** The whole TLV (header + content). */
  readonly raw: Uint8Array;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  NUMERIC_STRING: 0x12,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
} as const;

/** Read one TLV at `offset` of `buf`. */
export function readTlv(buf: Uint8Array, offset = 0): Tlv {
  let p = offset;
  if (p >= buf.length) throw new DerError('unexpected end of data (tag)');
  const first = buf[p++]!;
  const cls = first >> 6;
  const constructed = (first & 0x20) !== 0;
  let tagNumber = first & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (let i = 0; ; i++) {
      if (p >= buf.length) throw new DerError('unexpected end of data (high tag)');
      if (i >= 4) throw new DerError('tag number too large');
      const b = buf[p++]!;
      if (i === 0 && b === 0x80) throw new DerError('non-minimal tag encoding');
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (tagNumber < 31) throw new DerError('non-minimal tag encoding');
  }
  if (p >= buf.length) throw new DerError('unexpected end of data (length)');
  let len = buf[p++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not allowed in DER');
    if (n > 4) throw new DerError('length too large');
    if (p + n > buf.length) throw new DerError('unexpected end of data (long length)');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
    if (len < 0x80 || (n > 1 && buf[p - n] === 0)) throw new DerError('non-minimal length encoding');
  }
  if (p + len > buf.length) throw new DerError('content runs past the end of the data');
  return {
    tag: first,
    cls,
    constructed,
    tagNumber,
    value: buf.subarray(p, p + len),
    raw: buf.subarray(offset, p + len),
  };
}

/** Parse `buf` as exactly one TLV (no trailing bytes). */
export function parseOne(buf: Uint8Array): Tlv {
  const t = readTlv(buf, 0);
  if (t.raw.length !== buf.length) throw new DerError('trailing data after DER value');
  return t;
}

/** The children of a constructed TLV. */
export function children(t: Tlv): Tlv[] {
  if (!t.constructed) throw new DerError('expected a constructed value');
  const out: Tlv[] = [];
  let p = 0;
  while (p < t.value.length) {
    const c = readTlv(t.value, p);
    out.push(c);
    p += c.raw.length;
  }
  return out;
}

/** Assert `t` has identifier octet `tag`. */
export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t) throw new DerError(`${what}: missing`);
  if (t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

/** Children of a SEQUENCE (tag 0x30). */
export function seq(t: Tlv | undefined, what: string): Tlv[] {
  return children(expectTag(t, TAG.SEQUENCE, what));
}

/** Decode an OBJECT IDENTIFIER's content to dotted form. */
export function decodeOid(t: Tlv): string {
  if (t.tag !== TAG.OID) throw new DerError('expected an OBJECT IDENTIFIER');
  const v = t.value;
  if (v.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  if (v.length > 64) throw new DerError('OBJECT IDENTIFIER too long');
  const arcs: number[] = [];
  let n = 0;
  let started = false;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (!started && b === 0x80) throw new DerError('non-minimal OBJECT IDENTIFIER arc');
    started = true;
    n = n * 128 + (b & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OBJECT IDENTIFIER arc too large');
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const a = n < 40 ? 0 : n < 80 ? 1 : 2;
        arcs.push(a, n - a * 40);
      } else arcs.push(n);
      n = 0;
      started = false;
    } else if (i === v.length - 1) throw new DerError('truncated OBJECT IDENTIFIER');
  }
  return arcs.join('.');
}

/** Decode a DER BOOLEAN (0x00 or 0xff only, like Go's x509 parser). */
export function decodeBoolean(t: Tlv): boolean {
  if (t.tag !== TAG.BOOLEAN || t.value.length !== 1) throw new DerError('invalid BOOLEAN');
  const b = t.value[0]!;
  if (b === 0) return false;
  if (b === 0xff) return true;
  throw new DerError('BOOLEAN is not DER-encoded');
}

/** INTEGER content bytes as a non-negative JS number (small integers only). */
export function decodeSmallInt(t: Tlv): number {
  if (t.tag !== TAG.INTEGER || t.value.length === 0) throw new DerError('invalid INTEGER');
  const v = t.value;
  if (v[0]! & 0x80) throw new DerError('negative INTEGER where a non-negative one is required');
  if (v.length > 6) throw new DerError('INTEGER too large');
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

/** The unused-bits count and bytes of a BIT STRING. */
export function decodeBitString(t: Tlv): { unused: number; bytes: Uint8Array } {
  if (t.tag !== TAG.BIT_STRING || t.value.length === 0) throw new DerError('invalid BIT STRING');
  const unused = t.value[0]!;
  if (unused > 7 || (unused > 0 && t.value.length === 1)) throw new DerError('invalid BIT STRING padding');
  return { unused, bytes: t.value.subarray(1) };
}

function two(s: string, i: number): number {
  const c1 = s.charCodeAt(i) - 48;
  const c2 = s.charCodeAt(i + 1) - 48;
  if (c1 < 0 || c1 > 9 || c2 < 0 || c2 > 9) throw new DerError('invalid digit in time');
  return c1 * 10 + c2;
}

/** Decode UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSS[.f]Z). */
export function decodeTime(t: Tlv): Date {
  let s = '';
  for (const b of t.value) s += String.fromCharCode(b);
  let year: number;
  let rest: string;
  if (t.tag === TAG.UTC_TIME) {
    if (!/^\d{12}Z$/.test(s)) throw new DerError(`invalid UTCTime "${s}"`);
    const yy = two(s, 0);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    rest = s.slice(2);
  } else if (t.tag === TAG.GENERALIZED_TIME) {
    if (!/^\d{14}(\.\d{1,9})?Z$/.test(s)) throw new DerError(`invalid GeneralizedTime "${s}"`);
    year = two(s, 0) * 100 + two(s, 2);
    rest = s.slice(4);
  } else throw new DerError('expected UTCTime or GeneralizedTime');
  const month = two(rest, 0);
  const day = two(rest, 2);
  const hour = two(rest, 4);
  const min = two(rest, 6);
  const sec = two(rest, 8);
  let ms = 0;
  const frac = /\.(\d+)Z$/.exec(rest);
  if (frac) ms = Math.floor(Number(`0.${frac[1]}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59) {
    throw new DerError(`time out of range "${s}"`);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, ms);
  if (d.getUTCDate() !== day) throw new DerError(`invalid day of month "${s}"`);
  return d;
}

// ---------------------------------------------------------------- writer

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  let x = n;
  while (x > 0) {
    out.unshift(x & 0xff);
    x = Math.floor(x / 256);
  }
  return [0x80 | out.length, ...out];
}

/** Encode one TLV. */
export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of content) n += c.length;
  const head = [tag, ...lengthBytes(n)];
  const out = new Uint8Array(head.length + n);
  out.set(head, 0);
  let o = head.length;
  for (const c of content) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

export const encSeq = (...items: Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, ...items);

/** SET OF, with elements sorted by their encoding as DER requires. */
export function encSet(...items: Uint8Array[]): Uint8Array {
  const sorted = [...items].sort((a, b) => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
  return tlv(TAG.SET, ...sorted);
}

/** OBJECT IDENTIFIER from dotted decimal (arcs of any size: 2.25.<UUID> included). */
export function encOid(oid: string): Uint8Array {
  const parts = oid.split('.');
  if (parts.length < 2 || parts.some((p) => !/^\d+$/.test(p))) throw new DerError(`invalid OID ${oid}`);
  const arcs = parts.map((p) => BigInt(p));
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

/** INTEGER from unsigned big-endian magnitude bytes (adds a 0x00 when the top bit is set). */
export function encUnsignedInt(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let m = magnitude.subarray(i);
  if (m.length === 0) m = new Uint8Array([0]);
  if (m[0]! & 0x80) return tlv(TAG.INTEGER, new Uint8Array([0]), m);
  return tlv(TAG.INTEGER, m);
}

export function encSmallInt(n: number): Uint8Array {
  const bytes: number[] = [];
  let x = n;
  do {
    bytes.unshift(x & 0xff);
    x = Math.floor(x / 256);
  } while (x > 0);
  return encUnsignedInt(new Uint8Array(bytes));
}

export const encNull = (): Uint8Array => new Uint8Array([TAG.NULL, 0]);
export const encBool = (b: boolean): Uint8Array => new Uint8Array([TAG.BOOLEAN, 1, b ? 0xff : 0]);
export const encOctets = (b: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, b);
export const encBitString = (b: Uint8Array, unused = 0): Uint8Array => tlv(TAG.BIT_STRING, new Uint8Array([unused]), b);

/** UTCTime for 1950..2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5). */
export function encTime(d: Date): Uint8Array {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const y = d.getUTCFullYear();
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  if (y >= 1950 && y < 2050) return tlv(TAG.UTC_TIME, ascii(`${p(y % 100)}${body}`));
  return tlv(TAG.GENERALIZED_TIME, ascii(`${p(y, 4)}${body}`));
}

/** Context-specific tag byte: [n] constructed or primitive. */
export const ctx = (n: number, constructed: boolean): number => 0x80 | (constructed ? 0x20 : 0) | n;
