/**
 * Property tests: whatever bytes arrive, parse returns an envelope or throws a VouchError —
 * never another exception, never a hang — and verifyIntegrity likewise.
 */
import { isVouchError, utf8 } from '@vouch/core';
import { toBase64Url } from '@vouch/core/internal';
import { request, testSigner } from '@vouch/testing/envelope';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCbor } from './cose/cbor.js';
import { cose } from './cose/index.js';
import type { EnvelopeCodec } from './index.js';
import { jws } from './jws/index.js';

async function outcome(codec: EnvelopeCodec, bytes: Uint8Array): Promise<'ok' | 'rejected'> {
  try {
    const env = codec.parse(bytes);
    await codec.verifyIntegrity(env);
    return 'ok';
  } catch (e) {
    if (!isVouchError(e)) throw new Error(`non-VouchError escaped: ${String(e)}`, { cause: e });
    return 'rejected';
  }
}

/** Random edits of a valid envelope: byte flips, truncation, insertion, deletion. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(b: Uint8Array, ms: Mutation[]): Uint8Array {
  let out = b.slice();
  for (const m of ms) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    switch (m.kind) {
      case 'flip':
        if (out.length) out[at] = (out[at] as number) ^ (1 << m.bit);
        break;
      case 'set':
        if (out.length) out[at] = m.value;
        break;
      case 'truncate':
        out = out.slice(0, at);
        break;
      case 'insert': {
        const n = new Uint8Array(out.length + m.bytes.length);
        n.set(out.subarray(0, at));
        n.set(m.bytes, at);
        n.set(out.subarray(at), at + m.bytes.length);
        out = n;
        break;
      }
      case 'delete': {
        const head = out.subarray(0, at);
        const tail = out.subarray(Math.min(out.length, at + m.n));
        const n = new Uint8Array(head.length + tail.length);
        n.set(head);
        n.set(tail, head.length);
        out = n;
        break;
      }
    }
  }
  return out;
}

describe('property: parsers never throw anything but VouchError', () => {
  let goodJws: Uint8Array;
  let goodCose: Uint8Array;
  beforeAll(async () => {
    const ts = await testSigner('EC-256');
    goodJws = await jws.sign(request(ts.signer, { extendedAttributes: [{ key: 'x', value: { a: [1, 'b'] }, critical: true }] }));
    goodCose = await cose.sign(request(ts.signer, { extendedAttributes: [{ key: 'x', value: { a: [1, 'b'] }, critical: true }] }));
  });

  it('arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (b) => {
        await outcome(jws, b);
        await outcome(cose, b);
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary CBOR-ish bytes behind the COSE_Sign1 prefix', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (b) => {
        const withPrefix = new Uint8Array(b.length + 2);
        withPrefix.set([0xd2, 0x84]);
        withPrefix.set(b, 2);
        expect(await outcome(cose, withPrefix)).toBe('rejected');
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary JSON values and JWS-shaped objects', async () => {
    const b64 = fc.oneof(
      fc.string().map((s) => toBase64Url(utf8(s))),
      fc.jsonValue().map((v) => toBase64Url(utf8(JSON.stringify(v)))),
      fc.string(),
    );
    const shaped = fc.record(
      { payload: b64, protected: b64, header: fc.oneof(fc.object(), fc.jsonValue()), signature: b64 },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), shaped), async (v) => {
        expect(await outcome(jws, utf8(JSON.stringify(v) ?? 'null'))).toBe('rejected');
      }),
      { numRuns: 500 },
    );
  });

  it('mutated valid JWS envelopes', async () => {
    expect(await outcome(jws, goodJws)).toBe('ok');
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (ms) => {
        await outcome(jws, apply(goodJws, ms));
      }),
      { numRuns: 400 },
    );
  });

  it('mutated valid COSE envelopes', async () => {
    expect(await outcome(cose, goodCose)).toBe('ok');
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (ms) => {
        await outcome(cose, apply(goodCose, ms));
      }),
      { numRuns: 400 },
    );
  });

  it('the CBOR decoder on arbitrary input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), (b) => {
        try {
          decodeCbor(b, 'fuzz');
        } catch (e) {
          if (!isVouchError(e)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
