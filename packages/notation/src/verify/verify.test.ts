import { digestOf, hasCode, isVouchError, MediaType, utf8 } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { type MemoryRepository, memoryRepository } from '@vouch/registry';
import { codeOf as rejects } from '@vouch/testing';
import { memoryTrustStore } from '@vouch/trust-policy';
import { type CertificateWithKey, createTestPki, type TestPki } from '@vouch/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, sign, verify } from '../index.js';

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
    const last = bad.at(-1);
    if (last === undefined) throw new Error('the stored envelope is empty');
    bad[bad.length - 1] = last ^ 1;
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

describe('the facade: registry, defaults and result shapes', () => {
  it('reads a full reference through `registry` (a function from the parsed reference) without a per-call repository', async () => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    await sign(`@${digest}`, { repository: repo, signer: signer(pki), envelope: cose });
    const asked: string[] = [];
    const v = createVerifier({
      trustPolicy: policy('strict'),
      trustStore: store(),
      envelopes: [jws, cose],
      registry: (ref) => {
        asked.push(`${ref.registry}/${ref.repository}`);
        return repo;
      },
    });
    const r = await v.verify(`${SCOPE}@${digest}`);
    expect(r.reference).toBe(`${SCOPE}@${digest}`);
    expect(r.skipped).toBe(false);
    expect(asked).toEqual([SCOPE]);
    // by tag: the reference names the repository, the tag resolves to the digest
    expect((await v.verify(`${SCOPE}:v1`)).artifact.digest).toBe(digest);
    // a per-call repository wins over `registry`
    expect((await v.verify(`${SCOPE}@${digest}`, { repository: repo })).artifact.digest).toBe(digest);
    expect(asked).toEqual([SCOPE, SCOPE]);
  });

  it('needs a repository and a scope for a bare tag or digest, and a well-formed one', async () => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    const v = createVerifier({ trustPolicy: policy('strict'), trustStore: store(), envelopes: [jws] });
    expect(await rejects(v.verify(digest, { repository: repo }))).toBe('ERR_INVALID_REFERENCE');
    expect(await rejects(v.verify(digest, { scope: SCOPE }))).toBe('ERR_INVALID_ARGUMENT');
    expect(await rejects(v.verify('', { repository: repo, scope: SCOPE }))).toBe('ERR_INVALID_REFERENCE');
    expect(await rejects(v.verify('sha256:abc', { repository: repo, scope: SCOPE }))).toBe('ERR_INVALID_DIGEST');
  });

  it('marks a skip-level result as skipped, with no signature read', async () => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    const r = await createVerifier({ trustPolicy: policy('skip'), trustStore: store(), envelopes: [jws] }).verify(digest, {
      repository: repo,
      scope: SCOPE,
    });
    expect(r).toMatchObject({ skipped: true, outcomes: [], warnings: [], policy: { level: 'skip' } });
    expect(r.signature).toBeUndefined();
  });

  it('one-shot verify() accepts JWS and COSE without `envelopes`', async () => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    await sign(digest, { repository: repo, signer: signer(pki), envelope: cose });
    const r = await verify(digest, { trustPolicy: policy('strict'), trustStore: store(), repository: repo, scope: SCOPE });
    expect(r.signature?.envelopeMediaType).toBe('application/cose');
    // an explicit codec list still narrows it
    const e = await verify(digest, {
      trustPolicy: policy('strict'),
      trustStore: store(),
      envelopes: [jws],
      repository: repo,
      scope: SCOPE,
    }).catch((x) => x);
    expect(e.code).toBe('ERR_VERIFICATION_FAILED');
    expect(e.details.outcomes[0].error.code).toBe('ERR_ENVELOPE_UNSUPPORTED');
  });

  it('records the checks in the order of the check table, with the policy action of each', async () => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    await sign(digest, { repository: repo, signer: signer(pki), envelope: jws, userMetadata: { team: 'a' } });
    const v = createVerifier({ trustPolicy: policy('permissive'), trustStore: store(), envelopes: [jws], revocation: false });
    const r = await v.verify(digest, { repository: repo, scope: SCOPE, userMetadata: { team: 'a' } });
    expect(r.signature?.checks.map((c) => [c.type, c.action, c.result])).toEqual([
      ['integrity', 'enforce', 'passed'],
      ['authenticity', 'enforce', 'passed'],
      ['expiry', 'log', 'passed'],
      ['authenticTimestamp', 'log', 'passed'],
      ['revocation', 'log', 'skipped'],
      ['userMetadata', 'enforce', 'passed'],
    ]);
    const skipRevocation = createVerifier({
      trustPolicy: policy('strict', { override: { revocation: 'skip' } }),
      trustStore: store(),
      envelopes: [jws],
    });
    const s = await skipRevocation.verify(digest, { repository: repo, scope: SCOPE });
    expect(s.signature?.checks.find((c) => c.type === 'revocation')).toEqual({ type: 'revocation', action: 'skip', result: 'skipped' });
  });
});

describe('sign(): warnings and user metadata', () => {
  it('warns with a VouchError when signing a tag, not when signing a digest', async () => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    const byTag = await sign(`${SCOPE}:v1`, { repository: repo, signer: signer(pki), envelope: jws });
    expect(byTag.reference).toBe(`${SCOPE}@${digest}`);
    expect(byTag.warnings.map((w) => [isVouchError(w), w.code])).toEqual([[true, 'ERR_INVALID_REFERENCE']]);
    expect(byTag.warnings[0]!.details).toEqual({ tag: 'v1', digest });
    expect((await sign(`@${digest}`, { repository: repo, signer: signer(pki), envelope: jws })).warnings).toEqual([]);
  });

  it('applies the one user-metadata rule: non-empty keys and string values, no io.cncf.notary keys', async () => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    const s = (userMetadata: Record<string, unknown>) =>
      sign(digest, { repository: repo, signer: signer(pki), envelope: jws, userMetadata: userMetadata as Record<string, string> });
    expect(await rejects(s({ 'io.cncf.notary.x': 'v' }))).toBe('ERR_INVALID_ARGUMENT');
    expect(await rejects(s({ k: '' }))).toBe('ERR_INVALID_ARGUMENT');
    expect(await rejects(s({ '': 'v' }))).toBe('ERR_INVALID_ARGUMENT');
    expect(await rejects(s({ k: 1 }))).toBe('ERR_INVALID_ARGUMENT');
    const v = createVerifier({ trustPolicy: policy('strict'), trustStore: store(), envelopes: [jws] });
    expect(await rejects(v.verify(digest, { repository: repo, scope: SCOPE, userMetadata: { k: '' } }))).toBe('ERR_INVALID_ARGUMENT');
  });
});
