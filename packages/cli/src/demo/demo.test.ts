import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaType } from '@vouch/core';
import { fromBase64Url, fromUtf8 } from '@vouch/core/internal';
import { memoryRepository } from '@vouch/registry';
import { type RunningRegistry, registryBinary, startRegistry } from '@vouch/testing/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../index.js';
import { retargetJwsEnvelope } from './attack.js';
import { runDemo } from './story.js';

// biome-ignore lint/suspicious/noExplicitAny: the JSON report is inspected loosely
type Json = Record<string, any>;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-demo-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function demo(args: string[], extra: Partial<CliIo> = {}) {
  let out = '';
  let err = '';
  const code = await runCli(['--config-dir', join(root, 'cfg'), 'demo', ...args], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') },
    cwd: root,
    ...extra,
  });
  return { code, out, err };
}

const EXPECTED = [
  ['build-image', 'built'],
  ['create-pki', 'created'],
  ['sign-jws', 'signed'],
  ['sign-cose', 'signed'],
  ['tamper', 'forged'],
  ['verify-jws', 'verified'],
  ['verify-cose', 'verified'],
  ['verify-wrong-store', 'rejected'],
  ['verify-wrong-identity', 'rejected'],
  ['admit-signed', 'admitted'],
  ['deny-unsigned', 'denied'],
  ['deny-tampered', 'denied'],
  ['sign-cosign', 'signed'],
  ['admit-notary-and-cosign', 'admitted'],
  ['deny-unsigned-both', 'denied'],
];

function checkReport(report: Json, registry: string): void {
  expect(report.steps.map((s: Json) => [s.id, s.outcome])).toEqual(EXPECTED);
  expect(report.steps.every((s: Json) => s.ok)).toBe(true);
  expect(report.verdict).toEqual({ ok: true, total: EXPECTED.length, asExpected: EXPECTED.length, unexpected: [] });
  const step = (id: string) => report.steps.find((s: Json) => s.id === id);
  const digest = report.images.signed.digest as string;
  expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(step('build-image').details.images.signed.index.mediaType).toBe(MediaType.OCI_INDEX);
  expect(step('build-image').details.images.signed.manifests).toHaveLength(2);
  // both envelope formats verified, each by its own signature
  expect(step('verify-jws').details.envelopeMediaType).toBe(MediaType.JWS);
  expect(step('verify-cose').details.envelopeMediaType).toBe(MediaType.COSE);
  expect(step('verify-jws').details.signature).toBe(step('sign-jws').details.signatureManifest);
  expect(step('verify-cose').details.signature).toBe(step('sign-cose').details.signatureManifest);
  expect(step('verify-jws').details.policy).toEqual({ name: 'demo-images', level: 'strict' });
  // the wrong store / identity fail for every signature, with the right reason
  expect(step('verify-wrong-store').details.signatureErrors).toEqual(['ERR_CERT_UNTRUSTED', 'ERR_CERT_UNTRUSTED']);
  expect(step('verify-wrong-identity').details.signatureErrors).toEqual(['ERR_IDENTITY_UNTRUSTED', 'ERR_IDENTITY_UNTRUSTED']);
  // admitted with the tag pinned to the signed digest
  const admitted = step('admit-signed').details;
  expect(admitted.allowed).toBe(true);
  expect(admitted.pinnedImage).toBe(`${registry}/demo/app:v1@${digest}`);
  expect(admitted.patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: `${registry}/demo/app:v1@${digest}` });
  // denied, in Kyverno's blocked-request format
  const unsigned = step('deny-unsigned').details;
  expect(unsigned.allowed).toBe(false);
  expect(unsigned.status.message).toMatch(
    new RegExp(
      `^\\n\\nresource Pod/default/unsigned-app was blocked due to the following policies \\n\\ncheck-image-signature:\\n {2}verify-signature: '?failed to verify image ${registry.replace(/\./g, '\\.')}/demo/unsigned:v1: \\.attestors\\[0\\]\\.entries\\[0\\]: `,
    ),
  );
  expect(unsigned.status.message).toContain(`no signature is associated with "${registry}/demo/unsigned@${report.images.unsigned.digest}"`);
  const tampered = step('deny-tampered').details;
  expect(tampered.allowed).toBe(false);
  expect(tampered.status.message).toContain('resource Pod/default/tampered-app was blocked due to the following policies');
  expect(tampered.status.message).toContain(`failed to verify image ${registry}/demo/tampered:v1`);
  expect(tampered.status.message).toMatch(/altered|integrity/);
  // the Cosign leg: a bundle referrer signed with the demo's cosign key; the policy with a Notary
  // and a Cosign rule admits the signed Pod (pinned once) and denies the unsigned one on both rules
  expect(step('sign-cosign').details.format).toBe('bundle');
  const both = step('admit-notary-and-cosign').details;
  expect(both.allowed).toBe(true);
  expect(both.pinnedImage).toBe(`${registry}/demo/app:v1@${digest}`);
  expect(both.patch.filter((p: Json) => p.path === '/spec/containers/0/image')).toHaveLength(1);
  const deniedBoth = step('deny-unsigned-both').details;
  expect(deniedBoth.allowed).toBe(false);
  expect(deniedBoth.status.message).toContain('resource Pod/default/unsigned-app was blocked due to the following policies');
  expect(deniedBoth.status.message).toContain('check-notary-and-cosign:');
  expect(deniedBoth.status.message).toMatch(/verify-notary: .*no signature is associated with/);
  // (the Notary rule has resolved the tag to its digest by then: the Cosign rule names the image by digest)
  expect(deniedBoth.status.message).toContain(
    `verify-cosign: "failed to verify image ${registry}/demo/unsigned@${report.images.unsigned.digest}: .attestors[0].entries[0].keys: no signatures found"`,
  );
}

describe('vouch demo on OCI layouts', () => {
  it('--output json: one document with every step and the verdicts the story promises', async () => {
    const dir = join(root, 'json');
    const r = await demo(['--dir', dir, '--output', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as Json;
    expect(report.mode).toBe('oci-layout');
    expect(report.kept).toBe(true);
    checkReport(report, 'registry.example.com');
    // the files the story promises, in notation's layout
    // notation 1.3 reads only trustpolicy.json
    expect(await readdir(join(dir, 'notation'))).toEqual(['trustpolicy.json', 'truststore']);
    expect(await readdir(join(dir, 'notation', 'truststore', 'x509', 'ca', 'demo'))).toEqual(['demo-ca.crt']);
    expect(await readFile(join(dir, 'kyverno', 'check-image-signature.yaml'), 'utf8')).toContain('name: check-image-signature');
    const both = await readFile(join(dir, 'kyverno', 'check-notary-and-cosign.yaml'), 'utf8');
    expect(both).toContain('type: Cosign');
    expect(both).toContain((await readFile(join(dir, 'cosign', 'cosign.pub'), 'utf8')).trim().split('\n')[1]);
    expect(existsSync(join(dir, 'layout', 'demo', 'app', 'index.json'))).toBe(true);
    // what the demo left behind verifies with the verify verb, and the unsigned image does not
    let out = '';
    const verify = (ref: string) =>
      runCli(
        ['--config-dir', join(dir, 'notation'), 'verify', '--oci-layout', ref, '--scope', 'registry.example.com/demo/app', '-o', 'json'],
        { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => {} }, env: {}, cwd: root },
      );
    expect(await verify(`${join(dir, 'layout', 'demo', 'app')}@${report.images.signed.digest}`)).toBe(0);
    expect(await verify(`${join(dir, 'layout', 'demo', 'unsigned')}@${report.images.unsigned.digest}`)).toBe(1);
    // and its cosign signature with `vouch cosign verify` and the cosign.pub it wrote
    const cosignVerify = (ref: string) =>
      runCli(['cosign', 'verify', '--key', join(dir, 'cosign', 'cosign.pub'), '--insecure-ignore-tlog', '--oci-layout', ref], {
        stdout: { write: () => {} },
        stderr: { write: () => {} },
        env: {},
        cwd: root,
      });
    expect(await cosignVerify(`${join(dir, 'layout', 'demo', 'app')}:v1`)).toBe(0); // as docs/getting-started.md shows it
    expect(await cosignVerify(`${join(dir, 'layout', 'demo', 'unsigned')}@${report.images.unsigned.digest}`)).not.toBe(0);
  });

  it('text: narrates each step with what it proves and ends with the verdicts; the temporary directory is removed', async () => {
    const before = new Set((await readdir(tmpdir())).filter((n) => n.startsWith('vouch-demo-') && !n.startsWith('vouch-demo-test-')));
    const r = await demo([]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^vouch demo: /);
    expect(r.out).toContain('[1/15] Build an image into the store');
    expect(r.out).toContain('[12/15] Kyverno: deny a Pod running the image with the forged signature');
    expect(r.out).toContain('[15/15] Kyverno: deny the unsigned Pod under the Notary-and-Cosign policy');
    expect(r.out.match(/ {7}proves: /g)).toHaveLength(15);
    expect(r.out).toMatch(/✔ admit-signed +admitted/);
    expect(r.out).toMatch(/✔ deny-unsigned +denied/);
    expect(r.out).toContain(
      'digest pinned: {"op":"replace","path":"/spec/containers/0/image","value":"registry.example.com/demo/app:v1@sha256:',
    );
    expect(r.out).toContain('All 15 steps behaved as expected');
    expect(r.out).not.toContain('✘');
    const after = (await readdir(tmpdir())).filter((n) => n.startsWith('vouch-demo-') && !n.startsWith('vouch-demo-test-'));
    expect(after.filter((n) => !before.has(n))).toEqual([]);
    // it never prints the directory it removes (issue 11, defect 14): files are named relative to it
    expect(r.out).not.toContain(tmpdir());
    expect(r.out).toContain('a temporary directory, removed at the end');
    expect(r.out).toContain('written pki/demo-ca.crt, pki/demo-signer.crt, pki/demo-signer.key');
    const json = await demo(['--output', 'json']);
    expect(json.out).not.toContain(tmpdir());
    expect(JSON.parse(json.out)).toMatchObject({ dir: null, kept: false });
  });

  it('reports every step that does not behave as expected (the verdict can fail)', async () => {
    // Run the story on a repository that silently drops every signature: verification must then fail.
    const repos = new Map<string, ReturnType<typeof memoryRepository>>();
    const report = await runDemo({
      mode: 'oci-layout',
      registry: 'registry.example.com',
      dir: join(root, 'broken'),
      openRepository: (path) => {
        const r = memoryRepository();
        repos.set(path, r);
        return {
          ...r,
          async *referrers() {
            // no signatures are ever found
          },
        };
      },
    });
    expect(report.verdict.ok).toBe(false);
    const byId = Object.fromEntries(report.steps.map((s) => [s.id, s]));
    expect(byId['verify-jws']!.ok).toBe(false);
    expect(byId['verify-jws']!.outcome).toBe('error');
    expect(byId['verify-jws']!.error?.code).toBe('ERR_SIGNATURE_NOT_FOUND');
    expect(byId['admit-signed']!.outcome).toBe('denied');
    expect(report.verdict.unexpected).toEqual([
      'verify-jws',
      'verify-cose',
      'verify-wrong-store',
      'verify-wrong-identity',
      'admit-signed',
      'deny-unsigned',
      'deny-tampered',
      // not run: admit-signed is their prerequisite
      'sign-cosign',
      'admit-notary-and-cosign',
      'deny-unsigned-both',
    ]);
    expect(byId['sign-cosign']!.outcome).toBe('not run');
  });

  it('rejects a malformed --registry and an unknown output format', async () => {
    expect((await demo(['--registry', 'http://x'])).code).toBe(1);
    const r = await demo(['--output', 'yaml']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/output format/);
  });

  it('the forged envelope names the other image but keeps the original signature', () => {
    const env = new TextEncoder().encode(
      JSON.stringify({
        payload: Buffer.from(JSON.stringify({ targetArtifact: { mediaType: 'm', digest: 'sha256:aa', size: 1 } })).toString('base64url'),
        protected: 'p',
        header: {},
        signature: 'sig',
      }),
    );
    const forged = JSON.parse(fromUtf8(retargetJwsEnvelope(env, { mediaType: 'm2', digest: 'sha256:bb', size: 2 })));
    expect(forged.signature).toBe('sig');
    expect(JSON.parse(fromUtf8(fromBase64Url(forged.payload))).targetArtifact).toEqual({ mediaType: 'm2', digest: 'sha256:bb', size: 2 });
  });
});

describe('vouch demo --registry', () => {
  let registry: RunningRegistry | undefined;
  beforeAll(async () => {
    if (registryBinary()) registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('runs the same story against a real registry', async (t) => {
    if (!registry) {
      if (process.env.CI === 'true') throw new Error('docker-registry is required under CI=true');
      console.warn('NOTICE: docker-registry is not installed; skipping vouch demo --registry');
      t.skip();
      return;
    }
    const r = await demo(['--registry', registry.host, '-o', 'json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as Json;
    expect(report.mode).toBe('registry');
    expect(report.kept).toBe(false);
    checkReport(report, registry.host);
  });

  it('the verify command it prints works as printed (plain HTTP on 127.0.0.1 needs --insecure-registry)', async (t) => {
    if (!registry) {
      t.skip();
      return;
    }
    const dir = join(root, 'kept-registry');
    const r = await demo(['--registry', registry.host, '--dir', dir]);
    expect(r.code).toBe(0);
    const line = /Try it yourself:\n {2}vouch (.*)\n/.exec(r.out)?.[1];
    expect(line).toMatch(new RegExp(`verify --insecure-registry ${registry.host.replace(/\./g, '\\.')}/demo/app@sha256:`));
    let out = '';
    const code = await runCli(line!.split(' '), {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: () => true },
      env: { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') },
      cwd: root,
    });
    expect(out).toMatch(/^Successfully verified signature for /);
    expect(code).toBe(0);
  });
});
