/**
 * Prometheus metrics of `vouch webhook` and `vouch controller` (prom-client), served on a port of
 * their own.
 *
 * The registry is shared: {@link createMetricsRegistry} makes one (with the standard process and
 * Node.js metrics, collected once per registry), each component registers its metrics on it — the
 * webhook with {@link registerWebhookMetrics}, the background scanner through `startController`'s
 * `metricsRegistry` — and {@link startMetricsServer} serves whatever is registered at `GET /metrics`,
 * so a process running both (`vouch webhook --controller`) has one endpoint.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VouchError } from '@vouch/core';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type { Registry } from 'prom-client';

/** A Prometheus registry with the default process and Node.js metrics (`process_*`, `nodejs_*`). */
export function createMetricsRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

/** Outcome label of a review: the engine's decision, or failurePolicy's when it could not decide in time. */
export type ReviewOutcome = 'allowed' | 'denied' | 'failure_policy_allowed' | 'failure_policy_denied' | 'rejected_input';

/** Why a review was answered by failurePolicy. */
export type FailurePolicyReason = 'deadline' | 'not_ready' | 'overloaded' | 'shutdown' | 'internal_error' | 'policy_unusable';

/** The webhook's instruments, registered on a shared registry by {@link registerWebhookMetrics}. */
export interface WebhookMetrics {
  readonly registry: Registry;
  /** Review latency (request body read to response written), by webhook path, operation and outcome. */
  readonly reviewDuration: Histogram<'webhook' | 'operation' | 'outcome'>;
  /** Reviews being evaluated. */
  readonly reviewsInFlight: Gauge;
  /** HTTP requests by path and status code (reviews, probes, errors). */
  readonly httpRequests: Counter<'path' | 'code'>;
  /** Image verifications by kind (signature/attestation/digest), result and verification-cache use. */
  readonly verifications: Counter<'kind' | 'result' | 'cache'>;
  /** Registry requests by registry and status (HTTP status, network_error, aborted, circuit_open, queue_full). */
  readonly registryRequests: Counter<'registry' | 'status'>;
  /** Registry request latency to the response headers. */
  readonly registryRequestDuration: Histogram<'registry'>;
  /** Answers given by failurePolicy rather than by a decision, by failurePolicy and reason. */
  readonly failurePolicyDecisions: Counter<'failure_policy' | 'reason'>;
  /** Generation of the policy set in use (1 for the first successful load, +1 per reload). */
  readonly policySetGeneration: Gauge;
  /** Policies in use. */
  readonly policies: Gauge;
  /** Policy loads and reloads, by result (success, error). */
  readonly policyLoads: Counter<'result'>;
  /** 1 when the last policy load or reload succeeded, 0 when it failed (the previous set stays in use). */
  readonly policyLastLoadSuccess: Gauge;
  /** 1 when the webhook reports ready. */
  readonly ready: Gauge;
  /** TLS certificate reloads, by result (success, error). */
  readonly tlsReloads: Counter<'result'>;
  /** Expiry (notAfter) of the serving certificate in use, in Unix seconds. */
  readonly tlsCertificateExpiry: Gauge;
  /**
   * Counting on the request path: kept in plain numbers and added to `httpRequests` and
   * `verifications` when those are collected (a scrape), so a review pays no label hashing per count.
   */
  readonly tally: {
    httpRequest(path: string, code: number): void;
    verification(kind: string, result: 'verified' | 'failed' | 'error', cache: 'hit' | 'miss' | 'coalesced'): void;
  };
}

/** Counts by label set, held until `flush` adds them to their counter (at collection). */
class PendingCounts<L extends string> {
  private readonly counts = new Map<string, { labels: Partial<Record<L, string>>; n: number }>();

  add(key: string, labels: () => Partial<Record<L, string>>): void {
    const known = this.counts.get(key);
    if (known) known.n++;
    else this.counts.set(key, { labels: labels(), n: 1 });
  }

  flush(counter: Counter<L>): void {
    for (const c of this.counts.values()) {
      if (c.n > 0) counter.inc(c.labels, c.n);
      c.n = 0;
    }
    // label sets are few (paths × codes, kinds × results × cache uses); a runaway set is dropped once flushed
    if (this.counts.size > 1024) this.counts.clear();
  }
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Registers the webhook's metrics (`vouch_webhook_*`) on `registry`. Call once per registry:
 * prom-client refuses a second registration of the same names.
 */
export function registerWebhookMetrics(registry: Registry): WebhookMetrics {
  const registers = [registry];
  const http = new PendingCounts<'path' | 'code'>();
  const verified = new PendingCounts<'kind' | 'result' | 'cache'>();
  return {
    tally: {
      httpRequest: (path, code) => http.add(`${path} ${code}`, () => ({ path, code: String(code) })),
      verification: (kind, result, cache) => verified.add(`${kind} ${result} ${cache}`, () => ({ kind, result, cache })),
    },
    registry,
    reviewDuration: new Histogram({
      name: 'vouch_webhook_review_duration_seconds',
      help: 'Time to answer an AdmissionReview, from the request body read to the response written.',
      labelNames: ['webhook', 'operation', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    reviewsInFlight: new Gauge({ name: 'vouch_webhook_reviews_in_flight', help: 'AdmissionReviews being evaluated.', registers }),
    httpRequests: new Counter({
      name: 'vouch_webhook_http_requests_total',
      help: 'HTTP requests answered, by path and status code.',
      labelNames: ['path', 'code'],
      registers,
      collect() {
        http.flush(this);
      },
    }),
    verifications: new Counter({
      name: 'vouch_webhook_verifications_total',
      help: 'Image verifications asked for by reviews, by kind (signature, attestation, digest), result (verified, failed, error) and cache (hit, miss, coalesced: joined one in flight).',
      labelNames: ['kind', 'result', 'cache'],
      registers,
      collect() {
        verified.flush(this);
      },
    }),
    registryRequests: new Counter({
      name: 'vouch_webhook_registry_requests_total',
      help: 'Registry requests, by registry and status (HTTP status code, network_error, aborted; circuit_open and queue_full: refused by the webhook without being sent).',
      labelNames: ['registry', 'status'],
      registers,
    }),
    registryRequestDuration: new Histogram({
      name: 'vouch_webhook_registry_request_duration_seconds',
      help: 'Registry request latency to the response headers.',
      labelNames: ['registry'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    failurePolicyDecisions: new Counter({
      name: 'vouch_webhook_failure_policy_decisions_total',
      help: 'Reviews answered by failurePolicy instead of a decision, by failurePolicy (Fail, Ignore) and reason (deadline, not_ready, overloaded, shutdown, internal_error; policy_unusable: a Policy of the namespace in the cluster cannot be used).',
      labelNames: ['failure_policy', 'reason'],
      registers,
    }),
    policySetGeneration: new Gauge({
      name: 'vouch_webhook_policy_set_generation',
      help: 'Generation of the policy set in use: 1 after the first successful load, +1 per successful reload; 0 before any.',
      registers,
    }),
    policies: new Gauge({ name: 'vouch_webhook_policies', help: 'Policies in the set in use.', registers }),
    policyLoads: new Counter({
      name: 'vouch_webhook_policy_loads_total',
      help: 'Policy loads and reloads, by result (success, error).',
      labelNames: ['result'],
      registers,
    }),
    policyLastLoadSuccess: new Gauge({
      name: 'vouch_webhook_policy_last_load_success',
      help: '1 when the last policy load or reload succeeded; 0 when it failed (the previous set, if any, stays in use).',
      registers,
    }),
    ready: new Gauge({ name: 'vouch_webhook_ready', help: '1 when /readyz answers 200.', registers }),
    tlsReloads: new Counter({
      name: 'vouch_webhook_tls_reloads_total',
      help: 'Serving certificate reloads after the files changed, by result (success, error: the previous pair stays in use).',
      labelNames: ['result'],
      registers,
    }),
    tlsCertificateExpiry: new Gauge({
      name: 'vouch_webhook_tls_certificate_expiry_timestamp_seconds',
      help: 'notAfter of the serving certificate in use, in Unix seconds.',
      registers,
    }),
  };
}

/** A running metrics endpoint. */
export interface MetricsServer {
  readonly address: { host: string; port: number; url: string };
  close(): Promise<void>;
}

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  registry: Registry;
  /** 0 picks a free port. */
  port: number;
  /** Default `0.0.0.0`. */
  address?: string;
  /**
   * Serve `GET /healthz` (200 while the process runs) and `/readyz` (200 when `health()` says ready,
   * else 503 with the reason) too: `vouch controller`, whose only port this is.
   */
  health?: () => { ready: boolean; reason?: string };
}

/**
 * Serves `registry` over plain HTTP at `GET /metrics` (Prometheus text format) on a port of its
 * own, apart from the admission port, so that scraping needs no client certificate trust and
 * admission traffic is never behind a scrape. Throws ERR_IO when it cannot listen.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry } = options;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    const health = options.health && (path === '/healthz' || path === '/readyz');
    if (health && req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${req.method} is not allowed on ${path}\n`);
      return;
    }
    if (health) {
      const h = path === '/healthz' ? { ready: true } : options.health!();
      const text = h.ready ? 'ok\n' : `not ready: ${h.reason ?? 'starting'}\n`;
      res.writeHead(h.ready ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`no such endpoint ${path}: metrics are at /metrics\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${req.method} is not allowed on /metrics\n`);
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`metrics could not be collected: ${e instanceof Error ? e.message : String(e)}\n`);
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  const host = options.address ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) =>
      reject(new VouchError('ERR_IO', `cannot listen for metrics on ${host}:${options.port}: ${e.message}`, { cause: e }));
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    address: { host: a.address, port: a.port, url: `http://${shown}:${a.port}/metrics` },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
