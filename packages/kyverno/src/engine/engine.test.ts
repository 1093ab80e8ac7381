import { VouchError } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';
import { describe, expect, it } from 'vitest';
import { type AdmissionReview, handleAdmissionReview } from '../admission/admission.js';
import { applyPolicies } from '../apply/apply.js';
import { policyFromObject } from '../policy/parse.js';
import { buildPolicyReports } from '../report/report.js';
import type { KubeObject } from '../types.js';
import type { NotaryImageVerifier, NotaryVerifyRequest } from '../verifier/verifier.js';
import { createKyvernoEngine, verifyAndPatchImages } from './engine.js';

const DIGEST = `sha256:${'b'.repeat(64)}`;
const GOOD = '-----BEGIN CERTIFICATE-----\nZ29vZA==\n-----END CERTIFICATE-----';
const OTHER = '-----BEGIN CERTIFICATE-----\nb3RoZXI=\n-----END CERTIFICATE-----';

/** A fake verifier: images under registry.example.com/signed* verify with GOOD; `down.example.com` is unreachable. */
function fakeVerifier(): NotaryImageVerifier & { calls: NotaryVerifyRequest[] } {
  const calls: NotaryVerifyRequest[] = [];
  return {
    calls,
    async verifyImage(req) {
      calls.push(req);
      await new Promise((r) => setTimeout(r, 5));
      if (req.image.startsWith('down.example.com/')) throw new VouchError('ERR_NETWORK', 'connect ECONNREFUSED down.example.com');
      if (req.attestor.certificates !== GOOD)
        throw new VouchError('ERR_CERT_UNTRUSTED', `failed to verify ${req.image}: signature is not trusted`);
      if (!req.image.includes('/signed')) throw new VouchError('ERR_SIGNATURE_NOT_FOUND', `no signature is associated with "${req.image}"`);
      return { digest: DIGEST };
    },
    async verifyAttestations(req) {
      return {
        digest: DIGEST,
        attestations: [
          { digest: 'sha256:1', type: req.type, predicate: { bomFormat: 'CycloneDX', license: 'MIT' } },
          { digest: 'sha256:2', type: req.type, predicate: { bomFormat: 'CycloneDX', license: 'GPL' } },
        ],
      };
    },
    async resolveDigest() {
      return DIGEST;
    },
  };
}

function policy(
  opts: {
    action?: 'Enforce' | 'Audit';
    entries?: { cert: string }[];
    count?: number;
    failurePolicy?: 'Fail' | 'Ignore';
    attestations?: unknown[];
  } = {},
) {
  const action = opts.action ?? 'Enforce';
  return policyFromObject({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'check-image-signature' },
    spec: {
      validationFailureAction: action,
      ...(opts.failurePolicy ? { failurePolicy: opts.failurePolicy } : {}),
      rules: [
        {
          name: 'verify-signature',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          verifyImages: [
            {
              type: 'Notary',
              imageReferences: ['registry.example.com/*', 'down.example.com/*'],
              mutateDigest: action === 'Enforce',
              ...(opts.attestations
                ? { attestations: opts.attestations }
                : {
                    attestors: [
                      {
                        ...(opts.count ? { count: opts.count } : {}),
                        entries: (opts.entries ?? [{ cert: GOOD }]).map((e) => ({ certificates: { cert: e.cert } })),
                      },
                    ],
                  }),
            },
          ],
        },
      ],
    },
  });
}

const podWith = (...images: string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app', namespace: 'default' },
  spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
});

const review = (object: KubeObject, uid = 'u1'): AdmissionReview => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    namespace: 'default',
    name: 'app',
    operation: 'CREATE',
    userInfo: { username: 'u' },
    object,
  },
});

describe('verifyImages engine', () => {
  it('attestor set count: entries in order until count verified; unset count requires every entry', async () => {
    const v = fakeVerifier();
    const one = createKyvernoEngine({
      policies: [policy({ entries: [{ cert: OTHER }, { cert: GOOD }, { cert: GOOD }], count: 1 })],
      verifier: v,
    });
    const r1 = await verifyAndPatchImages(one, { resource: podWith('registry.example.com/signed:1') });
    expect(r1.responses[0]!.rules[0]!.status).toBe('pass');
    expect(v.calls.length).toBe(2); // short-circuit: the third entry is not evaluated
    const all = createKyvernoEngine({ policies: [policy({ entries: [{ cert: GOOD }, { cert: OTHER }] })], verifier: fakeVerifier() });
    const r2 = await verifyAndPatchImages(all, { resource: podWith('registry.example.com/signed:1') });
    expect(r2.responses[0]!.rules[0]!.status).toBe('fail');
    expect(r2.responses[0]!.rules[0]!.message).toMatch(
      /^failed to verify image registry\.example\.com\/signed:1: \.attestors\[0\]\.entries\[1\]: /,
    );
  });

  it('keeps "error" (network) distinct from "fail" (not trusted)', async () => {
    const e = createKyvernoEngine({ policies: [policy()], verifier: fakeVerifier() });
    const down = await verifyAndPatchImages(e, { resource: podWith('down.example.com/app:1') });
    expect(down.responses[0]!.rules[0]!.status).toBe('error');
    const unsigned = await verifyAndPatchImages(e, { resource: podWith('registry.example.com/unsigned:1') });
    expect(unsigned.responses[0]!.rules[0]!.status).toBe('fail');
    expect(unsigned.responses[0]!.rules[0]!.details).toMatchObject({ causes: [{ code: 'ERR_SIGNATURE_NOT_FOUND' }] });
  });

  it('verifies one image once per review however many containers use it, and caches across reviews', async () => {
    const v = fakeVerifier();
    const e = createKyvernoEngine({ policies: [policy(), { ...policy(), metadata: { name: 'second' } }], verifier: v });
    const img = 'registry.example.com/signed:1';
    const r = await verifyAndPatchImages(e, { resource: podWith(...Array(8).fill(img)) });
    expect(v.calls.length).toBe(1);
    expect(r.responses.flatMap((p) => p.rules).every((x) => x.status === 'pass')).toBe(true);
    await verifyAndPatchImages(e, { resource: podWith(img) });
    expect(v.calls.length).toBe(1);
  });

  it('mutateDigest patches tag@digest and writes the annotations (annotation ops first)', async () => {
    const e = createKyvernoEngine({ policies: [policy()], verifier: fakeVerifier() });
    const r = await verifyAndPatchImages(e, { resource: podWith('registry.example.com/signed:1') });
    expect(r.patches.map((p) => p.path)).toEqual([
      '/metadata/annotations',
      '/metadata/annotations/kyverno.io~1verify-images',
      '/metadata/annotations/kyverno.io~1verify-images-scoped',
      '/spec/containers/0/image',
    ]);
    expect(r.patches[3]!.value).toBe(`registry.example.com/signed:1@${DIGEST}`);
    expect(JSON.parse(r.patches[2]!.value as string)).toEqual({
      version: 1,
      policies: { '/check-image-signature': { 'verify-signature': { [`registry.example.com/signed@${DIGEST}`]: 'pass' } } },
    });
  });

  it('attestations: conditions are checked on every matching attestation', async () => {
    const att = (value: string[]) =>
      policy({
        attestations: [
          {
            type: 'sbom/cyclone-dx',
            attestors: [{ entries: [{ certificates: { cert: GOOD } }] }],
            conditions: [{ all: [{ key: '{{ license }}', operator: 'AnyIn', value }] }],
          },
        ],
      });
    const ok = await verifyAndPatchImages(createKyvernoEngine({ policies: [att(['MIT', 'GPL'])], verifier: fakeVerifier() }), {
      resource: podWith('registry.example.com/signed:1'),
    });
    expect(ok.responses[0]!.rules[0]!.status).toBe('pass');
    const bad = await verifyAndPatchImages(createKyvernoEngine({ policies: [att(['MIT'])], verifier: fakeVerifier() }), {
      resource: podWith('registry.example.com/signed:1'),
    });
    expect(bad.responses[0]!.rules[0]!.status).toBe('fail');
    expect(bad.responses[0]!.rules[0]!.message).toContain('image attestations verification failed, verifiedCount: 0, requiredCount: 1');
  });
});

describe('the engine object', () => {
  it('without a verifier, a Notary attestor check fails (and mutateDigest cannot resolve the tag): never a pass', async () => {
    const e = createKyvernoEngine({ policies: [policy()] });
    const r = await verifyAndPatchImages(e, { resource: podWith('registry.example.com/signed:1') });
    expect(r.responses[0]!.rules.map((x) => [x.status, x.message])).toEqual([
      ['error', 'failed to update digest: no digest resolver is configured (NotaryImageVerifier.resolveDigest)'],
      [
        'fail',
        'failed to verify image registry.example.com/signed:1: .attestors[0].entries[0]: no NotaryImageVerifier is configured for the Kyverno engine',
      ],
    ]);
    expect(r.patches.some((p) => p.path.startsWith('/spec/'))).toBe(false);
  });

  it('refuses an object that was not made by createKyvernoEngine (its state is private)', async () => {
    const e = createKyvernoEngine({ policies: [policy()], verifier: fakeVerifier() });
    const copy = { ...e } as typeof e;
    expect(Object.keys(copy).sort()).toEqual(['cache', 'jmes', 'options', 'policies']);
    await expect(verifyAndPatchImages(copy, { resource: podWith('registry.example.com/signed:1') })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: 'expected an engine made by createKyvernoEngine',
    });
    const res = (await handleAdmissionReview(review(podWith('registry.example.com/signed:1')), copy)).response!;
    expect(res.allowed).toBe(false);
  });
});

describe('handleAdmissionReview', () => {
  it('allows a signed image with a base64 JSON patch', async () => {
    const e = createKyvernoEngine({ policies: [policy()], verifier: fakeVerifier() });
    const res = (await handleAdmissionReview(review(podWith('registry.example.com/signed:1')), e)).response!;
    expect(res).toMatchObject({ uid: 'u1', allowed: true, patchType: 'JSONPatch' });
    const ops = JSON.parse(fromUtf8(fromBase64(res.patch!)));
    expect(ops.at(-1)).toEqual({ op: 'replace', path: '/spec/containers/0/image', value: `registry.example.com/signed:1@${DIGEST}` });
  });

  it('denies an unsigned image with Kyverno’s message', async () => {
    const e = createKyvernoEngine({ policies: [policy()], verifier: fakeVerifier() });
    const res = (await handleAdmissionReview(review(podWith('registry.example.com/unsigned:1')), e)).response!;
    expect(res.allowed).toBe(false);
    expect(res.status!.status).toBe('Failure');
    expect(res.status!.message).toMatch(
      /^\n\nresource Pod\/default\/app was blocked due to the following policies \n\ncheck-image-signature:\n {2}verify-signature: '?failed to verify image registry\.example\.com\/unsigned:1: /,
    );
  });

  it('audit mode admits with a warning and an audit annotation', async () => {
    const e = createKyvernoEngine({ policies: [policy({ action: 'Audit' })], verifier: fakeVerifier() });
    const res = (await handleAdmissionReview(review(podWith('registry.example.com/unsigned:1')), e)).response!;
    expect(res.allowed).toBe(true);
    expect(res.warnings![0]).toMatch(/^policy check-image-signature\.verify-signature: failed to verify image/);
    expect(res.auditAnnotations).toBeDefined();
    expect(res.patch).toBeDefined(); // annotations still written
  });

  it('registry down: failurePolicy Fail denies, Ignore admits', async () => {
    const fail = createKyvernoEngine({ policies: [policy({ failurePolicy: 'Fail' })], verifier: fakeVerifier() });
    expect((await handleAdmissionReview(review(podWith('down.example.com/app:1')), fail)).response!.allowed).toBe(false);
    const ignore = createKyvernoEngine({ policies: [policy({ failurePolicy: 'Ignore' })], verifier: fakeVerifier() });
    expect((await handleAdmissionReview(review(podWith('down.example.com/app:1')), ignore)).response!.allowed).toBe(true);
  });

  it('rejects a malformed review with ERR_INVALID_ARGUMENT', async () => {
    const e = createKyvernoEngine({ policies: [] });
    await expect(
      handleAdmissionReview({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' } as AdmissionReview, e),
    ).toRejectWithCode('ERR_INVALID_ARGUMENT');
  });
});

describe('applyPolicies + reports', () => {
  it('produces PolicyReport results with policy, rule, resources, result and message', async () => {
    const results = await applyPolicies([policy()], [podWith('registry.example.com/unsigned:1')], { verifier: fakeVerifier() });
    const reports = buildPolicyReports(
      results.flatMap((r) => r.policyResponses),
      { now: new Date(0) },
    );
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { namespace: 'default' } });
    expect(reports[0]!.results.map((r) => [r.policy, r.rule, r.result])).toEqual([
      ['check-image-signature', 'verify-signature', 'fail'],
      ['check-image-signature', 'verify-signature', 'fail'],
    ]);
    expect(reports[0]!.results[1]!.message).toBe(`unverified image registry.example.com/unsigned@${DIGEST}`);
    expect(reports[0]!.summary).toEqual({ pass: 0, fail: 2, warn: 0, error: 0, skip: 0 });
  });
});
