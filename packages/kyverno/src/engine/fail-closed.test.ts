import { VouchError } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';
import { describe, expect, it } from 'vitest';
import { type AdmissionReview, handleAdmissionReview, isBlocked } from '../admission/admission.js';
import { applyPolicies } from '../apply/apply.js';
import { parsePolicies, policyFromObject } from '../policy/parse.js';
import { findUnsupported, KYVERNO_SUPPORT } from '../policy/support.js';
import type { KubeObject, KyvernoPolicy } from '../types.js';
import { isInfrastructureError, type NotaryImageVerifier } from '../verifier/verifier.js';
import { createKyvernoEngine, evaluateResource, verifyAndPatchImages } from './engine.js';

// Regression tests for issue 11 defect 1: whatever vouch cannot evaluate never admits an image.

const DIGEST = `sha256:${'d'.repeat(64)}`;
const CERT = '-----BEGIN CERTIFICATE-----\nZ29vZA==\n-----END CERTIFICATE-----';

/** Signed: registry.example.com/signed*; unreachable: down.example.com; `boom.example.com` throws a TypeError. */
function verifier(): NotaryImageVerifier {
  return {
    async verifyImage(req) {
      if (req.image.startsWith('down.example.com/')) {
        throw new VouchError('ERR_SIGNATURE_RETRIEVAL_FAILED', 'failed to resolve digest: GET failed', {
          cause: new VouchError('ERR_NETWORK', 'connect ECONNREFUSED'),
        });
      }
      if (req.image.startsWith('boom.example.com/')) throw new TypeError("Cannot read properties of undefined (reading 'digest')");
      if (req.image.startsWith('http500.example.com/')) throw new VouchError('ERR_REGISTRY_HTTP', 'GET /v2/: unexpected HTTP 500');
      if (!req.image.includes('/signed')) throw new VouchError('ERR_SIGNATURE_NOT_FOUND', `no signature is associated with "${req.image}"`);
      return { digest: DIGEST };
    },
    async resolveDigest() {
      return DIGEST;
    },
  };
}

type Entry = Record<string, unknown>;

function clusterPolicy(name: string, entry: Entry, spec: Record<string, unknown> = {}, rule: Record<string, unknown> = {}): KyvernoPolicy {
  return policyFromObject({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name },
    spec: {
      validationFailureAction: 'Enforce',
      ...spec,
      rules: [
        {
          name: 'verify',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          verifyImages: [{ imageReferences: ['*'], ...entry }],
          ...rule,
        },
      ],
    },
  });
}

const notary = (extra: Entry = {}): Entry => ({ type: 'Notary', attestors: [{ entries: [{ certificates: { cert: CERT } }] }], ...extra });
const cosign = (extra: Entry = {}): Entry => ({ attestors: [{ entries: [{ keys: { publicKeys: 'PEM' } }] }], ...extra });
/** A Cosign entry with a construct vouch does not evaluate (a signatureAlgorithm other than sha256). */
const sha512 = (extra: Entry = {}): Entry => ({
  attestors: [{ entries: [{ keys: { publicKeys: 'PEM', signatureAlgorithm: 'sha512' } }] }],
  ...extra,
});

const pod = (image: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app', namespace: 'default', ...(annotations ? { annotations } : {}) },
  spec: { containers: [{ name: 'c', image }] },
});

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

async function admit(policies: KyvernoPolicy[], object: KubeObject) {
  const engine = createKyvernoEngine({ policies, verifier: verifier(), unsupported: 'fail' });
  return (await handleAdmissionReview(review(object), engine)).response!;
}

function patchOps(res: { patch?: string }): { op: string; path: string; value?: unknown }[] {
  return res.patch ? JSON.parse(fromUtf8(fromBase64(res.patch))) : [];
}

describe('constructs vouch cannot evaluate', () => {
  it('the issue scenario: a Cosign rule under Enforce + failurePolicy Ignore is evaluated; without a verifier it denies', async () => {
    const p = clusterPolicy('cosign', cosign(), { failurePolicy: 'Ignore' });
    expect(findUnsupported(p)).toEqual([]);
    const res = await admit([p], pod('registry.example.com/signed:1'));
    expect(res.allowed).toBe(false);
    expect(res.status!.message).toContain('no CosignImageVerifier is configured for the Kyverno engine (verifyImages type Cosign)');
    expect(res.patch).toBeUndefined();
  });

  it('a Cosign construct vouch cannot evaluate is refused at engine creation', () => {
    const p = clusterPolicy('cosign', sha512(), { failurePolicy: 'Ignore' });
    let err: unknown;
    try {
      createKyvernoEngine({ policies: [p], verifier: verifier() });
    } catch (e) {
      err = e;
    }
    expect(err).toBeVouchError('ERR_UNSUPPORTED');
    expect((err as Error).message).toContain(
      'policy cosign rule verify: vouch cannot evaluate a Cosign `signatureAlgorithm` other than sha256',
    );
    expect((err as VouchError).details).toMatchObject({
      unsupported: [
        { construct: 'Cosign.signatureAlgorithm', path: 'spec.rules[0].verifyImages[0].attestors[0].entries[0].keys.signatureAlgorithm' },
      ],
    });
  });

  it('in mode fail (apply/test) the rule fails, an unsigned image is denied, and no digest is pinned', async () => {
    for (const entry of [sha512(), sha512({ type: 'SigstoreBundle' }), notary({ key: 'PEM' })]) {
      const p = clusterPolicy('p', entry, { failurePolicy: 'Ignore' });
      const res = await admit([p], pod('registry.example.com/unsigned:1'));
      expect(res.allowed).toBe(false);
      expect(res.patch).toBeUndefined();
      expect(res.status!.message).toContain('vouch cannot evaluate');
      const [r] = (await applyPolicies([p], [pod('registry.example.com/unsigned:1')], { verifier: verifier() }))[0]!.policyResponses;
      expect(r!.rules.map((x) => x.status)).toEqual(['fail', 'fail']); // the rule, then the `required` check
      expect(r!.rules[0]!.message).toMatch(/^vouch cannot evaluate .+\): the rule fails closed$/);
    }
  });

  it('an entry without attestors checks no signature: its type does not matter (digest checks only)', () => {
    const p = clusterPolicy('digest-only', { mutateDigest: false, required: false, verifyDigest: true, failureAction: 'Audit' });
    expect(findUnsupported(p)).toEqual([]);
    expect(() => createKyvernoEngine({ policies: [p] })).not.toThrow();
  });

  it('every unsupported validate sub-feature, mutate and generate rules fail in apply (never error, skip or pass)', async () => {
    const base = { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'v' } };
    const match = { any: [{ resources: { kinds: ['Pod'] } }] };
    const rules: Record<string, unknown>[] = [
      { name: 'fe', match, validate: { foreach: [{ list: 'request.object.spec.containers' }] } },
      { name: 'cel', match, validate: { cel: { expressions: [{ expression: 'true' }] } } },
      { name: 'pss', match, validate: { podSecurity: { level: 'baseline' } } },
      { name: 'mani', match, validate: { manifests: { attestors: [] } } },
      { name: 'assert', match, validate: { assert: { object: {} } } },
      { name: 'msg-only', match, validate: { message: 'nothing to check' } },
      { name: 'mut', match, mutate: { patchStrategicMerge: { metadata: { labels: { a: 'b' } } } } },
      { name: 'gen', match, generate: { kind: 'ConfigMap', name: 'x', data: {} } },
    ];
    const p = policyFromObject({ ...base, spec: { validationFailureAction: 'Enforce', rules } });
    expect(findUnsupported(p).map((u) => u.construct)).toEqual([
      'validate.foreach',
      'validate.cel',
      'validate.podSecurity',
      'validate.manifests',
      'validate.assert',
      'validate.other',
      'rule.mutate',
      'rule.generate',
    ]);
    expect(() => createKyvernoEngine({ policies: [p] })).toThrow(/vouch cannot evaluate validate\.foreach rules/);
    const [r] = (await applyPolicies([p], [pod('registry.example.com/signed:1')]))[0]!.policyResponses;
    expect(r!.rules.map((x) => `${x.name}:${x.status}`).sort()).toEqual(
      ['assert', 'cel', 'fe', 'gen', 'mani', 'msg-only', 'mut', 'pss'].map((n) => `${n}:fail`),
    );
    // a rule that does not match the resource still answers nothing
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' } };
    expect((await applyPolicies([p], [svc]))[0]!.policyResponses[0]!.rules).toEqual([]);
  });

  it('Notary attestations with keys, keyless or nested attestors, and spec matchConditions, are unsupported', () => {
    const att = (e: Entry) => notary({ attestors: undefined, attestations: [{ type: 'sbom/cyclone-dx', attestors: [{ entries: [e] }] }] });
    const constructs = [
      clusterPolicy('a', att({ keys: { publicKeys: 'x' } })),
      clusterPolicy('b', att({ keyless: { subject: 'x' } })),
      clusterPolicy('c', att({ attestor: { entries: [{ certificates: { cert: CERT } }] } })),
      clusterPolicy('d', notary(), { webhookConfiguration: { matchConditions: [{ name: 'x', expression: 'true' }] } }),
    ].map((p) => findUnsupported(p).map((u) => u.construct));
    expect(constructs).toEqual([
      ['Notary.attestations.attestors.entries.keys'],
      ['Notary.attestations.attestors.entries.keyless'],
      ['Notary.attestations.attestors.entries.attestor'],
      ['spec.webhookConfiguration.matchConditions'],
    ]);
  });

  it('one table decides: switching a construct on makes the policy loadable', () => {
    const p = clusterPolicy('cosign', sha512());
    const on = { ...KYVERNO_SUPPORT, 'Cosign.signatureAlgorithm': { ...KYVERNO_SUPPORT['Cosign.signatureAlgorithm'], supported: true } };
    expect(findUnsupported(p)).toHaveLength(1);
    expect(findUnsupported(p, on)).toEqual([]);
  });

  it('the webhook loader refuses with file:line:column (parsePolicies rejectUnsupported)', () => {
    const yaml = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: cosign
spec:
  validationFailureAction: Enforce
  rules:
    - name: verify
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - type: Cosign
          imageReferences: ["*"]
          attestors:
            - entries:
                - keys:
                    publicKeys: PEM
                    signatureAlgorithm: sha512
`;
    expect(() => parsePolicies(yaml, { source: 'cosign.yaml' })).not.toThrow();
    let err: unknown;
    try {
      parsePolicies(yaml, { source: 'cosign.yaml', rejectUnsupported: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeVouchError('ERR_UNSUPPORTED');
    expect((err as Error).message).toMatch(
      /^cosign\.yaml:20:21: vouch cannot evaluate a Cosign `signatureAlgorithm` other than sha256 .*\(rule verify\) at spec\.rules\[0\]\.verifyImages\[0\]\.attestors\[0\]\.entries\[0\]\.keys\.signatureAlgorithm/,
    );
  });

  it('a context entry without a loader is refused in admission (no error at every review for Ignore to admit)', () => {
    const p = clusterPolicy('cm', notary(), {}, { context: [{ name: 'keys', configMap: { name: 'keys', namespace: 'kyverno' } }] });
    expect(() => createKyvernoEngine({ policies: [p], verifier: verifier() })).toThrow(
      /reads a configMap, but no configMap loader is configured/,
    );
    expect(() => createKyvernoEngine({ policies: [p], verifier: verifier(), contextLoader: { configMap: () => undefined } })).not.toThrow();
    expect(() => createKyvernoEngine({ policies: [p], verifier: verifier(), unsupported: 'fail' })).not.toThrow();
  });
});

describe('errors that are not infrastructure errors never admit under Enforce', () => {
  it('classifies only network, timeout and aborted causes as infrastructure', () => {
    expect(isInfrastructureError(new VouchError('ERR_NETWORK', 'x'))).toBe(true);
    expect(isInfrastructureError(new VouchError('ERR_VERIFICATION_FAILED', 'x', { cause: new VouchError('ERR_TIMEOUT', 't') }))).toBe(true);
    expect(isInfrastructureError(new VouchError('ERR_REGISTRY_HTTP', 'HTTP 500'))).toBe(false);
    expect(isInfrastructureError(new VouchError('ERR_REGISTRY_UNAUTHORIZED', '401'))).toBe(false);
    expect(isInfrastructureError(new VouchError('ERR_REVOCATION_UNKNOWN', 'x', { cause: new VouchError('ERR_NETWORK', 'ocsp') }))).toBe(
      false,
    );
    expect(isInfrastructureError(new VouchError('ERR_INTERNAL', 'bug'))).toBe(false);
    expect(isInfrastructureError(new TypeError('bug'))).toBe(false);
    expect(
      isInfrastructureError(
        new VouchError('ERR_VERIFICATION_INCONCLUSIVE', 'none retrieved', { details: { outcomes: [{ error: { code: 'ERR_NETWORK' } }] } }),
      ),
    ).toBe(true);
  });

  it('a verifier throwing a non-VouchError, or a registry answering 500, is `fail`: denied under failurePolicy Ignore', async () => {
    const p = clusterPolicy('p', notary(), { failurePolicy: 'Ignore' });
    for (const image of ['boom.example.com/app:1', 'http500.example.com/app:1']) {
      const res = await admit([p], pod(image));
      expect(res.allowed).toBe(false);
      expect(res.status!.message).toContain('failed to verify image');
    }
  });

  it('a network error under failurePolicy Ignore still admits (Kyverno), unpinned and recorded skip', async () => {
    const p = clusterPolicy('p', notary(), { failurePolicy: 'Ignore' });
    const res = await admit([p], pod('down.example.com/app:1'));
    expect(res.allowed).toBe(true);
    const ops = patchOps(res);
    expect(ops.some((o) => o.path.startsWith('/spec/'))).toBe(false); // no digest pinned for an unverified image
    const scoped = ops.find((o) => o.path.endsWith('verify-images-scoped'))!;
    expect(JSON.parse(scoped.value as string).policies['/p'].verify['down.example.com/app:1']).toBe('skip');
  });

  it('a decided failure next to an unreachable entry stays a failure: failurePolicy Ignore does not admit it', async () => {
    const DOWN = '-----BEGIN CERTIFICATE-----\nZG93bg==\n-----END CERTIFICATE-----';
    // the entry with certificate DOWN cannot reach its registry; the entry with CERT is answered: not signed by it
    const split: NotaryImageVerifier = {
      async verifyImage(req) {
        if (req.attestor.certificates === DOWN) {
          throw new VouchError('ERR_SIGNATURE_RETRIEVAL_FAILED', 'GET failed', { cause: new VouchError('ERR_NETWORK', 'ECONNREFUSED') });
        }
        throw new VouchError('ERR_SIGNATURE_NOT_FOUND', `no signature is associated with "${req.image}"`);
      },
      async resolveDigest() {
        return DIGEST;
      },
    };
    const run = async (entries: Entry[], count?: number) => {
      const p = clusterPolicy(
        'p',
        {
          type: 'Notary',
          attestors: [{ ...(count ? { count } : {}), entries: entries.length ? entries : [{ certificates: { cert: CERT } }] }],
        },
        { failurePolicy: 'Ignore' },
      );
      // an empty set cannot be written (the parser refuses it): an SDK caller can still build one
      if (entries.length === 0) p.spec.rules[0]!.verifyImages![0]!.attestors![0]!.entries = [];
      const engine = createKyvernoEngine({ policies: [p], verifier: split });
      return (await handleAdmissionReview(review(pod('registry.example.com/app:1')), engine)).response!;
    };
    const both = [{ certificates: { cert: CERT } }, { certificates: { cert: DOWN } }];
    // every entry required: the decided one can no longer verify, whatever the unreachable one would say
    expect((await run(both)).allowed).toBe(false);
    // one of two required: the unreachable entry could still make up the count, so failurePolicy decides
    expect((await run(both, 1)).allowed).toBe(true);
    // an attestor set with no entries verifies nothing
    expect((await run([])).allowed).toBe(false);
  });

  it('context load and JMESPath failures: error, not infrastructure, denied under Enforce + Ignore; admitted under Audit + Ignore', async () => {
    const ctxRule = { context: [{ name: 'keys', configMap: { name: 'missing', namespace: 'kyverno' } }] };
    const enforce = clusterPolicy('p', notary(), { failurePolicy: 'Ignore' }, ctxRule);
    const engine = createKyvernoEngine({ policies: [enforce], verifier: verifier(), contextLoader: { configMap: () => undefined } });
    const res = (await handleAdmissionReview(review(pod('registry.example.com/unsigned:1')), engine)).response!;
    expect(res.allowed).toBe(false);
    expect(res.status!.message).toContain('failed to load context');
    const bad = clusterPolicy(
      'p',
      notary(),
      { failurePolicy: 'Ignore' },
      {
        preconditions: { all: [{ key: '{{ divide(`1`, `0`) }}', operator: 'Equals', value: 1 }] },
      },
    );
    const r2 = await admit([bad], pod('registry.example.com/unsigned:1'));
    expect(r2.allowed).toBe(false);
    expect(r2.status!.message).toContain('failed to evaluate preconditions');
    const audit = clusterPolicy(
      'p',
      notary({ mutateDigest: false }),
      { failurePolicy: 'Ignore', validationFailureAction: 'Audit' },
      ctxRule,
    );
    const e3 = createKyvernoEngine({ policies: [audit], verifier: verifier(), contextLoader: { configMap: () => undefined } });
    expect((await handleAdmissionReview(review(pod('registry.example.com/unsigned:1')), e3)).response!.allowed).toBe(true);
  });

  it('isBlocked: an error with infrastructure set follows failurePolicy, any other error also blocks under Enforce', () => {
    const p = clusterPolicy('p', notary(), { failurePolicy: 'Ignore' });
    const resp = (infrastructure: boolean) => [
      {
        policy: p,
        resource: pod('x'),
        rules: [
          {
            name: 'verify',
            type: 'ImageVerify' as const,
            status: 'error' as const,
            message: 'm',
            ...(infrastructure ? { infrastructure } : {}),
          },
        ],
      },
    ];
    expect(isBlocked(resp(true), 'default')).toBe(false);
    expect(isBlocked(resp(false), 'default')).toBe(true);
  });

  it('failurePolicy is per policy (Kyverno serves Fail and Ignore policies in separate webhooks)', async () => {
    const ignore = clusterPolicy('ignore', notary(), { failurePolicy: 'Ignore' });
    const fail = clusterPolicy('fail', { ...notary(), imageReferences: ['nothing.example.com/*'] }, { failurePolicy: 'Fail' });
    expect((await admit([ignore, fail], pod('down.example.com/app:1'))).allowed).toBe(true);
    const failing = clusterPolicy('failing', notary(), { failurePolicy: 'Fail' });
    expect((await admit([ignore, failing], pod('down.example.com/app:1'))).allowed).toBe(false);
  });

  it('an exception inside the engine denies even when every policy says Ignore', async () => {
    const p = clusterPolicy('p', notary(), { failurePolicy: 'Ignore' });
    const engine = createKyvernoEngine({ policies: [p], verifier: verifier() });
    const broken = review(pod('registry.example.com/signed:1'));
    // a policy object that never went through validation: a kind that is not a string makes matching throw
    const malformed = policyFromObject(
      {
        apiVersion: 'kyverno.io/v1',
        kind: 'ClusterPolicy',
        metadata: { name: 'q' },
        spec: {
          failurePolicy: 'Ignore',
          rules: [{ name: 'verify', match: { any: [{ resources: { kinds: [42] } }] }, verifyImages: [notary({ imageReferences: ['*'] })] }],
        },
      },
      { validate: false },
    );
    const e2 = createKyvernoEngine({ policies: [malformed], verifier: verifier() });
    const res = (await handleAdmissionReview(broken, e2)).response!;
    expect(res.allowed).toBe(false);
    expect(res.status!.message).toMatch(/^vouch could not evaluate the request: /);
    expect((await handleAdmissionReview(broken, engine)).response!.allowed).toBe(true);
  });
});

describe('the verification records (scoped annotation) of a review are its own', () => {
  const forged = JSON.stringify({ version: 1, policies: { '/p': { verify: { 'registry.example.com/unsigned:1': 'pass' } } } });

  it('a forged scoped annotation does not satisfy `required`; preconditions false: skip in both phases', async () => {
    // the entry has no attestors: phase 1 records nothing, phase 2's `required` must not read the request's claim
    const p = clusterPolicy('p', { mutateDigest: false, verifyDigest: false, required: true });
    const res = await admit([p], pod('registry.example.com/unsigned:1', { 'kyverno.io/verify-images-scoped': forged }));
    expect(res.allowed).toBe(false);
    expect(res.status!.message).toContain('unverified image registry.example.com/unsigned:1');
  });

  it('annotations the request brings along are removed when the review records nothing', async () => {
    const p = clusterPolicy('p', notary({ imageReferences: ['other.example.com/*'] }));
    const res = await admit([p], pod('registry.example.com/unsigned:1', { 'kyverno.io/verify-images-scoped': forged, keep: 'me' }));
    expect(res.allowed).toBe(true);
    expect(patchOps(res)).toEqual([{ op: 'remove', path: '/metadata/annotations/kyverno.io~1verify-images-scoped' }]);
  });

  it('defect 11: a verifyImages rule whose preconditions are false is skip in the validate phase too', async () => {
    const p = clusterPolicy(
      'p',
      notary(),
      {},
      {
        preconditions: { all: [{ key: '{{ request.object.metadata.labels.verify || `""` }}', operator: 'Equals', value: 'yes' }] },
      },
    );
    const engine = createKyvernoEngine({ policies: [p], verifier: verifier() });
    const r = await evaluateResource(engine, { resource: pod('registry.example.com/unsigned:1') });
    expect(r.verifyImages.responses[0]!.rules.map((x) => `${x.type}:${x.status}:${x.message}`)).toEqual([
      'ImageVerify:skip:preconditions not met',
    ]);
    expect(r.validation[0]!.rules.map((x) => `${x.type}:${x.status}:${x.message}`)).toEqual(['Validation:skip:preconditions not met']);
    expect((await handleAdmissionReview(review(pod('registry.example.com/unsigned:1')), engine)).response!.allowed).toBe(true);
    // and when they hold, both phases verify
    const labelled = pod('registry.example.com/unsigned:1');
    labelled.metadata!.labels = { verify: 'yes' };
    const r2 = await verifyAndPatchImages(engine, { resource: labelled });
    expect(r2.responses[0]!.rules[0]!.status).toBe('fail');
  });
});
