import { digestOf, hasCode, isVouchError, MediaType, utf8, type VouchErrorCode } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { type MemoryRepository, memoryRepository } from '@vouch/registry';
import { memoryTrustStore } from '@vouch/trust-policy';
import { type CertificateWithKey, createTestPki, type TestPki } from '@vouch/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, sign } from '../index.js';

const SCOPE = 'registry.example/app';

async function pushImage(repo: MemoryRepository, tag = 'v1', content = 'layer'): Promise<string> {
  const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(content));
  const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
  const d = await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag });
  return d.digest;
}

function policy(level: string, extra: Record<string, unknown> = {}) {
  return {
    version: '1.0',
    trustPolicies: [
      {
        name: 'app',
        registryScopes: [SCOPE],
        signatureVerification: { level, ...extra },
        ...(level === 'skip' ? {} : { trustStores: ['ca:test'], trustedIdentities: ['*'] }),
      },
    ],
  };
}

async function rejects(p: Promise<unknown>): Promise<VouchErrorCode | string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isVouchError(e) ? e.code : `not a VouchError: ${e}`;
  }
}

let pki: TestPki;
let other: TestPki;
beforeAll(async () => {
  [pki, other] = await Promise.all([createTestPki({ keySpec: 'EC-256' }), createTestPki({ keySpec: 'RSA-3072', name: 'other' })]);
});

const signer = (p: { leaf: CertificateWithKey; chain: TestPki['chain'] }) => localRawSigner(p.leaf.privateKey, p.chain);
const store = () => memoryTrustStore({ ca: { test: [pki.root.certificate] } });

describe('sign() then verify() over a repository', () => {
  for (const envelope of [jws, cose]) {
    it(`${envelope.mediaType}: signs the digest and verifies under strict`, async () => {
      const repo = memoryRepository();
      const digest = await pushImage(repo);
      const signed = await sign('v1', { repository: repo, signer: signer(pki), envelope, userMetadata: { build: '42' } });
      expect(signed.artifact.digest).toBe(digest);
      expect(signed.warnings.join(' ')).toMatch(/Always sign the artifact using digest/);
      const verifier = createVerifier({ trustPolicy: policy('strict'), trustStore: store(), envelopes: [jws, cose] });
      const r = await verifier.verify(`@${digest}`, { repository: repo, scope: SCOPE, userMetadata: { build: '42' } });
      expect(r.artifact.digest).toBe(digest);
      expect(r.policy).toEqual({ name: 'app', level: 'strict' });
      expect(r.signature?.signer?.certificateChain[0]?.subject).toBe(pki.leaf.certificate.subject);
      expect(r.signature?.checks.find((c) => c.type === 'authenticity')?.result).toBe('passed');
      expect(r.warnings).toEqual([]);
      // by tag, too (resolves to the same digest)
      expect((await verifier.verify('v1', { repository: repo, scope: SCOPE })).artifact.digest).toBe(digest);
    });
  }

  it('fails closed with every outcome when the signer is not trusted', async () => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    await sign(`@${digest}`, { repository: repo, signer: signer(other), envelope: jws });
    const v = createVerifier({ trustPolicy: policy('strict'), trustStore: store(), envelopes: [jws] });
    try {
      await v.verify(digest, { repository: repo, scope: SCOPE });
      expect.unreachable();
    } catch (e) {
      expect(hasCode(e, 'ERR_VERIFICATION_FAILED')).toBe(true);
      const outcomes = (e as { details: { outcomes: { error: { code: string } }[] } }).details.outcomes;
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]!.error.code).toBe('ERR_CERT_UNTRUSTED');
    }
    // audit only logs authenticity: verification succeeds with a warning
    const audit = createVerifier({ trustPolicy: policy('audit'), trustStore: store(), envelopes: [jws] });
    const r = await audit.verify(digest, { repository: repo, scope: SCOPE });
    expect(r.warnings.map((w) => w.code)).toEqual(['ERR_CERT_UNTRUSTED']);
  });

  it('rejects untrusted identities, honours skip, reports missing signatures', async () => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    const none = createVerifier({ trustPolicy: policy('strict'), trustStore: store(), envelopes: [jws] });
    expect(await rejects(none.verify(digest, { repository: repo, scope: SCOPE }))).toBe('ERR_SIGNATURE_NOT_FOUND');
    const skip = createVerifier({ trustPolicy: policy('skip'), trustStore: store(), envelopes: [jws] });
    expect((await skip.verify(digest, { repository: repo, scope: SCOPE })).policy.level).toBe('skip');
    await sign(digest, { repository: repo, signer: signer(pki), envelope: jws });
    const idPolicy = policy('strict');
    idPolicy.trustPolicies[0]!.trustedIdentities = ['x509.subject:C=US,ST=WA,O=someone-else'];
    const v = createVerifier({ trustPolicy: idPolicy, trustStore: store(), envelopes: [jws] });
    const e = await v.verify(digest, { repository: repo, scope: SCOPE }).catch((x) => x);
    expect(e.code).toBe('ERR_VERIFICATION_FAILED');
    expect(e.details.outcomes[0].error.code).toBe('ERR_IDENTITY_UNTRUSTED');
    const good = policy('strict');
    good.trustPolicies[0]!.trustedIdentities = [`x509.subject:${pki.leaf.certificate.subject}`];
    await createVerifier({ trustPolicy: good, trustStore: store(), envelopes: [jws] }).verify(digest, { repository: repo, scope: SCOPE });
  });

  it('detects a tampered envelope, wrong user metadata, expiry, and the attempt limit', async () => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    // inside the test certificates' validity window
    const t0 = new Date(pki.leaf.certificate.notBefore.getTime() + 60_000);
    const s = await sign(digest, { repository: repo, signer: signer(pki), envelope: cose, expirySeconds: 60, now: () => t0 });
    const v = (level: string, now = t0, extra = {}) =>
      createVerifier({ trustPolicy: policy(level, extra), trustStore: store(), envelopes: [jws, cose], now: () => now });
    const inWindow = t0;
    expect(await rejects(v('strict', inWindow).verify(digest, { repository: repo, scope: SCOPE, userMetadata: { k: 'v' } }))).toBe(
      'ERR_VERIFICATION_FAILED',
    );
    expect(
      await rejects(v('strict', inWindow).verify(digest, { repository: repo, scope: SCOPE, userMetadata: { 'io.cncf.notary.x': 'v' } })),
    ).toBe('ERR_INVALID_ARGUMENT');
    // expired signature: enforced under strict, logged with an override
    const late = new Date(t0.getTime() + 120_000);
    const expired = await v('strict', late)
      .verify(digest, { repository: repo, scope: SCOPE })
      .catch((x) => x);
    expect(expired.details.outcomes[0].error.code).toBe('ERR_SIGNATURE_EXPIRED');
    const logged = await v('strict', late, { override: { expiry: 'log' } }).verify(digest, { repository: repo, scope: SCOPE });
    expect(logged.warnings.map((w) => w.code)).toEqual(['ERR_SIGNATURE_EXPIRED']);
    // tamper: replace the envelope bytes in storage without changing the digest
    const bad = new Uint8Array(s.envelope);
    bad[bad.length - 1] ^= 1;
    repo.corrupt(s.envelopeDescriptor.digest, bad);
    const e = await v('strict', inWindow)
      .verify(digest, { repository: repo, scope: SCOPE })
      .catch((x) => x);
    expect(['ERR_VERIFICATION_INCONCLUSIVE', 'ERR_VERIFICATION_FAILED']).toContain(e.code);
    expect(e.details.outcomes[0].error.code).toBe('ERR_DIGEST_MISMATCH');
    // attempt limit
    const repo2 = memoryRepository();
    const d2 = await pushImage(repo2);
    await sign(d2, { repository: repo2, signer: signer(other), envelope: jws });
    await sign(d2, { repository: repo2, signer: signer(other), envelope: jws, userMetadata: { n: '2' } });
    expect(await rejects(v('strict', inWindow).verify(d2, { repository: repo2, scope: SCOPE, maxSignatureAttempts: 1 }))).toBe(
      'ERR_SIGNATURE_LIMIT_EXCEEDED',
    );
  });

  it('rejects a signature whose payload names another artifact', async () => {
    const repo = memoryRepository();
    const d1 = await pushImage(repo, 'a', 'one');
    const d2 = await pushImage(repo, 'b', 'two');
    const s = await sign(d1, { repository: repo, signer: signer(pki), envelope: jws });
    // copy d1's envelope under a signature manifest whose subject is d2
    const env = await repo.pushBlob(MediaType.JWS, s.envelope);
    const { buildSignatureManifest } = await import('@vouch/registry');
    const m2 = await repo.fetchManifest(d2);
    const sm = buildSignatureManifest({ subject: m2.descriptor, envelopeDescriptor: env, annotations: {} });
    await repo.pushManifest(MediaType.OCI_MANIFEST, sm.bytes);
    const e = await createVerifier({ trustPolicy: policy('strict'), trustStore: store(), envelopes: [jws] })
      .verify(d2, { repository: repo, scope: SCOPE })
      .catch((x) => x);
    expect(e.code).toBe('ERR_VERIFICATION_FAILED');
    expect(e.details.outcomes[0].error.code).toBe('ERR_ARTIFACT_MISMATCH');
    expect(digestOf(s.envelope)).toBe(s.envelopeDescriptor.digest);
  });
});
