import { ruleFailureAction } from '../engine/failure.js';
import { autogenRuleName } from '../policy/autogen.js';
import { policyKey } from '../policy/key.js';
import type { KubeObject, KyvernoPolicy, PolicyResponse, RuleResponse } from '../types.js';

/** A wgpolicyk8s.io/v1alpha2 report result. */
export interface PolicyReportResult {
  source: 'kyverno';
  policy: string;
  rule: string;
  result: 'pass' | 'fail' | 'warn' | 'error' | 'skip';
  message: string;
  scored: boolean;
  severity?: string;
  category?: string;
  resources: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string }[];
  timestamp: { seconds: number; nanos: number };
  properties?: Record<string, string>;
}

/** A PolicyReport or ClusterPolicyReport (wgpolicyk8s.io/v1alpha2). */
export interface PolicyReport {
  apiVersion: 'wgpolicyk8s.io/v1alpha2';
  kind: 'PolicyReport' | 'ClusterPolicyReport';
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  scope?: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string };
  results: PolicyReportResult[];
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
}

/** Options of the report builders. */
export interface ReportOptions {
  /** Report Audit failures as `warn` (`--audit-warn`). */
  auditWarn?: boolean;
  /** Timestamp (default now). */
  now?: Date;
  /** `properties.process` value (default `background scan`). */
  process?: string;
}

/** Converts one rule response to a report result (Kyverno `ComputePolicyReportResult`). */
export function toReportResult(pr: PolicyResponse, r: RuleResponse, options: ReportOptions = {}): PolicyReportResult {
  const ann = pr.policy.metadata.annotations ?? {};
  const scored = ann['policies.kyverno.io/scored'] !== 'false';
  let result: PolicyReportResult['result'] = r.status === 'warning' ? 'warn' : r.status;
  if (result === 'fail' && !scored) result = 'warn';
  if (result === 'fail' && options.auditWarn) {
    const ns = pr.resource.metadata?.namespace ?? '';
    if (ruleFailureAction(pr.policy, r.name, ns) === 'Audit') result = 'warn';
  }
  const meta = pr.resource.metadata ?? {};
  const spec = pr.policy.spec;
  const process = options.process ?? (spec.background !== false ? 'background scan' : spec.admission !== false ? 'admission review' : '');
  const props: Record<string, string> = {
    ...(findRule(pr, r.name)?.reportProperties ?? {}),
    process,
  };
  const out: PolicyReportResult = {
    source: 'kyverno',
    policy: policyKey(pr.policy),
    rule: r.name,
    result,
    message: r.message,
    scored,
    resources: [
      {
        apiVersion: pr.resource.apiVersion,
        kind: pr.resource.kind as string | undefined,
        name: meta.name,
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
        ...(typeof meta.uid === 'string' ? { uid: meta.uid } : {}),
      },
    ],
    timestamp: { seconds: Math.floor((options.now ?? new Date()).getTime() / 1000), nanos: 0 },
    properties: props,
  };
  const sev = ann['policies.kyverno.io/severity'];
  if (sev && ['critical', 'high', 'medium', 'low', 'info'].includes(sev)) out.severity = sev;
  const cat = ann['policies.kyverno.io/category'];
  if (cat) out.category = cat;
  return out;
}

function findRule(pr: PolicyResponse, name: string) {
  return pr.policy.spec.rules.find(
    (x) => x.name === name || autogenRuleName('autogen', x.name) === name || autogenRuleName('autogen-cronjob', x.name) === name,
  );
}

function summarize(results: PolicyReportResult[]): PolicyReport['summary'] {
  const s = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) s[r.result]++;
  return s;
}

/**
 * Builds one report per resource: a PolicyReport (in the resource's namespace) for namespaced
 * resources, a ClusterPolicyReport for cluster-scoped ones, labelled `app.kubernetes.io/managed-by: kyverno`.
 */
export function buildPolicyReports(responses: readonly PolicyResponse[], options: ReportOptions = {}): PolicyReport[] {
  const byResource = new Map<string, { resource: KubeObject; results: PolicyReportResult[] }>();
  for (const pr of responses) {
    const m = pr.resource.metadata ?? {};
    const key = `${pr.resource.apiVersion}|${pr.resource.kind}|${m.namespace ?? ''}|${m.name ?? ''}`;
    const entry = byResource.get(key) ?? { resource: pr.resource, results: [] };
    for (const r of pr.rules) entry.results.push(toReportResult(pr, r, options));
    byResource.set(key, entry);
  }
  const out: PolicyReport[] = [];
  for (const { resource, results } of byResource.values()) {
    const m = resource.metadata ?? {};
    const ns = m.namespace;
    const name = typeof m.uid === 'string' ? m.uid : `${String(resource.kind ?? '').toLowerCase()}-${m.name ?? ''}`;
    out.push({
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: ns ? 'PolicyReport' : 'ClusterPolicyReport',
      metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { 'app.kubernetes.io/managed-by': 'kyverno' } },
      scope: { apiVersion: resource.apiVersion, kind: resource.kind as string | undefined, name: m.name, ...(ns ? { namespace: ns } : {}) },
      results,
      summary: summarize(results),
    });
  }
  return out;
}

/** An `openreports.io/v1alpha1` report as `kyverno apply -p` prints it: `ClusterReport`, or `PolicyReport` for a namespaced policy. */
export interface ApplyReport {
  apiVersion: 'openreports.io/v1alpha1';
  kind: 'ClusterReport' | 'PolicyReport';
  metadata: { creationTimestamp: null; name: string; namespace?: string };
  results: PolicyReportResult[];
  summary: PolicyReport['summary'];
}

/**
 * The reports `kyverno apply --policy-report` prints: the results of every ClusterPolicy merged into
 * one `ClusterReport` named `merged` (first, when there is any), then one `PolicyReport` (apiVersion
 * openreports.io/v1alpha1) per namespaced Policy, named after it.
 */
export function buildApplyReports(responses: readonly PolicyResponse[], options: ReportOptions = {}): ApplyReport[] {
  const cluster: PolicyReportResult[] = [];
  const byPolicy = new Map<KyvernoPolicy, PolicyReportResult[]>();
  for (const pr of responses) {
    for (const r of pr.rules) {
      const result = toReportResult(pr, r, options);
      if (pr.policy.kind === 'Policy') {
        let list = byPolicy.get(pr.policy);
        if (!list) byPolicy.set(pr.policy, (list = []));
        list.push(result);
      } else cluster.push(result);
    }
  }
  const out: ApplyReport[] = [];
  const report = (kind: ApplyReport['kind'], name: string, results: PolicyReportResult[], namespace?: string): ApplyReport => ({
    apiVersion: 'openreports.io/v1alpha1',
    kind,
    metadata: { creationTimestamp: null, name, ...(namespace ? { namespace } : {}) },
    results,
    summary: summarize(results),
  });
  if (cluster.length > 0) out.push(report('ClusterReport', 'merged', cluster));
  for (const [p, results] of byPolicy) out.push(report('PolicyReport', p.metadata.name, results, p.metadata.namespace ?? 'default'));
  return out;
}

/** One merged ClusterPolicyReport (name `merged`) with every result (vouch's JSON output of `kyverno apply`). */
export function buildMergedReport(responses: readonly PolicyResponse[], options: ReportOptions = {}): PolicyReport {
  const results = responses.flatMap((pr) => pr.rules.map((r) => toReportResult(pr, r, options)));
  return {
    apiVersion: 'wgpolicyk8s.io/v1alpha2',
    kind: 'ClusterPolicyReport',
    metadata: { name: 'merged', labels: { 'app.kubernetes.io/managed-by': 'kyverno' } },
    results,
    summary: summarize(results),
  };
}
