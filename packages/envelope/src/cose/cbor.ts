import { VouchError } from '@vouch/core';
import { concatBytes } from '@vouch/core/internal';

/*
 * A small, strict CBOR (RFC 8949) codec for the COSE envelope.
 *
 * Why not cbor-x (the package this layer was planned around)? Checked against cbor-x 1.6.9:
 * - its decoder keeps the last of duplicate map keys silently, accepts indefinite-length
 *   items and maps tags through process-global extensions (`addExtension`), while Notary
 *   verifiers must reject duplicate keys and indefinite lengths (go-cose/fxamacker do) and must
 *   tell tag 1 from tag 0 for time values;
 * - its encoder writes non-minimal lengths for objects (`b9 0002 …`) and doubles for integers
 *   above 2^32, and does not sort map keys, while notation's envelopes are canonical
 *   (length-first key order, minimal heads), which the conformance vectors check byte for byte;
 * - its package entry resolves, under the `node` condition, to a file that tries to load the
 *   native `cbor-extract` add-on (optional dependency with an install script).
 * The subset Notary needs (ints, strings, arrays, maps, tags, simple values, floats) fits in
 * this file, runs unchanged in browsers, Deno and Node, has no install script, and every
 * failure is a VouchError. cbor-x is therefore not imported.
 */

/** A CBOR tag (decoded, or to encode). */
export class CborTag {
  constructor(
    readonly tag: number,
    readonly value: CborValue | CborInput,
  ) {}
}

/** A decoded CBOR map: entries in wire order (keys may be any CBOR value). */
export class CborMap {
  constructor(readonly entries: [CborValue, CborValue][]) {}
  /** The value under an integer or text key, compared by value. */
  get(key: number | string): CborValue | undefined {
    for (const [k, v] of this.entries) if (k === key) return v;
    return undefined;
  }
}

/** A decoded CBOR item. Integers beyond ±2^53 decode as bigint. */
export type CborValue = number | bigint | string | Uint8Array | boolean | null | undefined | CborValue[] | CborMap | CborTag;

const MAX_DEPTH = 32;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

class Reader {
  p = 0;
  constructor(
    readonly b: Uint8Array,
    readonly what: string,
  ) {}

  fail(msg: string): never {
    throw new VouchError('ERR_ENVELOPE_MALFORMED', `${this.what} is not valid CBOR: ${msg} at offset ${this.p}`);
  }

  need(n: number): void {
    if (n > this.b.length - this.p) this.fail('unexpected end of input');
  }

  /** The argument of an item head; bigint when above 2^53 - 1. */
  arg(ai: number): number | bigint {
    const b = this.b;
    if (ai < 24) return ai;
    if (ai === 24) {
      this.need(1);
      return b[this.p++] as number;
    }
    if (ai === 25) {
      this.need(2);
      const v = ((b[this.p] as number) << 8) | (b[this.p + 1] as number);
      this.p += 2;
      return v;
    }
    if (ai === 26) {
      this.need(4);
      const v =
        (((b[this.p] as number) << 24) >>> 0) +
        (((b[this.p + 1] as number) << 16) | ((b[this.p + 2] as number) << 8) | (b[this.p + 3] as number));
      this.p += 4;
      return v;
    }
    if (ai === 27) {
      this.need(8);
      let v = 0n;
      for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(b[this.p + i] as number);
      this.p += 8;
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    if (ai === 31) return this.fail('indefinite-length items are not allowed');
    return this.fail(`reserved additional information ${ai}`);
  }

  length(ai: number): number {
    const n = this.arg(ai);
    if (typeof n === 'bigint' || n > this.b.length - this.p) this.fail('length exceeds the input');
    return n as number;
  }

  item(depth: number): CborValue {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    this.need(1);
    const ib = this.b[this.p++] as number;
    const major = ib >> 5;
    const ai = ib & 31;
    switch (major) {
      case 0:
        return this.arg(ai);
      case 1: {
        const n = this.arg(ai);
        return typeof n === 'bigint' ? -1n - n : n === Number.MAX_SAFE_INTEGER ? -1n - BigInt(n) : -1 - n;
      }
      case 2: {
        const n = this.length(ai);
        const out = this.b.slice(this.p, this.p + n);
        this.p += n;
        return out;
      }
      case 3: {
        const n = this.length(ai);
        const bytes = this.b.subarray(this.p, this.p + n);
        let s: string;
        try {
          s = utf8Decoder.decode(bytes);
        } catch {
          return this.fail('text string is not valid UTF-8');
        }
        this.p += n;
        return s;
      }
      case 4: {
        // Every element takes at least one byte: bound the count before looping.
        const n = this.length(ai);
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.item(depth + 1));
        return out;
      }
      case 5: {
        const n = this.length(ai);
        if (n * 2 > this.b.length - this.p) this.fail('map length exceeds the input');
        const entries: [CborValue, CborValue][] = [];
        const seen = new Set<string>();
        for (let i = 0; i < n; i++) {
          const start = this.p;
          const k = this.item(depth + 1);
          const id = keyId(k, this.b.subarray(start, this.p));
          if (seen.has(id)) this.fail('duplicate map key');
          seen.add(id);
          entries.push([k, this.item(depth + 1)]);
        }
        return new CborMap(entries);
      }
      case 6: {
        const t = this.arg(ai);
        if (typeof t === 'bigint') this.fail('tag number too large');
        return new CborTag(t as number, this.item(depth + 1));
      }
      default: {
        if (ai === 20) return false;
        if (ai === 21) return true;
        if (ai === 22) return null;
        if (ai === 23) return undefined;
        if (ai === 25) {
          this.need(2);
          const v = half(((this.b[this.p] as number) << 8) | (this.b[this.p + 1] as number));
          this.p += 2;
          return v;
        }
        if (ai === 26) {
          this.need(4);
          const v = new DataView(this.b.buffer, this.b.byteOffset + this.p, 4).getFloat32(0);
          this.p += 4;
          return v;
        }
        if (ai === 27) {
          this.need(8);
          const v = new DataView(this.b.buffer, this.b.byteOffset + this.p, 8).getFloat64(0);
          this.p += 8;
          return v;
        }
        if (ai === 31) this.fail('unexpected break');
        return this.fail(`unsupported simple value ${ai === 24 ? 'with 1-byte argument' : ai}`);
      }
    }
  }
}

function half(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Identity of a map key for duplicate detection: by value for ints and text, by encoding otherwise. */
function keyId(k: CborValue, raw: Uint8Array): string {
  if (typeof k === 'number' || typeof k === 'bigint') return `i${k}`;
  if (typeof k === 'string') return `t${k}`;
  let s = 'r';
  for (const x of raw) s += x.toString(16).padStart(2, '0');
  return s;
}

/**
 * Decode exactly one CBOR item from `bytes` (no trailing data). Rejects indefinite lengths,
 * duplicate map keys, invalid UTF-8, reserved/unassigned simple values and nesting deeper than 32.
 * Throws ERR_ENVELOPE_MALFORMED naming `what`.
 */
export function decodeCbor(bytes: Uint8Array, what: string): CborValue {
  const r = new Reader(bytes, what);
  const v = r.item(0);
  if (r.p !== bytes.length) r.fail('trailing bytes after the item');
  return v;
}

function head(major: number, n: number | bigint): Uint8Array {
  const m = major << 5;
  if (typeof n === 'bigint' || n > 0xffffffff) {
    const big = BigInt(n);
    const out = new Uint8Array(9);
    out[0] = m | 27;
    new DataView(out.buffer).setBigUint64(1, big);
    return out;
  }
  if (n < 24) return new Uint8Array([m | n]);
  if (n < 0x100) return new Uint8Array([m | 24, n]);
  if (n < 0x10000) return new Uint8Array([m | 25, n >> 8, n & 0xff]);
  return new Uint8Array([m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

/** Canonical order (RFC 7049 §3.9, go-cose `SortCanonical`): shorter encoded key first, then bytewise. */
function compareEncoded(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

/** Values {@link encodeCbor} accepts: plain objects become text-keyed maps, `Map`s keep their keys. */
export type CborInput =
  | number
  | bigint
  | string
  | Uint8Array
  | boolean
  | null
  | CborInput[]
  | CborTag
  | CborMap
  | Map<CborInput, CborInput>
  | { [k: string]: CborInput };

function encodeInto(v: unknown, parts: Uint8Array[], depth: number): void {
  if (depth > MAX_DEPTH) throw new VouchError('ERR_INVALID_ARGUMENT', `value nests deeper than ${MAX_DEPTH} levels`);
  if (v === null) {
    parts.push(new Uint8Array([0xf6]));
    return;
  }
  switch (typeof v) {
    case 'boolean':
      parts.push(new Uint8Array([v ? 0xf5 : 0xf4]));
      return;
    case 'number':
      if (Number.isSafeInteger(v)) {
        parts.push(v >= 0 ? head(0, v) : head(1, -1 - v));
        return;
      }
      if (Number.isNaN(v)) throw new VouchError('ERR_INVALID_ARGUMENT', 'NaN cannot be encoded');
      {
        const out = new Uint8Array(9);
        out[0] = 0xfb;
        new DataView(out.buffer).setFloat64(1, v);
        parts.push(out);
      }
      return;
    case 'bigint':
      if (v >= 0n && v <= 0xffffffffffffffffn) parts.push(head(0, v <= 0xffffffffn ? Number(v) : v));
      else if (v < 0n && -1n - v <= 0xffffffffffffffffn) {
        const n = -1n - v;
        parts.push(head(1, n <= 0xffffffffn ? Number(n) : n));
      } else throw new VouchError('ERR_INVALID_ARGUMENT', 'integer out of the 64-bit CBOR range');
      return;
    case 'string': {
      const b = utf8Encoder.encode(v);
      parts.push(head(3, b.length), b);
      return;
    }
    case 'object':
      break;
    default:
      throw new VouchError('ERR_INVALID_ARGUMENT', `a ${typeof v} cannot be encoded as CBOR`);
  }
  if (v instanceof Uint8Array) {
    parts.push(head(2, v.length), v);
    return;
  }
  if (Array.isArray(v)) {
    parts.push(head(4, v.length));
    for (const x of v) encodeInto(x, parts, depth + 1);
    return;
  }
  if (v instanceof CborTag) {
    parts.push(head(6, v.tag));
    encodeInto(v.value, parts, depth + 1);
    return;
  }
  let entries: [unknown, unknown][];
  if (v instanceof CborMap) entries = v.entries;
  else if (v instanceof Map) entries = [...v.entries()];
  else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new VouchError('ERR_INVALID_ARGUMENT', 'only plain objects, Maps, arrays, Uint8Arrays and scalars can be encoded as CBOR');
    }
    entries = Object.entries(v as Record<string, unknown>);
  }
  const encoded = entries.map(([k, x]) => [encodeCbor(k as CborInput, depth + 1), encodeCbor(x as CborInput, depth + 1)] as const);
  encoded.sort((a, b) => compareEncoded(a[0], b[0]));
  for (let i = 1; i < encoded.length; i++) {
    if (
      compareEncoded((encoded[i - 1] as readonly [Uint8Array, Uint8Array])[0], (encoded[i] as readonly [Uint8Array, Uint8Array])[0]) === 0
    ) {
      throw new VouchError('ERR_INVALID_ARGUMENT', 'duplicate map key');
    }
  }
  parts.push(head(5, encoded.length));
  for (const [k, x] of encoded) parts.push(k, x);
}

/**
 * Encode canonically (minimal heads, definite lengths, map keys in length-first order,
 * non-integer numbers as float64 like Go). Throws ERR_INVALID_ARGUMENT for unencodable values.
 */
export function encodeCbor(v: CborInput, depth = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  encodeInto(v, parts, depth);
  return parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(...parts);
}

/** Plain-JS view of a decoded value (for extended attributes): text-keyed maps become objects. */
export function cborToJs(v: CborValue): unknown {
  if (Array.isArray(v)) return v.map(cborToJs);
  if (v instanceof CborMap) {
    if (v.entries.every(([k]) => typeof k === 'string')) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of v.entries)
        Object.defineProperty(o, k as string, { value: cborToJs(x), enumerable: true, writable: true, configurable: true });
      return o;
    }
    return new Map(v.entries.map(([k, x]) => [cborToJs(k), cborToJs(x)]));
  }
  if (v instanceof CborTag) return { tag: v.tag, value: cborToJs(v.value as CborValue) };
  return v;
}
