/**
 * The ASN.1 reader: strict DER by default, BER (indefinite lengths, constructed strings,
 * non-minimal lengths) only when a caller asks for it — RFC 3161 timestamp tokens are BER in
 * the wild. It never throws anything but {@link Asn1Error}, never reads past its input, and
 * bounds its nesting, so every parser built on it terminates on arbitrary bytes. Nodes are
 * views into the input (never copies) and keep their raw bytes, so signed structures can be
 * verified over exactly the bytes that were signed.
 */
import { concatBytes } from '../bytes.js';

/** Thrown by the ASN.1 reader and writer for any structural problem; callers rewrap it with their own error code. */
export class Asn1Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Asn1Error';
  }
}

/** Identifier octets of the universal types vouch reads and writes. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** `der` (the default): the distinguished encoding only. `ber`: what RFC 3161 tokens need. */
export type Asn1Encoding = 'der' | 'ber';

/** Options of {@link decode} and {@link readTlv}. */
export interface Asn1DecodeOptions {
  /** Default `der`. */
  encoding?: Asn1Encoding;
}

/** Deepest nesting the reader follows (certificates and CMS structures stay far below it). */
export const MAX_DEPTH = 64;

/** One decoded TLV. `value` and `raw` are views into the input, never copies. Made by the reader only. */
export class Asn1Node {
  /**
   * The identifier octet (class | constructed | tag number) for tag numbers below 31, e.g.
   * 0x30 for SEQUENCE or 0xa0 for a constructed `[0]`; -1 for the high-tag-number form.
   */
  readonly tag: number;
  /** Tag class: 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly cls: number;
  readonly constructed: boolean;
  readonly tagNumber: number;
  /** The contents octets (for a BER indefinite length: without the end-of-contents marker). */
  readonly value: Uint8Array;
  /** The whole TLV as it appeared in the input. */
  readonly raw: Uint8Array;
  /** How the node was read; typed readers apply the content rules of this encoding. */
  readonly encoding: Asn1Encoding;
  readonly #depth: number;
  #children: readonly Asn1Node[] | undefined;

  constructor(
    id: number,
    tagNumber: number,
    value: Uint8Array,
    raw: Uint8Array,
    encoding: Asn1Encoding,
    depth: number,
    children?: readonly Asn1Node[],
  ) {
    this.cls = id >> 6;
    this.constructed = (id & 0x20) !== 0;
    this.tagNumber = tagNumber;
    this.tag = tagNumber < 31 ? id : -1;
    this.value = value;
    this.raw = raw;
    this.encoding = encoding;
    this.#depth = depth;
    this.#children = children;
  }

  /** The decoded children of a constructed node (decoded on first access). Throws Asn1Error for a primitive node. */
  get children(): readonly Asn1Node[] {
    if (this.#children) return this.#children;
    if (!this.constructed) throw new Asn1Error('expected a constructed value');
    const out: Asn1Node[] = [];
    const v = this.value;
    for (let p = 0; p < v.length; ) {
      const [c, next] = readAt(v, p, v.length, this.encoding, this.#depth + 1);
      out.push(c);
      p = next;
    }
    this.#children = out;
    return out;
  }
}

function readAt(buf: Uint8Array, offset: number, end: number, encoding: Asn1Encoding, depth: number): [Asn1Node, number] {
  if (depth > MAX_DEPTH) throw new Asn1Error('ASN.1 nesting too deep');
  let p = offset;
  if (p >= end) throw new Asn1Error('unexpected end of data (tag)');
  const id = buf[p++]!;
  let tagNumber = id & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (let i = 0; ; i++) {
      if (p >= end) throw new Asn1Error('unexpected end of data (high tag)');
      if (i >= 4) throw new Asn1Error('tag number too large');
      const b = buf[p++]!;
      // X.690 8.1.2.4.2: no leading zero septet, and tag numbers below 31 use the short form (BER too).
      if (i === 0 && b === 0x80) throw new Asn1Error('non-minimal tag encoding');
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (tagNumber < 31) throw new Asn1Error('non-minimal tag encoding');
  }
  if (p >= end) throw new Asn1Error('unexpected end of data (length)');
  const lb = buf[p++]!;
  let length: number;
  if (lb < 0x80) length = lb;
  else if (lb === 0x80) {
    if (encoding === 'der') throw new Asn1Error('indefinite length is not allowed in DER');
    if ((id & 0x20) === 0) throw new Asn1Error('indefinite length on a primitive value');
    return readIndefinite(buf, offset, id, tagNumber, p, end, depth);
  } else {
    const n = lb & 0x7f;
    if (n > 4) throw new Asn1Error('length too large');
    if (p + n > end) throw new Asn1Error('unexpected end of data (long length)');
    if (encoding === 'der' && buf[p] === 0) throw new Asn1Error('non-minimal length encoding');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[p++]!;
    if (encoding === 'der' && length < 0x80) throw new Asn1Error('non-minimal length encoding');
  }
  if (length > end - p) throw new Asn1Error('content runs past the end of the data');
  const next = p + length;
  return [new Asn1Node(id, tagNumber, buf.subarray(p, next), buf.subarray(offset, next), encoding, depth), next];
}

/** BER indefinite length: children up to the end-of-contents octets (00 00). */
function readIndefinite(
  buf: Uint8Array,
  offset: number,
  id: number,
  tagNumber: number,
  start: number,
  end: number,
  depth: number,
): [Asn1Node, number] {
  const children: Asn1Node[] = [];
  let p = start;
  for (;;) {
    if (p + 2 > end) throw new Asn1Error('unexpected end of data (missing end-of-contents)');
    if (buf[p] === 0 && buf[p + 1] === 0) break;
    const [c, next] = readAt(buf, p, end, 'ber', depth + 1);
    children.push(c);
    p = next;
  }
  return [new Asn1Node(id, tagNumber, buf.subarray(start, p), buf.subarray(offset, p + 2), 'ber', depth, children), p + 2];
}

/** Decode `bytes` as exactly one value (no trailing bytes). */
export function decode(bytes: Uint8Array, options: Asn1DecodeOptions = {}): Asn1Node {
  const [node, next] = readAt(bytes, 0, bytes.length, options.encoding ?? 'der', 0);
  if (next !== bytes.length) throw new Asn1Error(`trailing data after the ASN.1 value (${bytes.length - next} bytes)`);
  return node;
}

/** Read the one value that starts at `offset` of `bytes` (what follows it is not looked at). */
export function readTlv(bytes: Uint8Array, offset = 0, options: Asn1DecodeOptions = {}): Asn1Node {
  return readAt(bytes, offset, bytes.length, options.encoding ?? 'der', 0)[0];
}

// ---------------------------------------------------------------- typed readers

/** A context-specific node: what {@link isContext} narrows to. */
export interface ContextNode extends Asn1Node {
  readonly cls: 2;
}

/**
 * True when `n` is a context-specific `[num]` (primitive or constructed). A type predicate:
 * after it, `n` is defined.
 */
export function isContext(n: Asn1Node | undefined, num: number): n is ContextNode {
  return n !== undefined && n.cls === 2 && n.tagNumber === num;
}

/** `n` itself when it has identifier octet `tag`; throws Asn1Error naming `what` otherwise. */
export function expectTag(n: Asn1Node | undefined, tag: number, what: string): Asn1Node {
  if (!n) throw new Asn1Error(`${what}: missing`);
  if (n.tag !== tag) throw new Asn1Error(`${what}: expected tag 0x${tag.toString(16)}, found 0x${n.raw[0]!.toString(16)}`);
  return n;
}

/** The children of a SEQUENCE. */
export function seq(n: Asn1Node | undefined, what: string): readonly Asn1Node[] {
  return expectTag(n, TAG.SEQUENCE, what).children;
}

/**
 * An OBJECT IDENTIFIER in dotted form, arcs of any size (2.25.<UUID> included). Non-minimal
 * arcs are refused in both encodings (X.690 8.19.2).
 */
export function readOid(n: Asn1Node | undefined, what = 'object identifier'): string {
  const v = expectTag(n, TAG.OID, what).value;
  if (v.length === 0) throw new Asn1Error(`${what}: empty OBJECT IDENTIFIER`);
  if (v.length > 128) throw new Asn1Error(`${what}: OBJECT IDENTIFIER too long`);
  let s = '';
  let arc = 0;
  let big: bigint | undefined; // once an arc outgrows exact doubles
  let start = true;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (start && b === 0x80) throw new Asn1Error(`${what}: non-minimal OBJECT IDENTIFIER arc`);
    start = false;
    if (big !== undefined) big = big * 128n + BigInt(b & 0x7f);
    else if (arc >= 2 ** 45) big = BigInt(arc) * 128n + BigInt(b & 0x7f);
    else arc = arc * 128 + (b & 0x7f);
    if ((b & 0x80) !== 0) {
      if (i === v.length - 1) throw new Asn1Error(`${what}: truncated OBJECT IDENTIFIER`);
      continue;
    }
    if (s === '') {
      // the first subidentifier holds two arcs: 40·X + Y, X ∈ {0, 1, 2}
      const top = big !== undefined || arc >= 80 ? 2 : arc >= 40 ? 1 : 0;
      s = `${top}.${big !== undefined ? big - 80n : arc - top * 40}`;
    } else s += `.${big ?? arc}`;
    arc = 0;
    big = undefined;
    start = true;
  }
  return s;
}

/** A BOOLEAN. DER: 0x00 or 0xff only (as Go's parser); BER: any non-zero octet is TRUE. */
export function readBoolean(n: Asn1Node | undefined, what = 'BOOLEAN'): boolean {
  const v = expectTag(n, TAG.BOOLEAN, what).value;
  if (v.length !== 1) throw new Asn1Error(`${what}: a BOOLEAN holds one octet`);
  if (v[0] === 0) return false;
  if (v[0] === 0xff || n!.encoding === 'ber') return true;
  throw new Asn1Error(`${what}: BOOLEAN is not DER-encoded`);
}

function integerContents(n: Asn1Node | undefined, what: string, tag: number | null): Uint8Array {
  if (!n) throw new Asn1Error(`${what}: missing`);
  if (tag !== null && n.tag !== tag) throw new Asn1Error(`${what}: expected tag 0x${tag.toString(16)}, found 0x${n.raw[0]!.toString(16)}`);
  if (n.constructed) throw new Asn1Error(`${what}: constructed INTEGER`);
  const v = n.value;
  if (v.length === 0) throw new Asn1Error(`${what}: empty INTEGER`);
  if (n.encoding === 'der' && v.length > 1 && ((v[0] === 0 && (v[1]! & 0x80) === 0) || (v[0] === 0xff && (v[1]! & 0x80) !== 0))) {
    throw new Asn1Error(`${what}: INTEGER is not minimally encoded`);
  }
  return v;
}

/**
 * An INTEGER (or ENUMERATED, or an implicitly tagged integer with `tag: null`) as a bigint,
 * two's complement. DER: the encoding must be minimal.
 */
export function readInteger(n: Asn1Node | undefined, what = 'INTEGER', tag: number | null = TAG.INTEGER): bigint {
  const v = integerContents(n, what, tag);
  let x = 0n;
  for (const b of v) x = (x << 8n) | BigInt(b);
  if (v[0]! & 0x80) x -= 1n << BigInt(v.length * 8);
  return x;
}

/** An INTEGER that fits in 48 bits, as a number (versions, counts, small parameters). */
export function readSmallInt(n: Asn1Node | undefined, what = 'INTEGER', tag: number | null = TAG.INTEGER): number {
  const v = integerContents(n, what, tag);
  if (v.length > 6) throw new Asn1Error(`${what}: INTEGER too large`);
  let x = 0;
  for (const b of v) x = x * 256 + b;
  return v[0]! & 0x80 ? x - 2 ** (v.length * 8) : x;
}

/** Lowercase hex of an integer without leading zeros (`-` first for negative values). */
export function intHex(v: bigint): string {
  return v < 0n ? `-${(-v).toString(16)}` : v.toString(16);
}

/** A BIT STRING: the unused-bit count and the bytes. DER: the unused bits must be zero. */
export function readBitString(n: Asn1Node | undefined, what = 'BIT STRING'): { unused: number; bytes: Uint8Array } {
  const v = expectTag(n, TAG.BIT_STRING, what).value;
  if (v.length === 0) throw new Asn1Error(`${what}: empty BIT STRING`);
  const unused = v[0]!;
  if (unused > 7 || (unused > 0 && v.length === 1)) throw new Asn1Error(`${what}: invalid BIT STRING padding`);
  if (n!.encoding === 'der' && unused > 0 && (v[v.length - 1]! & ((1 << unused) - 1)) !== 0) {
    throw new Asn1Error(`${what}: BIT STRING padding bits are not zero`);
  }
  return { unused, bytes: v.subarray(1) };
}

/** The contents of a string type: primitive, or (BER only) the joined segments of a constructed string. */
export function stringContent(n: Asn1Node): Uint8Array {
  if (!n.constructed) return n.value;
  if (n.encoding === 'der') throw new Asn1Error('a constructed string is not allowed in DER');
  return concatBytes(...n.children.map(stringContent));
}

/** An OCTET STRING's contents (BER: a constructed OCTET STRING is joined). */
export function readOctets(n: Asn1Node | undefined, what = 'OCTET STRING'): Uint8Array {
  if (!n) throw new Asn1Error(`${what}: missing`);
  if (n.cls !== 0 || n.tagNumber !== 4) throw new Asn1Error(`${what}: expected an OCTET STRING, found tag 0x${n.raw[0]!.toString(16)}`);
  return stringContent(n);
}

function twoDigits(s: string, i: number, what: string): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) throw new Asn1Error(`${what}: invalid digit in time`);
  return a * 10 + b;
}

/**
 * A UTCTime (YYMMDDHHMMSSZ; 1950–2049) or GeneralizedTime (YYYYMMDDHHMMSS[.fff…]Z) as a Date,
 * fractional seconds kept to the millisecond. Times must be UTC with seconds.
 */
export function readTime(n: Asn1Node | undefined, what = 'time'): Date {
  if (!n) throw new Asn1Error(`${what}: missing`);
  let s = '';
  for (const b of n.value) s += String.fromCharCode(b);
  let year: number;
  let rest: string;
  if (n.tag === TAG.UTC_TIME) {
    if (!/^\d{12}Z$/.test(s)) throw new Asn1Error(`${what}: invalid UTCTime "${s}"`);
    const yy = twoDigits(s, 0, what);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    rest = s.slice(2);
  } else if (n.tag === TAG.GENERALIZED_TIME) {
    if (!/^\d{14}(\.\d+)?Z$/.test(s)) throw new Asn1Error(`${what}: invalid GeneralizedTime "${s}" (UTC with seconds required)`);
    year = twoDigits(s, 0, what) * 100 + twoDigits(s, 2, what);
    rest = s.slice(4);
  } else throw new Asn1Error(`${what}: expected UTCTime or GeneralizedTime`);
  const month = twoDigits(rest, 0, what);
  const day = twoDigits(rest, 2, what);
  const hour = twoDigits(rest, 4, what);
  const min = twoDigits(rest, 6, what);
  const sec = twoDigits(rest, 8, what);
  const frac = /\.(\d+)Z$/.exec(rest);
  const ms = frac ? Math.floor(Number(`0.${frac[1]}`) * 1000) : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 59) {
    throw new Asn1Error(`${what}: time out of range "${s}"`);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, ms);
  if (d.getUTCDate() !== day) throw new Asn1Error(`${what}: invalid day of month "${s}"`);
  return d;
}
