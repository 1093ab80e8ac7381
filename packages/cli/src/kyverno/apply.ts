/** `vouch kyverno apply`: evaluate policies against resource manifests and report like `kyverno apply`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VouchError } from '@vouch/core';
import {
  type ApplyReport,
  applyPolicies,
  buildMergedReport,
  type CosignImageVerifier,
  type KubeObject,
  type KyvernoPolicy,
  type KyvernoValues,
  type NotaryImageVerifier,
  type PolicyException,
  type PolicyReport,
  type PolicyResponse,
  type RequestInfo,
  type ResourceResult,
  type RuleResponse,
} from '@vouch/kyverno';
import { buildApplyReports, policyRules, ruleFailureAction, toReportResult } from '@vouch/kyverno/internal';
import { stringify } from 'yaml';
import { goDurationMs } from '../duration.js';
import { renderTable } from './test-runner.js';

/** Inputs of {@link runApply}. */
export interface ApplyRun {
  policies: readonly KyvernoPolicy[];
  resources: readonly KubeObject[];
  verifier: NotaryImageVerifier;
  cosignVerifier?: CosignImageVerifier;
  values?: KyvernoValues;
  requestInfo?: RequestInfo;
  exceptions?: readonly PolicyException[];
  /** Report Audit failures as `warn`. */
  auditWarn?: boolean;
  /** `--continue-on-fail`: a resource the policies cannot be applied to is reported and skipped. */
  continueOnFail?: boolean;
  now: Date;
}

/** Kyverno's result counts (`pass: …, fail: …, warn: …, error: …, skip: …`). */
export interface ApplyCounts {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

/** What {@link runApply} found. */
export interface ApplyOutcome {
  results: ResourceResult[];
  /** The engine responses in Kyverno's order: per resource, the verify-images phase, then the validation phase. */
  responses: PolicyResponse[];
  /** One merged report (`ClusterPolicyReport` named `merged`) with every result: vouch's JSON output. */
  report: PolicyReport;
  counts: ApplyCounts;
  /** Number of rules (autogen included) applied. */
  ruleCount: number;
  /** `--continue-on-fail`: resources that could not be evaluated. */
  failedResources: { resource: string; message: string }[];
}

function namespaceLabels(resources: readonly KubeObject[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const r of resources) {
    if (r.kind === 'Namespace' && r.metadata?.name) out[r.metadata.name] = { ...(r.metadata.labels ?? {}) };
  }
  return out;
}

/** Whether a failing rule counts as `warn`: the policy is not scored, or it is Audit under `--audit-warn`. */
function failIsWarn(pr: PolicyResponse, r: RuleResponse, auditWarn: boolean): boolean {
  if (pr.policy.metadata.annotations?.['policies.kyverno.io/scored'] === 'false') return true;
  return auditWarn && ruleFailureAction(pr.policy, r.name, pr.resource.metadata?.namespace ?? '') === 'Audit';
}

/** Kyverno's `ResultCounts` over every rule response. */
export function countResults(responses: readonly PolicyResponse[], auditWarn = false): ApplyCounts {
  const c: ApplyCounts = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const pr of responses) {
    for (const r of pr.rules) {
      if (r.status === 'fail') {
        if (failIsWarn(pr, r, auditWarn)) c.warn++;
        else c.fail++;
      } else if (r.status === 'warning') c.warn++;
      else c[r.status]++;
    }
  }
  return c;
}

/** Apply every policy to every resource (verify-images phase, patches, validation phase). */
export async function runApply(run: ApplyRun): Promise<ApplyOutcome> {
  const labels = namespaceLabels(run.resources);
  const options = {
    verifier: run.verifier,
    ...(run.cosignVerifier ? { cosignVerifier: run.cosignVerifier } : {}),
    cache: {},
    namespaceLabels: labels,
    ...(run.values ? { values: run.values } : {}),
    ...(run.requestInfo ? { requestInfo: run.requestInfo } : {}),
    ...(run.exceptions && run.exceptions.length > 0 ? { exceptions: run.exceptions } : {}),
  };
  const results: ResourceResult[] = [];
  const failedResources: ApplyOutcome['failedResources'] = [];
  for (const resource of run.resources) {
    try {
      results.push(...(await applyPolicies(run.policies, [resource], options)));
    } catch (e) {
      const message = `failed to apply policies on resource ${resource.metadata?.name ?? ''} (${e instanceof Error ? e.message : String(e)})`;
      if (!run.continueOnFail) throw new VouchError('ERR_INTERNAL', message, { cause: e });
      failedResources.push({ resource: resource.metadata?.name ?? '', message });
    }
  }
  const responses = results.flatMap((r) => [...r.phases.verifyImages, ...r.phases.validation]);
  const report = buildMergedReport(
    results.flatMap((r) => r.policyResponses),
    { now: run.now, ...(run.auditWarn ? { auditWarn: true } : {}) },
  );
  const ruleCount = run.policies.reduce((n, p) => n + policyRules(p).length, 0);
  return { results, responses, report, counts: countResults(responses, !!run.auditWarn), ruleCount, failedResources };
}

/** `ns/Kind/name` as Kyverno writes a resource path (the namespace part may be empty). */
function resourcePath(r: KubeObject): string {
  return `${r.metadata?.namespace ?? ''}/${r.kind ?? ''}/${r.metadata?.name ?? ''}`;
}

/** `Applying N policy rule(s) to M resource(s)...` (with the exception count when there are exceptions). */
export function applyHeader(outcome: ApplyOutcome, resourceCount: number, exceptionCount: number): string {
  const tail = exceptionCount > 0 ? ` with ${exceptionCount} exception(s)...` : '...';
  return `\nApplying ${outcome.ruleCount} policy rule(s) to ${resourceCount} resource(s)${tail}\n`;
}

/** Kyverno's summary line. */
export function summaryLine(c: ApplyCounts): string {
  return `\npass: ${c.pass}, fail: ${c.fail}, warn: ${c.warn}, error: ${c.error}, skip: ${c.skip} \n`;
}

/** The default output after the header: each response with failing rules, then the summary line. */
export function renderApplyText(outcome: ApplyOutcome, auditWarn = false): string {
  let s = '';
  for (const pr of outcome.responses) {
    const failed = pr.rules.filter((r) => r.status === 'fail');
    if (failed.length === 0) continue;
    const asWarning =
      auditWarn && failed.every((r) => ruleFailureAction(pr.policy, r.name, pr.resource.metadata?.namespace ?? '') === 'Audit');
    s += `policy ${pr.policy.metadata.name} -> resource ${resourcePath(pr.resource)} ${asWarning ? 'failed as audit warning:' : 'failed:'}\n`;
    failed.forEach((r, i) => {
      s += `${i + 1} - ${r.name} ${r.message}\n`;
    });
    s += '\n';
  }
  return s + summaryLine(outcome.counts);
}

const RESULT_WORD: Record<RuleResponse['status'], string> = { pass: 'Pass', fail: 'Fail', warning: 'Warn', error: 'Error', skip: 'Skip' };

/** `--table`: one row per rule response (ID, POLICY, RULE, RESOURCE, RESULT, REASON [, MESSAGE]). */
export function renderApplyTable(outcome: ApplyOutcome, detailed: boolean, auditWarn = false): string {
  const rows: string[][] = [];
  for (const pr of outcome.responses) {
    const ns = pr.policy.kind === 'Policy' ? (pr.policy.metadata.namespace ?? 'default') : '';
    const m = pr.resource.metadata ?? {};
    for (const r of pr.rules) {
      const result = r.status === 'fail' && failIsWarn(pr, r, auditWarn) ? 'Warn' : RESULT_WORD[r.status];
      rows.push([
        String(rows.length + 1),
        ns ? `${ns}/${pr.policy.metadata.name}` : pr.policy.metadata.name,
        r.name,
        m.namespace ? `${m.namespace}/${pr.resource.kind ?? ''}/${m.name ?? ''}` : `${pr.resource.kind ?? ''}/${m.name ?? ''}`,
        result,
        '',
        ...(detailed ? [r.message] : []),
      ]);
    }
  }
  const head = ['ID', 'POLICY', 'RULE', 'RESOURCE', 'RESULT', 'REASON', ...(detailed ? ['MESSAGE'] : [])];
  return renderTable(head, rows);
}

/** YAML the way Kyverno's CLI writes it (sigs.k8s.io/yaml: keys sorted, sequences not indented). */
export function kyvernoYaml(value: unknown): string {
  return stringify(value, { sortMapEntries: true, indentSeq: false, lineWidth: 0 });
}

/** Report fields Go omits when empty (`scored: false` included). */
function compactReport(r: ApplyReport): unknown {
  return {
    ...r,
    results: r.results.map((x) => {
      const { scored, ...rest } = x;
      return scored ? x : rest;
    }),
  };
}

/** `--policy-report`: the merged ClusterReport, then `---` and each namespaced report; yaml or json. */
export function renderPolicyReports(responses: readonly PolicyResponse[], format: 'yaml' | 'json', auditWarn: boolean, now: Date): string {
  const reports = buildApplyReports(responses, { now, ...(auditWarn ? { auditWarn: true } : {}) });
  // Go: fmt.Fprintln of the marshalled bytes (YAML already ends with a newline, JSON does not)
  const encode = (r: ApplyReport) => (format === 'json' ? JSON.stringify(compactReport(r)) : kyvernoYaml(compactReport(r)));
  let s = '';
  for (const r of reports) {
    if (r.kind === 'PolicyReport') s += '---\n';
    s += `${encode(r)}\n`;
  }
  return s;
}

/** A Go duration (`720h0m0s`, `24h`, `1h30m`, `90s`) in seconds; undefined when malformed. */
export function goDurationSeconds(text: string): number | undefined {
  const ms = goDurationMs(text);
  return ms === undefined || ms < 0 ? undefined : ms / 1000;
}

/** Go's `Duration.String()` for whole seconds (`720h0m0s`, `1m30s`, `45s`, `0s`). */
export function formatGoDuration(seconds: number): string {
  const s = Math.floor(seconds);
  if (s === 0) return '0s';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${m}m${sec}s`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}

/**
 * `--generate-exceptions`: a `kyverno.io/v2beta1` PolicyException for every failing result of a
 * ClusterPolicy (autogen rules also exempt the Pod rule and generated pod names), as Kyverno prints them.
 */
export function renderGeneratedExceptions(
  responses: readonly PolicyResponse[],
  format: 'yaml' | 'json',
  auditWarn: boolean,
  ttlSeconds: number,
  now: Date,
): string {
  let s = '';
  for (const pr of responses) {
    if (pr.policy.kind === 'Policy') continue;
    for (const rr of pr.rules) {
      const result = toReportResult(pr, rr, { now, ...(auditWarn ? { auditWarn: true } : {}) });
      if (result.result !== 'fail') continue;
      for (const r of result.resources) {
        const kinds = [r.kind ?? ''];
        const names = [r.name ?? ''];
        const rules = [result.rule];
        if (result.rule.startsWith('autogen-')) {
          if (r.kind === 'CronJob') {
            kinds.push('Job');
            rules.push(result.rule.replaceAll('autogen-cronjob-', 'autogen-'));
            kinds.push('Pod');
            rules.push(result.rule.slice('autogen-cronjob-'.length));
          } else {
            kinds.push('Pod');
            rules.push(result.rule.slice('autogen-'.length));
          }
          names.push(`${r.name ?? ''}-*`);
        }
        const exception = {
          apiVersion: 'kyverno.io/v2beta1',
          kind: 'PolicyException',
          metadata: {
            creationTimestamp: null,
            name: [result.policy, result.rule, r.namespace ?? '', r.name ?? ''].join('-'),
            ...(ttlSeconds > 0 ? { labels: { 'cleanup.kyverno.io/ttl': formatGoDuration(ttlSeconds) } } : {}),
          },
          spec: {
            exceptions: [{ policyName: result.policy, ruleNames: rules }],
            match: { all: [{ resources: { kinds, names, namespaces: [r.namespace ?? ''] } }] },
          },
        };
        s += `---\n${format === 'json' ? JSON.stringify(exception) : kyvernoYaml(exception)}\n`;
      }
    }
  }
  return s;
}

/**
 * `-o, --output PATH`: the resources the verify-images phase changed (digests pinned, verification
 * annotations), as Kyverno writes mutated resources: PATH ending in `.yaml`/`.yml` is one file
 * (truncated first, documents separated by `---`), anything else a directory of `<name>-mutated.yaml`.
 */
export function writeMutatedResources(path: string, results: readonly ResourceResult[]): number {
  const isFile = /\.(ya?ml)$/.test(path.split('/').pop() ?? '');
  const byFile = new Map<string, string>();
  if (isFile) byFile.set(path, '');
  for (const r of results) {
    if (r.patches.length === 0) continue;
    const file = isFile ? path : join(path, `${r.resource.metadata?.name ?? 'resource'}-mutated.yaml`);
    byFile.set(file, `${byFile.get(file) ?? ''}${kyvernoYaml(r.patchedResource)}\n---\n\n`);
  }
  try {
    mkdirSync(isFile ? dirname(path) : path, { recursive: true });
    for (const [file, text] of byFile) writeFileSync(file, text);
  } catch (e) {
    throw new VouchError('ERR_IO', `failed to create file/folder ${path}: ${(e as Error).message}`, { cause: e, details: { path } });
  }
  return results.filter((r) => r.patches.length > 0).length;
}
