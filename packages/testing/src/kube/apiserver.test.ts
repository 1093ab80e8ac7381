/**
 * Keeps the fake API server honest: the official client (@kubernetes/client-node) and the real
 * kubectl drive it through the conventions the controller relies on.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiException, KubeConfig, KubernetesObjectApi, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';

const run = promisify(execFile);

type Meta = { metadata?: { resourceVersion?: string; uid?: string } };

function pod(name: string, ns = 'default', labels: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: { containers: [{ name: 'c', image: `reg.example/${name}:1` }] },
  };
}

function clientFor(server: FakeApiServer): { kc: KubeConfig; api: KubernetesObjectApi } {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return { kc, api: KubernetesObjectApi.makeApiClient(kc) };
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof ApiException) return e.code;
    throw e;
  }
}

describe('fake API server, driven by @kubernetes/client-node', () => {
  let server: FakeApiServer;
  beforeAll(async () => {
    server = await startFakeApiServer({ bookmarkIntervalMs: 50 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('creates, reads, lists with limit/continue on one snapshot, and rejects a second create with 409 AlreadyExists', async () => {
    const { api } = clientFor(server);
    for (let i = 0; i < 7; i++) await api.create(pod(`p${i}`, 'paging'));
    expect(await statusOf(api.create(pod('p0', 'paging')))).toBe(409);
    const first = await api.list('v1', 'Pod', 'paging', undefined, undefined, undefined, undefined, undefined, 3);
    expect(first.items.map((p) => p.metadata?.name)).toEqual(['p0', 'p1', 'p2']);
    expect(first.metadata?._continue).toBeTruthy();
    // a change between pages does not show up: the continuation reads the first page's snapshot
    server.create(pod('p3a', 'paging'));
    server.remove('v1', 'Pod', 'paging', 'p5');
    const names: string[] = [];
    let cont = first.metadata?._continue;
    while (cont) {
      const page = await api.list('v1', 'Pod', 'paging', undefined, undefined, undefined, undefined, undefined, 3, cont);
      names.push(...page.items.map((p) => p.metadata?.name ?? ''));
      expect(page.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
      cont = page.metadata?._continue;
    }
    expect(names).toEqual(['p3', 'p4', 'p5', 'p6']);
    const fresh = await api.list('v1', 'Pod', 'paging');
    expect(fresh.items.map((p) => p.metadata?.name)).toEqual(['p0', 'p1', 'p2', 'p3', 'p3a', 'p4', 'p6']);
  });

  it('answers a continue token older than the compacted history with 410 Gone (Expired)', async () => {
    const { api } = clientFor(server);
    const first = await api.list('v1', 'Pod', 'paging', undefined, undefined, undefined, undefined, undefined, 2);
    server.create(pod('later', 'paging'));
    server.compact();
    try {
      await api.list('v1', 'Pod', 'paging', undefined, undefined, undefined, undefined, undefined, 2, first.metadata?._continue);
      expect.unreachable('the stale continue token was accepted');
    } catch (e) {
      expect((e as ApiException<unknown>).code).toBe(410);
      expect(JSON.stringify((e as ApiException<unknown>).body)).toContain('Expired');
    }
  });

  it('replaces with optimistic concurrency: a stale resourceVersion gets 409 Conflict', async () => {
    const { api } = clientFor(server);
    const created = await api.create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'lock', namespace: 'default' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
    });
    const mine = structuredClone(created) as typeof created & { spec: { holderIdentity: string } };
    mine.spec.holderIdentity = 'b';
    const updated = await api.replace(mine);
    expect(Number((updated as Meta).metadata?.resourceVersion)).toBeGreaterThan(Number((created as Meta).metadata?.resourceVersion));
    const stale = structuredClone(created) as typeof created & { spec: { holderIdentity: string } };
    stale.spec.holderIdentity = 'c';
    expect(await statusOf(api.replace(stale))).toBe(409);
    const now = (await api.read({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'lock', namespace: 'default' },
    })) as {
      spec?: { holderIdentity?: string };
    };
    expect(now.spec?.holderIdentity).toBe('b');
  });

  it('watches from a resourceVersion with bookmarks, and sends a 410 ERROR event for a compacted one', async () => {
    const { kc, api } = clientFor(server);
    const list = await api.list('v1', 'Pod', 'watched');
    const rv = list.metadata?.resourceVersion;
    const events: { type: string; name?: string; rv?: string }[] = [];
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(kc).watch(
        '/api/v1/namespaces/watched/pods',
        { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 1 },
        (type, obj) => events.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion }),
        resolve,
      );
    });
    await new Promise((r) => setTimeout(r, 100));
    await api.create(pod('w1', 'watched'));
    const w1 = server.get('v1', 'Pod', 'watched', 'w1')!;
    server.apply({ ...w1, metadata: { ...w1.metadata, labels: { x: 'y' } } });
    server.remove('v1', 'Pod', 'watched', 'w1');
    await ended;
    expect(events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.name}`)).toEqual([
      'ADDED w1',
      'MODIFIED w1',
      'DELETED w1',
    ]);
    const bookmarks = events.filter((e) => e.type === 'BOOKMARK');
    expect(bookmarks.length).toBeGreaterThan(0);
    expect(Number(bookmarks.at(-1)!.rv)).toBeGreaterThanOrEqual(Number(events.find((e) => e.type === 'DELETED')!.rv));

    server.compact();
    const errors: { type: string; code?: number; reason?: string }[] = [];
    await new Promise<unknown>((resolve) => {
      void new Watch(kc).watch(
        '/api/v1/namespaces/watched/pods',
        { resourceVersion: rv, allowWatchBookmarks: true },
        (type, obj) => errors.push({ type, code: obj?.code, reason: obj?.reason }),
        resolve,
      );
    });
    expect(errors).toEqual([{ type: 'ERROR', code: 410, reason: 'Expired' }]);
  });

  it('garbage-collects dependents by ownerReferences (and objects created for owners that are already gone)', async () => {
    const { api } = clientFor(server);
    const owner = await api.create(pod('owner', 'gc'));
    const report = {
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: 'PolicyReport',
      metadata: {
        name: 'r1',
        namespace: 'gc',
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'owner', uid: (owner as Meta).metadata!.uid! }],
      },
      results: [],
    };
    await api.create(report);
    await api.delete(owner);
    await server.settle();
    expect(server.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'gc', 'r1')).toBeUndefined();
    await api.create({ ...report, metadata: { ...report.metadata, name: 'r2' } });
    await server.settle();
    expect(server.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'gc', 'r2')).toBeUndefined();
  });

  it('rejects requests without the bearer token (401)', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig().replace(/token: .*/, 'token: wrong'));
    expect(await statusOf(KubernetesObjectApi.makeApiClient(kc).list('v1', 'Pod', 'default'))).toBe(401);
  });

  it('works with in-cluster configuration (service account token and CA files, KUBERNETES_SERVICE_* env)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vouch-incluster-'));
    const sa = join(dir, 'var/run/secrets/kubernetes.io/serviceaccount');
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    try {
      await import('node:fs/promises').then((fs) => fs.mkdir(sa, { recursive: true }));
      writeFileSync(join(sa, 'token'), server.token!);
      writeFileSync(join(sa, 'ca.crt'), server.caPem!);
      writeFileSync(join(sa, 'namespace'), 'default');
      process.env.KUBERNETES_SERVICE_HOST = '127.0.0.1';
      process.env.KUBERNETES_SERVICE_PORT = String(server.port);
      const kc = new KubeConfig();
      kc.loadFromCluster(dir);
      const list = await KubernetesObjectApi.makeApiClient(kc).list('v1', 'Pod', 'paging');
      expect(list.items.length).toBeGreaterThan(0);
    } finally {
      process.env.KUBERNETES_SERVICE_HOST = saved.host;
      process.env.KUBERNETES_SERVICE_PORT = saved.port;
      if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));

if (!KUBECTL) {
  if (process.env.CI === 'true') throw new Error('kubectl is required under CI=true (.ci/run installs kubernetes-client)');
  console.warn('NOTICE: kubectl not found; skipping the kubectl checks of the fake API server');
}

describe.skipIf(!KUBECTL)('fake API server, driven by the real kubectl', () => {
  let server: FakeApiServer;
  let dir: string;
  let kubectl: (...args: string[]) => Promise<{ stdout: string; stderr: string; code: number }>;
  beforeAll(async () => {
    server = await startFakeApiServer();
    dir = mkdtempSync(join(tmpdir(), 'vouch-kubectl-'));
    writeFileSync(join(dir, 'config'), server.kubeconfig());
    kubectl = async (...args) => {
      try {
        const r = await run(KUBECTL!, ['--kubeconfig', join(dir, 'config'), '--cache-dir', join(dir, 'cache'), ...args], {
          env: { ...process.env, HOME: dir },
          timeout: 60_000,
        });
        return { ...r, code: 0 };
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string; code?: number };
        return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: typeof err.code === 'number' ? err.code : 1 };
      }
    };
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates, gets (table and JSON), paginates with --chunk-size and deletes over HTTPS', async () => {
    writeFileSync(
      join(dir, 'pods.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n, 'kc')) }),
    );
    const created = await kubectl('create', '-f', join(dir, 'pods.json'), '--validate=false');
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain('pod/a created');
    const table = await kubectl('get', 'pods', '-n', 'kc');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s/);
    expect(table.stdout).toMatch(/\ne\s/);
    const before = server.requests.length;
    const json = await kubectl('get', 'pods', '-n', 'kc', '--chunk-size=2', '-o', 'json');
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
    ]);
    const lists = server.requests.slice(before).filter((r) => r.verb === 'list' && r.namespace === 'kc');
    expect(lists.length).toBe(3);
    expect(lists[1]!.query).toContain('continue=');
    const del = await kubectl('delete', 'pod', 'a', '-n', 'kc', '--wait=false');
    expect(del.stdout).toContain('pod "a" deleted');
    expect(server.get('v1', 'Pod', 'kc', 'a')).toBeUndefined();
  });

  it('reports a stale replace as a conflict and a missing object as NotFound', async () => {
    const cur = server.get('v1', 'Pod', 'kc', 'b')!;
    server.apply({ ...cur, metadata: { ...cur.metadata, labels: { bumped: 'yes' } } });
    writeFileSync(join(dir, 'stale.json'), JSON.stringify(cur));
    const r = await kubectl('replace', '-f', join(dir, 'stale.json'), '--validate=false');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('the object has been modified');
    const nf = await kubectl('get', 'pod', 'nope', '-n', 'kc');
    expect(nf.stderr).toContain('pods "nope" not found');
  });

  it('lists custom resources (PolicyReports) by short name across namespaces', async () => {
    server.create({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'r', namespace: 'kc' }, results: [] });
    const r = await kubectl('get', 'polr', '-A', '-o', 'jsonpath={.items[*].metadata.name}');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('r');
  });
});
