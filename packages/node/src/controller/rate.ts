/** Rate limiting for the controller: a token bucket (report writes, registry requests) and a concurrency gate. */
import type { FetchLike } from '@vouch/core';

/** A token bucket: `rate` tokens per second, up to `burst` saved. */
export interface TokenBucket {
  /** Resolves when a token is available (callers are served in order). */
  take(signal?: AbortSignal): Promise<void>;
  readonly rate: number;
  readonly burst: number;
}

/** Creates a token bucket; a rate of 0 or Infinity means unlimited. */
export function tokenBucket(rate: number, burst = Math.max(1, Math.ceil(rate)), now: () => number = () => performance.now()): TokenBucket {
  let tokens = burst;
  let last = now();
  let chain: Promise<void> = Promise.resolve();
  const unlimited = !(rate > 0) || !Number.isFinite(rate);
  return {
    rate,
    burst,
    take(signal) {
      if (unlimited) return Promise.resolve();
      const turn = chain.then(async () => {
        for (;;) {
          signal?.throwIfAborted();
          const t = now();
          tokens = Math.min(burst, tokens + ((t - last) / 1000) * rate);
          last = t;
          if (tokens >= 1) {
            tokens -= 1;
            return;
          }
          await new Promise((r) => setTimeout(r, Math.ceil(((1 - tokens) / rate) * 1000)));
        }
      });
      chain = turn.catch(() => undefined);
      return turn;
    },
  };
}

/** At most `limit` tasks at a time. */
export function concurrencyGate(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/**
 * A fetch that spends one token of `bucket` per request: the registry request budget of a scanner
 * (a verification costs several registry requests, see docs/cluster-mode.md).
 */
export function rateLimitedFetch(fetch: FetchLike, bucket: TokenBucket): FetchLike {
  return async (input, init) => {
    await bucket.take(init?.signal ?? undefined);
    return fetch(input, init);
  };
}
