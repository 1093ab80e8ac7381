import { VouchError } from '@vouch/core';
import { describe, expect, it } from 'vitest';
import { createKyvernoEngine } from '../engine/engine.js';
import { parsePolicyExceptions } from '../policy/exceptions.js';
import { policyFromObject } from '../policy/parse.js';
import type { KubeObject } from '../types.js';
import { type ApplyOptions, applyPolicies, type ResourceResult } from './apply.js';

const policy = (name: string, rules: unknown[]) =>
  policyFromObject({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name, annotations: { 'pod-policies.kyverno.io/autogen-controllers': 'none' } },
    spec: { validationFailureAction: 'Enforce', rules },
  });

const pod = (name: string, namespace = 'default'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace },
  spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
});

/** A validate rule denying Pods when `{{ key }}` equals `value`; its message shows the key's value. */
const denyWhen = (name: string, key: string, value: string, extra: Record<string, unknown> = {}) => ({
  name,
  match: { any: [{ resources: { kinds: ['Pod'] } }] },
  validate: { message: `${name}: {{ ${key} }}`, deny: { conditions: { any: [{ key: `{{ ${key} }}`, operator: 'Equals', value }] } } },
  ...extra,
});

/** Every resource's rule outcomes as `rule status message`, by resource name. */
async function outcomes(policies: ReturnType<typeof policy>[], resources: KubeObject[], options: ApplyOptions = {}) {
  const results: ResourceResult[] = await applyPolicies(policies, resources, options);
  return Object.fromEntries(
    results.map((r) => [
      r.resource.metadata?.name,
      r.policyResponses.flatMap((p) => p.rules.map((x) => `${x.name} ${x.status} ${x.message}`)),
    ]),
  );
}

describe('applyPolicies', () => {
  const values = policy('values', [denyWhen('team', 'team', 'blocked'), denyWhen('op', 'request.operation', 'DELETE')]);

  it('Values: global values, then the rule’s, then the resource’s; `request.operation` overrides the operation', async () => {
    const got = await outcomes([values], [pod('a'), pod('b')], {
      values: {
        globalValues: { team: 'ok' },
        policies: [{ name: 'values', resources: [{ name: 'b', values: { team: 'blocked', 'request.operation': 'DELETE' } }] }],
      },
    });
    expect(got).toEqual({
      a: ["team pass validation rule 'team' passed.", "op pass validation rule 'op' passed."],
      b: ['team fail team: blocked', 'op fail op: DELETE'],
    });
    const byRule = await outcomes([values], [pod('a')], {
      values: { globalValues: { team: 'ok' }, policies: [{ name: 'values', rules: [{ name: 'team', values: { team: 'blocked' } }] }] },
    });
    expect(byRule.a).toEqual(['team fail team: blocked', "op pass validation rule 'op' passed."]);
  });

  it('the operation option is the request operation', async () => {
    const got = await outcomes([values], [pod('a')], { operation: 'DELETE', values: { globalValues: { team: 'ok' } } });
    expect(got.a).toEqual(["team pass validation rule 'team' passed.", 'op fail op: DELETE']);
  });

  it('namespace labels come from the option, Values namespaceSelector and Values namespaces (later ones win)', async () => {
    const prodOnly = policy('ns', [
      {
        name: 'prod-only',
        match: { any: [{ resources: { kinds: ['Pod'], namespaceSelector: { matchLabels: { env: 'prod' } } } }] },
        validate: { message: 'matched', deny: {} },
      },
    ]);
    const got = await outcomes([prodOnly], [pod('a', 'x'), pod('b', 'y'), pod('c', 'z'), pod('d', 'w')], {
      namespaceLabels: { x: { env: 'prod' }, y: { env: 'dev' } },
      values: {
        namespaceSelector: [{ name: 'y', labels: { env: 'prod' } }],
        namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'z', labels: { env: 'prod' } } }],
      },
    });
    expect(got).toEqual({ a: ['prod-only fail matched'], b: ['prod-only fail matched'], c: ['prod-only fail matched'], d: [] });
  });

  it('Values subresources make a resource the subresource of its parent kind for matching', async () => {
    const status = policy('sub', [
      { name: 'status', match: { any: [{ resources: { kinds: ['Pod/status'] } }] }, validate: { message: 'status', deny: {} } },
    ]);
    expect((await outcomes([status], [pod('a')])).a).toEqual([]);
    const asStatus = await outcomes([status], [pod('a')], {
      values: {
        subresources: [
          {
            subresource: { name: 'pods/status', kind: 'Pod', version: 'v1' },
            parentResource: { name: 'pods', kind: 'Pod', version: 'v1' },
          },
        ],
      },
    });
    expect(asStatus.a).toEqual(['status fail status']);
  });

  it('user info: match filters on subjects apply only when the simulated request has user info', async () => {
    const admins = policy('users', [
      {
        name: 'admins',
        match: { any: [{ resources: { kinds: ['Pod'] }, subjects: [{ kind: 'User', name: 'admin' }] }] },
        validate: { message: 'admins may not', deny: {} },
      },
    ]);
    expect((await outcomes([admins], [pod('a')])).a).toEqual(['admins fail admins may not']);
    expect((await outcomes([admins], [pod('a')], { requestInfo: { userInfo: { username: 'admin' } } })).a).toEqual([
      'admins fail admins may not',
    ]);
    expect((await outcomes([admins], [pod('a')], { requestInfo: { userInfo: { username: 'bob' } } })).a).toEqual([]);
  });

  it('a rule vouch cannot evaluate fails by default (kyverno apply), and is refused with unsupported: refuse', async () => {
    const mutate = policy('mut', [
      {
        name: 'm',
        match: { any: [{ resources: { kinds: ['Pod'] } }] },
        mutate: { patchStrategicMerge: { metadata: { labels: { a: 'b' } } } },
      },
    ]);
    expect((await outcomes([mutate], [pod('a')])).a).toEqual(['m fail vouch cannot evaluate mutate rules (mutate): the rule fails closed']);
    await expect(applyPolicies([mutate], [pod('a')], { unsupported: 'refuse' })).toRejectWithCode('ERR_UNSUPPORTED');
    await expect(applyPolicies([mutate], [pod('a')], { unsupported: 'refuse' })).rejects.toBeInstanceOf(VouchError);
  });

  it('PolicyExceptions skip the rules they name for the resources they match', async () => {
    const exceptions = parsePolicyExceptions(
      'apiVersion: kyverno.io/v2\nkind: PolicyException\nmetadata: {name: allow-a, namespace: default}\nspec:\n  exceptions: [{policyName: values, ruleNames: ["te*"]}]\n  match: {any: [{resources: {kinds: [Pod], names: [a]}}]}\n',
    );
    const got = await outcomes([values], [pod('a'), pod('b')], { exceptions, values: { globalValues: { team: 'blocked' } } });
    expect(got.a).toEqual(['team skip rule is skipped due to policy exceptionsdefault/allow-a', "op pass validation rule 'op' passed."]);
    expect(got.b).toEqual(['team fail team: blocked', "op pass validation rule 'op' passed."]);
  });

  it('with an engine given, its policies are the ones applied', async () => {
    const other = policy('other', [denyWhen('always', 'request.operation', 'CREATE')]);
    const engine = createKyvernoEngine({ policies: [other] });
    const results = await applyPolicies([values], [pod('a')], { engine });
    expect(results[0]!.policyResponses.map((p) => [p.policy.metadata.name, p.rules.map((r) => r.status)])).toEqual([['other', ['fail']]]);
  });

  it('lists the responses per phase and merged per policy, with the patched resource', async () => {
    const [r] = await applyPolicies([values], [pod('a')], { values: { globalValues: { team: 'blocked' } } });
    expect(r!.phases.verifyImages.map((p) => p.rules)).toEqual([[]]);
    expect(r!.phases.validation[0]!.rules.map((x) => x.status)).toEqual(['fail', 'pass']);
    expect(r!.policyResponses[0]!.rules).toEqual([...r!.phases.verifyImages[0]!.rules, ...r!.phases.validation[0]!.rules]);
    expect(r!.patches).toEqual([]);
    expect(r!.patchedResource).toEqual(pod('a'));
  });
});
