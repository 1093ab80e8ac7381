import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thrownBy } from '../test/throws.js';
import * as asn1 from './index.js';

/** A value as the tests build it: primitive contents or constructed children. */
type Tree = { tag: number; value: Uint8Array } | { tag: number; children: Tree[] };

const PRIMITIVE_TAGS = [asn1.TAG.BOOLEAN, asn1.TAG.INTEGER, asn1.TAG.OCTET_STRING, asn1.TAG.NULL, asn1.TAG.UTF8_STRING, 0x80, 0x81, 0x9e];
const CONSTRUCTED_TAGS = [asn1.TAG.SEQUENCE, asn1.TAG.SET, 0xa0, 0xa3, 0xbe];

const trees: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ tag: fc.constantFrom(...PRIMITIVE_TAGS), value: fc.uint8Array({ maxLength: 300 }) }),
    fc.record({ tag: fc.constantFrom(...CONSTRUCTED_TAGS), children: fc.array(tie('tree'), { maxLength: 5 }) }),
  ),
})).tree;

/** DER, in the children's order (SET OF sorting is encSet's job, not the reader's). */
function encode(t: Tree): Uint8Array {
  return 'value' in t ? asn1.tlv(t.tag, t.value) : asn1.tlv(t.tag, ...t.children.map(encode));
}

/** The same value with every constructed node in BER indefinite-length form. */
function encodeIndefinite(t: Tree): Uint8Array {
  if ('value' in t) return encode(t);
  const parts = t.children.map(encodeIndefinite);
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(2 + n + 2);
  out[0] = t.tag;
  out[1] = 0x80;
  let o = 2;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out; // the last two bytes stay 00 00 (end-of-contents)
}

function expectSame(node: asn1.Asn1Node, t: Tree): void {
  expect(node.tag).toBe(t.tag);
  if ('value' in t) {
    expect(node.constructed).toBe(false);
    expect(node.value).toEqual(t.value);
    return;
  }
  expect(node.constructed).toBe(true);
  expect(node.children.length).toBe(t.children.length);
  for (const [i, c] of node.children.entries()) expectSame(c, t.children[i]!);
}

/** Rebuild DER from a decoded tree: what was read writes back byte for byte. */
function reencode(n: asn1.Asn1Node): Uint8Array {
  return n.constructed ? asn1.tlv(n.tag, ...n.children.map(reencode)) : asn1.tlv(n.tag, n.value);
}

/** Visit every node (what a parser built on the reader may do with arbitrary input). */
function walk(n: asn1.Asn1Node): number {
  let count = 1;
  if (n.constructed) for (const c of n.children) count += walk(c);
  return count;
}

const asn1ErrorOf = (f: () => unknown) => thrownBy(asn1.Asn1Error, f);

/** Re-encode a definite length in long form with `extra` leading zero octets (non-minimal). */
function longLength(der: Uint8Array, extra: number): Uint8Array {
  const node = asn1.readTlv(der, 0);
  const header = node.raw.length - node.value.length;
  const len = node.value.length;
  const lenBytes: number[] = [];
  for (let x = len; x > 0; x = Math.floor(x / 256)) lenBytes.unshift(x & 0xff);
  for (let i = 0; i < extra; i++) lenBytes.unshift(0);
  if (lenBytes.length === 0) lenBytes.push(0);
  const head = [der[0]!, 0x80 | lenBytes.length, ...lenBytes];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  out.set(der.subarray(header), head.length);
  return out;
}

const modes: asn1.Asn1Encoding[] = ['der', 'ber'];

/** In both modes: the bytes decode (and every node can be visited) or an Asn1Error says why not. */
function decodesOrRefuses(bytes: Uint8Array): void {
  for (const encoding of modes) {
    try {
      walk(asn1.decode(bytes, { encoding }));
    } catch (e) {
      expect(e).toBeInstanceOf(asn1.Asn1Error);
    }
  }
}

describe('@vouch/core/asn1: properties of the reader and writer', () => {
  it('round-trips any tree: asn1.decode(encode(t)) is t, and re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(trees, (t) => {
        const der = encode(t);
        for (const encoding of modes) {
          const node = asn1.decode(der, { encoding });
          expectSame(node, t);
          expect(reencode(node)).toEqual(der);
          expect(node.raw).toEqual(der);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('writes minimal lengths for every size and reads them back', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 70_000 })), (len) => {
        const der = asn1.encOctets(new Uint8Array(len).fill(7));
        const header = der.length - len;
        const expected = len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5;
        expect(header).toBe(expected);
        expect(asn1.readOctets(asn1.decode(der))).toHaveLength(len);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses non-minimal lengths in DER and accepts them in BER', () => {
    fc.assert(
      fc.property(trees, fc.integer({ min: 0, max: 2 }), (t, extra) => {
        const der = encode(t);
        const len = asn1.readTlv(der).value.length;
        if (extra === 0 && len >= 0x80) return; // already the minimal long form
        const loose = longLength(der, extra);
        expect(asn1ErrorOf(() => asn1.decode(loose)).message).toMatch(/non-minimal length/);
        const node = asn1.decode(loose, { encoding: 'ber' });
        expect(node.tag).toBe(t.tag);
        expect(node.value).toEqual(asn1.readTlv(der).value);
      }),
      { numRuns: 200 },
    );
  });

  it('reads BER indefinite lengths only in BER mode, as the same tree', () => {
    const constructed = trees.filter((t) => 'children' in t);
    fc.assert(
      fc.property(constructed, (t) => {
        const ber = encodeIndefinite(t);
        expect(asn1ErrorOf(() => asn1.decode(ber)).message).toMatch(/indefinite length is not allowed in DER/);
        const node = asn1.decode(ber, { encoding: 'ber' });
        expectSame(node, t);
        expect(node.raw).toEqual(ber);
        // what was read in BER writes back as the DER of the same value
        expect(reencode(node)).toEqual(encode(t));
      }),
      { numRuns: 200 },
    );
  });

  it('joins BER constructed OCTET STRING segments; DER refuses them', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }), (segments) => {
        const constructed = asn1.tlv(0x24, ...segments.map((s) => asn1.encOctets(s)));
        const joined = new Uint8Array(segments.reduce((n, s) => n + s.length, 0));
        let o = 0;
        for (const s of segments) {
          joined.set(s, o);
          o += s.length;
        }
        expect(asn1.readOctets(asn1.decode(constructed, { encoding: 'ber' }))).toEqual(joined);
        expect(asn1.stringContent(asn1.decode(constructed, { encoding: 'ber' }))).toEqual(joined);
        expect(asn1ErrorOf(() => asn1.readOctets(asn1.decode(constructed))).message).toMatch(/constructed string is not allowed in DER/);
      }),
    );
  });

  it('throws only Asn1Error on arbitrary bytes, in both modes, and terminates', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        decodesOrRefuses(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('throws only Asn1Error when a valid encoding is mutated', () => {
    fc.assert(
      fc.property(trees, fc.nat(), fc.integer({ min: 0, max: 255 }), (t, at, byte) => {
        const bytes = encode(t).slice();
        bytes[at % bytes.length] = byte;
        decodesOrRefuses(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses every truncation of a valid encoding', () => {
    fc.assert(
      fc.property(trees, fc.nat(), (t, cut) => {
        const der = encode(t);
        const prefix = der.subarray(0, cut % der.length);
        for (const encoding of modes) asn1ErrorOf(() => walk(asn1.decode(prefix, { encoding })));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses trailing bytes in decode; readTlv reads the value that starts at an offset', () => {
    fc.assert(
      fc.property(trees, fc.uint8Array({ minLength: 1, maxLength: 10 }), (t, tail) => {
        const der = encode(t);
        const both = new Uint8Array(der.length + tail.length);
        both.set(der);
        both.set(tail, der.length);
        expect(asn1ErrorOf(() => asn1.decode(both)).message).toMatch(/trailing data/);
        expect(asn1.readTlv(both, 0).raw).toEqual(der);
        const shifted = new Uint8Array(3 + der.length);
        shifted.set(der, 3);
        expect(asn1.readTlv(shifted, 3).raw).toEqual(der);
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips INTEGERs of any size and sign, minimally encoded', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }), (v) => {
        const der = asn1.encInt(v);
        const node = asn1.decode(der);
        expect(asn1.readInteger(node)).toBe(v);
        const c = node.value;
        // minimal: no redundant leading 0x00 or 0xff
        if (c.length > 1) expect((c[0] === 0 && !(c[1]! & 0x80)) || (c[0] === 0xff && !!(c[1]! & 0x80))).toBe(false);
        if (v >= -(2n ** 47n) && v < 2n ** 47n) expect(asn1.readSmallInt(node)).toBe(Number(v));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses non-minimal INTEGERs in DER and reads them in BER', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 100n), max: 1n << 100n }), (v) => {
        const c = asn1.decode(asn1.encInt(v)).value;
        const padded = asn1.tlv(asn1.TAG.INTEGER, new Uint8Array([v < 0n ? 0xff : 0x00]), c);
        expect(asn1ErrorOf(() => asn1.readInteger(asn1.decode(padded))).message).toMatch(/not minimally encoded/);
        expect(asn1.readInteger(asn1.decode(padded, { encoding: 'ber' }))).toBe(v);
      }),
      { numRuns: 300 },
    );
  });

  it('encodes unsigned magnitudes with a sign octet only when needed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (m) => {
        let x = 0n;
        for (const b of m) x = (x << 8n) | BigInt(b);
        expect(asn1.readInteger(asn1.decode(asn1.encInt(m)))).toBe(x);
        expect(asn1.encInt(m)).toEqual(asn1.encInt(x));
      }),
    );
  });

  it('round-trips OBJECT IDENTIFIERs, large arcs included, and refuses non-minimal arcs', () => {
    const oids = fc
      .tuple(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 39 }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 40 })), { maxLength: 8 }),
      )
      .map(([a, b, rest]) => [a, a === 2 ? b + 1000 : b, ...rest].join('.'));
    fc.assert(
      fc.property(oids, (oid) => {
        const der = asn1.encOid(oid);
        expect(asn1.readOid(asn1.decode(der))).toBe(oid);
        const c = asn1.decode(der).value;
        const padded = asn1.tlv(asn1.TAG.OID, new Uint8Array([0x80]), c);
        expect(asn1ErrorOf(() => asn1.readOid(asn1.decode(padded))).message).toMatch(/non-minimal/);
      }),
      { numRuns: 300 },
    );
    expect(asn1.readOid(asn1.decode(asn1.encOid('2.25.329800735698586629295641978511506172918')))).toBe(
      '2.25.329800735698586629295641978511506172918',
    );
  });

  it('round-trips times to the second (UTCTime 1950-2049, GeneralizedTime otherwise)', () => {
    const dates = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
    fc.assert(
      fc.property(dates, (d) => {
        const whole = new Date(Math.floor(d.getTime() / 1000) * 1000);
        const der = asn1.encTime(whole);
        const y = whole.getUTCFullYear();
        expect(der[0]).toBe(y >= 1950 && y < 2050 ? asn1.TAG.UTC_TIME : asn1.TAG.GENERALIZED_TIME);
        expect(asn1.readTime(asn1.decode(der)).getTime()).toBe(whole.getTime());
      }),
      { numRuns: 300 },
    );
  });

  it('sorts SET OF by encoding (DER) and keeps SEQUENCE order', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 6 }), { maxLength: 6 }), (items) => {
        const encoded = items.map((i) => asn1.encOctets(i));
        const set = asn1.seq(asn1.decode(asn1.encSeq(asn1.encSet(...encoded))), 'outer')[0]!;
        const raws = set.children.map((c) => Array.from(c.raw).join(','));
        const sorted = [...encoded].sort((a, b) => {
          for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
          return a.length - b.length;
        });
        expect(raws).toEqual(sorted.map((e) => Array.from(e).join(',')));
      }),
    );
  });
});

describe('@vouch/core/asn1: the DER rules, case by case', () => {
  it('BOOLEAN: DER takes 0x00 and 0xff only; BER takes any non-zero octet as TRUE', () => {
    expect(asn1.readBoolean(asn1.decode(asn1.encBool(true)))).toBe(true);
    expect(asn1.readBoolean(asn1.decode(asn1.encBool(false)))).toBe(false);
    const loose = new Uint8Array([asn1.TAG.BOOLEAN, 1, 0x01]);
    expect(asn1ErrorOf(() => asn1.readBoolean(asn1.decode(loose))).message).toMatch(/not DER-encoded/);
    expect(asn1.readBoolean(asn1.decode(loose, { encoding: 'ber' }))).toBe(true);
    asn1ErrorOf(() => asn1.readBoolean(asn1.decode(new Uint8Array([asn1.TAG.BOOLEAN, 2, 0xff, 0xff]))));
  });

  it('BIT STRING: unused bits within 0..7 and zero in DER', () => {
    expect(asn1.readBitString(asn1.decode(asn1.encBitString(new Uint8Array([0b1010_0000]), 5)))).toEqual({
      unused: 5,
      bytes: new Uint8Array([0xa0]),
    });
    const dirty = asn1.tlv(asn1.TAG.BIT_STRING, new Uint8Array([3, 0b1010_0001]));
    expect(asn1ErrorOf(() => asn1.readBitString(asn1.decode(dirty))).message).toMatch(/padding bits are not zero/);
    expect(asn1.readBitString(asn1.decode(dirty, { encoding: 'ber' })).unused).toBe(3);
    asn1ErrorOf(() => asn1.readBitString(asn1.decode(asn1.tlv(asn1.TAG.BIT_STRING, new Uint8Array([8, 0])))));
    asn1ErrorOf(() => asn1.readBitString(asn1.decode(asn1.tlv(asn1.TAG.BIT_STRING, new Uint8Array([1])))));
  });

  it('tags: high tag numbers read as tagNumber with tag -1; non-minimal tag forms are refused in both modes', () => {
    const high = new Uint8Array([0x9f, 0x1f, 0x01, 0xaa]); // [31] primitive
    const n = asn1.decode(high);
    expect([n.tag, n.cls, n.tagNumber, n.constructed]).toEqual([-1, 2, 31, false]);
    expect(asn1.isContext(n, 31)).toBe(true);
    for (const encoding of modes) {
      expect(asn1ErrorOf(() => asn1.decode(new Uint8Array([0x9f, 0x80, 0x1f, 0x00]), { encoding })).message).toMatch(/non-minimal tag/);
      expect(asn1ErrorOf(() => asn1.decode(new Uint8Array([0x9f, 0x05, 0x00]), { encoding })).message).toMatch(/non-minimal tag/);
    }
  });

  it('isContext narrows to a defined context-specific node', () => {
    const [a, b] = asn1.seq(
      asn1.decode(
        asn1.encSeq(asn1.tlv(asn1.contextTag(0, true), asn1.encInt(5)), asn1.tlv(asn1.contextTag(2, false), new Uint8Array([1]))),
      ),
      's',
    );
    expect(asn1.isContext(a, 0) && asn1.readSmallInt(a.children[0])).toBe(5);
    expect(asn1.isContext(b, 2) && b.value[0]).toBe(1);
    expect(asn1.isContext(b, 0)).toBe(false);
    expect(asn1.isContext(undefined, 0)).toBe(false);
  });

  it('children of a primitive value, and a missing or mistagged value, are Asn1Errors naming what was expected', () => {
    expect(asn1ErrorOf(() => asn1.decode(asn1.encInt(1)).children).message).toMatch(/constructed/);
    expect(asn1ErrorOf(() => asn1.seq(undefined, 'TBSCertificate')).message).toBe('TBSCertificate: missing');
    expect(asn1ErrorOf(() => asn1.seq(asn1.decode(asn1.encInt(1)), 'Name')).message).toMatch(/^Name: expected tag 0x30, found 0x2/);
  });

  it('bounds nesting: deep definite nesting fails when walked, deep indefinite nesting fails to decode', () => {
    let deep = asn1.encInt(0);
    for (let i = 0; i < 100; i++) deep = asn1.encSeq(deep);
    expect(asn1ErrorOf(() => walk(asn1.decode(deep))).message).toMatch(/nesting too deep/);
    const indefinite = new Uint8Array(100 * 4);
    for (let i = 0; i < 100; i++) {
      indefinite[2 * i] = 0x30;
      indefinite[2 * i + 1] = 0x80;
    }
    expect(asn1ErrorOf(() => asn1.decode(indefinite, { encoding: 'ber' })).message).toMatch(/nesting too deep/);
  });

  it('indefinite length on a primitive value is refused even in BER', () => {
    expect(asn1ErrorOf(() => asn1.decode(new Uint8Array([0x04, 0x80, 0x00, 0x00]), { encoding: 'ber' })).message).toMatch(/primitive/);
  });

  it('times: UTC with seconds, real calendar days, fractions kept to the millisecond', () => {
    const gen = (s: string) => asn1.decode(asn1.tlv(asn1.TAG.GENERALIZED_TIME, new TextEncoder().encode(s)));
    const utc = (s: string) => asn1.decode(asn1.tlv(asn1.TAG.UTC_TIME, new TextEncoder().encode(s)));
    expect(asn1.readTime(gen('20240229235959.1234Z')).toISOString()).toBe('2024-02-29T23:59:59.123Z');
    expect(asn1.readTime(utc('491231235959Z')).getUTCFullYear()).toBe(2049);
    expect(asn1.readTime(utc('500101000000Z')).getUTCFullYear()).toBe(1950);
    expect(asn1.readTime(gen('00500101000000Z')).getUTCFullYear()).toBe(50);
    for (const bad of ['20230229000000Z', '20241301000000Z', '202401010000Z', '20240101000000+0100', '20240101240000Z']) {
      asn1ErrorOf(() => asn1.readTime(gen(bad)));
    }
    asn1ErrorOf(() => asn1.readTime(asn1.decode(asn1.encInt(1))));
  });

  it('writer guards: identifier octets, context tags, OIDs, BIT STRING padding', () => {
    asn1ErrorOf(() => asn1.tlv(0x1f));
    asn1ErrorOf(() => asn1.contextTag(31, false));
    for (const bad of ['1', '3.1', '1.40', '1.2.x', '1.02']) asn1ErrorOf(() => asn1.encOid(bad));
    asn1ErrorOf(() => asn1.encBitString(new Uint8Array(0), 1));
    asn1ErrorOf(() => asn1.encInt(2 ** 60));
  });
});
