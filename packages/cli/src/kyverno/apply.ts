/** `vouch kyverno apply`: evaluate policies against resource manifests and report like `kyverno apply`. */
import {
  applyPolicies,
  buildMergedReport,
  isBlocked,
  type KubeObject,
  type KyvernoPolicy,
  type KyvernoValues,
  type NotaryImageVerifier,
  type PolicyReport,
  type PolicyResponse,
  policyKey,
  policyRules,
  type RequestInfo,
  type ResourceResult,
} from '@vouch/kyverno';

/** Inputs of {@link runApply}. */
export interface ApplyRun {
  policies: readonly KyvernoPolicy[];
  resources: readonly KubeObject[];
  verifier: NotaryImageVerifier;
  values?: KyvernoValues;
  requestInfo?: RequestInfo;
  /** Report Audit failures as `warn`. */
  auditWarn?: boolean;
  now: Date;
}

/** What {@link runApply} found. */
export interface ApplyOutcome {
  results: ResourceResult[];
  /** Every policy response, resource by resource. */
  responses: PolicyResponse[];
  /** One merged report (`ClusterPolicyReport` named `merged`) with every result. */
  report: PolicyReport;
  /** True when a rule failed under Enforce, or errored under failurePolicy Fail. */
  blocked: boolean;
  /** Number of rules (autogen included) applied. */
  ruleCount: number;
}

function namespaceLabels(resources: readonly KubeObject[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const r of resources) {
    if (r.kind === 'Namespace' && r.metadata?.name) out[r.metadata.name] = { ...(r.metadata.labels ?? {}) };
  }
  return out;
}

/** Apply every policy to every resource (verify-images phase, patches, validation phase). */
export async function runApply(run: ApplyRun): Promise<ApplyOutcome> {
  const labels = namespaceLabels(run.resources);
  const results = await applyPolicies(run.policies, run.resources, {
    verifier: run.verifier,
    cache: {},
    namespaceLabels: labels,
    ...(run.values ? { values: run.values } : {}),
    ...(run.requestInfo ? { requestInfo: run.requestInfo } : {}),
  });
  const responses = results.flatMap((r) => r.policyResponses);
  let blocked = false;
  for (const r of results) {
    const ns = r.resource.metadata?.namespace ?? '';
    if (isBlocked(r.policyResponses, ns, ns ? labels[ns] : undefined)) blocked = true;
  }
  const report = buildMergedReport(responses, { now: run.now, ...(run.auditWarn ? { auditWarn: true } : {}) });
  const ruleCount = run.policies.reduce((n, p) => n + policyRules(p).length, 0);
  return { results, responses, report, blocked, ruleCount };
}

function resourceLabel(r: KubeObject): string {
  const ns = r.metadata?.namespace;
  return `${ns ? `${ns}/` : ''}${r.kind ?? ''}/${r.metadata?.name ?? ''}`;
}

/** `kyverno apply`'s text output: the header, each failing policy/resource with its rules, then the summary. */
export function renderApplyText(outcome: ApplyOutcome, resourceCount: number): string {
  const lines: string[] = [`Applying ${outcome.ruleCount} policy rule(s) to ${resourceCount} resource(s)...`, ''];
  for (const pr of outcome.responses) {
    const bad = pr.rules.filter((r) => r.status === 'fail' || r.status === 'error');
    if (bad.length === 0) continue;
    const verb = bad.some((r) => r.status === 'fail') ? 'failed' : 'errored';
    lines.push(`policy ${policyKey(pr.policy)} -> resource ${resourceLabel(pr.resource)} ${verb}:`);
    bad.forEach((r, i) => {
      lines.push(`${i + 1} - ${r.name} ${r.status === 'error' ? '(error) ' : ''}${r.message}`);
    });
    lines.push('');
  }
  const s = outcome.report.summary;
  lines.push(`pass: ${s.pass}, fail: ${s.fail}, warn: ${s.warn}, error: ${s.error}, skip: ${s.skip} `);
  return `${lines.join('\n')}\n`;
}
