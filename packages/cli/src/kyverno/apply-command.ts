/** The body of `vouch kyverno apply`: Kyverno's flags, output and exit codes. */
import { type KubeObject, type KyvernoValues, type PolicyException, parsePolicyExceptions, type RequestInfo } from '@vouch/kyverno';
import { policyExceptionFromObject } from '@vouch/kyverno/internal';
import { stringify } from 'yaml';
import type { Opts } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import {
  applyHeader,
  goDurationSeconds,
  renderApplyTable,
  renderApplyText,
  renderGeneratedExceptions,
  renderPolicyReports,
  runApply,
  writeMutatedResources,
} from './apply.js';
import type { CliImageVerifiers } from './images.js';
import { loadObject, loadPolicies, loadResources, manifestFiles, readText } from './load.js';

const isGitSource = (p: string) => /^(https?|git|ssh):\/\//.test(p) || p.startsWith('git@');

/** `--set k=v,k2=v2`: variables for every policy and resource (Kyverno's global values). */
function setValues(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`could not parse flag --set: "${p}" is not KEY=VALUE`);
    out[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return out;
}

function integer(value: unknown, flag: string): number {
  const s = String(value);
  if (!/^-?\d+$/.test(s)) throw new UsageError(`invalid argument "${s}" for "${flag}" flag: must be an integer`);
  return Number(s);
}

/** Runs `kyverno apply` with Kyverno's flags; `vouchFormat` json|yaml prints vouch's merged report instead. */
export async function kyvernoApply(
  ctx: CliContext,
  policyArgs: readonly string[],
  opts: Opts,
  vouchFormat: 'text' | 'json' | 'yaml',
  verifiers: () => CliImageVerifiers,
): Promise<void> {
  // flags Kyverno has that need a cluster or something vouch does not evaluate: refused, never ignored
  if (opts.cluster) {
    throw new UsageError(
      '--cluster is not supported: vouch kyverno apply works offline on manifest files; export the resources (kubectl get … -o yaml) and pass them with --resource',
    );
  }
  if (opts.gitBranch !== undefined || policyArgs.some(isGitSource)) {
    throw new UsageError(
      'policies from a git repository are not supported: vouch reads policies from local files only; clone the repository and pass the directory',
    );
  }
  if (opts.targetResource || opts.targetResources) {
    throw new UsageError('--target-resource is not supported: vouch does not evaluate mutate rules (mutate-existing targets)');
  }
  if (opts.json) throw new UsageError('--json is not supported: vouch does not evaluate ValidatingPolicies on JSON payloads');
  if (opts.contextFile !== undefined) throw new UsageError('--context-file is not supported: vouch does not evaluate CEL policies');
  const out = opts.kyvernoOutput as string | undefined;
  if (out === '\u0000o' || out === '\u0000output') {
    throw new UsageError(`flag needs an argument: ${out === '\u0000o' ? "'o' in -o" : '--output'}`);
  }
  const reportFormat = String(opts.outputFormat ?? 'yaml').toLowerCase();
  if (reportFormat !== 'yaml' && reportFormat !== 'json') {
    throw new UsageError(`invalid --output-format "${String(opts.outputFormat)}": use yaml or json`);
  }
  const warnExitCode = integer(opts.warnExitCode ?? '0', '--warn-exit-code');
  const ttl = goDurationSeconds(String(opts.generatedExceptionTtl ?? '720h0m0s'));
  if (ttl === undefined)
    throw new UsageError(
      `invalid argument "${String(opts.generatedExceptionTtl)}" for "--generated-exception-ttl" flag: not a duration (e.g. 720h0m0s)`,
    );
  const set = (opts.set as string[] | undefined) ?? [];
  if (opts.valuesFile && set.length > 0) throw new UsageError('pass the values either using set flag or values_file flag');
  const resourceArgs = [...((opts.resource as string[] | undefined) ?? []), ...((opts.resources as string[] | undefined) ?? [])];
  if (resourceArgs.length === 0) throw new UsageError('resource file(s) or cluster required: pass --resource FILE|DIR');
  if (policyArgs.includes('-') && resourceArgs.includes('-')) {
    throw new UsageError('a stdin pipe can be used for either policies or resources, not both');
  }

  const wantsStdin = policyArgs.includes('-') || resourceArgs.includes('-');
  if (wantsStdin && !ctx.io.stdin) throw new UsageError('"-" reads manifests from stdin, but no input is available');
  const stdinText = wantsStdin ? await ctx.readStdin() : undefined;
  const policies = loadPolicies(
    policyArgs.filter((p) => p !== '-').map((p) => ctx.resolvePath(p)),
    ctx.cwd,
    stdinText !== undefined && policyArgs.includes('-') ? stdinText : undefined,
  );
  if (policies.length === 0) throw new UsageError(`no ClusterPolicy or Policy found in ${policyArgs.join(', ')}`);
  let resources = loadResources(
    resourceArgs.filter((p) => p !== '-').map((p) => ctx.resolvePath(p)),
    stdinText !== undefined && resourceArgs.includes('-') ? stdinText : undefined,
  );
  let exceptions: PolicyException[] = [];
  if (opts.exceptionsWithResources) {
    exceptions = resources.filter((r) => r.kind === 'PolicyException').map((r) => policyExceptionFromObject(r));
    resources = resources.filter((r) => r.kind !== 'PolicyException');
  } else {
    const paths = [...((opts.exception as string[] | undefined) ?? []), ...((opts.exceptions as string[] | undefined) ?? [])];
    if (paths.length > 0) {
      for (const f of manifestFiles(paths.map((p) => ctx.resolvePath(p))))
        exceptions.push(...parsePolicyExceptions(readText(f), { source: f }));
    }
  }
  let values = opts.valuesFile ? (loadObject(ctx.resolvePath(opts.valuesFile as string)) as KyvernoValues) : undefined;
  if (set.length > 0) values = { globalValues: setValues(set) };
  let requestInfo: RequestInfo | undefined;
  if (opts.userinfo) {
    const u = loadObject(ctx.resolvePath(opts.userinfo as string));
    requestInfo = {
      roles: u.roles as string[] | undefined,
      clusterRoles: u.clusterRoles as string[] | undefined,
      userInfo: u.userInfo as RequestInfo['userInfo'],
    };
  }
  const auditWarn = !!opts.auditWarn;
  const outcome = await runApply({
    policies,
    resources: resources as KubeObject[],
    ...verifiers(),
    ...(values ? { values } : {}),
    ...(requestInfo ? { requestInfo } : {}),
    ...(exceptions.length > 0 ? { exceptions } : {}),
    auditWarn,
    continueOnFail: !!opts.continueOnFail,
    now: ctx.now(),
  });
  for (const f of outcome.failedResources) ctx.stderr.write(`${f.message}\n`);
  const outPath = opts.kyvernoOutput as string | undefined;
  if (outPath) writeMutatedResources(ctx.resolvePath(outPath), outcome.results);

  if (vouchFormat === 'json') ctx.stdout.write(`${JSON.stringify(outcome.report, null, 2)}\n`);
  else if (vouchFormat === 'yaml') ctx.stdout.write(stringify(outcome.report, { lineWidth: 0 }));
  else {
    const now = ctx.now();
    if (!opts.stdin && !opts.policyReport && !opts.generateExceptions) {
      ctx.stdout.write(applyHeader(outcome, resources.length, exceptions.length));
    }
    if (opts.policyReport) ctx.stdout.write(renderPolicyReports(outcome.responses, reportFormat, auditWarn, now));
    else if (opts.generateExceptions) ctx.stdout.write(renderGeneratedExceptions(outcome.responses, reportFormat, auditWarn, ttl, now));
    else if (opts.table) ctx.stdout.write(renderApplyTable(outcome, !!opts.detailedResults, auditWarn));
    else ctx.stdout.write(renderApplyText(outcome, auditWarn));
  }
  // Kyverno's exit codes: 1 for failures or errors (nothing on stderr), the warn exit code for warnings
  const c = outcome.counts;
  if (c.fail > 0 || c.error > 0 || outcome.failedResources.length > 0) ctx.exitCode = 1;
  else if (c.warn > 0 && warnExitCode !== 0) {
    if (vouchFormat === 'text') ctx.stdout.write(`exit as warnExitCode is ${warnExitCode}`);
    ctx.exitCode = warnExitCode;
  } else if (c.pass === 0 && opts.warnNoPass) {
    if (vouchFormat === 'text') ctx.stdout.write('exit as no objects satisfied policy\n');
    ctx.exitCode = warnExitCode !== 0 ? warnExitCode : 1;
  }
}
