import { type Command, Option } from 'commander';
import { stringify } from 'yaml';
import { collect, commandPath, type Opts } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { kyvernoApply } from '../kyverno/apply-command.js';
import { cliImageVerifiers, parseOciLayoutMap, readTrustedRoot } from '../kyverno/images.js';
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
    )
    .option(
      '--trusted-root <file>',
      'Sigstore trusted_root.json for Cosign attestors whose policy names no rekor.pubkey, ctlog.pubkey or keyless.roots (Kyverno fetches the public-good ones over TUF; vouch never does)',
    );
}

function imageVerifiers(ctx: CliContext, opts: Opts) {
  const trustedRoot = readTrustedRoot(ctx, opts.trustedRoot as string | undefined);
  return cliImageVerifiers(ctx, {
    insecureRegistries: (opts.insecureRegistry as string[] | undefined) ?? [],
    layouts: parseOciLayoutMap(ctx, opts.ociLayoutMap as string[] | undefined),
    ...(trustedRoot ? { trustedRoot } : {}),
  });
}

/** Kyverno's string-slice flags: repeatable and comma-separated (`-r a.yaml,b.yaml -r c.yaml`). */
function slice(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').filter((v) => v !== '')];
}

/**
 * `kyverno apply`'s `-o, --output` is the path of the mutated resources, while vouch's global
 * `-o, --output` is the output format. After the `kyverno apply` verb, `-o`/`--output` mean
 * Kyverno's flag (rewritten here to the verb's own `--kyverno-output`); before the verb they keep
 * vouch's meaning. Call with the arguments after the program name.
 */
export function rewriteKyvernoArgv(argv: readonly string[]): string[] {
  const verb = argv.findIndex((a, i) => a === 'apply' && argv[i - 1] === 'kyverno');
  if (verb < 0) return [...argv];
  const out = argv.slice(0, verb + 1);
  for (let i = verb + 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a === '-o' || a === '--output') {
      const next = argv[i + 1];
      // a missing value is reported by the verb with pflag's words, not commander's internal flag name
      if (next === undefined || (next.startsWith('-') && next !== '-'))
        out.push(`--kyverno-output=${a === '-o' ? '\u0000o' : '\u0000output'}`);
      else out.push('--kyverno-output');
    } else if (a.startsWith('--output=')) out.push(`--kyverno-output=${a.slice('--output='.length)}`);
    else if (/^-o[^-]/.test(a)) out.push(`--kyverno-output=${a.slice(2)}`);
    else out.push(a);
  }
  return out;
}

/** `vouch kyverno apply|test`: Kyverno verifyImages (types Notary, Cosign, SigstoreBundle) checks of manifests, offline-capable for GitOps CI. */
export function registerKyverno(program: Command, ctx: CliContext): void {
  const kyverno = program
    .command('kyverno')
    .description('Evaluate Kyverno policies (verifyImages types Notary, Cosign and SigstoreBundle) against manifests');

  const apply = kyverno
    .command('apply')
    .description(
      "Apply Kyverno policies to resource manifests, with kyverno apply's flags and output; exits 1 when a rule fails or errors (see --warn-exit-code). vouch's own report: --vouch-output json|yaml",
    )
    .argument('<policies...>', 'policy files or directories (ClusterPolicy / Policy YAML)')
    .option('-r, --resource <path>', 'Path to resource files (repeatable, comma-separated)', slice)
    .option('--resources <path>', 'Path to resource files (same as --resource)', slice)
    .addOption(new Option('-o, --output <path>', 'Prints the mutated resources in provided file/directory'))
    .addOption(new Option('--kyverno-output <path>').hideHelp())
    .option('-u, --userinfo <file>', 'Admission Info including Roles, Cluster Roles and Subjects')
    .option('-s, --set <key=value>', 'Variables that are required (repeatable, comma-separated)', slice)
    .option('-f, --values-file <file>', 'File containing values for policy variables')
    .option('-p, --policy-report', 'Generates policy report when passed')
    .option('--output-format <format>', 'Specifies the policy report format (json or yaml)', 'yaml')
    .option('-t, --table', 'Show results in table format')
    .option('--detailed-results', 'If set to true, display detailed results')
    .option('--audit-warn', 'If set to true, will flag audit policies as warnings instead of failures')
    .option('--warn-exit-code <code>', 'Set the exit code for warnings; if failures or errors are found, will exit 1', '0')
    .option('--warn-no-pass', 'Specify if warning exit code should be raised if no objects satisfied a policy')
    .option('-e, --exception <path>', 'Policy exception to be considered when evaluating policies against resources', slice)
    .option('--exceptions <path>', 'Policy exception to be considered (same as --exception)', slice)
    .option('--exceptions-with-resources', 'Evaluate policy exceptions from the resources path')
    .option('--generate-exceptions', 'Generate policy exceptions for each violation')
    .option('--generated-exception-ttl <duration>', 'Default TTL for generated exceptions', '720h0m0s')
    .option('--continue-on-fail', 'Continue with the next resource when the policies cannot be applied to one')
    .option('-i, --stdin', 'Do not print the "Applying …" header (the output is piped)')
    .option('-c, --cluster', 'Not supported: vouch applies policies to manifest files only (offline)')
    .option('-b, --git-branch <branch>', 'Not supported: policies are read from local files only')
    .option('--target-resource <path>', 'Not supported: vouch does not evaluate mutate-existing rules', slice)
    .option('--target-resources <path>', 'Not supported: vouch does not evaluate mutate-existing rules', slice)
    .option('--json <path>', 'Not supported: JSON payloads (ValidatingPolicy) are not evaluated', slice)
    .option('--context-file <file>', 'Not supported: context data for CEL policies')
    .option('-n, --namespace <namespace>', 'With --cluster only (no effect)')
    .option('--kubeconfig <file>', 'With --cluster only (no effect)')
    .option('--context <name>', 'With --cluster only (no effect)')
    .option('--batch-size <n>', 'With --cluster only (no effect)')
    .option('--concurrent <n>', 'With --cluster only (no effect)')
    .option('--cluster-wide-resources', 'With --cluster only (no effect)')
    .option('--continue-on-error', 'With --cluster only (no effect)')
    .option('--show-performance', 'No effect')
    .option('--registry', 'No effect: registries are always reached with the credentials of notation and docker config')
    .option('--remove-color', 'No effect: vouch prints no colors')
    .option('--vouch-output <format>', "vouch's own output instead of Kyverno's: text, json or yaml (a merged PolicyReport)");
  addImageSourceOptions(apply);
  apply.action(async (...a: unknown[]) => {
    const self = a[a.length - 1] as Command;
    const opts = self.opts();
    const globals = self.optsWithGlobals();
    ctx.commandPath = commandPath(self);
    // vouch's format: --vouch-output, or the global -o given before the verb
    const fromGlobal = program.getOptionValueSource('output') === 'cli' ? String(globals.output) : undefined;
    const vouchFormat = String(opts.vouchOutput ?? fromGlobal ?? 'text').toLowerCase();
    if (!['text', 'json', 'yaml'].includes(vouchFormat)) {
      throw new UsageError(`unrecognized output format "${String(opts.vouchOutput ?? fromGlobal)}": use text, json or yaml`);
    }
    ctx.globals = { ...globals, output: vouchFormat === 'json' ? 'json' : 'text' };
    await kyvernoApply(ctx, self.processedArgs[0] as string[], opts, vouchFormat as 'text' | 'json' | 'yaml', () =>
      imageVerifiers(ctx, opts),
    );
  });
  const test = kyverno
    .command('test')
    .description(`Run Kyverno CLI tests (${TEST_FILE_NAME} files, searched recursively); exits 1 when a test fails. --output text|json`)
    .argument('[path]', 'directory (searched recursively) or test file', '.')
    .option('-f, --file-name <name>', 'test file name to look for', TEST_FILE_NAME)
    .option('--detailed-results', 'add the rule message to the table')
    .option('--registry', 'No effect: registries are always reached with the credentials of notation and docker config')
    .option('--remove-color', 'No effect: vouch prints no colors');
  addImageSourceOptions(test);
  actWithYaml(test, ctx, async ([pathArg], opts, format) => {
    const root = ctx.resolvePath((pathArg as string | undefined) ?? '.');
    const files = findTestFiles(root, (opts.fileName as string | undefined) ?? TEST_FILE_NAME);
    if (files.length === 0) throw new UsageError(`no ${opts.fileName ?? TEST_FILE_NAME} found under ${pathArg ?? '.'}`);
    const verifiers = imageVerifiers(ctx, opts);
    const results: TestFileResult[] = [];
    for (const f of files) {
      const r = await runTestFile(f, ctx.cwd, verifiers);
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
