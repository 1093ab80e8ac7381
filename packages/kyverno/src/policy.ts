import { decodePem, VouchError } from '@vouch/core';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { KyvernoPolicy } from './types.js';
import { hasVariables } from './variables.js';

/** Annotation that selects the pod controllers autogen generates rules for. */
export const AUTOGEN_ANNOTATION = 'pod-policies.kyverno.io/autogen-controllers';

/** Options for {@link parsePolicies} and {@link policyFromObject}. */
export interface ParsePolicyOptions {
  /** File name used in error messages. */
  source?: string;
  /** Apply CRD defaults (default true). Kyverno's Go unit tests decode without them. */
  applyDefaults?: boolean;
  /** Skip YAML documents that are not ClusterPolicy/Policy instead of failing (default false). */
  ignoreOtherKinds?: boolean;
  /** Run Kyverno's policy validation (default true). */
  validate?: boolean;
}

type Path = (string | number)[];

interface Problem {
  path: Path;
  message: string;
  hint?: string;
  /** Point at the key rather than the value. */
  atKey?: boolean;
}

/** Locates YAML source positions of paths in one parsed document. */
type Locator = (path: Path, atKey?: boolean) => { line: number; column: number } | undefined;

function formatPath(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

function makeLocator(doc: Document, lc: LineCounter, offsetLine = 0): Locator {
  return (path, atKey) => {
    let node: unknown = doc.contents;
    let pos: [number, number] | undefined;
    const set = (n: unknown) => {
      const r = (n as { range?: [number, number, number] } | null)?.range;
      if (r) pos = [r[0], r[1]];
    };
    set(node);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        if (last && atKey) {
          set(pair.key);
          node = undefined;
          break;
        }
        set(pair.key);
        node = pair.value;
        if (node) set(node);
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (!item) break;
        node = item;
        set(node);
      } else break;
    }
    if (!pos) return undefined;
    const lp = lc.linePos(pos[0]);
    return { line: lp.line + offsetLine, column: lp.col };
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------------------------------------------------------------- schema (strict field checks)

const SPEC_FIELDS = [
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
const RULE_FIELDS = [
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
const FILTER_FIELDS = ['resources', 'subjects', 'roles', 'clusterRoles'];
const MATCH_FIELDS = ['any', 'all', ...FILTER_FIELDS];
const RESOURCE_FIELDS = ['kinds', 'name', 'names', 'namespaces', 'annotations', 'selector', 'namespaceSelector', 'operations'];
const IV_FIELDS = [
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
const IV_V1_DEPRECATED = ['image', 'key', 'roots', 'subject', 'issuer', 'additionalExtensions', 'annotations', 'cosignOCI11'];
const ATTESTOR_SET_FIELDS = ['count', 'entries'];
const ATTESTOR_FIELDS = ['keys', 'certificates', 'keyless', 'attestor', 'annotations', 'repository', 'signatureAlgorithm'];
const CERT_FIELDS = ['cert', 'certChain', 'rekor', 'ctlog', 'tsaCertChain'];
const ATTESTATION_FIELDS = ['name', 'predicateType', 'type', 'attestors', 'conditions'];
const CONTEXT_FIELDS = ['name', 'configMap', 'apiCall', 'imageRegistry', 'variable', 'globalReference'];

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

function checkFields(obj: Record<string, unknown>, allowed: string[], path: Path, what: string, out: Problem[]): void {
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

function expectType(
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

// ---------------------------------------------------------------- defaults

function applyDefaults(p: Record<string, unknown>): void {
  const spec = p.spec as Record<string, unknown>;
  spec.validationFailureAction ??= 'Audit';
  spec.admission ??= true;
  spec.background ??= true;
  spec.emitWarning ??= false;
  // rules that are not a list are reported by validation
  for (const rule of Array.isArray(spec.rules) ? (spec.rules as Record<string, unknown>[]) : []) {
    if (!isObj(rule)) continue;
    rule.skipBackgroundRequests ??= true;
    if (isObj(rule.validate)) rule.validate.allowExistingViolations ??= true;
    if (Array.isArray(rule.verifyImages)) {
      for (const iv of rule.verifyImages as Record<string, unknown>[]) {
        if (!isObj(iv)) continue;
        iv.mutateDigest ??= true;
        iv.verifyDigest ??= true;
        iv.required ??= true;
        iv.useCache ??= true;
      }
    }
  }
}

function fillBooleans(p: Record<string, unknown>): void {
  // Without CRD defaults Go decodes absent booleans as false.
  const spec = p.spec as Record<string, unknown>;
  spec.validationFailureAction ??= '';
  for (const rule of Array.isArray(spec.rules) ? (spec.rules as Record<string, unknown>[]) : []) {
    if (!isObj(rule) || !Array.isArray(rule.verifyImages)) continue;
    for (const iv of rule.verifyImages as Record<string, unknown>[]) {
      if (!isObj(iv)) continue;
      iv.mutateDigest ??= false;
      iv.verifyDigest ??= false;
      iv.required ??= false;
      iv.useCache ??= false;
    }
  }
}

// ---------------------------------------------------------------- validation

function effectiveEntryAction(spec: Record<string, unknown>, iv: Record<string, unknown>): 'Audit' | 'Enforce' {
  if (iv.failureAction === 'Enforce') return 'Enforce';
  if (iv.failureAction === 'Audit') return 'Audit';
  const a = spec.validationFailureAction;
  return a === 'Enforce' || a === 'enforce' ? 'Enforce' : 'Audit';
}

function validateMatch(m: unknown, path: Path, what: 'match' | 'exclude', namespaced: boolean, out: Problem[], v2: boolean): void {
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
    if (fr.resources === undefined) continue;
    const rp = [...fp, 'resources'];
    if (!expectType(fr.resources, 'object', rp, out)) continue;
    const rd = fr.resources as Record<string, unknown>;
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
        expectType(
          rd[lst],
          'array',
          [...rp, lst],
          out,
          `write \`${lst}:\` as a list, e.g. \`${lst}: [${lst === 'kinds' ? 'Pod' : '...'}]\``,
        );
    }
    if (Array.isArray(fr.roles)) {
      (fr.roles as unknown[]).forEach((r, i) => {
        if (typeof r !== 'string' || r.split(':').length !== 2) {
          out.push({ path: [...fp, 'roles', i], message: `invalid role ${JSON.stringify(r)}`, hint: 'roles are written `namespace:name`' });
        }
      });
    }
  }
}

function validateAttestorSets(sets: unknown, path: Path, notary: boolean, rejectNotaryKeys: boolean, out: Problem[]): void {
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
      const ep = [...sp, 'entries', ei];
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
      if (a.certificates !== undefined && a.certificates !== null) {
        const cp = [...ep, 'certificates'];
        if (typeof a.certificates === 'string') {
          out.push({
            path: cp,
            message: 'certificates must be an object with `cert` or `certChain`, found a string',
            hint: 'write `certificates:` then, indented below it, `cert: |-` followed by the PEM text (also indented)',
          });
        } else if (expectType(a.certificates, 'object', cp, out)) {
          const c = a.certificates as Record<string, unknown>;
          checkFields(c, CERT_FIELDS, cp, 'certificates', out);
          const cert = c.cert ?? '';
          const chain = c.certChain ?? '';
          if (cert === '' && chain === '') {
            out.push({ path: cp, message: 'cert or certChain required', hint: 'put the PEM certificate under `cert:`' });
          }
          for (const f of ['cert', 'certChain', 'tsaCertChain'] as const) {
            if (c[f] === undefined) continue;
            if (
              !expectType(
                c[f],
                'string',
                [...cp, f],
                out,
                'write the PEM text as a block scalar: `cert: |-` and the PEM lines indented below',
              )
            )
              continue;
            if (notary) checkNotaryPem(c[f] as string, [...cp, f], f, out);
          }
        }
      } else if (a.certificates === null && kinds.length === 0) {
        // already reported above
      }
      if (a.attestor !== undefined) validateAttestorSets([a.attestor], [...ep, 'attestor'], notary, rejectNotaryKeys, out);
    });
  });
}

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

function validatePolicy(p: Record<string, unknown>, out: Problem[]): void {
  const kind = p.kind;
  const namespaced = kind === 'Policy';
  const v2 = p.apiVersion === 'kyverno.io/v2beta1';
  const meta = p.metadata;
  if (!expectType(meta, 'object', ['metadata'], out)) return;
  const m = meta as Record<string, unknown>;
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
  if (!expectType(p.spec, 'object', ['spec'], out)) return;
  const spec = p.spec as Record<string, unknown>;
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
  if (spec.rules === undefined) return;
  if (!expectType(spec.rules, 'array', ['spec', 'rules'], out, 'write `rules:` as a list; each rule starts with "- name:"')) return;
  const names = new Set<string>();
  (spec.rules as unknown[]).forEach((r, ri) => {
    const rp: Path = ['spec', 'rules', ri];
    if (!expectType(r, 'object', rp, out)) return;
    const rule = r as Record<string, unknown>;
    checkFields(rule, RULE_FIELDS, rp, 'a rule', out);
    const name = rule.name;
    if (typeof name !== 'string' || name === '') {
      out.push({ path: rp, message: 'rule name is required', hint: 'add `name: <rule-name>`' });
    } else {
      if (name.length > 63)
        out.push({ path: [...rp, 'name'], message: 'rule name must be no more than 63 characters', hint: 'shorten it' });
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
    } else validateMatch(rule.match, [...rp, 'match'], 'match', namespaced, out, v2);
    if (rule.exclude !== undefined && rule.exclude !== null)
      validateMatch(rule.exclude, [...rp, 'exclude'], 'exclude', namespaced, out, v2);
    if (rule.imageExtractors !== undefined && rule.verifyImages === undefined) {
      out.push({
        path: [...rp, 'imageExtractors'],
        atKey: true,
        message: 'imageExtractors can only be defined for verifyImages rule',
        hint: 'remove imageExtractors',
      });
    }
    if (Array.isArray(rule.context)) {
      (rule.context as unknown[]).forEach((c, ci) => {
        if (expectType(c, 'object', [...rp, 'context', ci], out))
          checkFields(c as Record<string, unknown>, CONTEXT_FIELDS, [...rp, 'context', ci], 'a context entry', out);
      });
    }
    if (v2 && Array.isArray(rule.preconditions)) {
      out.push({
        path: [...rp, 'preconditions'],
        message: 'preconditions must be an object with any/all in kyverno.io/v2beta1',
        hint: 'wrap the list in `all:`',
      });
    }
    if (rule.verifyImages === undefined) return;
    const ivp = [...rp, 'verifyImages'];
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
      const p0 = [...ivp, i];
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
      if (iv.attestors !== undefined) validateAttestorSets(iv.attestors, [...p0, 'attestors'], notary, true, out);
      if (iv.attestations !== undefined && expectType(iv.attestations, 'array', [...p0, 'attestations'], out)) {
        (iv.attestations as unknown[]).forEach((at, ai) => {
          const ap = [...p0, 'attestations', ai];
          if (!expectType(at, 'object', ap, out)) return;
          const a = at as Record<string, unknown>;
          checkFields(a, ATTESTATION_FIELDS, ap, 'an attestation', out);
          if (a.attestors !== undefined) validateAttestorSets(a.attestors, [...ap, 'attestors'], notary, false, out);
          else if (notary) {
            out.push({
              path: ap,
              message: 'attestations of type Notary need attestors',
              hint: 'add `attestors: [{entries: [{certificates: {cert: <PEM>}}]}]` (Kyverno crashes without them)',
            });
          }
        });
      }
    });
  });
}

function problemError(problems: Problem[], locate: Locator | undefined, source: string | undefined, docIndex: number): VouchError {
  const p = problems[0]!;
  const pos = locate?.(p.path, p.atKey);
  const where = pos ? `${source ?? '<input>'}:${pos.line}:${pos.column}` : (source ?? '<input>');
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  const msg = `${where}: ${p.message} at ${formatPath(p.path) || '<document>'}${p.hint ? `; ${p.hint}` : ''}${more}`;
  const all = problems.map((q) => {
    const qp = locate?.(q.path, q.atKey);
    return { message: q.message, hint: q.hint, path: formatPath(q.path), line: qp?.line, column: qp?.column };
  });
  return new VouchError('ERR_KYVERNO_POLICY_INVALID', msg, {
    details: { line: pos?.line, column: pos?.column, path: formatPath(p.path), source, document: docIndex, problems: all },
  });
}

function finish(obj: unknown, opts: ParsePolicyOptions, locate: Locator | undefined, docIndex: number): KyvernoPolicy | undefined {
  const out: Problem[] = [];
  if (!isObj(obj)) {
    out.push({
      path: [],
      message: 'a policy document must be a mapping',
      hint: 'start with `apiVersion: kyverno.io/v1` and `kind: ClusterPolicy`',
    });
    throw problemError(out, locate, opts.source, docIndex);
  }
  const kind = obj.kind;
  const apiVersion = obj.apiVersion;
  if (kind !== 'ClusterPolicy' && kind !== 'Policy') {
    if (opts.ignoreOtherKinds) return undefined;
    out.push({
      path: ['kind'],
      message: `unsupported kind ${JSON.stringify(kind)}`,
      hint: 'write `kind: ClusterPolicy` or `kind: Policy`',
    });
    throw problemError(out, locate, opts.source, docIndex);
  }
  if (apiVersion !== 'kyverno.io/v1' && apiVersion !== 'kyverno.io/v2beta1') {
    out.push({
      path: ['apiVersion'],
      message: `unsupported apiVersion ${JSON.stringify(apiVersion)} for ${kind}`,
      hint: 'write `apiVersion: kyverno.io/v1` (or kyverno.io/v2beta1)',
    });
    throw problemError(out, locate, opts.source, docIndex);
  }
  if (obj.spec === undefined || obj.spec === null) obj.spec = {};
  // CRD defaulting happens before validation (as in the API server / kubectl-validate).
  if (isObj(obj.spec)) {
    if (opts.applyDefaults !== false) applyDefaults(obj);
    else fillBooleans(obj);
  }
  if (opts.validate !== false) validatePolicy(obj, out);
  if (out.length > 0) throw problemError(out, locate, opts.source, docIndex);
  const spec = obj.spec as Record<string, unknown>;
  spec.rules ??= [];
  return obj as unknown as KyvernoPolicy;
}

/**
 * Parses ClusterPolicy / Policy documents (kyverno.io/v1 and v2beta1) from YAML or JSON text
 * (multi-document), applies the CRD defaults and runs Kyverno's policy validation. Every problem
 * throws VouchError ERR_KYVERNO_POLICY_INVALID whose message names `file:line:column`, the field, and
 * what to write instead; `details` carry `{line, column, path, problems[]}`.
 */
export function parsePolicies(text: string, options: ParsePolicyOptions = {}): KyvernoPolicy[] {
  const lc = new LineCounter();
  let docs: Document[];
  try {
    docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false }) as Document[];
    if (!Array.isArray(docs)) docs = [docs as unknown as Document];
  } catch (e) {
    throw new VouchError('ERR_KYVERNO_POLICY_INVALID', `${options.source ?? '<input>'}: cannot parse YAML: ${(e as Error).message}`, {
      cause: e,
      details: {},
    });
  }
  const out: KyvernoPolicy[] = [];
  docs.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err) {
      const lp = lc.linePos(err.pos[0]);
      const tabHint = /tab/i.test(err.message) ? 'indent with spaces, not tabs' : '';
      throw new VouchError(
        'ERR_KYVERNO_POLICY_INVALID',
        `${options.source ?? '<input>'}:${lp.line}:${lp.col}: YAML syntax error: ${err.message.split('\n')[0]}; ${tabHint || 'check the indentation: a nested field is indented further than its parent, list items start with "- ", and siblings line up exactly'}`,
        { cause: err, details: { line: lp.line, column: lp.col, path: '', source: options.source, document: i } },
      );
    }
    if (doc.contents === null) return;
    let js: unknown;
    try {
      js = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new VouchError(
        'ERR_KYVERNO_POLICY_INVALID',
        `${options.source ?? '<input>'}: cannot convert YAML document ${i + 1}: ${(e as Error).message}`,
        { cause: e, details: { document: i } },
      );
    }
    if (js === null || js === undefined) return;
    const p = finish(js, options, makeLocator(doc, lc), i);
    if (p) out.push(p);
  });
  return out;
}

/** Builds a policy from an already-decoded object (JSON), with the same defaults and validation as {@link parsePolicies}. */
export function policyFromObject(obj: unknown, options: ParsePolicyOptions = {}): KyvernoPolicy {
  const copy = JSON.parse(JSON.stringify(obj ?? null));
  const p = finish(copy, { ...options, ignoreOtherKinds: false }, undefined, 0);
  return p as KyvernoPolicy;
}

/** `name` for a ClusterPolicy, `namespace/name` for a Policy (Kyverno's policy key). */
export function policyKey(policy: KyvernoPolicy): string {
  return policy.kind === 'Policy' ? `${policy.metadata.namespace ?? 'default'}/${policy.metadata.name}` : policy.metadata.name;
}
