import { VouchError } from '@vouch/core';
import { describe, expect, it } from 'vitest';
import { matchRule } from '../match/match.js';
import { policyFromObject } from '../policy/parse.js';
import { jsonClone } from '../resource/jsonpatch.js';
import type { KubeObject, Rule } from '../types.js';
import type { NotaryImageVerifier } from '../verifier/verifier.js';
import { createKyvernoEngine, validateResource, verifyAndPatchImages } from './engine.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const CERT = '-----BEGIN CERTIFICATE-----\nZ29vZA==\n-----END CERTIFICATE-----';

const verifier: NotaryImageVerifier = {
  async verifyImage(req) {
    if (!req.image.includes('/signed')) throw new VouchError('ERR_SIGNATURE_NOT_FOUND', `no signature for ${req.image}`);
    return { digest: DIGEST };
  },
  async resolveDigest() {
    return DIGEST;
  },
};

function policyWith(match: Rule['match'], name = 'p', extra: Record<string, unknown> = {}) {
  return policyFromObject({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name, annotations: { 'pod-policies.kyverno.io/autogen-controllers': 'none' } },
    spec: {
      validationFailureAction: 'Enforce',
      rules: [
        {
          name: 'verify',
          match,
          verifyImages: [
            {
              type: 'Notary',
              imageReferences: ['registry.example.com/*'],
              attestors: [{ entries: [{ certificates: { cert: CERT } }] }],
              ...extra,
            },
          ],
        },
      ],
    },
  });
}

const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app', namespace: 'default' },
  spec: {
    initContainers: [{ name: 'init', image: 'registry.example.com/signed/init:1' }],
    containers: [
      { name: 'a', image: 'registry.example.com/signed/app:v1' },
      { name: 'b', image: 'registry.example.com/unsigned:v2' },
      { name: 'c', image: 'registry.example.com/signed/app:v1' },
    ],
  },
};

describe('engine precomputation', () => {
  it('jsonClone gives the JSON round trip of plain data', () => {
    const v = JSON.parse('{"a":[1,-0,null,{"b":"x"}],"__proto__":{"y":1},"c":{"d":true}}') as Record<string, unknown>;
    (v as { u?: unknown }).u = undefined;
    (v.a as unknown[]).push(undefined, Number.NaN, new Date(0));
    const c = jsonClone(v);
    expect(c).toStrictEqual(JSON.parse(JSON.stringify(v)));
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    expect(Object.is((c as { a: unknown[] }).a[1], 0)).toBe(true);
  });

  it('skips rules by kind exactly when match/exclude would not match', async () => {
    const cases: Rule['match'][] = [
      { any: [{ resources: { kinds: ['Pod'] } }] },
      { any: [{ resources: { kinds: ['Deployment'] } }] },
      { any: [{ resources: { kinds: ['Deployment'] } }, { resources: { namespaces: ['default'] } }] },
      { all: [{ resources: { kinds: ['Pod'] } }, { resources: { kinds: ['Deployment'] } }] },
      { all: [{ resources: { kinds: ['v1/Pod'] } }, { resources: { names: ['app'] } }] },
      { resources: { kinds: ['*'] } },
      { resources: { kinds: ['apps/v1/*'] } },
      { resources: { namespaces: ['other'] } },
    ];
    for (const match of cases) {
      const policy = policyWith(match);
      const engine = createKyvernoEngine({ policies: [policy], verifier });
      const expected = matchRule(policy.spec.rules![0]!, { resource: pod, operation: 'CREATE' }).matched;
      for (const gvk of [undefined, { group: '', version: 'v1', kind: 'Pod' }]) {
        const r = await verifyAndPatchImages(engine, { resource: pod, operation: 'CREATE', gvk });
        expect(r.responses[0]!.rules.length > 0, JSON.stringify(match)).toBe(expected);
      }
    }
  });

  it('phase 2 on the patched resource answers like a fresh engine (images carried over from phase 1)', async () => {
    const policies = [
      policyWith({ any: [{ resources: { kinds: ['Pod'] } }] }, 'a', { mutateDigest: true, verifyDigest: true, required: true }),
      policyWith({ any: [{ resources: { kinds: ['Pod'] } }] }, 'b', { mutateDigest: false, required: true }),
    ];
    const engine = createKyvernoEngine({ policies, verifier });
    const p1 = await verifyAndPatchImages(engine, { resource: pod, operation: 'CREATE' });
    expect(p1.patches.some((op) => op.path === '/spec/containers/0/image')).toBe(true);
    const carried = await validateResource(engine, { resource: p1.patchedResource, operation: 'CREATE' });
    const fresh = await validateResource(createKyvernoEngine({ policies, verifier }), {
      resource: jsonClone(p1.patchedResource) as KubeObject,
      operation: 'CREATE',
    });
    const view = (rs: typeof carried) => rs.map((pr) => pr.rules.map((r) => [r.name, r.status, r.message]));
    expect(view(carried)).toStrictEqual(view(fresh));
    expect(view(carried).flat().length).toBeGreaterThan(0);
  });
});
