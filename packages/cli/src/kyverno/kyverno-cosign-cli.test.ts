/**
 * `vouch kyverno apply|test` with Cosign rules, offline: images in OCI layouts signed by `vouch
 * cosign sign` (cosign 3's bundle referrer and cosign 2's `.sig` tag) and, for the transparency
 * log, by the in-memory Sigstore stack whose trusted root is passed with `--trusted-root`.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePem } from '@vouch/core';
import { encryptCosignKey, publicKeyFromSpki, publicKeyToPem } from '@vouch/cosign';
import { nodeOciLayout } from '@vouch/node';
import { cosignSignatureLayer, createTestSigstore, generateEcdsa, pushCosignTag, spkiOf } from '@vouch/testing/sigstore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutWithImage } from '../testing/layout.js';
import { type CliRun, runVouch } from '../testing/run-cli.js';

let root: string;
const digests: Record<string, string> = {};
let pub: string;

async function vouch(args: string[]): Promise<CliRun> {
  const env = { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), COSIGN_PASSWORD: 'pw', XDG_CONFIG_HOME: join(root, 'xdg') };
  return runVouch(['--config-dir', join(root, 'config'), ...args], { env, cwd: root });
}

const REG = 'registry.example.com';
const maps = () => ['bundle', 'legacy', 'logged', 'unsigned'].flatMap((n) => ['--oci-layout-map', `${REG}/${n}=layouts/${n}`]);

function policy(name: string, keys: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name, annotations: { 'pod-policies.kyverno.io/autogen-controllers': 'none' } },
    spec: {
      rules: [
        {
          name: 'check-image',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          verifyImages: [{ imageReferences: [`${REG}/*`], failureAction: 'Enforce', attestors: [{ entries: [{ keys }] }] }],
        },
      ],
    },
  });
}

const pod = (name: string, image: string) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image }] } });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-kyverno-cosign-cli-'));
  const pair = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const pkcs8 = new Uint8Array(await globalThis.crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const spki = new Uint8Array(await globalThis.crypto.subtle.exportKey('spki', pair.publicKey));
  await writeFile(join(root, 'cosign.key'), await encryptCosignKey(pkcs8, 'pw', { N: 1024 }));
  pub = publicKeyToPem(publicKeyFromSpki(spki));
  for (const name of ['bundle', 'legacy', 'logged', 'unsigned'])
    digests[name] = await layoutWithImage(join(root, 'layouts', name), 'v1', name);
  // the second producer: vouch cosign sign (bundle referrer, then the legacy .sig tag)
  for (const [name, extra] of [
    ['bundle', []],
    ['legacy', ['--new-bundle-format=false']],
  ] as const) {
    const r = await vouch(['cosign', 'sign', '--key', 'cosign.key', '--yes', '--oci-layout', ...extra, `layouts/${name}@${digests[name]}`]);
    expect(r.code, r.err).toBe(0);
  }
  // a .sig with a Rekor SET from the test stack, its trusted_root.json for --trusted-root
  const stack = await createTestSigstore();
  const signer = { keyPair: await generateEcdsa() };
  const loggedPub = encodePem('PUBLIC KEY', await spkiOf(signer.keyPair.publicKey));
  const layer = await cosignSignatureLayer(stack, { dockerReference: `${REG}/logged`, digest: digests.logged! }, { signer });
  await pushCosignTag(
    nodeOciLayout(join(root, 'layouts', 'logged')),
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digests.logged!, size: 0 },
    'sig',
    [layer],
  );
  await writeFile(join(root, 'trusted_root.json'), JSON.stringify(stack.trustedRoot()));

  await mkdir(join(root, 'pods'), { recursive: true });
  for (const n of ['bundle', 'legacy', 'unsigned']) await writeFile(join(root, 'pods', `${n}.yaml`), pod(n, `${REG}/${n}:v1`));
  await writeFile(join(root, 'logged-pod.yaml'), pod('logged', `${REG}/logged:v1`));
  await writeFile(
    join(root, 'keyed.yaml'),
    policy('keyed', { publicKeys: pub, rekor: { url: 'https://rekor.sigstore.dev', ignoreTlog: true } }),
  );
  await writeFile(join(root, 'keyed-tlog.yaml'), policy('keyed-tlog', { publicKeys: loggedPub }));
  await writeFile(
    join(root, 'secret.yaml'),
    policy('secret', { secret: { name: 'cosign', namespace: 'ns' }, rekor: { url: 'x', ignoreTlog: true } }),
  );
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('vouch kyverno apply with a Cosign rule', () => {
  it('passes the images vouch cosign signed (bundle referrer and .sig tag) and fails the unsigned one; exit 1', async () => {
    const r = await vouch(['kyverno', 'apply', 'keyed.yaml', '-r', 'pods', ...maps(), '--vouch-output', 'json']);
    expect(r.code).toBe(1);
    const results = (JSON.parse(r.out) as { results: { resources: { name: string }[]; result: string; message: string; rule: string }[] })
      .results;
    const byPod = (n: string) => results.filter((x) => x.resources[0]!.name === n).map((x) => x.result);
    expect(byPod('bundle')).toEqual(['pass', 'pass']);
    expect(byPod('legacy')).toEqual(['pass', 'pass']);
    expect(byPod('unsigned')).toEqual(['fail', 'fail']);
    const msg = results.find((x) => x.resources[0]!.name === 'unsigned')!.message;
    expect(msg).toBe(`failed to verify image ${REG}/unsigned:v1: .attestors[0].entries[0].keys: no signatures found`);
  });

  it('a signature with a SET: the log key comes from --trusted-root; without it the failure names rekor.pubkey', async () => {
    const ok = await vouch([
      'kyverno',
      'apply',
      'keyed-tlog.yaml',
      '-r',
      'logged-pod.yaml',
      ...maps(),
      '--trusted-root',
      'trusted_root.json',
    ]);
    expect(ok.err).toBe('');
    expect(ok.out).toContain('pass: 2, fail: 0, warn: 0, error: 0, skip: 0');
    expect(ok.code).toBe(0);
    const bad = await vouch(['kyverno', 'apply', 'keyed-tlog.yaml', '-r', 'logged-pod.yaml', ...maps(), '--vouch-output', 'json']);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('`rekor.pubkey`');
  });

  it('keys.secret is not available offline: the rule fails (never errors or passes)', async () => {
    const r = await vouch(['kyverno', 'apply', 'secret.yaml', '-r', 'pods/legacy.yaml', ...maps(), '--vouch-output', 'json']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('keys.secret ns/cosign: the key is not available offline');
    const results = (JSON.parse(r.out) as { results: { result: string }[] }).results;
    expect(results.map((x) => x.result)).toEqual(['fail', 'fail']);
  });
});

describe('vouch kyverno test with a Cosign rule', () => {
  it('runs kyverno-test.yaml results against the layouts', async () => {
    const dir = join(root, 'suite');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'policy.yaml'), policy('keyed', { publicKeys: pub, rekor: { url: 'x', ignoreTlog: true } }));
    await writeFile(
      join(dir, 'resources.yaml'),
      [pod('legacy', `${REG}/legacy:v1`), pod('unsigned', `${REG}/unsigned:v1`)].join('\n---\n'),
    );
    await writeFile(
      join(dir, 'kyverno-test.yaml'),
      JSON.stringify({
        apiVersion: 'cli.kyverno.io/v1alpha1',
        kind: 'Test',
        metadata: { name: 'cosign' },
        policies: ['policy.yaml'],
        resources: ['resources.yaml'],
        results: [
          { policy: 'keyed', rule: 'check-image', kind: 'Pod', resources: ['legacy'], result: 'pass' },
          { policy: 'keyed', rule: 'check-image', kind: 'Pod', resources: ['unsigned'], result: 'fail' },
        ],
      }),
    );
    const layouts = ['legacy', 'unsigned'].flatMap((n) => ['--oci-layout-map', `${REG}/${n}=${join(root, 'layouts', n)}`]);
    const r = await vouch(['kyverno', 'test', 'suite', ...layouts]);
    // each resource answers twice, as in Kyverno: the verify-images phase and the verifyDigest/required check
    expect(r.out).toContain('│ 3  │ keyed  │ check-image │ unsigned │ Pass   │ Ok     │');
    expect(r.out).toContain('Test Summary: 4 tests passed and 0 tests failed');
    expect(r.code).toBe(0);
  });
});
