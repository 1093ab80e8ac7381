import { VouchError } from '@vouch/core';
import { parseAllDocuments } from 'yaml';
import { autogenRuleName } from '../policy/autogen.js';
import { parsePolicyExceptions } from '../policy/exceptions.js';
import { parsePolicies } from '../policy/parse.js';
import { toReportResult } from '../report/report.js';
import type { KubeObject, KyvernoPolicy, PolicyException, PolicyResponse, RequestInfo, RuleResponse } from '../types.js';
import { errMessage } from '../util.js';
import { type ApplyOptions, applyPolicies, type KyvernoValues } from './apply.js';

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
      invalidPolicies[f] = errMessage(e);
    }
  }
  const exceptions: PolicyException[] = [...(options.exceptions ?? [])];
  for (const f of test.exceptions ?? []) exceptions.push(...parsePolicyExceptions(await options.readFile(f), { source: f }));
  const resources: KubeObject[] = [];
  for (const f of test.resources) resources.push(...parseYamlObjects(await options.readFile(f)));
  let values: KyvernoValues | undefined = test.values;
  if (test.variables) values = parseYamlObjects(await options.readFile(test.variables))[0] as KyvernoValues | undefined;
  let requestInfo: RequestInfo | undefined;
  if (test.userinfo) {
    const u = parseYamlObjects(await options.readFile(test.userinfo))[0] as Record<string, unknown> | undefined;
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
      const candidates = new Set([ruleName, autogenRuleName('autogen', ruleName), autogenRuleName('autogen-cronjob', ruleName)]);
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
