/** How a failing rule is acted on: the failure action (Enforce / Audit) and the failure policy (Fail / Ignore). */
import { checkSelector } from '../match/match.js';
import { wildcardMatch } from '../match/wildcard.js';
import { policyRules } from '../policy/autogen.js';
import type { KyvernoPolicy } from '../types.js';

/**
 * The failure action for a failing rule: for verifyImages rules any entry's `failureAction: Enforce`
 * wins, else the first one set; for validate rules `validate.failureAction`; then the first matching
 * `validationFailureActionOverrides` (ClusterPolicy); then `spec.validationFailureAction`.
 */
export function ruleFailureAction(
  policy: KyvernoPolicy,
  ruleName: string,
  resourceNamespace: string,
  namespaceLabels?: Record<string, string>,
): 'Enforce' | 'Audit' {
  const rule = policyRules(policy).find((r) => r.name === ruleName);
  const norm = (a: unknown) => (a === 'Enforce' || a === 'enforce' ? 'Enforce' : 'Audit');
  if (rule?.verifyImages && rule.verifyImages.length > 0) {
    if (rule.verifyImages.some((iv) => iv.failureAction === 'Enforce')) return 'Enforce';
    const first = rule.verifyImages.find((iv) => iv.failureAction !== undefined);
    if (first) return norm(first.failureAction);
  }
  const v = rule?.validate as { failureAction?: string; failureActionOverrides?: { action?: string; namespaces?: string[] }[] } | undefined;
  if (v?.failureAction) return norm(v.failureAction);
  const overrides = [
    ...((v?.failureActionOverrides as typeof policy.spec.validationFailureActionOverrides) ?? []),
    ...(policy.kind === 'ClusterPolicy' ? (policy.spec.validationFailureActionOverrides ?? []) : []),
  ];
  for (const o of overrides) {
    if (!o || (o.action !== 'Enforce' && o.action !== 'enforce' && o.action !== 'Audit' && o.action !== 'audit')) continue;
    const nsOk = !o.namespaces || o.namespaces.some((p) => wildcardMatch(p, resourceNamespace));
    let selOk = true;
    const sel = (o as { namespaceSelector?: Parameters<typeof checkSelector>[0] }).namespaceSelector;
    if (sel) {
      try {
        selOk = checkSelector(sel, namespaceLabels);
      } catch {
        selOk = false;
      }
    }
    if (nsOk && selOk) return norm(o.action);
  }
  return norm(policy.spec.validationFailureAction);
}

/** The policy's failure policy (`webhookConfiguration.failurePolicy` ?? `failurePolicy` ?? Fail). */
export function policyFailurePolicy(policy: KyvernoPolicy): 'Fail' | 'Ignore' {
  return policy.spec.webhookConfiguration?.failurePolicy ?? policy.spec.failurePolicy ?? 'Fail';
}
