import { readFileSync } from 'node:fs';
import { VouchError } from '@vouch/core';
import type { Command } from 'commander';
import { act, collect, positiveInt, required } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { cliImageVerifiers, parseOciLayoutMap, readTrustedRoot } from '../kyverno/images.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_WEBHOOK_TIMEOUT_MS, startWebhookServer } from '../webhook/server.js';

function readPem(ctx: CliContext, path: string, flag: string): string {
  try {
    return readFileSync(ctx.resolvePath(path), 'utf8');
  } catch (e) {
    throw new VouchError('ERR_IO', `cannot read ${flag} ${path}: ${(e as Error).message}`, { cause: e, details: { path } });
  }
}

function port(value: unknown): number {
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n > 65535) throw new UsageError(`--port value ${String(value)} must be a port number (0-65535)`);
  return n;
}

/**
 * `vouch webhook`: the Kyverno-compatible admission webhook over HTTPS. Runs until SIGTERM or
 * SIGINT, then stops accepting, finishes in-flight reviews and exits 0. Logs JSON lines on stdout.
 */
export function registerWebhook(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('webhook')
    .description(
      'Serve Kyverno verifyImages (types Notary, Cosign, SigstoreBundle) admission over HTTPS: POST /mutate, /validate (AdmissionReview v1), GET /healthz, /readyz',
    )
    .option('--policies <dir>', 'directory of ClusterPolicy/Policy YAML files (read recursively)')
    .option('--tls-cert <file>', 'PEM server certificate (chain)')
    .option('--tls-key <file>', 'PEM server private key')
    .option('--port <port>', 'port to listen on', '9443')
    .option('--address <address>', 'address to listen on', '0.0.0.0')
    .option(
      '--timeout-ms <ms>',
      'deadline for one review, below the webhook timeout; reached: answered by failurePolicy',
      String(DEFAULT_WEBHOOK_TIMEOUT_MS),
    )
    .option('--max-body-bytes <n>', 'request body limit', String(DEFAULT_MAX_BODY_BYTES))
    .option('--watch', 'reload the policies when the directory changes')
    .option('--insecure-registry <host:port>', 'use plain HTTP for this registry (repeatable)', collect)
    .option(
      '--oci-layout-map <ref=path>',
      'resolve an image repository (or one reference) from an OCI image layout directory (repeatable)',
      collect,
    )
    .option(
      '--trusted-root <file>',
      'Sigstore trusted_root.json for Cosign attestors whose policy names no rekor.pubkey, ctlog.pubkey or keyless.roots (never fetched)',
    );
  act(cmd, ctx, async (_args, opts) => {
    const policyDir = ctx.resolvePath(required(opts.policies, 'policies'));
    const cert = readPem(ctx, required(opts.tlsCert, 'tls-cert'), '--tls-cert');
    const key = readPem(ctx, required(opts.tlsKey, 'tls-key'), '--tls-key');
    const timeoutMs = positiveInt(opts.timeoutMs, '--timeout-ms')!;
    const maxBodyBytes = positiveInt(opts.maxBodyBytes, '--max-body-bytes')!;
    const trustedRoot = readTrustedRoot(ctx, opts.trustedRoot as string | undefined);
    const { verifier, cosignVerifier } = cliImageVerifiers(ctx, {
      insecureRegistries: (opts.insecureRegistry as string[] | undefined) ?? [],
      layouts: parseOciLayoutMap(ctx, opts.ociLayoutMap as string[] | undefined),
      registryTimeoutMs: timeoutMs,
      ...(trustedRoot ? { trustedRoot } : {}),
    });
    const log = (entry: Record<string, unknown>) => {
      ctx.stdout.write(`${JSON.stringify({ time: ctx.now().toISOString(), ...entry })}\n`);
    };
    // Signals are listened for before anything starts, so a SIGTERM during startup still shuts down cleanly.
    let stop!: (signal: string) => void;
    const stopped = new Promise<string>((resolve) => {
      stop = resolve;
    });
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    try {
      const server = await startWebhookServer({
        policyDir,
        watch: !!opts.watch,
        verifier,
        engine: { cosignVerifier },
        tls: { cert, key },
        port: port(opts.port),
        address: String(opts.address),
        timeoutMs,
        maxBodyBytes,
        log,
      });
      try {
        const first = await Promise.race([server.ready.then(() => 'ready'), stopped]);
        if (first === 'ready') {
          const signal = await stopped;
          log({ level: 'info', msg: 'shutting down', signal });
        }
      } finally {
        await server.close();
      }
    } finally {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    }
  });
}
