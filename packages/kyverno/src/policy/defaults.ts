import { isObj } from '../util.js';

/** The verifyImages entry booleans the CRD defaults to true. */
const ENTRY_BOOLEANS = ['mutateDigest', 'verifyDigest', 'required', 'useCache'] as const;

/** The CRD defaults, applied before validation (as the API server and kubectl-validate do). */
export function applyDefaults(p: Record<string, unknown>): void {
  const spec = p.spec as Record<string, unknown>;
  spec.validationFailureAction ??= 'Audit';
  spec.admission ??= true;
  spec.background ??= true;
  spec.emitWarning ??= false;
  for (const rule of rulesOf(spec)) {
    if (!isObj(rule)) continue;
    rule.skipBackgroundRequests ??= true;
    if (isObj(rule.validate)) rule.validate.allowExistingViolations ??= true;
  }
  setEntryBooleans(spec, true);
}

/** Without CRD defaults (Kyverno's Go unit tests decode so): absent booleans are false, as Go decodes them. */
export function fillBooleans(p: Record<string, unknown>): void {
  const spec = p.spec as Record<string, unknown>;
  spec.validationFailureAction ??= '';
  setEntryBooleans(spec, false);
}

function setEntryBooleans(spec: Record<string, unknown>, value: boolean): void {
  for (const rule of rulesOf(spec)) {
    if (!isObj(rule) || !Array.isArray(rule.verifyImages)) continue;
    for (const iv of rule.verifyImages as unknown[]) {
      if (!isObj(iv)) continue;
      for (const k of ENTRY_BOOLEANS) iv[k] ??= value;
    }
  }
}

/** `spec.rules` when it is a list (anything else is left for validation to report). */
function rulesOf(spec: Record<string, unknown>): unknown[] {
  return Array.isArray(spec.rules) ? spec.rules : [];
}
