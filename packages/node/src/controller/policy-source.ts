/**
 * Kyverno ClusterPolicy and Policy resources read from the cluster (kyverno.io/v1, as Kyverno's own
 * controllers read them), kept current by watches: the policy source of the background scanner, and
 * one the admission webhook can use instead of a policy directory.
 */
import { isVouchError, VouchError } from '@vouch/core';
import { type KubeObject, type KyvernoPolicy, policyFromObject } from '@vouch/kyverno';
import { assertSupported, policyKey } from '@vouch/kyverno/internal';
import type { KubeClient } from './kube.js';
import { type Reflector, startReflector } from './reflector.js';

/** What changed between two policy sets (policy keys: `name`, or `namespace/name` for a Policy). */
export interface PolicyChange {
  added: string[];
  updated: string[];
  removed: string[];
  /** The set before the change. */
  previous: readonly KyvernoPolicy[];
}

/** A policy that is in the cluster but cannot be used. */
export interface PolicyProblem {
  /** Policy key. */
  policy: string;
  error: VouchError;
}

/**
 * A live set of policies. The webhook consumes it as: policies = `current()` once `ready` resolved,
 * rebuild the engine on `onChange`, and refuse to serve while `problems()` is non-empty if it must fail
 * closed on a policy it cannot read (see docs/cluster-mode.md).
 */
export interface PolicySource {
  /** The usable policies now (parsed, CRD defaults applied, validated), in key order. Empty until ready. */
  current(): readonly KyvernoPolicy[];
  /** Resolves after the first complete read of every policy kind; rejects when that read failed. */
  readonly ready: Promise<void>;
  /** Policies present in the cluster that failed to parse or validate (left out of `current()`). */
  problems(): readonly PolicyProblem[];
  /** Called after each change (several watch events within `debounceMs` are one change). Returns an unsubscribe. */
  onChange(listener: (policies: readonly KyvernoPolicy[], change: PolicyChange) => void): () => void;
  /**
   * Called when `problems()` changed (a policy turned unusable, was fixed or deleted), and once after a
   * first read that `ready` had reported as failed. Returns an unsubscribe.
   */
  onProblems(listener: (problems: readonly PolicyProblem[]) => void): () => void;
  /** Called for invalid policies and API errors (the last good set stays in use). Returns an unsubscribe. */
  onError(listener: (error: VouchError) => void): () => void;
  close(): void;
}

/** What a policy says (spec and annotations: autogen is configured by one), to tell edits from status updates. */
function contentOf(p: KyvernoPolicy): string {
  return JSON.stringify([p.spec, p.metadata.annotations ?? {}]);
}

/** Options of {@link clusterPolicySource}. */
export interface ClusterPolicySourceOptions {
  kube: KubeClient;
  /** Read namespaced `Policy` resources too (default true). */
  namespacedPolicies?: boolean;
  /** Changes within this window are delivered as one (default 250 ms). */
  debounceMs?: number;
  pageSize?: number;
  /** First retry delay after a failed list or watch, doubled up to 30 s (default 1000 ms). */
  retryMs?: number;
}

/** Watches the cluster's ClusterPolicies and Policies. */
export function clusterPolicySource(options: ClusterPolicySourceOptions): PolicySource {
  const debounceMs = options.debounceMs ?? 250;
  const raw = new Map<string, KubeObject>(); // by `${kind}/${namespace}/${name}`
  let policies: KyvernoPolicy[] = [];
  let problems: PolicyProblem[] = [];
  const parsed = new Map<string, { rv: string; policy?: KyvernoPolicy; problem?: PolicyProblem }>();
  const changeListeners = new Set<(p: readonly KyvernoPolicy[], c: PolicyChange) => void>();
  const errorListeners = new Set<(e: VouchError) => void>();
  const problemListeners = new Set<(p: readonly PolicyProblem[]) => void>();
  let timer: NodeJS.Timeout | undefined;
  let readyDone = false;
  let closed = false;
  const emitError = (e: unknown) => {
    const err = isVouchError(e) ? e : new VouchError('ERR_INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
    for (const l of errorListeners) l(err);
  };

  const keyOf = (o: KubeObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

  const problemsText = (list: readonly PolicyProblem[]) => JSON.stringify(list.map((p) => [p.policy, p.error.code, p.error.message]));

  function rebuild(notify: boolean, force = false): void {
    const next: KyvernoPolicy[] = [];
    const nextProblems: PolicyProblem[] = [];
    for (const [k, o] of raw) {
      const rv = String(o.metadata?.resourceVersion ?? '');
      let p = parsed.get(k);
      if (!p || p.rv !== rv) {
        try {
          const policy = policyFromObject(o, {
            source: `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`,
          });
          // a construct vouch does not evaluate makes the policy a problem (never a policy that
          // passes in part): the webhook then fails closed, the scanner goes on with the others
          assertSupported([policy]);
          p = { rv, policy };
        } catch (e) {
          const error = isVouchError(e) ? e : new VouchError('ERR_KYVERNO_POLICY_INVALID', String(e), { cause: e });
          p = {
            rv,
            problem: { policy: o.kind === 'Policy' ? `${o.metadata?.namespace}/${o.metadata?.name}` : String(o.metadata?.name), error },
          };
          emitError(error);
        }
        parsed.set(k, p);
      }
      if (p.policy) next.push(p.policy);
      if (p.problem) nextProblems.push(p.problem);
    }
    for (const k of parsed.keys()) if (!raw.has(k)) parsed.delete(k);
    next.sort((a, b) => (policyKey(a) < policyKey(b) ? -1 : 1));
    const previous = policies;
    const before = new Map(previous.map((p) => [policyKey(p), p]));
    const change: PolicyChange = { added: [], updated: [], removed: [], previous };
    for (let i = 0; i < next.length; i++) {
      const k = policyKey(next[i]!);
      const b = before.get(k);
      if (!b) change.added.push(k);
      // a status update (Kyverno writes status.autogen) changes the resourceVersion, not the policy
      else if (contentOf(b) === contentOf(next[i]!)) next[i] = b;
      else change.updated.push(k);
    }
    const after = new Map(next.map((p) => [policyKey(p), p]));
    for (const k of before.keys()) if (!after.has(k)) change.removed.push(k);
    const problemsChanged = problemsText(problems) !== problemsText(nextProblems);
    policies = next;
    problems = nextProblems;
    if (notify && (change.added.length || change.updated.length || change.removed.length)) {
      for (const l of changeListeners) l(policies, change);
    }
    if (notify && (problemsChanged || force)) for (const l of problemListeners) l(problems);
  }

  function changed(): void {
    if (!readyDone) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      rebuild(true);
    }, debounceMs);
  }

  const kinds = [{ kind: 'ClusterPolicy', plural: 'clusterpolicies' }];
  if (options.namespacedPolicies !== false) kinds.push({ kind: 'Policy', plural: 'policies' });
  const reflectors: Reflector[] = [];
  const firstErrors: unknown[] = [];
  for (const k of kinds) {
    let relistSeen: Set<string> | undefined;
    reflectors.push(
      startReflector(
        {
          kube: options.kube,
          apiVersion: 'kyverno.io/v1',
          kind: k.kind,
          plural: k.plural,
          ...(options.pageSize ? { pageSize: options.pageSize } : {}),
          backoffMs: options.retryMs ?? 1000,
        },
        {
          async onPage(items, { first }) {
            if (first) relistSeen = new Set();
            for (const o of items) {
              const obj = o.kind ? o : { apiVersion: 'kyverno.io/v1', kind: k.kind, ...o };
              raw.set(keyOf(obj), obj);
              relistSeen!.add(keyOf(obj));
            }
          },
          onListed() {
            // a relist replaces what the watch missed: drop what is gone
            for (const key of [...raw.keys()]) if (key.startsWith(`${k.kind}/`) && !relistSeen?.has(key)) raw.delete(key);
            changed();
          },
          onEvent(type, obj) {
            if (type === 'DELETED') raw.delete(keyOf(obj));
            else raw.set(keyOf(obj), obj);
            changed();
          },
          onError(e, info) {
            if (!readyDone && info.phase === 'list') firstErrors.push(e);
            emitError(e);
          },
        },
      ),
    );
  }
  // `ready` rejects when the first read keeps failing (RBAC, CRDs not installed), so that the caller can
  // say so; the reflectors keep retrying, and a later successful read is delivered through onChange.
  let reportedFailure = false;
  const synced = Promise.all(reflectors.map((r) => r.synced)).then(() => {
    if (closed) return;
    rebuild(reportedFailure, reportedFailure);
    readyDone = true;
  });
  const failFast = new Promise<never>((_, reject) => {
    const check = setInterval(() => {
      if (readyDone || closed) clearInterval(check);
      else if (firstErrors.length >= 3) {
        clearInterval(check);
        reportedFailure = true;
        reject(firstErrors[firstErrors.length - 1]);
      }
    }, 50);
    check.unref?.();
  });
  const ready = Promise.race([synced, failFast]);
  ready.catch(() => undefined);

  return {
    current: () => policies,
    ready,
    problems: () => problems,
    onChange(l) {
      changeListeners.add(l);
      return () => changeListeners.delete(l);
    },
    onError(l) {
      errorListeners.add(l);
      return () => errorListeners.delete(l);
    },
    onProblems(l) {
      problemListeners.add(l);
      return () => problemListeners.delete(l);
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const r of reflectors) r.stop();
    },
  };
}

/** A fixed policy set as a {@link PolicySource} (tests, or policies from files). */
export function staticPolicySource(policies: readonly KyvernoPolicy[]): PolicySource & { set(next: readonly KyvernoPolicy[]): void } {
  let current = [...policies];
  const listeners = new Set<(p: readonly KyvernoPolicy[], c: PolicyChange) => void>();
  return {
    current: () => current,
    ready: Promise.resolve(),
    problems: () => [],
    onChange(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onError() {
      return () => undefined;
    },
    onProblems() {
      return () => undefined;
    },
    close() {},
    set(next) {
      const before = new Map(current.map((p) => [policyKey(p), p]));
      const after = new Map(next.map((p) => [policyKey(p), p]));
      const change: PolicyChange = { added: [], updated: [], removed: [], previous: current };
      for (const [k, p] of after) {
        if (!before.has(k)) change.added.push(k);
        else if (before.get(k) !== p) change.updated.push(k);
      }
      for (const k of before.keys()) if (!after.has(k)) change.removed.push(k);
      current = [...next];
      for (const l of listeners) l(current, change);
    },
  };
}
