import { checkKind, type GroupVersionKind, splitApiVersion } from './kinds.js';
import type {
  KubeObject,
  LabelSelector,
  MatchResources,
  RequestInfo,
  ResourceDescription,
  ResourceFilter,
  Rule,
  Subject,
} from './types.js';
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

function isEmptyDescription(rd: ResourceDescription | undefined): boolean {
  if (!rd) return true;
  return Object.entries(rd).every(([, v]) => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || v === '');
}

function isEmptyUserInfo(f: ResourceFilter): boolean {
  return (f.roles ?? []).length === 0 && (f.clusterRoles ?? []).length === 0 && (f.subjects ?? []).length === 0;
}

/** GVK of a resource from its apiVersion/kind. */
export function resourceGVK(resource: KubeObject): GroupVersionKind {
  const { group, version } = splitApiVersion(resource.apiVersion);
  return { group, version, kind: typeof resource.kind === 'string' ? resource.kind : '' };
}

function conditionBlock(rd: ResourceDescription, f: ResourceFilter, input: MatchInput): string[] {
  const resource = input.resource;
  const meta = resource.metadata ?? {};
  const operation = input.operation ?? 'CREATE';
  if (rd.operations && rd.operations.length > 0 && !rd.operations.includes(operation)) return ['operation does not match'];
  const errs: string[] = [];
  const gvk = input.gvk ?? resourceGVK(resource);
  if (rd.kinds && rd.kinds.length > 0 && !checkKind(rd.kinds, gvk, input.subresource ?? '', true)) {
    errs.push(`kind does not match [${rd.kinds.join(' ')}]`);
  }
  const name = meta.name || meta.generateName || '';
  if (rd.name && !checkName(rd.name, name)) errs.push('name does not match');
  if (rd.names && rd.names.length > 0 && !rd.names.some((n) => checkName(n, name))) errs.push('none of the names match');
  if (
    rd.namespaces &&
    rd.namespaces.length > 0 &&
    !checkNamespace(rd.namespaces, { kind: resource.kind, name: meta.name, namespace: meta.namespace })
  ) {
    errs.push('namespace does not match');
  }
  if (rd.annotations && Object.keys(rd.annotations).length > 0 && !checkAnnotations(rd.annotations, meta.annotations)) {
    errs.push('annotations does not match');
  }
  if (rd.selector) {
    try {
      if (!checkSelector(rd.selector, meta.labels)) errs.push('selector does not match');
    } catch (e) {
      errs.push(`failed to parse selector: ${(e as Error).message}`);
    }
  }
  if (rd.namespaceSelector) {
    if (resource.kind === 'Namespace') errs.push('namespace selector is not applicable for namespace resource');
    else {
      try {
        if (!checkSelector(rd.namespaceSelector, input.namespaceLabels)) errs.push('namespace selector does not match labels');
      } catch (e) {
        errs.push(`failed to parse namespace selector: ${(e as Error).message}`);
      }
    }
  }
  const ri = input.requestInfo ?? {};
  if ((f.roles ?? []).length > 0 && !(f.roles ?? []).some((r) => (ri.roles ?? []).includes(r))) {
    errs.push('user info does not match roles for the given conditionBlock');
  }
  if ((f.clusterRoles ?? []).length > 0 && !(f.clusterRoles ?? []).some((r) => (ri.clusterRoles ?? []).includes(r))) {
    errs.push('user info does not match clustersRoles for the given conditionBlock');
  }
  if ((f.subjects ?? []).length > 0 && !checkSubjects(f.subjects ?? [], ri.userInfo)) {
    errs.push('user info does not match subject for the given conditionBlock');
  }
  return errs;
}

function matchHelper(filter: ResourceFilter, input: MatchInput): string[] {
  let f = filter;
  if (isEmptyRequestInfo(input.requestInfo)) f = { resources: f.resources };
  if (!isEmptyDescription(f.resources) || !isEmptyUserInfo(f)) return conditionBlock(f.resources ?? {}, f, input);
  return ['match cannot be empty'];
}

function excludeHelper(filter: ResourceFilter, input: MatchInput): string[] {
  if (!isEmptyDescription(filter.resources) || !isEmptyUserInfo(filter)) {
    if (conditionBlock(filter.resources ?? {}, filter, input).length === 0) {
      return ['resource excluded since one of the criteria excluded it'];
    }
  }
  return [];
}

function inline(m: MatchResources): ResourceFilter {
  return { resources: m.resources, subjects: m.subjects, roles: m.roles, clusterRoles: m.clusterRoles };
}

/**
 * Kyverno `MatchesResourceDescription` for one rule: match (`any`/`all`/inline) and, when it matched,
 * exclude. Namespaced policies only apply to resources in their namespace.
 */
export function matchRule(rule: Pick<Rule, 'match' | 'exclude'>, input: MatchInput): MatchResult {
  const resource = input.resource;
  if (!resource || typeof resource !== 'object') return { matched: false, reasons: ['resource is empty'] };
  const reasons: string[] = [];
  const ns = resource.metadata?.namespace ?? '';
  if (input.policyNamespace && input.policyNamespace !== ns) {
    return { matched: false, reasons: ['policy and resource namespaces mismatch'] };
  }
  const match = rule.match ?? {};
  if (match.any && match.any.length > 0) {
    if (!match.any.some((f) => matchHelper(f, input).length === 0)) reasons.push('no resource matched');
  } else if (match.all && match.all.length > 0) {
    for (const f of match.all) reasons.push(...matchHelper(f, input));
  } else {
    reasons.push(...matchHelper(inline(match), input));
  }
  const exclude = rule.exclude ?? {};
  if (exclude.any && exclude.any.length > 0) {
    for (const f of exclude.any) reasons.push(...excludeHelper(f, input));
  } else if (exclude.all && exclude.all.length > 0) {
    let excludedByAll = true;
    for (const f of exclude.all) {
      if (excludeHelper(f, input).length === 0) {
        excludedByAll = false;
        break;
      }
    }
    if (excludedByAll) reasons.push('resource excluded since the combination of all criteria exclude it');
  } else {
    reasons.push(...excludeHelper(inline(exclude), input));
  }
  return { matched: reasons.length === 0, reasons };
}
