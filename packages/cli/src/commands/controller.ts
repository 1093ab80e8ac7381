import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VouchError } from '@vouch/core';
import { kubeClient, loadKubeConfig, rateLimitedFetch, startController, tokenBucket } from '@vouch/node/controller';
import type { Command } from 'commander';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { act, collect, portNumber, positiveInt, terminationSignal } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { cliImageVerifiers, parseOciLayoutMap } from '../kyverno/images.js';

const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** A duration flag: `90s`, `30m`, `1h`, `1h30m`, `500ms` (a bare number is seconds). */
export function parseDuration(value: unknown, flag: string): number {
  const s = String(value).trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    end = re.lastIndex;
  }
  if (end !== s.length || s === '') throw new UsageError(`${flag} value ${s} is not a duration (write e.g. 90s, 30m, 1h)`);
  return total;
}

/**
 * `vouch controller`: the background scanner of cluster mode. Reads ClusterPolicies and Policies from
 * the cluster, re-verifies the images of running workloads and writes PolicyReports; several replicas
 * elect one active scanner through a Lease. Serves Prometheus metrics and health on `--metrics-port`.
 * Runs until SIGTERM or SIGINT, then gives the Lease up and exits 0. Logs JSON lines on stdout.
 */
export function registerController(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('controller')
    .description(
      "Scan running workloads in the background: verify their images against the cluster's Kyverno verifyImages (type Notary) policies and write wgpolicyk8s.io PolicyReports",
    )
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster configuration, then KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--namespace <namespace>', "namespace of the leader-election Lease (default: the pod's namespace, else default)")
    .option('--lease-name <name>', 'name of the leader-election Lease', 'vouch-controller')
    .option('--identity <id>', 'identity of this replica in the Lease (default: POD_NAME, else the host name plus a random suffix)')
    .option('--scan-interval <duration>', 'full re-verification of every workload (0 turns the schedule off)', '1h')
    .option('--cache-ttl <duration>', 'how long a verification result is trusted before its images are verified again', '1h')
    .option('--registry-qps <n>', 'registry requests per second at most (the registry request budget)', '20')
    .option('--registry-burst <n>', 'registry requests that may be sent at once after an idle period', '40')
    .option('--report-writes-per-second <n>', 'PolicyReport writes per second at most', '10')
    .option('--concurrency <n>', 'workloads evaluated concurrently', '16')
    .option('--page-size <n>', 'items per list page', '500')
    .option('--metrics-port <port>', 'port of the metrics and health endpoints (GET /metrics, /healthz, /readyz)', '8080')
    .option('--metrics-address <address>', 'address of the metrics and health endpoints', '0.0.0.0')
    .option('--insecure-registry <host:port>', 'use plain HTTP for this registry (repeatable)', collect)
    .option(
      '--oci-layout-map <ref=path>',
      'resolve an image repository (or one reference) from an OCI image layout directory (repeatable)',
      collect,
    );
  act(cmd, ctx, async (_args, opts) => {
    const env = ctx.io.env ?? process.env;
    const scanIntervalMs = parseDuration(opts.scanInterval, '--scan-interval');
    const cacheTtlMs = parseDuration(opts.cacheTtl, '--cache-ttl');
    if (cacheTtlMs <= 0) throw new UsageError('--cache-ttl must be longer than 0');
    const qps = positiveInt(opts.registryQps, '--registry-qps')!;
    const burst = positiveInt(opts.registryBurst, '--registry-burst')!;
    const writes = positiveInt(opts.reportWritesPerSecond, '--report-writes-per-second')!;
    const namespace =
      (opts.namespace as string | undefined) ??
      env.POD_NAMESPACE ??
      (existsSync(SA_NAMESPACE) ? readFileSync(SA_NAMESPACE, 'utf8').trim() : undefined) ??
      'default';
    const kc = loadKubeConfig({
      ...(opts.kubeconfig ? { kubeconfig: ctx.resolvePath(String(opts.kubeconfig)) } : {}),
      ...(opts.context ? { context: String(opts.context) } : {}),
    });
    const budget = tokenBucket(qps, burst);
    const { verifier, cosignVerifier } = cliImageVerifiers(ctx, {
      insecureRegistries: (opts.insecureRegistry as string[] | undefined) ?? [],
      layouts: parseOciLayoutMap(ctx, opts.ociLayoutMap as string[] | undefined),
      wrapFetch: (f) => rateLimitedFetch(f, budget),
    });
    const log = (entry: Record<string, unknown>) => {
      ctx.stdout.write(`${JSON.stringify({ time: ctx.now().toISOString(), ...entry })}\n`);
    };
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });

    const termination = terminationSignal();
    const controller = startController({
      kube: kubeClient(kc),
      verifier,
      engine: { cosignVerifier },
      namespace,
      leaseName: String(opts.leaseName),
      ...(opts.identity || env.POD_NAME ? { identity: String(opts.identity ?? `${env.POD_NAME}`) } : {}),
      scanIntervalMs,
      cacheTtlMs,
      reportWritesPerSecond: writes,
      concurrency: positiveInt(opts.concurrency, '--concurrency')!,
      pageSize: positiveInt(opts.pageSize, '--page-size')!,
      metricsRegistry: registry,
      log,
    });
    let ready = false;
    controller.policies.ready.then(
      () => {
        ready = true;
        log({ level: 'info', msg: 'policies loaded', count: controller.policies.current().length });
      },
      (e) => log({ level: 'error', msg: 'policies could not be read; retrying', error: e instanceof Error ? e.message : String(e) }),
    );
    // read later after all (RBAC fixed, CRDs installed): ready from then on
    controller.policies.onChange(() => {
      ready = true;
    });
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/metrics') {
        registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': registry.contentType });
            res.end(text);
          },
          (e) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(String(e));
          },
        );
        return;
      }
      if (req.method === 'GET' && (path === '/healthz' || path === '/readyz')) {
        const ok = path === '/healthz' || ready;
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
        res.end(ok ? 'ok' : 'policies not loaded');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e) =>
          reject(new VouchError('ERR_IO', `cannot listen on ${opts.metricsAddress}:${opts.metricsPort}: ${e.message}`, { cause: e })),
        );
        server.listen(portNumber(opts.metricsPort, '--metrics-port'), String(opts.metricsAddress), () => resolve());
      });
      const a = server.address() as AddressInfo;
      log({
        level: 'info',
        msg: 'controller started',
        identity: controller.identity,
        namespace,
        lease: opts.leaseName,
        metrics: `http://${a.address}:${a.port}/metrics`,
        scanIntervalMs,
        cacheTtlMs,
        registryQps: qps,
        reportWritesPerSecond: writes,
      });
      const signal = await termination.stopped;
      log({ level: 'info', msg: 'shutting down', signal });
    } finally {
      termination.dispose();
      await controller.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    }
  });
}
