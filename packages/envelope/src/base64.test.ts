import { utf8 } from '@vouch/core';
import { fromBase64Url, toBase64Url } from '@vouch/core/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Url, isBase64UrlOf } from './base64.js';

/** core's strict decoder as the reference: bytes, or undefined when it rejects the input. */
function reference(s: string): Uint8Array | undefined {
  try {
    return fromBase64Url(s);
  } catch {
    return undefined;
  }
}

describe('decodeBase64Url', () => {
  it('round-trips any bytes encoded by core', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        expect(decodeBase64Url(toBase64Url(b))).toEqual(b);
      }),
    );
  });

  it('accepts and rejects exactly what core accepts and rejects', () => {
    const chars = fc.constantFrom(...'AQgw_-+/=.Zz09 é\u0141\u0241\u0100'.split(''));
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 12 }), (cs) => {
        const s = cs.join('');
        expect(decodeBase64Url(s)).toEqual(reference(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects padding, the standard alphabet, stray trailing bits and a dangling character', () => {
    for (const s of ['QQ==', 'a+b/', 'QR', 'QUF', 'QUFBQ', 'QUJD\u0141']) expect(decodeBase64Url(s)).toBeUndefined();
    expect(decodeBase64Url('')).toEqual(new Uint8Array(0));
    expect(decodeBase64Url('QUJD')).toEqual(new Uint8Array([65, 66, 67]));
  });
});

describe('isBase64UrlOf', () => {
  it('is true exactly for the unpadded base64url encoding of the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), fc.nat(), (a, b, pos) => {
        const text = utf8(`x.${toBase64Url(a)}`);
        expect(isBase64UrlOf(a, text, 2, text.length)).toBe(true);
        expect(isBase64UrlOf(b, text, 2, text.length)).toBe(toBase64Url(a) === toBase64Url(b));
        if (text.length > 2) {
          const changed = text.slice();
          const i = 2 + (pos % (text.length - 2));
          changed[i] = changed[i] === 0x41 ? 0x42 : 0x41;
          expect(isBase64UrlOf(a, changed, 2, changed.length)).toBe(false);
        }
      }),
    );
  });
});
