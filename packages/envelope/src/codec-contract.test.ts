/**
 * The contract every envelope codec keeps, run over both (JWS and COSE): sign → parse →
 * verifyIntegrity for each algorithm and signing scheme, timestamps, the signing checks, the
 * size limit and integrity of a parsed envelope. What only one format has (its byte layout, its
 * parse rules on mutated bytes, upstream vectors) stays in jws/jws.test.ts and cose/cose.test.ts.
 */
import { utf8 } from '@vouch/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cose } from './cose/index.js';
import type { EnvelopeCodec, RawSigner } from './index.js';
import { jws } from './jws/index.js';
import { ALGORITHMS, EXPIRY, expectCode, PAYLOAD, request, type TestSigner, testChainSigner, testSigner } from './test/fixtures.js';

const CODECS: [string, EnvelopeCodec, string][] = [
  ['jws', jws, 'application/jose+json'],
  ['cose', cose, 'application/cose'],
];

describe.each(CODECS)('%s: sign → parse → verifyIntegrity', (_name, codec, mediaType) => {
  it.each(ALGORITHMS)('%s round trip (notary.x509, expiry, agent)', async (alg, spec) => {
    const ts = await testSigner(spec);
    const env = codec.parse(await codec.sign(request(ts.signer)));
    await codec.verifyIntegrity(env);
    expect(env.mediaType).toBe(mediaType);
    expect(env.algorithm).toBe(alg);
    expect(env.payload).toEqual(PAYLOAD);
    expect(env.payloadContentType).toBe('application/vnd.cncf.notary.payload.v1+json');
    expect(env.signedAttributes.signingScheme).toBe('notary.x509');
    expect(env.signedAttributes.signingTime?.toISOString()).toBe('2024-05-01T10:20:30.000Z');
    expect(env.signedAttributes.expiry?.getTime()).toBe(EXPIRY.getTime());
    expect(env.signedAttributes.authenticSigningTime).toBeUndefined();
    expect(env.unsignedAttributes.signingAgent).toBe('vouch-test/1.0.0');
    expect(env.certificateChain.map((c) => c.sha256Fingerprint)).toEqual([ts.certificate.sha256Fingerprint]);
    // ECDSA signatures are fixed-width r||s, not DER.
    if (alg.startsWith('ES')) expect(env.signature.length).toBe({ ES256: 64, ES384: 96, ES512: 132 }[alg as 'ES256']);
  });

  it.each(ALGORITHMS)('%s round trip (signingAuthority: authenticSigningTime, no signingTime)', async (_alg, spec) => {
    const ts = await testSigner(spec);
    const env = codec.parse(await codec.sign(request(ts.signer, { signingScheme: 'notary.x509.signingAuthority' })));
    await codec.verifyIntegrity(env);
    expect(env.signedAttributes.authenticSigningTime?.toISOString()).toBe('2024-05-01T10:20:30.000Z');
    expect(env.signedAttributes.signingTime).toBeUndefined();
  });

  it('carries a whole certificate chain, leaf first', async () => {
    const ts = await testChainSigner();
    const env = codec.parse(await codec.sign(request(ts.signer)));
    await codec.verifyIntegrity(env);
    expect(env.certificateChain.map((c) => c.sha256Fingerprint)).toEqual(ts.chain.map((c) => c.sha256Fingerprint));
  });

  it('drops artifactType/urls/platform from the signed descriptor, as notation does', async () => {
    const ts = await testSigner('EC-256');
    const targetArtifact = { ...PAYLOAD.targetArtifact, artifactType: 'x/y', urls: ['https://x'], platform: { os: 'linux' } };
    const bytes = await codec.sign(request(ts.signer, { payload: { targetArtifact } }));
    expect(codec.parse(bytes).payload.targetArtifact).toEqual(PAYLOAD.targetArtifact);
  });
});

describe.each(CODECS)('%s: timestamps', (_name, codec) => {
  it('calls the timestamper with the signature and the algorithm, and carries the token', async () => {
    const ts = await testSigner('RSA-3072');
    const token = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]);
    let seen: { sig: Uint8Array; alg: string } | undefined;
    const bytes = await codec.sign(
      request(ts.signer, {
        timestamper: async (sig, alg) => {
          seen = { sig, alg };
          return token;
        },
      }),
    );
    const env = codec.parse(bytes);
    await codec.verifyIntegrity(env);
    expect(seen?.alg).toBe('PS384');
    expect(seen?.sig).toEqual(env.signature);
    expect(env.unsignedAttributes.timestampSignature).toEqual(token);
  });

  it('attachTimestamp adds or replaces the token and keeps the signed bytes', async () => {
    const ts = await testSigner('EC-384');
    const bytes = await codec.sign(request(ts.signer));
    const before = codec.parse(bytes);
    const out = codec.attachTimestamp(bytes, new Uint8Array([1, 2, 3]));
    const after = codec.parse(out);
    await codec.verifyIntegrity(after);
    expect([after.toBeSigned, after.payloadBytes, after.signature]).toEqual([before.toBeSigned, before.payloadBytes, before.signature]);
    expect(after.unsignedAttributes).toEqual({ signingAgent: 'vouch-test/1.0.0', timestampSignature: new Uint8Array([1, 2, 3]) });
    const again = codec.parse(codec.attachTimestamp(out, new Uint8Array([9])));
    expect(again.unsignedAttributes.timestampSignature).toEqual(new Uint8Array([9]));
    await expectCode(() => codec.attachTimestamp(bytes, new Uint8Array(0)), 'ERR_INVALID_ARGUMENT');
  });

  it('a failing timestamper aborts signing; signingAuthority cannot be timestamped', async () => {
    const ts = await testSigner('EC-256');
    const failing = async (): Promise<Uint8Array> => {
      throw new Error('TSA down');
    };
    await expectCode(codec.sign(request(ts.signer, { timestamper: failing })), 'ERR_TIMESTAMP_INVALID');
    await expectCode(codec.sign(request(ts.signer, { timestamper: async () => new Uint8Array(0) })), 'ERR_TIMESTAMP_INVALID');
    const sa = { signingScheme: 'notary.x509.signingAuthority' } as const;
    await expectCode(codec.sign(request(ts.signer, { ...sa, timestamper: async () => new Uint8Array([1]) })), 'ERR_INVALID_ARGUMENT');
    const saEnvelope = await codec.sign(request(ts.signer, sa));
    await expectCode(() => codec.attachTimestamp(saEnvelope, new Uint8Array([1])), 'ERR_INVALID_ARGUMENT');
  });
});

describe.each(CODECS)('%s: signing checks', (_name, codec) => {
  let ts: TestSigner;
  beforeAll(async () => {
    ts = await testSigner('EC-256');
  });

  it('a lying RAW signer is caught', async () => {
    const garbage: RawSigner = { ...ts.signer, sign: async () => new Uint8Array(64).fill(7) };
    await expectCode(codec.sign(request(garbage)), 'ERR_SIGNING_FAILED');
    // A valid ES256 signature, but by a key other than the certificate's.
    const kp = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const otherKey: RawSigner = {
      ...ts.signer,
      sign: async (tbs) => new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, kp.privateKey, tbs as BufferSource)),
    };
    await expectCode(codec.sign(request(otherKey)), 'ERR_SIGNING_FAILED');
  });

  it('rejects a signer whose algorithm differs from its certificate key, and signer errors', async () => {
    await expectCode(codec.sign(request({ ...ts.signer, algorithm: 'ES384' })), 'ERR_SIGNING_FAILED');
    const offline = async (): Promise<Uint8Array> => {
      throw new Error('HSM offline');
    };
    await expectCode(codec.sign(request({ ...ts.signer, sign: offline })), 'ERR_SIGNING_FAILED');
    await expectCode(codec.sign(request({ ...ts.signer, certificateChain: [] })), 'ERR_INVALID_ARGUMENT');
  });

  it.each([
    ['expiry equal to signing time (after truncation)', { expiry: new Date('2024-05-01T10:20:30.999Z') }],
    ['expiry before signing time', { expiry: new Date('2020-01-01T00:00:00Z') }],
    ['invalid signing time', { signingTime: new Date(Number.NaN) }],
    ['unknown scheme', { signingScheme: 'notary.other' as 'notary.x509' }],
    ['extended key = a Notary header', { extendedAttributes: [{ key: 'io.cncf.notary.expiry', value: 'x', critical: true }] }],
    ['extended key = signing agent', { extendedAttributes: [{ key: 'io.cncf.notary.signingAgent', value: 'x', critical: false }] }],
    [
      'duplicate extended key',
      {
        extendedAttributes: [
          { key: 'k', value: 1, critical: false },
          { key: 'k', value: 2, critical: false },
        ],
      },
    ],
    [
      'non-critical verification plugin',
      { extendedAttributes: [{ key: 'io.cncf.notary.verificationPlugin', value: 'p', critical: false }] },
    ],
    ['invalid descriptor', { payload: { targetArtifact: { mediaType: 'x', digest: 'nope', size: 1 } } }],
  ])('rejects a bad request: %s', async (_case, over) => {
    await expectCode(codec.sign(request(ts.signer, over)), 'ERR_INVALID_ARGUMENT');
  });
});

describe.each(CODECS)('%s: parse and integrity', (_name, codec) => {
  let good: Uint8Array;
  beforeAll(async () => {
    good = await codec.sign(request((await testSigner('RSA-2048')).signer));
  });

  it('rejects empty and oversized input before decoding', async () => {
    await expectCode(() => codec.parse(new Uint8Array(0)), 'ERR_ENVELOPE_MALFORMED');
    await expectCode(() => codec.parse(new Uint8Array(32 * 1024 * 1024 + 1)), 'ERR_SIZE_LIMIT_EXCEEDED');
    await expectCode(() => codec.parse('not bytes' as unknown as Uint8Array), 'ERR_INVALID_ARGUMENT');
  });

  it('each parse returns its own envelope: changing one does not change the next', async () => {
    const a = codec.parse(good);
    a.signature.fill(0);
    a.payloadBytes.fill(0);
    const b = codec.parse(good);
    await codec.verifyIntegrity(b);
  });

  it('a parsed envelope whose payload, signature or chain was swapped after parsing fails integrity', async () => {
    const env = codec.parse(good);
    await expectCode(codec.verifyIntegrity({ ...env, payloadBytes: utf8('{"targetArtifact":{}}') }), 'ERR_SIGNATURE_INTEGRITY');
    const signature = env.signature.slice();
    const byte = signature[10];
    if (byte === undefined) throw new Error(`a ${signature.length}-byte signature is too short for this test`);
    signature[10] = byte ^ 1;
    await expectCode(codec.verifyIntegrity({ ...env, signature }), 'ERR_SIGNATURE_INTEGRITY');
    await expectCode(codec.verifyIntegrity({ ...env, signature: env.signature.subarray(1) }), 'ERR_SIGNATURE_INTEGRITY');
    await expectCode(codec.verifyIntegrity({ ...env, certificateChain: [] }), 'ERR_SIGNATURE_INTEGRITY');
  });
});
