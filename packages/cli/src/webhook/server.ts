/**
 * The admission webhook behind `vouch webhook`: AdmissionReview v1 over HTTPS (node:https),
 * answered by @vouch/kyverno's `handleAdmissionReview` within a deadline below the API
 * server's webhook timeout, with health endpoints, a body size cap, JSON decision logs,
 * policy reload and graceful shutdown.
 */
import { type FSWatcher, watch } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { VouchError } from '@vouch/core';
import {
  type AdmissionOptions,
  type AdmissionReview,
  createKyvernoEngine,
  handleAdmissionReview,
  type KyvernoEngine,
  type KyvernoEngineOptions,
  type KyvernoPolicy,
  type NotaryImageVerifier,
  policyFailurePolicy,
} from '@vouch/kyverno';
import { loadPolicyDir } from '../kyverno/load.js';

/** Default deadline for answering one review (below Kubernetes' default webhook timeout of 10 s). */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 8000;
/** Default cap on a request body: an AdmissionReview carries `object` and `oldObject` (etcd caps objects at ~1.5 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** One structured log entry (printed as a JSON line by the CLI). */
export type WebhookLogEntry = { level: 'info' | 'warn' | 'error'; msg: string } & Record<string, unknown>;

/** Options of {@link startWebhookServer}. Exactly one of `policyDir` and `loadPolicies` is required. */
export interface WebhookServerOptions {
  /** Directory of ClusterPolicy/Policy YAML (read recursively; other kinds ignored). */
  policyDir?: string;
  /** Custom policy source, instead of `policyDir`. */
  loadPolicies?: () => Promise<readonly KyvernoPolicy[]>;
  /** Reload the policies when `policyDir` changes (debounced); a failed reload keeps the previous policies. */
  watch?: boolean;
  /** The Notary verifier the engine calls (see `notationImageVerifier`). */
  verifier: NotaryImageVerifier;
  /** PEM server certificate (chain) and private key. */
  tls: { cert: string | Uint8Array; key: string | Uint8Array };
  /** Default 9443; 0 picks a free port. */
  port?: number;
  /** Default `0.0.0.0`. */
  address?: string;
  /**
   * Deadline for answering one review in ms (default 8000). When the API server passes its own
   * budget (`?timeout=10s`), the deadline is the smaller of this and 90% of that budget. At the
   * deadline verification is aborted and the request is answered by failurePolicy.
   */
  timeoutMs?: number;
  /** Request body cap in bytes (default 8 MiB); larger bodies get 413. */
  maxBodyBytes?: number;
  /** Engine options besides policies and verifier (cache, imageConfig, contextLoader, …). */
  engine?: Omit<KyvernoEngineOptions, 'policies' | 'verifier'>;
  /** Namespace labels and RBAC roles for match blocks (see `handleAdmissionReview`). */
  admission?: Omit<AdmissionOptions, 'signal'>;
  /** Structured log sink (decisions, reloads, errors); default: none. */
  log?: (entry: WebhookLogEntry) => void;
  /** How long `close()` waits for in-flight reviews before cutting connections (default timeoutMs + 2000). */
  shutdownTimeoutMs?: number;
}

/** A running webhook server. */
export interface WebhookServer {
  /** Where it listens. */
  readonly address: { host: string; port: number; url: string };
  /** Resolves once the first policy load succeeded (readyz turns 200); rejects when it failed. */
  readonly ready: Promise<void>;
  /** Whether policies are loaded and the server is not shutting down. */
  isReady(): boolean;
  /** Policies in use. */
  policies(): readonly KyvernoPolicy[];
  /** Reload policies now; on failure the previous policies stay in use and the error is thrown. */
  reload(): Promise<void>;
  /** Reviews being answered right now. */
  inFlight(): number;
  /** Stop accepting, let in-flight reviews finish (bounded), then close every connection. */
  close(): Promise<void>;
}

const ADMISSION_PATHS = new Set(['/', '/mutate', '/validate']);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses a Go duration as the API server writes it in `?timeout=` (`10s`, `1m30s`, `500ms`); undefined when absent/invalid. */
export function parseGoDuration(s: string | null): number | undefined {
  if (!s) return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const n = Number(m[1]);
    total += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    matched = re.lastIndex;
  }
  return matched === s.length && total > 0 ? total : undefined;
}

/** The deadline of one review: `timeoutMs`, or 90% of the API server's own budget when that is smaller. */
export function reviewDeadlineMs(timeoutMs: number, apiServerBudgetMs: number | undefined): number {
  if (apiServerBudgetMs === undefined) return timeoutMs;
  return Math.max(1, Math.min(timeoutMs, Math.floor(apiServerBudgetMs * 0.9)));
}

function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > max) {
      reject(new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${max} bytes`));
      req.resume();
      return;
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Uint8Array) => {
      if (failed) return;
      size += c.length;
      if (size > max) {
        failed = true;
        reject(new HttpError(413, `request body exceeds the limit of ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (failed) return;
      const out = new Uint8Array(size);
      let off = 0;
      for (const c of chunks) {
        out.set(c, off);
        off += c.length;
      }
      resolve(out);
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
  });
}

const pemInput = (v: string | Uint8Array): string | Buffer => (typeof v === 'string' ? v : Buffer.from(v));

function failurePolicyOf(engine: KyvernoEngine | undefined): 'Fail' | 'Ignore' {
  if (!engine || engine.policies.length === 0) return 'Fail';
  return engine.policies.every((p) => policyFailurePolicy(p) === 'Ignore') ? 'Ignore' : 'Fail';
}

/**
 * Starts the webhook: listens on HTTPS at once (healthz 200), loads the policies (readyz 200
 * when loaded; see {@link WebhookServer.ready}), and serves AdmissionReview v1 at `/mutate`
 * (verify images, digest patch), `/validate` (same evaluation, answered without a patch) and `/`.
 * Throws ERR_INVALID_ARGUMENT for bad options and ERR_IO when it cannot listen.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  if (!options?.verifier || !options.tls) throw new VouchError('ERR_INVALID_ARGUMENT', 'startWebhookServer needs verifier and tls');
  if ((options.policyDir === undefined) === (options.loadPolicies === undefined)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'startWebhookServer needs exactly one of policyDir and loadPolicies');
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new VouchError('ERR_INVALID_ARGUMENT', `timeoutMs must be positive, got ${timeoutMs}`);
  if (!Number.isFinite(maxBody) || maxBody <= 0)
    throw new VouchError('ERR_INVALID_ARGUMENT', `maxBodyBytes must be positive, got ${maxBody}`);
  const log = options.log ?? (() => {});
  const load = options.loadPolicies ?? (() => loadPolicyDir(options.policyDir!));
  let engine: KyvernoEngine | undefined;
  let closing = false;
  const inflight = new Set<Promise<unknown>>();
  const sockets = new Set<Socket>();

  const server: Server = createServer(
    { cert: pemInput(options.tls.cert), key: pemInput(options.tls.key), minVersion: 'TLSv1.2' },
    (req, res) => {
      const p = handle(req, res).catch((e) => {
        log({ level: 'error', msg: 'request failed', error: e instanceof Error ? e.message : String(e) });
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
        else res.destroy();
      });
      inflight.add(p);
      p.finally(() => inflight.delete(p));
    },
  );
  server.requestTimeout = timeoutMs + 10_000;
  server.headersTimeout = Math.min(server.requestTimeout, 60_000);
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', (e) => log({ level: 'warn', msg: 'TLS handshake failed', error: e.message }));

  function send(res: ServerResponse, status: number, body: unknown): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      'content-length': Buffer.byteLength(text),
    };
    if (closing) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://webhook');
    const method = req.method ?? 'GET';
    if (url.pathname === '/healthz' || url.pathname === '/livez') {
      return send(res, 200, 'ok');
    }
    if (url.pathname === '/readyz') {
      const ok = engine !== undefined && !closing;
      return send(res, ok ? 200 : 503, ok ? 'ok' : closing ? 'shutting down' : 'policies not loaded');
    }
    if (!ADMISSION_PATHS.has(url.pathname)) return send(res, 404, { error: `no such endpoint ${url.pathname}` });
    if (method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(res, 405, { error: `${method} is not allowed on ${url.pathname}: POST an AdmissionReview` });
    }
    const started = Date.now();
    const ctype = String(req.headers['content-type'] ?? 'application/json');
    let body: Uint8Array;
    try {
      if (!/^application\/(json|[\w.+-]*\+json)\b/i.test(ctype)) throw new HttpError(415, `content type ${ctype} is not JSON`);
      body = await readBody(req, maxBody);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : 400;
      log({ level: 'warn', msg: 'bad request', path: url.pathname, status, error: (e as Error).message });
      send(res, status, { error: (e as Error).message });
      if (status === 413) req.destroy();
      return;
    }
    let review: AdmissionReview;
    try {
      review = JSON.parse(Buffer.from(body).toString('utf8')) as AdmissionReview;
      if (review?.kind !== 'AdmissionReview' || !review.request || typeof review.request.uid !== 'string') {
        throw new Error('expected an AdmissionReview (admission.k8s.io/v1) with request.uid');
      }
    } catch (e) {
      log({ level: 'warn', msg: 'bad request', path: url.pathname, status: 400, error: (e as Error).message });
      return send(res, 400, { error: `malformed AdmissionReview: ${(e as Error).message}` });
    }
    const current = engine;
    const deadline = reviewDeadlineMs(timeoutMs, parseGoDuration(url.searchParams.get('timeout')));
    const answer = await decide(review, current, deadline);
    const out = answer.review;
    if (url.pathname === '/validate' && out.response) {
      delete out.response.patch;
      delete out.response.patchType;
    }
    send(res, 200, out);
    const r = review.request!;
    log({
      level: 'info',
      msg: 'admission decision',
      path: url.pathname,
      uid: r.uid,
      operation: r.operation,
      kind: r.kind?.kind ?? (r.object as { kind?: string } | null | undefined)?.kind,
      namespace: r.namespace,
      name: r.name || (r.object as { metadata?: { name?: string } } | null | undefined)?.metadata?.name,
      allowed: out.response?.allowed,
      patched: !!out.response?.patch,
      warnings: out.response?.warnings?.length ?? 0,
      ...(out.response?.allowed ? {} : { message: out.response?.status?.message }),
      ...(answer.timedOut ? { timedOut: true, deadlineMs: deadline } : {}),
      durationMs: Date.now() - started,
    });
  }

  /** Evaluate within `deadlineMs`: verification is aborted shortly before it; at it, failurePolicy answers. */
  async function decide(
    review: AdmissionReview,
    current: KyvernoEngine | undefined,
    deadlineMs: number,
  ): Promise<{ review: AdmissionReview; timedOut: boolean }> {
    const uid = review.request!.uid;
    const apiVersion = review.apiVersion || 'admission.k8s.io/v1';
    const byFailurePolicy = (reason: string): AdmissionReview => {
      const fp = failurePolicyOf(current);
      const message = `vouch could not evaluate the request: ${reason} (failurePolicy ${fp})`;
      return {
        apiVersion,
        kind: 'AdmissionReview',
        response:
          fp === 'Ignore' ? { uid, allowed: true, warnings: [message] } : { uid, allowed: false, status: { status: 'Failure', message } },
      };
    };
    if (!current) return { review: byFailurePolicy('policies are not loaded yet'), timedOut: false };
    const controller = new AbortController();
    // abort verification a little before the deadline so the engine can answer with its own messages
    const grace = Math.min(250, Math.floor(deadlineMs / 5));
    const abortTimer = setTimeout(
      () => controller.abort(new VouchError('ERR_TIMEOUT', `webhook deadline of ${deadlineMs} ms reached`)),
      deadlineMs - grace,
    );
    let hardTimer: ReturnType<typeof setTimeout> | undefined;
    const hard = new Promise<'deadline'>((resolve) => {
      hardTimer = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    try {
      const work = handleAdmissionReview(review, current, { ...(options.admission ?? {}), signal: controller.signal });
      work.catch(() => {});
      const r = await Promise.race([work, hard]);
      if (r === 'deadline') {
        controller.abort();
        return { review: byFailurePolicy(`the webhook deadline of ${deadlineMs} ms was reached`), timedOut: true };
      }
      return { review: r, timedOut: controller.signal.aborted };
    } catch (e) {
      return { review: byFailurePolicy(e instanceof Error ? e.message : String(e)), timedOut: false };
    } finally {
      clearTimeout(abortTimer);
      clearTimeout(hardTimer);
    }
  }

  async function reload(): Promise<void> {
    const policies = await load();
    engine = createKyvernoEngine({ ...(options.engine ?? {}), policies, verifier: options.verifier });
    log({ level: 'info', msg: 'policies loaded', count: policies.length, policies: policies.map((p) => p.metadata.name) });
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) =>
      reject(
        new VouchError('ERR_IO', `cannot listen on ${options.address ?? '0.0.0.0'}:${options.port ?? 9443}: ${e.message}`, { cause: e }),
      );
    server.once('error', onError);
    server.listen(options.port ?? 9443, options.address ?? '0.0.0.0', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const address = { host: addr.address, port: addr.port, url: `https://${host}:${addr.port}` };
  log({ level: 'info', msg: 'listening', address: address.url, timeoutMs, maxBodyBytes: maxBody });

  const ready = reload();
  ready.catch((e) => log({ level: 'error', msg: 'policies could not be loaded', error: e instanceof Error ? e.message : String(e) }));

  let watcher: FSWatcher | undefined;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  if (options.watch && options.policyDir) {
    try {
      watcher = watch(options.policyDir, { recursive: true }, () => {
        clearTimeout(debounce);
        debounce = setTimeout(() => {
          reload().catch((e) =>
            log({
              level: 'error',
              msg: 'policy reload failed; keeping the previous policies',
              error: e instanceof Error ? e.message : String(e),
            }),
          );
        }, 200);
      });
      watcher.on('error', (e) => log({ level: 'warn', msg: 'policy directory watch failed', error: e.message }));
    } catch (e) {
      log({ level: 'warn', msg: 'cannot watch the policy directory', error: (e as Error).message });
    }
  }

  let closed: Promise<void> | undefined;
  function close(): Promise<void> {
    closed ??= (async () => {
      closing = true;
      watcher?.close();
      clearTimeout(debounce);
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const limit = options.shutdownTimeoutMs ?? timeoutMs + 2000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const drained = await Promise.race([
        Promise.allSettled([...inflight]).then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), limit);
        }),
      ]);
      clearTimeout(timer);
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await serverClosed;
      log({ level: 'info', msg: 'stopped', drained });
    })();
    return closed;
  }

  return {
    address,
    ready,
    isReady: () => engine !== undefined && !closing,
    policies: () => engine?.policies ?? [],
    reload,
    inFlight: () => inflight.size,
    close,
  };
}
