/**
 * vouch's background scanner (cluster mode): reads Kyverno policies from the cluster, lists and watches
 * the workloads they match, verifies each image through the Kyverno engine and the Notary verifier, and
 * writes one wgpolicyk8s.io/v1alpha2 report per workload, owned by it. One replica scans at a time
 * (a coordination.k8s.io Lease); the others stand by.
 *
 * Re-verification happens on three triggers: the scan schedule (every distinct image verified once per
 * run), a policy change (only what the changed policies match), and the expiry of a cached verification
 * (only the workloads running the expired images). Reports are written only when a result changes, at a
 * bounded rate. Memory stays bounded: lists are paginated and handed over page by page, nothing keeps a
 * copy of the workloads, and per workload only a few fingerprints are kept.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isVouchError, VouchError } from '@vouch/core';
import {
  createKyvernoEngine,
  type KubeObject,
  type KyvernoEngine,
  type KyvernoEngineOptions,
  type KyvernoPolicy,
  type NotaryImageVerifier,
  type PolicyReportResult,
} from '@vouch/kyverno';
import {
  backgroundPolicies,
  buildScanReport,
  containerImages,
  fingerprintsDiffer,
  policyFingerprints,
  policyKey,
  REPORT_MANAGED_BY,
  REPORT_RESOURCE_UID_LABEL,
  type ResourceScan,
  reportChanged,
  reportName,
  type ScanReport,
  scanInputFingerprint,
  scannedKinds,
  scanResource,
  WORKLOAD_KINDS,
  type WorkloadKind,
  workloadApiVersion,
} from '@vouch/kyverno/internal';
import { Registry } from 'prom-client';
import { type KubeClient, kubeStatus } from './kube.js';
import { startLeaderElection } from './lease.js';
import { verificationLedger } from './ledger.js';
import { type ControllerMetrics, controllerMetrics } from './metrics.js';
import { clusterPolicySource, type PolicyChange, type PolicySource } from './policy-source.js';
import { concurrencyGate, tokenBucket } from './rate.js';
import { listPaged, type Reflector, startReflector } from './reflector.js';

const REPORT_API = 'wgpolicyk8s.io/v1alpha2';

/** One structured log entry. */
export type ControllerLogEntry = { level: 'debug' | 'info' | 'warn' | 'error'; msg: string } & Record<string, unknown>;

/** Options of {@link startController}. */
export interface ControllerOptions {
  /** The Kubernetes API (see `kubeClient(loadKubeConfig())`). */
  kube: KubeClient;
  /** The Notary verifier (e.g. `notationImageVerifier` over a registry client with a request budget). */
  verifier: NotaryImageVerifier;
  /** Where the policies come from (default: the cluster's ClusterPolicies and Policies). */
  policies?: PolicySource;
  /** Namespace of the Lease (the controller's own namespace). */
  namespace: string;
  /** Lease name (default `vouch-controller`). */
  leaseName?: string;
  /** This replica's identity (default: host name plus a random suffix). */
  identity?: string;
  /** Lease timings (defaults 15 s / 10 s / 2 s, as client-go). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Full re-verification of every workload (default 1 hour; 0 turns the schedule off). */
  scanIntervalMs?: number;
  /** How long a verification result is trusted before the images it covers are verified again (default 1 hour). */
  cacheTtlMs?: number;
  /** How long an inconclusive verification (registry down) is kept before it is retried (default min(60 s, TTL)). */
  errorTtlMs?: number;
  /** Expiry-triggered re-scans run at most this often (default 60 s). */
  minExpiryScanIntervalMs?: number;
  /** Report writes (create, update, delete) per second at most (default 10) and their burst (default the rate). */
  reportWritesPerSecond?: number;
  reportWriteBurst?: number;
  /** Items per list page (default 500). */
  pageSize?: number;
  /** Workloads evaluated concurrently (default 16). */
  concurrency?: number;
  /** Verifications in flight at most (default 8). */
  maxConcurrentVerifications?: number;
  /** Engine options besides policies, verifier and cache (imageConfig, trustPolicyFor, contextLoader). */
  engine?: Omit<KyvernoEngineOptions, 'policies' | 'verifier' | 'cache'>;
  /** Where the metrics are registered (default: a private registry). */
  metricsRegistry?: Registry;
  log?: (entry: ControllerLogEntry) => void;
  /** Clock in ms for verification ages and expiry (default Date.now). */
  now?: () => number;
}

/** Figures of one scan run. */
export interface ScanRunStats {
  trigger: 'initial' | 'schedule' | 'policy' | 'expiry' | 'relist';
  resources: number;
  durationMs: number;
  writes: number;
}

/** A running controller replica. */
export interface Controller {
  /** The policy source in use (the webhook can share it). */
  readonly policies: PolicySource;
  readonly identity: string;
  isLeader(): boolean;
  /** Runs a full scan now (leader only; rejects on a standby) and resolves with its figures. */
  scanNow(): Promise<ScanRunStats>;
  /** Resolves once the leader has finished its initial scan (after it became leader). */
  initialScan(): Promise<ScanRunStats>;
  /** Resolves when no scan run or workload evaluation is in progress. */
  idle(): Promise<void>;
  /** Counters since start. */
  stats(): {
    evaluations: number;
    writes: { create: number; update: number; delete: number; conflict: number };
    verifications: { verify: number; resolve: number; attestations: number };
    runs: ScanRunStats[];
    /** Workloads with state held (fingerprints only). */
    tracked: number;
  };
  /** Stops: a leader finishes its in-flight writes and gives the Lease up (`release: false` keeps it, as a crash would). */
  close(options?: { release?: boolean }): Promise<void>;
}

interface ResourceState {
  kind: string;
  input?: string;
  /** The stored report, when there is one. */
  report?: { name: string; namespace?: string; resourceVersion?: string };
  /** Per policy key, the fingerprint of its results in the stored report. */
  fp: Record<string, string>;
  summary?: [number, number, number, number, number];
}

interface Run {
  trigger: ScanRunStats['trigger'] | 'event';
  engine: KyvernoEngine;
  /** Only these policy keys were evaluated (policy runs). */
  only?: ReadonlySet<string>;
  /** Results of these policy keys are removed. */
  drop?: ReadonlySet<string>;
  writes: number;
  resources: number;
}

const STATUSES = ['pass', 'fail', 'warn', 'error', 'skip'] as const;

/** Starts a controller replica: it campaigns for the Lease and scans while it holds it. */
export function startController(options: ControllerOptions): Controller {
  const kube = options.kube;
  const log = options.log ?? (() => undefined);
  const identity = options.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
  const ownsPolicies = options.policies === undefined;
  const policies = options.policies ?? clusterPolicySource({ kube, ...(options.pageSize ? { pageSize: options.pageSize } : {}) });
  const registry = options.metricsRegistry ?? new Registry();
  const metrics: ControllerMetrics = controllerMetrics(registry);
  const scanInterval = options.scanIntervalMs ?? 60 * 60_000;
  const ttl = options.cacheTtlMs ?? 60 * 60_000;
  const minExpiryGap = options.minExpiryScanIntervalMs ?? 60_000;
  const pageSize = options.pageSize ?? 500;
  const now = options.now ?? (() => Date.now());
  const ledger = verificationLedger({
    now,
    verifier: options.verifier,
    ttlMs: ttl,
    ...(options.errorTtlMs !== undefined ? { errorTtlMs: options.errorTtlMs } : {}),
    maxConcurrent: options.maxConcurrentVerifications ?? 8,
    onVerification(outcome, seconds) {
      metrics.verifications.inc({ outcome });
      metrics.verificationDuration.observe(seconds);
    },
  });
  const counters = { evaluations: 0, writes: { create: 0, update: 0, delete: 0, conflict: 0 } };
  const runs: ScanRunStats[] = [];

  let scanner: ReturnType<typeof newScanner> | undefined;
  let initialWaiters: { resolve: (s: ScanRunStats) => void; reject: (e: unknown) => void }[] = [];
  let initialStats: ScanRunStats | undefined;

  const election = startLeaderElection({
    kube,
    namespace: options.namespace,
    name: options.leaseName ?? 'vouch-controller',
    identity,
    ...(options.leaseDurationMs ? { leaseDurationMs: options.leaseDurationMs } : {}),
    ...(options.renewDeadlineMs ? { renewDeadlineMs: options.renewDeadlineMs } : {}),
    ...(options.retryPeriodMs ? { retryPeriodMs: options.retryPeriodMs } : {}),
    onStartedLeading(signal) {
      log({ level: 'info', msg: 'started leading: this replica is the active scanner', identity });
      metrics.leader.set(1);
      scanner = newScanner(signal);
      void scanner.start().then(
        (s) => {
          if (signal.aborted) return;
          initialStats = s;
          for (const w of initialWaiters) w.resolve(s);
          initialWaiters = [];
        },
        (e) => {
          if (signal.aborted) return;
          log({ level: 'error', msg: 'initial scan failed', error: errText(e) });
        },
      );
    },
    onStoppedLeading() {
      log({ level: 'info', msg: 'stopped leading', identity });
      metrics.leader.set(0);
      initialStats = undefined;
      scanner?.stop();
      scanner = undefined;
    },
    onError(e) {
      log({ level: 'warn', msg: 'leader election: Lease request failed', error: errText(e) });
    },
  });

  policies.onError((e) => log({ level: 'warn', msg: 'policy problem', error: e.message, code: e.code }));

  /** The scanner of one leadership term. */
  function newScanner(signal: AbortSignal) {
    const state = new Map<string, ResourceState>();
    const reflectors = new Map<string, Reflector>();
    const gate = concurrencyGate(options.concurrency ?? 16);
    const writeBucket = tokenBucket(options.reportWritesPerSecond ?? 10, options.reportWriteBurst);
    const perUid = new Map<string, Promise<void>>();
    const timers = new Set<NodeJS.Timeout>();
    const totals = [0, 0, 0, 0, 0];
    let background: KyvernoPolicy[] = [];
    let eventEngine: KyvernoEngine | undefined;
    let needsNamespaces = false;
    const nsLabels = new Map<string, { at: number; labels: Record<string, string> | undefined }>();
    let runQueue: Promise<unknown> = Promise.resolve();
    let pending = 0;
    let idleWaiters: (() => void)[] = [];
    let nextFullAt = Number.POSITIVE_INFINITY;
    let lastExpiryScan = 0;
    let unsubscribe: (() => void) | undefined;

    const busy = () => {
      pending++;
    };
    const done = () => {
      pending--;
      if (pending === 0) {
        const w = idleWaiters;
        idleWaiters = [];
        for (const f of w) f();
      }
    };

    function makeEngine(list: KyvernoPolicy[], notBefore: number): KyvernoEngine {
      const contextLoader = options.engine?.contextLoader ?? {
        configMap: (ns: string, name: string) => kube.get('v1', 'ConfigMap', ns, name),
      };
      return createKyvernoEngine({
        ...(options.engine ?? {}),
        contextLoader,
        policies: list,
        verifier: ledger.forRun(notBefore),
        cache: false,
      });
    }

    function setPolicies(list: readonly KyvernoPolicy[]): void {
      background = backgroundPolicies(list);
      needsNamespaces = JSON.stringify(background).includes('namespaceSelector');
      eventEngine = makeEngine(background, 0);
    }

    async function namespaceLabels(ns: string | undefined): Promise<Record<string, string> | undefined> {
      if (!needsNamespaces || !ns) return undefined;
      const hit = nsLabels.get(ns);
      if (hit && now() - hit.at < 60_000) return hit.labels;
      const o = await kube.get('v1', 'Namespace', undefined, ns);
      const labels = (o?.metadata?.labels ?? undefined) as Record<string, string> | undefined;
      if (nsLabels.size > 10_000) nsLabels.clear();
      nsLabels.set(ns, { at: now(), labels });
      return labels;
    }

    function track(st: ResourceState, summary: ScanReport['summary'] | undefined): void {
      const next: [number, number, number, number, number] | undefined = summary
        ? [summary.pass, summary.fail, summary.warn, summary.error, summary.skip]
        : undefined;
      for (let i = 0; i < 5; i++) {
        totals[i]! += (next?.[i] ?? 0) - (st.summary?.[i] ?? 0);
        metrics.results.set({ status: STATUSES[i]! }, totals[i]!);
      }
      st.summary = next;
    }

    function forget(uid: string): void {
      const st = state.get(uid);
      if (!st) return;
      track(st, undefined);
      state.delete(uid);
    }

    function remember(uid: string, kind: string, report: ScanReport | undefined, input?: string): void {
      const st = state.get(uid) ?? { kind, fp: {} };
      st.kind = kind;
      if (input !== undefined) st.input = input;
      if (report) {
        st.report = {
          name: report.metadata.name,
          ...(report.metadata.namespace ? { namespace: report.metadata.namespace } : {}),
          ...(report.metadata.resourceVersion ? { resourceVersion: report.metadata.resourceVersion } : {}),
        };
        st.fp = policyFingerprints(report.results);
        track(st, report.summary);
      } else {
        delete st.report;
        st.fp = {};
        track(st, undefined);
      }
      state.set(uid, st);
    }

    /** Writes the report of `scan` if its results changed; bounded retries on conflicts. */
    async function persist(uid: string, scan: ResourceScan, run: Run): Promise<void> {
      const ref = scan.resource;
      const name = reportName(uid);
      const ns = ref.namespace;
      const kind = ns ? 'PolicyReport' : 'ClusterPolicyReport';
      const st = state.get(uid);
      for (let attempt = 0; attempt < 5; attempt++) {
        if (signal.aborted) return;
        const current = st?.report || attempt > 0 ? ((await kube.get(REPORT_API, kind, ns, name)) as ScanReport | undefined) : undefined;
        const next = buildScanReport(scan, {
          previous: current,
          ...(run.only ? { onlyPolicies: run.only } : {}),
          ...(run.drop ? { dropPolicies: run.drop } : {}),
        });
        if (!next) {
          if (current) {
            await writeBucket.take(signal);
            if (signal.aborted) return;
            try {
              await kube.delete(REPORT_API, kind, ns, name, { uid: String(current.metadata?.uid ?? '') });
              counters.writes.delete++;
              run.writes++;
              metrics.reportWrites.inc({ operation: 'delete', outcome: 'ok' });
            } catch (e) {
              if (kubeStatus(e) !== 409) throw e;
              counters.writes.conflict++;
              metrics.reportWrites.inc({ operation: 'delete', outcome: 'conflict' });
              continue;
            }
          }
          remember(uid, ref.kind, undefined);
          return;
        }
        if (current && !reportChanged(current, next)) {
          remember(uid, ref.kind, current);
          return;
        }
        await writeBucket.take(signal);
        if (signal.aborted) return;
        const op = current ? 'update' : 'create';
        try {
          const written = current
            ? await kube.replace({
                ...next,
                metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion },
              } as KubeObject)
            : await kube.create(next as unknown as KubeObject);
          counters.writes[op]++;
          run.writes++;
          metrics.reportWrites.inc({ operation: op, outcome: 'ok' });
          remember(uid, ref.kind, written as unknown as ScanReport);
          return;
        } catch (e) {
          const status = kubeStatus(e);
          // 409: someone wrote first (AlreadyExists, or a stale resourceVersion); 404: deleted meanwhile
          if (status !== 409 && status !== 404) {
            metrics.reportWrites.inc({ operation: op, outcome: 'error' });
            throw e;
          }
          counters.writes.conflict++;
          metrics.reportWrites.inc({ operation: op, outcome: 'conflict' });
        }
      }
      throw new VouchError('ERR_KUBERNETES_API', `report ${ns ? `${ns}/` : ''}${name}: still conflicting after 5 attempts`);
    }

    /** Evaluates one workload in `run`; serialized per workload, bounded in concurrency. */
    function evaluate(obj: KubeObject, run: Run, opts: { ifInputChanged?: boolean; seen?: Set<string> } = {}): Promise<void> {
      const uid = obj.metadata?.uid as string | undefined;
      if (!uid || signal.aborted) return Promise.resolve();
      opts.seen?.add(uid);
      busy();
      const prev = perUid.get(uid) ?? Promise.resolve();
      const job = prev
        .then(() =>
          gate(async () => {
            if (signal.aborted) return;
            const input = scanInputFingerprint(obj, options.engine?.imageConfig);
            const st = state.get(uid);
            if (opts.ifInputChanged && st?.input === input) return;
            counters.evaluations++;
            run.resources++;
            metrics.resourcesScanned.inc({ trigger: run.trigger });
            const scan = await scanResource(run.engine, obj, { namespaceLabels: await namespaceLabels(obj.metadata?.namespace), signal });
            const fresh = policyFingerprints(scan.results.map((r) => r.result));
            let nextFp = fresh;
            if (run.only) {
              nextFp = { ...(st?.fp ?? {}) };
              for (const k of [...run.only, ...(run.drop ?? [])]) delete nextFp[k];
              Object.assign(nextFp, fresh);
            }
            const hasResults = Object.keys(nextFp).length > 0;
            if (!fingerprintsDiffer(st?.fp ?? {}, nextFp) && !!st?.report === hasResults) {
              if (st && !run.only) st.input = input;
              else if (!st && !run.only) state.set(uid, { kind: String(obj.kind), input, fp: {} });
              return;
            }
            await persist(uid, scan, run);
            const after = state.get(uid);
            if (after && !run.only) after.input = input;
          }),
        )
        .catch((e) => {
          if (!signal.aborted) log({ level: 'warn', msg: 'evaluation failed', resource: describe(obj), error: errText(e) });
        })
        .finally(() => {
          if (perUid.get(uid) === job) perUid.delete(uid);
          done();
        });
      perUid.set(uid, job);
      return job;
    }

    /** Lists `kinds` page by page and evaluates the items `filter` keeps; returns the uids seen per kind. */
    async function sweep(kinds: readonly WorkloadKind[], run: Run, filter?: (o: KubeObject) => boolean): Promise<Map<string, Set<string>>> {
      const seenByKind = new Map<string, Set<string>>();
      for (const k of kinds) {
        const seen = new Set<string>();
        seenByKind.set(k.kind, seen);
        await listPaged(
          kube,
          { apiVersion: workloadApiVersion(k), kind: k.kind, pageSize },
          async (items) => {
            await Promise.all(
              items.map((raw) => {
                const o = raw.kind ? raw : { apiVersion: workloadApiVersion(k), kind: k.kind, ...raw };
                const uid = o.metadata?.uid as string | undefined;
                if (uid) seen.add(uid);
                return !filter || filter(o) ? evaluate(o, run) : Promise.resolve();
              }),
            );
          },
          signal,
        );
      }
      return seenByKind;
    }

    function pruneUnseen(kind: string, seen: Set<string>): void {
      for (const [uid, st] of state) if (st.kind === kind && !seen.has(uid)) forget(uid);
    }

    /** Queues a run (runs execute one at a time). */
    function queue<T>(fn: () => Promise<T>): Promise<T> {
      busy();
      const p = runQueue.then(() => (signal.aborted ? Promise.reject(new VouchError('ERR_ABORTED', 'no longer the leader')) : fn()));
      runQueue = p.catch(() => undefined).finally(done);
      return p;
    }

    function finishRun(run: Run, t0: number): ScanRunStats {
      const s: ScanRunStats = {
        trigger: run.trigger as ScanRunStats['trigger'],
        resources: run.resources,
        durationMs: performance.now() - t0,
        writes: run.writes,
      };
      metrics.scanDuration.observe({ trigger: s.trigger }, s.durationMs / 1000);
      runs.push(s);
      if (runs.length > 100) runs.shift();
      log({ level: 'info', msg: 'scan finished', ...s });
      scheduleExpiry();
      return s;
    }

    function fullScan(trigger: 'schedule'): Promise<ScanRunStats> {
      return queue(async () => {
        const t0 = performance.now();
        const start = now();
        const run: Run = { trigger, engine: makeEngine(background, start), writes: 0, resources: 0 };
        const seen = await sweep(scannedKinds(background), run);
        for (const [kind, s] of seen) pruneUnseen(kind, s);
        ledger.pruneBefore(start);
        return finishRun(run, t0);
      });
    }

    function policyScan(list: readonly KyvernoPolicy[], change: PolicyChange): Promise<ScanRunStats> {
      return queue(async () => {
        const t0 = performance.now();
        const changed = new Set([...change.added, ...change.updated, ...change.removed]);
        const next = backgroundPolicies(list.filter((p) => changed.has(policyKey(p))));
        const nextKeys = new Set(next.map(policyKey));
        const drop = new Set([...changed].filter((k) => !nextKeys.has(k)));
        const old = backgroundPolicies(change.previous.filter((p) => changed.has(policyKey(p))));
        const kinds = new Set(scannedKinds([...next, ...old]).map((k) => k.kind));
        for (const st of state.values()) if (Object.keys(st.fp).some((k) => changed.has(k))) kinds.add(st.kind);
        setPolicies(list);
        const run: Run = { trigger: 'policy', engine: makeEngine(next, now()), only: changed, drop, writes: 0, resources: 0 };
        log({
          level: 'info',
          msg: 'policies changed: re-scanning what they match',
          added: change.added,
          updated: change.updated,
          removed: change.removed,
        });
        await sweep(
          WORKLOAD_KINDS.filter((k) => kinds.has(k.kind)),
          run,
        );
        syncReflectors();
        return finishRun(run, t0);
      });
    }

    function expiryScan(): Promise<ScanRunStats | undefined> {
      return queue(async () => {
        const images = ledger.takeExpired(now());
        for (const i of retryImages) images.add(i);
        retryImages.clear();
        if (images.size === 0) {
          // the timer fired before the clock reached the expiry (timers and Date.now() use different
          // clocks): wait for it again rather than for the next unrelated run
          scheduleExpiry();
          return undefined;
        }
        lastExpiryScan = now();
        const t0 = performance.now();
        const run: Run = { trigger: 'expiry', engine: makeEngine(background, 0), writes: 0, resources: 0 };
        try {
          await sweep(scannedKinds(background), run, (o) =>
            containerImages(o, options.engine?.imageConfig).some((c) => images.has(c.image)),
          );
        } catch (e) {
          // their answers are gone from the ledger: keep the images for the retry, after the minimum gap
          if (!signal.aborted) {
            for (const i of images) retryImages.add(i);
            scheduleExpiry();
          }
          throw e;
        }
        return finishRun(run, t0);
      });
    }

    function later(ms: number, fn: () => void): void {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!signal.aborted) fn();
      }, ms);
      timers.add(t);
    }

    function scheduleFull(): void {
      if (!(scanInterval > 0)) return;
      nextFullAt = now() + scanInterval;
      later(scanInterval, () => {
        fullScan('schedule').then(scheduleFull, (e) => {
          if (!signal.aborted) log({ level: 'error', msg: 'scheduled scan failed', error: errText(e) });
          scheduleFull();
        });
      });
    }

    let expiryTimer: NodeJS.Timeout | undefined;
    /** Images of an expiry run that failed (their ledger answers were taken): the next expiry run re-verifies them. */
    const retryImages = new Set<string>();
    function scheduleExpiry(): void {
      const next = ledger.nextExpiry();
      const at = retryImages.size > 0 ? Math.min(next ?? Number.POSITIVE_INFINITY, now()) : next;
      if (at === undefined || signal.aborted) return;
      // the next full scan re-verifies everything anyway
      if (at >= nextFullAt) return;
      const when = Math.max(at, lastExpiryScan + minExpiryGap);
      if (expiryTimer) {
        clearTimeout(expiryTimer);
        timers.delete(expiryTimer);
      }
      const t = setTimeout(
        () => {
          timers.delete(t);
          expiryTimer = undefined;
          if (!signal.aborted)
            void expiryScan().catch((e) => !signal.aborted && log({ level: 'error', msg: 'expiry scan failed', error: errText(e) }));
        },
        Math.max(0, when - now()),
      );
      expiryTimer = t;
      timers.add(t);
    }

    /** One reflector per scanned kind; its lists evaluate what changed since the last evaluation. */
    function syncReflectors(): Promise<void> {
      const want = scannedKinds(background);
      const wantKeys = new Set(want.map((k) => k.kind));
      for (const [kind, r] of reflectors) {
        if (!wantKeys.has(kind)) {
          r.stop();
          reflectors.delete(kind);
        }
      }
      const started: Promise<void>[] = [];
      for (const k of want) {
        if (reflectors.has(k.kind)) continue;
        let seen = new Set<string>();
        let listRun: Run | undefined;
        let lists = 0;
        const r = startReflector(
          { kube, apiVersion: workloadApiVersion(k), kind: k.kind, plural: k.plural, pageSize },
          {
            async onPage(items, { first }) {
              if (first) {
                seen = new Set();
                listRun = { trigger: lists++ === 0 ? 'initial' : 'relist', engine: eventEngine!, writes: 0, resources: 0 };
              }
              const run = listRun!;
              run.engine = eventEngine!;
              await Promise.all(items.map((o) => evaluate(o, run, { ifInputChanged: true, seen })));
            },
            onListed() {
              pruneUnseen(k.kind, seen);
            },
            onEvent(type, obj) {
              const uid = obj.metadata?.uid as string | undefined;
              if (type === 'DELETED') {
                // its report goes with it (ownerReferences); only the state is dropped here
                if (uid) {
                  const chain = perUid.get(uid) ?? Promise.resolve();
                  void chain.then(() => forget(uid));
                }
                return;
              }
              void evaluate(obj, { trigger: 'event', engine: eventEngine!, writes: 0, resources: 0 }, { ifInputChanged: true });
            },
            onError(e, info) {
              if (!signal.aborted) log({ level: 'warn', msg: `${k.kind} ${info.phase} failed; retrying`, error: errText(e) });
            },
            onRestart(reason) {
              metrics.watchRestarts.inc({ kind: k.kind, reason });
              if (reason === 'gone') log({ level: 'info', msg: `${k.kind} watch expired (410 Gone): listing again`, kind: k.kind });
            },
          },
        );
        reflectors.set(k.kind, r);
        started.push(r.synced);
      }
      return Promise.all(started).then(() => undefined);
    }

    /** Reads the reports written before (by this or another replica): what is already reported is not written again. */
    async function seed(): Promise<void> {
      for (const kind of ['PolicyReport', 'ClusterPolicyReport']) {
        await listPaged(
          kube,
          {
            apiVersion: REPORT_API,
            kind,
            labelSelector: `app.kubernetes.io/managed-by=${REPORT_MANAGED_BY['app.kubernetes.io/managed-by']}`,
            pageSize,
          },
          async (items) => {
            for (const r of items as unknown as ScanReport[]) {
              const uid = r.metadata?.labels?.[REPORT_RESOURCE_UID_LABEL] ?? r.scope?.uid;
              if (uid) remember(uid, r.scope?.kind ?? '', { ...r, summary: summaryOf(r.results ?? []) });
            }
          },
          signal,
        );
      }
    }

    return {
      async start(): Promise<ScanRunStats> {
        try {
          await policies.ready;
        } catch (e) {
          // the source keeps trying; the policies then arrive as a change (a policy run)
          log({ level: 'error', msg: 'policies cannot be read yet; scanning starts when they can', error: errText(e) });
        }
        const t0 = performance.now();
        await seed();
        setPolicies(policies.current());
        unsubscribe = policies.onChange((list, change) => {
          void policyScan(list, change).catch(
            (e) => !signal.aborted && log({ level: 'error', msg: 'policy scan failed', error: errText(e) }),
          );
        });
        const run: Run = { trigger: 'initial', engine: eventEngine!, writes: 0, resources: 0 };
        const before = { evaluations: counters.evaluations, writes: totalWrites() };
        await syncReflectors();
        await new Promise<void>((r) => (pending === 0 ? r() : idleWaiters.push(r)));
        run.resources = counters.evaluations - before.evaluations;
        run.writes = totalWrites() - before.writes;
        scheduleFull();
        return finishRun(run, t0);
      },
      stop() {
        unsubscribe?.();
        for (const r of reflectors.values()) r.stop();
        reflectors.clear();
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (let i = 0; i < 5; i++) metrics.results.set({ status: STATUSES[i]! }, 0);
        state.clear();
      },
      scanNow: () => fullScan('schedule'),
      idle: () => new Promise<void>((r) => (pending === 0 ? r() : idleWaiters.push(r))),
      tracked: () => state.size,
    };
  }

  function totalWrites(): number {
    return counters.writes.create + counters.writes.update + counters.writes.delete;
  }

  return {
    policies,
    identity,
    isLeader: () => election.isLeader() && scanner !== undefined,
    scanNow() {
      if (!scanner) return Promise.reject(new VouchError('ERR_INVALID_ARGUMENT', 'this replica is not the leader: only the leader scans'));
      return scanner.scanNow();
    },
    initialScan() {
      if (initialStats) return Promise.resolve(initialStats);
      return new Promise((resolve, reject) => initialWaiters.push({ resolve, reject }));
    },
    async idle() {
      await scanner?.idle();
    },
    stats: () => ({
      evaluations: counters.evaluations,
      writes: { ...counters.writes },
      verifications: { ...ledger.calls },
      runs: [...runs],
      tracked: scanner?.tracked() ?? 0,
    }),
    async close(o = {}) {
      const s = scanner;
      if (s && o.release !== false) await s.idle();
      await election.stop({ release: o.release !== false });
      if (ownsPolicies) policies.close();
    },
  };
}

function summaryOf(results: readonly PolicyReportResult[]): ScanReport['summary'] {
  const s = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) s[r.result]++;
  return s;
}

function describe(o: KubeObject): string {
  return `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
}

function errText(e: unknown): string {
  return isVouchError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
}
