import { describe, expect, it } from 'vitest';
import { checkKind } from './kinds.js';
import { matchRule } from './match.js';
import { wildcardMatch } from './wildcard.js';

const pod = (extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'prod', labels: { app: 'web', tier: 'front' }, annotations: { 'team.io/owner': 'a' } },
  spec: { containers: [{ name: 'c', image: 'nginx' }] },
  ...extra,
});

describe('wildcards', () => {
  it('follows Kyverno: * crosses / and :, ? is exactly one char, anchored, case-sensitive', () => {
    expect(wildcardMatch('ghcr.io/*', 'ghcr.io/org/app:v1@sha256:abc')).toBe(true);
    expect(wildcardMatch('nginx:*', 'docker.io/nginx:latest')).toBe(false);
    expect(wildcardMatch('?', '')).toBe(false);
    expect(wildcardMatch('a?c', 'a/c')).toBe(true);
    expect(wildcardMatch('Pod', 'pod')).toBe(false);
    expect(wildcardMatch('', '')).toBe(true);
    expect(wildcardMatch('', 'x')).toBe(false);
  });
});

describe('matchRule', () => {
  it('any: one filter suffices; all: every filter must match', () => {
    const any = { match: { any: [{ resources: { kinds: ['Deployment'] } }, { resources: { kinds: ['Pod'], namespaces: ['prod'] } }] } };
    expect(matchRule(any, { resource: pod() }).matched).toBe(true);
    const all = { match: { all: [{ resources: { kinds: ['Pod'] } }, { resources: { namespaces: ['dev'] } }] } };
    const r = matchRule(all, { resource: pod() });
    expect(r.matched).toBe(false);
    expect(r.reasons).toContain('namespace does not match');
  });

  it('exclude.any excludes on one filter, exclude.all only when every filter matches', () => {
    const base = { match: { any: [{ resources: { kinds: ['Pod'] } }] } };
    expect(
      matchRule({ ...base, exclude: { any: [{ resources: { selector: { matchLabels: { app: 'w*' } } } }] } }, { resource: pod() }).matched,
    ).toBe(false);
    expect(
      matchRule(
        { ...base, exclude: { all: [{ resources: { names: ['web-*'] } }, { resources: { namespaces: ['dev'] } }] } },
        { resource: pod() },
      ).matched,
    ).toBe(true);
    expect(matchRule({ ...base, exclude: {} }, { resource: pod() }).matched).toBe(true);
  });

  it('kinds with group/version and subresources', () => {
    expect(checkKind(['apps/v1/Deployment'], { group: 'apps', version: 'v1', kind: 'Deployment' }, '', true)).toBe(true);
    expect(checkKind(['Pod'], { group: '', version: 'v1', kind: 'Pod' }, 'status', true)).toBe(false);
    expect(checkKind(['Pod'], { group: '', version: 'v1', kind: 'Pod' }, 'ephemeralcontainers', true)).toBe(true);
    expect(checkKind(['Deployment/scale'], { group: 'apps', version: 'v1', kind: 'Deployment' }, 'scale', true)).toBe(true);
  });

  it('namespaceSelector uses the given namespace labels; annotations are wildcard pairs; operations gate first', () => {
    const rule = {
      match: {
        any: [{ resources: { kinds: ['Pod'], namespaceSelector: { matchLabels: { env: 'prod' } }, annotations: { 'team.io/*': '?' } } }],
      },
    };
    expect(matchRule(rule, { resource: pod(), namespaceLabels: { env: 'prod' } }).matched).toBe(true);
    expect(matchRule(rule, { resource: pod(), namespaceLabels: { env: 'dev' } }).matched).toBe(false);
    const ops = { match: { any: [{ resources: { kinds: ['Pod'], operations: ['DELETE'] } }] } };
    expect(matchRule(ops, { resource: pod(), operation: 'CREATE' }).reasons).toEqual(['no resource matched']);
    expect(matchRule(ops, { resource: pod(), operation: 'DELETE' }).matched).toBe(true);
  });

  it('user info: match ignores it without request info, exclude does not', () => {
    const rule = { match: { any: [{ resources: { kinds: ['Pod'] }, subjects: [{ kind: 'User', name: 'alice' }] }] } };
    expect(matchRule(rule, { resource: pod() }).matched).toBe(true);
    expect(matchRule(rule, { resource: pod(), requestInfo: { userInfo: { username: 'bob' } } }).matched).toBe(false);
    expect(matchRule(rule, { resource: pod(), requestInfo: { userInfo: { username: 'alice' } } }).matched).toBe(true);
    const sa = {
      match: { any: [{ resources: { kinds: ['Pod'] } }] },
      exclude: { any: [{ subjects: [{ kind: 'ServiceAccount', name: '?*', namespace: 'kube-*' }] }] },
    };
    expect(matchRule(sa, { resource: pod(), requestInfo: { userInfo: { username: 'system:serviceaccount:kube-system:x' } } }).matched).toBe(
      false,
    );
    const roles = { match: { any: [{ resources: { kinds: ['Pod'] }, clusterRoles: ['cluster-admin'] }] } };
    expect(matchRule(roles, { resource: pod(), requestInfo: { clusterRoles: ['view'], userInfo: { username: 'u' } } }).matched).toBe(false);
  });

  it('namespaced policies only apply in their namespace', () => {
    const rule = { match: { any: [{ resources: { kinds: ['Pod'] } }] } };
    expect(matchRule(rule, { resource: pod(), policyNamespace: 'other' }).matched).toBe(false);
  });
});
