import { type Descriptor, isVouchError, MediaType, utf8 } from '@vouch/core';
import { type EnvelopeCodec, localRawSigner, parsePayload } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import {
  definePlugin,
  type GenerateSignatureResponse,
  inProcessPlugin,
  type PluginDefinition,
  type PluginMetadata,
  signingAlgorithmForKeySpec,
} from '@vouch/plugin';
import { type MemoryRepository, memoryRepository } from '@vouch/registry';
import { memoryTrustStore } from '@vouch/trust-policy';
import { createTestPki, keySpecOf, type TestPki } from '@vouch/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, pluginSigner, sign } from './index.js';

const SCOPE = 'registry.example/app';
const VERIFIER_CAPS = ['SIGNATURE_VERIFIER.TRUSTED_IDENTITY', 'SIGNATURE_VERIFIER.REVOCATION_CHECK'] as const;

let pki: TestPki;
let other: TestPki;
beforeAll(async () => {
  [pki, other] = await Promise.all([createTestPki({ keySpec: 'EC-256' }), createTestPki({ keySpec: 'EC-256', name: 'other' })]);
});

async function pushImage(repo: MemoryRepository): Promise<Descriptor> {
  const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8('layer'));
  const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
  return repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: 'v1' });
}

function metadata(capabilities: PluginMetadata['capabilities'], version = '1.0.0', name = 'io.vouch.test.inproc'): PluginMetadata {
  return {
    name,
    description: 'in-process test plugin',
    version,
    url: 'https://example.invalid',
    supportedContractVersions: ['1.0'],
    capabilities,
  };
}

let rawCalls = 0;

/** A RAW signer over the test PKI; `lie` tampers with the response. */
function rawPlugin(p: () => TestPki, lie: (r: GenerateSignatureResponse) => GenerateSignatureResponse = (r) => r) {
  return definePlugin({
    metadata: metadata(['SIGNATURE_GENERATOR.RAW']),
    describeKey: ({ keyId }) => ({ keyId, keySpec: keySpecOf(p().leaf.certificate) }),
    async generateSignature(req) {
      rawCalls++;
      const signature = await localRawSigner(p().leaf.privateKey, p().chain).sign(req.payload);
      return lie({
        keyId: req.keyId,
        signature,
        signingAlgorithm: signingAlgorithmForKeySpec(req.keySpec),
        certificateChain: p().chain.map((c) => c.der),
      });
    },
  });
}

/**
 * An ENVELOPE signer that builds the envelope with @vouch/envelope, copying
 * `io.cncf.notary.verificationPlugin*` from pluginConfig into critical attributes (like
 * notation's e2e plugin), plus `critical.<name>` entries as extra critical attributes.
 */
function envelopePlugin(tamper?: (payload: Uint8Array) => Uint8Array, extraCaps: PluginMetadata['capabilities'] = []) {
  const def: PluginDefinition = {
    metadata: metadata(['SIGNATURE_GENERATOR.ENVELOPE', ...extraCaps]),
    async generateEnvelope(req) {
      const codec: EnvelopeCodec = req.signatureEnvelopeType === cose.mediaType ? cose : jws;
      const payload = parsePayload(tamper ? tamper(req.payload) : req.payload);
      const cfg = req.pluginConfig ?? {};
      const extendedAttributes = Object.entries(cfg)
        .filter(([k]) => k.startsWith('io.cncf.notary.verificationPlugin') || k.startsWith('critical.'))
        .map(([k, v]) => ({ key: k.replace(/^critical\./, ''), value: v, critical: true }));
      const signingTime = new Date(Math.floor(Date.now() / 1000) * 1000);
      const envelope = await codec.sign({
        payload,
        signingScheme: 'notary.x509',
        signingTime,
        ...(req.expiryDurationInSeconds ? { expiry: new Date(signingTime.getTime() + req.expiryDurationInSeconds * 1000) } : {}),
        extendedAttributes,
        signingAgent: 'in-process envelope plugin',
        signer: localRawSigner(pki.leaf.privateKey, pki.chain),
      });
      return {
        signatureEnvelope: envelope,
        signatureEnvelopeType: codec.mediaType,
        annotations: { signer: 'inproc', 'io.cncf.notary.x509chain.thumbprint#S256': 'x' },
      };
    },
  };
  if (extraCaps.length) def.verifySignature = verifierHandler();
  return definePlugin(def);
}

interface VerifierBehaviour {
  identity?: 'success' | string;
  revocation?: 'success' | string;
  processAll?: boolean;
  calls?: { caps: string[]; unprocessed: string[]; expiry?: Date }[];
}

function verifierHandler(b: VerifierBehaviour = {}): NonNullable<PluginDefinition['verifySignature']> {
  return (req) => {
    b.calls?.push({
      caps: [...req.trustPolicy.signatureVerification],
      unprocessed: [...req.signature.unprocessedAttributes],
      ...(req.signature.criticalAttributes.expiry ? { expiry: req.signature.criticalAttributes.expiry } : {}),
    });
    const results: Record<string, { success: boolean; reason?: string }> = {};
    for (const cap of req.trustPolicy.signatureVerification) {
      const want = cap === 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY' ? (b.identity ?? 'success') : (b.revocation ?? 'success');
      results[cap] = want === 'success' ? { success: true } : { success: false, reason: want };
    }
    return { verificationResults: results, processedAttributes: b.processAll === false ? [] : [...req.signature.unprocessedAttributes] };
  };
}

function verifierPlugin(
  b: VerifierBehaviour = {},
  caps: PluginMetadata['capabilities'] = [...VERIFIER_CAPS],
  version = '1.0.0',
  name = 'io.vouch.test.verifier',
) {
  const def: PluginDefinition = { metadata: metadata(caps, version, name) };
  if (caps.some((c) => c.startsWith('SIGNATURE_VERIFIER'))) def.verifySignature = verifierHandler(b);
  if (caps.includes('SIGNATURE_GENERATOR.RAW')) {
    def.describeKey = ({ keyId }) => ({ keyId, keySpec: 'EC-256' });
    def.generateSignature = () => {
      throw new Error('unused');
    };
  }
  return definePlugin(def);
}

function policy(signatureVerification: Record<string, unknown> = { level: 'strict' }, trustedIdentities = ['*']) {
  return {
    version: '1.0',
    trustPolicies: [{ name: 'app', registryScopes: [SCOPE], signatureVerification, trustStores: ['ca:test'], trustedIdentities }],
  };
}

describe('pluginSigner: SIGNATURE_GENERATOR.RAW', () => {
  for (const codec of [jws, cose]) {
    it(`${codec.mediaType}: describe-key + generate-signature, envelope built by vouch, verifies`, async () => {
      const repo = memoryRepository();
      const artifact = await pushImage(repo);
      const signer = pluginSigner(inProcessPlugin(rawPlugin(() => pki)), { keyId: 'k1' });
      rawCalls = 0;
      const signed = await sign(`@${artifact.digest}`, { repository: repo, signer, envelope: codec, expirySeconds: 3600 });
      expect(rawCalls).toBe(1); // the plugin signs once: vouch signs exactly the bytes the codec needs
      const env = codec.parse(signed.envelope);
      expect(env.certificateChain[0]!.sha256Fingerprint).toBe(pki.leaf.certificate.sha256Fingerprint);
      expect(env.signedAttributes.expiry).toBeDefined();
      const v = createVerifier({
        trustPolicy: policy(),
        trustStore: memoryTrustStore({ ca: { test: [pki.root.certificate] } }),
        envelopes: [codec],
        revocation: false,
      });
      const r = await v.verify(`@${artifact.digest}`, { repository: repo, scope: SCOPE });
      expect(r.signature?.signer?.certificateChain[0]?.subject).toBe(pki.leaf.certificate.subject);
    });
  }

  const lies: [string, (r: GenerateSignatureResponse) => GenerateSignatureResponse][] = [
    ['a wrong signing algorithm', (r) => ({ ...r, signingAlgorithm: 'ECDSA-SHA-384' })],
    ['a certificate that does not match the signature', (r) => ({ ...r, certificateChain: other.chain.map((c) => c.der) })],
    ['a tampered signature', (r) => ({ ...r, signature: r.signature.map((b, i) => (i === 3 ? b ^ 1 : b)) })],
    ['another key id', (r) => ({ ...r, keyId: 'k2' })],
    ['a malformed certificate', (r) => ({ ...r, certificateChain: [utf8('not a certificate')] })],
  ];
  for (const [what, lie] of lies) {
    it(`rejects ${what} with ERR_PLUGIN_PROTOCOL and pushes nothing`, async () => {
      const repo = memoryRepository();
      const artifact = await pushImage(repo);
      const signer = pluginSigner(inProcessPlugin(rawPlugin(() => pki, lie)), { keyId: 'k1' });
      await expect(sign(`@${artifact.digest}`, { repository: repo, signer, envelope: jws })).toRejectWithCode('ERR_PLUGIN_PROTOCOL');
      const refs = [];
      for await (const page of repo.referrers(artifact, {})) refs.push(...page);
      expect(refs).toEqual([]);
    });
  }

  it('rejects a chain that breaks the Notary profile (leaf only, issued by a CA that is not sent)', async () => {
    const signer = pluginSigner(
      inProcessPlugin(
        rawPlugin(
          () => pki,
          (r) => ({ ...r, certificateChain: [r.certificateChain[0]!, r.certificateChain[2]!] }),
        ),
      ),
      { keyId: 'k1' },
    );
    const repo = memoryRepository();
    const artifact = await pushImage(repo);
    await expect(sign(`@${artifact.digest}`, { repository: repo, signer, envelope: jws })).toRejectWithCode('ERR_CERT_CHAIN_INVALID');
  });

  it('a plugin without signing capability is ERR_UNSUPPORTED; a plugin error body is ERR_PLUGIN_FAILED', async () => {
    const repo = memoryRepository();
    const artifact = await pushImage(repo);
    const verifierOnly = pluginSigner(inProcessPlugin(verifierPlugin()), { keyId: 'k1' });
    await expect(sign(`@${artifact.digest}`, { repository: repo, signer: verifierOnly, envelope: jws })).toRejectWithCode(
      'ERR_UNSUPPORTED',
    );
    const failing = definePlugin({
      metadata: metadata(['SIGNATURE_GENERATOR.RAW']),
      describeKey: () => {
        throw new Error('vault unreachable');
      },
      generateSignature: () => {
        throw new Error('unused');
      },
    });
    const s = pluginSigner(inProcessPlugin(failing), { keyId: 'k1' });
    await expect(sign(`@${artifact.digest}`, { repository: repo, signer: s, envelope: jws })).toRejectWithCode('ERR_PLUGIN_FAILED');
  });
});

describe('pluginSigner: SIGNATURE_GENERATOR.ENVELOPE', () => {
  for (const codec of [jws, cose]) {
    it(`${codec.mediaType}: generate-envelope, checked, annotations merged (notation's keys win)`, async () => {
      const repo = memoryRepository();
      const artifact = await pushImage(repo);
      const signer = pluginSigner(inProcessPlugin(envelopePlugin()), { keyId: 'k1' });
      const signed = await sign(`@${artifact.digest}`, { repository: repo, signer, envelope: codec, userMetadata: { team: 'a' } });
      const { bytes } = await repo.fetchManifest(signed.signatureManifest, {});
      const manifest = JSON.parse(new TextDecoder().decode(bytes));
      expect(manifest.annotations.signer).toBe('inproc');
      expect(manifest.annotations['io.cncf.notary.x509chain.thumbprint#S256']).not.toBe('x');
      const v = createVerifier({
        trustPolicy: policy(),
        trustStore: memoryTrustStore({ ca: { test: [pki.root.certificate] } }),
        envelopes: [codec],
        revocation: false,
      });
      const r = await v.verify(`@${artifact.digest}`, { repository: repo, scope: SCOPE, userMetadata: { team: 'a' } });
      expect(r.signature?.signer?.signingAgent).toBe('in-process envelope plugin');
    });
  }

  it('rejects an envelope for another artifact, or one that drops a signed annotation', async () => {
    const repo = memoryRepository();
    const artifact = await pushImage(repo);
    const otherArtifact = (p: Uint8Array) => {
      const j = JSON.parse(new TextDecoder().decode(p));
      j.targetArtifact.digest = `sha256:${'0'.repeat(64)}`;
      return utf8(JSON.stringify(j));
    };
    const dropAnnotations = (p: Uint8Array) => {
      const j = JSON.parse(new TextDecoder().decode(p));
      delete j.targetArtifact.annotations;
      return utf8(JSON.stringify(j));
    };
    for (const t of [otherArtifact, dropAnnotations]) {
      const signer = pluginSigner(inProcessPlugin(envelopePlugin(t)), { keyId: 'k1' });
      await expect(sign(`@${artifact.digest}`, { repository: repo, signer, envelope: jws, userMetadata: { a: 'b' } })).toRejectWithCode(
        'ERR_PLUGIN_PROTOCOL',
      );
    }
  });

  it('rejects an envelope of another type and garbage envelopes', async () => {
    const repo = memoryRepository();
    const artifact = await pushImage(repo);
    const wrongType = definePlugin({
      metadata: metadata(['SIGNATURE_GENERATOR.ENVELOPE']),
      generateEnvelope: () => ({ signatureEnvelope: utf8('{}'), signatureEnvelopeType: 'application/cose' }),
    });
    const garbage = definePlugin({
      metadata: metadata(['SIGNATURE_GENERATOR.ENVELOPE']),
      generateEnvelope: (req) => ({ signatureEnvelope: utf8('{}'), signatureEnvelopeType: req.signatureEnvelopeType }),
    });
    for (const p of [wrongType, garbage]) {
      const signer = pluginSigner(inProcessPlugin(p), { keyId: 'k1' });
      await expect(sign(`@${artifact.digest}`, { repository: repo, signer, envelope: jws })).toRejectWithCode('ERR_PLUGIN_PROTOCOL');
    }
  });
});

describe('verification plugins in verify()', () => {
  /** Sign with the envelope plugin, naming verification plugin `name` (and min version). */
  async function signedRepo(pluginConfig: Record<string, string>) {
    const repo = memoryRepository();
    const artifact = await pushImage(repo);
    const signer = pluginSigner(inProcessPlugin(envelopePlugin()), { keyId: 'k1', pluginConfig });
    await sign(`@${artifact.digest}`, { repository: repo, signer, envelope: jws });
    return { repo, artifact };
  }
  const NAMED = { 'io.cncf.notary.verificationPlugin': 'io.vouch.test.verifier', 'critical.SomeKey': 'SomeValue' };

  async function run(
    named: Record<string, string>,
    plugin: ReturnType<typeof verifierPlugin> | undefined,
    sv: Record<string, unknown> = { level: 'strict' },
    identities = ['*'],
  ) {
    const { repo, artifact } = await signedRepo(named);
    const v = createVerifier({
      trustPolicy: policy(sv, identities),
      trustStore: memoryTrustStore({ ca: { test: [pki.root.certificate] } }),
      envelopes: [jws],
      revocation: async () => {
        throw new Error('the built-in revocation check must not run when the plugin covers it');
      },
      plugins: (name) => (plugin && name === plugin.metadata.name ? inProcessPlugin(plugin) : undefined),
    });
    try {
      const r = await v.verify(`@${artifact.digest}`, { repository: repo, scope: SCOPE });
      return { ok: true as const, r };
    } catch (e) {
      if (!isVouchError(e)) throw e;
      const outcomes = (e.details?.outcomes ?? []) as { error?: { code: string; message: string } }[];
      return { ok: false as const, code: outcomes[0]?.error?.code, message: outcomes[0]?.error?.message ?? '' };
    }
  }

  it('both capabilities succeed: the plugin replaces the identity and revocation checks and gets the critical attributes', async () => {
    const calls: NonNullable<VerifierBehaviour['calls']> = [];
    const res = await run(NAMED, verifierPlugin({ calls }), { level: 'strict' }, ['x509.subject: CN=nobody,O=none,ST=WA,C=US']);
    expect(res.ok).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.caps.sort()).toEqual([...VERIFIER_CAPS].sort());
    expect(calls[0]!.unprocessed).toEqual(['SomeKey']);
    expect(res.ok && res.r.signature?.checks.map((c) => `${c.type}:${c.result}`)).toContain('trustedIdentity:passed');
  });

  it('missing plugin: ERR_PLUGIN_NOT_FOUND, fatal even under audit', async () => {
    for (const level of ['strict', 'audit']) {
      const res = await run(NAMED, undefined, { level });
      expect(res).toMatchObject({ ok: false, code: 'ERR_PLUGIN_NOT_FOUND' });
    }
  });

  it('no verifier capability, or a version below the signature minimum: inconclusive', async () => {
    const raw = await run(NAMED, verifierPlugin({}, ['SIGNATURE_GENERATOR.RAW']));
    expect(raw).toMatchObject({ ok: false, code: 'ERR_VERIFICATION_INCONCLUSIVE' });
    expect(raw.ok === false && raw.message).toMatch(/signature verification capabilities/);
    const old = await run({ ...NAMED, 'io.cncf.notary.verificationPluginMinVersion': '1.0.1' }, verifierPlugin({}, undefined, '1.0.0'));
    expect(old).toMatchObject({ ok: false, code: 'ERR_VERIFICATION_INCONCLUSIVE' });
    expect(old.ok === false && old.message).toMatch(/greater than or equal to 1\.0\.1/);
    const fine = await run(
      { ...NAMED, 'io.cncf.notary.verificationPluginMinVersion': '1.0.0-alpha' },
      verifierPlugin({}, undefined, '1.0.0'),
    );
    expect(fine.ok).toBe(true);
  });

  it('plugin versions follow SemVer 2.0.0: pre-releases by precedence, no leading v (as notation)', async () => {
    const min = (v: string) => ({ ...NAMED, 'io.cncf.notary.verificationPluginMinVersion': v });
    const beta2 = await run(min('1.0.0-beta.11'), verifierPlugin({}, undefined, '1.0.0-beta.2'));
    expect(beta2).toMatchObject({ ok: false, code: 'ERR_VERIFICATION_INCONCLUSIVE' });
    expect((await run(min('1.0.0-beta.2'), verifierPlugin({}, undefined, '1.0.0-beta.11'))).ok).toBe(true);
    const prefixed = await run(min('1.0.0'), verifierPlugin({}, undefined, 'v1.0.0'));
    expect(prefixed).toMatchObject({ ok: false, code: 'ERR_VERIFICATION_INCONCLUSIVE' });
    expect(prefixed.ok === false && prefixed.message).toMatch(/not in valid semver format/);
  });

  it('identity failure is enforced under strict and logged under audit', async () => {
    const strict = await run(NAMED, verifierPlugin({ identity: 'nope' }));
    expect(strict).toMatchObject({ ok: false, code: 'ERR_IDENTITY_UNTRUSTED' });
    expect(strict.ok === false && strict.message).toBe(
      'trusted identify verification by plugin "io.vouch.test.verifier" failed with reason "nope"',
    );
    const audit = await run(NAMED, verifierPlugin({ identity: 'nope' }), { level: 'audit' });
    expect(audit.ok && audit.r.warnings.map((w) => w.code)).toEqual(['ERR_IDENTITY_UNTRUSTED']);
  });

  it('revocation failure follows the revocation action; revocation skip drops the capability', async () => {
    expect(await run(NAMED, verifierPlugin({ revocation: 'revoked' }))).toMatchObject({ ok: false, code: 'ERR_CERT_REVOKED' });
    const permissive = await run(NAMED, verifierPlugin({ revocation: 'revoked' }), { level: 'permissive' });
    expect(permissive.ok).toBe(true);
    const calls: NonNullable<VerifierBehaviour['calls']> = [];
    const skipped = await run(NAMED, verifierPlugin({ calls }, ['SIGNATURE_VERIFIER.REVOCATION_CHECK']), {
      level: 'strict',
      override: { revocation: 'skip' },
    });
    expect(skipped.ok).toBe(true);
    expect(calls).toEqual([]);
  });

  it('unprocessed critical attributes fail; expiry is always sent (zero time when absent)', async () => {
    const calls: NonNullable<VerifierBehaviour['calls']> = [];
    const res = await run(NAMED, verifierPlugin({ processAll: false, calls }));
    expect(res).toMatchObject({ ok: false, code: 'ERR_ENVELOPE_UNSUPPORTED' });
    expect(res.ok === false && res.message).toMatch(/extended critical attribute "SomeKey" was not processed/);
    expect(calls[0]?.expiry).toBeUndefined(); // the codec maps Go's zero time back to "none"
  });

  it('a plugin that fails or breaks the contract makes the signature inconclusive', async () => {
    const broken = definePlugin({
      metadata: metadata([...VERIFIER_CAPS], '1.0.0', 'io.vouch.test.verifier'),
      verifySignature: () => ({
        verificationResults: { 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY': { success: true } },
        processedAttributes: [],
      }),
    });
    const res = await run(NAMED, broken as ReturnType<typeof verifierPlugin>);
    expect(res).toMatchObject({ ok: false, code: 'ERR_VERIFICATION_INCONCLUSIVE' });
    expect(res.ok === false && res.message).toMatch(/failed to verify "SIGNATURE_VERIFIER.REVOCATION_CHECK"/);
  });
});
