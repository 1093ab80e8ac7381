import { decodePem } from '@vouch/core';
import { isObj } from '../util.js';
import { hasVariables } from '../variables/variables.js';
import { AUTOGEN_ANNOTATION } from './autogen.js';
import type { Path } from './locate.js';
import {
  ATTESTATION_FIELDS,
  ATTESTOR_FIELDS,
  ATTESTOR_SET_FIELDS,
  CERT_FIELDS,
  CONTEXT_FIELDS,
  checkFields,
  expectType,
  FILTER_FIELDS,
  IV_FIELDS,
  IV_V1_DEPRECATED,
  MATCH_FIELDS,
  type Problem,
  RESOURCE_FIELDS,
  RULE_FIELDS,
  SPEC_FIELDS,
} from './schema.js';

/** What the checks of one policy read: its kind and version, its spec, and the list problems go to. */
interface PolicyCheck {
  /** A namespaced `Policy` (not a `ClusterPolicy`). */
  namespaced: boolean;
  /** apiVersion kyverno.io/v2beta1 (stricter than v1). */
  v2: boolean;
  spec: Record<string, unknown>;
  out: Problem[];
}

/**
 * Kyverno's policy validation (`pkg/validation/policy`) of a decoded, defaulted policy: every problem
 * is appended to `out` with its path, message and a hint saying what to write instead.
 */
export function validatePolicy(p: Record<string, unknown>, out: Problem[]): void {
  if (!expectType(p.metadata, 'object', ['metadata'], out)) return;
  validateMetadata(p.metadata as Record<string, unknown>, out);
  if (!expectType(p.spec, 'object', ['spec'], out)) return;
  const check: PolicyCheck = {
    namespaced: p.kind === 'Policy',
    v2: p.apiVersion === 'kyverno.io/v2beta1',
    spec: p.spec as Record<string, unknown>,
    out,
  };
  validateSpec(check);
  const rules = check.spec.rules;
  if (rules === undefined) return;
  if (!expectType(rules, 'array', ['spec', 'rules'], out, 'write `rules:` as a list; each rule starts with "- name:"')) return;
  const names = new Set<string>();
  (rules as unknown[]).forEach((r, ri) => {
    validateRule(check, r, ['spec', 'rules', ri], names);
  });
}

function validateMetadata(m: Record<string, unknown>, out: Problem[]): void {
  if (typeof m.name !== 'string' || m.name === '') {
    out.push({ path: ['metadata'], message: 'metadata.name is required', hint: 'add `name: <policy-name>` under metadata' });
  } else if (m.name.length > 63) {
    out.push({ path: ['metadata', 'name'], message: 'policy name must be no more than 63 characters', hint: 'shorten the name' });
  }
  const ann = isObj(m.annotations) ? m.annotations : {};
  if (ann[AUTOGEN_ANNOTATION] === 'all') {
    out.push({
      path: ['metadata', 'annotations', AUTOGEN_ANNOTATION],
      message: "Autogen annotation does not support 'all' anymore, remove the annotation or set it to a valid value",
      hint: 'remove it (all controllers) or list them, e.g. `Deployment,CronJob`',
    });
  }
}

/** The policy-level fields: failure action and policy, webhook settings. */
function validateSpec({ spec, namespaced, out }: PolicyCheck): void {
  checkFields(spec, SPEC_FIELDS, ['spec'], 'spec', out);
  const vfa = spec.validationFailureAction;
  if (vfa !== undefined && vfa !== '' && !['audit', 'enforce', 'Audit', 'Enforce'].includes(vfa as string)) {
    out.push({
      path: ['spec', 'validationFailureAction'],
      message: `unsupported validationFailureAction ${JSON.stringify(vfa)}`,
      hint: 'use Enforce or Audit',
    });
  }
  if (namespaced && spec.validationFailureActionOverrides !== undefined) {
    out.push({
      path: ['spec', 'validationFailureActionOverrides'],
      atKey: true,
      message: 'Use of validationFailureActionOverrides is supported only with ClusterPolicy',
      hint: 'remove it or use a ClusterPolicy',
    });
  }
  const wc = isObj(spec.webhookConfiguration) ? spec.webhookConfiguration : undefined;
  if (spec.failurePolicy !== undefined && wc?.failurePolicy !== undefined) {
    out.push({
      path: ['spec', 'failurePolicy'],
      atKey: true,
      message: 'failurePolicy and webhookConfiguration.failurePolicy cannot be set together',
      hint: 'keep only webhookConfiguration.failurePolicy',
    });
  }
  if (spec.webhookTimeoutSeconds !== undefined && wc?.timeoutSeconds !== undefined) {
    out.push({
      path: ['spec', 'webhookTimeoutSeconds'],
      atKey: true,
      message: 'webhookTimeoutSeconds and webhookConfiguration.timeoutSeconds cannot be set together',
      hint: 'keep only webhookConfiguration.timeoutSeconds',
    });
  }
  for (const fp of [spec.failurePolicy, wc?.failurePolicy]) {
    if (fp !== undefined && fp !== 'Fail' && fp !== 'Ignore') {
      out.push({ path: ['spec', 'failurePolicy'], message: `unsupported failurePolicy ${JSON.stringify(fp)}`, hint: 'use Fail or Ignore' });
    }
  }
}

/** One rule: its name (unique), one operation, match/exclude, context, preconditions and verifyImages. */
function validateRule(check: PolicyCheck, r: unknown, rp: Path, names: Set<string>): void {
  const { out } = check;
  if (!expectType(r, 'object', rp, out)) return;
  const rule = r as Record<string, unknown>;
  checkFields(rule, RULE_FIELDS, rp, 'a rule', out);
  const name = rule.name;
  if (typeof name !== 'string' || name === '') {
    out.push({ path: rp, message: 'rule name is required', hint: 'add `name: <rule-name>`' });
  } else {
    if (name.length > 63) out.push({ path: [...rp, 'name'], message: 'rule name must be no more than 63 characters', hint: 'shorten it' });
    if (names.has(name))
      out.push({ path: [...rp, 'name'], message: `Duplicate rule name: '${name}'`, hint: 'give every rule a unique name' });
    names.add(name);
  }
  const ops = ['mutate', 'validate', 'generate', 'verifyImages'].filter((k) => rule[k] !== undefined && rule[k] !== null);
  if (ops.length > 1) {
    out.push({
      path: rp,
      message: `Multiple operations defined in the rule '${name}', only one operation (mutate,validate,generate,verifyImages) is allowed per rule`,
      hint: 'split it into several rules',
    });
  } else if (ops.length === 0) {
    out.push({
      path: rp,
      message: `No operation defined in the rule '${name}'.(supported operations: mutate,validate,generate,verifyImages)`,
      hint: 'add `verifyImages:` (check the indentation: it is a sibling of `match:`)',
    });
  }
  if (rule.match === undefined) {
    out.push({ path: rp, message: 'match is required', hint: 'add `match: {any: [{resources: {kinds: [Pod]}}]}`' });
  } else validateMatch(check, rule.match, [...rp, 'match'], 'match');
  if (rule.exclude !== undefined && rule.exclude !== null) validateMatch(check, rule.exclude, [...rp, 'exclude'], 'exclude');
  if (rule.imageExtractors !== undefined && rule.verifyImages === undefined) {
    out.push({
      path: [...rp, 'imageExtractors'],
      atKey: true,
      message: 'imageExtractors can only be defined for verifyImages rule',
      hint: 'remove imageExtractors',
    });
  }
  validateContext(rule.context, [...rp, 'context'], out);
  if (check.v2 && Array.isArray(rule.preconditions)) {
    out.push({
      path: [...rp, 'preconditions'],
      message: 'preconditions must be an object with any/all in kyverno.io/v2beta1',
      hint: 'wrap the list in `all:`',
    });
  }
  if (rule.verifyImages !== undefined) validateVerifyImages(check, rule, [...rp, 'verifyImages']);
}

/** A rule's `match` or `exclude`: `any`/`all` filter lists (or, in v1, one inline filter) and their resource descriptions. */
function validateMatch({ namespaced, v2, out }: PolicyCheck, m: unknown, path: Path, what: 'match' | 'exclude'): void {
  if (!expectType(m, 'object', path, out)) return;
  const mr = m as Record<string, unknown>;
  checkFields(mr, v2 ? ['any', 'all'] : MATCH_FIELDS, path, what, out);
  if (mr.any !== undefined && mr.all !== undefined) {
    out.push({
      path,
      message: "Can't specify any and all together",
      hint: 'keep either `any:` (one filter must match) or `all:` (every filter must match)',
    });
  }
  const filters: [unknown, Path][] = [];
  for (const key of ['any', 'all'] as const) {
    if (mr[key] === undefined) continue;
    if (!expectType(mr[key], 'array', [...path, key], out, `write \`${key}:\` as a list of filters, each starting with "- resources:"`))
      continue;
    (mr[key] as unknown[]).forEach((f, i) => {
      filters.push([f, [...path, key, i]]);
    });
  }
  if (mr.resources !== undefined || mr.subjects !== undefined || mr.roles !== undefined || mr.clusterRoles !== undefined) {
    filters.push([{ resources: mr.resources, subjects: mr.subjects, roles: mr.roles, clusterRoles: mr.clusterRoles }, path]);
  }
  if (what === 'match' && filters.length === 0) {
    out.push({ path, message: 'match cannot be empty', hint: 'add `any: [{resources: {kinds: [Pod]}}]` or similar' });
  }
  for (const [f, fp] of filters) {
    if (!expectType(f, 'object', fp, out)) continue;
    const fr = f as Record<string, unknown>;
    if (fp !== path) checkFields(fr, FILTER_FIELDS, fp, `a ${what} filter`, out);
    // a filter whose resources are missing or not an object gets no roles check
    if (fr.resources === undefined || !validateResourceDescription(fr.resources, [...fp, 'resources'], namespaced, out)) continue;
    if (Array.isArray(fr.roles)) {
      (fr.roles as unknown[]).forEach((r, i) => {
        if (typeof r !== 'string' || r.split(':').length !== 2) {
          out.push({ path: [...fp, 'roles', i], message: `invalid role ${JSON.stringify(r)}`, hint: 'roles are written `namespace:name`' });
        }
      });
    }
  }
}

/** A filter's `resources`; false when it is not an object. */
function validateResourceDescription(resources: unknown, rp: Path, namespaced: boolean, out: Problem[]): boolean {
  if (!expectType(resources, 'object', rp, out)) return false;
  const rd = resources as Record<string, unknown>;
  checkFields(rd, RESOURCE_FIELDS, rp, 'resources', out);
  if (rd.name !== undefined && rd.names !== undefined) {
    out.push({
      path: [...rp, 'name'],
      atKey: true,
      message: 'both name and names can not be specified together',
      hint: 'use only `names:` (a list)',
    });
  }
  if (namespaced && rd.namespaces !== undefined) {
    out.push({
      path: [...rp, 'namespaces'],
      atKey: true,
      message: 'Filtering namespaces not allowed in namespaced policies',
      hint: 'a Policy only applies in its own namespace; remove `namespaces` or use a ClusterPolicy',
    });
  }
  for (const lst of ['kinds', 'names', 'namespaces', 'operations'] as const) {
    if (rd[lst] !== undefined)
      expectType(rd[lst], 'array', [...rp, lst], out, `write \`${lst}:\` as a list, e.g. \`${lst}: [${lst === 'kinds' ? 'Pod' : '...'}]\``);
  }
  return true;
}

/** A rule's `context` entries: known fields only. */
function validateContext(context: unknown, path: Path, out: Problem[]): void {
  if (!Array.isArray(context)) return;
  context.forEach((c, ci) => {
    if (expectType(c, 'object', [...path, ci], out))
      checkFields(c as Record<string, unknown>, CONTEXT_FIELDS, [...path, ci], 'a context entry', out);
  });
}

/** A rule's `verifyImages` list, then each entry. */
function validateVerifyImages(check: PolicyCheck, rule: Record<string, unknown>, ivp: Path): void {
  const { out } = check;
  if (
    !expectType(
      rule.verifyImages,
      'array',
      ivp,
      out,
      'write `verifyImages:` as a list; each entry starts with "- imageReferences:" or "- type: Notary"',
    )
  )
    return;
  const ivs = rule.verifyImages as unknown[];
  const withValidate = ivs.filter((iv) => isObj(iv) && iv.validate !== undefined).length;
  if (withValidate > 0 && withValidate < ivs.length) {
    out.push({
      path: ivp,
      message: 'every verifyImages entry must have `validate` when one of them has it',
      hint: 'Kyverno dereferences the missing `validate.deny` (upstream crash); split the entries into separate rules',
    });
  }
  let extractorJmes = false;
  if (isObj(rule.imageExtractors)) {
    for (const list of Object.values(rule.imageExtractors)) {
      if (Array.isArray(list) && list.some((e) => isObj(e) && typeof e.jmesPath === 'string' && e.jmesPath !== '')) extractorJmes = true;
    }
  }
  ivs.forEach((x, i) => {
    validateImageVerification(check, x, [...ivp, i], extractorJmes);
  });
}

/** One verifyImages entry: type, failure action, image references, booleans, attestors and attestations. */
function validateImageVerification(check: PolicyCheck, x: unknown, p0: Path, extractorJmes: boolean): void {
  const { out, v2, spec } = check;
  if (!expectType(x, 'object', p0, out)) return;
  const iv = x as Record<string, unknown>;
  checkFields(iv, v2 ? IV_FIELDS : [...IV_FIELDS, ...IV_V1_DEPRECATED], p0, 'a verifyImages entry', out);
  const type = iv.type ?? 'Cosign';
  if (!['Cosign', 'SigstoreBundle', 'Notary'].includes(type as string)) {
    out.push({
      path: [...p0, 'type'],
      message: `unsupported type ${JSON.stringify(type)}`,
      hint: 'use Notary, Cosign or SigstoreBundle (case-sensitive)',
    });
  }
  const notary = type === 'Notary';
  if (iv.failureAction !== undefined && iv.failureAction !== 'Audit' && iv.failureAction !== 'Enforce') {
    out.push({
      path: [...p0, 'failureAction'],
      message: `unsupported failureAction ${JSON.stringify(iv.failureAction)}`,
      hint: 'use Enforce or Audit (capitalised)',
    });
  }
  validateImageReferences(iv, p0, out);
  if (iv.skipImageReferences !== undefined) expectType(iv.skipImageReferences, 'array', [...p0, 'skipImageReferences'], out);
  for (const b of ['mutateDigest', 'verifyDigest', 'required', 'useCache'] as const) {
    if (iv[b] !== undefined) expectType(iv[b], 'boolean', [...p0, b], out, 'write true or false');
  }
  if (iv.mutateDigest === true && effectiveEntryAction(spec, iv) === 'Audit') {
    out.push({
      path: [...p0, 'mutateDigest'],
      atKey: iv.mutateDigest !== undefined,
      message: 'mutateDigest must be set to false for ‘Audit’ failure action',
      hint: 'set `mutateDigest: false`, or `failureAction: Enforce`',
    });
  }
  if (iv.mutateDigest === true && extractorJmes) {
    out.push({
      path: [...p0, 'mutateDigest'],
      message: 'jmespath may not be used in an image extractor when mutating digests with verify images',
      hint: 'set `mutateDigest: false`',
    });
  }
  if (iv.attestors !== undefined) validateAttestorSets(iv.attestors, [...p0, 'attestors'], { notary, rejectNotaryKeys: true }, out);
  if (iv.attestations !== undefined) validateAttestations(iv.attestations, [...p0, 'attestations'], notary, out);
}

function effectiveEntryAction(spec: Record<string, unknown>, iv: Record<string, unknown>): 'Audit' | 'Enforce' {
  if (iv.failureAction === 'Enforce') return 'Enforce';
  if (iv.failureAction === 'Audit') return 'Audit';
  const a = spec.validationFailureAction;
  return a === 'Enforce' || a === 'enforce' ? 'Enforce' : 'Audit';
}

function validateImageReferences(iv: Record<string, unknown>, p0: Path, out: Problem[]): void {
  const refs = iv.imageReferences;
  if ((refs === undefined || (Array.isArray(refs) && refs.length === 0)) && iv.image === undefined) {
    out.push({ path: p0, message: 'An image reference is required', hint: 'add `imageReferences: ["registry/repo*"]`' });
  } else if (
    refs !== undefined &&
    expectType(refs, 'array', [...p0, 'imageReferences'], out, 'write it as a list: `imageReferences: ["ghcr.io/org/*"]`')
  ) {
    (refs as unknown[]).forEach((ref, k) => {
      if (typeof ref === 'string' && hasVariables(ref)) {
        out.push({
          path: [...p0, 'imageReferences', k],
          message: 'variables are not allowed in image reference',
          hint: 'write the pattern literally',
        });
      }
    });
  }
}

/** A verifyImages entry's `attestations`: known fields, and (type Notary) attestors. */
function validateAttestations(attestations: unknown, path: Path, notary: boolean, out: Problem[]): void {
  if (!expectType(attestations, 'array', path, out)) return;
  (attestations as unknown[]).forEach((at, ai) => {
    const ap = [...path, ai];
    if (!expectType(at, 'object', ap, out)) return;
    const a = at as Record<string, unknown>;
    checkFields(a, ATTESTATION_FIELDS, ap, 'an attestation', out);
    if (a.attestors !== undefined) validateAttestorSets(a.attestors, [...ap, 'attestors'], { notary, rejectNotaryKeys: false }, out);
    else if (notary) {
      out.push({
        path: ap,
        message: 'attestations of type Notary need attestors',
        hint: 'add `attestors: [{entries: [{certificates: {cert: <PEM>}}]}]` (Kyverno crashes without them)',
      });
    }
  });
}

/** How attestor entries are checked: for a type Notary entry, and whether its `keys` / `keyless` are refused. */
interface AttestorRules {
  notary: boolean;
  rejectNotaryKeys: boolean;
}

/** Attestor sets: `entries` (one of keys, certificates, keyless, nested attestor each) and `count`. */
function validateAttestorSets(sets: unknown, path: Path, rules: AttestorRules, out: Problem[]): void {
  if (!expectType(sets, 'array', path, out, 'write `attestors:` as a list of attestor sets: `- entries:` …')) return;
  (sets as unknown[]).forEach((set, si) => {
    const sp = [...path, si];
    if (!expectType(set, 'object', sp, out)) return;
    const s = set as Record<string, unknown>;
    checkFields(s, ATTESTOR_SET_FIELDS, sp, 'an attestor set', out);
    if (!Array.isArray(s.entries) || s.entries.length === 0) {
      out.push({
        path: [...sp, 'entries'],
        atKey: s.entries !== undefined,
        message: 'An entry is required',
        hint: 'add `entries:` with at least one `- certificates: {cert: …}` entry',
      });
      if (s.entries !== undefined && !Array.isArray(s.entries)) return;
    }
    const entries = (s.entries as unknown[] | undefined) ?? [];
    if (s.count !== undefined) {
      if (typeof s.count !== 'number' || !Number.isInteger(s.count) || s.count < 1) {
        out.push({ path: [...sp, 'count'], message: 'count must be an integer ≥ 1', hint: 'omit `count` to require every entry' });
      } else if (s.count > entries.length) {
        out.push({
          path: [...sp, 'count'],
          message: 'Count cannot exceed length of entries',
          hint: `set count to at most ${entries.length}`,
        });
      }
    }
    entries.forEach((e, ei) => {
      validateAttestor(e, [...sp, 'entries', ei], rules, out);
    });
  });
}

/** One attestor entry. */
function validateAttestor(e: unknown, ep: Path, rules: AttestorRules, out: Problem[]): void {
  const { notary, rejectNotaryKeys } = rules;
  if (!expectType(e, 'object', ep, out)) return;
  const a = e as Record<string, unknown>;
  checkFields(a, ATTESTOR_FIELDS, ep, 'an attestor entry', out);
  const kinds = ['keys', 'certificates', 'keyless', 'attestor'].filter((k) => a[k] !== undefined && a[k] !== null);
  if (kinds.length !== 1) {
    out.push({
      path: ep,
      message: 'keys, certificates, keyless, or a nested attestor is required',
      hint: notary
        ? 'for type Notary write `certificates:` with `cert: |` followed by the PEM certificate, indented'
        : 'give exactly one of them',
    });
  }
  if (notary && rejectNotaryKeys && a.keys !== undefined) {
    out.push({
      path: [...ep, 'keys'],
      atKey: true,
      message: 'Keys field is not allowed for type notary',
      hint: 'Notary verifies against X.509 certificates: replace `keys: {publicKeys: …}` with `certificates: {cert: <PEM certificate>}`',
    });
  }
  if (notary && rejectNotaryKeys && a.keyless !== undefined) {
    out.push({
      path: [...ep, 'keyless'],
      atKey: true,
      message: 'Keyless field is not allowed for type notary',
      hint: 'use `certificates: {cert: <PEM certificate>}`',
    });
  }
  // a null `certificates` with no other kind is the "is required" problem above
  if (a.certificates !== undefined && a.certificates !== null) validateCertificates(a.certificates, [...ep, 'certificates'], notary, out);
  if (a.attestor !== undefined) validateAttestorSets([a.attestor], [...ep, 'attestor'], rules, out);
}

/** An attestor's `certificates`: an object with `cert` or `certChain` (PEM certificates for type Notary). */
function validateCertificates(certificates: unknown, cp: Path, notary: boolean, out: Problem[]): void {
  if (typeof certificates === 'string') {
    out.push({
      path: cp,
      message: 'certificates must be an object with `cert` or `certChain`, found a string',
      hint: 'write `certificates:` then, indented below it, `cert: |-` followed by the PEM text (also indented)',
    });
    return;
  }
  if (!expectType(certificates, 'object', cp, out)) return;
  const c = certificates as Record<string, unknown>;
  checkFields(c, CERT_FIELDS, cp, 'certificates', out);
  const cert = c.cert ?? '';
  const chain = c.certChain ?? '';
  if (cert === '' && chain === '')
    out.push({ path: cp, message: 'cert or certChain required', hint: 'put the PEM certificate under `cert:`' });
  for (const f of ['cert', 'certChain', 'tsaCertChain'] as const) {
    if (c[f] === undefined) continue;
    if (!expectType(c[f], 'string', [...cp, f], out, 'write the PEM text as a block scalar: `cert: |-` and the PEM lines indented below'))
      continue;
    if (notary) checkNotaryPem(c[f] as string, [...cp, f], f, out);
  }
}

/** A type Notary PEM field holds CERTIFICATE blocks only (unless it is a variable, resolved at evaluation). */
function checkNotaryPem(text: string, path: Path, field: string, out: Problem[]): void {
  if (hasVariables(text) || text.trim() === '') return;
  let blocks: { label: string }[];
  try {
    blocks = decodePem(text);
  } catch {
    out.push({
      path,
      message: `${field} is not valid PEM`,
      hint: 'paste the certificate including its -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines',
    });
    return;
  }
  const labels = blocks.map((b) => b.label);
  if (labels.length === 0) {
    out.push({
      path,
      message: `${field} holds no PEM block`,
      hint: 'paste the certificate including its -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines, as a `|-` block scalar',
    });
    return;
  }
  const bad = labels.find((l) => l !== 'CERTIFICATE');
  if (bad) {
    out.push({
      path,
      message: `${field} holds a ${bad} block, but type Notary verifies against X.509 certificates`,
      hint: bad.includes('PUBLIC KEY')
        ? 'a public key cannot anchor a Notary signature: put the signing certificate (or its CA certificate), -----BEGIN CERTIFICATE-----, in `cert`'
        : 'only -----BEGIN CERTIFICATE----- blocks are allowed here',
    });
  }
}
