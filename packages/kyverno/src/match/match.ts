import type { KubeObject, LabelSelector, RequestInfo, ResourceDescription, ResourceFilter, Rule, Subject } from '../types.js';
import { checkKind, type GroupVersionKind, splitApiVersion } from './kinds.js';
import { containsWildcard, wildcardMatch } from './wildcard.js';

/** Everything match/exclude evaluation depends on. */
export interface MatchInput {
  resource: KubeObject;
  /** Admission operation (default CREATE). */
  operation?: string;
  /** Request user info; all-empty means "unknown" (background/CLI): match filters then ignore user info. */
  requestInfo?: RequestInfo;
  /** Labels of the resource's namespace (for namespaceSelector). */
  namespaceLabels?: Record<string, string>;
  /** GVK used for kind matching (default: from the resource; for subresources: the parent's). */
  gvk?: GroupVersionKind;
  /** Subresource of the request (`status`, `exec`, `scale`, …). */
  subresource?: string;
  /** Namespace of a namespaced Policy (empty for ClusterPolicy). */
  policyNamespace?: string;
}

/** Result of matching one rule: `matched` is true when match succeeded and exclude did not. */
export interface MatchResult {
  matched: boolean;
  /** Kyverno's reasons when not matched. */
  reasons: string[];
}

/** Kyverno `CheckName`: wildcard match of a name pattern. */
export function checkName(pattern: string, name: string): boolean {
  return wildcardMatch(pattern, name);
}

/** Kyverno `checkNameSpace`: resource namespace (the NAME for kind Namespace) against any pattern. */
export function checkNamespace(namespaces: readonly string[], resource: { kind?: string; name?: string; namespace?: string }): boolean {
  const ns = resource.kind === 'Namespace' ? (resource.name ?? '') : (resource.namespace ?? '');
  return namespaces.some((p) => wildcardMatch(p, ns));
}

/** Kyverno `CheckAnnotations`: every expected key/value (both wildcards) matches some actual annotation. */
export function checkAnnotations(expected: Record<string, string>, actual: Record<string, string> | undefined): boolean {
  const act = actual ?? {};
  if (Object.keys(expected).length > 0 && Object.keys(act).length === 0) return false;
  return Object.entries(expected).every(([k, v]) =>
    Object.entries(act).some(([ak, av]) => wildcardMatch(k, ak) && wildcardMatch(v, String(av))),
  );
}

const LABEL_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validLabelKey(k: string): boolean {
  const parts = k.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1]!;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME_RE.test(name)) return false;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix)) return false;
  }
  return true;
}

function validLabelValue(v: string): boolean {
  return v === '' || (v.length <= 63 && LABEL_NAME_RE.test(v));
}

/**
 * Kyverno `CheckSelector`: wildcard keys/values in `matchLabels` are replaced by the first actual label
 * that matches both (else `*`/`?` become `0`), then standard Kubernetes selector semantics apply.
 * Throws (as Kyverno errors) on an invalid selector.
 */
export function checkSelector(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const actual = labels ?? {};
  const ml: Record<string, string> = {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    const value = String(v);
    if (containsWildcard(k) || containsWildcard(value)) {
      const hit = Object.entries(actual).find(([ak, av]) => wildcardMatch(k, ak) && wildcardMatch(value, av));
      if (hit) ml[hit[0]] = hit[1];
      else ml[k.replace(/[*?]/g, '0')] = value.replace(/[*?]/g, '0');
    } else ml[k] = value;
  }
  for (const [k, v] of Object.entries(ml)) {
    if (!validLabelKey(k)) throw new Error(`invalid label key ${JSON.stringify(k)}`);
    if (!validLabelValue(v)) throw new Error(`invalid label value ${JSON.stringify(v)}`);
  }
  for (const [k, v] of Object.entries(ml)) if (actual[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    if (!validLabelKey(e.key)) throw new Error(`invalid label key ${JSON.stringify(e.key)}`);
    const has = Object.hasOwn(actual, e.key);
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !vals.includes(actual[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(actual[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    }
  }
  return true;
}

/** Kyverno `CheckSubjects`: any subject matches the request user (wildcards on names). */
export function checkSubjects(subjects: readonly Subject[], userInfo: { username?: string; groups?: string[] } | undefined): boolean {
  const username = userInfo?.username ?? '';
  const groups = userInfo?.groups ?? [];
  for (const s of subjects) {
    switch (s.kind) {
      case 'ServiceAccount':
        if (wildcardMatch(`system:serviceaccount:${s.namespace ?? ''}:${s.name}`, username)) return true;
        break;
      case 'Group':
        if (groups.some((g) => wildcardMatch(s.name, g))) return true;
        break;
      case 'User':
        if (wildcardMatch(s.name, username)) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

function isEmptyRequestInfo(ri: RequestInfo | undefined): boolean {
  if (!ri) return true;
  return (
    (ri.roles ?? []).length === 0 &&
    (ri.clusterRoles ?? []).length === 0 &&
    !ri.userInfo?.username &&
    (ri.userInfo?.groups ?? []).length === 0 &&
    !ri.userInfo?.uid
  );
}

// Filters come from parsed policies, which are not mutated: their emptiness is computed once.
const emptyDescriptions = new WeakMap<ResourceDescription, boolean>();

function isEmptyDescription(rd: ResourceDescription | undefined): boolean {
  if (!rd) return true;
  let v = emptyDescriptions.get(rd);
  if (v === undefined) {
    v = Object.entries(rd).every(([, x]) => x === undefined || x === null || (Array.isArray(x) && x.length === 0) || x === '');
    emptyDescriptions.set(rd, v);
  }
  return v;
}

/** GVK of a resource from its apiVersion/kind. */
export function resourceGVK(resource: KubeObject): GroupVersionKind {
  const { group, version } = splitApiVersion(resource.apiVersion);
  return { group, version, kind: typeof resource.kind === 'string' ? resource.kind : '' };
}

function isEmptyUserInfo(f: ResourceFilter): boolean {
  return (f.roles ?? []).length === 0 && (f.clusterRoles ?? []).length === 0 && (f.subjects ?? []).length === 0;
}

const NO_DESCRIPTION: ResourceDescription = Object.freeze({});

/**
 * Kyverno's condition block: true when `rd` (and, with `userChecks`, the filter's user info) accepts the
 * input. The reasons it does not are appended to `errs` when a collector is given; without one,
 * evaluation stops at the first rejection (the boolean answer is the same).
 */
function conditionBlock(rd: ResourceDescription, f: ResourceFilter, userChecks: boolean, input: MatchInput, errs?: string[]): boolean {
  const resource = input.resource;
  const meta = resource.metadata ?? {};
  const operation = input.operation ?? 'CREATE';
  if (rd.operations && rd.operations.length > 0 && !rd.operations.includes(operation)) {
    errs?.push('operation does not match');
    return false;
  }
  const start = errs?.length ?? 0;
  const gvk = input.gvk ?? resourceGVK(resource);
  if (rd.kinds && rd.kinds.length > 0 && !checkKind(rd.kinds, gvk, input.subresource ?? '', true)) {
    if (stop(errs, `kind does not match [${rd.kinds.join(' ')}]`)) return false;
  }
  const name = meta.name || meta.generateName || '';
  if (rd.name && !checkName(rd.name, name) && stop(errs, 'name does not match')) return false;
  if (rd.names && rd.names.length > 0 && !rd.names.some((n) => checkName(n, name)) && stop(errs, 'none of the names match')) return false;
  if (
    rd.namespaces &&
    rd.namespaces.length > 0 &&
    !checkNamespace(rd.namespaces, { kind: resource.kind, name: meta.name, namespace: meta.namespace }) &&
    stop(errs, 'namespace does not match')
  ) {
    return false;
  }
  if (
    rd.annotations &&
    Object.keys(rd.annotations).length > 0 &&
    !checkAnnotations(rd.annotations, meta.annotations) &&
    stop(errs, 'annotations does not match')
  ) {
    return false;
  }
  if (rd.selector) {
    let reason: string | undefined;
    try {
      if (!checkSelector(rd.selector, meta.labels)) reason = 'selector does not match';
    } catch (e) {
      reason = `failed to parse selector: ${(e as Error).message}`;
    }
    if (reason !== undefined && stop(errs, reason)) return false;
  }
  if (rd.namespaceSelector) {
    let reason: string | undefined;
    if (resource.kind === 'Namespace') reason = 'namespace selector is not applicable for namespace resource';
    else {
      try {
        if (!checkSelector(rd.namespaceSelector, input.namespaceLabels)) reason = 'namespace selector does not match labels';
      } catch (e) {
        reason = `failed to parse namespace selector: ${(e as Error).message}`;
      }
    }
    if (reason !== undefined && stop(errs, reason)) return false;
  }
  if (!userChecks) return errs ? errs.length === start : true;
  const ri = input.requestInfo ?? {};
  if ((f.roles ?? []).length > 0 && !(f.roles ?? []).some((r) => (ri.roles ?? []).includes(r))) {
    if (stop(errs, 'user info does not match roles for the given conditionBlock')) return false;
  }
  if ((f.clusterRoles ?? []).length > 0 && !(f.clusterRoles ?? []).some((r) => (ri.clusterRoles ?? []).includes(r))) {
    if (stop(errs, 'user info does not match clustersRoles for the given conditionBlock')) return false;
  }
  if (
    (f.subjects ?? []).length > 0 &&
    !checkSubjects(f.subjects ?? [], ri.userInfo) &&
    stop(errs, 'user info does not match subject for the given conditionBlock')
  ) {
    return false;
  }
  return errs ? errs.length === start : true;
}

/** Records a rejection: true when evaluation should stop (no collector), else pushes the reason. */
function stop(errs: string[] | undefined, reason: string): boolean {
  if (!errs) return true;
  errs.push(reason);
  return false;
}

/** Whether one match filter accepts the input (reasons to `errs` when given). */
function matchHelper(f: ResourceFilter, input: MatchInput, errs?: string[]): boolean {
  // without request user info (background/CLI), the filter's user info is ignored
  const userChecks = !isEmptyRequestInfo(input.requestInfo);
  if (!isEmptyDescription(f.resources) || (userChecks && !isEmptyUserInfo(f))) {
    return conditionBlock(f.resources ?? NO_DESCRIPTION, f, userChecks, input, errs);
  }
  errs?.push('match cannot be empty');
  return false;
}

/** Whether one exclude filter excludes the input. */
function excludes(f: ResourceFilter, input: MatchInput): boolean {
  if (isEmptyDescription(f.resources) && isEmptyUserInfo(f)) return false;
  return conditionBlock(f.resources ?? NO_DESCRIPTION, f, true, input);
}

/** Match then exclude; with a collector, every reason (Kyverno's list), else stops at the first. */
function evaluateMatch(rule: Pick<Rule, 'match' | 'exclude'>, input: MatchInput, reasons?: string[]): boolean {
  const resource = input.resource;
  if (!resource || typeof resource !== 'object') {
    reasons?.push('resource is empty');
    return false;
  }
  const ns = resource.metadata?.namespace ?? '';
  if (input.policyNamespace && input.policyNamespace !== ns) {
    reasons?.push('policy and resource namespaces mismatch');
    return false;
  }
  let ok = true;
  const match = rule.match ?? {};
  if (match.any && match.any.length > 0) {
    let any = false;
    for (let i = 0; i < match.any.length && !any; i++) any = matchHelper(match.any[i]!, input);
    if (!any) {
      if (!reasons) return false;
      reasons.push('no resource matched');
      ok = false;
    }
  } else if (match.all && match.all.length > 0) {
    for (const f of match.all) {
      if (!matchHelper(f, input, reasons)) {
        if (!reasons) return false;
        ok = false;
      }
    }
  } else if (!matchHelper(match, input, reasons)) {
    if (!reasons) return false;
    ok = false;
  }
  const exclude = rule.exclude ?? {};
  if (exclude.any && exclude.any.length > 0) {
    for (const f of exclude.any) {
      if (excludes(f, input)) {
        if (!reasons) return false;
        reasons.push('resource excluded since one of the criteria excluded it');
        ok = false;
      }
    }
  } else if (exclude.all && exclude.all.length > 0) {
    if (exclude.all.every((f) => excludes(f, input))) {
      reasons?.push('resource excluded since the combination of all criteria exclude it');
      ok = false;
    }
  } else if (excludes(exclude, input)) {
    reasons?.push('resource excluded since one of the criteria excluded it');
    ok = false;
  }
  return ok;
}

/** {@link matchRule}'s `matched` without collecting reasons (stops at the first rejection). */
export function ruleMatchesInput(rule: Pick<Rule, 'match' | 'exclude'>, input: MatchInput): boolean {
  return evaluateMatch(rule, input);
}

/**
 * Kyverno `MatchesResourceDescription` for one rule: match (`any`/`all`/inline) and, when it matched,
 * exclude. Namespaced policies only apply to resources in their namespace.
 */
export function matchRule(rule: Pick<Rule, 'match' | 'exclude'>, input: MatchInput): MatchResult {
  const reasons: string[] = [];
  const matched = evaluateMatch(rule, input, reasons);
  return { matched, reasons };
}
