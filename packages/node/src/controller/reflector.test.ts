import { KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '@vouch/testing';
import { type FakeApiServer, startFakeApiServer } from '@vouch/testing/kube';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeClient, startReflector } from './index.js';

const servers: FakeApiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function pod(name: string) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { containers: [] } };
}

describe('reflector', () => {
  it('hands a paginated list over page by page, then follows the watch', async () => {
    const server = await startFakeApiServer();
    servers.push(server);
    for (let i = 0; i < 7; i++) server.create(pod(`p${i}`));
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig());
    const pages: number[] = [];
    const events: string[] = [];
    const r = startReflector(
      { kube: kubeClient(kc), apiVersion: 'v1', kind: 'Pod', plural: 'pods', pageSize: 3 },
      {
        async onPage(items) {
          pages.push(items.length);
        },
        onEvent: (type, o) => events.push(`${type} ${o.kind}/${o.metadata?.name}`),
      },
    );
    try {
      await r.synced;
      expect(pages).toEqual([3, 3, 1]);
      server.create(pod('late'));
      await waitFor('the event', () => events.length > 0);
      expect(events).toEqual(['ADDED Pod/late']);
    } finally {
      r.stop();
    }
  });

  it('resumes from the last bookmark after the stream ends, even once the history it listed at is compacted', async () => {
    const server = await startFakeApiServer({ bookmarkIntervalMs: 50 });
    servers.push(server);
    server.create(pod('a'));
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig());
    const events: string[] = [];
    let relists = 0;
    const r = startReflector(
      { kube: kubeClient(kc), apiVersion: 'v1', kind: 'Pod', plural: 'pods' },
      {
        onPage: async () => undefined,
        onEvent: (type, o) => events.push(`${type} ${o.metadata?.name}`),
        onRestart: (why) => why === 'gone' && relists++,
      },
    );
    try {
      await r.synced;
      const listedAt = Number(r.resourceVersion());
      // other resources move the cluster's resourceVersion on; bookmarks carry it to the pod watcher
      for (let i = 0; i < 5; i++) server.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'ns' } });
      await waitFor('a bookmark past the list', () => Number(r.resourceVersion()) >= server.resourceVersion());
      expect(Number(r.resourceVersion())).toBeGreaterThan(listedAt);
      const lists = server.requests.filter((q) => q.verb === 'list' && q.resource === 'pods').length;
      server.compact();
      server.closeWatches();
      server.create(pod('b'));
      await waitFor('the event after the resumed watch', () => events.includes('ADDED b'));
      expect(relists).toBe(0);
      expect(server.requests.filter((q) => q.verb === 'list' && q.resource === 'pods').length).toBe(lists);
    } finally {
      r.stop();
    }
  });
});
