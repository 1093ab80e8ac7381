import { isObj } from '../util.js';
import { formatPath, type Path } from './locate.js';

/** One problem found in a policy document: where, what, and what to write instead. */
export interface Problem {
  path: Path;
  message: string;
  hint?: string;
  /** Point at the key rather than the value. */
  atKey?: boolean;
}

// The fields each object of a policy accepts (strict field checks, as the CRD schema).

export const SPEC_FIELDS = [
  'rules',
  'applyRules',
  'failurePolicy',
  'validationFailureAction',
  'validationFailureActionOverrides',
  'admission',
  'background',
  'schemaValidation',
  'webhookTimeoutSeconds',
  'mutateExistingOnPolicyUpdate',
  'generateExistingOnPolicyUpdate',
  'generateExisting',
  'useServerSideApply',
  'webhookConfiguration',
  'emitWarning',
];
export const RULE_FIELDS = [
  'name',
  'context',
  'match',
  'exclude',
  'imageExtractors',
  'preconditions',
  'celPreconditions',
  'mutate',
  'validate',
  'generate',
  'verifyImages',
  'skipBackgroundRequests',
  'reportProperties',
];
export const FILTER_FIELDS = ['resources', 'subjects', 'roles', 'clusterRoles'];
export const MATCH_FIELDS = ['any', 'all', ...FILTER_FIELDS];
export const RESOURCE_FIELDS = ['kinds', 'name', 'names', 'namespaces', 'annotations', 'selector', 'namespaceSelector', 'operations'];
export const IV_FIELDS = [
  'failureAction',
  'type',
  'imageReferences',
  'skipImageReferences',
  'attestors',
  'attestations',
  'repository',
  'mutateDigest',
  'verifyDigest',
  'validate',
  'required',
  'imageRegistryCredentials',
  'useCache',
];
/** verifyImages fields kyverno.io/v1 still accepts (deprecated). */
export const IV_V1_DEPRECATED = ['image', 'key', 'roots', 'subject', 'issuer', 'additionalExtensions', 'annotations', 'cosignOCI11'];
export const ATTESTOR_SET_FIELDS = ['count', 'entries'];
export const ATTESTOR_FIELDS = ['keys', 'certificates', 'keyless', 'attestor', 'annotations', 'repository', 'signatureAlgorithm'];
export const CERT_FIELDS = ['cert', 'certChain', 'rekor', 'ctlog', 'tsaCertChain'];
export const ATTESTATION_FIELDS = ['name', 'predicateType', 'type', 'attestors', 'conditions'];
export const CONTEXT_FIELDS = ['name', 'configMap', 'apiCall', 'imageRegistry', 'variable', 'globalReference'];

/** Which object a known field name belongs to, to suggest the right indentation. */
const FIELD_HOME: Record<string, string> = {
  cert: 'certificates',
  certChain: 'certificates',
  tsaCertChain: 'certificates',
  certificates: 'entries[] (an attestor entry)',
  keys: 'entries[] (an attestor entry)',
  keyless: 'entries[] (an attestor entry)',
  entries: 'attestors[] (an attestor set)',
  count: 'attestors[] (an attestor set)',
  imageReferences: 'verifyImages[]',
  attestors: 'verifyImages[] or attestations[]',
  attestations: 'verifyImages[]',
  mutateDigest: 'verifyImages[]',
  verifyDigest: 'verifyImages[]',
  required: 'verifyImages[]',
  kinds: 'resources',
  namespaces: 'resources',
  names: 'resources',
  selector: 'resources',
  resources: 'match.any[] / match.all[]',
  verifyImages: 'rules[]',
  match: 'rules[]',
  exclude: 'rules[]',
  rules: 'spec',
};

/** Reports every field of `obj` not in `allowed`, with where it belongs when it is a known field of another object. */
export function checkFields(obj: Record<string, unknown>, allowed: string[], path: Path, what: string, out: Problem[]): void {
  for (const k of Object.keys(obj)) {
    if (allowed.includes(k)) continue;
    const home = FIELD_HOME[k];
    const siblingHome = Object.keys(obj).find((s) => FIELD_HOME[k] === s);
    let hint: string;
    if (siblingHome) hint = `\`${k}\` belongs under \`${siblingHome}:\` — indent it two more spaces so it is nested in \`${siblingHome}\``;
    else if (home) hint = `\`${k}\` is a field of ${home}, not of ${what}; check its indentation`;
    else hint = `remove it or fix the spelling; ${what} accepts: ${allowed.join(', ')}`;
    out.push({ path: [...path, k], atKey: true, message: `unknown field "${k}" in ${what}`, hint });
  }
}

/** True when `v` has the JSON type; else reports what was found. */
export function expectType(
  v: unknown,
  type: 'object' | 'array' | 'string' | 'boolean' | 'number',
  path: Path,
  out: Problem[],
  hint?: string,
): boolean {
  const ok = type === 'object' ? isObj(v) : type === 'array' ? Array.isArray(v) : typeof v === type;
  if (!ok) {
    const found = v === null ? 'null' : Array.isArray(v) ? 'a list' : isObj(v) ? 'an object' : `a ${typeof v}`;
    out.push({
      path,
      message: `${formatPath(path)} must be ${type === 'array' ? 'a list' : `a${type === 'object' ? 'n' : ''} ${type}`}, found ${found}`,
      hint,
    });
  }
  return ok;
}
