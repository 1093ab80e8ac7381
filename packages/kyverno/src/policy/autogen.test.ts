import { describe, expect, it } from 'vitest';
import type { KyvernoPolicy, Rule } from '../types.js';
import {
  AUTOGEN_ANNOTATION,
  autogenControllers,
  autogenRuleName,
  canAutoGen,
  computeRules,
  generateAutogenRules,
  isAutogenRuleName,
  policyRules,
  rewriteFields,
} from './autogen.js';
import { policyFromObject } from './parse.js';

const POD_CONTROLLER_KINDS = [
  'apps/v1/DaemonSet',
  'apps/v1/Deployment',
  'batch/v1/Job',
  'apps/v1/ReplicaSet',
  'v1/ReplicationController',
  'apps/v1/StatefulSet',
];

/** A policy of bare rules (what autogen reads: metadata and spec.rules). */
const bare = (rules: unknown[], annotations?: Record<string, string>) =>
  ({ metadata: { name: 'p', ...(annotations ? { annotations } : {}) }, spec: { rules } }) as unknown as KyvernoPolicy;

/** A validate rule matching `kinds`. */
const rule = (name: string, kinds: string[], extra: Record<string, unknown> = {}): Rule =>
  ({
    name,
    match: { any: [{ resources: { kinds } }] },
    validate: { pattern: { spec: { containers: [{ image: '!*:latest' }] } } },
    ...extra,
  }) as unknown as Rule;

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
    expect(rules[0]!.match.any![0]!.resources!.kinds).toEqual(POD_CONTROLLER_KINDS);
    expect(rules[1]!.match.any![0]!.resources!.kinds).toEqual(['batch/v1/CronJob']);
    expect(rules[0]!.verifyImages![0]!.attestors![0]!.entries[0]!.certificates!.cert).toBe(
      '{{ request.object.spec.template.metadata.annotations.cert }}',
    );
    expect(rules[1]!.verifyImages![0]!.attestors![0]!.entries[0]!.certificates!.cert).toBe(
      '{{ request.object.spec.jobTemplate.spec.template.metadata.annotations.cert }}',
    );
  });

  it('honours the autogen-controllers annotation and disables autogen for mixed kinds', () => {
    expect(generateAutogenRules(policy({ [AUTOGEN_ANNOTATION]: 'Deployment' })).map((r) => r.name)).toEqual(['autogen-check']);
    expect(generateAutogenRules(policy({ [AUTOGEN_ANNOTATION]: 'none' }))).toEqual([]);
    expect(generateAutogenRules(policy(undefined, ['Pod', 'Deployment']))).toEqual([]);
    expect(computeRules(policy(), 'CronJob').map((r) => r.name)).toEqual(['check', 'autogen-cronjob-check']);
  });

  it('truncates generated names to 63 characters and recognises them', () => {
    expect(autogenRuleName('autogen-cronjob', 'x'.repeat(60))).toHaveLength(63);
    expect(autogenRuleName('autogen', 'check')).toBe('autogen-check');
    expect(isAutogenRuleName('autogen-check')).toBe(true);
    expect(isAutogenRuleName('check-autogen')).toBe(false);
  });
});

describe('canAutoGen', () => {
  it('applies to Pod (or pod controller) rules, for every controller', () => {
    const all = ['CronJob', 'DaemonSet', 'Deployment', 'Job', 'ReplicaSet', 'ReplicationController', 'StatefulSet'];
    expect(canAutoGen(bare([rule('a', ['Pod'])]))).toEqual({ apply: true, controllers: all });
    expect(canAutoGen(bare([rule('a', ['Deployment'])])).apply).toBe(true);
  });

  it('does not apply to a policy with no Pod kinds, or one whose filters name resources or mix kinds', () => {
    const none = { apply: false, controllers: ['none'] };
    expect(canAutoGen(bare([rule('a', ['Service'])]))).toEqual(none);
    expect(canAutoGen(bare([rule('a', ['Pod', 'Service'])]))).toEqual(none);
    for (const filter of [{ name: 'x' }, { names: ['x'] }, { selector: { matchLabels: { a: 'b' } } }, { annotations: { a: 'b' } }]) {
      const r = { ...rule('a', ['Pod']), match: { any: [{ resources: { kinds: ['Pod'], ...filter } }] } } as unknown as Rule;
      expect(canAutoGen(bare([r])), JSON.stringify(filter)).toEqual(none);
    }
    // one rule disables it for the whole policy: generate, or a JSON 6902 patch
    const generate = { name: 'g', match: { any: [{ resources: { kinds: ['Pod'] } }] }, generate: {} };
    const patch = { name: 'm', match: { any: [{ resources: { kinds: ['Pod'] } }] }, mutate: { patchesJson6902: '- op: add' } };
    expect(canAutoGen(bare([rule('a', ['Pod']), generate]))).toEqual(none);
    expect(canAutoGen(bare([rule('a', ['Pod']), patch]))).toEqual(none);
  });
});

describe('autogenControllers', () => {
  it('reads the annotation: sorted, unknown controllers dropped, `none` for none; every controller without it', () => {
    const policy = (value?: string) => bare([rule('a', ['Pod'])], value === undefined ? undefined : { [AUTOGEN_ANNOTATION]: value });
    expect(autogenControllers(policy('StatefulSet,Deployment,Bogus'))).toEqual(['Deployment', 'StatefulSet']);
    expect(autogenControllers(policy('Deployment,none'))).toEqual([]);
    expect(autogenControllers(policy())).toHaveLength(7);
    expect(autogenControllers(bare([rule('a', ['Service'])]))).toEqual([]);
  });
});

describe('rewriteFields', () => {
  it('points request.object / oldObject spec and metadata paths into the pod template', () => {
    expect(rewriteFields('{{ request.object.spec.x }} {{ request.oldObject.metadata.name }}', 'Pod', false)).toBe(
      '{{ request.object.spec.template.spec.x }} {{ request.oldObject.spec.template.metadata.name }}',
    );
    expect(rewriteFields('{{ request.object.spec.x }}', 'Cronjob', false)).toBe(
      '{{ request.object.spec.jobTemplate.spec.template.spec.x }}',
    );
    // CEL rules name the objects `object` / `oldObject`
    expect(rewriteFields('object.spec.x oldObject.metadata.y', 'Cronjob', true)).toBe(
      'object.spec.jobTemplate.spec.template.spec.x oldObject.spec.jobTemplate.spec.template.metadata.y',
    );
  });
});

describe('generateAutogenRules', () => {
  it('wraps validate patterns into the controller template and keeps exclude filters with the controller kinds', () => {
    const withExclude = rule('a', ['Pod'], { exclude: { any: [{ resources: { kinds: ['Pod'], namespaces: ['kube-system'] } }] } });
    const [controllers, cronjob] = generateAutogenRules(bare([withExclude]));
    const pattern = { spec: { containers: [{ image: '!*:latest' }] } };
    expect(controllers!.validate).toEqual({ pattern: { spec: { template: pattern } } });
    expect(controllers!.exclude).toEqual({ any: [{ resources: { kinds: POD_CONTROLLER_KINDS, namespaces: ['kube-system'] } }] });
    expect(cronjob!.validate).toEqual({ pattern: { spec: { jobTemplate: { spec: { template: pattern } } } } });
    expect(cronjob!.exclude).toEqual({ any: [{ resources: { kinds: ['batch/v1/CronJob'], namespaces: ['kube-system'] } }] });
  });

  it('wraps every anyPattern, and an inline match gets the controller kinds too', () => {
    const inline = { name: 'a', match: { resources: { kinds: ['Pod'] } }, validate: { anyPattern: [{ a: 1 }, { b: 2 }] } };
    const [controllers, cronjob] = generateAutogenRules(bare([inline]));
    expect(controllers!.match).toEqual({ resources: { kinds: POD_CONTROLLER_KINDS } });
    expect(controllers!.validate).toEqual({ anyPattern: [{ spec: { template: { a: 1 } } }, { spec: { template: { b: 2 } } }] });
    expect(cronjob!.validate).toEqual({
      anyPattern: [
        { spec: { jobTemplate: { spec: { template: { a: 1 } } } } },
        { spec: { jobTemplate: { spec: { template: { b: 2 } } } } },
      ],
    });
  });

  it('generates nothing for a rule whose exclude names only other kinds, or that does not match Pods', () => {
    expect(generateAutogenRules(bare([rule('a', ['Pod'], { exclude: { any: [{ resources: { kinds: ['Deployment'] } }] } })]))).toEqual([]);
    expect(generateAutogenRules(bare([rule('a', ['Deployment'])]))).toEqual([]);
  });

  it('does not change the policy it reads', () => {
    const policy = bare([rule('a', ['Pod'])]);
    const before = JSON.stringify(policy);
    generateAutogenRules(policy);
    expect(JSON.stringify(policy)).toBe(before);
  });
});

describe('computeRules / policyRules', () => {
  it('the policy rules minus stale autogen-* ones, then the generated rules (for one controller when asked)', () => {
    const policy = bare([rule('a', ['Pod']), rule('autogen-old', ['Pod'])]);
    expect(computeRules(policy).map((r) => r.name)).toEqual(['a', 'autogen-a', 'autogen-cronjob-a']);
    expect(policyRules(policy).map((r) => r.name)).toEqual(['a', 'autogen-a', 'autogen-cronjob-a']);
    expect(computeRules(policy, 'Deployment').map((r) => r.name)).toEqual(['a', 'autogen-a']);
    expect(computeRules(policy, 'Service').map((r) => r.name)).toEqual(['a', 'autogen-old']);
  });

  it('without generated rules, the policy rules as they are', () => {
    const policy = bare([rule('a', ['Service'])]);
    expect(computeRules(policy)).toBe(policy.spec.rules);
  });
});
