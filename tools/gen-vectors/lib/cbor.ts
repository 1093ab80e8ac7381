/**
 * A tiny CBOR encoder for building COSE vectors, including the malformed ones the envelope
 * package must reject (duplicate keys, indefinite lengths, untagged messages, wrong tags). Map
 * entries are written in the order given; nothing is sorted or checked.
 */
import { concat } from './der.js';

export class Tag {
  constructor(
    readonly tag: number,
    readonly value: CborItem,
  ) {}
}

/** A map as an ordered list of entries (duplicates allowed on purpose). */
export class Entries {
  constructor(readonly entries: [CborItem, CborItem][]) {}
}

/** Bytes spliced into the output as they are. */
export class Raw {
  constructor(readonly bytes: Uint8Array) {}
}

export type CborItem = number | string | Uint8Array | boolean | null | CborItem[] | Entries | Tag | Raw;

function head(major: number, n: number): Uint8Array {
  const m = major << 5;
  if (n < 24) return Uint8Array.of(m | n);
  if (n < 0x100) return Uint8Array.of(m | 24, n);
  if (n < 0x10000) return Uint8Array.of(m | 25, n >> 8, n & 0xff);
  if (n < 0x100000000) return Uint8Array.of(m | 26, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  const hi = Math.floor(n / 0x100000000);
  const lo = n >>> 0;
  return Uint8Array.of(
    m | 27,
    hi >>> 24,
    (hi >> 16) & 0xff,
    (hi >> 8) & 0xff,
    hi & 0xff,
    lo >>> 24,
    (lo >> 16) & 0xff,
    (lo >> 8) & 0xff,
    lo & 0xff,
  );
}

export function encode(v: CborItem): Uint8Array {
  if (v instanceof Raw) return v.bytes;
  if (v instanceof Uint8Array) return concat(head(2, v.length), v);
  if (typeof v === 'string') {
    const b = new TextEncoder().encode(v);
    return concat(head(3, b.length), b);
  }
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error('floats are not needed by the vectors');
    return v >= 0 ? head(0, v) : head(1, -1 - v);
  }
  if (typeof v === 'boolean') return Uint8Array.of(v ? 0xf5 : 0xf4);
  if (v === null) return Uint8Array.of(0xf6);
  if (Array.isArray(v)) return concat(head(4, v.length), ...v.map(encode));
  if (v instanceof Entries) return concat(head(5, v.entries.length), ...v.entries.flatMap(([k, x]) => [encode(k), encode(x)]));
  if (v instanceof Tag) return concat(head(6, v.tag), encode(v.value));
  throw new Error(`cannot encode ${String(v)}`);
}
