import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeOciLayout } from '@vouch/node';
import { certificatesToPem, createTestPki, type TestPki } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type CliRun, type Json, runVouch } from '../testing/run-cli.js';
import { pushTestImage, seedPolicyYaml, signTestImage, workloads } from './testing.js';

let root: string;
let pki: TestPki;
const digests: Record<string, string> = {};

async function vouch(args: string[]): Promise<CliRun> {
  return runVouch(['--config-dir', join(root, 'config'), ...args], {
    env: { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') },
    cwd: root,
  });
}

const yamlDocs = (objs: unknown[]) => objs.map((o) => JSON.stringify(o)).join('\n---\n');
const maps = () => [
  '--oci-layout-map',
  'registry.example.com/signed=layouts/signed',
  '--oci-layout-map',
  'registry.example.com/unsigned=layouts/unsigned',
];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-kyverno-cli-'));
  pki = await createTestPki({ keySpec: 'EC-256' });
  for (const name of ['signed', 'unsigned']) {
    const repo = nodeOciLayout(join(root, 'layouts', name));
    digests[name] = await pushTestImage(repo, 'v1', name);
    if (name === 'signed') await signTestImage(repo, digests[name]!, pki, 'cose');
  }
  const cert = certificatesToPem([pki.root.certificate]);
  await mkdir(join(root, 'policies'), { recursive: true });
  await mkdir(join(root, 'resources'), { recursive: true });
  await writeFile(join(root, 'policies', 'enforce.yaml'), seedPolicyYaml({ certPem: cert }));
  await writeFile(join(root, 'audit.yaml'), seedPolicyYaml({ certPem: cert, action: 'Audit' }));
  await writeFile(join(root, 'resources', 'signed.yaml'), yamlDocs(workloads('registry.example.com/signed:v1', 'good')));
  await writeFile(join(root, 'unsigned-pod.yaml'), yamlDocs([workloads('registry.example.com/unsigned:v1', 'bad')[0]]));
  // the seed talk's typo: a PEM string straight under `certificates`
  await writeFile(
    join(root, 'typo.yaml'),
    seedPolicyYaml({ certPem: cert }).replace(/certificates:\n\s+cert: \|-\n/, 'certificates: |-\n'),
  );
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('vouch kyverno apply', () => {
  it('passes signed workloads (Pod, Deployment, CronJob via autogen) from OCI layouts and exits 0', async () => {
    const r = await vouch(['kyverno', 'apply', 'policies', '--resource', 'resources', ...maps()]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // Kyverno's text: header, then (no failures) the summary; per resource the verify-images and the verifyDigest/required responses
    expect(r.out).toBe('\nApplying 3 policy rule(s) to 3 resource(s)...\n\npass: 6, fail: 0, warn: 0, error: 0, skip: 0 \n');
  });

  it('prints failing rules as Kyverno does and exits 1 with nothing on stderr', async () => {
    const r = await vouch(['kyverno', 'apply', 'policies/enforce.yaml', '-r', 'unsigned-pod.yaml', ...maps()]);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    const ref = `registry.example.com/unsigned@${digests.unsigned}`;
    expect(r.out).toBe(
      [
        '',
        'Applying 3 policy rule(s) to 1 resource(s)...',
        'policy check-image-signature -> resource default/Pod/bad failed:',
        `1 - verify-signature failed to verify image registry.example.com/unsigned:v1: .attestors[0].entries[0]: failed to verify ${ref}: no signature is associated with "${ref}", make sure the artifact was signed successfully`,
        '',
        'policy check-image-signature -> resource default/Pod/bad failed:',
        `1 - verify-signature unverified image ${ref}`,
        '',
        '',
        'pass: 0, fail: 2, warn: 0, error: 0, skip: 0 ',
        '',
      ].join('\n'),
    );
  });

  it("vouch's own report: --vouch-output json, or the global -o json before the verb", async () => {
    for (const args of [
      ['kyverno', 'apply', 'policies/enforce.yaml', '-r', 'resources', '-r', 'unsigned-pod.yaml', ...maps(), '--vouch-output', 'json'],
      ['-o', 'json', 'kyverno', 'apply', 'policies/enforce.yaml', '-r', 'resources', '-r', 'unsigned-pod.yaml', ...maps()],
    ]) {
      const r = await vouch(args);
      expect(r.code).toBe(1);
      const report = r.json();
      expect(report.apiVersion).toBe('wgpolicyk8s.io/v1alpha2');
      expect(report.summary).toMatchObject({ pass: 6, fail: 2, error: 0 });
      const failed = report.results.find((x: Json) => x.result === 'fail');
      expect(report.results.filter((x: Json) => x.result === 'fail').map((x: Json) => x.message)[1]).toBe(
        `unverified image registry.example.com/unsigned@${digests.unsigned}`, // mutateDigest ran before phase 2
      );
      expect(failed).toMatchObject({ policy: 'check-image-signature', rule: 'verify-signature' });
      expect(failed.resources[0]).toMatchObject({ kind: 'Pod', name: 'bad', namespace: 'default' });
      const deploy = report.results.find((x: Json) => x.resources[0].kind === 'Deployment');
      expect(deploy).toMatchObject({ rule: 'autogen-verify-signature', result: 'pass' });
      const cron = report.results.find((x: Json) => x.resources[0].kind === 'CronJob');
      expect(cron).toMatchObject({ rule: 'autogen-cronjob-verify-signature', result: 'pass' });
    }
  });

  it('-o FILE.yaml / -o DIR write the digest-pinned resources (Kyverno: the mutated resources)', async () => {
    const f = await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', ...maps(), '-o', 'out/pinned.yaml']);
    expect(f.code).toBe(0);
    const docs = (await readFile(join(root, 'out', 'pinned.yaml'), 'utf8')).split('\n---\n').filter((d) => d.trim() !== '');
    expect(docs).toHaveLength(3);
    const pod = parse(docs[0]!) as Json;
    expect(pod.spec.containers[0].image).toBe(`registry.example.com/signed:v1@${digests.signed}`);
    expect(Object.keys(pod.metadata.annotations)).toEqual(['kyverno.io/verify-images', 'kyverno.io/verify-images-scoped']);
    const d = await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', ...maps(), '--output', 'out/dir']);
    expect(d.code).toBe(0);
    const pinned = parse(await readFile(join(root, 'out', 'dir', 'good-mutated.yaml'), 'utf8').then((t) => t.split('\n---\n')[0]!)) as Json;
    expect(pinned.kind).toBe('Pod');
    expect(pinned.spec.containers[0].image).toBe(`registry.example.com/signed:v1@${digests.signed}`);
  });

  it('-p prints openreports ClusterReport "merged" (yaml, or json with --output-format json), exit code unchanged', async () => {
    const y = await vouch(['kyverno', 'apply', 'policies/enforce.yaml', '-r', 'unsigned-pod.yaml', ...maps(), '-p']);
    expect(y.code).toBe(1);
    expect(y.out).not.toContain('Applying');
    const report = parse(y.out) as Json;
    expect(report).toMatchObject({ apiVersion: 'openreports.io/v1alpha1', kind: 'ClusterReport', metadata: { name: 'merged' } });
    expect(report.summary).toEqual({ error: 0, fail: 2, pass: 0, skip: 0, warn: 0 });
    expect(report.results[0]).toMatchObject({
      policy: 'check-image-signature',
      rule: 'verify-signature',
      result: 'fail',
      scored: true,
      source: 'kyverno',
    });
    expect(y.out).toMatch(/^results:\n- message:/m); // sigs.k8s.io/yaml layout: sorted keys, sequences not indented
    const j = await vouch([
      'kyverno',
      'apply',
      'policies/enforce.yaml',
      '-r',
      'unsigned-pod.yaml',
      ...maps(),
      '--policy-report',
      '--output-format',
      'json',
    ]);
    expect(JSON.parse(j.out).kind).toBe('ClusterReport');
  });

  it('-t prints the table; --detailed-results adds the message', async () => {
    const t = await vouch(['kyverno', 'apply', 'policies/enforce.yaml', '-r', 'unsigned-pod.yaml', ...maps(), '-t']);
    expect(t.code).toBe(1);
    expect(t.out).toMatch(/│ ID │ POLICY +│ RULE +│ RESOURCE +│ RESULT │ REASON │\n/);
    expect(t.out).toMatch(/│ 1 +│ check-image-signature │ verify-signature │ default\/Pod\/bad │ Fail +│ +│\n/);
    const d = await vouch(['kyverno', 'apply', 'policies/enforce.yaml', '-r', 'unsigned-pod.yaml', ...maps(), '-t', '--detailed-results']);
    expect(d.out).toMatch(/│ MESSAGE +│\n/);
    expect(d.out).toContain('unverified image registry.example.com/unsigned@');
  });

  it('Audit failures exit 1 as in Kyverno; --audit-warn makes them warn (exit 0, or --warn-exit-code)', async () => {
    const r = await vouch(['kyverno', 'apply', 'audit.yaml', '-r', 'unsigned-pod.yaml', ...maps(), '--vouch-output', 'yaml']);
    expect(r.code).toBe(1);
    expect((parse(r.out) as Json).results[0].result).toBe('fail');
    const w = await vouch(['kyverno', 'apply', 'audit.yaml', '-r', 'unsigned-pod.yaml', ...maps(), '--audit-warn']);
    expect(w.code).toBe(0);
    expect(w.out).toContain('policy check-image-signature -> resource default/Pod/bad failed as audit warning:');
    expect(w.out).toContain('pass: 0, fail: 0, warn: 2, error: 0, skip: 0 ');
    const c = await vouch([
      'kyverno',
      'apply',
      'audit.yaml',
      '-r',
      'unsigned-pod.yaml',
      ...maps(),
      '--audit-warn',
      '--warn-exit-code',
      '3',
    ]);
    expect(c.code).toBe(3);
    expect(c.out.endsWith('exit as warnExitCode is 3')).toBe(true);
    const np = await vouch(['kyverno', 'apply', 'audit.yaml', '-r', 'unsigned-pod.yaml', ...maps(), '--audit-warn', '--warn-no-pass']);
    expect(np.code).toBe(3 - 2); // no warn exit code given: 1
    expect(np.out).toContain('exit as no objects satisfied policy');
  });

  it('an image whose registry is unreachable is an error (exit 1); no digest is pinned for it', async () => {
    await writeFile(join(root, 'down-pod.yaml'), yamlDocs([workloads('127.0.0.1:9/app:v1', 'down')[0]]));
    await writeFile(
      join(root, 'down-policy.yaml'),
      seedPolicyYaml({ certPem: certificatesToPem([pki.root.certificate]), imageReferences: ['127.0.0.1:9/*'] }),
    );
    const r = await vouch(['kyverno', 'apply', 'down-policy.yaml', '-r', 'down-pod.yaml', '--vouch-output', 'json']);
    expect(r.code).toBe(1);
    const errors = r.json().results.filter((x: Json) => x.result === 'error');
    expect(errors.map((x: Json) => x.message.split(':')[0])).toEqual(['failed to verify image 127.0.0.1']);
  });

  it('a Cosign construct vouch does not evaluate fails the resource with the reason, exit 1', async () => {
    await writeFile(
      join(root, 'cosign.yaml'),
      `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: cosign}
spec:
  validationFailureAction: Enforce
  failurePolicy: Ignore
  rules:
    - name: verify
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["registry.example.com/*"]
          attestors: [{entries: [{keys: {publicKeys: "-----BEGIN PUBLIC KEY-----", signatureAlgorithm: sha512}}]}]
`,
    );
    const r = await vouch(['kyverno', 'apply', 'cosign.yaml', '-r', 'unsigned-pod.yaml', ...maps()]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      '1 - verify vouch cannot evaluate a Cosign `signatureAlgorithm` other than sha256 (vouch verifies with the hash the signature and key name) (verifyImages[0].attestors[0].entries[0].keys.signatureAlgorithm): the rule fails closed',
    );
  });

  it('--exception skips the rules it names; --generate-exceptions prints Kyverno-style exceptions for failures', async () => {
    await writeFile(
      join(root, 'exception.yaml'),
      `apiVersion: kyverno.io/v2
kind: PolicyException
metadata: {name: allow-bad, namespace: default}
spec:
  exceptions: [{policyName: check-image-signature, ruleNames: [verify-signature]}]
  match: {any: [{resources: {kinds: [Pod], names: [bad]}}]}
`,
    );
    const r = await vouch(['kyverno', 'apply', 'policies/enforce.yaml', '-r', 'unsigned-pod.yaml', ...maps(), '-e', 'exception.yaml']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Applying 3 policy rule(s) to 1 resource(s) with 1 exception(s)...');
    expect(r.out).toContain('pass: 0, fail: 0, warn: 0, error: 0, skip: 2 ');
    const g = await vouch(['kyverno', 'apply', 'policies/enforce.yaml', '-r', 'unsigned-pod.yaml', ...maps(), '--generate-exceptions']);
    expect(g.code).toBe(1);
    const docs = g.out
      .split('---\n')
      .filter((d) => d.trim() !== '')
      .map((d) => parse(d) as Json);
    expect(docs[0]).toMatchObject({
      apiVersion: 'kyverno.io/v2beta1',
      kind: 'PolicyException',
      metadata: { name: 'check-image-signature-verify-signature-default-bad', labels: { 'cleanup.kyverno.io/ttl': '720h0m0s' } },
      spec: {
        exceptions: [{ policyName: 'check-image-signature', ruleNames: ['verify-signature'] }],
        match: { all: [{ resources: { kinds: ['Pod'], names: ['bad'], namespaces: ['default'] } }] },
      },
    });
  });

  it('rejects the seed typo with a message naming the line and the fix', async () => {
    const r = await vouch(['kyverno', 'apply', 'typo.yaml', '-r', 'resources', '--vouch-output', 'json']);
    expect(r.code).toBe(1);
    const e = r.json().error;
    expect(e.code).toBe('ERR_KYVERNO_POLICY_INVALID');
    expect(e.message).toMatch(/^typo\.yaml:\d+:\d+: /);
    expect(e.message).toContain('cert: |-');
  });

  it('usage errors: missing --resource, offline-only flags, --set with -f, bad formats, bad --oci-layout-map', async () => {
    expect((await vouch(['kyverno', 'apply', 'policies'])).err).toContain('resource file(s) or cluster required');
    const cluster = await vouch(['kyverno', 'apply', 'policies', '--cluster']);
    expect(cluster.code).toBe(1);
    expect(cluster.err).toContain('--cluster is not supported: vouch kyverno apply works offline');
    expect((await vouch(['kyverno', 'apply', 'https://github.com/kyverno/policies/', '-r', 'resources'])).err).toContain(
      'policies from a git repository are not supported',
    );
    expect((await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', '-b', 'main'])).code).toBe(1);
    const both = await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', '-s', 'a=b', '-f', 'values.yaml']);
    expect(both.err).toContain('pass the values either using set flag or values_file flag');
    expect((await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', '--vouch-output', 'xml'])).code).toBe(1);
    expect((await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', '-o'])).err).toContain("flag needs an argument: 'o' in -o");
    expect((await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', '-p', '--output-format', 'xml'])).err).toContain(
      '--output-format',
    );
    const bad = await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', '--oci-layout-map', 'registry.example.com/x']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('REF=PATH');
    const notLayout = await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', '--oci-layout-map', 'r.example.com/x=resources']);
    expect(notLayout.code).toBe(1);
    expect(notLayout.err).toContain('not an OCI image layout');
  });
});

describe('vouch kyverno test', () => {
  beforeAll(async () => {
    const t = join(root, 'tests', 'notary');
    await mkdir(t, { recursive: true });
    await writeFile(join(t, 'policy.yaml'), seedPolicyYaml({ certPem: certificatesToPem([pki.root.certificate]) }));
    await writeFile(
      join(t, 'resources.yaml'),
      yamlDocs([workloads('registry.example.com/signed:v1', 'good')[0], workloads('registry.example.com/unsigned:v1', 'bad')[0]]),
    );
    const test = (badResult: string) => `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata:
  name: notary
policies: [policy.yaml]
resources: [resources.yaml]
results:
  - policy: check-image-signature
    rule: verify-signature
    kind: Pod
    resources: [good]
    result: pass
  - policy: check-image-signature
    rule: verify-signature
    kind: Pod
    resources: [default/bad]
    result: ${badResult}
`;
    await writeFile(join(t, 'kyverno-test.yaml'), test('fail'));
    const wrong = join(root, 'wrong', 'case');
    await mkdir(wrong, { recursive: true });
    for (const f of ['policy.yaml', 'resources.yaml']) {
      await writeFile(join(wrong, f), await import('node:fs/promises').then((m) => m.readFile(join(t, f), 'utf8')));
    }
    await writeFile(join(wrong, 'kyverno-test.yaml'), test('pass'));
  });

  it('runs kyverno-test.yaml files found recursively and prints the table and summary', async () => {
    const r = await vouch(['kyverno', 'test', 'tests', ...maps()]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Loading test  ( tests/notary/kyverno-test.yaml ) ...');
    expect(r.out).toMatch(/│ ID │ POLICY +│ RULE +│ RESOURCE +│ RESULT │ REASON │/);
    // each expectation is checked against both responses of the rule (verify-images and verifyDigest/required)
    expect(r.out).toMatch(/│ 3 +│ check-image-signature │ verify-signature │ default\/bad +│ Pass +│ Ok +│/);
    expect(r.out).toContain('Test Summary: 4 tests passed and 0 tests failed');
  });

  it('exits 1 with Kyverno\'s "Want x, got y" when an expectation does not hold (json output)', async () => {
    const r = await vouch(['kyverno', 'test', 'wrong', ...maps(), '-o', 'json']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('2 tests failed');
    const doc = r.json();
    expect(doc.failed).toBe(2);
    expect(doc.tests[0].rows.find((x: Json) => x.result === 'Fail').reason).toBe('Want pass, got fail');
  });

  it('fails when no test file is found', async () => {
    const r = await vouch(['kyverno', 'test', 'resources']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('no kyverno-test.yaml found');
  });
});
