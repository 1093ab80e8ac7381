import type { AdmissionReview } from '@vouch/kyverno';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerParts, decodeReview, quickScan, scanJson } from './server.js';

/**
 * The byte-by-byte scan scanJson replaced (the reference its answers must equal): strings reading
 * `"image"` as written count, and so does every string of 6 to 30 bytes with an escape in it (it may
 * spell `image` with escapes, as `\u0069mage`).
 */
function byteByByte(bytes: Uint8Array, maxDepth: number): { tooDeep: boolean; imageStrings: number } {
  let depth = 0;
  let images = 0;
  let start = -1;
  let escaped = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (start >= 0) {
      if (c === 0x5c) {
        escaped = true;
        i++;
      } else if (c === 0x22) {
        const len = i - start - 1;
        if (new TextDecoder().decode(bytes.subarray(start, i + 1)) === '"image"' || (escaped && len > 5 && len <= 30)) images++;
        start = -1;
      }
    } else if (c === 0x22) {
      start = i;
      escaped = false;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return { tooDeep: true, imageStrings: images };
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return { tooDeep: false, imageStrings: images };
}

describe('scanJson', () => {
  it('answers as a byte-by-byte scan on JSON-like text with escapes, nesting and `image` strings (property)', () => {
    const piece = fc.constantFrom('"', '\\', '\\\\', '\\"', '[', ']', '{', '}', '"image"', 'image', '"images"', 'a', ':', ',', 'é', ' ');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 0, max: 6 }), (parts, max) => {
        const bytes = new TextEncoder().encode(parts.join(''));
        expect(scanJson(bytes, max)).toEqual(byteByByte(bytes, max));
      }),
      { numRuns: 3000, seed: 14 },
    );
  });

  it('counts the image fields of a real body and skips brackets inside strings', () => {
    const body = JSON.stringify({ a: '[[[', image: 'x', b: [{ image: 'y', c: 'say \\"image\\"' }] });
    // two `image` keys, and the short string with escapes (it might spell `image`): an upper bound
    expect(scanJson(new TextEncoder().encode(body), 3)).toEqual({ tooDeep: false, imageStrings: 3 });
  });
});

describe('quickScan', () => {
  it('answers as scanJson on JSON text without backslashes, and declines text with one (property)', () => {
    const withImages = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('image', 'images', 'x', '[{', '"', 'a\\b'),
        fc.integer(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.constantFrom('image', 'name', 'images', 'spec', 'x"y'), tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    fc.assert(
      fc.property(withImages, fc.integer({ min: 0, max: 8 }), (value, max) => {
        const text = JSON.stringify(value);
        const quick = quickScan(text, max);
        if (text.includes('\\')) expect(quick).toBeUndefined();
        else if (quick) expect(quick).toEqual(scanJson(new TextEncoder().encode(text), max));
        else expect(text.split(/[[{]/).length - 1).toBeGreaterThan(max); // declined only for many brackets
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('an `image` key written with escapes still counts, so a review cannot hide its images from the limit', () => {
    expect(scanJson(new TextEncoder().encode('{"\\u0069mage":"a"}'), 10).imageStrings).toBe(1);
    const containers = Array.from({ length: 3 }, (_, i) => `{"name":"c${i}","\\u0069mage":"registry.example.com/app:${i}"}`);
    const body = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":{"kind":"Pod","spec":{"containers":[${containers.join(',')}]}}}}`;
    expect(decodeReview(new TextEncoder().encode(body)).imageStrings).toBe(3);
  });
});

describe('answerParts', () => {
  const patch = btoa('x'.repeat(3000));
  const review = (response: Record<string, unknown>): AdmissionReview =>
    ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }) as unknown as AdmissionReview;
  it('is the UTF-8 of JSON.stringify byte for byte, whatever else the answer holds', () => {
    const cases = [
      review({ uid: 'u', allowed: true, patchType: 'JSONPatch', patch }),
      review({ uid: 'u"patch":""', allowed: true, patchType: 'JSONPatch', patch, warnings: ['"patch":""'] }),
      review({ uid: 'u', allowed: true, patchType: 'JSONPatch', patch, auditAnnotations: { patch: '' } }),
      review({ uid: 'u', allowed: true, patch: 'not base64 "quoted"'.repeat(100) }),
      review({ uid: 'u', allowed: true, patch: 'QUJD' }),
      review({ uid: 'u', allowed: false, status: { status: 'Failure', message: 'no' } }),
      review({ uid: 'ü-1', allowed: true, patchType: 'JSONPatch', patch, warnings: ['image “app” 🚫 — checked'] }),
    ];
    for (const r of cases) {
      const want = Buffer.from(JSON.stringify(r), 'utf8');
      expect(Buffer.concat(answerParts(r)).equals(want)).toBe(true);
      expect(Buffer.concat(answerParts(r)).equals(want)).toBe(true); // again, the patch known to be base64
    }
  });
});
