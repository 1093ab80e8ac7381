import { VouchError } from '@vouch/core';
import { parseAllDocuments } from 'yaml';
import { type ContextLoader, createKyvernoEngine, evaluateResource, type KyvernoEngine, ruleFailureAction } from '../engine/engine.js';
import type { GroupVersionKind } from '../match/kinds.js';
import { parsePolicyExceptions } from '../policy/exceptions.js';
import { policyKey } from '../policy/key.js';
import { parsePolicies } from '../policy/parse.js';
import type { ImageConfig } from '../resource/images.js';
import type { JsonPatchOperation } from '../resource/metadata.js';
import type { KubeObject, KyvernoPolicy, PolicyException, PolicyResponse, RequestInfo, RuleResponse } from '../types.js';
import type { NotaryImageVerifier, VerificationCacheOptions } from '../verifier/verifier.js';

/** Kubernetes APIResource as written in a Values file's `subresources`. */
export interface APIResource {
  name: string;
  kind: string;
  group?: string;
  version?: string;
}

/** The CLI `Values` document (`cli.kyverno.io/v1alpha1`, kind Values). */
export interface KyvernoValues {
  globalValues?: Record<string, unknown>;
  policies?: {
    name: string;
    rules?: { name: string; values?: Record<string, unknown> }[];
    resources?: { name: string; values?: Record<string, unknown> }[];
  }[];
  namespaceSelector?: { name: string; labels?: Record<string, string> }[];
  namespaces?: KubeObject[];
  subresources?: { subresource: APIResource; parentResource: APIResource }[];
}

/** Options of {@link applyPolicies}. */
export interface ApplyOptions {
  verifier?: NotaryImageVerifier;
  contextLoader?: ContextLoader;
  imageConfig?: ImageConfig;
  /** Namespace name → labels (merged with `values.namespaceSelector` and `values.namespaces`). */
  namespaceLabels?: Record<string, Record<string, string>>;
  /** User info of the simulated request (empty: user-info filters of match blocks are ignored). */
  requestInfo?: RequestInfo;
  values?: KyvernoValues;
  /** Operation (default CREATE; `request.operation` values override). */
  operation?: string;
  cache?: VerificationCacheOptions | false;
  /** Reuse an engine instead of creating one (its policies win). */
  engine?: KyvernoEngine;
  /**
   * Constructs vouch does not evaluate: `'fail'` (default, as `kyverno apply|test` report them: every
   * rule using one fails with a message naming it) or `'refuse'` (throw ERR_UNSUPPORTED).
   */
  unsupported?: 'refuse' | 'fail';
  /** PolicyExceptions to honour (`--exception`). */
  exceptions?: readonly PolicyException[];
  signal?: AbortSignal;
}

/** Result for one resource. */
export interface ResourceResult {
  resource: KubeObject;
  patchedResource: KubeObject;
  /** The verify-images phase's JSON patch (annotation ops, then digest ops); empty when nothing changed. */
  patches: JsonPatchOperation[];
  /** One entry per policy: phase-1 rule responses followed by phase-2 ones. */
  policyResponses: PolicyResponse[];
  /** The same responses by phase, as Kyverno's CLI lists them: verify-images, then validation. */
  phases: { verifyImages: PolicyResponse[]; validation: PolicyResponse[] };
}

function labelsFor(ns: string, opts: ApplyOptions): Record<string, string> | undefined {
  let out: Record<string, string> | undefined = opts.namespaceLabels?.[ns];
  for (const s of opts.values?.namespaceSelector ?? []) if (s.name === ns) out = { ...(out ?? {}), ...(s.labels ?? {}) };
  for (const n of opts.values?.namespaces ?? []) {
    if (n.metadata?.name === ns) out = { ...(out ?? {}), ...((n.metadata?.labels as Record<string, string>) ?? {}) };
  }
  return out;
}

function subresourceOf(resource: KubeObject, values: KyvernoValues | undefined): { gvk?: GroupVersionKind; subresource?: string } {
  for (const s of values?.subresources ?? []) {
    const sr = s.subresource;
    const [gv] = [resource.apiVersion ?? ''];
    const group = gv.includes('/') ? gv.split('/')[0] : '';
    if (sr.kind === resource.kind && (sr.group ?? '') === group) {
      const p = s.parentResource;
      return { gvk: { group: p.group ?? '', version: p.version ?? '', kind: p.kind }, subresource: sr.name.split('/').slice(1).join('/') };
    }
  }
  return {};
}

function stripAutogen(rule: string): string {
  if (rule.startsWith('autogen-cronjob-')) return rule.slice('autogen-cronjob-'.length);
  if (rule.startsWith('autogen-')) return rule.slice('autogen-'.length);
  return rule;
}

function valuesFn(values: KyvernoValues | undefined, resource: KubeObject) {
  if (!values) return undefined;
  return (policy: KyvernoPolicy, ruleName: string): Record<string, unknown> | undefined => {
    const out: Record<string, unknown> = { ...(values.globalValues ?? {}) };
    const p = values.policies?.find((x) => x.name === policy.metadata.name);
    if (p) {
      const r = p.rules?.find((x) => x.name === ruleName) ?? p.rules?.find((x) => x.name === stripAutogen(ruleName));
      Object.assign(out, r?.values ?? {});
      const res = p.resources?.find((x) => x.name === resource.metadata?.name);
      Object.assign(out, res?.values ?? {});
    }
    return out;
  };
}

/**
 * Offline `kyverno apply`: evaluates every policy against every resource (verify-images phase, patches
 * applied, then validation phase) and returns the responses per resource.
 */
export async function applyPolicies(
  policies: readonly KyvernoPolicy[],
  resources: readonly KubeObject[],
  options: ApplyOptions = {},
): Promise<ResourceResult[]> {
  const engine =
    options.engine ??
    createKyvernoEngine({
      policies,
      verifier: options.verifier,
      contextLoader: options.contextLoader,
      imageConfig: options.imageConfig,
      cache: options.cache ?? false,
      unsupported: options.unsupported ?? 'fail',
      ...(options.exceptions ? { exceptions: options.exceptions } : {}),
    });
  const out: ResourceResult[] = [];
  for (const resource of resources) {
    const ns = resource.metadata?.namespace ?? '';
    const sub = subresourceOf(resource, options.values);
    const r = await evaluateResource(engine, {
      resource,
      operation: options.operation ?? 'CREATE',
      requestInfo: options.requestInfo,
      namespaceLabels: ns ? labelsFor(ns, options) : undefined,
      gvk: sub.gvk,
      subresource: sub.subresource,
      values: valuesFn(options.values, resource),
      signal: options.signal,
    });
    const policyResponses = r.verifyImages.responses.map((pr, i) => ({
      policy: pr.policy,
      resource,
      rules: [...pr.rules, ...(r.validation[i]?.rules ?? [])],
    }));
    out.push({
      resource,
      patchedResource: r.verifyImages.patchedResource,
      patches: r.verifyImages.patches,
      policyResponses,
      phases: { verifyImages: r.verifyImages.responses, validation: r.validation },
    });
  }
  return out;
}

// ------------------------------------------------------------------ reports

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
    (x) => x.name === name || `autogen-${x.name}`.slice(0, 63) === name || `autogen-cronjob-${x.name}`.slice(0, 63) === name,
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

// ------------------------------------------------------------------ kyverno-test.yaml

/** One expected result of a `kyverno-test.yaml`. */
export interface TestResultSpec {
  policy: string;
  rule?: string;
  kind?: string;
  resources?: string[];
  resourceSpecs?: { group?: string; version?: string; kind?: string; namespace?: string; name: string }[];
  result?: string;
  status?: string;
  operation?: string;
  patchedResources?: string;
  isImageValidatingPolicy?: boolean;
  isValidatingAdmissionPolicy?: boolean;
  [other: string]: unknown;
}

/** A `kyverno-test.yaml` document (`cli.kyverno.io/v1alpha1`, kind Test). */
export interface KyvernoTestFile {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  name?: string;
  policies: string[];
  resources: string[];
  exceptions?: string[];
  variables?: string;
  values?: KyvernoValues;
  userinfo?: string;
  results: TestResultSpec[];
}

/** Parses a `kyverno-test.yaml`. Throws ERR_CONFIG_INVALID for a malformed file. */
export function parseKyvernoTest(text: string, options: { source?: string } = {}): KyvernoTestFile {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const doc = list.find((d) => d.contents !== null);
  if (!doc || doc.errors.length > 0) {
    throw new VouchError('ERR_CONFIG_INVALID', `${options.source ?? 'kyverno-test.yaml'}: ${doc?.errors[0]?.message ?? 'empty document'}`);
  }
  const t = doc.toJS() as KyvernoTestFile;
  if (!t || typeof t !== 'object' || (t.kind !== undefined && t.kind !== 'Test')) {
    throw new VouchError('ERR_CONFIG_INVALID', `${options.source ?? 'kyverno-test.yaml'}: expected kind Test (cli.kyverno.io/v1alpha1)`);
  }
  t.policies ??= [];
  t.resources ??= [];
  t.results ??= [];
  return t;
}

/** One row of the test table. */
export interface TestRow {
  id: number;
  policy: string;
  rule: string;
  resource: string;
  result: 'Pass' | 'Fail' | 'Skip';
  reason: string;
  message?: string;
}

/** Options of {@link runKyvernoTest}. */
export interface RunTestOptions extends Omit<ApplyOptions, 'values' | 'requestInfo'> {
  /** Reads a file named in the test (path relative to the test file). */
  readFile(path: string): Promise<string> | string;
  /** Parses policy files (default: `parsePolicies` with ignoreOtherKinds). */
  parsePolicies?(text: string, source: string): KyvernoPolicy[];
}

/** Result of {@link runKyvernoTest}. */
export interface TestRunResult {
  rows: TestRow[];
  passed: number;
  failed: number;
  /** Policies that failed to load: name (or file) → error message. */
  invalidPolicies: Record<string, string>;
}

/** Parses multi-document YAML into its object documents (null/scalar documents dropped). Throws ERR_MALFORMED_INPUT. */
export function parseYamlObjects(text: string): KubeObject[] {
  return loadObjects(text);
}

function loadObjects(text: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const d of parseAllDocuments(text) as unknown as { contents: unknown; errors: { message: string }[]; toJS(): unknown }[]) {
    if (d.errors.length > 0) throw new VouchError('ERR_MALFORMED_INPUT', `cannot parse resource YAML: ${d.errors[0]!.message}`);
    const v = d.toJS();
    if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as KubeObject);
  }
  return out;
}

function reportResultOf(pr: PolicyResponse, r: RuleResponse): string {
  return toReportResult(pr, r).result;
}

/**
 * Runs a `kyverno-test.yaml` like `kyverno test`: loads policies, resources, values and user info,
 * applies them offline and compares every declared result. A policy with no response of the
 * declared rule for a resource (not matched / excluded) yields `Pass` / `Excluded`; a missing
 * resource `Fail` / `Not found`.
 */
export async function runKyvernoTest(test: KyvernoTestFile, options: RunTestOptions): Promise<TestRunResult> {
  const parseFn = options.parsePolicies;
  const policies: KyvernoPolicy[] = [];
  const invalidPolicies: Record<string, string> = {};
  for (const f of test.policies) {
    const text = await options.readFile(f);
    try {
      policies.push(...(parseFn ? parseFn(text, f) : parsePolicies(text, { source: f, ignoreOtherKinds: true })));
    } catch (e) {
      invalidPolicies[f] = e instanceof Error ? e.message : String(e);
    }
  }
  const exceptions: PolicyException[] = [...(options.exceptions ?? [])];
  for (const f of test.exceptions ?? []) exceptions.push(...parsePolicyExceptions(await options.readFile(f), { source: f }));
  const resources: KubeObject[] = [];
  for (const f of test.resources) resources.push(...loadObjects(await options.readFile(f)));
  let values: KyvernoValues | undefined = test.values;
  if (test.variables) values = loadObjects(await options.readFile(test.variables))[0] as KyvernoValues | undefined;
  let requestInfo: RequestInfo | undefined;
  if (test.userinfo) {
    const u = loadObjects(await options.readFile(test.userinfo))[0] as Record<string, unknown> | undefined;
    if (u)
      requestInfo = {
        roles: u.roles as string[] | undefined,
        clusterRoles: u.clusterRoles as string[] | undefined,
        userInfo: u.userInfo as RequestInfo['userInfo'],
      };
  }
  const applied = await applyPolicies(policies, resources, {
    ...options,
    values,
    requestInfo,
    ...(exceptions.length > 0 ? { exceptions } : {}),
  });
  const rows: TestRow[] = [];
  let id = 0;
  const push = (row: Omit<TestRow, 'id'>) => rows.push({ id: ++id, ...row });
  for (const spec of test.results) {
    const policyName = spec.policy.split('/').pop() ?? spec.policy;
    const want = (spec.result ?? spec.status ?? '').toLowerCase();
    const ruleName = spec.rule ?? '';
    if (spec.isImageValidatingPolicy || spec.isValidatingAdmissionPolicy) {
      push({
        policy: policyName,
        rule: ruleName,
        resource: (spec.resources ?? []).join(','),
        result: 'Skip',
        reason: 'Unsupported policy type',
      });
      continue;
    }
    const policy = policies.find((p) => p.metadata.name === policyName);
    const names = spec.resources ?? spec.resourceSpecs?.map((r) => (r.namespace ? `${r.namespace}/${r.name}` : r.name)) ?? [];
    const targets =
      names.length > 0 ? names : resources.filter((r) => !spec.kind || r.kind === spec.kind).map((r) => r.metadata?.name ?? '');
    for (const name of targets) {
      const [ns, nm] = name.includes('/')
        ? [name.slice(0, name.lastIndexOf('/')), name.slice(name.lastIndexOf('/') + 1)]
        : [undefined, name];
      if (!policy) {
        push({
          policy: policyName,
          rule: ruleName,
          resource: name,
          result: Object.keys(invalidPolicies).length > 0 ? 'Skip' : 'Fail',
          reason: Object.keys(invalidPolicies).length > 0 ? 'Invalid Policy' : 'Not found',
        });
        continue;
      }
      const rr = applied.find(
        (a) =>
          a.resource.metadata?.name === nm &&
          (!spec.kind || a.resource.kind === spec.kind) &&
          (ns === undefined || (a.resource.metadata?.namespace ?? '') === ns),
      );
      if (!rr) {
        push({ policy: policyName, rule: ruleName, resource: name, result: 'Fail', reason: 'Not found' });
        continue;
      }
      const pr = rr.policyResponses.find((p) => p.policy === policy);
      if (!pr || pr.rules.length === 0) {
        push({ policy: policyName, rule: ruleName, resource: name, result: 'Pass', reason: 'Excluded' });
        continue;
      }
      const candidates = new Set([ruleName, `autogen-${ruleName}`.slice(0, 63), `autogen-cronjob-${ruleName}`.slice(0, 63)]);
      const matching = pr.rules.filter((r) => !ruleName || candidates.has(r.name));
      if (matching.length === 0) {
        // the policy answered for the resource, but not with this rule (it did not match): Kyverno's
        // `kyverno test` counts that as excluded, a pass whatever the declared result
        push({ policy: policyName, rule: ruleName, resource: name, result: 'Pass', reason: 'Excluded' });
        continue;
      }
      for (const r of matching) {
        const got = reportResultOf(pr, r);
        push({
          policy: policyName,
          rule: r.name,
          resource: name,
          result: got === want ? 'Pass' : 'Fail',
          reason: got === want ? 'Ok' : `Want ${want}, got ${got}`,
          message: r.message,
        });
      }
    }
  }
  const failed = rows.filter((r) => r.result === 'Fail').length;
  return { rows, passed: rows.filter((r) => r.result === 'Pass').length, failed, invalidPolicies };
}
