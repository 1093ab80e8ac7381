import { VouchError } from '@vouch/core';
import { describe, expect, it } from 'vitest';
import { type AdmissionReview, admissionAnswer, handleAdmissionReview } from '../admission/admission.js';
import { policyFromObject } from '../policy/parse.js';
import { patchShared } from '../resource/jsonpatch.js';
import type { KubeObject } from '../types.js';
import type { NotaryImageVerifier, NotaryVerifyRequest } from '../verifier/verifier.js';
import { type Co, drive, Pending } from './drive.js';
import { createKyvernoEngine, validateResourceCo, verifyAndPatchImages, verifyAndPatchImagesCo } from './engine.js';
import { newReviewMemo } from './review.js';

const DIGEST = `sha256:${'d'.repeat(64)}`;
const CERT = '-----BEGIN CERTIFICATE-----\nZ29vZA==\n-----END CERTIFICATE-----';

function slowVerifier(): NotaryImageVerifier & { calls: NotaryVerifyRequest[] } {
  const calls: NotaryVerifyRequest[] = [];
  return {
    calls,
    async verifyImage(req) {
      calls.push(req);
      await new Promise((r) => setTimeout(r, 2));
      if (!req.image.includes('/signed')) throw new VouchError('ERR_SIGNATURE_NOT_FOUND', `no signature for ${req.image}`);
      return { digest: DIGEST };
    },
    async resolveDigest() {
      await new Promise((r) => setTimeout(r, 2));
      return DIGEST;
    },
  };
}

function policy(name: string, extraRule: Record<string, unknown> = {}, action: 'Enforce' | 'Audit' = 'Enforce') {
  return policyFromObject({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name },
    spec: {
      validationFailureAction: action,
      rules: [
        {
          name: 'verify-signature',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          ...extraRule,
          verifyImages: [
            {
              type: 'Notary',
              imageReferences: ['registry.example.com/*'],
              mutateDigest: action === 'Enforce',
              attestors: [{ entries: [{ certificates: { cert: CERT } }] }],
            },
          ],
        },
      ],
    },
  });
}

const pod = (...images: string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app', namespace: 'default', labels: { team: 'a' } },
  spec: { containers: images.map((image, i) => ({ name: `c${i}`, image, env: [{ name: 'X', value: String(i) }] })) },
});

const review = (object: KubeObject, uid: string): AdmissionReview => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid, kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'default', operation: 'CREATE', object },
});

describe('drive', () => {
  it('completes synchronously when nothing is awaited, and as a promise at the first wait', async () => {
    // biome-ignore lint/correctness/useYield: a coroutine that never waits is the case under test
    function* plain(): Co<number> {
      return 1;
    }
    function* waits(): Co<number> {
      const v = (yield Promise.resolve(20)) as number;
      return v + 1;
    }
    function* fails(): Co<number> {
      try {
        yield Promise.reject(new Error('boom'));
      } catch (e) {
        return (e as Error).message.length;
      }
      return 0;
    }
    expect(drive(plain())).toBe(1);
    const p = drive(waits());
    expect(p).toBeInstanceOf(Promise);
    expect(await p).toBe(21);
    expect(await drive(fails())).toBe(4);
  });

  it("Pending's wait settles (never rejects) once the value is decided", async () => {
    const pending = new Pending(Promise.reject(new Error('down')));
    await expect(pending.wait).resolves.toBeUndefined();
  });
});

describe('warm admission path', () => {
  it('a warm review runs synchronously, calls no verifier and answers exactly like the cold one', async () => {
    const v = slowVerifier();
    const engine = createKyvernoEngine({ policies: [policy('a'), policy('b')], verifier: v });
    const img = 'registry.example.com/signed/app:1';
    const cold = await handleAdmissionReview(review(pod(img, img, img), 'cold'), engine);
    const callsAfterCold = v.calls.length;
    expect(callsAfterCold).toBe(1);
    // the engine's phase-1 coroutine finishes without waiting on anything once the result is decided
    const warmPhase1 = drive(verifyAndPatchImagesCo(engine, { resource: pod(img, img, img), operation: 'CREATE' }));
    expect(warmPhase1).not.toBeInstanceOf(Promise);
    const warm = await handleAdmissionReview(review(pod(img, img, img), 'warm'), engine);
    expect(v.calls.length).toBe(callsAfterCold);
    expect({ ...warm.response, uid: 'x' }).toEqual({ ...cold.response, uid: 'x' });
    expect(warm.response).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
  });

  it('admissionAnswer: a promise while a verification is pending, the answer itself once warm (what handleAdmissionReview resolves to)', async () => {
    const v = slowVerifier();
    const engine = createKyvernoEngine({ policies: [policy('a')], verifier: v });
    const img = 'registry.example.com/signed/app:1';
    const cold = admissionAnswer(review(pod(img), 'cold'), engine);
    expect(cold).toBeInstanceOf(Promise);
    const coldAnswer = await cold;
    const warm = admissionAnswer(review(pod(img), 'warm'), engine);
    expect(warm).not.toBeInstanceOf(Promise);
    expect(warm).toEqual(await handleAdmissionReview(review(pod(img), 'warm'), engine));
    expect({ ...(warm as AdmissionReview).response, uid: 'x' }).toEqual({ ...coldAnswer.response, uid: 'x' });
    // a malformed review is refused as handleAdmissionReview refuses it, synchronously here
    expect(() => admissionAnswer({ kind: 'AdmissionReview' } as AdmissionReview, engine)).toThrow(/request\.uid/);
    await expect(handleAdmissionReview({ kind: 'AdmissionReview' } as AdmissionReview, engine)).rejects.toThrow(/request\.uid/);
  });

  it('a cold review waits and re-runs rules without doubling their responses, warnings or records', async () => {
    const v = slowVerifier();
    const configMaps: string[] = [];
    const engine = createKyvernoEngine({
      // Audit: the unsigned image fails with a warning per container; the context entry is loaded asynchronously
      policies: [
        policy(
          'audit',
          {
            context: [{ name: 'settings', configMap: { name: 'vouch-settings', namespace: 'default' } }],
            preconditions: { all: [{ key: '{{ settings.data.enabled }}', operator: 'Equals', value: 'true' }] },
          },
          'Audit',
        ),
      ],
      verifier: v,
      contextLoader: {
        async configMap(ns, name) {
          configMaps.push(`${ns}/${name}`);
          await new Promise((r) => setTimeout(r, 2));
          return { data: { enabled: 'true' } };
        },
      },
    });
    const resource = pod('registry.example.com/unsigned:1', 'registry.example.com/signed/app:1', 'registry.example.com/unsigned:1');
    const r = await verifyAndPatchImages(engine, { resource, operation: 'CREATE' });
    const rules = r.responses[0]!.rules;
    expect(rules.map((x) => x.status)).toEqual(['fail', 'pass', 'fail']);
    expect(r.warnings).toHaveLength(2);
    expect(configMaps).toEqual(['default/vouch-settings']); // loaded once per review, whatever the retries
    expect(r.metadata.policies).toEqual({
      '/audit': { 'verify-signature': { 'registry.example.com/unsigned:1': 'fail', 'registry.example.com/signed/app:1': 'pass' } },
    });
    // the same review again, warm (the context loader runs again: its answers are not kept across reviews)
    const again = await verifyAndPatchImages(engine, { resource, operation: 'CREATE' });
    expect(again.responses[0]!.rules.map((x) => [x.status, x.message])).toEqual(rules.map((x) => [x.status, x.message]));
    expect(again.warnings).toEqual(r.warnings);
    expect(configMaps).toHaveLength(2);
  });

  it('containers running one image share one frozen passing response', async () => {
    const engine = createKyvernoEngine({ policies: [policy('a')], verifier: slowVerifier() });
    const img = 'registry.example.com/signed/app:1';
    const r = await verifyAndPatchImages(engine, { resource: pod(img, img), operation: 'CREATE' });
    const [x, y] = r.responses[0]!.rules;
    expect(x).toBe(y);
    expect(Object.isFrozen(x)).toBe(true);
    expect(x).toEqual({
      name: 'verify-signature',
      type: 'ImageVerify',
      status: 'pass',
      message: `verified image signatures for ${img}`,
      image: img,
    });
  });

  it('the patched resource copies only the patched paths and leaves the request object untouched', async () => {
    const engine = createKyvernoEngine({ policies: [policy('a')], verifier: slowVerifier() });
    const resource = pod('registry.example.com/signed/app:1', 'registry.example.com/signed/app:1');
    const before = JSON.stringify(resource);
    const r = await verifyAndPatchImages(engine, { resource, operation: 'CREATE' });
    expect(JSON.stringify(resource)).toBe(before);
    const patched = r.patchedResource as { spec: { containers: { image: string; env: unknown }[] }; metadata: Record<string, unknown> };
    const orig = resource as unknown as typeof patched;
    expect(patched.spec.containers[0]!.image).toBe(`registry.example.com/signed/app:1@${DIGEST}`);
    expect(patched.spec.containers[0]!.env).toBe(orig.spec.containers[0]!.env); // shared, not copied
    expect(patched.metadata.labels).toBe(orig.metadata.labels);
    expect(Object.keys(patched.metadata.annotations as object)).toEqual(['kyverno.io/verify-images', 'kyverno.io/verify-images-scoped']);
    // phase 2 on the patched resource passes with the review's memo
    const rm = newReviewMemo();
    const phase2 = drive(validateResourceCo(engine, { resource: r.patchedResource, operation: 'CREATE' }, rm));
    expect(phase2).not.toBeInstanceOf(Promise);
    expect((phase2 as Awaited<typeof phase2>)[0]!.rules.map((x) => x.status)).toEqual(['pass']);
  });
});

describe('patchShared', () => {
  it('applies add/replace/remove like applyJsonPatch without mutating the input', () => {
    const doc = { a: { b: [1, 2, 3], keep: { deep: true } }, c: 'x' };
    const snapshot = JSON.stringify(doc);
    const out = patchShared(doc, [
      { op: 'replace', path: '/a/b/1', value: 20 },
      { op: 'add', path: '/a/new', value: { n: 1 } },
      { op: 'remove', path: '/c' },
      { op: 'add', path: '/a/b/-', value: 4 },
    ]);
    expect(out).toEqual({ a: { b: [1, 20, 3, 4], keep: { deep: true }, new: { n: 1 } } });
    expect(JSON.stringify(doc)).toBe(snapshot);
    expect(out.a.keep).toBe(doc.a.keep);
    expect(out.a).not.toBe(doc.a);
    expect(() => patchShared(doc, [{ op: 'replace', path: '/missing/x', value: 1 }])).toThrow(/does not exist/);
  });
});
