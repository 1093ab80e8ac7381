import { digestOf, isVouchError, utf8, type VouchError } from '@vouch/core';

/** Trust material of one Notary attestor entry (from `certificates.cert` / `certChain` / vouch's `tsaCertChain`). */
export interface NotaryAttestorMaterial {
  /** PEM certificate(s) from `certificates.cert`. */
  certificates?: string;
  /** PEM bundle from `certificates.certChain`. */
  certificateChain?: string;
  /** vouch extension: PEM bundle of trusted TSA roots (`certificates.tsaCertChain`). */
  tsaCertChain?: string;
}

/** Request to verify the Notary signature of one image. */
export interface NotaryVerifyRequest {
  /** Normalized image reference (`ImageInfo.String()`: `registry/path:tag` or `registry/path@digest`). */
  image: string;
  attestor: NotaryAttestorMaterial;
  /**
   * A full notation trust policy document to use instead of Kyverno's synthesized one (see
   * {@link kyvernoNotaryTrustPolicy}), when the engine was configured with one for this rule.
   */
  trustPolicy?: unknown;
  signal?: AbortSignal;
}

/** Request to fetch and verify the signed referrers (attestations) of one type. */
export interface NotaryAttestationRequest {
  /** Image reference, with digest when known. */
  image: string;
  /** Referrer `artifactType` to select (exact match). */
  type: string;
  attestor: NotaryAttestorMaterial;
  trustPolicy?: unknown;
  signal?: AbortSignal;
}

/** One verified attestation: the referrer manifest plus its predicate (the single layer parsed as JSON). */
export interface NotaryAttestation {
  /** Digest of the referrer manifest. */
  digest: string;
  /** The referrer's artifactType. */
  type: string;
  /** The layer JSON. */
  predicate: unknown;
  /** The referrer manifest JSON (optional). */
  manifest?: Record<string, unknown>;
}

/**
 * The signature verifier the engine calls; implemented with @vouch/notation by the caller.
 * Implementations resolve when the image verifies and reject with a VouchError otherwise. A
 * rejection whose cause chain holds `ERR_NETWORK`, `ERR_TIMEOUT` or `ERR_ABORTED` is an
 * infrastructure error (rule status `error`, decided by the policy's failurePolicy, as Kyverno
 * does for network errors); every other rejection, including a thrown non-VouchError, is `fail`
 * (see {@link isInfrastructureError}).
 */
export interface NotaryImageVerifier {
  /** Verifies the image's Notary signature; resolves with the verified manifest digest. */
  verifyImage(request: NotaryVerifyRequest): Promise<{ digest: string }>;
  /**
   * Lists the image's referrers of `type`, verifies each one's Notary signature with the attestor, and
   * returns every verified one (an empty list when none exists). Needed only for `attestations`.
   */
  verifyAttestations?(request: NotaryAttestationRequest): Promise<{ digest: string; attestations: NotaryAttestation[] }>;
  /** Resolves a tag reference to its manifest digest (for `mutateDigest` without attestors). */
  resolveDigest?(image: string, signal?: AbortSignal): Promise<string>;
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
 * {@link isInfrastructureError}.
 */
export function isInconclusive(e: unknown): boolean {
  if (!isVouchError(e)) return true;
  return INCONCLUSIVE.has(e.code) || e.code.startsWith('ERR_REGISTRY_') || e.code === 'ERR_INTERNAL';
}

const INFRASTRUCTURE = new Set(['ERR_NETWORK', 'ERR_TIMEOUT', 'ERR_ABORTED']);

/**
 * True when `e` is an infrastructure failure as Kyverno defines it (its engine reports `error` only
 * for a network error in the error chain): a VouchError `ERR_NETWORK`, `ERR_TIMEOUT` or `ERR_ABORTED`
 * anywhere in the `cause` chain, or an `ERR_VERIFICATION_INCONCLUSIVE` whose every signature fetch
 * failed that way. Only such errors are left to the policy's failurePolicy; anything else (a
 * registry answering 401/404/5xx, unknown revocation status, a bug, a thrown non-VouchError) fails
 * closed.
 */
export function isInfrastructureError(e: unknown): boolean {
  let cur: unknown = e;
  for (let depth = 0; depth < 16 && cur !== undefined && cur !== null; depth++) {
    if (isVouchError(cur)) {
      if (INFRASTRUCTURE.has(cur.code)) return true;
      // notation reports revocation "unknown" as a verification failure (Kyverno: fail)
      if (cur.code === 'ERR_REVOCATION_UNKNOWN') return false;
      if (cur.code === 'ERR_VERIFICATION_INCONCLUSIVE') {
        const outcomes = cur.details?.outcomes;
        if (
          Array.isArray(outcomes) &&
          outcomes.length > 0 &&
          outcomes.every((o) => {
            const code = (o as { error?: { code?: unknown } } | null)?.error?.code;
            return typeof code === 'string' && INFRASTRUCTURE.has(code);
          })
        ) {
          return true;
        }
      }
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** Kyverno `combineCerts`: `cert`, then "\n", then `certChain` (each only if non-empty). */
export function combineNotaryCertificates(cert: string | undefined, certChain: string | undefined): string {
  const parts = [cert ?? '', certChain ?? ''].filter((s) => s !== '');
  return parts.join('\n');
}

/** Kyverno `matchArtifactType`: exact equality; an empty expected type never matches. */
export function matchesArtifactType(artifactType: string | undefined, expected: string): boolean {
  return expected !== '' && artifactType === expected;
}

/**
 * The notation trust policy Kyverno synthesises for every ClusterPolicy/Policy Notary attestor:
 * strict level, trust store `ca:kyverno` (plus `tsa:kyverno` when TSA roots are given), any identity.
 */
export function kyvernoNotaryTrustPolicy(options: { tsa?: boolean } = {}): {
  version: string;
  trustPolicies: {
    name: string;
    registryScopes: string[];
    signatureVerification: { level: string };
    trustStores: string[];
    trustedIdentities: string[];
  }[];
} {
  return {
    version: '1.0',
    trustPolicies: [
      {
        name: 'kyverno',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: options.tsa ? ['ca:kyverno', 'tsa:kyverno'] : ['ca:kyverno'],
        trustedIdentities: ['*'],
      },
    ],
  };
}

/** Stable hash of attestor material (+ trust policy), for cache keys. */
export function materialKey(material: NotaryAttestorMaterial, trustPolicy?: unknown): string {
  return digestOf(
    utf8(JSON.stringify([material.certificates ?? '', material.certificateChain ?? '', material.tsaCertChain ?? '', trustPolicy ?? null])),
  );
}

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
  /** Returns the cached/in-flight result for `key`, or runs `fn` once for all concurrent callers. */
  run<T>(key: string, fn: () => Promise<T>, options?: { useCache?: boolean }): Promise<T>;
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
