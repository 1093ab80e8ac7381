import { VouchError } from '@vouch/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parsePolicies, policyFromObject } from './parse.js';

// A syntactically valid PEM block (the parser checks labels, not X.509 contents).
const PEM_BODY = 'AAUKDxQZHiMoLTI3PEFGS1BVWl9kaW5zeH2Ch4yRlpugpaqvtLm+w8jN0tfc4ebr';
const cert = (indent: string, label = 'CERTIFICATE') =>
  [`-----BEGIN ${label}-----`, PEM_BODY, `-----END ${label}-----`].map((l) => indent + l).join('\n');

/** The seed talk's policy, written correctly. */
function seedPolicy(certBlock = `                    cert: |-\n${cert('                      ')}`): string {
  return `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: check-image-signature
spec:
  validationFailureAction: Enforce
  webhookTimeoutSeconds: 30
  failurePolicy: Fail
  rules:
    - name: verify-signature
      match:
        any:
          - resources:
              kinds:
                - Pod
      verifyImages:
        - type: Notary
          imageReferences:
            - "registry.example.com/*"
          attestors:
            - count: 1
              entries:
                - certificates:
${certBlock}
`;
}

function parseError(text: string): VouchError {
  try {
    parsePolicies(text, { source: 'policy.yaml' });
  } catch (e) {
    expect(e).toBeInstanceOf(VouchError);
    return e as VouchError;
  }
  throw new Error('expected an error');
}

describe('parsePolicies', () => {
  it('a YAML alias becomes a copy: two verifyImages entries never share an attestor object', () => {
    const text =
      seedPolicy().replace('          attestors:\n', '          attestors: &sets\n') +
      '        - type: Notary\n          imageReferences:\n            - "other.example.com/*"\n          repository: other.example.com/sigs\n          attestors: *sets\n';
    const [p] = parsePolicies(text);
    const [a, b] = p!.spec.rules[0]!.verifyImages!;
    expect(b!.attestors).toEqual(a!.attestors);
    expect(b!.attestors![0]!.entries![0]).not.toBe(a!.attestors![0]!.entries![0]);
  });

  it('parses the seed policy and applies CRD defaults', () => {
    const [p] = parsePolicies(seedPolicy());
    expect(p!.metadata.name).toBe('check-image-signature');
    const iv = p!.spec.rules[0]!.verifyImages![0]!;
    expect(iv.type).toBe('Notary');
    expect(iv.mutateDigest).toBe(true);
    expect(iv.verifyDigest).toBe(true);
    expect(iv.required).toBe(true);
    expect(iv.useCache).toBe(true);
    expect(p!.spec.admission).toBe(true);
    expect(p!.spec.background).toBe(true);
    expect(iv.attestors![0]!.entries[0]!.certificates!.cert).toContain('BEGIN CERTIFICATE');
  });

  it('slide typo 1 (indentation): `cert` at the level of `certificates` names its line and says to indent it', () => {
    // As on the slide: `cert:` lines up with `certificates` instead of being nested in it.
    const lines = seedPolicy().split('\n');
    const certLine = lines.findIndex((l) => l.trim() === 'cert: |-');
    for (let i = certLine; i <= certLine + 3; i++) lines[i] = lines[i]!.slice(2);
    const e = parseError(lines.join('\n'));
    expect(e.code).toBe('ERR_KYVERNO_POLICY_INVALID');
    expect(e.details).toMatchObject({ line: certLine + 1, path: 'spec.rules[0].verifyImages[0].attestors[0].entries[0].cert' });
    expect(e.message).toContain(`policy.yaml:${certLine + 1}:`);
    expect(e.message).toMatch(/indent it/);
  });

  it('slide typo 2: a PEM string directly under `certificates` asks for `certificates.cert`', () => {
    const lines = seedPolicy().split('\n');
    const i = lines.findIndex((l) => l.trim() === '- certificates:');
    lines[i] = '                - certificates: |-';
    lines.splice(i + 1, 1);
    const e = parseError(lines.join('\n'));
    expect(e.code).toBe('ERR_KYVERNO_POLICY_INVALID');
    expect(e.details).toMatchObject({ line: i + 1, path: 'spec.rules[0].verifyImages[0].attestors[0].entries[0].certificates' });
    expect(e.message).toContain('`cert: |-`');
  });

  it('slide typo 3: a public key where Notary needs a certificate', () => {
    const text = seedPolicy(`                    cert: |-\n${cert('                      ', 'PUBLIC KEY')}`);
    const line = text.split('\n').findIndex((l) => l.trim() === 'cert: |-') + 1;
    const e = parseError(text);
    expect(e.code).toBe('ERR_KYVERNO_POLICY_INVALID');
    expect(e.details).toMatchObject({ path: 'spec.rules[0].verifyImages[0].attestors[0].entries[0].certificates.cert' });
    expect((e.details as { line: number }).line).toBeGreaterThanOrEqual(line);
    expect(e.message).toContain('BEGIN CERTIFICATE');
  });

  it('`keys` for type Notary gives Kyverno’s message and the fix', () => {
    const text = seedPolicy().replace(
      '                - certificates:',
      '                - keys:\n                    publicKeys: abc\n                  certificates:',
    );
    const e = parseError(text);
    const problems = (e.details as { problems: { message: string; hint: string }[] }).problems;
    const keys = problems.find((p) => p.message === 'Keys field is not allowed for type notary');
    expect(keys?.hint).toContain('certificates');
  });

  it('YAML syntax errors name the line', () => {
    const text = 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: x\n spec: {}\n';
    const e = parseError(text);
    expect(e.code).toBe('ERR_KYVERNO_POLICY_INVALID');
    expect((e.details as { line: number }).line).toBeGreaterThan(0);
    expect(e.message).toContain('indentation');
  });

  it('rejects mutateDigest with Audit (Kyverno wording) and count > entries', () => {
    const audit = seedPolicy().replace('validationFailureAction: Enforce', 'validationFailureAction: Audit');
    expect(parseError(audit).message).toContain('mutateDigest must be set to false for ‘Audit’ failure action');
    const count = seedPolicy().replace('- count: 1', '- count: 2');
    expect(parseError(count).message).toContain('Count cannot exceed length of entries');
  });

  it('reports the line inside the second YAML document', () => {
    const second = seedPolicy()
      .replace('check-image-signature', 'second')
      .replace('name: verify-signature', 'name: verify-signature\n      mutate: {}');
    const text = `${seedPolicy()}---\n${second}`;
    const e = parseError(text);
    expect(e.message).toContain("Multiple operations defined in the rule 'verify-signature'");
    expect((e.details as { line: number; document: number }).document).toBe(1);
    expect((e.details as { line: number }).line).toBeGreaterThan(seedPolicy().split('\n').length);
  });

  it('rejects duplicate rule names and namespaces in namespaced policies', () => {
    const p = {
      apiVersion: 'kyverno.io/v1',
      kind: 'Policy',
      metadata: { name: 'p', namespace: 'x' },
      spec: {
        rules: [
          { name: 'r', match: { any: [{ resources: { kinds: ['Pod'], namespaces: ['a'] } }] }, validate: { deny: {} } },
          { name: 'r', match: { any: [{ resources: { kinds: ['Pod'] } }] }, validate: { deny: {} } },
        ],
      },
    };
    try {
      policyFromObject(p);
      throw new Error('expected an error');
    } catch (e) {
      const msgs = ((e as VouchError).details as { problems: { message: string }[] }).problems.map((x) => x.message);
      expect(msgs).toContain('Filtering namespaces not allowed in namespaced policies');
      expect(msgs).toContain("Duplicate rule name: 'r'");
    }
  });

  it('`rules` that is not a list is reported as such, with or without CRD defaults (not a TypeError)', () => {
    const text = 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: p\nspec:\n  rules: 7\n';
    for (const applyDefaults of [true, false]) {
      let err: unknown;
      try {
        parsePolicies(text, { source: 'policy.yaml', applyDefaults });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VouchError);
      expect((err as VouchError).code).toBe('ERR_KYVERNO_POLICY_INVALID');
      expect((err as VouchError).message).toMatch(/^policy\.yaml:6:\d+: spec\.rules must be a list, found a number at spec\.rules/);
    }
  });

  it('property: returns policies or throws VouchError on arbitrary YAML', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((v) => stringify(v)),
          fc.jsonValue().map((v) => stringify({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'x' }, spec: v })),
          fc
            .jsonValue()
            .map((v) => stringify({ apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'x' }, spec: { rules: v } })),
        ),
        (text) => {
          try {
            const out = parsePolicies(text);
            expect(Array.isArray(out)).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(VouchError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
