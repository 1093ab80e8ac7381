import { VouchError } from '@vouch/core';
import type { KyvernoPolicy, Rule } from '../types.js';
import { isObj } from '../util.js';
import { policyKey } from './key.js';
import { formatPath, type Path } from './locate.js';

/**
 * What vouch evaluates of a Kyverno policy: ONE table, keyed by construct. A construct marked
 * `supported: false` is never silently ignored: the policy is refused at load time (webhook, SDK
 * default) or, in `kyverno apply|test`, every rule that uses it fails with a message naming it.
 * Adding support for a construct is: implement it, flip its entry here.
 *
 * Constructs not in the table are either evaluated (match/exclude, preconditions, imageExtractors,
 * verifyImages types Notary, Cosign and SigstoreBundle with their attestors and attestations,
 * validate pattern / anyPattern / deny, …) or ignored exactly as Kyverno ignores them for type
 * Notary (`repository`, attestor `annotations`, `signatureAlgorithm`, `certificates.rekor` / `ctlog`).
 */
export const KYVERNO_SUPPORT = {
  'verifyImages.type.Notary': { supported: true, what: 'verifyImages of type Notary' },
  'verifyImages.type.Cosign': { supported: true, what: 'verifyImages of type Cosign (the default type when `type` is not set)' },
  'verifyImages.type.SigstoreBundle': { supported: true, what: 'verifyImages of type SigstoreBundle' },
  'Cosign.signatureAlgorithm': {
    supported: false,
    what: 'a Cosign `signatureAlgorithm` other than sha256 (vouch verifies with the hash the signature and key name)',
  },
  'verifyImages.image': { supported: false, what: 'the deprecated verifyImages `image` field (write `imageReferences`)' },
  'verifyImages.key': { supported: false, what: 'the deprecated verifyImages `key` field (Cosign)' },
  'verifyImages.roots': { supported: false, what: 'the deprecated verifyImages `roots` field (Cosign keyless)' },
  'verifyImages.subject': { supported: false, what: 'the deprecated verifyImages `subject` field (Cosign keyless)' },
  'verifyImages.issuer': { supported: false, what: 'the deprecated verifyImages `issuer` field (Cosign keyless)' },
  'verifyImages.additionalExtensions': {
    supported: false,
    what: 'the deprecated verifyImages `additionalExtensions` field (Cosign keyless)',
  },
  'verifyImages.annotations': { supported: false, what: 'the deprecated verifyImages `annotations` field (Cosign)' },
  'verifyImages.cosignOCI11': { supported: true, what: 'verifyImages `cosignOCI11` (Cosign: vouch always reads OCI 1.1 referrers)' },
  'Notary.attestors.entries.keys': { supported: false, what: '`keys` attestors for type Notary' },
  'Notary.attestors.entries.keyless': { supported: false, what: '`keyless` attestors for type Notary' },
  'Notary.attestations.attestors.entries.keys': {
    supported: false,
    what: '`keys` attestors of a type Notary attestation (Kyverno then checks no signature at all)',
  },
  'Notary.attestations.attestors.entries.keyless': {
    supported: false,
    what: '`keyless` attestors of a type Notary attestation (Kyverno then checks no signature at all)',
  },
  'Notary.attestations.attestors.entries.attestor': { supported: false, what: 'nested `attestor` sets inside a type Notary attestation' },
  'rule.mutate': { supported: false, what: 'mutate rules' },
  'rule.generate': { supported: false, what: 'generate rules' },
  'rule.celPreconditions': { supported: false, what: 'celPreconditions' },
  'validate.foreach': { supported: false, what: 'validate.foreach rules' },
  'validate.cel': { supported: false, what: 'validate.cel rules' },
  'validate.podSecurity': { supported: false, what: 'validate.podSecurity rules' },
  'validate.manifests': { supported: false, what: 'validate.manifests rules' },
  'validate.assert': { supported: false, what: 'validate.assert rules' },
  'validate.other': { supported: false, what: 'validate rules with neither pattern, anyPattern nor deny' },
  'spec.webhookConfiguration.matchConditions': { supported: false, what: 'webhookConfiguration.matchConditions (CEL)' },
} as const satisfies Record<string, { supported: boolean; what: string }>;

/** A construct of {@link KYVERNO_SUPPORT}. */
export type KyvernoConstruct = keyof typeof KYVERNO_SUPPORT;

/** One use of a construct vouch does not evaluate. */
export interface UnsupportedConstruct {
  construct: KyvernoConstruct;
  /** What it is, for people. */
  what: string;
  /** Policy key (`name` or `namespace/name`). */
  policy: string;
  /** The rule using it (absent for policy-level constructs). */
  rule?: string;
  /** Where: from the policy root (`spec.rules[0].verifyImages[1].type`), for rules of `spec.rules`. */
  path: (string | number)[];
}

const IV_DEPRECATED = ['image', 'key', 'roots', 'subject', 'issuer', 'additionalExtensions', 'annotations', 'cosignOCI11'] as const;
const VALIDATE_UNSUPPORTED = ['foreach', 'cel', 'podSecurity', 'manifests', 'assert'] as const;

/** The unsupported constructs one rule uses, with paths relative to the rule. */
export function unsupportedInRule(
  rule: Rule,
  support: Readonly<Record<KyvernoConstruct, { supported: boolean }>> = KYVERNO_SUPPORT,
): { construct: KyvernoConstruct; path: Path }[] {
  const out: { construct: KyvernoConstruct; path: Path }[] = [];
  const add = (construct: KyvernoConstruct, path: Path) => {
    if (!support[construct].supported) out.push({ construct, path });
  };
  const r = rule as unknown as Record<string, unknown>;
  if (r.mutate !== undefined && r.mutate !== null) add('rule.mutate', ['mutate']);
  if (r.generate !== undefined && r.generate !== null) add('rule.generate', ['generate']);
  if (Array.isArray(r.celPreconditions) ? r.celPreconditions.length > 0 : r.celPreconditions != null) {
    add('rule.celPreconditions', ['celPreconditions']);
  }
  const v = r.validate;
  if (isObj(v)) {
    let any = false;
    for (const k of VALIDATE_UNSUPPORTED) {
      if (v[k] !== undefined && v[k] !== null) {
        add(`validate.${k}`, ['validate', k]);
        any = true;
      }
    }
    if (!any && v.pattern === undefined && v.anyPattern === undefined && v.deny === undefined) add('validate.other', ['validate']);
  }
  const ivs = Array.isArray(r.verifyImages) ? (r.verifyImages as unknown[]) : [];
  ivs.forEach((x, i) => {
    if (!isObj(x)) return;
    const p: Path = ['verifyImages', i];
    const type = x.type ?? 'Cosign';
    // the type decides how signatures are checked: an entry without attestors or attestations checks
    // none (only digests and the verification records), whatever its type
    const checks = (Array.isArray(x.attestors) && x.attestors.length > 0) || (Array.isArray(x.attestations) && x.attestations.length > 0);
    if (checks) {
      if (type === 'Notary') add('verifyImages.type.Notary', [...p, 'type']);
      else if (type === 'SigstoreBundle') add('verifyImages.type.SigstoreBundle', [...p, 'type']);
      else add('verifyImages.type.Cosign', x.type === undefined ? p : [...p, 'type']);
    }
    for (const k of IV_DEPRECATED) if (x[k] !== undefined && x[k] !== null) add(`verifyImages.${k}`, [...p, k]);
    if (type !== 'Notary') {
      cosignAlgorithms(x, p, add);
      return;
    }
    const sets = (list: unknown, base: Path, inAttestation: boolean) => {
      if (!Array.isArray(list)) return;
      list.forEach((s, si) => {
        if (!isObj(s) || !Array.isArray(s.entries)) return;
        s.entries.forEach((e, ei) => {
          if (!isObj(e)) return;
          const ep: Path = [...base, si, 'entries', ei];
          if (inAttestation) {
            if (e.keys != null) add('Notary.attestations.attestors.entries.keys', [...ep, 'keys']);
            if (e.keyless != null) add('Notary.attestations.attestors.entries.keyless', [...ep, 'keyless']);
            if (e.attestor != null) add('Notary.attestations.attestors.entries.attestor', [...ep, 'attestor']);
          } else {
            if (e.keys != null) add('Notary.attestors.entries.keys', [...ep, 'keys']);
            if (e.keyless != null) add('Notary.attestors.entries.keyless', [...ep, 'keyless']);
            if (isObj(e.attestor)) sets([e.attestor], [...ep, 'attestor'], false);
          }
        });
      });
    };
    sets(x.attestors, [...p, 'attestors'], false);
    if (Array.isArray(x.attestations)) {
      x.attestations.forEach((a, ai) => {
        if (isObj(a)) sets(a.attestors, [...p, 'attestations', ai, 'attestors'], true);
      });
    }
  });
  return out;
}

const SHA256 = new Set(['', 'sha256']);

/** Cosign attestors whose `signatureAlgorithm` (entry or `keys`) is not sha256, in attestors and attestations. */
function cosignAlgorithms(x: Record<string, unknown>, p: Path, add: (c: KyvernoConstruct, path: Path) => void): void {
  const sets = (list: unknown, base: Path) => {
    if (!Array.isArray(list)) return;
    list.forEach((s, si) => {
      if (!isObj(s) || !Array.isArray(s.entries)) return;
      s.entries.forEach((e, ei) => {
        if (!isObj(e)) return;
        const ep: Path = [...base, si, 'entries', ei];
        if (typeof e.signatureAlgorithm === 'string' && !SHA256.has(e.signatureAlgorithm)) {
          add('Cosign.signatureAlgorithm', [...ep, 'signatureAlgorithm']);
        }
        const k = e.keys;
        if (isObj(k) && typeof k.signatureAlgorithm === 'string' && !SHA256.has(k.signatureAlgorithm)) {
          add('Cosign.signatureAlgorithm', [...ep, 'keys', 'signatureAlgorithm']);
        }
        if (isObj(e.attestor)) sets([e.attestor], [...ep, 'attestor']);
      });
    });
  };
  sets(x.attestors, [...p, 'attestors']);
  if (Array.isArray(x.attestations)) {
    x.attestations.forEach((a, ai) => {
      if (isObj(a)) sets(a.attestors, [...p, 'attestations', ai, 'attestors']);
    });
  }
}

/** The `validate` sub-features vouch's validate engine does not evaluate (empty when supported); see `KYVERNO_SUPPORT`. */
export function unsupportedValidateFeatures(rule: Rule): string[] {
  return unsupportedInRule(rule)
    .filter((u) => u.construct.startsWith('validate.'))
    .map((u) => (u.construct === 'validate.other' ? 'other' : u.construct.slice('validate.'.length)));
}

/** The unsupported constructs at the policy level (outside rules). */
function unsupportedInSpec(policy: KyvernoPolicy, support: Readonly<Record<KyvernoConstruct, { supported: boolean }>>): Path[] {
  const wc = (policy.spec as Record<string, unknown>).webhookConfiguration;
  if (isObj(wc) && Array.isArray(wc.matchConditions) && wc.matchConditions.length > 0) {
    if (!support['spec.webhookConfiguration.matchConditions'].supported) return [['spec', 'webhookConfiguration', 'matchConditions']];
  }
  return [];
}

/**
 * Every construct of `policy` that vouch does not evaluate (see {@link KYVERNO_SUPPORT}), for the
 * rules of `spec.rules` (autogen rules copy them) and the policy spec. Empty when vouch evaluates all of it.
 */
export function findUnsupported(
  policy: KyvernoPolicy,
  support: Readonly<Record<KyvernoConstruct, { supported: boolean; what: string }>> = KYVERNO_SUPPORT,
): UnsupportedConstruct[] {
  const key = policyKey(policy);
  const out: UnsupportedConstruct[] = [];
  for (const path of unsupportedInSpec(policy, support)) {
    out.push({
      construct: 'spec.webhookConfiguration.matchConditions',
      what: support['spec.webhookConfiguration.matchConditions'].what,
      policy: key,
      path,
    });
  }
  (policy.spec.rules ?? []).forEach((rule, i) => {
    for (const u of unsupportedInRule(rule, support)) {
      out.push({
        construct: u.construct,
        what: support[u.construct].what,
        policy: key,
        rule: rule.name,
        path: ['spec', 'rules', i, ...u.path],
      });
    }
  });
  return out;
}

/** `spec.rules[0].verifyImages[1].type` */
export function formatConstructPath(path: readonly (string | number)[]): string {
  return formatPath(path);
}

/** The message of a rule that fails because it uses `u` (apply/test). */
export function unsupportedRuleMessage(u: { construct: KyvernoConstruct; path: readonly (string | number)[] }): string {
  return `vouch cannot evaluate ${KYVERNO_SUPPORT[u.construct].what} (${formatConstructPath(u.path)}): the rule fails closed`;
}

/**
 * Throws VouchError ERR_UNSUPPORTED when any policy uses a construct vouch does not evaluate; the
 * message names the policy, the rule, the path and the construct, `details.unsupported` lists all.
 */
export function assertSupported(policies: readonly KyvernoPolicy[]): void {
  const all = policies.flatMap((p) => findUnsupported(p));
  if (all.length === 0) return;
  const u = all[0]!;
  const more = all.length > 1 ? ` (and ${all.length - 1} more)` : '';
  throw new VouchError(
    'ERR_UNSUPPORTED',
    `policy ${u.policy}${u.rule ? ` rule ${u.rule}` : ''}: vouch cannot evaluate ${u.what} (${formatConstructPath(u.path)}); a policy vouch cannot evaluate is refused rather than enforced in part${more}`,
    {
      details: {
        unsupported: all.map((x) => ({
          policy: x.policy,
          rule: x.rule,
          construct: x.construct,
          path: formatConstructPath(x.path),
          what: x.what,
        })),
      },
    },
  );
}
