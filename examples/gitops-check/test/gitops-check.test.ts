import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaType, utf8 } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { jws } from '@vouch/envelope/jws';
import { nodeOciLayout } from '@vouch/node';
import { sign } from '@vouch/notation';
import { certificatesToPem, createTestPki } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifests } from '../src/check.js';
import { main } from '../src/main.js';
import { createProgress } from '../src/progress.js';

let root: string;
let signedDigest: string;

async function pushImage(dir: string, content: string): Promise<string> {
  const repo = nodeOciLayout(dir);
  const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(content));
  const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
  return (await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: 'v1' })).digest;
}

const deployment = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ${image}
`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-gitops-'));
  const pki = await createTestPki({ keySpec: 'EC-256' });
  const layouts = join(root, 'layouts', 'registry.example.com', 'team');
  signedDigest = await pushImage(join(layouts, 'web'), 'web');
  await pushImage(join(layouts, 'batch'), 'batch');
  await sign(`registry.example.com/team/web@${signedDigest}`, {
    repository: nodeOciLayout(join(layouts, 'web')),
    signer: localRawSigner(pki.leaf.privateKey, pki.chain),
    envelope: jws,
  });
  const cert = certificatesToPem([pki.root.certificate])
    .trim()
    .split('\n')
    .map((l) => `                      ${l}`)
    .join('\n');
  await mkdir(join(root, 'policies'));
  await writeFile(
    join(root, 'policies', 'check-image-signature.yaml'),
    `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: check-image-signature
spec:
  validationFailureAction: Enforce
  rules:
    - name: verify-signature
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - type: Notary
          imageReferences: ["registry.example.com/*"]
          attestors:
            - count: 1
              entries:
                - certificates:
                    cert: |-
${cert}
`,
  );
  const good = join(root, 'good');
  await mkdir(join(good, 'apps'), { recursive: true });
  await writeFile(
    join(good, 'apps', 'web.yaml'),
    `${deployment('registry.example.com/team/web:v1')}---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [{port: 80}]}\n`,
  );
  await writeFile(join(good, 'README.md'), '# not a manifest\n');
  const bad = join(root, 'bad');
  await mkdir(join(bad, 'jobs'), { recursive: true });
  await writeFile(join(bad, 'web.yaml'), deployment('registry.example.com/team/web:v1'));
  await writeFile(
    join(bad, 'jobs', 'list.yaml'),
    `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: batch, namespace: jobs}
    spec: {containers: [{name: batch, image: registry.example.com/team/batch:v1}]}
  - apiVersion: v1
    kind: Pod
    metadata: {name: public, namespace: jobs}
    spec: {containers: [{name: c, image: docker.io/library/busybox:1}]}
`,
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(args: string[], tty = false) {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s), isTTY: tty, columns: 100 },
    cwd: root,
    now: new Date('2030-01-01T00:00:00Z'),
  });
  return { code, out, err };
}

describe('gitops-check', () => {
  it('expands multi-document files and List documents, ignoring non-YAML files', async () => {
    const m = await loadManifests(join(root, 'bad'));
    expect(m.map((x) => `${x.file} ${x.object.kind}/${x.object.metadata?.name}`)).toEqual([
      'jobs/list.yaml Pod/batch',
      'jobs/list.yaml Pod/public',
      'web.yaml Deployment/web',
    ]);
    expect((await loadManifests(join(root, 'good'))).map((x) => x.object.kind)).toEqual(['Deployment', 'Service']);
  });

  it('passes when every image is signed by the policy’s CA, and writes a PolicyReport', async () => {
    const r = await run(['good', '--policy', 'policies', '--layouts', 'layouts', '--report', 'report.json']);
    expect(r.code).toBe(0);
    // Kyverno's two phases: signature verification, then the digest/required check of the patched Pod
    expect(r.out).toContain('2 resources, 1 images, 1 policies: 2 pass, 0 fail, 0 error');
    const report = JSON.parse(await readFile(join(root, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'ClusterPolicyReport', summary: { pass: 2, fail: 0 } });
    // the Pod rule was auto-generated for the Deployment, as Kyverno does
    expect(report.results[0]).toMatchObject({
      policy: 'check-image-signature',
      rule: 'autogen-verify-signature',
      result: 'pass',
      resources: [{ kind: 'Deployment', name: 'web', namespace: 'shop' }],
    });
    // plain progress lines when stderr is not a terminal
    expect(r.err).toBe(
      'checking 2 resources\n[1/2] apps/web.yaml Deployment/shop/web (1 image)\n[2/2] apps/web.yaml Service/shop/web\nchecked 2 resources (1 images)\n',
    );
  });

  it('fails (exit 1) on an unsigned image, naming file, resource, rule and Kyverno’s reason', async () => {
    const r = await run(['bad', '-p', 'policies/check-image-signature.yaml', '--layouts', 'layouts', '-r', 'bad.json']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('3 resources, 3 images, 1 policies: 2 pass, 2 fail, 0 error');
    expect(r.out).toMatch(
      /^FAIL jobs\/list\.yaml Pod\/jobs\/batch check-image-signature\/verify-signature: failed to verify image registry\.example\.com\/team\/batch:v1: .*no signature is associated with/m,
    );
    const report = JSON.parse(await readFile(join(root, 'bad.json'), 'utf8'));
    expect(r.out).toContain(
      `FAIL jobs/list.yaml Pod/jobs/batch check-image-signature/verify-signature: unverified image registry.example.com/team/batch@sha256:`,
    );
    const failed = report.results.filter((x: { result: string }) => x.result === 'fail');
    expect(failed.map((x: { resources: { name: string }[] }) => x.resources[0]!.name)).toEqual(['batch', 'batch']);
  });

  it('draws one bar redrawn in place on a terminal', async () => {
    const r = await run(['good', '--policy', 'policies', '--layouts', 'layouts'], true);
    expect(r.code).toBe(0);
    expect(r.err).toContain('\r\x1b[2K████████████░░░░░░░░░░░░ 1/2 resources  apps/web.yaml Deployment/shop/web (1 image)');
    expect(r.err).toContain('\r\x1b[2K████████████████████████ 2/2 resources');
    expect(r.err.split('\n')).toHaveLength(2); // one final line, nothing else scrolls
  });

  it('exits 2 on usage and configuration errors', async () => {
    expect((await run(['good'])).code).toBe(2);
    expect((await run(['missing-dir', '--policy', 'policies'])).code).toBe(2);
    expect((await run(['good', '--bogus'])).code).toBe(2);
  });

  it('progress truncates long labels to the terminal width', () => {
    let s = '';
    const p = createProgress({ write: (c: string) => (s += c), isTTY: true, columns: 40 });
    p.start(1, 'resources');
    p.tick('x'.repeat(100));
    expect(s.replace('\r\x1b[2K', '')).toHaveLength(39);
    expect(s.endsWith('…')).toBe(true);
  });
});
