/** Test fixtures shared by the envelope tests (Node only). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { VouchErrorCode } from '@vouch/core';
import { request, type TestSigner, testSigner } from '@vouch/testing/envelope';
import { beforeAll, expect } from 'vitest';
import type { EnvelopeCodec } from '../index.js';

// The signers and the sign request are shared with the fuzz targets: @vouch/testing/envelope.
export { ALGORITHMS, EXPIRY, PAYLOAD, request, SIGNING_TIME, type TestSigner, testChainSigner, testSigner } from '@vouch/testing/envelope';

/**
 * ../shared/vectors, or undefined (with a visible notice) when absent; under CI=true absence
 * is a failure.
 */
export function vectorsDir(): string | undefined {
  const shared = resolve(process.env.VOUCH_SHARED_DIR ?? join(import.meta.dirname, '..', '..', '..', '..', '..', 'shared'));
  const dir = join(shared, 'vectors');
  if (existsSync(join(dir, 'index.json'))) return dir;
  const msg = `${dir}/index.json not found (set VOUCH_SHARED_DIR)`;
  if (process.env.CI === 'true') throw new Error(`${msg}; under CI=true the shared vectors are required`);
  console.warn(`NOTICE: ${msg}; upstream-vector tests skipped`);
  return undefined;
}

/** Expect `p` (a promise, or a function that may throw or return one) to fail with a VouchError of `code`. */
export async function expectCode(p: Promise<unknown> | (() => unknown), code: VouchErrorCode): Promise<void> {
  await expect(p).toRejectWithCode(code);
}

/** A signer and two good envelopes of a codec (notary.x509 and signingAuthority), made before the suite's tests. */
export interface GoodEnvelopes {
  ts: TestSigner;
  good: Uint8Array;
  goodSa: Uint8Array;
}

/** Register a beforeAll that signs {@link GoodEnvelopes} with an EC-256 signer; read them inside tests. */
export function goodEnvelopes(codec: EnvelopeCodec): GoodEnvelopes {
  const f = {} as GoodEnvelopes;
  beforeAll(async () => {
    f.ts = await testSigner('EC-256');
    f.good = await codec.sign(request(f.ts.signer));
    f.goodSa = await codec.sign(request(f.ts.signer, { signingScheme: 'notary.x509.signingAuthority' }));
  });
  return f;
}
