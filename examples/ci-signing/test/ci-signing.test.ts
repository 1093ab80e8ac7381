import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePem, type FetchLike, MediaType, utf8 } from '@vouch/core';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { nodeOciLayout } from '@vouch/node';
import { createVerifier } from '@vouch/notation';
import { createRegistryClient, remoteRepository, type WritableRepository } from '@vouch/registry';
import { type RunningRegistry, registryBinary, startRegistry } from '@vouch/testing/registry';
import { memoryTrustStore } from '@vouch/trust-policy';
import { certificatesToPem, createTestPki, exportPrivateKeyPkcs8, type TestPki } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { ciMetadata, parseDuration } from '../src/sign.js';

let root: string;
let pki: TestPki;
let env: Record<string, string>;

async function pushImage(repo: WritableRepository, tag: string): Promise<string> {
  const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(`layer ${tag}`));
  const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
  return (await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag })).digest;
}

function verifier(scope: string) {
  return createVerifier({
    trustPolicy: {
      version: '1.0',
      trustPolicies: [
        {
          name: 'ci',
          registryScopes: [scope],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:ci'],
          trustedIdentities: [`x509.subject: ${pki.leaf.certificate.subject}`],
        },
      ],
    },
    trustStore: memoryTrustStore({ ca: { ci: [pki.root.certificate] } }),
    envelopes: [jws, cose],
    revocation: false,
  });
}

async function run(args: string[], extraEnv: Record<string, string> = {}, fetch?: FetchLike) {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { ...env, ...extraEnv },
    cwd: root,
    ...(fetch ? { fetch } : {}),
  });
  return { code, out, err };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-ci-signing-'));
  pki = await createTestPki({ keySpec: 'EC-256' });
  await writeFile(join(root, 'signing.key'), encodePem('PRIVATE KEY', await exportPrivateKeyPkcs8(pki.leaf.privateKey)));
  env = {
    // key from a file (a mounted secret), certificate chain as PEM text (a CI variable)
    VOUCH_SIGNING_KEY_FILE: 'signing.key',
    VOUCH_SIGNING_CERT: certificatesToPem(pki.chain),
    GITHUB_SHA: '0123abcd',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/app',
    GITHUB_RUN_ID: '42',
  };
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ci-sign', () => {
  it('signs an image in an OCI layout, prints only the signature digest, and writes GITHUB_OUTPUT', async () => {
    const layout = join(root, 'layout');
    const digest = await pushImage(nodeOciLayout(layout), 'v1');
    const output = join(root, 'github-output');
    const r = await run(['--oci-layout', `layout@${digest}`, '--signature-format', 'cose', '-m', 'team=payments'], {
      GITHUB_OUTPUT: output,
    });
    expect(r.err).toContain(`signed layout@${digest} (cose)`);
    expect(r.code).toBe(0);
    const sigDigest = r.out.trim();
    expect(sigDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await readFile(output, 'utf8')).toBe(`signature-digest=${sigDigest}\nartifact-digest=${digest}\n`);
    // the signature verifies and carries the CI metadata
    const v = await verifier('registry.example.com/app').verify(`@${digest}`, {
      repository: nodeOciLayout(layout),
      scope: 'registry.example.com/app',
      userMetadata: { team: 'payments', 'org.opencontainers.image.revision': '0123abcd' },
    });
    expect(v.signature?.descriptor.digest).toBe(sigDigest);
    expect(v.signature?.envelopeMediaType).toBe(MediaType.COSE);
    expect(v.signature?.userMetadata?.['dev.vouch.ci.run']).toBe('https://github.com/acme/app/actions/runs/42');
  });

  it('resolves a tag, signs the digest and warns', async () => {
    const layout = join(root, 'tagged');
    const digest = await pushImage(nodeOciLayout(layout), 'v2');
    const r = await run(['--oci-layout', 'tagged:v2', '--expiry', '24h', '--no-ci-metadata']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: Always sign the artifact using digest/);
    expect(r.err).toContain(`signed tagged@${digest} (jws)`);
  });

  it('fails with a clear message when the key is missing or does not match the certificate', async () => {
    const layout = join(root, 'nokey');
    const digest = await pushImage(nodeOciLayout(layout), 'v1');
    const missing = await run(['--oci-layout', `nokey@${digest}`], { VOUCH_SIGNING_KEY_FILE: '' });
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('set VOUCH_SIGNING_KEY (PEM text) or VOUCH_SIGNING_KEY_FILE');
    const other = await createTestPki({ keySpec: 'EC-256', name: 'other' });
    const wrong = await run(['--oci-layout', `nokey@${digest}`], {
      VOUCH_SIGNING_KEY_FILE: '',
      VOUCH_SIGNING_KEY: encodePem('PRIVATE KEY', await exportPrivateKeyPkcs8(other.leaf.privateKey)),
    });
    expect(wrong.code).toBe(1);
    expect(wrong.out).toBe('');
    expect((await run([])).code).toBe(2);
    expect((await run(['--oci-layout', `nokey@${digest}`, '--signature-format', 'pgp'])).code).toBe(1);
  });

  it('parses durations and CI metadata', () => {
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('720h')).toBe(720 * 3600);
    expect(() => parseDuration('1w')).toThrow(/invalid duration/);
    expect(
      ciMetadata({
        CI_COMMIT_SHA: 'abc',
        CI_PROJECT_URL: 'https://gitlab.com/acme/app',
        CI_PIPELINE_URL: 'https://gitlab.com/acme/app/-/pipelines/7',
      }),
    ).toEqual({
      'org.opencontainers.image.revision': 'abc',
      'org.opencontainers.image.source': 'https://gitlab.com/acme/app',
      'dev.vouch.ci.run': 'https://gitlab.com/acme/app/-/pipelines/7',
    });
  });
});

describe('ci-sign against a registry', () => {
  let registry: RunningRegistry | undefined;
  beforeAll(async () => {
    if (registryBinary()) registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('signs an image pushed to a real registry (plain HTTP on loopback)', async (t) => {
    if (!registry) {
      if (process.env.CI === 'true') throw new Error('docker-registry is required under CI=true');
      console.warn('NOTICE: docker-registry is not installed; skipping ci-sign against a registry');
      t.skip();
      return;
    }
    const client = createRegistryClient({ fetch: globalThis.fetch as unknown as FetchLike });
    const repo = remoteRepository(client, `${registry.host}/acme/app`);
    const digest = await pushImage(repo, 'v1');
    const r = await run([`${registry.host}/acme/app@${digest}`]);
    expect(r.err).toContain(`signed ${registry.host}/acme/app@${digest} (jws)`);
    expect(r.code).toBe(0);
    const v = await verifier(`${registry.host}/acme/app`).verify(`${registry.host}/acme/app@${digest}`, {
      repository: remoteRepository(createRegistryClient({ fetch: globalThis.fetch as unknown as FetchLike }), `${registry.host}/acme/app`),
    });
    expect(v.signature?.descriptor.digest).toBe(r.out.trim());
  });
});
