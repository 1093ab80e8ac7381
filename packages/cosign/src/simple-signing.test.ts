import { isVouchError, utf8 } from '@vouch/core';
import { fromUtf8 } from '@vouch/core/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSimpleSigning } from './index.js';
import { buildSimpleSigning, checkSimpleSigningClaims, missingAnnotations } from './simple-signing.js';

const DIGEST = `sha256:${'62819fc8d0edd5e6271e5637907b9515742ede6dfbc855927f9b9f084d3a2c99'}`;

// written by cosign 2.5.0 `sign --key` (the layer of a .sig tag)
const COSIGN_PAYLOAD =
  '{"critical":{"identity":{"docker-reference":"127.0.0.1:5731/t/img"},"image":{"docker-manifest-digest":"sha256:62819fc8d0edd5e6271e5637907b9515742ede6dfbc855927f9b9f084d3a2c99"},"type":"cosign container image signature"},"optional":null}';

describe('simple-signing payload', () => {
  it("reads cosign's payload, and vouch writes the same bytes for the same claim", () => {
    const p = parseSimpleSigning(utf8(COSIGN_PAYLOAD));
    expect(p).toEqual({
      dockerReference: '127.0.0.1:5731/t/img',
      dockerManifestDigest: DIGEST,
      type: 'cosign container image signature',
      optional: null,
    });
    expect(fromUtf8(buildSimpleSigning({ dockerReference: '127.0.0.1:5731/t/img', digest: DIGEST }))).toBe(COSIGN_PAYLOAD);
  });

  it('annotations go to "optional", keys sorted as Go writes a map', () => {
    const bytes = buildSimpleSigning({ dockerReference: 'r/x', digest: DIGEST, annotations: { b: '2', a: '1' } });
    expect(fromUtf8(bytes)).toContain('"optional":{"a":"1","b":"2"}');
    const p = parseSimpleSigning(bytes);
    expect(() => checkSimpleSigningClaims(p, { digest: DIGEST, annotations: { a: '1' } })).not.toThrow();
    expect(() => checkSimpleSigningClaims(p, { digest: DIGEST, annotations: { a: '2' } })).toThrowWithCode('ERR_USER_METADATA_MISMATCH');
    expect(() => checkSimpleSigningClaims(p, { digest: DIGEST, annotations: { c: '1' } })).toThrowWithCode('ERR_USER_METADATA_MISMATCH');
    expect(missingAnnotations(null, { a: '1' })).toEqual(['a=1']);
  });

  it('the digest claim must be the image digest', () => {
    const p = parseSimpleSigning(utf8(COSIGN_PAYLOAD));
    const other = `sha256:${'0'.repeat(64)}`;
    expect(() => checkSimpleSigningClaims(p, { digest: other })).toThrowWithCode('ERR_ARTIFACT_MISMATCH');
  });

  it('GAP: another type, unknown critical fields or a missing claim are refused', () => {
    const doc = () => JSON.parse(COSIGN_PAYLOAD) as { critical: Record<string, unknown>; optional: unknown };
    const cases: [string, (d: ReturnType<typeof doc>) => void][] = [
      ['type', (d) => (d.critical.type = 'atomic container signature')],
      ['extra critical', (d) => (d.critical.extra = 1)],
      ['extra image', (d) => ((d.critical.image as Record<string, unknown>).x = 1)],
      ['no digest', (d) => delete (d.critical.image as Record<string, unknown>)['docker-manifest-digest']],
      ['bad digest', (d) => ((d.critical.image as Record<string, unknown>)['docker-manifest-digest'] = 'sha256:xyz')],
      ['no identity', (d) => delete d.critical.identity],
      ['optional array', (d) => (d.optional = [])],
    ];
    for (const [name, mutate] of cases) {
      const d = doc();
      mutate(d);
      expect(() => parseSimpleSigning(utf8(JSON.stringify(d))), name).toThrowWithCode('ERR_ENVELOPE_MALFORMED');
    }
  });
});

describe('property: simple-signing parser', () => {
  const annotation = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 });
  const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(''));

  it('build → parse is the identity on (reference, digest, annotations)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), hex, annotation, (ref, h, ann) => {
        const digest = `sha256:${h}`;
        const p = parseSimpleSigning(buildSimpleSigning({ dockerReference: ref, digest, annotations: ann }));
        expect(p.dockerReference).toBe(ref);
        expect(p.dockerManifestDigest).toBe(digest);
        expect(p.optional ?? {}).toEqual(ann);
        expect(missingAnnotations(p.optional, ann)).toEqual([]);
        checkSimpleSigningClaims(p, { digest, annotations: ann });
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary JSON or bytes: parses or throws ERR_ENVELOPE_MALFORMED, nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue().map((v) => utf8(JSON.stringify(v))),
          fc.uint8Array({ maxLength: 200 }),
        ),
        (bytes) => {
          const parse = () => parseSimpleSigning(bytes);
          try {
            parse();
          } catch {
            expect(parse).toThrowWithCode('ERR_ENVELOPE_MALFORMED');
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('any single changed character of the digest claim is caught by the claim check or the parser', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 63 }), fc.constantFrom(...'0123456789abcdefX'), (i, c) => {
        const h = DIGEST.slice(7);
        fc.pre(h[i] !== c);
        const tampered = COSIGN_PAYLOAD.replace(h, h.slice(0, i) + c + h.slice(i + 1));
        let error: unknown;
        try {
          checkSimpleSigningClaims(parseSimpleSigning(utf8(tampered)), { digest: DIGEST });
        } catch (e) {
          error = e;
        }
        expect(isVouchError(error) ? error.code : error).toBeOneOf(['ERR_ARTIFACT_MISMATCH', 'ERR_ENVELOPE_MALFORMED']);
      }),
      { numRuns: 200 },
    );
  });
});
