import { VouchError } from '@vouch/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AdmissionReview, handleAdmissionReview } from '../admission/admission.js';
import { policyFromObject } from '../policy/parse.js';
import type { KubeObject, KyvernoPolicy } from '../types.js';
import { createVerificationCache } from '../verifier/cache.js';
import type { NotaryImageVerifier } from '../verifier/verifier.js';
import { AnswerMemo } from './answers.js';
import { createKyvernoEngine, stateOf } from './engine.js';

const CERT = '-----BEGIN CERTIFICATE-----\nZ29vZA==\n-----END CERTIFICATE-----';
const digestOf = (image: string) => `sha256:${(image.length % 10).toString().repeat(64)}`;

/** Images under `/signed` verify (digest from the name), others fail; `bad` images fail from then on. */
function verifier(bad = new Set<string>()): NotaryImageVerifier & { calls: number } {
  const v = {
    calls: 0,
    async verifyImage(req: { image: string }) {
      v.calls++;
      if (!req.image.includes('/signed') || bad.has(req.image)) {
        throw new VouchError('ERR_SIGNATURE_NOT_FOUND', `no signature for ${req.image}`);
      }
      return { digest: digestOf(req.image) };
    },
    async resolveDigest(image: string) {
      return digestOf(image);
    },
  };
  return v;
}

interface PolicyOpts {
  name: string;
  action?: 'Enforce' | 'Audit';
  failurePolicy?: 'Fail' | 'Ignore';
  kinds?: string[];
  refs?: string[];
  skip?: string[];
  rule?: Record<string, unknown>;
  entry?: Record<string, unknown>;
  namespace?: string;
  /** A rule without verifyImages (with `rule` giving its operation). */
  noImages?: boolean;
}

function policy(o: PolicyOpts): KyvernoPolicy {
  const action = o.action ?? 'Enforce';
  return policyFromObject({
    apiVersion: 'kyverno.io/v1',
    kind: o.namespace ? 'Policy' : 'ClusterPolicy',
    metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) },
    spec: {
      validationFailureAction: action,
      failurePolicy: o.failurePolicy ?? 'Fail',
      rules: [
        {
          name: 'verify-signature',
          match: { any: [{ resources: { kinds: o.kinds ?? ['Pod'] } }] },
          ...(o.rule ?? {}),
          verifyImages: o.noImages
            ? undefined
            : [
                {
                  type: 'Notary',
                  imageReferences: o.refs ?? ['registry.example.com/*'],
                  ...(o.skip ? { skipImageReferences: o.skip } : {}),
                  mutateDigest: action === 'Enforce',
                  attestors: [{ count: 1, entries: [{ certificates: { cert: CERT } }] }],
                  ...(o.entry ?? {}),
                },
              ],
        },
      ],
    },
  });
}

const IMAGES = [
  'registry.example.com/signed/app:v1',
  'registry.example.com/signed/web:v2',
  `registry.example.com/signed/db@sha256:${'a'.repeat(64)}`,
  'registry.example.com/unsigned/app:v1',
  'other.example.com/signed/app:v1',
  'registry.example.com/signed/skipped:v1',
];

interface Shape {
  kind: 'Pod' | 'Deployment' | 'CronJob' | 'ConfigMap';
  images: number[];
  init: number[];
  namespace: string | undefined;
  objectNamespace: string | undefined;
  metadata: 'none' | 'empty' | 'plain' | 'annotated' | 'verified';
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  requestKind: boolean;
  oldObject: boolean;
}

function objectOf(s: Shape): KubeObject {
  const containers = s.images.map((i, n) => ({ name: `c${n}`, image: IMAGES[i]! }));
  const initContainers = s.init.map((i, n) => ({ name: `i${n}`, image: IMAGES[i]! }));
  const spec = { containers, ...(initContainers.length ? { initContainers } : {}) };
  const meta: Record<string, unknown> | undefined =
    s.metadata === 'none'
      ? undefined
      : {
          name: 'app',
          ...(s.objectNamespace ? { namespace: s.objectNamespace } : {}),
          ...(s.metadata === 'annotated' ? { annotations: { team: 'a' } } : {}),
          ...(s.metadata === 'verified' ? { annotations: { 'kyverno.io/verify-images': '{"x":"pass"}' } } : {}),
        };
  const base = (apiVersion: string, kind: string, body: Record<string, unknown>) =>
    ({ apiVersion, kind, ...(meta ? { metadata: meta } : {}), ...body }) as KubeObject;
  switch (s.kind) {
    case 'Pod':
      return base('v1', 'Pod', { spec });
    case 'Deployment':
      return base('apps/v1', 'Deployment', { spec: { replicas: 2, template: { spec } } });
    case 'CronJob':
      return base('batch/v1', 'CronJob', { spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec } } } } });
    default:
      return base('v1', 'ConfigMap', { data: { image: IMAGES[s.images[0] ?? 0]! } });
  }
}

function reviewOf(s: Shape, uid: string): AdmissionReview {
  const object = objectOf(s);
  const [group, version] = String(object.apiVersion).includes('/') ? String(object.apiVersion).split('/') : ['', object.apiVersion];
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      ...(s.requestKind ? { kind: { group, version: String(version), kind: String(object.kind) } } : {}),
      ...(s.namespace ? { namespace: s.namespace } : {}),
      operation: s.operation,
      userInfo: { username: 'alice' },
      object: s.operation === 'DELETE' ? null : object,
      ...(s.oldObject || s.operation === 'DELETE' ? { oldObject: objectOf({ ...s, images: [0] }) } : {}),
    },
  };
}

const SHAPE_FIELDS: (keyof Shape)[] = [
  'kind',
  'images',
  'init',
  'namespace',
  'objectNamespace',
  'metadata',
  'operation',
  'requestKind',
  'oldObject',
];

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constantFrom('Pod', 'Deployment', 'CronJob', 'ConfigMap'),
  images: fc.array(fc.integer({ min: 0, max: IMAGES.length - 1 }), { maxLength: 4 }),
  init: fc.array(fc.integer({ min: 0, max: IMAGES.length - 1 }), { maxLength: 2 }),
  namespace: fc.constantFrom(undefined, 'a', 'b'),
  objectNamespace: fc.constantFrom(undefined, 'a', 'b'),
  metadata: fc.constantFrom('none', 'empty', 'plain', 'annotated', 'verified'),
  operation: fc.constantFrom('CREATE', 'CREATE', 'CREATE', 'UPDATE', 'DELETE'),
  requestKind: fc.boolean(),
  oldObject: fc.boolean(),
});

/** A CREATE of a plain Pod with annotations in namespace `a` running `images` (indexes into IMAGES). */
function createShape(images: number[], more: Partial<Shape> = {}): Shape {
  return {
    kind: 'Pod',
    images,
    init: [],
    namespace: 'a',
    objectNamespace: 'a',
    metadata: 'plain',
    operation: 'CREATE',
    requestKind: true,
    oldObject: false,
    ...more,
  };
}

/** A change to a shape: one or two fields taken from another shape, or one image replaced. */
const variantArb: fc.Arbitrary<(s: Shape) => Shape> = fc.oneof(
  fc.tuple(shapeArb, fc.subarray(SHAPE_FIELDS, { minLength: 1, maxLength: 2 })).map(([o, fields]) => (s: Shape) => ({
    ...s,
    ...Object.fromEntries(fields.map((f) => [f, o[f]])),
  })),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: IMAGES.length - 1 })).map(([at, image]) => (s: Shape) => {
    const images = s.images.length > 0 ? s.images.map((x, i) => (i === at % s.images.length ? image : x)) : [image];
    return { ...s, images };
  }),
);

/** Policy sets the memo serves (plain rules) and some it must not. */
const POLICY_SETS: Record<string, () => KyvernoPolicy[]> = {
  plain: () => [policy({ name: 'p1' }), policy({ name: 'p2', kinds: ['Pod', 'ConfigMap'] })],
  mixed: () => [
    policy({ name: 'enforce' }),
    policy({ name: 'audit', action: 'Audit' }),
    policy({ name: 'ignore', failurePolicy: 'Ignore', refs: ['*'] }),
    policy({ name: 'skips', skip: ['*/skipped:*'] }),
    policy({ name: 'ns', namespace: 'a' }),
    policy({ name: 'ops', rule: { match: { any: [{ resources: { kinds: ['Pod'], operations: ['CREATE'] } }] } } }),
  ],
  excluded: () => [policy({ name: 'x', rule: { exclude: { any: [{ resources: { namespaces: ['b'] } }] } } })],
  named: () => [policy({ name: 'n', rule: { match: { any: [{ resources: { kinds: ['Pod'], names: ['app*'] } }] } } })],
  preconditions: () => [
    policy({ name: 'pre', rule: { preconditions: { all: [{ key: '{{ request.namespace }}', operator: 'Equals', value: 'a' }] } } }),
  ],
};

describe('admission answer memo', () => {
  it('serves plain engines only', () => {
    const eligible = (ps: KyvernoPolicy[], extra: Record<string, unknown> = {}) =>
      stateOf(createKyvernoEngine({ policies: ps, verifier: verifier(), ...extra })).answersEligible;
    expect(eligible(POLICY_SETS.plain!())).toBe(true);
    expect(eligible(POLICY_SETS.mixed!())).toBe(true);
    expect(eligible(POLICY_SETS.excluded!())).toBe(false);
    expect(eligible(POLICY_SETS.named!())).toBe(false);
    expect(eligible(POLICY_SETS.preconditions!())).toBe(false);
    expect(
      eligible([
        policy({ name: 'v', entry: { attestations: [{ type: 'x', attestors: [{ entries: [{ certificates: { cert: CERT } }] }] }] } }),
      ]),
    ).toBe(false);
    expect(eligible([policy({ name: 'u', entry: { useCache: false } })])).toBe(false);
    expect(eligible([policy({ name: 'var', entry: { repository: 'registry.example.com/{{ request.namespace }}' } })])).toBe(false);
    expect(eligible(POLICY_SETS.plain!(), { trustPolicyFor: () => undefined })).toBe(false);
    // a validate rule reads the whole object
    const validate = policy({ name: 'val', noImages: true, rule: { validate: { pattern: { metadata: { name: 'app' } } } } });
    expect(eligible([...POLICY_SETS.plain!(), validate])).toBe(false);
  });

  it('answers byte for byte as a full evaluation by an uncached engine, review after review (property)', async () => {
    for (const [setName, make] of Object.entries(POLICY_SETS)) {
      const v = verifier();
      const engine = createKyvernoEngine({ policies: make(), verifier: v });
      let n = 0;
      await fc.assert(
        // a shape, then shapes that differ from it in a field or two, or in one image (what the memo's key must tell apart)
        fc.asyncProperty(shapeArb, fc.array(variantArb, { maxLength: 4 }), async (first, variants) => {
          const shapes = [first, ...variants.map((v) => v(first))];
          for (const s of shapes) {
            const uid = `uid-${n++}`;
            const reference = createKyvernoEngine({ policies: make(), verifier: verifier(), cache: false });
            const want = JSON.stringify(await handleAdmissionReview(reviewOf(s, uid), reference));
            // cold, warm (remembered), then served by the memo: always the same bytes
            for (let i = 0; i < 3; i++) {
              const got = JSON.stringify(await handleAdmissionReview(reviewOf(s, uid), engine));
              expect(got, `${setName}: ${JSON.stringify(s)} (pass ${i})`).toBe(want);
            }
          }
        }),
        { numRuns: 80, seed: 1407 },
      );
      if (setName === 'plain' || setName === 'mixed') expect(stateOf(engine).answers.size).toBeGreaterThan(0);
      else expect(stateOf(engine).answers.size).toBe(0);
    }
  });

  it('serves a remembered answer without verifying again, with the same bytes', async () => {
    const v = verifier();
    const engine = createKyvernoEngine({ policies: POLICY_SETS.plain!(), verifier: v });
    const shape = createShape([0, 1, 0], { kind: 'Deployment', init: [2] });
    const first = JSON.stringify(await handleAdmissionReview(reviewOf(shape, 'u1'), engine));
    const calls = v.calls;
    await handleAdmissionReview(reviewOf(shape, 'u2'), engine); // warm: remembered
    expect(stateOf(engine).answers.size).toBe(1);
    const served = await handleAdmissionReview(reviewOf(shape, 'u3'), engine);
    expect(v.calls).toBe(calls);
    expect(served.response?.uid).toBe('u3');
    expect(JSON.stringify(served).replace('"u3"', '"u1"')).toBe(first);
    expect(served.response?.allowed).toBe(true);
    expect(served.response?.patch).toBeTypeOf('string');
  });

  it('does not serve an answer once a verification it was decided on expired or changed', async () => {
    let now = 1_000_000;
    const bad = new Set<string>();
    const v = verifier(bad);
    const cache = createVerificationCache({ ttlMs: 60_000, negativeTtlMs: 1000, now: () => now });
    const engine = createKyvernoEngine({ policies: POLICY_SETS.plain!(), verifier: v, cache });
    const shape = createShape([0, 1]);
    for (let i = 0; i < 3; i++) expect((await handleAdmissionReview(reviewOf(shape, `u${i}`), engine)).response?.allowed).toBe(true);
    expect(stateOf(engine).answers.size).toBe(1);
    // the signature is no longer valid: once the cached outcome expires, the memo must not answer
    bad.add(IMAGES[1]!);
    now += 60_001;
    const denied = await handleAdmissionReview(reviewOf(shape, 'u-expired'), engine);
    expect(denied.response?.allowed).toBe(false);
    expect(denied.response?.status?.message).toContain('no signature for registry.example.com/signed/web:v2');
    // the same after the cache was cleared and the outcome decided again
    bad.clear();
    now += 1001; // the failure's negative TTL
    for (let i = 0; i < 3; i++) expect((await handleAdmissionReview(reviewOf(shape, `w${i}`), engine)).response?.allowed).toBe(true);
    bad.add(IMAGES[0]!);
    cache.clear();
    expect((await handleAdmissionReview(reviewOf(shape, 'u-cleared'), engine)).response?.allowed).toBe(false);
  });

  it('keeps no answer that carries warnings', async () => {
    const engine = createKyvernoEngine({
      policies: [policy({ name: 'audit', action: 'Audit' }), policy({ name: 'audit-2', action: 'Audit', failurePolicy: 'Ignore' })],
      verifier: verifier(),
    });
    const shape = createShape([3]);
    for (let i = 0; i < 3; i++) {
      const r = await handleAdmissionReview(reviewOf(shape, `u${i}`), engine);
      expect(r.response?.allowed).toBe(true);
      expect(r.response?.warnings?.length).toBeGreaterThan(0);
    }
    expect(stateOf(engine).answers.size).toBe(0);
  });
});

describe('AnswerMemo', () => {
  it('drops the oldest answers beyond 1024 or 8 MiB of patches', () => {
    const m = new AnswerMemo();
    for (let i = 0; i < 1100; i++) m.set(`k${i}`, { patch: 'x', reads: [] });
    expect(m.size).toBe(1024);
    expect(m.get('k0')).toBeUndefined();
    expect(m.get('k1099')).toBeDefined();
    const big = 'p'.repeat(1024 * 1024);
    for (let i = 0; i < 12; i++) m.set(`big${i}`, { patch: big, reads: [] });
    expect(m.size).toBeLessThanOrEqual(8);
    expect(m.get('big11')?.patch).toBe(big);
    m.set('big11', { patch: undefined, reads: [] }); // replacing an entry frees its characters
    for (let i = 0; i < 7; i++) m.set(`again${i}`, { patch: big, reads: [] });
    expect(m.get('big11')).toBeDefined();
  });
});
