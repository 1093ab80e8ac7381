import { describe, expect, it } from 'vitest';
import { parseKyvernoTest, runKyvernoTest } from './test-runner.js';

// issue 11 defect 11: `kyverno test` fidelity.

const POLICY = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-digest
  annotations:
    pod-policies.kyverno.io/autogen-controllers: none
spec:
  rules:
    - name: pods
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - imageReferences: ["*"]
          mutateDigest: false
          required: false
          failureAction: Audit
    - name: only-labelled
      match:
        any:
          - resources:
              kinds: [Pod]
      preconditions:
        all:
          - key: "{{ request.object.metadata.labels.check || '' }}"
            operator: Equals
            value: "yes"
      verifyImages:
        - imageReferences: ["*"]
          mutateDigest: false
          required: false
          failureAction: Audit
    - name: deployments
      match:
        any:
          - resources:
              kinds: [Deployment]
      verifyImages:
        - imageReferences: ["*"]
          mutateDigest: false
          required: false
          failureAction: Audit
`;

const RESOURCES = `apiVersion: v1
kind: Pod
metadata: {name: tagged, namespace: default}
spec:
  containers: [{name: c, image: "nginx:1.25"}]
`;

const EXCEPTION = `apiVersion: kyverno.io/v2
kind: PolicyException
metadata: {name: allow-tagged, namespace: kyverno}
spec:
  exceptions:
    - policyName: require-digest
      ruleNames: ["pod*"]
  match:
    any:
      - resources:
          kinds: [Pod]
          names: [tagged]
  conditions:
    all:
      - key: "{{ request.object.metadata.namespace }}"
        operator: Equals
        value: default
`;

function test(results: string, exceptions = false): string {
  return `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: {name: t}
policies: [policy.yaml]
resources: [resources.yaml]
${exceptions ? 'exceptions: [exception.yaml]\n' : ''}results:
${results}`;
}

async function run(results: string, exceptions = false) {
  const files: Record<string, string> = { 'policy.yaml': POLICY, 'resources.yaml': RESOURCES, 'exception.yaml': EXCEPTION };
  return runKyvernoTest(parseKyvernoTest(test(results, exceptions)), { readFile: (p) => files[p]! });
}

describe('kyverno test', () => {
  it('a rule without a response for a resource the policy answered is Excluded (pass), whatever the declared result', async () => {
    const r = await run(`  - {policy: require-digest, rule: deployments, kind: Pod, resources: [tagged], result: fail}
  - {policy: require-digest, rule: pods, kind: Pod, resources: [tagged], result: fail}
`);
    expect(r.rows.map((x) => [x.rule, x.result, x.reason])).toEqual([
      ['deployments', 'Pass', 'Excluded'],
      ['pods', 'Pass', 'Ok'], // the validate phase: missing digest
    ]);
    expect(r.failed).toBe(0);
  });

  it('a resource that does not exist is still Not found (fail)', async () => {
    const r = await run(`  - {policy: require-digest, rule: pods, kind: Pod, resources: [missing], result: pass}
`);
    expect(r.rows.map((x) => [x.result, x.reason])).toEqual([['Fail', 'Not found']]);
  });

  it('a verifyImages rule whose preconditions are false is skip in both phases', async () => {
    const r = await run(`  - {policy: require-digest, rule: only-labelled, kind: Pod, resources: [tagged], result: skip}
`);
    // one row per response: the verify-images phase and the verifyDigest check
    expect(r.rows.map((x) => [x.result, x.reason, x.message])).toEqual([
      ['Pass', 'Ok', 'preconditions not met'],
      ['Pass', 'Ok', 'preconditions not met'],
    ]);
  });

  it('PolicyExceptions (test file `exceptions`): the named rule is skip in both phases for the resources they match', async () => {
    const r = await run(
      `  - {policy: require-digest, rule: pods, kind: Pod, resources: [tagged], result: skip}
`,
      true,
    );
    expect(r.rows.map((x) => [x.result, x.message])).toEqual([
      ['Pass', 'rule is skipped due to policy exceptionskyverno/allow-tagged'],
      ['Pass', 'rule is skipped due to policy exceptionskyverno/allow-tagged'],
    ]);
  });
});
