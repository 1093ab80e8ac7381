import { type Descriptor, encodePem, VouchError } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';
import { type MemoryRepository, memoryRepository, type Repository } from '@vouch/registry';
import { parseTrustedRoot } from '@vouch/sigstore';
import { pushTestImage } from '@vouch/testing';
import {
  bundleStatement,
  cosignAttestationLayer,
  cosignSignatureLayer,
  createTestSigstore,
  dsseBundle,
  generateEcdsa,
  imageStatement,
  pushBundleReferrer,
  pushCosignTag,
  spkiOf,
  type TestSigstore,
} from '@vouch/testing/sigstore';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AdmissionReview, handleAdmissionReview } from '../admission/admission.js';
import { createKyvernoEngine, evaluateResource } from '../engine/engine.js';
import type { KyvernoEngineOptions } from '../engine/types.js';
import { policyFromObject } from '../policy/parse.js';
import type { KubeObject, KyvernoPolicy } from '../types.js';
import { type CosignImageVerifier, type CosignImageVerifierOptions, cosignImageVerifier } from './cosign.js';

const REG = 'registry.example.com';
const ISSUER = 'https://token.actions.githubusercontent.com';
const WORKFLOW = 'https://github.com/org/app/.github/workflows/release.yml@refs/tags/v1.2.3';

let stack: TestSigstore;
let keyPem: string;
let otherKeyPem: string;
let keySigner: { keyPair: CryptoKeyPair };
let cert: Awaited<ReturnType<TestSigstore['fulcio']['issue']>>;
const repos = new Map<string, MemoryRepository>();
const digests: Record<string, string> = {};

function repositoryFor(ref: { registry: string; repository: string }): Repository {
  const r = repos.get(`${ref.registry}/${ref.repository}`);
  if (!r) throw new VouchError('ERR_NETWORK', `no route to ${ref.registry}`);
  return r;
}

async function image(name: string): Promise<{ repo: MemoryRepository; subject: Descriptor }> {
  const repo = memoryRepository();
  repos.set(`${REG}/${name}`, repo);
  const subject = await pushTestImage(repo, 'v1', name);
  digests[name] = subject.digest;
  return { repo, subject };
}

const claim = (name: string) => ({ dockerReference: `${REG}/${name}`, digest: digests[name]! });

beforeAll(async () => {
  stack = await createTestSigstore();
  keySigner = { keyPair: await generateEcdsa() };
  keyPem = encodePem('PUBLIC KEY', await spkiOf(keySigner.keyPair.publicKey));
  otherKeyPem = encodePem('PUBLIC KEY', await spkiOf((await generateEcdsa()).publicKey));
  cert = await stack.fulcio.issue({ subject: WORKFLOW, issuer: ISSUER, extensions: { 2: 'push', 5: 'org/app' } });

  // key-signed `.sig` without a log entry (cosign sign --tlog-upload=false), and with a SET
  let i = await image('keyed');
  await pushCosignTag(i.repo, i.subject, 'sig', [await cosignSignatureLayer(stack, claim('keyed'), { signer: keySigner, log: false })]);
  i = await image('keyed-set');
  await pushCosignTag(i.repo, i.subject, 'sig', [await cosignSignatureLayer(stack, claim('keyed-set'), { signer: keySigner })]);
  i = await image('annotated');
  await pushCosignTag(i.repo, i.subject, 'sig', [
    await cosignSignatureLayer(stack, { ...claim('annotated'), annotations: { env: 'prod' } }, { signer: keySigner, log: false }),
  ]);
  await image('unsigned');
  // keyless: Fulcio-like certificate (SCT embedded), SET from the test Rekor
  i = await image('keyless');
  await pushCosignTag(i.repo, i.subject, 'sig', [await cosignSignatureLayer(stack, claim('keyless'), { signer: cert })]);
  await pushCosignTag(i.repo, i.subject, 'att', [
    await cosignAttestationLayer(
      stack,
      imageStatement({
        name: `${REG}/keyless`,
        digest: digests.keyless!,
        predicateType: 'https://slsa.dev/provenance/v0.2',
        predicate: { builder: { id: 'https://github.com/slsa-framework/generator@v1' }, buildType: 'container' },
      }),
      { signer: cert },
    ),
  ]);
  // a GitHub artifact attestation: only a SLSA v1 provenance bundle referrer (keyless, logged)
  i = await image('attested');
  await pushBundleReferrer(
    i.repo,
    i.subject,
    await dsseBundle(
      stack,
      bundleStatement({ digest: digests.attested!, predicateType: 'https://slsa.dev/provenance/v1', predicate: { buildDefinition: {} } }),
      cert,
    ),
    'https://slsa.dev/provenance/v1',
  );
  // cosign 3: a bundle referrer (keyless, logged)
  i = await image('bundle');
  await pushBundleReferrer(
    i.repo,
    i.subject,
    await dsseBundle(stack, bundleStatement({ digest: digests.bundle!, predicateType: 'https://sigstore.dev/cosign/sign/v1' }), cert),
    'https://sigstore.dev/cosign/sign/v1',
  );
});

function policy(entry: Record<string, unknown>, spec: Record<string, unknown> = {}): KyvernoPolicy {
  return policyFromObject({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'cosign' },
    spec: {
      validationFailureAction: 'Enforce',
      ...spec,
      rules: [
        {
          name: 'verify',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          verifyImages: [{ imageReferences: [`${REG}/*`], ...entry }],
        },
      ],
    },
  });
}

const pod = (...images: string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app', namespace: 'default' },
  spec: { containers: images.map((image, k) => ({ name: `c${k}`, image })) },
});

function engine(p: KyvernoPolicy, o: Partial<CosignImageVerifierOptions> = {}, extra: Partial<KyvernoEngineOptions> = {}) {
  return createKyvernoEngine({ policies: [p], cosignVerifier: cosignImageVerifier({ repositoryFor, ...o }), ...extra });
}

/** The phase-1 responses of the rule for a pod of `images`. */
async function run(p: KyvernoPolicy, images: string[], o: Partial<CosignImageVerifierOptions> = {}) {
  const r = await evaluateResource(engine(p, o), { resource: pod(...images) });
  return { rules: r.verifyImages.responses[0]!.rules, patches: r.verifyImages.patches, validation: r.validation[0]?.rules ?? [] };
}

const keys = (k: Record<string, unknown>, set: Record<string, unknown> = {}) => ({ attestors: [{ ...set, entries: [{ keys: k }] }] });
const noTlog = { rekor: { url: 'https://rekor.sigstore.dev', ignoreTlog: true } };
const trustedRoot = () => parseTrustedRoot(JSON.stringify(stack.trustedRoot()));

describe('type Cosign: keys', () => {
  it('verifies a key-signed .sig with ignoreTlog and pins the digest (mutateDigest)', async () => {
    const r = await run(policy(keys({ publicKeys: keyPem, ...noTlog })), [`${REG}/keyed:v1`]);
    expect(r.rules.map((x) => [x.status, x.message])).toEqual([['pass', `verified image signatures for ${REG}/keyed:v1`]]);
    expect(r.patches).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: `${REG}/keyed:v1@${digests.keyed}` });
    expect(r.validation.map((x) => x.status)).toEqual(['pass']);
  });

  it('wrong key, unsigned image: fail with the entry path .keys', async () => {
    let r = await run(policy(keys({ publicKeys: otherKeyPem, ...noTlog })), [`${REG}/keyed:v1`]);
    expect(r.rules[0]!.status).toBe('fail');
    expect(r.rules[0]!.message).toMatch(
      new RegExp(`^failed to verify image ${REG}/keyed:v1: \\.attestors\\[0\\]\\.entries\\[0\\]\\.keys: no matching signatures: `),
    );
    r = await run(policy(keys({ publicKeys: keyPem, ...noTlog })), [`${REG}/unsigned:v1`]);
    expect(r.rules[0]!.message).toBe(`failed to verify image ${REG}/unsigned:v1: .attestors[0].entries[0].keys: no signatures found`);
  });

  it('without a SET and with the log required (no rekor block): fails naming rekor.ignoreTlog, never an error', async () => {
    const r = await run(policy(keys({ publicKeys: keyPem })), [`${REG}/keyed:v1`]);
    expect(r.rules[0]!.status).toBe('fail');
    expect(r.rules[0]!.message).toContain('no transparency log entry and vouch does not search Rekor online');
    expect(r.rules[0]!.message).toContain('`rekor.ignoreTlog: true`');
  });

  it('a SET: checked with rekor.pubkey, or the trusted root; without either the failure names rekor.pubkey', async () => {
    let r = await run(policy(keys({ publicKeys: keyPem, rekor: { url: 'https://rekor.test', pubkey: stack.rekor.publicKeyPem } })), [
      `${REG}/keyed-set:v1`,
    ]);
    expect(r.rules[0]!.status).toBe('pass');
    r = await run(policy(keys({ publicKeys: keyPem })), [`${REG}/keyed-set:v1`], { trustedRoot: trustedRoot() });
    expect(r.rules[0]!.status).toBe('pass');
    r = await run(policy(keys({ publicKeys: keyPem })), [`${REG}/keyed-set:v1`]);
    expect(r.rules[0]!.status).toBe('fail');
    expect(r.rules[0]!.message).toContain('`rekor.pubkey`');
    // the wrong Rekor key
    r = await run(policy(keys({ publicKeys: keyPem, rekor: { url: 'x', pubkey: otherKeyPem } })), [`${REG}/keyed-set:v1`]);
    expect(r.rules[0]!.status).toBe('fail');
  });

  it('multi-key publicKeys: one entry per key, counted against count (and the split keys need the log, as in Kyverno)', async () => {
    const both = `${otherKeyPem}${keyPem}`;
    // count 1: the second key verifies; the split entries carry no rekor block, so the SET is required
    let r = await run(policy(keys({ publicKeys: both, ...noTlog }, { count: 1 })), [`${REG}/keyed-set:v1`], { trustedRoot: trustedRoot() });
    expect(r.rules[0]!.status).toBe('pass');
    // no count: every key must verify
    r = await run(policy(keys({ publicKeys: both }, {})), [`${REG}/keyed-set:v1`], { trustedRoot: trustedRoot() });
    expect(r.rules[0]!.status).toBe('fail');
    expect(r.rules[0]!.message).toContain('.attestors[0].entries[0].keys:');
    expect(r.rules[0]!.message).not.toContain('.attestors[0].entries[1].keys:');
    // without a SET the split keys fail even with ignoreTlog, and the message says why
    r = await run(policy(keys({ publicKeys: both, ...noTlog }, { count: 1 })), [`${REG}/keyed:v1`]);
    expect(r.rules[0]!.status).toBe('fail');
    expect(r.rules[0]!.message).toContain('split from a keys.publicKeys holding several keys');
  });

  it('annotations: every one must be in the signed payload', async () => {
    const ok = await run(
      policy({ attestors: [{ entries: [{ keys: { publicKeys: keyPem, ...noTlog }, annotations: { env: 'prod' } }] }] }),
      [`${REG}/annotated:v1`],
    );
    expect(ok.rules[0]!.status).toBe('pass');
    const bad = await run(
      policy({ attestors: [{ entries: [{ keys: { publicKeys: keyPem, ...noTlog }, annotations: { env: 'dev' } }] }] }),
      [`${REG}/annotated:v1`],
    );
    expect(bad.rules[0]!.status).toBe('fail');
  });

  it('keys.secret and keys.kms: resolved by the host; without a resolver not available offline (fail)', async () => {
    const p = policy(keys({ secret: { name: 'cosign', namespace: 'ns' }, ...noTlog }));
    let r = await run(p, [`${REG}/keyed:v1`]);
    expect(r.rules[0]!.status).toBe('fail');
    expect(r.rules[0]!.message).toContain('keys.secret ns/cosign: the key is not available offline');
    const asked: unknown[] = [];
    r = await run(p, [`${REG}/keyed:v1`], {
      resolveKey: (req) => {
        asked.push(req);
        return keyPem;
      },
    });
    expect(r.rules[0]!.status).toBe('pass');
    expect(asked).toEqual([{ source: 'secret', namespace: 'ns', name: 'cosign' }]);
    r = await run(policy(keys({ kms: 'awskms:///alias/x', ...noTlog })), [`${REG}/keyed:v1`]);
    expect(r.rules[0]!.message).toContain('keys.kms awskms:///alias/x: the key is not available offline');
    r = await run(policy(keys({ publicKeys: 'k8s://ns/cosign', ...noTlog })), [`${REG}/keyed:v1`], { resolveKey: () => keyPem });
    expect(r.rules[0]!.status).toBe('pass');
  });
});

describe('type Cosign: certificates and keyless', () => {
  const keyless = (k: Record<string, unknown>) => ({
    attestors: [{ entries: [{ keyless: { rekor: { url: 'https://rekor.test' }, ...k } }] }],
  });

  it('keyless: roots from the policy or the trusted root; subject wildcards against every SAN; issuer; extensions', async () => {
    const pem = stack.pem();
    const withKeys = { roots: pem.roots, rekor: { url: 'x', pubkey: pem.rekorPublicKeys }, ctlog: { pubkey: pem.ctlogPublicKeys } };
    for (const [k, o] of [
      [{ ...withKeys, subject: 'https://github.com/org/app/*', issuer: ISSUER }, {}],
      [{ subject: 'https://github.com/org/app/*', issuer: ISSUER }, { trustedRoot: trustedRoot() }],
      [{ subjectRegExp: '^https://github\\.com/org/.+@refs/tags/v', issuerRegExp: 'githubusercontent' }, { trustedRoot: trustedRoot() }],
      [
        { subject: WORKFLOW, additionalExtensions: { githubWorkflowTrigger: 'push', '1.3.6.1.4.1.57264.1.5': 'org/*' } },
        { trustedRoot: trustedRoot() },
      ],
    ] as const) {
      const r = await run(policy(keyless(k)), [`${REG}/keyless:v1`], o);
      expect([r.rules[0]!.status, r.rules[0]!.message]).toEqual(['pass', `verified image signatures for ${REG}/keyless:v1`]);
    }
  });

  it('keyless: the wrong identity or issuer fails with Kyverno mismatch messages; missing roots name keyless.roots', async () => {
    const o = { trustedRoot: trustedRoot() };
    let r = await run(policy(keyless({ subject: 'https://github.com/other/*', issuer: ISSUER })), [`${REG}/keyless:v1`], o);
    expect(r.rules[0]!.message).toBe(
      `failed to verify image ${REG}/keyless:v1: .attestors[0].entries[0].keyless: subject mismatch: expected https://github.com/other/*, received ${WORKFLOW}`,
    );
    r = await run(policy(keyless({ subject: '*', issuer: 'https://accounts.google.com' })), [`${REG}/keyless:v1`], o);
    expect(r.rules[0]!.message).toContain(`issuer mismatch: expected https://accounts.google.com, received ${ISSUER}`);
    r = await run(
      policy(keyless({ subject: '*', additionalExtensions: { githubWorkflowTrigger: 'pull_request' } })),
      [`${REG}/keyless:v1`],
      o,
    );
    expect(r.rules[0]!.message).toContain('extension mismatch: expected pull_request for key githubWorkflowTrigger, received push');
    r = await run(policy(keyless({ subject: '*' })), [`${REG}/keyless:v1`]);
    expect(r.rules[0]!.status).toBe('fail');
    expect(r.rules[0]!.message).toContain('`rekor.pubkey`'); // the log is checked first
    const logs = { rekor: { url: 'x', pubkey: stack.rekor.publicKeyPem }, ctlog: { pubkey: stack.ctlog.publicKeyPem } };
    r = await run(policy(keyless({ subject: '*', ...logs })), [`${REG}/keyless:v1`]);
    expect(r.rules[0]!.status).toBe('fail');
    expect(r.rules[0]!.message).toContain('`keyless.roots`');
    // SCTs are required unless ignored; the policy's CT key must be the right one
    r = await run(policy(keyless({ subject: '*', ctlog: { pubkey: otherKeyPem } })), [`${REG}/keyless:v1`], o);
    expect(r.rules[0]!.status).toBe('fail');
    r = await run(policy(keyless({ subject: '*', ctlog: { pubkey: otherKeyPem, ignoreSCT: true } })), [`${REG}/keyless:v1`], o);
    expect(r.rules[0]!.status).toBe('pass');
  });

  it('certificates: cert pins its key; certChain trusts what it issued; the wrong cert fails', async () => {
    const certPem = encodePem('CERTIFICATE', cert.certificate.der);
    const rekor = { rekor: { url: 'x', pubkey: stack.rekor.publicKeyPem } };
    let r = await run(policy({ attestors: [{ entries: [{ certificates: { cert: certPem, ...rekor } }] }] }), [`${REG}/keyless:v1`]);
    expect(r.rules[0]!.status).toBe('pass');
    r = await run(
      policy({
        attestors: [
          { entries: [{ certificates: { certChain: stack.fulcio.chainPem, ...rekor, ctlog: { pubkey: stack.ctlog.publicKeyPem } } }] },
        ],
      }),
      [`${REG}/keyless:v1`],
    );
    expect(r.rules[0]!.status).toBe('pass');
    r = await run(
      policy({
        attestors: [
          { entries: [{ certificates: { cert: certPem, certChain: stack.fulcio.chainPem, ...rekor, ctlog: { ignoreSCT: true } } }] },
        ],
      }),
      [`${REG}/keyless:v1`],
    );
    expect(r.rules[0]!.status).toBe('pass');
    const other = await stack.fulcio.issue({ subject: 'someone@example.com', issuer: ISSUER });
    r = await run(
      policy({ attestors: [{ entries: [{ certificates: { cert: encodePem('CERTIFICATE', other.certificate.der), ...rekor } }] }] }),
      [`${REG}/keyless:v1`],
    );
    expect(r.rules[0]!.status).toBe('fail');
    expect(r.rules[0]!.message).toContain('.attestors[0].entries[0].certificates:');
  });

  it('count across attestor sets: sets are ANDed, count of a set met by its first verified entries', async () => {
    const o = { trustedRoot: trustedRoot() };
    const bad = { keyless: { subject: 'nobody', issuer: ISSUER, rekor: { url: 'x' } } };
    const good = { keyless: { subject: WORKFLOW, issuer: ISSUER, rekor: { url: 'x' } } };
    let r = await run(policy({ attestors: [{ count: 1, entries: [bad, good] }] }), [`${REG}/keyless:v1`], o);
    expect(r.rules[0]!.status).toBe('pass');
    r = await run(policy({ attestors: [{ entries: [bad, good] }] }), [`${REG}/keyless:v1`], o);
    expect(r.rules[0]!.status).toBe('fail');
    r = await run(
      policy({
        attestors: [
          { count: 1, entries: [good] },
          { count: 1, entries: [bad] },
        ],
      }),
      [`${REG}/keyless:v1`],
      o,
    );
    expect(r.rules[0]!.message).toContain('.attestors[1].entries[0].keyless: subject mismatch');
  });
});

describe('type Cosign: attestations', () => {
  const att = (
    conditions: unknown[],
    entry: Record<string, unknown> = { keyless: { subject: WORKFLOW, issuer: ISSUER, rekor: { url: 'x' } } },
  ) => ({
    attestations: [{ type: 'https://slsa.dev/provenance/v0.2', attestors: [{ entries: [entry] }], conditions }],
  });
  const cond = (value: string) => [{ all: [{ key: '{{ builder.id }}', operator: 'Equals', value }] }];

  it('conditions over the predicate: true passes, false fails with the condition message', async () => {
    const o = { trustedRoot: trustedRoot() };
    let r = await run(policy(att(cond('https://github.com/slsa-framework/generator@v1'))), [`${REG}/keyless:v1`], o);
    expect([r.rules[0]!.status, r.rules[0]!.message]).toEqual(['pass', `verified image attestations for ${REG}/keyless:v1`]);
    r = await run(policy(att(cond('somebody else'))), [`${REG}/keyless:v1`], o);
    expect(r.rules[0]!.status).toBe('fail');
    expect(r.rules[0]!.message).toContain(
      `.attestations[0].attestors[0].entries[0].keyless: attestation checks failed for ${REG}/keyless:v1 and predicate https://slsa.dev/provenance/v0.2`,
    );
  });

  it('the wrong identity, a type not attested, an unsigned image: fail', async () => {
    const o = { trustedRoot: trustedRoot() };
    let r = await run(policy(att([], { keyless: { subject: 'nobody', issuer: ISSUER, rekor: { url: 'x' } } })), [`${REG}/keyless:v1`], o);
    expect(r.rules[0]!.message).toContain('subject mismatch: expected nobody');
    r = await run(
      policy({
        attestations: [
          { type: 'https://cyclonedx.org/bom', attestors: [{ entries: [{ keyless: { subject: '*', rekor: { url: 'x' } } }] }] },
        ],
      }),
      [`${REG}/keyless:v1`],
      o,
    );
    expect(r.rules[0]!.message).toContain('attestions not found for predicate type https://cyclonedx.org/bom');
    r = await run(policy(att([])), [`${REG}/unsigned:v1`], o);
    expect(r.rules[0]!.status).toBe('fail');
  });

  it('an attestation without attestors: any signer the trusted root vouches for (Kyverno: the public-good roots)', async () => {
    const p = policy({
      attestations: [
        { predicateType: 'https://slsa.dev/provenance/v0.2', conditions: cond('https://github.com/slsa-framework/generator@v1') },
      ],
    });
    expect((await run(p, [`${REG}/keyless:v1`], { trustedRoot: trustedRoot() })).rules[0]!.status).toBe('pass');
    const r = await run(p, [`${REG}/keyless:v1`]);
    expect(r.rules[0]!.status).toBe('fail');
  });
});

describe('type SigstoreBundle and cosign 3 bundles', () => {
  it('SigstoreBundle reads bundle referrers only, with the policy or trusted-root material', async () => {
    const p = policy({
      type: 'SigstoreBundle',
      attestors: [{ entries: [{ keyless: { subject: WORKFLOW, issuer: ISSUER, rekor: { url: 'https://rekor.test' } } }] }],
    });
    expect((await run(p, [`${REG}/bundle:v1`], { trustedRoot: trustedRoot() })).rules[0]!.status).toBe('pass');
    // the legacy .sig of another image is not read by SigstoreBundle
    const legacy = await run(p, [`${REG}/keyless:v1`], { trustedRoot: trustedRoot() });
    expect(legacy.rules[0]!.message).toContain('no signatures found');
    const pem = stack.pem();
    const fromPolicy = policy({
      type: 'SigstoreBundle',
      attestors: [
        {
          entries: [
            {
              keyless: {
                subject: WORKFLOW,
                issuer: ISSUER,
                roots: pem.roots,
                rekor: { url: 'x', pubkey: pem.rekorPublicKeys },
                ctlog: { pubkey: pem.ctlogPublicKeys },
              },
            },
          ],
        },
      ],
    });
    expect((await run(fromPolicy, [`${REG}/bundle:v1`])).rules[0]!.status).toBe('pass');
    const wrong = policy({
      type: 'SigstoreBundle',
      attestors: [{ entries: [{ keyless: { subject: 'https://github.com/org/app/*', issuer: ISSUER, rekor: { url: 'x' } } }] }],
    });
    // SigstoreBundle compares subject literally (as Kyverno's sigstore-go policy does)
    expect((await run(wrong, [`${REG}/bundle:v1`], { trustedRoot: trustedRoot() })).rules[0]!.message).toContain(
      'sigstore bundle verification failed: no matching signatures found',
    );
  });

  it('SigstoreBundle image check: any bundle of the image counts, whatever its predicate type (as in Kyverno); the identity still must match', async () => {
    const entry = (subject: string) => ({ keyless: { subject, issuer: ISSUER, rekor: { url: 'https://rekor.test' } } });
    const ok = policy({ type: 'SigstoreBundle', attestors: [{ entries: [entry(WORKFLOW)] }] });
    expect((await run(ok, [`${REG}/attested:v1`], { trustedRoot: trustedRoot() })).rules[0]!.status).toBe('pass');
    const other = policy({
      type: 'SigstoreBundle',
      attestors: [{ entries: [entry('https://github.com/org/other/.github/workflows/x.yml@refs/heads/main')] }],
    });
    const r = await run(other, [`${REG}/attested:v1`], { trustedRoot: trustedRoot() });
    expect(r.rules[0]!.status).toBe('fail');
    expect(r.rules[0]!.message).toContain('no matching signatures found');
    // without the trust material the bundle cannot verify: fail, never pass
    expect((await run(ok, [`${REG}/attested:v1`])).rules[0]!.status).toBe('fail');
    // type Cosign reads image signatures only: an attestation is not one
    const cosign = policy({ attestors: [{ entries: [entry(WORKFLOW)] }] });
    expect((await run(cosign, [`${REG}/attested:v1`], { trustedRoot: trustedRoot() })).rules[0]!.message).toContain('no signatures found');
  });

  it('type Cosign also reads cosign 3 bundle referrers', async () => {
    const p = policy({
      attestors: [{ entries: [{ keyless: { subject: 'https://github.com/org/app/*', issuer: ISSUER, rekor: { url: 'x' } } }] }],
    });
    expect((await run(p, [`${REG}/bundle:v1`], { trustedRoot: trustedRoot() })).rules[0]!.status).toBe('pass');
  });
});

describe('admission with a Cosign rule', () => {
  const review = (object: KubeObject): AdmissionReview => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'default',
      name: 'app',
      operation: 'CREATE',
      userInfo: { username: 'u' },
      object,
    },
  });

  it('fail closed: failurePolicy Ignore + an unsigned image is denied; a signed one admitted with its digest', async () => {
    const e = engine(policy(keys({ publicKeys: keyPem, ...noTlog }), { failurePolicy: 'Ignore' }));
    const denied = (await handleAdmissionReview(review(pod(`${REG}/unsigned:v1`)), e)).response!;
    expect(denied.allowed).toBe(false);
    expect(denied.status!.message).toContain('no signatures found');
    const ok = (await handleAdmissionReview(review(pod(`${REG}/keyed:v1`)), e)).response!;
    expect(ok.allowed).toBe(true);
    const ops = JSON.parse(fromUtf8(fromBase64(ok.patch!))) as { path: string; value: unknown }[];
    expect(ops).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: `${REG}/keyed:v1@${digests.keyed}` });
  });

  it('an unreachable registry is an infrastructure error: Ignore admits unpinned, Fail denies', async () => {
    const img = 'down.example.com/app:v1';
    const p = (fp: string) =>
      policy({ ...keys({ publicKeys: keyPem, ...noTlog }), imageReferences: ['down.example.com/*'] }, { failurePolicy: fp });
    const ignore = (await handleAdmissionReview(review(pod(img)), engine(p('Ignore')))).response!;
    expect(ignore.allowed).toBe(true);
    const fail = (await handleAdmissionReview(review(pod(img)), engine(p('Fail')))).response!;
    expect(fail.allowed).toBe(false);
  });

  it('eight containers of one image, no cross-review cache: exactly one verification per digest per review', async () => {
    const inner = cosignImageVerifier({ repositoryFor });
    const calls: string[] = [];
    const counting: CosignImageVerifier = {
      verifyImage: (r) => {
        calls.push(r.image);
        return inner.verifyImage(r);
      },
      verifyAttestations: (r) => {
        calls.push(`att ${r.image}`);
        return inner.verifyAttestations(r);
      },
      resolveDigest: (image, signal) => inner.resolveDigest(image, signal),
    };
    const e = createKyvernoEngine({ policies: [policy(keys({ publicKeys: keyPem, ...noTlog }))], cosignVerifier: counting, cache: false });
    const eight = Array.from({ length: 8 }, () => `${REG}/keyed:v1`);
    for (let n = 1; n <= 3; n++) {
      const res = (await handleAdmissionReview(review(pod(...eight)), e)).response!;
      expect(res.allowed).toBe(true);
      // every container is pinned to the verified digest
      const ops = JSON.parse(fromUtf8(fromBase64(res.patch!))) as { path: string; value: unknown }[];
      expect(ops.filter((o) => o.value === `${REG}/keyed:v1@${digests.keyed}`)).toHaveLength(8);
      expect(calls).toHaveLength(n); // one more verification per review: nothing is kept between reviews
    }
    // the same digest by tag and by digest: still one verification
    calls.length = 0;
    const both = [
      ...Array.from({ length: 4 }, () => `${REG}/keyed:v1`),
      ...Array.from({ length: 4 }, () => `${REG}/keyed@${digests.keyed}`),
    ];
    expect((await handleAdmissionReview(review(pod(...both)), e)).response!.allowed).toBe(true);
    expect(calls).toHaveLength(1);
    // two images (each four times): one verification each
    calls.length = 0;
    const mixed = [...Array.from({ length: 4 }, () => `${REG}/keyed:v1`), ...Array.from({ length: 4 }, () => `${REG}/annotated:v1`)];
    expect((await handleAdmissionReview(review(pod(...mixed)), e)).response!.allowed).toBe(true);
    expect(calls.sort()).toEqual([`${REG}/annotated:v1`, `${REG}/keyed:v1`]);
  });

  it('eight containers of one image: one verification per review', async () => {
    const e = engine(policy(keys({ publicKeys: keyPem, ...noTlog })));
    const images = Array.from({ length: 8 }, () => `${REG}/keyed:v1`);
    const res = (await handleAdmissionReview(review(pod(...images)), e)).response!;
    expect(res.allowed).toBe(true);
    expect(e.cache.misses).toBe(1);
    await handleAdmissionReview(review(pod(...images)), e);
    expect(e.cache.misses).toBe(1); // the second review is answered from the cache
  });
});
