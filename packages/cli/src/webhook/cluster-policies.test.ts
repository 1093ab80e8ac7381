/**
 * The webhook reading its policies from the cluster (`policySource`: the controller's
 * clusterPolicySource) against the fake API server: first read, changes, a policy that cannot be
 * used (fail closed), and an API server that cannot be reached at start.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClusterPolicySourceOptions, clusterPolicySource, kubeClient, loadKubeConfig } from '@vouch/node/controller';
import { seedPolicyYaml } from '@vouch/testing';
import { type FakeApiServer, type KubeObject, startFakeApiServer } from '@vouch/testing/kube';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { WebhookLogEntry } from './server.js';
import { call, pod, runVouch, until, webhookHarness } from './test/support.js';

const h = webhookHarness();
let api: FakeApiServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vouch-webhook-cluster-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await api?.close();
});

async function cluster(): Promise<FakeApiServer> {
  api = await startFakeApiServer({ bookmarkIntervalMs: 200 });
  return api;
}

/** The cluster policy source over the fake API server's kubeconfig, as `vouch webhook --policies-from cluster` builds it. */
function source(o: Partial<ClusterPolicySourceOptions> = {}) {
  const file = join(dir, `kubeconfig-${api.port}`);
  writeFileSync(file, api.kubeconfig());
  return clusterPolicySource({ kube: kubeClient(loadKubeConfig({ kubeconfig: file })), debounceMs: 20, retryMs: 100, ...o });
}

/** The harness's seed ClusterPolicy (verifies registry.example.com/*) as a cluster object. */
function seedPolicy(name = 'check-image-signature'): KubeObject {
  const p = structuredClone(h.policies()[0]!) as unknown as KubeObject;
  p.metadata = { name };
  return p;
}

/** A fresh cluster holding the seed policy, and a webhook serving it. */
async function serving() {
  await cluster();
  api.create(seedPolicy());
  const s = await h.start({ loadPolicies: undefined, policySource: source() });
  await s.ready;
  return s;
}

const allowed = async (s: { address: { port: number } }, image: string, namespace?: string) => {
  const review = pod(image);
  if (namespace) {
    review.request!.namespace = namespace;
    (review.request!.object as KubeObject).metadata!.namespace = namespace;
  }
  const r = (await call(s, '/mutate', review)).json().response!;
  return { allowed: r.allowed, message: r.status?.message ?? '' };
};

describe('startWebhookServer with policies from the cluster', () => {
  it('serves the policies of the first complete read, and not before', async () => {
    await cluster();
    api.create(seedPolicy());
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    api.intercept = async (req) => {
      if (req.resource === 'clusterpolicies.kyverno.io' && req.verb === 'list') await held;
      return undefined;
    };
    const logs: WebhookLogEntry[] = [];
    const s = await h.start({ loadPolicies: undefined, policySource: source() }, logs);
    expect(s.isReady()).toBe(false);
    const before = await call(s, '/readyz');
    expect(before.status).toBe(503);
    expect(before.text).toBe('not ready: policies are not loaded: reading the policies from the cluster\n');
    expect(await allowed(s, 'registry.example.com/signed:v1')).toMatchObject({ allowed: false });
    release();
    await s.ready;
    expect(s.status()).toMatchObject({ ready: true, policies: 1, generation: 1 });
    expect((await call(s, '/readyz')).text).toBe('ok: 1 policy, set 1\n');
    expect(await allowed(s, 'registry.example.com/signed:v1')).toMatchObject({ allowed: true });
    expect(await allowed(s, 'registry.example.com/unsigned:v1')).toMatchObject({ allowed: false });
    expect(logs.find((l) => l.msg === 'policies loaded')).toMatchObject({ policies: ['check-image-signature'] });
  });

  it('swaps the policy set when a policy is created, edited or deleted', async () => {
    const s = await serving();
    expect(await allowed(s, 'other.example/unsigned:v1')).toMatchObject({ allowed: true });
    // a second policy covering other.example
    const other = seedPolicy('other');
    (other.spec as { rules: { verifyImages: { imageReferences: string[] }[] }[] }).rules[0]!.verifyImages[0]!.imageReferences = [
      'other.example/*',
    ];
    api.create(other);
    await until(() => s.status().generation === 2);
    expect(s.policies().map((p) => p.metadata.name)).toEqual(['check-image-signature', 'other']);
    expect(await allowed(s, 'other.example/unsigned:v1')).toMatchObject({ allowed: false });
    // an edit: the first policy no longer covers registry.example.com
    const edited = structuredClone(api.get('kyverno.io/v1', 'ClusterPolicy', undefined, 'check-image-signature')!);
    (edited.spec as { rules: { verifyImages: { imageReferences: string[] }[] }[] }).rules[0]!.verifyImages[0]!.imageReferences = [
      'elsewhere.example/*',
    ];
    api.apply(edited);
    await until(() => s.status().generation === 3);
    expect(await allowed(s, 'registry.example.com/unsigned:v1')).toMatchObject({ allowed: true });
    // a delete
    api.remove('kyverno.io/v1', 'ClusterPolicy', undefined, 'other');
    await until(() => s.status().generation === 4);
    expect(await allowed(s, 'other.example/unsigned:v1')).toMatchObject({ allowed: true });
    expect(s.isReady()).toBe(true);
  });

  it('a ClusterPolicy that cannot be used fails closed: not ready, every review denied, until it is fixed', async () => {
    const s = await serving();
    // invalid: Kyverno's CRD would refuse it, the fake API server stores it
    const invalid = seedPolicy('broken');
    (invalid.spec as Record<string, unknown>).validationFailureAction = 'Sometimes';
    api.create(invalid);
    await until(() => !s.isReady());
    const r = await call(s, '/readyz');
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/^not ready: policies are not loaded: a ClusterPolicy in the cluster cannot be used, .*ClusterPolicy broken/);
    const denied = await allowed(s, 'registry.example.com/signed:v1');
    expect(denied.allowed).toBe(false);
    expect(denied.message).toMatch(/no policy set is in use .*ClusterPolicy broken.*\(failurePolicy Fail\)$/);
    // fixed: ready again with both
    const fixed = structuredClone(api.get('kyverno.io/v1', 'ClusterPolicy', undefined, 'broken')!);
    (fixed.spec as Record<string, unknown>).validationFailureAction = 'Enforce';
    api.apply(fixed);
    await until(() => s.isReady());
    expect(s.policies().map((p) => p.metadata.name)).toEqual(['broken', 'check-image-signature']);
    expect(await allowed(s, 'registry.example.com/signed:v1')).toMatchObject({ allowed: true });
    // a construct vouch does not evaluate (a mutate rule): the same
    const unsupported = seedPolicy('mutates');
    (unsupported.spec as { rules: unknown[] }).rules.push({
      name: 'label',
      match: { any: [{ resources: { kinds: ['Pod'] } }] },
      mutate: { patchStrategicMerge: { metadata: { labels: { checked: 'yes' } } } },
    });
    api.create(unsupported);
    await until(() => !s.isReady());
    expect(s.status().reason).toMatch(/policy mutates rule label: vouch cannot evaluate mutate rules/);
    expect(await allowed(s, 'registry.example.com/signed:v1')).toMatchObject({ allowed: false });
    // deleted: ready again
    api.remove('kyverno.io/v1', 'ClusterPolicy', undefined, 'mutates');
    await until(() => s.isReady());
    expect(s.status().reason).toBeUndefined();
  });

  it('a namespaced Policy that cannot be used denies the reviews of its namespace only', async () => {
    const s = await serving();
    const bad = seedPolicy('team-policy');
    bad.kind = 'Policy';
    bad.metadata = { name: 'team-policy', namespace: 'team-a' };
    (bad.spec as Record<string, unknown>).validationFailureAction = 'Sometimes';
    api.create(bad);
    await until(() => s.status().deniedNamespaces !== undefined);
    expect(s.isReady()).toBe(true);
    expect((await call(s, '/readyz')).text).toMatch(
      /^ok: 1 policy, set \d+ \(serving policy set \d+; reviews in namespace team-a are denied: /,
    );
    const inTeam = await allowed(s, 'registry.example.com/signed:v1', 'team-a');
    expect(inTeam.allowed).toBe(false);
    expect(inTeam.message).toMatch(/^vouch could not evaluate the request: a Policy in namespace team-a cannot be used: .*team-policy/);
    expect(await allowed(s, 'registry.example.com/signed:v1', 'team-b')).toMatchObject({ allowed: true });
    api.remove('kyverno.io/v1', 'Policy', 'team-a', 'team-policy');
    await until(() => s.status().deniedNamespaces === undefined);
    expect(await allowed(s, 'registry.example.com/signed:v1', 'team-a')).toMatchObject({ allowed: true });
  });

  it('one reload per change, also when a change moves a policy out of the problems and into the set', async () => {
    await cluster();
    api.create(seedPolicy());
    const bad = seedPolicy('team-policy');
    bad.kind = 'Policy';
    bad.metadata = { name: 'team-policy', namespace: 'team-a' };
    (bad.spec as Record<string, unknown>).validationFailureAction = 'Sometimes';
    api.create(bad);
    const logs: WebhookLogEntry[] = [];
    const s = await h.start({ loadPolicies: undefined, policySource: source() }, logs);
    await s.ready;
    await until(() => s.status().deniedNamespaces !== undefined);
    const loads = () => logs.filter((l) => l.msg === 'policies loaded').length;
    const before = loads();
    const generation = s.status().generation;
    // fixed: the set gains it and the problems lose it, two events of one change
    const fixed = structuredClone(api.get('kyverno.io/v1', 'Policy', 'team-a', 'team-policy')!);
    (fixed.spec as Record<string, unknown>).validationFailureAction = 'Enforce';
    api.apply(fixed);
    await until(() => s.status().deniedNamespaces === undefined && s.policies().length === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(loads() - before).toBe(1);
    expect(s.status().generation).toBe(generation + 1);
  });

  it('an API server that cannot be reached at start: not ready with the reason, ready once it answers', async () => {
    await cluster();
    api.create(seedPolicy());
    api.intercept = (req) => (req.resource.endsWith('kyverno.io') ? { status: 503, message: 'the API server is unavailable' } : undefined);
    const logs: WebhookLogEntry[] = [];
    const s = await h.start({ loadPolicies: undefined, policySource: source() }, logs);
    await until(() => /cannot read the policies from the cluster/.test(s.status().reason ?? ''), 10_000);
    const r = await call(s, '/readyz');
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/^not ready: policies are not loaded: cannot read the policies from the cluster \(retrying\): /);
    expect(logs.some((l) => l.msg === 'policies could not be read from the cluster; not ready, retrying')).toBe(true);
    expect(await allowed(s, 'registry.example.com/signed:v1')).toMatchObject({ allowed: false });
    api.intercept = undefined;
    await until(() => s.isReady(), 10_000);
    expect(s.status()).toMatchObject({ ready: true, policies: 1 });
    expect(await allowed(s, 'registry.example.com/signed:v1')).toMatchObject({ allowed: true });
  });

  it('close() closes the source, and so does a failed start: no watch stays open', async () => {
    const s = await serving();
    await until(() => api.openWatches() > 0);
    await s.close();
    await until(() => api.openWatches() === 0);
    const src = source();
    await src.ready;
    await until(() => api.openWatches() > 0);
    const swapped = { cert: h.tls.key, key: h.tls.cert };
    await expect(h.start({ loadPolicies: undefined, policySource: src, tls: swapped })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
    });
    await until(() => api.openWatches() === 0);
  });
});

describe('vouch webhook --policies-from cluster', () => {
  it('with --controller: one process admits and scans, one /metrics endpoint for both', async () => {
    await cluster();
    api.create(parse(seedPolicyYaml({ certPem: h.certPem, imageReferences: ['127.0.0.1:9/*'] })) as KubeObject);
    api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { containers: [{ name: 'app', image: '127.0.0.1:9/app:v1' }] },
    });
    const kubeconfig = join(dir, 'cli-kubeconfig');
    writeFileSync(kubeconfig, api.kubeconfig());
    await writeFile(join(h.dir, 'tls.crt'), h.tls.cert);
    await writeFile(join(h.dir, 'tls.key'), h.tls.key);
    const r = runVouch(
      h.dir,
      ['webhook', '--policies-from', 'cluster', '--kubeconfig', kubeconfig, '--controller', '--namespace', 'vouch-system'].concat(
        ['--identity', 'one-process', '--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--port', '0', '--address', '127.0.0.1'],
        ['--metrics-port', '0', '--timeout-ms', '3000'],
      ),
    );
    await until(() => r.lines().some((l) => l.msg === 'metrics listening'), 10_000).catch(() => {
      throw new Error(`not listening: ${r.err()}`);
    });
    const port = Number(new URL(String(r.lines().find((l) => l.msg === 'listening')!.address)).port);
    await until(async () => (await call(port, '/readyz')).status === 200, 10_000);
    const denied = (await call(port, '/mutate', pod('127.0.0.1:9/app:v1'))).json().response!;
    expect(denied.allowed).toBe(false);
    // the scanner of the same process wrote the report of the running pod
    await until(() => api.list('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'shop').length === 1, 20_000);
    const scrape = await fetch(String(r.lines().find((l) => l.msg === 'metrics listening')!.address)).then((x) => x.text());
    expect(scrape).toContain('vouch_webhook_ready 1');
    expect(scrape).toContain('vouch_controller_leader 1');
    expect(scrape).toMatch(/vouch_controller_report_writes_total\{operation="create",outcome="ok"\} 1/);
    expect(scrape.match(/^# TYPE process_resident_memory_bytes /gm)).toHaveLength(1);
    process.emit('SIGTERM');
    expect(await r.done).toBe(0);
    const lease = api.get('coordination.k8s.io/v1', 'Lease', 'vouch-system', 'vouch-controller');
    expect((lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity).toBeUndefined();
    expect(r.lines().at(-1)).toMatchObject({ msg: 'stopped', drained: true });
  }, 40_000);

  it('exactly one policy source, and the cluster flags only with it: usage errors otherwise', async () => {
    const tls = ['--tls-cert', 'tls.crt', '--tls-key', 'tls.key'];
    const cases: [string[], string][] = [
      [tls, 'the policies are required: --policies DIR (a directory of ClusterPolicy/Policy YAML) or --policies-from cluster'],
      [['--policies', h.dir, '--policies-from', 'cluster', ...tls], '--policies and --policies-from cluster are exclusive'],
      [['--policies-from', 'configmap', ...tls], '--policies-from value configmap is not supported'],
      [['--policies', h.dir, '--controller', ...tls], '--controller applies to --policies-from cluster, not to --policies'],
      [['--policies', h.dir, '--kubeconfig', 'k', ...tls], '--kubeconfig applies to --policies-from cluster, not to --policies'],
      [['--policies-from', 'cluster', '--watch', ...tls], "--watch applies to --policies: the cluster's policies are always watched"],
    ];
    for (const [args, message] of cases) {
      const r = runVouch(h.dir, ['webhook', ...args]);
      expect(await r.done).toBe(1);
      expect(r.err()).toContain(message);
      expect(r.lines()).toEqual([]);
    }
  });
});
