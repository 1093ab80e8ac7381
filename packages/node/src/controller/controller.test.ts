/**
 * The background scanner against the fake API server (@vouch/testing/kube) and the real Kyverno engine
 * and Notary verifier adapter over in-memory registries.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { VouchError } from '@vouch/core';
import { waitFor } from '@vouch/testing';
import { podObject, policyObject, REGISTRY, signedImages } from '@vouch/testing/controller';
import { type FakeApiServer, type KubeObject, startFakeApiServer } from '@vouch/testing/kube';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type Controller, type ControllerOptions, clusterPolicySource, type KubeClient, kubeClient, startController } from './index.js';

const REPORT = 'wgpolicyk8s.io/v1alpha2';

function clientOf(server: FakeApiServer): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return kubeClient(kc);
}

/** A client that fails every call once killed, as a dead process sends nothing. */
function killable(k: KubeClient): { kube: KubeClient; kill(): void } {
  let dead = false;
  const stops: (() => void)[] = [];
  const gone = () => Promise.reject(new VouchError('ERR_ABORTED', 'process killed'));
  const kube: KubeClient = {
    list: (...a) => (dead ? gone() : k.list(...a)),
    get: (...a) => (dead ? gone() : k.get(...a)),
    create: (...a) => (dead ? gone() : k.create(...a)),
    replace: (...a) => (dead ? gone() : k.replace(...a)),
    delete: (...a) => (dead ? gone() : k.delete(...a)),
    async watch(apiVersion, plural, o, onEvent, onEnd) {
      if (dead) return gone();
      const stop = await k.watch(apiVersion, plural, o, (e) => !dead && onEvent(e), onEnd);
      stops.push(stop);
      return stop;
    },
  };
  return {
    kube,
    kill() {
      dead = true;
      for (const s of stops) s();
    },
  };
}

type Report = KubeObject & { results: { policy: string; result: string; message: string; properties?: Record<string, string> }[] };

function reportsIn(server: FakeApiServer, ns?: string): Report[] {
  return server.list(REPORT, 'PolicyReport', ns) as Report[];
}

function reportOf(server: FakeApiServer, ns: string, pod: string): Report | undefined {
  const uid = server.get('v1', 'Pod', ns, pod)?.metadata?.uid;
  return uid ? (server.get(REPORT, 'PolicyReport', ns, `vouch-${uid}`) as Report | undefined) : undefined;
}

/** Waits until the report of `pod` says fail, and returns it. */
function failedReport(server: FakeApiServer, ns: string, pod: string, what: string): Promise<Report> {
  return waitFor(what, () => {
    const r = reportOf(server, ns, pod);
    return r?.results[0]?.result === 'fail' && r;
  });
}

const started: { close(o?: { release?: boolean }): Promise<void> }[] = [];
const servers: FakeApiServer[] = [];
afterEach(async () => {
  for (const c of started.splice(0)) await c.close({ release: false }).catch(() => undefined);
  for (const s of servers.splice(0)) await s.close();
});

async function setup() {
  const server = await startFakeApiServer({ bookmarkIntervalMs: 200 });
  servers.push(server);
  const images = await signedImages();
  return { server, images, kube: clientOf(server) };
}

function controller(o: Partial<ControllerOptions> & Pick<ControllerOptions, 'kube' | 'verifier'>): Controller {
  const c = startController({
    namespace: 'vouch-system',
    scanIntervalMs: 0,
    // Lease durations are whole seconds on the wire (leaseDurationSeconds)
    leaseDurationMs: 2000,
    renewDeadlineMs: 1500,
    retryPeriodMs: 250,
    reportWritesPerSecond: 1000,
    ...o,
  });
  started.push(c);
  return c;
}

describe('background scanner', () => {
  it('a signature removed from the registry turns a pass into a fail at the next scan', async () => {
    const { server, images, kube } = await setup();
    const digest = await images.push('app', 'v1');
    await images.push('tool', 'v1');
    server.create(policyObject({ name: 'check-images', certPem: images.certPem, refs: [`${REGISTRY}/*`] }));
    server.create(podObject('web', 'shop', { app: `${REGISTRY}/app:v1`, tool: `${REGISTRY}/tool:v1` }));
    server.create(podObject('nothing-to-check', 'shop', { other: 'elsewhere.example/x:1' }));
    const c = controller({ kube, verifier: images.verifier });
    await c.initialScan();
    const before = reportOf(server, 'shop', 'web')!;
    expect(before.results.map((r) => [r.properties?.container, r.result])).toEqual([
      ['containers/app', 'pass'],
      ['containers/tool', 'pass'],
    ]);
    expect(before.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Pod', name: 'web' })]);
    // only resources with images the policies cover get a report
    expect(reportsIn(server)).toHaveLength(1);

    expect(await images.unsign('app', digest)).toBe(1);
    const run = await c.scanNow();
    expect(run.writes).toBe(1);
    const after = reportOf(server, 'shop', 'web')!;
    expect(after.results.map((r) => [r.properties?.container, r.result])).toEqual([
      ['containers/app', 'fail'],
      ['containers/tool', 'pass'],
    ]);
    expect(after.results[0]!.message).toContain('no signature is associated');
    // the unchanged result keeps its timestamp
    expect(after.results[1]).toEqual(before.results[1]);
    // a scan without changes writes nothing
    expect((await c.scanNow()).writes).toBe(0);
  });

  it('verifies each distinct digest once per scan, whatever the number of pods running it', async () => {
    const { server, images, kube } = await setup();
    await images.push('a', 'v1');
    await images.push('b', 'v1');
    server.create(policyObject({ name: 'p', certPem: images.certPem, refs: [`${REGISTRY}/*`] }));
    for (let i = 0; i < 20; i++)
      server.create(podObject(`p${i}`, 'ns', { main: `${REGISTRY}/${i % 2 ? 'a' : 'b'}:v1`, side: `${REGISTRY}/a:v1` }));
    const c = controller({ kube, verifier: images.verifier, pageSize: 7 });
    await c.initialScan();
    expect(images.verified).toHaveLength(2);
    images.verified.length = 0;
    const run = await c.scanNow();
    expect(run.resources).toBe(20);
    expect(images.verified.sort()).toEqual([
      expect.stringContaining(`${REGISTRY}/a@sha256:`),
      expect.stringContaining(`${REGISTRY}/b@sha256:`),
    ]);
    expect(run.writes).toBe(0);
    // the lists were paginated
    expect(server.requests.some((r) => r.verb === 'list' && r.resource === 'pods' && r.query.includes('continue='))).toBe(true);
  });

  it('a policy edit re-scans only what it matches', async () => {
    const { server, images, kube } = await setup();
    await images.push('team-a/app', 'v1');
    await images.push('team-b/app', 'v1');
    server.create(policyObject({ name: 'team-a', certPem: images.certPem, refs: [`${REGISTRY}/team-a/*`], namespaces: ['team-a'] }));
    server.create(policyObject({ name: 'team-b', certPem: images.certPem, refs: [`${REGISTRY}/team-b/*`], namespaces: ['team-b'] }));
    for (let i = 0; i < 3; i++) {
      server.create(podObject(`a${i}`, 'team-a', { app: `${REGISTRY}/team-a/app:v1` }));
      server.create(podObject(`b${i}`, 'team-b', { app: `${REGISTRY}/team-b/app:v1` }));
    }
    const c = controller({ kube, verifier: images.verifier });
    await c.initialScan();
    const bBefore = reportsIn(server, 'team-b').map((r) => r.metadata?.resourceVersion);
    expect(reportsIn(server, 'team-a').every((r) => r.results[0]!.result === 'pass')).toBe(true);
    images.verified.length = 0;
    const writesBefore = c.stats().writes;

    // team-a now trusts another certificate only: its images no longer verify
    const edited = server.get('kyverno.io/v1', 'ClusterPolicy', undefined, 'team-a')!;
    (edited.spec as { rules: { verifyImages: { attestors: { entries: { certificates: { cert: string } }[] }[] }[] }[] }).rules[0]!
      .verifyImages[0]!.attestors[0]!.entries[0]!.certificates.cert = images.otherCertPem;
    server.apply(edited);
    await waitFor('the policy run', () => c.stats().runs.find((r) => r.trigger === 'policy'));
    await c.idle();

    expect(images.verified.every((i) => i.startsWith(`${REGISTRY}/team-a/`))).toBe(true);
    expect(images.verified).toHaveLength(1);
    expect(reportsIn(server, 'team-a').map((r) => r.results[0]!.result)).toEqual(['fail', 'fail', 'fail']);
    expect(reportsIn(server, 'team-b').map((r) => r.metadata?.resourceVersion)).toEqual(bBefore);
    const w = c.stats().writes;
    expect(w.update - writesBefore.update).toBe(3);

    // deleting the policy removes its results (and the reports left empty)
    server.remove('kyverno.io/v1', 'ClusterPolicy', undefined, 'team-a');
    await waitFor('team-a reports removed', () => reportsIn(server, 'team-a').length === 0);
    expect(reportsIn(server, 'team-b')).toHaveLength(3);
  });

  it('follows the workloads: new pods get a report, status updates are not re-verified, deleted pods lose theirs, 410 Gone relists', async () => {
    const { server, images, kube } = await setup();
    await images.push('app', 'v1');
    await images.push('app', 'v2', false);
    server.create(policyObject({ name: 'p', certPem: images.certPem, refs: [`${REGISTRY}/*`] }));
    const c = controller({ kube, verifier: images.verifier });
    await c.initialScan();
    server.create(podObject('late', 'ns', { app: `${REGISTRY}/app:v1` }));
    await waitFor('a report for the new pod', () => reportOf(server, 'ns', 'late'));
    const evaluations = c.stats().evaluations;
    const late = server.get('v1', 'Pod', 'ns', 'late')!;
    server.apply({ ...late, status: { phase: 'Running' } });
    await new Promise((r) => setTimeout(r, 300));
    await c.idle();
    expect(c.stats().evaluations).toBe(evaluations);

    server.remove('v1', 'Pod', 'ns', 'late');
    await server.settle();
    expect(reportsIn(server, 'ns')).toHaveLength(0);

    // the watch's resourceVersion is compacted away and the stream ends: the controller lists again
    server.compact();
    server.closeWatches();
    server.create(podObject('after-gone', 'ns', { app: `${REGISTRY}/app:v2` }));
    server.compact();
    const r = await waitFor('a report after the relist', () => reportOf(server, 'ns', 'after-gone'));
    expect(r.results[0]!.result).toBe('fail');
    expect(server.requests.filter((q) => q.resource === 'pods' && q.verb === 'list').length).toBeGreaterThanOrEqual(2);
  });

  it('bounds report writes per second', async () => {
    const { server, images, kube } = await setup();
    await images.push('app', 'v1');
    server.create(policyObject({ name: 'p', certPem: images.certPem, refs: [`${REGISTRY}/*`] }));
    for (let i = 0; i < 24; i++) server.create(podObject(`p${i}`, 'ns', { app: `${REGISTRY}/app:v1` }));
    const c = controller({ kube, verifier: images.verifier, reportWritesPerSecond: 10, reportWriteBurst: 4 });
    await c.initialScan();
    const writes = server.requests.filter((r) => r.resource === 'policyreports.wgpolicyk8s.io' && r.verb === 'create').map((r) => r.time);
    expect(writes).toHaveLength(24);
    // any window of one second holds at most rate + burst writes; 24 writes take at least 2 seconds
    for (const t of writes) expect(writes.filter((x) => x >= t && x < t + 1000).length).toBeLessThanOrEqual(14);
    expect(writes.at(-1)! - writes[0]!).toBeGreaterThanOrEqual(1900);
  });

  it('re-verifies the images whose cached verification expired, without waiting for the schedule', async () => {
    const { server, images, kube } = await setup();
    const digest = await images.push('app', 'v1');
    await images.push('other', 'v1');
    server.create(policyObject({ name: 'p', certPem: images.certPem, refs: [`${REGISTRY}/*`] }));
    server.create(podObject('web', 'ns', { app: `${REGISTRY}/app:v1` }));
    server.create(podObject('db', 'ns', { other: `${REGISTRY}/other:v1` }));
    const c = controller({ kube, verifier: images.verifier, cacheTtlMs: 600, minExpiryScanIntervalMs: 100, scanIntervalMs: 3_600_000 });
    await c.initialScan();
    await images.unsign('app', digest);
    const r = await failedReport(server, 'ns', 'web', 'the expiry run');
    expect(r.results[0]!.message).toContain('no signature');
    expect(c.stats().runs.some((x) => x.trigger === 'expiry')).toBe(true);
  });

  it('waits again when the expiry timer fires before the clock reaches the expiry (timers and Date.now() differ)', async () => {
    const { server, images, kube } = await setup();
    const digest = await images.push('app', 'v1');
    server.create(policyObject({ name: 'p', certPem: images.certPem, refs: [`${REGISTRY}/*`] }));
    server.create(podObject('web', 'ns', { app: `${REGISTRY}/app:v1` }));
    // a clock at half speed: every timer fires when the clock has reached only half of its delay
    const base = Date.now();
    const now = () => base + (Date.now() - base) / 2;
    const c = controller({ kube, verifier: images.verifier, now, cacheTtlMs: 400, minExpiryScanIntervalMs: 50, scanIntervalMs: 3_600_000 });
    await c.initialScan();
    await images.unsign('app', digest);
    const r = await failedReport(server, 'ns', 'web', 'the expiry run');
    expect(r.results[0]!.message).toContain('no signature');
    expect(c.stats().runs.filter((x) => x.trigger === 'expiry').length).toBeGreaterThanOrEqual(1);
  });

  it('retries the expired images when their expiry run fails', async () => {
    const { server, images, kube } = await setup();
    const digest = await images.push('app', 'v1');
    server.create(policyObject({ name: 'p', certPem: images.certPem, refs: [`${REGISTRY}/*`] }));
    server.create(podObject('web', 'ns', { app: `${REGISTRY}/app:v1` }));
    let failPodLists = 0;
    const failing: KubeClient = {
      ...kube,
      list: (...a) => {
        if (a[1] === 'Pod' && failPodLists > 0) {
          failPodLists--;
          return Promise.reject(new VouchError('ERR_NETWORK', 'API server unreachable'));
        }
        return kube.list(...a);
      },
    };
    const logged: string[] = [];
    const c = controller({
      kube: failing,
      verifier: images.verifier,
      cacheTtlMs: 300,
      minExpiryScanIntervalMs: 200,
      scanIntervalMs: 3_600_000,
      log: (e) => logged.push(e.msg),
    });
    await c.initialScan();
    // the next pod list is the first expiry run's (the reflector lists only at start and after a 410)
    failPodLists = 1;
    await images.unsign('app', digest);
    const r = await failedReport(server, 'ns', 'web', 'the retried expiry run');
    expect(r.results[0]!.message).toContain('no signature');
    expect(failPodLists).toBe(0);
    expect(logged).toContain('expiry scan failed');
  });

  it('registers its metrics on the registry it is given', async () => {
    const { server, images, kube } = await setup();
    await images.push('app', 'v1', false);
    server.create(policyObject({ name: 'p', certPem: images.certPem, refs: [`${REGISTRY}/*`] }));
    server.create(podObject('web', 'ns', { app: `${REGISTRY}/app:v1` }));
    const registry = new Registry();
    const c = controller({ kube, verifier: images.verifier, metricsRegistry: registry });
    await c.initialScan();
    const text = await registry.metrics();
    expect(text).toMatch(/vouch_controller_results\{status="fail"\} 1/);
    expect(text).toMatch(/vouch_controller_report_writes_total\{operation="create",outcome="ok"\} 1/);
    expect(text).toMatch(/vouch_controller_verifications_total\{outcome="fail"\} 1/);
    expect(text).toMatch(/vouch_controller_resources_scanned_total\{trigger="initial"\} 1/);
    expect(text).toMatch(/vouch_controller_scan_duration_seconds_count\{trigger="initial"\} 1/);
    expect(text).toMatch(/vouch_controller_leader 1/);
  });
});

describe('policies that cannot be read yet', () => {
  it('says so, keeps trying, and scans once they can be read (RBAC granted later)', async () => {
    const { server, images, kube } = await setup();
    await images.push('app', 'v1');
    server.create(policyObject({ name: 'p', certPem: images.certPem, refs: [`${REGISTRY}/*`] }));
    server.create(podObject('web', 'ns', { app: `${REGISTRY}/app:v1` }));
    let forbidden = true;
    server.intercept = (r) =>
      forbidden && r.resource === 'clusterpolicies.kyverno.io'
        ? { status: 403, message: 'clusterpolicies.kyverno.io is forbidden' }
        : undefined;
    const source = clusterPolicySource({ kube, debounceMs: 20, retryMs: 50 });
    try {
      const c = controller({ kube, verifier: images.verifier, policies: source });
      await expect(source.ready).rejects.toMatchObject({ code: 'ERR_KUBERNETES_API', details: { status: 403 } });
      await c.initialScan();
      expect(reportsIn(server)).toHaveLength(0);
      forbidden = false;
      const r = await waitFor('the report once the policy is readable', () => reportOf(server, 'ns', 'web'));
      expect(r.results[0]!.result).toBe('pass');
    } finally {
      source.close();
    }
  });
});

describe('several replicas', () => {
  it('a replica killed mid-scan: the other takes over within the lease duration (plus one retry period) and no report is lost or duplicated', async () => {
    const { server, images, kube } = await setup();
    await images.push('app', 'v1');
    await images.push('bad', 'v1', false);
    server.create(policyObject({ name: 'p', certPem: images.certPem, refs: [`${REGISTRY}/*`] }));
    const pods = 40;
    for (let i = 0; i < pods; i++) server.create(podObject(`p${i}`, 'ns', { app: `${REGISTRY}/${i % 4 ? 'app' : 'bad'}:v1` }));
    const a = killable(kube);
    const first = controller({
      kube: a.kube,
      verifier: images.verifier,
      identity: 'replica-a',
      reportWritesPerSecond: 20,
      reportWriteBurst: 1,
    });
    await waitFor('replica a leads', () => first.isLeader());
    const second = controller({ kube, verifier: images.verifier, identity: 'replica-b', reportWritesPerSecond: 20, reportWriteBurst: 1 });
    await waitFor('replica a is mid-scan', () => reportsIn(server, 'ns').length >= 10);
    expect(second.isLeader()).toBe(false);
    a.kill();
    const killedAt = Date.now();
    void first.close({ release: false });
    await waitFor('replica b leads', () => second.isLeader(), { timeoutMs: 10_000 });
    const takeover = Date.now() - killedAt;
    // lease duration + one (jittered) retry period + request latency
    expect(takeover).toBeLessThanOrEqual(2000 + 300 + 1000);
    await second.initialScan();
    await second.idle();
    const reports = reportsIn(server, 'ns');
    expect(reports).toHaveLength(pods);
    expect(new Set(reports.map((r) => r.metadata?.name)).size).toBe(pods);
    for (let i = 0; i < pods; i++) expect(reportOf(server, 'ns', `p${i}`)!.results.map((r) => r.result)).toEqual([i % 4 ? 'pass' : 'fail']);
    const lease = server.get('coordination.k8s.io/v1', 'Lease', 'vouch-system', 'vouch-controller')!;
    expect(lease.spec).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
    // reports replica a had written are not written again
    expect(second.stats().writes.create).toBeLessThan(pods);
    expect(second.stats().writes.create + second.stats().writes.conflict).toBeGreaterThan(0);
  });

  it('a replica that stops gives the Lease up, and the standby takes over at its next try', async () => {
    const { server, images, kube } = await setup();
    server.create(policyObject({ name: 'p', certPem: images.certPem, refs: [`${REGISTRY}/*`] }));
    const one = controller({
      kube,
      verifier: images.verifier,
      identity: 'one',
      leaseDurationMs: 10_000,
      renewDeadlineMs: 5_000,
      retryPeriodMs: 200,
    });
    await waitFor('one leads', () => one.isLeader());
    const two = controller({
      kube,
      verifier: images.verifier,
      identity: 'two',
      leaseDurationMs: 10_000,
      renewDeadlineMs: 5_000,
      retryPeriodMs: 200,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(two.isLeader()).toBe(false);
    const t0 = Date.now();
    await one.close();
    await waitFor('two leads', () => two.isLeader());
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describe('cluster policy source', () => {
  it('reads ClusterPolicies and Policies, follows edits, and reports a policy it cannot use', async () => {
    const { server, images, kube } = await setup();
    server.create(policyObject({ name: 'cp', certPem: images.certPem, refs: ['*'] }));
    server.create(policyObject({ name: 'np', namespace: 'team', certPem: images.certPem, refs: ['*'] }));
    const source = clusterPolicySource({ kube, debounceMs: 20 });
    try {
      await source.ready;
      expect(source.current().map((p) => `${p.kind}/${p.metadata.name}`)).toEqual(['ClusterPolicy/cp', 'Policy/np']);
      const changes: string[][] = [];
      source.onChange((_p, c) =>
        changes.push([...c.added.map((k) => `+${k}`), ...c.updated.map((k) => `~${k}`), ...c.removed.map((k) => `-${k}`)]),
      );
      server.remove('kyverno.io/v1', 'Policy', 'team', 'np');
      const bad = policyObject({ name: 'broken', certPem: images.certPem, refs: ['*'] });
      (bad.spec.rules[0] as Record<string, unknown>).match = {};
      server.create(bad);
      await waitFor('the change', () => changes.length > 0 && source.problems().length > 0);
      expect(changes).toEqual([['-team/np']]);
      expect(source.problems()).toEqual([{ policy: 'broken', error: expect.objectContaining({ code: 'ERR_KYVERNO_POLICY_INVALID' }) }]);
      const cp = server.get('kyverno.io/v1', 'ClusterPolicy', undefined, 'cp')!;
      server.apply({ ...cp, status: { ready: true } });
      await new Promise((r) => setTimeout(r, 100));
      expect(changes).toHaveLength(1);
      // a construct vouch does not evaluate is a problem, never a policy the engine would refuse later
      const mutating = policyObject({ name: 'mutating', certPem: images.certPem, refs: ['*'] });
      (mutating.spec.rules as unknown[]).push({
        name: 'label',
        match: (mutating.spec.rules[0] as Record<string, unknown>).match,
        mutate: { patchStrategicMerge: { metadata: { labels: { a: 'b' } } } },
      });
      server.create(mutating);
      await waitFor('the unsupported policy', () => source.problems().length > 1);
      expect(source.problems()).toContainEqual({ policy: 'mutating', error: expect.objectContaining({ code: 'ERR_UNSUPPORTED' }) });
      expect(source.current().map((p) => p.metadata.name)).toEqual(['cp']);
    } finally {
      source.close();
    }
  });
});
