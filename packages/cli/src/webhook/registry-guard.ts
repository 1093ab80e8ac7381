/**
 * The webhook's registry transport guard: a FetchLike wrapper that keeps a struggling registry
 * from being hammered and keeps the webhook's own queues bounded.
 *
 * Per registry origin (`host:port`):
 * - at most `maxConcurrent` requests are in flight (a request holds its slot until its body is read
 *   or cancelled); at most `maxQueued` more wait for a slot, and any beyond that fail at once;
 * - a circuit breaker: after `failureThreshold` consecutive failures (network errors, 5xx) the
 *   origin is left alone for a back-off period that doubles with every further failure (capped);
 *   a 429 opens it at once for the `Retry-After` the registry asked for. While open, requests fail
 *   at once without touching the network; when the period ends, one probe request goes through
 *   and its outcome closes or re-opens the circuit.
 *
 * Fast failures are VouchErrors the registry client passes through unchanged: ERR_NETWORK when the
 * registry is unreachable, ERR_REGISTRY_HTTP when it refused (429/5xx) or the queue is full. Both
 * mean "could not decide" to the admission engine, so failurePolicy applies.
 */
import { type FetchInit, type FetchLike, type FetchResponse, isVouchError, VouchError } from '@vouch/core';
import { parseRetryAfter } from '@vouch/registry/internal';

/** Options of {@link createRegistryGuard}. */
export interface RegistryGuardOptions {
  /** The transport to guard. */
  fetch: FetchLike;
  /** Requests in flight per registry origin (default 16). */
  maxConcurrent?: number;
  /** Requests waiting for a slot per registry origin; more fail at once (default 256). */
  maxQueued?: number;
  /** Consecutive failures (network error, 5xx) that open the circuit (default 3). A 429 opens it at once. */
  failureThreshold?: number;
  /** First back-off period in ms (default 1000); doubles per further failure. */
  initialBackoffMs?: number;
  /** Longest back-off period, and longest `Retry-After` honoured, in ms (default 30 s). */
  maxBackoffMs?: number;
  /** Milliseconds clock (tests). */
  now?: () => number;
  /** Called once per request that reached the network or was refused by the guard. */
  observe?(event: RegistryRequestEvent): void;
}

/** One request as seen by the guard (for metrics). */
export interface RegistryRequestEvent {
  /** Registry origin, `host:port` as in the URL. */
  registry: string;
  method: string;
  /**
   * HTTP status as a string (`200`, `429`, …), `network_error`, `aborted`, or the guard's own
   * refusals: `circuit_open` and `queue_full`.
   */
  status: string;
  /** Time to the response headers (0 for refusals). */
  durationMs: number;
}

/** State of one registry origin. */
export interface RegistryOriginStats {
  registry: string;
  inFlight: number;
  /** Highest `inFlight` seen. */
  peakInFlight: number;
  queued: number;
  /** Consecutive failures. */
  failures: number;
  /** Whether requests are refused right now (back-off after failures or a 429). */
  open: boolean;
  /** Milliseconds until the circuit lets a probe through (0 when closed). */
  retryInMs: number;
  /** Requests refused without reaching the network. */
  refused: number;
}

/** A guarded transport. */
export interface RegistryGuard {
  readonly fetch: FetchLike;
  stats(): RegistryOriginStats[];
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

interface Origin {
  name: string;
  inFlight: number;
  peak: number;
  queue: Waiter[];
  failures: number;
  openUntil: number;
  probing: boolean;
  lastError: string;
  reason: 'network' | 'http';
  refused: number;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const n = value ?? fallback;
  if (!Number.isFinite(n) || n <= 0) throw new VouchError('ERR_INVALID_ARGUMENT', `${name} must be a positive number, got ${value}`);
  return n;
}

/** Wraps a response so that `release` runs once its body has been read, cancelled or failed. */
function holdUntilConsumed(res: FetchResponse, release: () => void): FetchResponse {
  let wrapped: ReadableStream<Uint8Array> | null | undefined;
  return {
    status: res.status,
    ...(res.statusText !== undefined ? { statusText: res.statusText } : {}),
    ...(res.url !== undefined ? { url: res.url } : {}),
    headers: res.headers,
    get body(): ReadableStream<Uint8Array> | null {
      if (wrapped !== undefined) return wrapped;
      const inner = res.body;
      if (!inner) {
        release();
        wrapped = null;
        return null;
      }
      const reader = inner.getReader();
      wrapped = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const { done, value } = await reader.read();
            if (done) {
              release();
              controller.close();
            } else controller.enqueue(value);
          } catch (e) {
            release();
            controller.error(e);
          }
        },
        async cancel(reason) {
          release();
          await reader.cancel(reason).catch(() => {});
        },
      });
      return wrapped;
    },
    arrayBuffer: () => res.arrayBuffer().finally(release),
    text: () => res.text().finally(release),
  };
}

/** Creates a {@link RegistryGuard} around `options.fetch`. */
export function createRegistryGuard(options: RegistryGuardOptions): RegistryGuard {
  const inner = options.fetch;
  const maxConcurrent = Math.floor(positive(options.maxConcurrent, 16, 'maxConcurrent'));
  const maxQueued = Math.floor(options.maxQueued ?? 256);
  const threshold = Math.floor(positive(options.failureThreshold, 3, 'failureThreshold'));
  const initialBackoff = positive(options.initialBackoffMs, 1000, 'initialBackoffMs');
  const maxBackoff = positive(options.maxBackoffMs, 30_000, 'maxBackoffMs');
  const now = options.now ?? (() => Date.now());
  const observe = options.observe ?? (() => {});
  const origins = new Map<string, Origin>();

  function originOf(url: string): Origin {
    let host: string;
    try {
      host = new URL(url).host;
    } catch {
      host = url;
    }
    let o = origins.get(host);
    if (!o) {
      o = {
        name: host,
        inFlight: 0,
        peak: 0,
        queue: [],
        failures: 0,
        openUntil: 0,
        probing: false,
        lastError: '',
        reason: 'network',
        refused: 0,
      };
      origins.set(host, o);
    }
    return o;
  }

  function refuse(o: Origin, method: string, status: 'circuit_open' | 'queue_full'): VouchError {
    o.refused++;
    observe({ registry: o.name, method, status, durationMs: 0 });
    if (status === 'queue_full') {
      return new VouchError(
        'ERR_REGISTRY_HTTP',
        `registry ${o.name}: ${o.inFlight} requests in flight and ${o.queue.length} waiting, the limit; not sent`,
        { details: { registry: o.name, refused: status } },
      );
    }
    const retryInMs = Math.max(0, o.openUntil - now());
    const when = o.probing && retryInMs === 0 ? 'after the probe request in flight' : `in ${Math.ceil(retryInMs / 1000)} s`;
    const message = `registry ${o.name} is backed off after ${o.failures} failed request${o.failures === 1 ? '' : 's'} (last: ${o.lastError}); not sent, next attempt ${when}`;
    return new VouchError(o.reason === 'network' ? 'ERR_NETWORK' : 'ERR_REGISTRY_HTTP', message, {
      details: { registry: o.name, refused: status, retryInMs },
    });
  }

  /** Whether the circuit lets this request through; claims the probe when a back-off period has ended. */
  function admit(o: Origin): boolean {
    if (o.openUntil === 0) return true; // closed
    if (now() < o.openUntil) return false; // open
    if (o.probing) return false; // half-open, the probe is out
    o.probing = true;
    return true;
  }

  function succeeded(o: Origin): void {
    o.failures = 0;
    o.openUntil = 0;
    o.probing = false;
  }

  function failed(o: Origin, error: string, reason: 'network' | 'http', retryAfterMs?: number): void {
    o.failures++;
    o.lastError = error;
    o.reason = reason;
    o.probing = false;
    if (retryAfterMs !== undefined) {
      o.openUntil = now() + Math.min(maxBackoff, retryAfterMs);
    } else if (o.failures >= threshold) {
      const exp = Math.min(maxBackoff, initialBackoff * 2 ** (o.failures - threshold));
      o.openUntil = now() + exp * (0.75 + Math.random() / 4);
    }
  }

  function acquire(o: Origin, signal: AbortSignal | undefined): Promise<void> | undefined {
    if (o.inFlight < maxConcurrent) {
      o.inFlight++;
      if (o.inFlight > o.peak) o.peak = o.inFlight;
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = o.queue.indexOf(w);
          if (i >= 0) o.queue.splice(i, 1);
          reject(
            new VouchError('ERR_ABORTED', `registry ${o.name}: aborted while waiting for a connection slot`, { cause: signal?.reason }),
          );
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      o.queue.push(w);
    });
  }

  function release(o: Origin): void {
    const next = o.queue.shift();
    if (next) {
      next.signal?.removeEventListener('abort', next.onAbort);
      next.resolve(); // the slot passes to the waiter: inFlight unchanged
      return;
    }
    o.inFlight--;
  }

  const guarded: FetchLike = async (url: string, init?: FetchInit): Promise<FetchResponse> => {
    const o = originOf(url);
    const method = init?.method ?? 'GET';
    if (init?.signal?.aborted) throw new VouchError('ERR_ABORTED', `${method} ${url}: aborted`, { cause: init.signal.reason });
    if (o.inFlight >= maxConcurrent && o.queue.length >= maxQueued) throw refuse(o, method, 'queue_full');
    const wait = acquire(o, init?.signal);
    if (wait) await wait;
    let held = true;
    const free = () => {
      if (held) {
        held = false;
        release(o);
      }
    };
    // The circuit is checked once a slot is held, so that a request that waited sees the latest outcome.
    if (!admit(o)) {
      free();
      throw refuse(o, method, 'circuit_open');
    }
    const t0 = now();
    let res: FetchResponse;
    try {
      res = await inner(url, init);
    } catch (e) {
      free();
      if (init?.signal?.aborted) {
        if (o.probing) o.probing = false;
        observe({ registry: o.name, method, status: 'aborted', durationMs: now() - t0 });
      } else {
        const msg = isVouchError(e) || e instanceof Error ? e.message : String(e);
        failed(o, msg, 'network');
        observe({ registry: o.name, method, status: 'network_error', durationMs: now() - t0 });
      }
      throw e;
    }
    observe({ registry: o.name, method, status: String(res.status), durationMs: now() - t0 });
    if (res.status === 429) {
      failed(o, 'HTTP 429', 'http', parseRetryAfter(res.headers.get('retry-after'), Date.now()) ?? initialBackoff);
    } else if (res.status >= 500 && res.status !== 501 && res.status !== 505) {
      failed(o, `HTTP ${res.status}`, 'http');
    } else {
      succeeded(o);
    }
    if (method === 'HEAD') {
      free();
      return res;
    }
    // A body nobody reads must not hold the slot for ever.
    const safety = setTimeout(free, 60_000);
    (safety as { unref?: () => void }).unref?.();
    return holdUntilConsumed(res, () => {
      clearTimeout(safety);
      free();
    });
  };

  return {
    fetch: guarded,
    stats: () =>
      [...origins.values()].map((o) => ({
        registry: o.name,
        inFlight: o.inFlight,
        peakInFlight: o.peak,
        queued: o.queue.length,
        failures: o.failures,
        open: o.openUntil !== 0 && (now() < o.openUntil || o.probing),
        retryInMs: Math.max(0, o.openUntil - now()),
        refused: o.refused,
      })),
  };
}
