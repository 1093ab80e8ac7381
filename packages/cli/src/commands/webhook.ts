import { type Controller, clusterPolicySource, kubeClient, type PolicySource } from '@vouch/node/controller';
import type { Command } from 'commander';
import { act, collect, portNumber, positiveInt, required, terminationSignal } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { cliImageVerifiers, parseOciLayoutMap, readTrustedRoot, SERVICE_CREDENTIAL_HELPER_TIMEOUT_MS } from '../kyverno/images.js';
import { batchedLines, jsonLogLine } from '../stdio.js';
import { createMetricsRegistry, type MetricsServer, registerWebhookMetrics, startMetricsServer } from '../webhook/metrics.js';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_IMAGES_PER_REVIEW,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_READ_TIMEOUT_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  startWebhookServer,
  type WebhookLogEntry,
} from '../webhook/server.js';
import { webhookTransport } from '../webhook/transport.js';
import { addKubeOptions, addScannerOptions, kubeConfigFrom, startScanner } from './controller.js';

function nonNegativeInt(value: unknown, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || !Number.isSafeInteger(n)) throw new UsageError(`${flag} value ${String(value)} must be a number ≥ 0`);
  return n;
}

/**
 * `vouch webhook`: the Kyverno-compatible admission webhook over HTTPS. Runs until SIGTERM or
 * SIGINT, then turns not ready, finishes in-flight reviews and exits 0. Logs JSON lines on stdout.
 */
export function registerWebhook(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('webhook')
    .description(
      'Serve Kyverno verifyImages (types Notary, Cosign, SigstoreBundle) admission over HTTPS: POST /mutate, /validate (AdmissionReview v1), GET /healthz, /readyz; Prometheus metrics on --metrics-port',
    )
    .option('--policies <dir>', 'directory of ClusterPolicy/Policy YAML files (read recursively); an empty or invalid set is not served')
    .option(
      '--policies-from <source>',
      "cluster: read the cluster's ClusterPolicies and Policies instead of --policies (watched; one that cannot be used fails closed)",
    )
    .option('--tls-cert <file>', 'PEM server certificate (chain); reloaded when the file changes')
    .option('--tls-key <file>', 'PEM server private key; reloaded when the file changes')
    .option('--port <port>', 'port to listen on', '9443')
    .option('--address <address>', 'address to listen on', '0.0.0.0')
    .option(
      '--timeout-ms <ms>',
      "deadline for one review, below the webhook configuration's timeoutSeconds; reached: answered by failurePolicy",
      String(DEFAULT_WEBHOOK_TIMEOUT_MS),
    )
    .option('--max-body-bytes <n>', 'request body limit (larger: 413)', String(DEFAULT_MAX_BODY_BYTES))
    .option(
      '--read-timeout-ms <ms>',
      'time a client has to send the request headers and body (slower: 408)',
      String(DEFAULT_READ_TIMEOUT_MS),
    )
    .option('--max-in-flight <n>', 'reviews evaluated at once; more are answered by failurePolicy at once', String(DEFAULT_MAX_IN_FLIGHT))
    .option(
      '--max-images-per-review <n>',
      'distinct images one request may carry; more: denied without evaluation',
      String(DEFAULT_MAX_IMAGES_PER_REVIEW),
    )
    .option('--registry-concurrency <n>', 'requests in flight per registry (more wait, up to 16 times as many)', '16')
    .option(
      '--watch',
      'reload the --policies directory when it changes (a bad set is not applied); start not ready if the first load fails',
    )
    .option('--metrics-port <port>', 'serve Prometheus metrics over HTTP at /metrics on this port (default: off)')
    .option('--metrics-address <address>', 'address for the metrics port (default: --address)')
    .option('--shutdown-delay-ms <ms>', 'on SIGTERM, keep serving this long after readiness turns false', '0')
    .option('--insecure-registry <host:port>', 'use plain HTTP for this registry (repeatable)', collect)
    .option(
      '--oci-layout-map <ref=path>',
      'resolve an image repository (or one reference) from an OCI image layout directory (repeatable)',
      collect,
    )
    .option(
      '--trusted-root <file>',
      'Sigstore trusted_root.json for Cosign attestors whose policy names no rekor.pubkey, ctlog.pubkey or keyless.roots (never fetched)',
    )
    .option(
      '--controller',
      'with --policies-from cluster: run the background scanner (vouch controller) in this process too, sharing the policies and the metrics endpoint',
    );
  addKubeOptions(cmd, ' (with --policies-from cluster)');
  addScannerOptions(cmd, ' (with --controller)');
  act(cmd, ctx, async (_args, opts) => {
    const fromCluster = policiesFromCluster(opts);
    const policyDir = fromCluster ? undefined : ctx.resolvePath(String(opts.policies));
    const certFile = ctx.resolvePath(required(opts.tlsCert, 'tls-cert'));
    const keyFile = ctx.resolvePath(required(opts.tlsKey, 'tls-key'));
    const timeoutMs = positiveInt(opts.timeoutMs, '--timeout-ms')!;
    const maxBodyBytes = positiveInt(opts.maxBodyBytes, '--max-body-bytes')!;
    const readTimeoutMs = positiveInt(opts.readTimeoutMs, '--read-timeout-ms')!;
    const maxInFlight = positiveInt(opts.maxInFlight, '--max-in-flight')!;
    const maxImagesPerReview = positiveInt(opts.maxImagesPerReview, '--max-images-per-review')!;
    const registryConcurrency = positiveInt(opts.registryConcurrency, '--registry-concurrency')!;
    const shutdownDelayMs = nonNegativeInt(opts.shutdownDelayMs, '--shutdown-delay-ms');
    const listenPort = portNumber(opts.port, '--port');
    const metricsPort = opts.metricsPort === undefined ? undefined : portNumber(opts.metricsPort, '--metrics-port');
    // a line per review: written a turn of the event loop at a time, and on exit whatever waits
    const lines = batchedLines(ctx.stdout);
    const log = (entry: WebhookLogEntry) => lines.write(jsonLogLine(ctx.now(), entry));
    const registry = metricsPort === undefined ? undefined : createMetricsRegistry();
    const metrics = registry ? registerWebhookMetrics(registry) : undefined;
    const transport = webhookTransport(ctx, { maxConcurrent: registryConcurrency, metrics });
    const trustedRoot = readTrustedRoot(ctx, opts.trustedRoot as string | undefined);
    const { verifier, cosignVerifier } = cliImageVerifiers(ctx, {
      // a service must not wait forever on a credential helper
      credentialHelperTimeoutMs: SERVICE_CREDENTIAL_HELPER_TIMEOUT_MS,
      insecureRegistries: (opts.insecureRegistry as string[] | undefined) ?? [],
      layouts: parseOciLayoutMap(ctx, opts.ociLayoutMap as string[] | undefined),
      registryTimeoutMs: timeoutMs,
      fetch: transport.fetch,
      // a registry asking for a longer pause than a review can wait fails at once (the guard then holds off for it)
      retry: { retries: 2, maxRetryAfterMs: Math.floor(timeoutMs / 4) },
      ...(trustedRoot ? { trustedRoot } : {}),
    });
    // Signals are listened for before anything starts, so a SIGTERM during startup still shuts down cleanly.
    const termination = terminationSignal();
    let metricsServer: MetricsServer | undefined;
    let policySource: PolicySource | undefined;
    let controller: Controller | undefined;
    process.once('exit', lines.flush);
    try {
      if (fromCluster) {
        const kc = kubeConfigFrom(ctx, opts);
        policySource = clusterPolicySource({ kube: kubeClient(kc) });
        if (opts.controller) {
          const scanner = startScanner(ctx, opts, {
            kc,
            log,
            metricsRegistry: registry,
            policies: policySource,
            ...(trustedRoot ? { trustedRoot } : {}),
          });
          controller = scanner.controller;
          log({ level: 'info', msg: 'controller started', identity: controller.identity, ...scanner.settings });
        }
      }
      const server = await startWebhookServer({
        ...(policySource ? { policySource } : { policyDir: policyDir!, watch: !!opts.watch }),
        verifier,
        engine: { cosignVerifier },
        tls: { certFile, keyFile },
        port: listenPort,
        address: String(opts.address),
        timeoutMs,
        maxBodyBytes,
        readTimeoutMs,
        maxInFlight,
        maxImagesPerReview,
        shutdownDelayMs,
        log,
        ...(metrics ? { metrics } : {}),
      });
      try {
        if (registry && metricsPort !== undefined) {
          metricsServer = await startMetricsServer({
            registry,
            port: metricsPort,
            address: String(opts.metricsAddress ?? opts.address),
          });
          log({ level: 'info', msg: 'metrics listening', address: metricsServer.address.url });
        }
        const signal = await termination.stopped;
        log({ level: 'info', msg: 'shutting down', signal });
      } finally {
        // the scanner finishes its report writes and gives its Lease up while the webhook drains
        await Promise.all([server.close(), controller?.close()]);
        controller = undefined;
      }
    } finally {
      await controller?.close();
      policySource?.close();
      await metricsServer?.close();
      termination.dispose();
      lines.flush();
      process.off('exit', lines.flush);
    }
  });
}

/** Whether the policies come from the cluster: exactly one of `--policies` and `--policies-from cluster`. */
function policiesFromCluster(opts: Record<string, unknown>): boolean {
  const from = opts.policiesFrom as string | undefined;
  if (from !== undefined && from !== 'cluster') {
    throw new UsageError(
      `--policies-from value ${from} is not supported: write --policies-from cluster, or --policies DIR for a directory`,
    );
  }
  if (from && opts.policies !== undefined) {
    throw new UsageError('--policies and --policies-from cluster are exclusive: read the policies from a directory or from the cluster');
  }
  if (!from && opts.policies === undefined) {
    throw new UsageError('the policies are required: --policies DIR (a directory of ClusterPolicy/Policy YAML) or --policies-from cluster');
  }
  if (from && opts.watch) throw new UsageError("--watch applies to --policies: the cluster's policies are always watched");
  if (!from) {
    required(opts.policies, 'policies');
    for (const flag of ['kubeconfig', 'context', 'controller'] as const) {
      if (opts[flag] !== undefined) throw new UsageError(`--${flag} applies to --policies-from cluster, not to --policies`);
    }
  }
  return !!from;
}
