/** Minimal structured logger; every method optional to implement via `noopLogger`. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const noopLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Source of the current time; inject a fixed clock in tests and conformance runs. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/**
 * The subset of `fetch` vouch needs. `globalThis.fetch` satisfies it; `@vouch/node`
 * provides an undici-based one with connection pools.
 */
export type FetchLike = (input: string, init?: FetchInit) => Promise<FetchResponse>;

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string | ReadableStream<Uint8Array>;
  signal?: AbortSignal;
  redirect?: 'follow' | 'manual' | 'error';
  /** Needed by some runtimes when streaming a request body. */
  duplex?: 'half';
}

export interface FetchResponse {
  readonly status: number;
  readonly statusText?: string;
  readonly url?: string;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}

/**
 * Adapt a WHATWG `fetch` (browsers, Deno, Bun, workers, Node's global) to {@link FetchLike}.
 * Redirects are never followed by the transport: callers that need them follow them
 * themselves (so credentials are not forwarded to another host).
 */
export function fetchLike(f: typeof globalThis.fetch = globalThis.fetch): FetchLike {
  if (typeof f !== 'function') throw new TypeError('no fetch implementation is available in this runtime; pass one');
  const bound = f.bind(globalThis);
  return (input, init) => bound(input, init as RequestInit) as unknown as Promise<FetchResponse>;
}
