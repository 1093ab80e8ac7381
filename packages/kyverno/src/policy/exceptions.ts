import { VouchError } from '@vouch/core';
import { parseAllDocuments } from 'yaml';
import { wildcardMatch } from '../match/wildcard.js';
import type { PolicyException } from '../types.js';
import { isObj } from '../util.js';

const API_VERSIONS = ['kyverno.io/v2', 'kyverno.io/v2beta1', 'kyverno.io/v2alpha1'];

function invalid(source: string | undefined, name: unknown, message: string): VouchError {
  return new VouchError(
    'ERR_KYVERNO_POLICY_INVALID',
    `${source ?? '<input>'}: PolicyException ${typeof name === 'string' ? name : '(unnamed)'}: ${message}`,
    { details: { source } },
  );
}

/** Checks one decoded PolicyException document; throws ERR_KYVERNO_POLICY_INVALID naming what is wrong. */
export function policyExceptionFromObject(obj: unknown, options: { source?: string } = {}): PolicyException {
  const src = options.source;
  if (!isObj(obj) || obj.kind !== 'PolicyException') throw invalid(src, undefined, 'expected kind PolicyException');
  const meta = isObj(obj.metadata) ? obj.metadata : {};
  const name = meta.name;
  if (!API_VERSIONS.includes(String(obj.apiVersion))) {
    throw invalid(src, name, `unsupported apiVersion ${JSON.stringify(obj.apiVersion)}; write kyverno.io/v2`);
  }
  if (typeof name !== 'string' || name === '') throw invalid(src, name, 'metadata.name is required');
  const spec = obj.spec;
  if (!isObj(spec)) throw invalid(src, name, 'spec is required');
  if (!Array.isArray(spec.exceptions) || spec.exceptions.length === 0) {
    throw invalid(src, name, 'spec.exceptions must list at least one {policyName, ruleNames}');
  }
  spec.exceptions.forEach((e, i) => {
    if (!isObj(e) || typeof e.policyName !== 'string' || !Array.isArray(e.ruleNames) || e.ruleNames.some((r) => typeof r !== 'string')) {
      throw invalid(src, name, `spec.exceptions[${i}] needs policyName (a string) and ruleNames (a list of strings)`);
    }
  });
  if (!isObj(spec.match) || (spec.match.any === undefined && spec.match.all === undefined)) {
    throw invalid(src, name, 'spec.match needs `any` or `all` resource filters');
  }
  return JSON.parse(JSON.stringify(obj)) as PolicyException;
}

/**
 * The PolicyException documents of a YAML/JSON text (other kinds are ignored). Throws
 * ERR_KYVERNO_POLICY_INVALID for a malformed exception or YAML.
 */
export function parsePolicyExceptions(text: string, options: { source?: string } = {}): PolicyException[] {
  const out: PolicyException[] = [];
  for (const doc of parseAllDocuments(text) as unknown as { errors: { message: string }[]; toJS(): unknown }[]) {
    if (doc.errors.length > 0)
      throw new VouchError('ERR_KYVERNO_POLICY_INVALID', `${options.source ?? '<input>'}: ${doc.errors[0]!.message}`);
    const v = doc.toJS();
    if (isObj(v) && v.kind === 'PolicyException') out.push(policyExceptionFromObject(v, options));
  }
  return out;
}

/** `namespace/name` (or `name`): Kyverno's key of an exception, as the skip message lists it. */
export function policyExceptionKey(e: PolicyException): string {
  return e.metadata.namespace ? `${e.metadata.namespace}/${e.metadata.name}` : e.metadata.name;
}

/** True when the exception names the policy (its key) and the rule (a `ruleNames` wildcard pattern). */
export function exceptionCovers(e: PolicyException, policyKey: string, ruleName: string): boolean {
  return e.spec.exceptions.some((x) => x.policyName === policyKey && x.ruleNames.some((r) => wildcardMatch(r, ruleName)));
}
