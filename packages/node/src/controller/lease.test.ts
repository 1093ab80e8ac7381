import type { KubeObject } from '@vouch/kyverno';
import { describe, expect, it } from 'vitest';
import type { KubeClient } from './kube.js';
import { startLeaderElection } from './lease.js';

/** An in-memory Lease store whose calls can be made to hang (a partitioned API server). */
function leaseStore() {
  let lease: KubeObject | undefined;
  let version = 0;
  let hang = false;
  const never = () => new Promise<never>(() => {});
  const kube = {
    async get() {
      if (hang) return never();
      return lease && structuredClone(lease);
    },
    async create(o: KubeObject) {
      if (hang) return never();
      lease = { ...structuredClone(o), metadata: { ...o.metadata, resourceVersion: String(++version) } };
      return structuredClone(lease);
    },
    async replace(o: KubeObject) {
      if (hang) return never();
      if (o.metadata?.resourceVersion !== lease?.metadata?.resourceVersion) throw Object.assign(new Error('conflict'), { code: 409 });
      lease = { ...structuredClone(o), metadata: { ...o.metadata, resourceVersion: String(++version) } };
      return structuredClone(lease);
    },
  } as unknown as KubeClient;
  return {
    kube,
    hang: () => {
      hang = true;
    },
  };
}

/** An election of replica `a` over `store` with short timings (lease 600, renew deadline 300, retry 50 ms), once it leads. */
async function leading(store: ReturnType<typeof leaseStore>, onStoppedLeading: () => void) {
  let started = 0;
  const election = startLeaderElection({
    kube: store.kube,
    namespace: 'vouch',
    name: 'scanner',
    identity: 'a',
    leaseDurationMs: 600,
    renewDeadlineMs: 300,
    retryPeriodMs: 50,
    onStartedLeading: () => started++,
    onStoppedLeading,
  });
  for (let i = 0; i < 100 && !election.isLeader(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(election.isLeader()).toBe(true);
  expect(started).toBe(1);
  return election;
}

describe('leader election', () => {
  it('a leader whose renewal hangs stops leading at the renew deadline, not at its next answer', async () => {
    const store = leaseStore();
    let stoppedAt: number | undefined;
    const election = await leading(store, () => {
      stoppedAt = Date.now();
    });
    try {
      const hungAt = Date.now();
      store.hang();
      for (let i = 0; i < 500 && stoppedAt === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      expect(stoppedAt).toBeDefined();
      // about the renew deadline (300 ms) after the last renewal; never, without the watchdog (slack for a loaded machine)
      expect(stoppedAt! - hungAt).toBeLessThan(2000);
      expect(election.isLeader()).toBe(false);
    } finally {
      void election.stop({ release: false });
    }
  });

  it('stop() with the API server not answering ends within the renew deadline, not leading any more', async () => {
    const store = leaseStore();
    let stopped = 0;
    const election = await leading(store, () => stopped++);
    store.hang();
    await new Promise((r) => setTimeout(r, 60)); // a renewal is now waiting on the API server
    const t0 = Date.now();
    await election.stop(); // releasing the Lease hangs too
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(election.isLeader()).toBe(false);
    expect(stopped).toBe(1);
  });
});
