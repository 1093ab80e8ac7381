import { existsSync, readFileSync } from 'node:fs';
import {
  type ControllerLogEntry,
  type ControllerOptions,
  kubeClient,
  loadKubeConfig,
  type PolicySource,
  rateLimitedFetch,
  startController,
  tokenBucket,
} from '@vouch/node/controller';
import type { TrustMaterial } from '@vouch/sigstore';
import type { Command } from 'commander';
import { act, collect, portNumber, positiveInt, terminationSignal } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { parseDurationFlag } from '../duration.js';
import { cliImageVerifiers, parseOciLayoutMap, SERVICE_CREDENTIAL_HELPER_TIMEOUT_MS } from '../kyverno/images.js';
import { jsonLogLine } from '../stdio.js';
import { createMetricsRegistry, type Registry, startMetricsServer } from '../webhook/metrics.js';

type KubeConfig = ReturnType<typeof loadKubeConfig>;

const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** `--kubeconfig` and `--context`: how `vouch controller` and `vouch webhook --policies-from cluster` reach the API server. */
export function addKubeOptions(cmd: Command, note = ''): Command {
  return cmd
    .option('--kubeconfig <file>', `kubeconfig file (default: in-cluster configuration, then KUBECONFIG, then ~/.kube/config)${note}`)
    .option('--context <name>', `kubeconfig context to use${note}`);
}

/** The kubeconfig the `--kubeconfig`/`--context` flags select. */
export function kubeConfigFrom(ctx: CliContext, opts: Record<string, unknown>): KubeConfig {
  return loadKubeConfig({
    ...(opts.kubeconfig ? { kubeconfig: ctx.resolvePath(String(opts.kubeconfig)) } : {}),
    ...(opts.context ? { context: String(opts.context) } : {}),
  });
}

/** The scanner's flags, shared by `vouch controller` and `vouch webhook --controller` (`note` is appended to each description). */
export function addScannerOptions(cmd: Command, note = ''): Command {
  return cmd
    .option('--namespace <namespace>', `namespace of the leader-election Lease (default: the pod's namespace, else default)${note}`)
    .option('--lease-name <name>', `name of the leader-election Lease${note}`, 'vouch-controller')
    .option('--identity <id>', `identity of this replica in the Lease (default: POD_NAME, else the host name plus a random suffix)${note}`)
    .option('--scan-interval <duration>', `full re-verification of every workload (0 turns the schedule off)${note}`, '1h')
    .option('--cache-ttl <duration>', `how long a verification result is trusted before its images are verified again${note}`, '1h')
    .option('--registry-qps <n>', `registry requests per second at most (the registry request budget)${note}`, '20')
    .option('--registry-burst <n>', `registry requests that may be sent at once after an idle period${note}`, '40')
    .option('--report-writes-per-second <n>', `PolicyReport writes per second at most${note}`, '10')
    .option('--concurrency <n>', `workloads evaluated concurrently${note}`, '16')
    .option('--page-size <n>', `items per list page${note}`, '500');
}

/** What `startScanner` needs besides the flags. */
interface ScannerContext {
  kc: KubeConfig;
  log: (entry: ControllerLogEntry) => void;
  metricsRegistry: Registry | undefined;
  /** The policy source to share (the webhook's); default: the controller reads its own. */
  policies?: PolicySource;
  trustedRoot?: TrustMaterial;
}

/**
 * Starts the background scanner from its flags (see {@link addScannerOptions}; `--insecure-registry`
 * and `--oci-layout-map` too): its own registry client under the request budget, metrics on the given
 * registry. Throws UsageError for a bad flag.
 */
export function startScanner(ctx: CliContext, opts: Record<string, unknown>, c: ScannerContext) {
  const env = ctx.io.env ?? process.env;
  const scanIntervalMs = parseDurationFlag(opts.scanInterval, '--scan-interval');
  const cacheTtlMs = parseDurationFlag(opts.cacheTtl, '--cache-ttl');
  if (cacheTtlMs <= 0) throw new UsageError('--cache-ttl must be longer than 0');
  const qps = positiveInt(opts.registryQps, '--registry-qps')!;
  const burst = positiveInt(opts.registryBurst, '--registry-burst')!;
  const writes = positiveInt(opts.reportWritesPerSecond, '--report-writes-per-second')!;
  const concurrency = positiveInt(opts.concurrency, '--concurrency')!;
  const pageSize = positiveInt(opts.pageSize, '--page-size')!;
  const namespace =
    (opts.namespace as string | undefined) ??
    env.POD_NAMESPACE ??
    (existsSync(SA_NAMESPACE) ? readFileSync(SA_NAMESPACE, 'utf8').trim() : undefined) ??
    'default';
  const budget = tokenBucket(qps, burst);
  const { verifier, cosignVerifier } = cliImageVerifiers(ctx, {
    // a service must not wait forever on a credential helper
    credentialHelperTimeoutMs: SERVICE_CREDENTIAL_HELPER_TIMEOUT_MS,
    insecureRegistries: (opts.insecureRegistry as string[] | undefined) ?? [],
    layouts: parseOciLayoutMap(ctx, opts.ociLayoutMap as string[] | undefined),
    wrapFetch: (f) => rateLimitedFetch(f, budget),
    ...(c.trustedRoot ? { trustedRoot: c.trustedRoot } : {}),
  });
  const options: ControllerOptions = {
    kube: kubeClient(c.kc),
    verifier,
    engine: { cosignVerifier },
    namespace,
    leaseName: String(opts.leaseName),
    ...(opts.identity || env.POD_NAME ? { identity: String(opts.identity ?? `${env.POD_NAME}`) } : {}),
    ...(c.policies ? { policies: c.policies } : {}),
    scanIntervalMs,
    cacheTtlMs,
    reportWritesPerSecond: writes,
    concurrency,
    pageSize,
    ...(c.metricsRegistry ? { metricsRegistry: c.metricsRegistry } : {}),
    log: c.log,
  };
  const controller = startController(options);
  return {
    controller,
    settings: { namespace, lease: String(opts.leaseName), scanIntervalMs, cacheTtlMs, registryQps: qps, reportWritesPerSecond: writes },
  };
}

/**
 * `vouch controller`: the background scanner of cluster mode. Reads ClusterPolicies and Policies from
 * the cluster, re-verifies the images of running workloads and writes PolicyReports; several replicas
 * elect one active scanner through a Lease. Serves Prometheus metrics and health on `--metrics-port`
 * (the metrics server of `vouch webhook`). Runs until SIGTERM or SIGINT, then gives the Lease up and
 * exits 0. Logs JSON lines on stdout.
 */
export function registerController(program: Command, ctx: CliContext): void {
  const cmd = addScannerOptions(
    addKubeOptions(
      program
        .command('controller')
        .description(
          "Scan running workloads in the background: verify their images against the cluster's Kyverno verifyImages policies and write wgpolicyk8s.io PolicyReports",
        ),
    ),
  )
    .option('--metrics-port <port>', 'port of the metrics and health endpoints (GET /metrics, /healthz, /readyz)', '8080')
    .option('--metrics-address <address>', 'address of the metrics and health endpoints', '0.0.0.0')
    .option('--insecure-registry <host:port>', 'use plain HTTP for this registry (repeatable)', collect)
    .option(
      '--oci-layout-map <ref=path>',
      'resolve an image repository (or one reference) from an OCI image layout directory (repeatable)',
      collect,
    );
  act(cmd, ctx, async (_args, opts) => {
    const metricsPort = portNumber(opts.metricsPort, '--metrics-port');
    const kc = kubeConfigFrom(ctx, opts);
    const log = (entry: Record<string, unknown>) => ctx.stdout.write(jsonLogLine(ctx.now(), entry));
    const registry = createMetricsRegistry();
    const termination = terminationSignal();
    const { controller, settings } = startScanner(ctx, opts, { kc, log, metricsRegistry: registry });
    let ready = false;
    controller.policies.ready.then(
      () => {
        ready = true;
        log({ level: 'info', msg: 'policies loaded', count: controller.policies.current().length });
      },
      (e) => log({ level: 'error', msg: 'policies could not be read; retrying', error: e instanceof Error ? e.message : String(e) }),
    );
    // read later after all (RBAC fixed, CRDs installed): ready from then on
    const readLater = () => {
      ready = true;
    };
    controller.policies.onChange(readLater);
    controller.policies.onProblems(readLater);
    try {
      const metrics = await startMetricsServer({
        registry,
        port: metricsPort,
        address: String(opts.metricsAddress),
        health: () => (ready ? { ready: true } : { ready: false, reason: 'policies not loaded' }),
      });
      try {
        log({ level: 'info', msg: 'controller started', identity: controller.identity, ...settings, metrics: metrics.address.url });
        const signal = await termination.stopped;
        log({ level: 'info', msg: 'shutting down', signal });
      } finally {
        await metrics.close();
      }
    } finally {
      termination.dispose();
      await controller.close();
    }
  });
}
