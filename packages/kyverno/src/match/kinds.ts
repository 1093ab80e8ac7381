/** A parsed Kyverno kind selector: `group/version/Kind/subresource`, each part a wildcard pattern. */
export interface KindSelector {
  group: string;
  version: string;
  kind: string;
  subresource: string;
}

/** Group/version/kind of a resource. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

import { wildcardMatch } from './wildcard.js';

const VERSION_RE = /^v\d+((alpha|beta)\d+)?$/;

function isVersion(s: string): boolean {
  return s === '*' || VERSION_RE.test(s);
}

/**
 * Parses a `kinds` entry the way Kyverno does (`ParseKindSelector`): the last `/` segment is also split
 * on `.` (`Pod.status` == `Pod/status`); one part is a Kind, two are version/Kind or Kind/subresource
 * (`*` + lowercase = any kind with that subresource), three are version/Kind/sub or group/version/Kind,
 * four are group/version/Kind/sub; more is an empty selector.
 */
export function parseKindSelector(input: string): KindSelector {
  const parts = input.split('/');
  const last = parts.pop() as string;
  const dot = last.split('.');
  parts.push(...dot);
  switch (parts.length) {
    case 1:
      return { group: '*', version: '*', kind: parts[0]!, subresource: '' };
    case 2: {
      const [a, b] = parts as [string, string];
      if (a === '*' && b === '*') return { group: '*', version: '*', kind: '*', subresource: '*' };
      if (a === '*' && b !== '' && b === b.toLowerCase()) return { group: '*', version: '*', kind: '*', subresource: b };
      if (isVersion(a)) return { group: '*', version: a, kind: b, subresource: '' };
      return { group: '*', version: '*', kind: a, subresource: b };
    }
    case 3: {
      const [a, b, c] = parts as [string, string, string];
      if (isVersion(a)) return { group: '*', version: a, kind: b, subresource: c };
      return { group: a, version: b, kind: c, subresource: '' };
    }
    case 4:
      return { group: parts[0]!, version: parts[1]!, kind: parts[2]!, subresource: parts[3]! };
    default:
      return { group: '', version: '', kind: '', subresource: '' };
  }
}

// Parsed selectors per kinds list (policy arrays are not mutated after parsing); weak, so nothing outlives its policy.
const parsedKinds = new WeakMap<readonly string[], KindSelector[]>();

function selectorsOf(kinds: readonly string[]): KindSelector[] {
  let v = parsedKinds.get(kinds);
  if (!v || v.length !== kinds.length) {
    v = kinds.map(parseKindSelector);
    parsedKinds.set(kinds, v);
  }
  return v;
}

/**
 * Kyverno `CheckKind`: true when any selector in `kinds` matches the resource's GVK and subresource.
 * With `allowEphemeralContainers`, a `Pod` selector also matches the `ephemeralcontainers` subresource.
 */
export function checkKind(
  kinds: readonly string[],
  gvk: GroupVersionKind,
  subresource: string,
  allowEphemeralContainers: boolean,
): boolean {
  for (const sel of selectorsOf(kinds)) {
    if (wildcardMatch(sel.group, gvk.group) && wildcardMatch(sel.version, gvk.version) && wildcardMatch(sel.kind, gvk.kind)) {
      if (wildcardMatch(sel.subresource, subresource)) return true;
      if (allowEphemeralContainers && gvk.kind === 'Pod' && subresource === 'ephemeralcontainers' && sel.subresource === '') return true;
    }
  }
  return false;
}

/**
 * Kyverno `GetKindFromGVK`: splits a kinds entry into an apiVersion and a `Kind[/subresource]`
 * (used by autogen to decide which kinds a rule mentions).
 */
export function getKindFromGVK(str: string): { apiVersion: string; kind: string } {
  const parts = str.split('/');
  const looksVersion = (s: string) => /v\d((alpha|beta)\d)?/.test(s) || s === '*';
  if (parts.length === 2) {
    if (str === '*/*') return { apiVersion: '', kind: '*/*' };
    if (looksVersion(parts[0]!)) return { apiVersion: parts[0]!, kind: formatSub(parts[1]!) };
    return { apiVersion: '', kind: `${parts[0]}/${parts[1]}` };
  }
  if (parts.length === 3) {
    if (looksVersion(parts[0]!)) return { apiVersion: parts[0]!, kind: `${parts[1]}/${parts[2]}` };
    return { apiVersion: `${parts[0]}/${parts[1]}`, kind: formatSub(parts[2]!) };
  }
  if (parts.length === 4) return { apiVersion: `${parts[0]}/${parts[1]}`, kind: `${parts[2]}/${parts[3]}` };
  return { apiVersion: '', kind: formatSub(str) };
}

function formatSub(s: string): string {
  const dot = s.indexOf('.');
  if (dot < 0) return s;
  return `${s.slice(0, dot)}/${s.slice(dot + 1)}`;
}

/** Splits an apiVersion (`apps/v1`, `v1`) into group and version. */
export function splitApiVersion(apiVersion: string | undefined): { group: string; version: string } {
  const av = apiVersion ?? '';
  const i = av.indexOf('/');
  if (i < 0) return { group: '', version: av };
  return { group: av.slice(0, i), version: av.slice(i + 1) };
}
