import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { nodeOciLayout } from '@vouch/node';
import { createRegistryClient, remoteRepository, type WritableRepository } from '@vouch/registry';
import type { Command } from 'commander';
import { act } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { renderHeader, renderStep, renderVerdict } from '../demo/render.js';
import { runDemo } from '../demo/story.js';
import { cliCredentials, cliFetch, readNotationConfigSync, usesPlainHttp } from '../registry.js';

/** Registry part of the demo's image references when it runs on OCI layouts. */
export const DEMO_LAYOUT_REGISTRY = 'registry.example.com';

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

/** The demo reaches loopback registries over plain HTTP; `verify` does so only for localhost:<port> (notation's rule). */
function insecureFlag(ctx: CliContext, registry: string): string {
  return LOOPBACK.test(registry) && !usesPlainHttp(registry, false, readNotationConfigSync(ctx)) ? '--insecure-registry ' : '';
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/**
 * `vouch demo [--dir DIR] [--keep] [--registry HOST:PORT]`: the end-to-end story (build, sign
 * with JWS and COSE, verify against a trust policy, Kyverno admission of signed, unsigned and
 * forged images), narrated step by step. Exit code 0 only when every step behaved as expected.
 */
export function registerDemo(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('demo')
    .description(
      'Run the end-to-end story: build an image, sign it (JWS and COSE), verify it against a trust policy, and let the Kyverno policy check-image-signature admit or deny Pods; then sign it with a cosign key too and judge Pods by a policy with a Notary and a Cosign rule. No services, no network (unless --registry)',
    )
    .option('--dir <dir>', 'directory for the demo files (OCI layouts, keys, trust policy, Kyverno policy); default: a temporary directory')
    .option('--keep', 'keep the temporary directory (always kept with --dir)')
    .option('--registry <host:port>', 'run the same story against this registry (plain HTTP for loopback addresses)');
  act(cmd, ctx, async (_args, opts) => {
    const registryHost = opts.registry as string | undefined;
    if (registryHost !== undefined && !HOST_PORT.test(registryHost)) {
      throw new UsageError(`--registry must be HOST or HOST:PORT (for example 127.0.0.1:5000), got "${registryHost}"`);
    }
    const given = opts.dir as string | undefined;
    const dir = given ? resolve(ctx.resolvePath(given)) : await mkdtemp(join(tmpdir(), 'vouch-demo-'));
    if (given) await mkdir(dir, { recursive: true });
    const keep = !!given || !!opts.keep;
    try {
      let openRepository: (path: string) => WritableRepository;
      let registry: string;
      if (registryHost) {
        registry = registryHost;
        const client = createRegistryClient({
          fetch: cliFetch(ctx),
          credentials: cliCredentials(ctx, registryHost, {}, readNotationConfigSync(ctx)),
          insecureRegistries: readNotationConfigSync(ctx).insecureRegistries ?? [],
          logger: ctx.logger(),
          userAgent: `vouch/${ctx.version}`,
          retry: { retries: 2 },
        });
        openRepository = (path) => remoteRepository(client, `${registryHost}/${path}`);
      } else {
        registry = DEMO_LAYOUT_REGISTRY;
        openRepository = (path) => nodeOciLayout(join(dir, 'layout', path));
      }
      const mode = registryHost ? 'registry' : 'oci-layout';
      ctx.out(renderHeader({ mode, registry, dir, store: join(dir, 'layout'), kept: keep }));
      const report = await runDemo({
        mode,
        registry,
        dir,
        openRepository,
        now: () => ctx.now(),
        onStep: (step, i, n) => ctx.out(renderStep(step, i, n)),
        // a temporary directory is removed at the end: name its files relative to it
        ...(keep ? {} : { displayPath: (p: string) => relative(dir, p) }),
      });
      if (ctx.json) {
        ctx.result({ ...report, dir: keep ? report.dir : null, kept: keep });
      } else {
        ctx.out(renderVerdict(report));
        if (keep) {
          const signed = report.images.signed;
          const tryIt =
            mode === 'oci-layout'
              ? `${ctx.programName} --config-dir ${join(dir, 'notation')} verify --oci-layout ${join(dir, 'layout', 'demo', 'app')}@${signed.digest} --scope ${registry}/demo/app`
              : `${ctx.programName} --config-dir ${join(dir, 'notation')} verify ${insecureFlag(ctx, registry)}${registry}/demo/app@${signed.digest}`;
          ctx.line(`\nFiles kept in ${dir}. Try it yourself:\n  ${tryIt}`);
        } else {
          ctx.line(`\nFiles were written to a temporary directory, now removed (pass --keep or --dir to keep them).`);
        }
      }
      if (!report.verdict.ok) ctx.exitCode = 1;
    } finally {
      if (!keep) await rm(dir, { recursive: true, force: true });
    }
  });
}
