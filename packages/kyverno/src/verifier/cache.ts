import { isVouchError, type VouchError } from '@vouch/core';

/** Options of {@link createVerificationCache}. */
export interface VerificationCacheOptions {
  /** Time to keep successful results (default 60 minutes, Kyverno's default). */
  ttlMs?: number;
  /** Time to keep "not trusted" results (default 30 seconds). Inconclusive results are never cached. */
  negativeTtlMs?: number;
  /** Maximum entries (default 1000, oldest evicted first). */
  maxEntries?: number;
  /** Clock in milliseconds (default Date.now). */
  now?: () => number;
}

/** A decided verification held by a cache: the result when `ok`, else the error it failed with. */
export interface CachedOutcome {
  readonly ok: boolean;
  readonly value: unknown;
}

/** A TTL cache with single-flight for verification results. */
export interface VerificationCache {
  /**
   * Returns the cached/in-flight result for `key`, or runs `fn` once for all concurrent callers.
   * `signal`: the caller's own deadline (the review's); a wrapper may stop that caller's wait when
   * it aborts, while the shared run goes on for the others.
   */
  run<T>(key: string, fn: () => Promise<T>, options?: { useCache?: boolean; signal?: AbortSignal }): Promise<T>;
  /**
   * The decided (unexpired) outcome `run(key, …)` would answer with right now without running anything,
   * or undefined (nothing decided yet, or `useCache` false). Lets a warm review finish synchronously.
   */
  peek?(key: string, useCache?: boolean): CachedOutcome | undefined;
  /** Stores a successful result under `key` (e.g. the digest form of a verified tag reference). */
  prime(key: string, value: unknown): void;
  /** Number of `fn` executions so far (for tests and benchmarks). */
  readonly misses: number;
  /** Drops everything. */
  clear(): void;
}

const INCONCLUSIVE = new Set([
  'ERR_NETWORK',
  'ERR_TIMEOUT',
  'ERR_VERIFICATION_INCONCLUSIVE',
  'ERR_SIGNATURE_RETRIEVAL_FAILED',
  'ERR_REVOCATION_UNKNOWN',
  'ERR_ABORTED',
]);

/**
 * True when the error may be transient (network, registry, revocation responder, internal): such
 * outcomes are never kept in the verification cache. It does not decide the rule status; see
 * `isInfrastructureError`.
 */
export function isInconclusive(e: unknown): boolean {
  if (!isVouchError(e)) return true;
  return INCONCLUSIVE.has(e.code) || e.code.startsWith('ERR_REGISTRY_') || e.code === 'ERR_INTERNAL';
}

/** Creates the cross-review verification cache (positive TTL, short negative TTL, single-flight). */
export function createVerificationCache(options: VerificationCacheOptions = {}): VerificationCache {
  const ttl = options.ttlMs ?? 60 * 60 * 1000;
  const negTtl = options.negativeTtlMs ?? 30 * 1000;
  const max = options.maxEntries ?? 1000;
  const now = options.now ?? (() => Date.now());
  const done = new Map<string, { expires: number; ok: boolean; value: unknown }>();
  const inflight = new Map<string, Promise<unknown>>();
  let misses = 0;
  return {
    get misses() {
      return misses;
    },
    clear() {
      done.clear();
    },
    prime(key: string, value: unknown) {
      // re-priming the same decided value (every warm review of a tag does) must not churn the map
      const hit = done.get(key);
      if (hit?.ok && hit.value === value && hit.expires > now()) return;
      store(key, true, value, ttl);
    },
    peek(key: string, useCache = true): CachedOutcome | undefined {
      if (!useCache) return undefined;
      const hit = done.get(key);
      if (!hit) return undefined;
      if (hit.expires > now()) return hit;
      done.delete(key);
      return undefined;
    },
    run<T>(key: string, fn: () => Promise<T>, opts: { useCache?: boolean } = {}): Promise<T> {
      const useCache = opts.useCache !== false;
      if (useCache) {
        const hit = done.get(key);
        if (hit) {
          if (hit.expires > now()) return hit.ok ? Promise.resolve(hit.value as T) : Promise.reject(hit.value);
          done.delete(key);
        }
      }
      const pending = inflight.get(key);
      if (pending) return pending as Promise<T>;
      misses++;
      const p = (async () => {
        try {
          const v = await fn();
          if (useCache) store(key, true, v, ttl);
          return v;
        } catch (e) {
          if (useCache && !isInconclusive(e)) store(key, false, e as VouchError, negTtl);
          throw e;
        } finally {
          inflight.delete(key);
        }
      })();
      inflight.set(key, p);
      return p;
    },
  };
  function store(key: string, ok: boolean, value: unknown, ms: number): void {
    if (ms <= 0) return;
    done.delete(key);
    done.set(key, { expires: now() + ms, ok, value });
    while (done.size > max) {
      const first = done.keys().next().value as string;
      done.delete(first);
    }
  }
}
