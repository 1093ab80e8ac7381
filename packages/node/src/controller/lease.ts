/**
 * Leader election over a coordination.k8s.io/v1 Lease, the protocol of client-go's leaderelection
 * package: every replica tries to acquire or renew the Lease every `retryPeriod`, writes only with the
 * resourceVersion it read (optimistic concurrency decides races), and treats a Lease held by another as
 * expired once its record has not changed for `leaseDuration` of the replica's own clock (no trust in
 * other clocks). A leader that cannot renew for `renewDeadline` stops leading, also while a renewal
 * call hangs (a timer, not the next try, decides). Releasing on shutdown
 * empties `holderIdentity`, so that a standby takes over at its next try instead of after the lease duration.
 */
import { VouchError } from '@vouch/core';
import type { KubeObject } from '@vouch/kyverno';
import { type KubeClient, kubeStatus } from './kube.js';

/** Options of {@link startLeaderElection}. */
export interface LeaderElectionOptions {
  kube: KubeClient;
  namespace: string;
  name: string;
  /** This replica's identity (unique: pod name plus a random suffix). */
  identity: string;
  /** Default 15000 (client-go's default). */
  leaseDurationMs?: number;
  /** Default 10000: a leader that could not renew for this long stops leading. */
  renewDeadlineMs?: number;
  /** Default 2000: how often candidates try and leaders renew. */
  retryPeriodMs?: number;
  /** Called when this replica becomes leader; `signal` aborts when it stops leading. */
  onStartedLeading(signal: AbortSignal): void;
  /** Called when this replica stops leading (lost the lease, or stopped). */
  onStoppedLeading?(): void;
  /** Problems talking to the API (the election keeps trying). */
  onError?(error: unknown): void;
  now?: () => number;
}

/** A running election. */
export interface LeaderElection {
  isLeader(): boolean;
  /** The holder seen in the last read of the Lease (undefined when free). */
  leader(): string | undefined;
  /** Stops trying; a leader stops leading and (unless `release: false`) gives the Lease up. */
  stop(options?: { release?: boolean }): Promise<void>;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Starts campaigning. */
export function startLeaderElection(o: LeaderElectionOptions): LeaderElection {
  const leaseMs = o.leaseDurationMs ?? 15_000;
  const renewDeadline = o.renewDeadlineMs ?? 10_000;
  const retry = o.retryPeriodMs ?? 2_000;
  if (!(leaseMs > renewDeadline && renewDeadline > retry))
    throw new VouchError('ERR_INVALID_ARGUMENT', 'leader election needs leaseDuration > renewDeadline > retryPeriod');
  const now = o.now ?? (() => Date.now());
  const leaseSeconds = Math.max(1, Math.ceil(leaseMs / 1000));
  let leading: AbortController | undefined;
  let lastRenew = 0;
  let observed: { key: string; at: number; holder?: string } | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  /** Stops leading at `renewDeadline` after the last renewal even while a renewal call hangs. */
  let watchdog: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  async function tryAcquireOrRenew(): Promise<boolean> {
    const t = now();
    const lease = await o.kube.get('coordination.k8s.io/v1', 'Lease', o.namespace, o.name);
    const mine: LeaseSpec = {
      holderIdentity: o.identity,
      leaseDurationSeconds: leaseSeconds,
      acquireTime: microTime(t),
      renewTime: microTime(t),
      leaseTransitions: 0,
    };
    if (!lease) {
      try {
        await o.kube.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: o.name, namespace: o.namespace },
          spec: mine,
        });
        observed = { key: `${o.identity}|${mine.renewTime}`, at: t, holder: o.identity };
        return true;
      } catch (e) {
        if (kubeStatus(e) === 409) return false;
        throw e;
      }
    }
    const spec = (lease.spec ?? {}) as LeaseSpec;
    const key = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}|${lease.metadata?.resourceVersion ?? ''}`;
    if (!observed || observed.key !== key) observed = { key, at: t, ...(spec.holderIdentity ? { holder: spec.holderIdentity } : {}) };
    const heldByOther = !!spec.holderIdentity && spec.holderIdentity !== o.identity;
    const duration = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
    if (heldByOther && observed.at + duration > t) return false;
    const next: LeaseSpec =
      spec.holderIdentity === o.identity
        ? { ...spec, leaseDurationSeconds: leaseSeconds, renewTime: microTime(t) }
        : { ...mine, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
    try {
      const written = await o.kube.replace({ ...lease, spec: next } as KubeObject);
      observed = { key: `${next.holderIdentity}|${next.renewTime}|${written.metadata?.resourceVersion ?? ''}`, at: t, holder: o.identity };
      return true;
    } catch (e) {
      if (kubeStatus(e) === 409) return false;
      throw e;
    }
  }

  /** Checks the renew deadline in `ms`; a timer may fire a little before it by `now()`, so it checks again then. */
  function armWatchdog(ms: number): void {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      if (!leading) return;
      const left = renewDeadline - (now() - lastRenew);
      if (left <= 0) stopLeading();
      else armWatchdog(left);
    }, ms);
    watchdog.unref();
  }

  function stopLeading(): void {
    clearTimeout(watchdog);
    watchdog = undefined;
    if (!leading) return;
    leading.abort();
    leading = undefined;
    o.onStoppedLeading?.();
  }

  async function tick(): Promise<void> {
    let ok = false;
    try {
      ok = await tryAcquireOrRenew();
    } catch (e) {
      o.onError?.(e);
    }
    if (stopped) return;
    const t = now();
    if (ok) {
      lastRenew = t;
      if (!leading) {
        leading = new AbortController();
        o.onStartedLeading(leading.signal);
      }
      // a renewal that never returns (a partitioned API server) must not keep this replica leading
      // past the deadline, when a standby may already take the Lease over
      armWatchdog(renewDeadline);
    } else if (leading && t - lastRenew >= renewDeadline) stopLeading();
    else if (leading && observed?.holder && observed.holder !== o.identity) stopLeading();
  }

  function schedule(): void {
    if (stopped) return;
    // client-go jitters candidates' retries (factor 1.2) so that they do not hit the server together
    const delay = leading ? retry : retry * (1 + Math.random() * 0.2);
    timer = setTimeout(() => {
      current = tick().finally(schedule);
    }, delay);
  }

  current = tick().finally(schedule);

  return {
    isLeader: () => leading !== undefined && now() - lastRenew < renewDeadline,
    leader: () => observed?.holder,
    async stop(options = {}) {
      stopped = true;
      if (timer) clearTimeout(timer);
      // an API server that does not answer must not hold shutdown: each wait is bounded by renewDeadline
      const bounded = (p: Promise<unknown>) =>
        Promise.race([
          p.catch(() => undefined),
          new Promise<void>((r) => {
            setTimeout(r, renewDeadline).unref();
          }),
        ]);
      await bounded(current);
      const wasLeading = leading !== undefined;
      stopLeading();
      if (!wasLeading || options.release === false) return;
      await bounded(
        (async () => {
          try {
            const lease = await o.kube.get('coordination.k8s.io/v1', 'Lease', o.namespace, o.name);
            const spec = (lease?.spec ?? {}) as LeaseSpec;
            if (lease && spec.holderIdentity === o.identity) {
              const { holderIdentity: _h, ...rest } = spec;
              await o.kube.replace({ ...lease, spec: { ...rest, leaseDurationSeconds: 1, renewTime: microTime(now()) } } as KubeObject);
            }
          } catch (e) {
            o.onError?.(e);
          }
        })(),
      );
    },
  };
}
