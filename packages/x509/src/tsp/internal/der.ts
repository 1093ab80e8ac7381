/**
 * A small BER/DER reader and DER writer for the structures of RFC 3161, RFC 5652,
 * RFC 6960 and RFC 5280 CRLs. Internal: not exported from the package.
 *
 * The reader accepts BER (indefinite lengths, constructed strings) because RFC 3161
 * tokens are BER in the wild; every node keeps its raw bytes so that signed
 * structures can be verified over the bytes that were signed.
 */
import { VouchError } from '@vouch/core';
import { tlv } from '../../der.js';

/** Universal tags used here. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

/** One decoded TLV. */
export interface Asn1 {
  /** Class bits (0 universal, 1 application, 2 context, 3 private). */
  readonly cls: number;
  readonly constructed: boolean;
  /** Tag number within the class. */
  readonly tagNumber: number;
  /** Universal-class identifier byte for low tag numbers (e.g. 0x30), or -1. */
  readonly tag: number;
  /** The whole TLV as it appeared in the input. */
  readonly raw: Uint8Array;
  /** The content octets (for indefinite lengths: without the end-of-contents marker). */
  readonly content: Uint8Array;
  /** Decoded children of a constructed node. */
  readonly children: readonly Asn1[];
}

/** Error raised for any structural problem; callers rewrap it with their own code. */
export class Asn1Error extends Error {}

const MAX_DEPTH = 64;

function readNode(buf: Uint8Array, pos: number, end: number, depth: number): { node: Asn1; next: number } {
  if (depth > MAX_DEPTH) throw new Asn1Error('ASN.1 nesting too deep');
  const start = pos;
  if (pos >= end) throw new Asn1Error('truncated ASN.1 (missing tag)');
  const id = buf[pos++]!;
  const cls = id >> 6;
  const constructed = (id & 0x20) !== 0;
  let tagNumber = id & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (let i = 0; ; i++) {
      if (pos >= end || i > 4) throw new Asn1Error('bad ASN.1 tag');
      const b = buf[pos++]!;
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (pos >= end) throw new Asn1Error('truncated ASN.1 (missing length)');
  const lb = buf[pos++]!;
  let length = -1;
  if (lb < 0x80) length = lb;
  else if (lb > 0x80) {
    const n = lb & 0x7f;
    if (n > 4 || pos + n > end) throw new Asn1Error('bad ASN.1 length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos++]!;
  }
  const children: Asn1[] = [];
  let contentStart = pos;
  let contentEnd: number;
  let next: number;
  if (length < 0) {
    if (!constructed) throw new Asn1Error('indefinite length on a primitive ASN.1 value');
    for (;;) {
      if (pos + 2 > end) throw new Asn1Error('truncated ASN.1 (missing end-of-contents)');
      if (buf[pos] === 0 && buf[pos + 1] === 0) {
        contentEnd = pos;
        next = pos + 2;
        break;
      }
      const r = readNode(buf, pos, end, depth + 1);
      children.push(r.node);
      pos = r.next;
    }
  } else {
    contentStart = pos;
    contentEnd = pos + length;
    if (contentEnd > end) throw new Asn1Error('truncated ASN.1 (content shorter than its length)');
    next = contentEnd;
    if (constructed) {
      let p = contentStart;
      while (p < contentEnd) {
        const r = readNode(buf, p, contentEnd, depth + 1);
        children.push(r.node);
        p = r.next;
      }
    }
  }
  const node: Asn1 = {
    cls,
    constructed,
    tagNumber,
    tag: cls === 0 && tagNumber < 31 ? (constructed ? 0x20 : 0) | tagNumber : -1,
    raw: buf.subarray(start, next),
    content: buf.subarray(contentStart, contentEnd),
    children,
  };
  return { node, next };
}

/** Decode exactly one TLV spanning all of `bytes`. */
export function decode(bytes: Uint8Array): Asn1 {
  const { node, next } = readNode(bytes, 0, bytes.length, 0);
  if (next !== bytes.length) throw new Asn1Error(`trailing bytes after ASN.1 value (${bytes.length - next})`);
  return node;
}

/** True when `n` is a context-specific tag `[num]`. */
export function isContext(n: Asn1 | undefined, num: number): boolean {
  return n !== undefined && n.cls === 2 && n.tagNumber === num;
}

export function expect(n: Asn1 | undefined, tag: number, what: string): Asn1 {
  if (!n) throw new Asn1Error(`${what}: missing`);
  if (n.tag !== tag) throw new Asn1Error(`${what}: unexpected ASN.1 tag`);
  return n;
}

export function seq(n: Asn1 | undefined, what: string): readonly Asn1[] {
  return expect(n, TAG.SEQUENCE, what).children;
}

export function readOid(n: Asn1 | undefined, what = 'object identifier'): string {
  const c = expect(n, TAG.OID, what).content;
  if (c.length === 0) throw new Asn1Error(`${what}: empty OID`);
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < c.length; i++) {
    v = v * 128 + (c[i]! & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw new Asn1Error(`${what}: OID arc too large`);
    if ((c[i]! & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    } else if (i === c.length - 1) throw new Asn1Error(`${what}: truncated OID`);
  }
  return parts.join('.');
}

/** INTEGER as bigint. */
export function readInt(n: Asn1 | undefined, what = 'integer', tag: number | null = TAG.INTEGER): bigint {
  if (!n) throw new Asn1Error(`${what}: missing`);
  if (tag !== null && n.tag !== tag) throw new Asn1Error(`${what}: unexpected ASN.1 tag`);
  if (n.constructed) throw new Asn1Error(`${what}: constructed INTEGER`);
  const c = n.content;
  if (c.length === 0) throw new Asn1Error(`${what}: empty INTEGER`);
  let v = 0n;
  for (const b of c) v = (v << 8n) | BigInt(b);
  if (c[0]! & 0x80) v -= 1n << BigInt(c.length * 8);
  return v;
}

/** INTEGER as a small number. */
export function readSmallInt(n: Asn1 | undefined, what = 'integer', tag: number | null = TAG.INTEGER): number {
  const v = readInt(n, what, tag);
  if (v > 2n ** 31n || v < -(2n ** 31n)) throw new Asn1Error(`${what}: value out of range`);
  return Number(v);
}

/** Magnitude of a non-negative INTEGER as lowercase hex without leading zeros ("0" for zero). */
export function intHex(v: bigint): string {
  return v < 0n ? `-${(-v).toString(16)}` : v.toString(16);
}

export function readBool(n: Asn1 | undefined, what = 'boolean'): boolean {
  const c = expect(n, TAG.BOOLEAN, what).content;
  if (c.length !== 1) throw new Asn1Error(`${what}: bad BOOLEAN`);
  return c[0] !== 0;
}

/** OCTET STRING content, joining the segments of a BER constructed string. */
export function readOctets(n: Asn1 | undefined, what = 'octet string'): Uint8Array {
  if (!n) throw new Asn1Error(`${what}: missing`);
  if (n.cls !== 0 || n.tagNumber !== 4) throw new Asn1Error(`${what}: unexpected ASN.1 tag`);
  return stringContent(n);
}

/** Content of a (possibly constructed, BER) string-type node of any tag. */
export function stringContent(n: Asn1): Uint8Array {
  if (!n.constructed) return n.content;
  const parts = n.children.map(stringContent);
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** BIT STRING bytes (unused bits must be zero for signatures). */
export function readBitString(n: Asn1 | undefined, what = 'bit string'): Uint8Array {
  const c = expect(n, TAG.BIT_STRING, what).content;
  if (c.length === 0) throw new Asn1Error(`${what}: empty BIT STRING`);
  return c.subarray(1);
}

const TEXT = new TextDecoder('latin1');

/** UTCTime or GeneralizedTime as a Date (fractional seconds kept to the millisecond). */
export function readTime(n: Asn1 | undefined, what = 'time'): Date {
  if (!n) throw new Asn1Error(`${what}: missing`);
  const s = TEXT.decode(n.content);
  let m: RegExpExecArray | null;
  if (n.tag === TAG.UTC_TIME) {
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) throw new Asn1Error(`${what}: bad UTCTime "${s}"`);
    const yy = Number(m[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return utc(what, s, year, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, 0);
  }
  if (n.tag === TAG.GENERALIZED_TIME) {
    m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d+))?Z$/.exec(s);
    if (!m) throw new Asn1Error(`${what}: bad GeneralizedTime "${s}" (UTC with seconds required)`);
    const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
    return utc(what, s, +m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms);
  }
  throw new Asn1Error(`${what}: not a UTCTime or GeneralizedTime`);
}

function utc(what: string, s: string, y: number, mo: number, d: number, h: number, mi: number, se: number, ms: number): Date {
  const t = Date.UTC(y, mo - 1, d, h, mi, se, ms);
  const dt = new Date(t);
  if (dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
    throw new Asn1Error(`${what}: invalid date "${s}"`);
  }
  return dt;
}

// ---------------------------------------------------------------- writer

// the DER writer is the certificate module's
export { encBool, encNull, encOctets, encOid, encSeq, tlv } from '../../der.js';

/** Non-negative INTEGER from a bigint or unsigned big-endian bytes. */
export function encInt(v: bigint | number | Uint8Array): Uint8Array {
  let bytes: Uint8Array;
  if (v instanceof Uint8Array) {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    bytes = v.subarray(i);
    if (bytes.length === 0) bytes = new Uint8Array([0]);
  } else {
    let x = BigInt(v);
    if (x < 0n) throw new Asn1Error('negative INTEGER not supported');
    const arr: number[] = [];
    do {
      arr.unshift(Number(x & 0xffn));
      x >>= 8n;
    } while (x > 0n);
    bytes = new Uint8Array(arr);
  }
  if (bytes[0]! & 0x80) {
    const b = new Uint8Array(bytes.length + 1);
    b.set(bytes, 1);
    bytes = b;
  }
  return tlv(TAG.INTEGER, bytes);
}

/** Wrap a third-party or ASN.1 error as a VouchError with `code`. */
export function asVouch(e: unknown, code: 'ERR_TIMESTAMP_INVALID' | 'ERR_MALFORMED_INPUT', what: string): VouchError {
  if (e instanceof VouchError) return e;
  const why = e instanceof Error ? e.message : String(e);
  return new VouchError(code, `${what}: ${why}`, { cause: e });
}
