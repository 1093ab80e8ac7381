import { encodePem, isVouchError } from '@vouch/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestPki } from './builder.js';
import { parseCertificate, parseCertificates } from './certificate.js';
import { validateSigningChain } from './chain.js';
import type { Certificate } from './types.js';

let pki: TestPki;
let rsaPki: TestPki;
beforeAll(async () => {
  pki = await createTestPki({ keySpec: 'EC-256', ocspUrls: ['http://127.0.0.1/ocsp'], crlUrls: ['http://127.0.0.1/crl'] });
  rsaPki = await createTestPki({ keySpec: 'RSA-2048' });
});

/** Run `fn`; it must return or throw a VouchError (never another exception). */
function total<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!isVouchError(e)) throw new Error(`non-VouchError escaped: ${String(e)}`, { cause: e });
    return undefined;
  }
}

function checkModel(certs: Certificate[]): void {
  for (const c of certs) {
    expect(typeof c.subject).toBe('string');
    expect(c.sha256Fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(Number.isNaN(c.notBefore.getTime())).toBe(false);
    expect(Number.isNaN(c.notAfter.getTime())).toBe(false);
  }
}

/** Mutations of real DER: flip, overwrite, insert, delete and truncate at random positions. */
const mutation = (der: Uint8Array) =>
  fc
    .array(
      fc.record({
        op: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate'),
        pos: fc.nat({ max: der.length - 1 }),
        byte: fc.integer({ min: 0, max: 255 }),
      }),
      { minLength: 1, maxLength: 6 },
    )
    .map((ops) => {
      let b = Array.from(der);
      for (const { op, pos, byte } of ops) {
        const p = Math.min(pos, Math.max(0, b.length - 1));
        if (op === 'flip') b[p] = (b[p] ?? 0) ^ (1 << (byte & 7));
        else if (op === 'set') b[p] = byte;
        else if (op === 'insert') b.splice(p, 0, byte);
        else if (op === 'delete') b.splice(p, 1);
        else b = b.slice(0, p);
      }
      return new Uint8Array(b);
    });

describe('parseCertificates never throws anything but VouchError', () => {
  it('on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const r = total(() => parseCertificates(bytes));
        if (r) checkModel(r);
      }),
      { numRuns: 2000 },
    );
  });

  it('on arbitrary strings, including PEM-looking ones', () => {
    const pemish = fc
      .tuple(fc.constantFrom('CERTIFICATE', 'PRIVATE KEY', 'X'), fc.base64String({ maxLength: 400 }), fc.string({ maxLength: 40 }))
      .map(([label, body, junk]) => `${junk}-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n${junk}`);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 500 }), pemish), (s) => {
        const r = total(() => parseCertificates(s));
        if (r) checkModel(r);
      }),
      { numRuns: 2000 },
    );
  });

  it('on DER-shaped input (random TLV trees)', () => {
    const tlv = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc
          .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 }))
          .map(([t, v]) => Uint8Array.from([t & 0xdf, v.length, ...v])),
        fc.tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0xa3), fc.array(tie('node'), { maxLength: 4 })).map(([t, kids]) => {
          const body = kids.flatMap((k) => Array.from(k as Uint8Array));
          return body.length < 128
            ? Uint8Array.from([t, body.length, ...body])
            : Uint8Array.from([t, 0x82, body.length >> 8, body.length & 0xff, ...body]);
        }),
      ),
    }));
    fc.assert(
      fc.property(tlv.node, (bytes) => {
        total(() => parseCertificate(bytes as Uint8Array));
      }),
      { numRuns: 2000 },
    );
  });

  it('on randomly mutated real certificates (EC and RSA), and chain validation of what still parses', async () => {
    const originals = [...pki.chain, ...rsaPki.chain].map((c) => c.der);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...originals.keys()).chain((i) => mutation(originals[i]!).map((m) => [i, m] as const)),
        async ([i, mutated]) => {
          const parsed = total(() => parseCertificates(mutated));
          if (!parsed) return;
          checkModel(parsed);
          const chain = i < 3 ? pki.chain : rsaPki.chain;
          const idx = i % 3;
          const candidate = chain.map((c, k) => (k === idx ? parsed[0]! : c));
          try {
            await validateSigningChain(candidate);
          } catch (e) {
            if (!isVouchError(e)) throw e;
          }
        },
      ),
      { numRuns: 600 },
    );
  });

  it('on mutated PEM text', () => {
    const pem = encodePem('CERTIFICATE', pki.leaf.certificate.der);
    fc.assert(
      fc.property(fc.nat({ max: pem.length - 1 }), fc.string({ maxLength: 3 }), (pos, ins) => {
        total(() => parseCertificates(pem.slice(0, pos) + ins + pem.slice(pos + 1)));
      }),
      { numRuns: 1000 },
    );
  });
});
