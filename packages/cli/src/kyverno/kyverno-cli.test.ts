import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeOciLayout } from '@vouch/node';
import { certificatesToPem, createTestPki, type TestPki } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../run.js';
import { pushTestImage, seedPolicyYaml, signTestImage, workloads } from './testing.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON output is inspected loosely in tests
type Json = Record<string, any>;

let root: string;
let pki: TestPki;
const digests: Record<string, string> = {};

async function vouch(args: string[]): Promise<{ code: number; out: string; err: string; json(): Json }> {
  let out = '';
  let err = '';
  const code = await runCli(['--config-dir', join(root, 'config'), ...args], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') },
    cwd: root,
  });
  return { code, out, err, json: () => JSON.parse(out) };
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
    expect(r.out).toMatch(/^Applying 3 policy rule\(s\) to 3 resource\(s\)\.\.\./);
    // per resource: the verify-images response and the verifyDigest/required response
    expect(r.out).toContain('pass: 6, fail: 0, warn: 0, error: 0, skip: 0');
  });

  it('prints a PolicyReport in JSON and exits 1 when an Enforce rule fails', async () => {
    const r = await vouch([
      'kyverno',
      'apply',
      'policies/enforce.yaml',
      '-r',
      'resources',
      '-r',
      'unsigned-pod.yaml',
      ...maps(),
      '-o',
      'json',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('exit as there are policy violations');
    const report = r.json();
    expect(report.apiVersion).toBe('wgpolicyk8s.io/v1alpha2');
    expect(report.summary).toMatchObject({ pass: 6, fail: 2, error: 0 });
    const failed = report.results.find((x: Json) => x.result === 'fail');
    expect(report.results.filter((x: Json) => x.result === 'fail').map((x: Json) => x.message)[1]).toBe(
      `unverified image registry.example.com/unsigned@${digests.unsigned}`, // mutateDigest ran before phase 2
    );
    expect(failed).toMatchObject({ policy: 'check-image-signature', rule: 'verify-signature' });
    expect(failed.resources[0]).toMatchObject({ kind: 'Pod', name: 'bad', namespace: 'default' });
    expect(failed.message).toBe(
      `failed to verify image registry.example.com/unsigned:v1: .attestors[0].entries[0]: failed to verify registry.example.com/unsigned@${digests.unsigned}: no signature is associated with "registry.example.com/unsigned@${digests.unsigned}", make sure the artifact was signed successfully`,
    );
    const deploy = report.results.find((x: Json) => x.resources[0].kind === 'Deployment');
    expect(deploy).toMatchObject({ rule: 'autogen-verify-signature', result: 'pass' });
    const cron = report.results.find((x: Json) => x.resources[0].kind === 'CronJob');
    expect(cron).toMatchObject({ rule: 'autogen-cronjob-verify-signature', result: 'pass' });
  });

  it('maps one image reference (repo:tag) to a layout', async () => {
    const r = await vouch([
      'kyverno',
      'apply',
      'policies',
      '-r',
      'resources',
      '--oci-layout-map',
      'registry.example.com/signed:v1=layouts/signed',
      '-o',
      'json',
    ]);
    expect(r.code).toBe(0);
    expect(r.json().summary).toMatchObject({ pass: 6, fail: 0 });
  });

  it('Audit failures are reported (fail, or warn with --audit-warn) without failing the command; yaml output', async () => {
    const r = await vouch(['kyverno', 'apply', 'audit.yaml', '-r', 'unsigned-pod.yaml', ...maps(), '--output', 'yaml']);
    expect(r.code).toBe(0);
    const report = parse(r.out) as Json;
    expect(report.results[0].result).toBe('fail');
    const w = await vouch(['kyverno', 'apply', 'audit.yaml', '-r', 'unsigned-pod.yaml', ...maps(), '--audit-warn', '-o', 'json']);
    expect(w.code).toBe(0);
    expect(w.json().results[0].result).toBe('warn');
  });

  it('an image whose registry is unreachable is an error (exit 1 under failurePolicy Fail)', async () => {
    await writeFile(join(root, 'down-pod.yaml'), yamlDocs([workloads('127.0.0.1:9/app:v1', 'down')[0]]));
    await writeFile(
      join(root, 'down-policy.yaml'),
      seedPolicyYaml({ certPem: certificatesToPem([pki.root.certificate]), imageReferences: ['127.0.0.1:9/*'] }),
    );
    const r = await vouch(['kyverno', 'apply', 'down-policy.yaml', '-r', 'down-pod.yaml', '-o', 'json']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('exit as there are policy');
    // Kyverno's order: the digest lookup error, then the verification error
    const errors = r.json().results.filter((x: Json) => x.result === 'error');
    expect(errors.map((x: Json) => x.message.split(':')[0])).toEqual(['failed to update digest', 'failed to verify image 127.0.0.1']);
  });

  it('rejects the seed typo with a message naming the line and the fix', async () => {
    const r = await vouch(['kyverno', 'apply', 'typo.yaml', '-r', 'resources', '-o', 'json']);
    expect(r.code).toBe(1);
    const e = r.json().error;
    expect(e.code).toBe('ERR_KYVERNO_POLICY_INVALID');
    expect(e.message).toMatch(/^typo\.yaml:\d+:\d+: /);
    expect(e.message).toContain('cert: |-');
  });

  it('usage errors: missing --resource, bad --oci-layout-map, bad output format', async () => {
    expect((await vouch(['kyverno', 'apply', 'policies'])).err).toContain('"resource" not set');
    const bad = await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', '--oci-layout-map', 'registry.example.com/x']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('REF=PATH');
    const notLayout = await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', '--oci-layout-map', 'r.example.com/x=resources']);
    expect(notLayout.code).toBe(1);
    expect(notLayout.err).toContain('not an OCI image layout');
    expect((await vouch(['kyverno', 'apply', 'policies', '-r', 'resources', '-o', 'xml'])).code).toBe(1);
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
