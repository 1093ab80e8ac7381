import { VouchError } from '@vouch/core';
import { describe, expect, it } from 'vitest';
import { createKyvernoEngine, type KubeObject, type NotaryImageVerifier, parsePolicies } from '../index.js';
import {
  backgroundPolicies,
  backgroundRequest,
  buildScanReport,
  fingerprintsDiffer,
  policyFingerprints,
  reportChanged,
  scanInputFingerprint,
  scannedKinds,
  scanResource,
} from './background.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

function policy(name: string, opts: { refs?: string[]; kinds?: string[]; background?: boolean; namespaces?: string[] } = {}) {
  const refs = (opts.refs ?? ['reg.example/*']).map((r) => `            - "${r}"`).join('\n');
  const kinds = (opts.kinds ?? ['Pod']).map((k) => `                - ${k}`).join('\n');
  const ns = opts.namespaces ? `\n              namespaces: [${opts.namespaces.join(', ')}]` : '';
  return parsePolicies(`apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: ${name}
spec:
  validationFailureAction: Audit
  background: ${opts.background ?? true}
  rules:
    - name: verify
      match:
        any:
          - resources:
              kinds:
${kinds}${ns}
      verifyImages:
        - type: Notary
          mutateDigest: false
          imageReferences:
${refs}
          attestors:
            - entries:
                - certificates:
                    cert: |-
                      ${CERT.split('\n').join('\n                      ')}
`)[0]!;
}

/** Passes every image whose path does not contain "bad"; counts calls. */
function stubVerifier(): NotaryImageVerifier & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async verifyImage({ image }) {
      calls.push(image);
      if (image.includes('bad')) throw new VouchError('ERR_SIGNATURE_NOT_FOUND', `no signature is associated with "${image}"`);
      return { digest: `sha256:${'a'.repeat(64)}` };
    },
  };
}

function pod(name: string, images: Record<string, string>, extra: { namespace?: string; init?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: extra.namespace ?? 'default', uid: `uid-${name}` },
    spec: {
      containers: Object.entries(images).map(([n, image]) => ({ name: n, image })),
      ...(extra.init ? { initContainers: Object.entries(extra.init).map(([n, image]) => ({ name: n, image })) } : {}),
    },
  };
}

describe('background scan', () => {
  it('gives every container its own result, even when containers share an image', async () => {
    const engine = createKyvernoEngine({ policies: backgroundPolicies([policy('p')]), verifier: stubVerifier() });
    const scan = await scanResource(
      engine,
      pod(
        'web',
        { app: 'reg.example/good:1', sidecar: 'reg.example/bad:1', copy: 'reg.example/good:1' },
        { init: { init: 'reg.example/bad:1' } },
      ),
    );
    expect(scan.results.map((r) => [r.container, r.image, r.result.result])).toEqual([
      ['containers/app', 'reg.example/good:1', 'pass'],
      ['containers/copy', 'reg.example/good:1', 'pass'],
      ['containers/sidecar', 'reg.example/bad:1', 'fail'],
      ['initContainers/init', 'reg.example/bad:1', 'fail'],
    ]);
    expect(scan.results[2]!.result.properties).toMatchObject({
      process: 'background scan',
      container: 'containers/sidecar',
      image: 'reg.example/bad:1',
    });
    expect(scan.results[2]!.result.message).toContain('no signature is associated');
  });

  it('builds no report for a resource without images, or matched by no policy', async () => {
    const engine = createKyvernoEngine({ policies: [policy('p')], verifier: stubVerifier() });
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', uid: 'u' }, data: {} };
    expect(buildScanReport(await scanResource(engine, cm))).toBeUndefined();
    const other = await scanResource(engine, pod('o', { app: 'elsewhere.example/app:1' }));
    expect(other.results).toEqual([]);
    expect(buildScanReport(other)).toBeUndefined();
  });

  it('owns the report by the resource and keeps the timestamps of results that did not change', async () => {
    const engine = createKyvernoEngine({ policies: [policy('p')], verifier: stubVerifier() });
    const p = pod('web', { app: 'reg.example/good:1', side: 'reg.example/bad:1' });
    const first = buildScanReport(await scanResource(engine, p, { now: new Date(1_000_000) }))!;
    expect(first.kind).toBe('PolicyReport');
    expect(first.metadata).toMatchObject({
      name: 'vouch-uid-web',
      namespace: 'default',
      ownerReferences: [{ kind: 'Pod', name: 'web', uid: 'uid-web' }],
    });
    expect(first.summary).toEqual({ pass: 1, fail: 1, warn: 0, error: 0, skip: 0 });
    const again = buildScanReport(await scanResource(engine, p, { now: new Date(9_000_000) }), { previous: first })!;
    expect(reportChanged(first, again)).toBe(false);
    expect(again.results.map((r) => r.timestamp.seconds)).toEqual([1000, 1000]);
    const changed = buildScanReport(
      await scanResource(engine, pod('web', { app: 'reg.example/good:1', side: 'reg.example/good:2' }), { now: new Date(9_000_000) }),
      {
        previous: first,
      },
    )!;
    expect(reportChanged(first, changed)).toBe(true);
    expect(changed.results.map((r) => [r.properties?.container, r.result, r.timestamp.seconds])).toEqual([
      ['containers/app', 'pass', 1000],
      ['containers/side', 'pass', 9000],
    ]);
  });

  it('re-scans one policy and keeps the other policies results; drops the results of a deleted policy', async () => {
    const a = policy('a');
    const b = policy('b', { refs: ['reg.example/good*'] });
    const p = pod('web', { app: 'reg.example/good:1' });
    const both = buildScanReport(await scanResource(createKyvernoEngine({ policies: [a, b], verifier: stubVerifier() }), p))!;
    expect(both.results.map((r) => r.policy)).toEqual(['a', 'b']);
    const verifier = stubVerifier();
    const onlyB = await scanResource(createKyvernoEngine({ policies: [b], verifier }), p);
    const merged = buildScanReport(onlyB, { previous: both, onlyPolicies: new Set(['b']) })!;
    expect(merged.results.map((r) => r.policy)).toEqual(['a', 'b']);
    const dropped = buildScanReport(
      { resource: onlyB.resource, results: [] },
      { previous: both, onlyPolicies: new Set(['a']), dropPolicies: new Set(['a']) },
    )!;
    expect(dropped.results.map((r) => r.policy)).toEqual(['b']);
    const fpBoth = policyFingerprints(both.results);
    expect(fingerprintsDiffer(fpBoth, policyFingerprints(merged.results))).toBe(false);
    expect(fingerprintsDiffer(fpBoth, policyFingerprints(dropped.results))).toBe(true);
    expect(fingerprintsDiffer(fpBoth, policyFingerprints(dropped.results), new Set(['b']))).toBe(false);
  });

  it('lists the workload kinds the background policies can match (autogen included)', () => {
    expect(scannedKinds([policy('p')]).map((k) => k.kind)).toEqual([
      'Pod',
      'Deployment',
      'StatefulSet',
      'DaemonSet',
      'ReplicaSet',
      'ReplicationController',
      'Job',
      'CronJob',
    ]);
    expect(scannedKinds([policy('d', { kinds: ['Deployment'] })]).map((k) => k.kind)).toEqual(['Deployment']);
    expect(scannedKinds([policy('off', { background: false })])).toEqual([]);
  });

  it('evaluates as a CREATE without user info and without the recorded verify-images outcome', () => {
    const p = pod('x', { app: 'reg.example/good:1' });
    p.metadata!.annotations = { 'kyverno.io/verify-images': '{"reg.example/good:1":"pass"}', keep: 'me' };
    const req = backgroundRequest(p);
    expect(req.operation).toBe('CREATE');
    expect(req.resource.metadata?.annotations).toEqual({ keep: 'me' });
    expect(p.metadata!.annotations['kyverno.io/verify-images']).toBeDefined();
  });

  it('fingerprints what a scan reads, not the status', () => {
    const p = pod('x', { app: 'reg.example/good:1' });
    const f = scanInputFingerprint(p);
    expect(scanInputFingerprint({ ...p, status: { phase: 'Running' } })).toBe(f);
    expect(scanInputFingerprint(pod('x', { app: 'reg.example/good:2' }))).not.toBe(f);
  });

  it('turns mutateDigest off for background evaluation without touching the policy', () => {
    const p = parsePolicies(`apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: m}
spec:
  validationFailureAction: Enforce
  rules:
    - name: r
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - type: Notary
          imageReferences: ["*"]
          attestors: [{entries: [{certificates: {cert: "${CERT.replace(/\n/g, '\\n')}"}}]}]
`)[0]!;
    const [bg] = backgroundPolicies([p]);
    expect(bg!.spec.rules[0]!.verifyImages![0]!.mutateDigest).toBe(false);
    expect(p.spec.rules[0]!.verifyImages![0]!.mutateDigest).toBe(true);
  });
});
