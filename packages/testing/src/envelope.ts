/**
 * @vouch/testing/envelope: signers and a sign request for the envelope tests and the fuzz targets —
 * self-signed certificates per key spec and a leaf → intermediate → root chain, memoised.
 */
import type { KeySpec, SignatureAlgorithm } from '@vouch/core';
import { localRawSigner, type NotaryPayload, type RawSigner, type SignRequest } from '@vouch/envelope';
import { type Certificate, createTestPki, generateTestCertificate } from '@vouch/x509';

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
