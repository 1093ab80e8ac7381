/**
 * The scanner's verification ledger: a {@link NotaryImageVerifier} in front of the real one that
 * remembers every decided verification with the time it was decided. A run (a scheduled scan, a policy
 * change, an expiry) asks for a verifier whose answers are no older than the run's start, so each distinct
 * (digest, attestor) is verified at most once per run; between runs, answers are reused until their TTL
 * ends, and the ledger says which images expired so that the scanner re-verifies them.
 */

import type { NotaryImageVerifier } from '@vouch/kyverno';
import { isInconclusive, materialKey, type NotaryAttestorMaterial } from '@vouch/kyverno/internal';
import { concurrencyGate } from './rate.js';

/** Options of {@link verificationLedger}. */
export interface VerificationLedgerOptions {
  verifier: NotaryImageVerifier;
  /** How long a decided verification (pass or fail) stays valid (default 1 hour). */
  ttlMs?: number;
  /** How long an inconclusive one (registry unreachable, …) is kept before it is retried (default min(60 s, ttl)). */
  errorTtlMs?: number;
  /** Verifications in flight at most (default 8). */
  maxConcurrent?: number;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** Called once per real verification, with its outcome and duration. */
  onVerification?(outcome: 'pass' | 'fail' | 'error', seconds: number): void;
}

/** The ledger. */
export interface VerificationLedger {
  /**
   * The verifier for one run: an answer decided before `notBefore` (ms) is not used, the image is verified
   * again (once for the whole run: later calls share that answer).
   */
  forRun(notBefore: number): NotaryImageVerifier;
  /** When the first decided answer expires (ms), or undefined when the ledger is empty. */
  nextExpiry(): number | undefined;
  /** Removes the answers expired at `at` (ms) and returns the images they were asked for. */
  takeExpired(at: number): Set<string>;
  /** Drops decided answers older than `at` (ms): images no run asked about since then are no longer in use. */
  pruneBefore(at: number): void;
  /** Real verifications (and tag resolutions) so far. */
  readonly calls: { verify: number; resolve: number; attestations: number };
  /** Decided answers held. */
  size(): number;
}

interface Entry {
  decidedAt: number;
  expiresAt: number;
  pending: boolean;
  promise: Promise<unknown>;
  /** Images (as the engine asked) answered by this entry. */
  images: Set<string>;
}

/** Creates a verification ledger over `options.verifier`. */
export function verificationLedger(options: VerificationLedgerOptions): VerificationLedger {
  const inner = options.verifier;
  const ttl = options.ttlMs ?? 60 * 60_000;
  const errorTtl = options.errorTtlMs ?? Math.min(60_000, ttl);
  const now = options.now ?? (() => Date.now());
  const gate = concurrencyGate(options.maxConcurrent ?? 8);
  const entries = new Map<string, Entry>();
  const calls = { verify: 0, resolve: 0, attestations: 0 };
  const materialKeys = new Map<string, string>();

  function keyOfMaterial(m: NotaryAttestorMaterial, trustPolicy: unknown): string {
    if (trustPolicy !== undefined) return materialKey(m, trustPolicy);
    const raw = `${m.certificates ?? ''}\u0000${m.certificateChain ?? ''}\u0000${m.tsaCertChain ?? ''}`;
    let k = materialKeys.get(raw);
    if (k === undefined) {
      if (materialKeys.size >= 1024) materialKeys.clear();
      k = materialKey(m, undefined);
      materialKeys.set(raw, k);
    }
    return k;
  }

  function run<T>(key: string, image: string, notBefore: number, fn: () => Promise<T>, counter: keyof typeof calls): Promise<T> {
    const e = entries.get(key);
    if (e && (e.pending || (e.decidedAt >= notBefore && e.expiresAt > now()))) {
      e.images.add(image);
      return e.promise as Promise<T>;
    }
    const entry: Entry = {
      decidedAt: 0,
      expiresAt: Number.POSITIVE_INFINITY,
      pending: true,
      promise: Promise.resolve(),
      images: new Set([image]),
    };
    entry.promise = gate(async () => {
      calls[counter]++;
      const t0 = performance.now();
      try {
        const v = await fn();
        if (counter === 'verify') options.onVerification?.('pass', (performance.now() - t0) / 1000);
        settle(entry, ttl);
        return v;
      } catch (err) {
        const inconclusive = isInconclusive(err);
        if (counter === 'verify') options.onVerification?.(inconclusive ? 'error' : 'fail', (performance.now() - t0) / 1000);
        settle(entry, inconclusive ? errorTtl : ttl);
        throw err;
      }
    });
    // a rejection is the answer the engine reads; keep the ledger's copy from being "unhandled"
    entry.promise.catch(() => undefined);
    entries.set(key, entry);
    return entry.promise as Promise<T>;
  }

  function settle(e: Entry, keep: number): void {
    e.pending = false;
    e.decidedAt = now();
    e.expiresAt = e.decidedAt + keep;
  }

  /** `registry/path@digest` for a tag reference, resolved once per run; undefined when it cannot be resolved. */
  async function digestForm(image: string, notBefore: number, signal: AbortSignal | undefined): Promise<string | undefined> {
    if (image.includes('@') || !inner.resolveDigest) return image.includes('@') ? image : undefined;
    try {
      const digest = await run(`res|${image}`, image, notBefore, () => inner.resolveDigest!(image, signal), 'resolve');
      const slash = image.lastIndexOf('/');
      const colon = image.lastIndexOf(':');
      return `${colon > slash ? image.slice(0, colon) : image}@${digest}`;
    } catch {
      return undefined; // the verification itself reports why (with Kyverno's message)
    }
  }

  return {
    calls,
    size: () => entries.size,
    forRun(notBefore) {
      return {
        async verifyImage(req) {
          // tags are verified by digest: two tags of one manifest are one verification
          const target = (await digestForm(req.image, notBefore, req.signal)) ?? req.image;
          const key = `sig|${target}|${keyOfMaterial(req.attestor, req.trustPolicy)}`;
          return run(key, req.image, notBefore, () => inner.verifyImage({ ...req, image: target }), 'verify');
        },
        ...(inner.verifyAttestations
          ? {
              verifyAttestations(req) {
                const key = `att|${req.image}|${req.type}|${keyOfMaterial(req.attestor, req.trustPolicy)}`;
                return run(key, req.image, notBefore, () => inner.verifyAttestations!(req), 'attestations');
              },
            }
          : {}),
        ...(inner.resolveDigest
          ? {
              resolveDigest(image, signal) {
                return run(`res|${image}`, image, notBefore, () => inner.resolveDigest!(image, signal), 'resolve');
              },
            }
          : {}),
      };
    },
    nextExpiry() {
      let min: number | undefined;
      for (const e of entries.values()) if (!e.pending && (min === undefined || e.expiresAt < min)) min = e.expiresAt;
      return min;
    },
    pruneBefore(at) {
      for (const [k, e] of entries) if (!e.pending && e.decidedAt < at) entries.delete(k);
    },
    takeExpired(at) {
      const out = new Set<string>();
      for (const [k, e] of entries) {
        if (e.pending || e.expiresAt > at) continue;
        entries.delete(k);
        for (const i of e.images) out.add(i);
      }
      return out;
    },
  };
}
