import { type FetchLike, type FetchResponse, isVouchError, type Logger, utf8, VouchError } from '@vouch/core';
import { fromUtf8, noopLogger, readLimited, toBase64 } from '@vouch/core/internal';
import { type AuthChallenge, type Credential, type CredentialProvider, mergeScopes, parseWwwAuthenticate } from './auth.js';
import { BoundedCache } from './cache.js';

/** Retry policy for 5xx, 429 and network errors. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 disables). */
  retries?: number;
  /** First backoff delay (default 200 ms), doubled per attempt, with jitter. */
  minDelayMs?: number;
  /** Backoff ceiling (default 5 s). */
  maxDelayMs?: number;
  /** Longest `Retry-After` honoured (default 30 s); a longer one fails at once with ERR_REGISTRY_HTTP. */
  maxRetryAfterMs?: number;
}

/** Options of {@link createRegistryClient}. */
export interface RegistryClientOptions {
  /** HTTP transport (`globalThis.fetch`, or `undiciFetch()` from @vouch/node). */
  fetch: FetchLike;
  /** Credentials per registry; anonymous when absent. */
  credentials?: CredentialProvider;
  /** Registries (`host[:port]`) reached over plain HTTP. No other registry ever is, except loopback ones (see `plainHttpLoopback`). */
  insecureRegistries?: readonly string[];
  /** Use plain HTTP for every registry (`--plain-http` / `--insecure-registry` on a one-registry command). */
  plainHttp?: boolean;
  /** Treat `localhost`, `127.0.0.1` and `[::1]` registries as insecure, as notation does (default true). */
  plainHttpLoopback?: boolean;
  retry?: RetryOptions;
  /** Deadline per HTTP request including reading its body (default 30 s). */
  timeoutMs?: number;
  /** `User-Agent` header (default `vouch`). */
  userAgent?: string;
  logger?: Logger;
  /**
   * Cache of immutable content (manifests and blobs by digest, digest → descriptor). Default
   * 64 MiB / 4096 entries; `false` disables it.
   */
  cache?: { maxBytes?: number; maxEntries?: number } | false;
  /**
   * How long a referrers listing is reused (default 30 s; 0 disables). Listings can change when
   * someone signs; pushes through this client invalidate the subject's listing at once.
   */
  referrersCacheTtlMs?: number;
  /** Redirects followed per request (default 5). */
  maxRedirects?: number;
  /** @internal test hook: waits between retries. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @internal test hook: milliseconds clock for token expiry and listing TTLs. */
  now?: () => number;
}

/** One HTTP exchange with a registry. */
export interface RegistryRequest {
  /** Registry host as in the reference (`docker.io`, `localhost:5000`). */
  registry: string;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** `/v2/...` path (with query), or an absolute URL returned by the registry (upload `Location`). */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Token scopes the request needs, e.g. `repository:org/app:pull`. */
  scopes: readonly string[];
  signal?: AbortSignal;
  /** Retry on 5xx/429/network errors (default: true except PATCH). */
  retry?: boolean;
}

/** Counters of HTTP requests made (for benchmarks and tests). */
export interface RegistryClientStats {
  requests: number;
  tokenRequests: number;
  cacheHits: number;
}

/**
 * A registry client: transport, auth, retries, timeouts, redirects, single-flight and the
 * content cache, shared by every {@link remoteRepository} built on it. Reuse one client for
 * many verifications (tokens and content are reused).
 */
export interface RegistryClient {
  /**
   * Send one request (following redirects, answering auth challenges, retrying 5xx/429) and
   * hand the final response to `handle`, inside the request's deadline. 401/403 after auth →
   * ERR_REGISTRY_UNAUTHORIZED; 5xx/429 after retries → ERR_REGISTRY_HTTP; transport failures →
   * ERR_NETWORK / ERR_TIMEOUT / ERR_ABORTED. Other statuses reach `handle`.
   */
  request<T>(req: RegistryRequest, handle: (res: FetchResponse, url: string) => Promise<T>): Promise<T>;
  /** Base URL (`https://host`) of a registry. */
  baseUrl(registry: string): string;
  stats(): RegistryClientStats;
  /** @internal shared state for repositories. */
  readonly [INTERNAL]: ClientInternals;
}

/** The key of a client's shared state (not exported by the package index: vouch's own use). */
export const INTERNAL: unique symbol = Symbol('vouch.registryClient');

/** A client's state its repositories share (not exported by the package index: vouch's own use). */
export interface ClientInternals {
  cache: BoundedCache<{ bytes?: Uint8Array; mediaType: string; size: number }> | undefined;
  referrersCache: Map<string, { expires: number; pages: import('@vouch/core').Descriptor[][] }>;
  referrersTtlMs: number;
  referrersApi: Map<string, boolean>;
  /** digest → repositories (per registry) known to hold the blob, for cross-repo mounts. */
  blobHomes: BoundedCache<Set<string>>;
  flight<T>(key: string, fn: () => Promise<T>): Promise<T>;
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  logger: Logger;
  stats: RegistryClientStats;
}

interface TokenEntry {
  token: string;
  expires: number;
}

interface AuthState {
  scheme?: 'basic' | 'bearer';
  realm?: string;
  service?: string;
  tokens: Map<string, TokenEntry>;
  credential?: Promise<Credential | undefined>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new VouchError('ERR_ABORTED', 'the operation was aborted', { cause: signal.reason }));
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new VouchError('ERR_ABORTED', 'the operation was aborted', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Milliseconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

async function discard(res: FetchResponse): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // ignore
  }
}

/** Read an error body's `errors[].code` for messages (bounded). */
async function errorCodes(res: FetchResponse): Promise<string[]> {
  try {
    const bytes = await readLimited(res, 64 * 1024, 'error body');
    const doc = JSON.parse(fromUtf8(bytes)) as { errors?: { code?: unknown; message?: unknown }[] };
    return (doc.errors ?? []).map((e) => `${String(e.code)}${e.message ? `: ${String(e.message)}` : ''}`);
  } catch {
    return [];
  }
}

/** Map an unexpected HTTP status to a VouchError (consumes the body). */
export async function httpError(res: FetchResponse, what: string): Promise<VouchError> {
  const codes = await errorCodes(res);
  const detail = codes.length > 0 ? ` (${codes.join('; ')})` : '';
  const details = { status: res.status, errors: codes };
  if (res.status === 401 || res.status === 403) {
    return new VouchError(
      'ERR_REGISTRY_UNAUTHORIZED',
      `${what}: registry answered ${res.status}${detail}; check the credentials and their scope`,
      {
        details,
      },
    );
  }
  if (res.status === 404) return new VouchError('ERR_REGISTRY_NOT_FOUND', `${what}: not found (404)${detail}`, { details });
  return new VouchError('ERR_REGISTRY_HTTP', `${what}: unexpected HTTP ${res.status}${detail}`, { details });
}

/**
 * Create a {@link RegistryClient} over a `FetchLike` transport. Nothing is sent until a
 * repository uses it.
 * @example
 * ```ts
 * import { fetchLike } from '@vouch/core';
 * import { createRegistryClient, remoteRepository, staticCredentials } from '@vouch/registry';
 *
 * const client = createRegistryClient({
 *   fetch: fetchLike(),
 *   credentials: staticCredentials({ 'registry.example.com': { username: 'ci', password: token } }),
 * });
 * const repository = remoteRepository(client, 'registry.example.com/team/app');
 * const { digest } = await repository.resolve('v1.2.3');
 * ```
 */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  if (typeof options?.fetch !== 'function') throw new VouchError('ERR_INVALID_ARGUMENT', 'createRegistryClient needs a fetch function');
  const fetchFn = options.fetch;
  const logger = options.logger ?? noopLogger;
  const retries = Math.max(0, options.retry?.retries ?? 3);
  const minDelay = options.retry?.minDelayMs ?? 200;
  const maxDelay = options.retry?.maxDelayMs ?? 5000;
  const maxRetryAfter = options.retry?.maxRetryAfterMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const userAgent = options.userAgent ?? 'vouch';
  const maxRedirects = options.maxRedirects ?? 5;
  const insecure = new Set((options.insecureRegistries ?? []).map((r) => r.toLowerCase()));
  const loopbackInsecure = options.plainHttpLoopback ?? true;
  const now = options.now ?? (() => Date.now());
  const sleep = options.sleep ?? defaultSleep;
  const auth = new Map<string, AuthState>();
  const inflight = new Map<string, Promise<unknown>>();
  const stats: RegistryClientStats = { requests: 0, tokenRequests: 0, cacheHits: 0 };
  const cacheOpt = options.cache;

  const internals: ClientInternals = {
    cache: cacheOpt === false ? undefined : new BoundedCache(cacheOpt?.maxEntries ?? 4096, cacheOpt?.maxBytes ?? 64 * 1024 * 1024),
    referrersCache: new Map(),
    referrersTtlMs: options.referrersCacheTtlMs ?? 30_000,
    referrersApi: new Map(),
    blobHomes: new BoundedCache(4096, Number.MAX_SAFE_INTEGER),
    flight<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const existing = inflight.get(key);
      if (existing) return existing as Promise<T>;
      const p = fn().finally(() => inflight.delete(key));
      inflight.set(key, p);
      return p;
    },
    now,
    sleep,
    logger,
    stats,
  };

  function isInsecure(host: string): boolean {
    const h = host.toLowerCase();
    return options.plainHttp === true || insecure.has(h) || (loopbackInsecure && LOOPBACK.test(h));
  }

  function endpointHost(registry: string): string {
    return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
  }

  function baseUrl(registry: string): string {
    return `${isInsecure(registry) ? 'http' : 'https'}://${endpointHost(registry)}`;
  }

  function stateOf(registry: string): AuthState {
    let s = auth.get(registry);
    if (!s) {
      s = { tokens: new Map() };
      auth.set(registry, s);
    }
    return s;
  }

  function credentialOf(registry: string, state: AuthState): Promise<Credential | undefined> {
    if (!state.credential) {
      state.credential = (async () => {
        if (!options.credentials) return undefined;
        try {
          return await options.credentials.get(registry);
        } catch (e) {
          throw isVouchError(e)
            ? e
            : new VouchError('ERR_REGISTRY_UNAUTHORIZED', `reading credentials for ${registry} failed: ${(e as Error)?.message ?? e}`, {
                cause: e,
              });
        }
      })();
      // a failed lookup is not remembered
      state.credential.catch(() => {
        state.credential = undefined;
      });
    }
    return state.credential;
  }

  function basicHeader(c: Credential): string | undefined {
    if (c.username === undefined || c.password === undefined) return undefined;
    return `Basic ${toBase64(utf8(`${c.username}:${c.password}`))}`;
  }

  async function fetchToken(registry: string, state: AuthState, scopes: string[], signal: AbortSignal | undefined): Promise<TokenEntry> {
    const realm = state.realm!;
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch (e) {
      throw new VouchError('ERR_REGISTRY_HTTP', `registry ${registry} sent an invalid token realm "${realm}"`, { cause: e });
    }
    if (realmUrl.protocol !== 'https:' && !(realmUrl.protocol === 'http:' && (isInsecure(realmUrl.host) || isInsecure(registry)))) {
      throw new VouchError('ERR_REGISTRY_HTTP', `refusing token realm ${realm}: only https (or a registry marked insecure) is allowed`);
    }
    const cred = await credentialOf(registry, state);
    const headers: Record<string, string> = { 'User-Agent': userAgent, Accept: 'application/json' };
    let method = 'GET';
    let body: string | undefined;
    if (cred?.identityToken) {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.identityToken, client_id: userAgent });
      if (state.service) form.set('service', state.service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      body = form.toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else {
      if (state.service) realmUrl.searchParams.set('service', state.service);
      for (const s of scopes) realmUrl.searchParams.append('scope', s);
      const b = cred ? basicHeader(cred) : undefined;
      if (b) headers.Authorization = b;
    }
    stats.tokenRequests++;
    stats.requests++;
    const { signal: attemptSignal, cleanup, timedOut } = deadline(signal);
    try {
      const res = await fetchFn(realmUrl.toString(), { method, headers, body, signal: attemptSignal, redirect: 'manual' });
      if (res.status !== 200) {
        const err = await httpError(res, `token request to ${realmUrl.origin}`);
        if (res.status === 401 || res.status === 403) throw err;
        throw new VouchError('ERR_REGISTRY_UNAUTHORIZED', err.message, { cause: err, details: err.details as Record<string, unknown> });
      }
      const doc = JSON.parse(fromUtf8(await readLimited(res, 1024 * 1024, 'token response'))) as Record<string, unknown>;
      const token = typeof doc.token === 'string' && doc.token ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : '';
      if (!token) throw new VouchError('ERR_REGISTRY_UNAUTHORIZED', `token service ${realmUrl.origin} returned no token`);
      const expiresIn = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? Math.max(60, doc.expires_in) : 60;
      return { token, expires: now() + (expiresIn - 10) * 1000 };
    } catch (e) {
      throw mapTransportError(e, timedOut(), signal, `token request to ${realmUrl.origin}`);
    } finally {
      cleanup();
    }
  }

  function deadline(signal: AbortSignal | undefined): { signal: AbortSignal; cleanup(): void; timedOut(): boolean } {
    const ac = new AbortController();
    let fired = false;
    const t = setTimeout(() => {
      fired = true;
      ac.abort(new VouchError('ERR_TIMEOUT', `request did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = () => ac.abort(signal?.reason);
    if (signal) {
      if (signal.aborted) ac.abort(signal.reason);
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    return {
      signal: ac.signal,
      cleanup() {
        clearTimeout(t);
        signal?.removeEventListener('abort', onAbort);
      },
      timedOut: () => fired,
    };
  }

  function mapTransportError(e: unknown, timedOut: boolean, signal: AbortSignal | undefined, what: string): VouchError {
    if (signal?.aborted) return new VouchError('ERR_ABORTED', `${what}: aborted`, { cause: e });
    if (timedOut) return new VouchError('ERR_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`, { cause: e });
    if (isVouchError(e)) return e;
    return new VouchError('ERR_NETWORK', `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }

  async function authorization(registry: string, state: AuthState, scopes: string[]): Promise<string | undefined> {
    if (state.scheme === undefined) {
      const cred = await credentialOf(registry, state);
      return cred?.registryToken ? `Bearer ${cred.registryToken}` : undefined;
    }
    const cred = await credentialOf(registry, state);
    if (cred?.registryToken) return `Bearer ${cred.registryToken}`;
    if (state.scheme === 'basic') return cred ? basicHeader(cred) : undefined;
    const key = scopes.join(' ');
    const cached = state.tokens.get(key);
    if (cached && cached.expires > now()) return `Bearer ${cached.token}`;
    // shared by concurrent callers, so not bound to one caller's signal
    const entry = await internals.flight(`token ${registry} ${key}`, () => fetchToken(registry, state, scopes, undefined));
    state.tokens.set(key, entry);
    if (state.tokens.size > 256) state.tokens.delete(state.tokens.keys().next().value!);
    return `Bearer ${entry.token}`;
  }

  function learnChallenge(state: AuthState, challenges: AuthChallenge[]): AuthChallenge | undefined {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      state.scheme = 'bearer';
      state.realm = bearer.params.realm;
      state.service = bearer.params.service;
      return bearer;
    }
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (basic) {
      state.scheme = 'basic';
      return basic;
    }
    return undefined;
  }

  async function request<T>(req: RegistryRequest, handle: (res: FetchResponse, url: string) => Promise<T>): Promise<T> {
    const registry = req.registry;
    const base = baseUrl(registry);
    const registryOrigin = new URL(base).host;
    const state = stateOf(registry);
    let scopes = mergeScopes(req.scopes);
    const canRetry = req.retry ?? req.method !== 'PATCH';
    let attempt = 0;
    let authRetries = 0;
    let url = req.path.startsWith('http://') || req.path.startsWith('https://') ? req.path : `${base}${req.path}`;
    let method: string = req.method;
    let body: Uint8Array | undefined = req.body;
    let redirects = 0;
    let sentAuth: string | undefined;
    for (;;) {
      if (req.signal?.aborted) throw new VouchError('ERR_ABORTED', `${req.method} ${url}: aborted`, { cause: req.signal.reason });
      const target = new URL(url);
      const sameHost = target.host === registryOrigin;
      const headers: Record<string, string> = { 'User-Agent': userAgent, ...req.headers };
      if (body === undefined) delete headers['Content-Type'];
      sentAuth = undefined;
      if (sameHost) {
        const a = await authorization(registry, state, scopes);
        if (a) headers.Authorization = sentAuth = a;
      }
      const what = `${method} ${target.origin}${target.pathname}`;
      const { signal, cleanup, timedOut } = deadline(req.signal);
      let outcome: { kind: 'done'; value: T } | { kind: 'again'; delay: number; reason: VouchError } | { kind: 'continue' };
      stats.requests++;
      try {
        const res = await fetchFn(url, { method, headers, body, signal, redirect: 'manual' });
        if (REDIRECTS.has(res.status) && res.headers.get('location')) {
          await discard(res);
          if (++redirects > maxRedirects) throw new VouchError('ERR_REGISTRY_HTTP', `${what}: more than ${maxRedirects} redirects`);
          const next = new URL(res.headers.get('location')!, url);
          if (next.protocol !== 'https:' && !(next.protocol === 'http:' && isInsecure(next.host))) {
            throw new VouchError('ERR_REGISTRY_HTTP', `${what}: refusing redirect to ${next.origin} (not https)`);
          }
          if (res.status === 303) {
            method = 'GET';
            body = undefined;
          }
          url = next.toString();
          outcome = { kind: 'continue' };
        } else if (res.status === 0) {
          throw new VouchError(
            'ERR_REGISTRY_HTTP',
            `${what}: the runtime hid a redirect (opaque response); use a fetch that supports redirect: "manual"`,
          );
        } else if (res.status === 401 && sameHost) {
          const challenges = parseWwwAuthenticate(res.headers.get('www-authenticate') ?? '');
          const err = await httpError(res, what);
          const ch = learnChallenge(state, challenges);
          const wanted = ch?.params.scope ? mergeScopes([...scopes, ch.params.scope]) : scopes;
          const insufficient = ch?.params.error === 'insufficient_scope';
          // retry when we now know how to authenticate, or when a token was refused (expired) or lacked scope
          if (!ch || authRetries >= 2 || (sentAuth !== undefined && state.scheme === 'basic')) throw err;
          if (sentAuth !== undefined && state.scheme === 'bearer') {
            state.tokens.delete(scopes.join(' '));
            if (!insufficient && wanted.join(' ') === scopes.join(' ') && authRetries >= 1) throw err;
          }
          if (state.scheme === 'basic') {
            const cred = await credentialOf(registry, state);
            if (!cred || !basicHeader(cred)) throw err;
          }
          scopes = wanted;
          authRetries++;
          outcome = { kind: 'continue' };
        } else if ((res.status >= 500 || res.status === 429) && res.status !== 501 && res.status !== 505) {
          const retryAfter = parseRetryAfter(res.headers.get('retry-after'), now());
          const err = await httpError(res, what);
          if (retryAfter !== undefined && retryAfter > maxRetryAfter) {
            throw new VouchError(
              'ERR_REGISTRY_HTTP',
              `${err.message}; Retry-After ${Math.ceil(retryAfter / 1000)} s is longer than allowed`,
              {
                details: { ...err.details, retryAfterMs: retryAfter },
              },
            );
          }
          const backoff = Math.min(maxDelay, minDelay * 2 ** attempt) * (0.5 + Math.random() / 2);
          outcome = { kind: 'again', delay: retryAfter ?? backoff, reason: err };
        } else {
          outcome = { kind: 'done', value: await handle(res, url) };
        }
      } catch (e) {
        const err = mapTransportError(e, timedOut(), req.signal, what);
        if (err.code === 'ERR_NETWORK' && canRetry) {
          const backoff = Math.min(maxDelay, minDelay * 2 ** attempt) * (0.5 + Math.random() / 2);
          outcome = { kind: 'again', delay: backoff, reason: err };
        } else {
          throw err;
        }
      } finally {
        cleanup();
      }
      if (outcome.kind === 'done') return outcome.value;
      if (outcome.kind === 'again') {
        if (!canRetry || attempt >= retries) throw outcome.reason;
        attempt++;
        logger.debug('registry request retried', { url, attempt, reason: outcome.reason.message, delayMs: outcome.delay });
        await sleep(outcome.delay, req.signal);
      }
    }
  }

  return {
    request,
    baseUrl,
    stats: () => ({ ...stats }),
    [INTERNAL]: internals,
  };
}
