import { describe, expect, it } from 'vitest';
import { autogenRuleName, computeRules, generateAutogenRules } from '../policy/autogen.js';
import { policyFromObject } from '../policy/parse.js';
import { extractImages, getImageInfo } from '../resource/images.js';
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

describe('autogen', () => {
  const policy = (annotations?: Record<string, string>, kinds = ['Pod']) =>
    policyFromObject({
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'p', ...(annotations ? { annotations } : {}) },
      spec: {
        validationFailureAction: 'Enforce',
        rules: [
          {
            name: 'check',
            match: { any: [{ resources: { kinds } }] },
            verifyImages: [
              {
                type: 'Notary',
                imageReferences: ['*'],
                attestors: [{ entries: [{ certificates: { cert: '{{ request.object.metadata.annotations.cert }}' } }] }],
              },
            ],
          },
        ],
      },
    });

  it('generates autogen-<rule> for pod controllers and autogen-cronjob-<rule>, rewriting request.object paths', () => {
    const rules = generateAutogenRules(policy());
    expect(rules.map((r) => r.name)).toEqual(['autogen-check', 'autogen-cronjob-check']);
    expect(rules[0]!.match.any![0]!.resources!.kinds).toEqual([
      'apps/v1/DaemonSet',
      'apps/v1/Deployment',
      'batch/v1/Job',
      'apps/v1/ReplicaSet',
      'v1/ReplicationController',
      'apps/v1/StatefulSet',
    ]);
    expect(rules[1]!.match.any![0]!.resources!.kinds).toEqual(['batch/v1/CronJob']);
    expect(rules[0]!.verifyImages![0]!.attestors![0]!.entries[0]!.certificates!.cert).toBe(
      '{{ request.object.spec.template.metadata.annotations.cert }}',
    );
    expect(rules[1]!.verifyImages![0]!.attestors![0]!.entries[0]!.certificates!.cert).toBe(
      '{{ request.object.spec.jobTemplate.spec.template.metadata.annotations.cert }}',
    );
  });

  it('honours the autogen-controllers annotation and disables autogen for mixed kinds', () => {
    expect(generateAutogenRules(policy({ 'pod-policies.kyverno.io/autogen-controllers': 'Deployment' })).map((r) => r.name)).toEqual([
      'autogen-check',
    ]);
    expect(generateAutogenRules(policy({ 'pod-policies.kyverno.io/autogen-controllers': 'none' }))).toEqual([]);
    expect(generateAutogenRules(policy(undefined, ['Pod', 'Deployment']))).toEqual([]);
    expect(computeRules(policy(), 'CronJob').map((r) => r.name)).toEqual(['check', 'autogen-cronjob-check']);
  });

  it('truncates generated names to 63 characters', () => {
    expect(autogenRuleName('autogen-cronjob', 'x'.repeat(60))).toHaveLength(63);
  });
});

describe('images', () => {
  it('normalizes like Kyverno: docker.io without library/, digest drops the tag', () => {
    expect(getImageInfo('nginx').reference).toBe('docker.io/nginx:latest');
    expect(getImageInfo('localhost:5000/a/b').reference).toBe('localhost:5000/a/b:latest');
    const d = getImageInfo(`ghcr.io/org/app:v1@sha256:${'a'.repeat(64)}`);
    expect(d.reference).toBe(`ghcr.io/org/app@sha256:${'a'.repeat(64)}`);
    expect(d.referenceWithTag).toBe('ghcr.io/org/app:v1');
    expect(() => getImageInfo('UPPER/Case')).toThrow();
  });

  it('extracts containers, initContainers and ephemeralContainers with JSON pointers; custom extractors replace built-ins', () => {
    const deploy = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: {
        template: {
          spec: {
            imagePullSecrets: [{ name: 's' }],
            initContainers: [{ name: 'i', image: 'busybox' }],
            containers: [
              { name: 'a', image: 'ghcr.io/x/a:1' },
              { name: 'blank', image: ' ' },
            ],
          },
        },
      },
    };
    const imgs = extractImages(deploy, undefined);
    expect(imgs.containers!.a!.jsonPointer).toBe('/spec/template/spec/containers/0/image');
    expect(imgs.containers!.a!.imagePullSecrets).toEqual(['s']);
    expect(imgs.containers!.blank).toBeUndefined();
    expect(imgs.initContainers!.i!.reference).toBe('docker.io/busybox:latest');
    const task = { kind: 'Task', spec: { steps: [{ name: 's1', image: 'alpine' }] } };
    expect(extractImages(task, undefined)).toEqual({});
    const custom = extractImages(task, { Task: [{ name: 'steps', path: '/spec/steps/*', value: 'image', key: 'name' }] });
    expect(custom.steps!.s1!.reference).toBe('docker.io/alpine:latest');
  });
});
