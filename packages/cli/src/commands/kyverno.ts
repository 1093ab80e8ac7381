import type { KyvernoValues, RequestInfo } from '@vouch/kyverno';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { collect, commandPath, type Opts } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { renderApplyText, runApply } from '../kyverno/apply.js';
import { cliImageVerifier, parseOciLayoutMap } from '../kyverno/images.js';
import { loadObject, loadPolicies, loadResources } from '../kyverno/load.js';
import { findTestFiles, renderTestFile, runTestFile, TEST_FILE_NAME, type TestFileResult } from '../kyverno/test-runner.js';

type Format = 'text' | 'json' | 'yaml';

/**
 * Like `act`, but `--output` also accepts `yaml` (Kyverno's report formats). The context sees
 * `json` or `text` (yaml is printed by the verb itself).
 */
function actWithYaml(cmd: Command, ctx: CliContext, body: (args: unknown[], opts: Opts, format: Format) => Promise<void>): Command {
  return cmd.action(async (...a: unknown[]) => {
    const self = a[a.length - 1] as Command;
    const globals = self.optsWithGlobals();
    const format = String(globals.output ?? 'text').toLowerCase();
    ctx.commandPath = commandPath(self);
    if (format !== 'text' && format !== 'json' && format !== 'yaml') {
      throw new UsageError(`unrecognized output format "${String(globals.output)}": use text, json or yaml`);
    }
    ctx.globals = { ...globals, output: format === 'yaml' ? 'text' : format };
    await body(self.processedArgs, self.opts(), format);
  });
}

function addImageSourceOptions(cmd: Command): Command {
  return cmd
    .option('--insecure-registry <host:port>', 'use plain HTTP for this registry (repeatable)', collect)
    .option(
      '--oci-layout-map <ref=path>',
      'resolve an image repository (or one image reference) from an OCI image layout directory instead of its registry (repeatable)',
      collect,
    );
}

function imageVerifier(ctx: CliContext, opts: Opts) {
  return cliImageVerifier(ctx, {
    insecureRegistries: (opts.insecureRegistry as string[] | undefined) ?? [],
    layouts: parseOciLayoutMap(ctx, opts.ociLayoutMap as string[] | undefined),
  });
}

/** `vouch kyverno apply|test`: Kyverno verifyImages (type Notary) checks of manifests, offline-capable for GitOps CI. */
export function registerKyverno(program: Command, ctx: CliContext): void {
  const kyverno = program.command('kyverno').description('Evaluate Kyverno policies (verifyImages type Notary) against manifests');

  const apply = kyverno
    .command('apply')
    .description(
      'Apply Kyverno policies to resource manifests and print a policy report; exits 1 when an Enforce rule fails (or a rule errors under failurePolicy Fail). --output text|json|yaml',
    )
    .argument('<policies...>', 'policy files or directories (ClusterPolicy / Policy YAML)')
    .option('-r, --resource <path>', 'resource file or directory (repeatable)', collect)
    .option('-f, --values-file <file>', 'Kyverno Values file (cli.kyverno.io/v1alpha1 Values)')
    .option('-u, --userinfo <file>', 'Kyverno UserInfo file (roles, clusterRoles, userInfo) of the simulated request')
    .option('--audit-warn', 'report failures of Audit rules as warn');
  addImageSourceOptions(apply);
  actWithYaml(apply, ctx, async ([policyArgs], opts, format) => {
    const resourcesArg = (opts.resource as string[] | undefined) ?? [];
    if (resourcesArg.length === 0) throw new UsageError('required flag(s) "resource" not set: pass --resource FILE|DIR');
    const policies = loadPolicies(
      (policyArgs as string[]).map((p) => ctx.resolvePath(p)),
      ctx.cwd,
    );
    if (policies.length === 0) throw new UsageError(`no ClusterPolicy or Policy found in ${(policyArgs as string[]).join(', ')}`);
    const resources = loadResources(resourcesArg.map((p) => ctx.resolvePath(p)));
    const values = opts.valuesFile ? (loadObject(ctx.resolvePath(opts.valuesFile as string)) as KyvernoValues) : undefined;
    let requestInfo: RequestInfo | undefined;
    if (opts.userinfo) {
      const u = loadObject(ctx.resolvePath(opts.userinfo as string));
      requestInfo = {
        roles: u.roles as string[] | undefined,
        clusterRoles: u.clusterRoles as string[] | undefined,
        userInfo: u.userInfo as RequestInfo['userInfo'],
      };
    }
    const outcome = await runApply({
      policies,
      resources,
      verifier: imageVerifier(ctx, opts),
      ...(values ? { values } : {}),
      ...(requestInfo ? { requestInfo } : {}),
      auditWarn: !!opts.auditWarn,
      now: ctx.now(),
    });
    if (format === 'json') ctx.stdout.write(`${JSON.stringify(outcome.report, null, 2)}\n`);
    else if (format === 'yaml') ctx.stdout.write(stringify(outcome.report, { lineWidth: 0 }));
    else ctx.stdout.write(renderApplyText(outcome, resources.length));
    if (outcome.blocked) {
      const errors = outcome.report.summary.fail === 0 && outcome.report.summary.error > 0;
      ctx.stderr.write(`Error: exit as there are policy ${errors ? 'errors' : 'violations'}\n`);
      ctx.exitCode = 1;
    }
  });

  const test = kyverno
    .command('test')
    .description(`Run Kyverno CLI tests (${TEST_FILE_NAME} files, searched recursively); exits 1 when a test fails. --output text|json`)
    .argument('[path]', 'directory (searched recursively) or test file', '.')
    .option('--file-name <name>', 'test file name to look for', TEST_FILE_NAME)
    .option('--detailed-results', 'add the rule message to the table');
  addImageSourceOptions(test);
  actWithYaml(test, ctx, async ([pathArg], opts, format) => {
    const root = ctx.resolvePath((pathArg as string | undefined) ?? '.');
    const files = findTestFiles(root, (opts.fileName as string | undefined) ?? TEST_FILE_NAME);
    if (files.length === 0) throw new UsageError(`no ${opts.fileName ?? TEST_FILE_NAME} found under ${pathArg ?? '.'}`);
    const verifier = imageVerifier(ctx, opts);
    const results: TestFileResult[] = [];
    for (const f of files) {
      const r = await runTestFile(f, ctx.cwd, verifier);
      results.push(r);
      if (format === 'text') ctx.stdout.write(renderTestFile(r, !!opts.detailedResults));
    }
    const passed = results.reduce((n, r) => n + r.passed, 0);
    const failed = results.reduce((n, r) => n + r.failed, 0);
    const doc = { tests: results, passed, failed };
    if (format === 'json') ctx.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    else if (format === 'yaml') ctx.stdout.write(stringify(doc, { lineWidth: 0 }));
    else ctx.stdout.write(`Test Summary: ${passed} tests passed and ${failed} tests failed\n`);
    if (failed > 0) {
      ctx.stderr.write(`Error: ${failed} tests failed\n`);
      ctx.exitCode = 1;
    }
  });
}
