import { digestOf, utf8, type VouchError } from '@vouch/core';
import { type EnvelopeCodec, localRawSigner, parsePayload } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { definePlugin, inProcessPlugin, type PluginDefinition, type PluginMetadata, signingAlgorithmForKeySpec } from '@vouch/plugin';
import { memoryTrustStore } from '@vouch/trust-policy';
import { createTestPki, keySpecOf, type TestPki } from '@vouch/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createBlobVerifier,
  digestBlob,
  formatFromSignatureFileName,
  pluginSigner,
  signatureFileName,
  signBlob,
  verifyBlob,
  verifyBlobDescriptor,
} from '../index.js';
import { compareBlobArtifact } from './verify.js';

let ec: TestPki;
let rsa384: TestPki;
let other: TestPki;
beforeAll(async () => {
  [ec, rsa384, other] = await Promise.all([
    createTestPki({ keySpec: 'EC-256' }),
    createTestPki({ keySpec: 'RSA-3072', name: 'rsa' }),
    createTestPki({ keySpec: 'EC-384', name: 'other' }),
  ]);
});

const signerOf = (p: TestPki) => localRawSigner(p.leaf.privateKey, p.chain);
const store = () => memoryTrustStore({ ca: { test: [ec.root.certificate, rsa384.root.certificate] } });

function blobPolicy(statements: Record<string, unknown>[]) {
  return { version: '1.0', trustPolicies: statements };
}
const strict = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:test'],
  trustedIdentities: ['*'],
  ...extra,
});

async function* chunked(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const content = utf8('hello blob, signed detached\n'.repeat(1000));

describe('signature file names', () => {
  it('appends .<format>.sig to the base name', () => {
    expect(signatureFileName('/tmp/dir/app.tar.gz', 'jws')).toBe('app.tar.gz.jws.sig');
    expect(signatureFileName('C:\\x\\sbom.json', 'cose')).toBe('sbom.json.cose.sig');
    expect(() => signatureFileName('/tmp/dir/', 'jws')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => signatureFileName('a', 'pgp' as 'jws')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('derives the format from the second-to-last segment, case-insensitively', () => {
    expect(formatFromSignatureFileName('/x/app.tar.gz.jws.sig')).toBe('jws');
    expect(formatFromSignatureFileName('app.COSE.SIG')).toBe('cose');
    expect(formatFromSignatureFileName('dir.jws.sig/app.cose.sig')).toBe('cose');
    for (const bad of ['app.jws', 'jws.sig', 'app.sig.jws']) {
      expect(() => formatFromSignatureFileName(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
    expect(() => formatFromSignatureFileName('app.PGP.sig')).toThrow(
      expect.objectContaining({
        code: 'ERR_ENVELOPE_UNSUPPORTED',
        message: 'signature format "PGP" not supported\nSupported signature envelope formats are "jws" and "cose"',
      }),
    );
  });
});

describe('digestBlob', () => {
  it('streams bytes, async iterables and ReadableStreams to the same digest', async () => {
    const want = { digest: digestOf(content, 'sha384'), size: content.length };
    expect(await digestBlob(content, 'sha384')).toEqual(want);
    expect(await digestBlob(chunked(content, 1000), 'sha384')).toEqual(want);
    const rs = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(content.subarray(0, 7));
        c.enqueue(content.subarray(7));
        c.close();
      },
    });
    expect(await digestBlob(rs, 'sha384')).toEqual(want);
  });

  it('wraps stream failures and aborts', async () => {
    async function* failing(): AsyncIterable<Uint8Array> {
      yield new Uint8Array(3);
      throw new Error('disk gone');
    }
    await expect(digestBlob(failing(), 'sha256')).toRejectWithCode('ERR_IO');
    await expect(digestBlob(chunked(content, 10), 'sha256', { signal: AbortSignal.abort() })).toRejectWithCode('ERR_ABORTED');
    await expect(digestBlob(42 as unknown as Uint8Array, 'sha256')).toRejectWithCode('ERR_INVALID_ARGUMENT');
  });
});

describe('signBlob / verifyBlob round trip', () => {
  for (const envelope of [jws, cose] as EnvelopeCodec[]) {
    it(`${envelope.mediaType}: sign streaming, verify streaming (global policy)`, async () => {
      const signed = await signBlob(chunked(content, 4096), {
        signer: signerOf(ec),
        envelope,
        mediaType: 'text/plain',
        userMetadata: { build: '7' },
      });
      expect(signed.envelopeMediaType).toBe(envelope.mediaType);
      expect(signed.descriptor).toEqual({
        mediaType: 'text/plain',
        digest: digestOf(content, 'sha256'),
        size: content.length,
        annotations: { build: '7' },
      });
      const r = await verifyBlob(chunked(content, 333), signed.envelope, {
        trustPolicy: blobPolicy([strict('global', { globalPolicy: true })]),
        trustStore: store(),
        envelopes: [jws, cose],
        revocation: false,
        envelopeMediaType: envelope.mediaType,
        userMetadata: { build: '7' },
      });
      expect(r.skipped).toBe(false);
      expect(r.policy).toEqual({ name: 'global', level: 'strict' });
      expect(r.artifact).toEqual({ mediaType: 'text/plain', digest: digestOf(content, 'sha256'), size: content.length });
      expect(r.signature?.checks.find((c) => c.type === 'authenticity')?.result).toBe('passed');
      expect(r.signature?.userMetadata).toEqual({ build: '7' });
      expect(r.warnings).toEqual([]);
    });
  }

  it('uses the digest the signing key implies (RSA-3072 → sha384) and tries every codec without a media type', async () => {
    const signed = await signBlob(content, { signer: signerOf(rsa384), envelope: cose });
    expect(signed.descriptor.digest).toBe(digestOf(content, 'sha384'));
    expect(signed.descriptor.mediaType).toBe('application/octet-stream');
    const v = createBlobVerifier({
      trustPolicy: blobPolicy([strict('named')]),
      trustStore: store(),
      envelopes: [jws, cose],
      revocation: false,
    });
    const r = await v.verifyBlob(content, signed.envelope, { policyName: 'named' });
    expect(r.artifact?.digest).toBe(digestOf(content, 'sha384'));
  });

  it('rejects a wrong blob, a wrong size and a wrong media type as an integrity failure', async () => {
    const signed = await signBlob(content, { signer: signerOf(ec), envelope: jws, mediaType: 'application/x-tar' });
    const v = createBlobVerifier({
      trustPolicy: blobPolicy([strict('global', { globalPolicy: true })]),
      trustStore: store(),
      envelopes: [jws],
      revocation: false,
    });
    const tampered = content.slice();
    tampered[10]! ^= 1;
    await expect(v.verifyBlob(tampered, signed.envelope)).toRejectWithCode('ERR_ARTIFACT_MISMATCH');
    await expect(v.verifyBlob(content.subarray(1), signed.envelope)).toRejectWithCode('ERR_ARTIFACT_MISMATCH');
    await expect(v.verifyBlob(content, signed.envelope, { mediaType: 'application/json' })).toRejectWithCode('ERR_ARTIFACT_MISMATCH');
    // media type is compared only when given
    expect((await v.verifyBlob(content, signed.envelope)).artifact?.mediaType).toBe('application/x-tar');
    expect((await v.verifyBlob(content, signed.envelope, { mediaType: 'application/x-tar' })).skipped).toBe(false);
    try {
      await v.verifyBlob(tampered, signed.envelope);
      expect.unreachable();
    } catch (e) {
      const err = e as VouchError;
      expect(err.message).toContain('integrity check failed. signature does not match the given blob');
      const outcome = err.details?.outcome as { checks: { type: string; result: string }[] };
      expect(outcome.checks).toContainEqual(expect.objectContaining({ type: 'integrity', result: 'failed' }));
    }
  });

  it('descriptor path: wrong size or digest fails, right descriptor passes', async () => {
    const signed = await signBlob(content, { signer: signerOf(ec), envelope: jws });
    const opts = {
      trustPolicy: blobPolicy([strict('global', { globalPolicy: true })]),
      trustStore: store(),
      envelopes: [jws],
      revocation: false as const,
    };
    const good = { digest: digestOf(content, 'sha256'), size: content.length };
    expect((await verifyBlobDescriptor(good, signed.envelope, opts)).skipped).toBe(false);
    await expect(verifyBlobDescriptor({ ...good, size: 1 }, signed.envelope, opts)).toRejectWithCode('ERR_ARTIFACT_MISMATCH');
    await expect(verifyBlobDescriptor({ ...good, digest: digestOf(content, 'sha384') }, signed.envelope, opts)).toRejectWithCode(
      'ERR_ARTIFACT_MISMATCH',
    );
    await expect(verifyBlobDescriptor({ ...good, digest: 'md5:abc' }, signed.envelope, opts)).toRejectWithCode('ERR_INVALID_DIGEST');
  });

  it('user metadata must be present and equal', async () => {
    const signed = await signBlob(content, { signer: signerOf(ec), envelope: jws, userMetadata: { a: '1' } });
    const opts = {
      trustPolicy: blobPolicy([strict('global', { globalPolicy: true })]),
      trustStore: store(),
      envelopes: [jws],
      revocation: false as const,
    };
    await expect(verifyBlob(content, signed.envelope, { ...opts, userMetadata: { a: '2' } })).toRejectWithCode(
      'ERR_USER_METADATA_MISMATCH',
    );
    await expect(verifyBlob(content, signed.envelope, { ...opts, userMetadata: { b: '1' } })).toRejectWithCode(
      'ERR_USER_METADATA_MISMATCH',
    );
    expect((await verifyBlob(content, signed.envelope, { ...opts, userMetadata: { a: '1' } })).skipped).toBe(false);
    await expect(signBlob(content, { signer: signerOf(ec), envelope: jws, userMetadata: { 'io.cncf.notary.x': '1' } })).toRejectWithCode(
      'ERR_INVALID_ARGUMENT',
    );
    // the same rule as sign() and verify(): no reserved key, no empty value, on verification too
    await expect(verifyBlob(content, signed.envelope, { ...opts, userMetadata: { 'io.cncf.notary.x': '1' } })).toRejectWithCode(
      'ERR_INVALID_ARGUMENT',
    );
    await expect(verifyBlob(content, signed.envelope, { ...opts, userMetadata: { a: '' } })).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(signBlob(content, { signer: signerOf(ec), envelope: jws, userMetadata: { a: '' } })).toRejectWithCode(
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('one-shot verifyBlob() accepts JWS and COSE without `envelopes`; results carry warnings', async () => {
    const signed = await signBlob(content, { signer: signerOf(ec), envelope: cose });
    expect(signed.warnings).toEqual([]);
    const r = await verifyBlob(content, signed.envelope, {
      trustPolicy: blobPolicy([strict('global', { globalPolicy: true })]),
      trustStore: store(),
      revocation: false,
    });
    expect(r).toMatchObject({ skipped: false, warnings: [], signature: { envelopeMediaType: 'application/cose' } });
  });

  it('policy selection: named, global, missing, and skip returns an explicit skipped result without reading anything', async () => {
    const signed = await signBlob(content, { signer: signerOf(other), envelope: jws });
    const v = createBlobVerifier({
      trustPolicy: blobPolicy([
        strict('global', { globalPolicy: true }),
        { name: 'skipper', signatureVerification: { level: 'skip' } },
        { ...strict('audit'), signatureVerification: { level: 'audit' } },
      ]),
      trustStore: store(),
      envelopes: [jws],
      revocation: false,
    });
    // untrusted signer under the global (strict) policy
    await expect(v.verifyBlob(content, signed.envelope)).toRejectWithCode('ERR_CERT_UNTRUSTED');
    // audit: authenticity only logged
    const audited = await v.verifyBlob(content, signed.envelope, { policyName: 'audit' });
    expect(audited.warnings.map((w) => w.code)).toContain('ERR_CERT_UNTRUSTED');
    // skip: no blob read, no envelope parsed (garbage accepted), explicit result
    async function* never(): AsyncIterable<Uint8Array> {
      yield* [];
      throw new Error('the blob must not be read under skip');
    }
    const skipped = await v.verifyBlob(never(), new Uint8Array(0), { policyName: 'skipper' });
    expect(skipped).toEqual({ policy: { name: 'skipper', level: 'skip' }, skipped: true, warnings: [] });
    await expect(v.verifyBlob(content, signed.envelope, { policyName: 'nope' })).toRejectWithCode('ERR_NO_APPLICABLE_TRUST_POLICY');
    await expect(v.verifyBlob(content, signed.envelope, { policyName: ' ' })).toRejectWithCode('ERR_INVALID_ARGUMENT');
    const noGlobal = createBlobVerifier({ trustPolicy: blobPolicy([strict('only')]), trustStore: store(), envelopes: [jws] });
    await expect(noGlobal.verifyBlob(content, signed.envelope)).toRejectWithCode('ERR_NO_APPLICABLE_TRUST_POLICY');
    // a global skip statement is invalid (notation's check never fires)
    expect(() =>
      createBlobVerifier({
        trustPolicy: blobPolicy([{ name: 'g', globalPolicy: true, signatureVerification: { level: 'skip' } }]),
        trustStore: store(),
        envelopes: [jws],
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_TRUST_POLICY_INVALID' }));
  });

  it('malformed or unsupported signatures are errors, not verification results', async () => {
    const v = createBlobVerifier({
      trustPolicy: blobPolicy([strict('global', { globalPolicy: true })]),
      trustStore: store(),
      envelopes: [jws],
    });
    await expect(v.verifyBlob(content, new Uint8Array(0))).toRejectWithCode('ERR_ENVELOPE_MALFORMED');
    await expect(v.verifyBlob(content, utf8('{"payload":1}'), { envelopeMediaType: 'application/jose+json' })).toRejectWithCode(
      'ERR_ENVELOPE_MALFORMED',
    );
    await expect(v.verifyBlob(content, utf8('{}'), { envelopeMediaType: 'application/cose' })).toRejectWithCode('ERR_ENVELOPE_UNSUPPORTED');
  });

  it('signing validates its options', async () => {
    const s = signerOf(ec);
    await expect(signBlob(content, { signer: s, envelope: jws, mediaType: 'not a media type' })).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(signBlob(content, { signer: s, envelope: jws, expirySeconds: -1 })).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(signBlob(content, { signer: { ...s, certificateChain: [] }, envelope: jws })).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(signBlob(chunked(content, 10), { signer: s, envelope: jws, signal: AbortSignal.abort() })).toRejectWithCode('ERR_ABORTED');
  });

  it('an expired signature fails under strict and is logged under permissive', async () => {
    const t0 = new Date();
    const signed = await signBlob(content, { signer: signerOf(ec), envelope: jws, expirySeconds: 60, now: () => t0 });
    const later = () => new Date(t0.getTime() + 120_000);
    const mk = (level: string) =>
      createBlobVerifier({
        trustPolicy: blobPolicy([{ ...strict('p', { globalPolicy: true }), signatureVerification: { level } }]),
        trustStore: store(),
        envelopes: [jws],
        revocation: false,
        now: later,
      });
    await expect(mk('strict').verifyBlob(content, signed.envelope)).toRejectWithCode('ERR_SIGNATURE_EXPIRED');
    const r = await mk('permissive').verifyBlob(content, signed.envelope);
    expect(r.warnings.map((w) => w.code)).toContain('ERR_SIGNATURE_EXPIRED');
  });
});

describe('compareBlobArtifact', () => {
  it('ignores an empty media type and names every difference', () => {
    const signed = { mediaType: 'a/b', digest: 'sha256:00', size: 1 };
    expect(compareBlobArtifact(signed, { mediaType: '', digest: 'sha256:00', size: 1 })).toBeUndefined();
    const e = compareBlobArtifact(signed, { mediaType: 'c/d', digest: 'sha256:11', size: 2 });
    expect(e?.code).toBe('ERR_ARTIFACT_MISMATCH');
    expect(e?.details?.blob).toEqual({ mediaType: 'c/d', digest: 'sha256:11', size: 2 });
  });
});

describe('signBlob through a plugin (EnvelopeSigner)', () => {
  const md = (capabilities: PluginMetadata['capabilities']): PluginMetadata => ({
    name: 'io.vouch.test.blob',
    description: 'blob signing test plugin',
    version: '1.0.0',
    url: 'https://example.invalid',
    supportedContractVersions: ['1.0'],
    capabilities,
  });
  /** A plugin over `p`'s key: RAW, or ENVELOPE_FOR_BLOB / ENVELOPE (envelope built by the plugin with `signWith`'s key). */
  function blobPlugin(p: () => TestPki, capability: 'RAW' | 'ENVELOPE_FOR_BLOB' | 'ENVELOPE', signWith: () => TestPki = p) {
    const def: PluginDefinition = { metadata: md([`SIGNATURE_GENERATOR.${capability}` as PluginMetadata['capabilities'][number]]) };
    if (capability !== 'ENVELOPE') def.describeKey = ({ keyId }) => ({ keyId, keySpec: keySpecOf(p().leaf.certificate) });
    if (capability === 'RAW') {
      def.generateSignature = async (req) => ({
        keyId: req.keyId,
        signature: await signerOf(p()).sign(req.payload),
        signingAlgorithm: signingAlgorithmForKeySpec(req.keySpec),
        certificateChain: p().chain.map((c) => c.der),
      });
    } else {
      def.generateEnvelope = async (req) => {
        const codec = req.signatureEnvelopeType === cose.mediaType ? cose : jws;
        const envelope = await codec.sign({
          payload: parsePayload(req.payload),
          signingScheme: 'notary.x509',
          signingTime: new Date(Math.floor(Date.now() / 1000) * 1000),
          signer: signerOf(signWith()),
        });
        return { signatureEnvelope: envelope, signatureEnvelopeType: codec.mediaType };
      };
    }
    return inProcessPlugin(definePlugin(def));
  }

  for (const capability of ['RAW', 'ENVELOPE_FOR_BLOB'] as const) {
    for (const envelope of [jws, cose] as EnvelopeCodec[]) {
      it(`${capability}, ${envelope.mediaType}: the digest follows the described key (RSA-3072 → sha384) and the signature verifies`, async () => {
        const signer = pluginSigner(
          blobPlugin(() => rsa384, capability),
          { keyId: 'k1' },
        );
        const signed = await signBlob(chunked(content, 1000), { signer, envelope, mediaType: 'text/plain' });
        expect(signed.descriptor).toEqual({ mediaType: 'text/plain', digest: digestOf(content, 'sha384'), size: content.length });
        const r = await verifyBlob(content, signed.envelope, {
          trustPolicy: blobPolicy([strict('global', { globalPolicy: true })]),
          trustStore: store(),
          envelopes: [jws, cose],
          revocation: false,
          envelopeMediaType: envelope.mediaType,
        });
        expect(r.signature?.checks.find((c) => c.type === 'authenticity')?.result).toBe('passed');
      });
    }
  }

  it('plain ENVELOPE is for OCI artifacts only: ERR_UNSUPPORTED for a blob', async () => {
    const signer = pluginSigner(
      blobPlugin(() => ec, 'ENVELOPE'),
      { keyId: 'k1' },
    );
    await expect(signBlob(content, { signer, envelope: jws })).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED',
      message: expect.stringContaining('cannot sign blobs'),
    });
  });

  it('a plugin that signs with another key than the one it described is caught (the digest would not fit)', async () => {
    const signer = pluginSigner(
      blobPlugin(
        () => ec,
        'ENVELOPE_FOR_BLOB',
        () => rsa384,
      ),
      { keyId: 'k1' },
    );
    await expect(signBlob(content, { signer, envelope: jws })).toRejectWithCode('ERR_PLUGIN_PROTOCOL');
  });

  it('an EnvelopeSigner that cannot tell its algorithm before signing is refused', async () => {
    const signer = { kind: 'envelope-signer' as const, signEnvelope: () => Promise.reject(new Error('unused')) };
    await expect(signBlob(content, { signer, envelope: jws })).toRejectWithCode('ERR_INVALID_ARGUMENT');
  });
});
