/** Test fixtures shared by the envelope tests (Node only). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hasCode, type KeySpec, type SignatureAlgorithm, type VouchErrorCode } from '@vouch/core';
import { type Certificate, createTestPki, generateTestCertificate } from '@vouch/x509';
import { beforeAll, expect } from 'vitest';
import { type EnvelopeCodec, localRawSigner, type NotaryPayload, type RawSigner, type SignRequest } from '../index.js';

/** The six algorithms and the key spec that implies each. */
export const ALGORITHMS: readonly (readonly [SignatureAlgorithm, KeySpec])[] = [
  ['PS256', 'RSA-2048'],
  ['PS384', 'RSA-3072'],
  ['PS512', 'RSA-4096'],
  ['ES256', 'EC-256'],
  ['ES384', 'EC-384'],
  ['ES512', 'EC-521'],
];

export interface TestSigner {
  certificate: Certificate;
  privateKey: CryptoKey;
  chain: Certificate[];
  signer: RawSigner;
}

const cache = new Map<string, Promise<TestSigner>>();

/** A self-signed code-signing certificate of `keySpec` with its key (memoised per spec). */
export function testSigner(keySpec: KeySpec): Promise<TestSigner> {
  let p = cache.get(keySpec);
  if (!p) {
    p = generateTestCertificate(`envelope ${keySpec}`, { keySpec, days: 30 }).then((g) => ({
      certificate: g.certificate,
      privateKey: g.privateKey,
      chain: [g.certificate],
      signer: localRawSigner(g.privateKey, [g.certificate]),
    }));
    cache.set(keySpec, p);
  }
  return p;
}

/** A signer whose chain is leaf → intermediate → root (EC P-256). */
export function testChainSigner(): Promise<TestSigner> {
  let p = cache.get('pki');
  if (!p) {
    p = createTestPki({ keySpec: 'EC-256', name: 'envelope' }).then((pki) => ({
      certificate: pki.leaf.certificate,
      privateKey: pki.leaf.privateKey,
      chain: pki.chain,
      signer: localRawSigner(pki.leaf.privateKey, pki.chain),
    }));
    cache.set('pki', p);
  }
  return p;
}

export const PAYLOAD: NotaryPayload = {
  targetArtifact: {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: 'sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333',
    size: 16724,
    annotations: { 'io.wabbit-networks.buildId': '123', '10': 'ten', '9': 'nine' },
  },
};

export const SIGNING_TIME = new Date('2024-05-01T10:20:30.789Z');
export const EXPIRY = new Date('2034-05-01T10:20:30Z');

/** A valid notary.x509 request with expiry and signing agent. */
export function request(signer: RawSigner, over: Partial<SignRequest> = {}): SignRequest {
  return {
    payload: PAYLOAD,
    signingScheme: 'notary.x509',
    signingTime: SIGNING_TIME,
    expiry: EXPIRY,
    signingAgent: 'vouch-test/1.0.0',
    signer,
    ...over,
  };
}

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
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toBeDefined();
  expect(hasCode(err, code), `expected ${code}, got ${(err as { code?: string })?.code}: ${(err as Error)?.message}`).toBe(true);
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
