// The example plugin against the SDK's conformance helper (in-process and as an executable),
// and full sign → verify round trips through it, over a memory repository and an OCI layout.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodePem, MediaType, utf8 } from '@vouch/core';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { executablePlugin, nodeOciLayout } from '@vouch/node';
import { createVerifier, pluginSigner, sign } from '@vouch/notation';
import { inProcessPlugin, isPluginError, type PluginClient, pluginConformance } from '@vouch/plugin';
import { memoryRepository, type WritableRepository } from '@vouch/registry';
import { memoryTrustStore } from '@vouch/trust-policy';
import { certificatesToPem, createTestPki, exportPrivateKeyPkcs8, type TestPki } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPkcs12Plugin, plugin } from '../src/index.js';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
const haveTsup = existsSync(join(repo, 'node_modules', 'tsup', 'package.json'));
if (!haveOpenssl) console.warn('NOTICE: openssl not found; PKCS#12 tests are skipped');

const PASSWORD_ENV = 'VOUCH_EXAMPLE_P12_PASSWORD';
let dir: string;
let p12: string;
let pemDir: string;
let pki: TestPki;
let bin: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-p12-'));
  pki = await createTestPki({ keySpec: 'RSA-3072', name: 'p12 example' });
  pemDir = join(dir, 'pem-key');
  await mkdir(pemDir);
  await writeFile(join(pemDir, 'key.pem'), encodePem('PRIVATE KEY', await exportPrivateKeyPkcs8(pki.leaf.privateKey)));
  // chain deliberately out of order: the plugin orders it leaf → root
  await writeFile(join(pemDir, 'cert.pem'), certificatesToPem([pki.chain[2]!, pki.chain[0]!, pki.chain[1]!]));
  process.env[PASSWORD_ENV] = 'correct horse';
  if (haveOpenssl) {
    p12 = join(dir, 'signer.p12');
    execFileSync(
      'openssl',
      [
        'pkcs12',
        '-export',
        '-inkey',
        join(pemDir, 'key.pem'),
        '-in',
        join(pemDir, 'cert.pem'),
        '-passout',
        `env:${PASSWORD_ENV}`,
        '-out',
        p12,
      ],
      { env: { ...process.env } },
    );
  }
  if (haveTsup) {
    // plain .mjs build script without types: a non-literal specifier keeps it out of the type program
    const script = new URL('../scripts/build.mjs', import.meta.url).href;
    const { buildPlugin } = (await import(script)) as { buildPlugin: (dir: string) => unknown };
    bin = (buildPlugin(join(dir, 'bin')) as { bin: string }).bin;
  }
}, 120_000);
afterAll(async () => {
  delete process.env[PASSWORD_ENV];
  if (dir) await rm(dir, { recursive: true, force: true });
});

const config = { passwordEnv: PASSWORD_ENV };

function failures(checks: { name: string; status: string; reason?: string }[]): string[] {
  return checks.filter((c) => c.status === 'failed').map((c) => `${c.name}: ${c.reason}`);
}

async function pushImage(r: WritableRepository): Promise<string> {
  const cfg = await r.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const layer = await r.pushBlob(MediaType.OCI_LAYER_TAR, utf8('hello'));
  const m = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
  return (await r.pushManifest(MediaType.OCI_MANIFEST, m, { tag: 'v1' })).digest;
}

async function roundTrip(client: PluginClient, keyId: string, r: WritableRepository, codec = jws) {
  const digest = await pushImage(r);
  await sign(`@${digest}`, { repository: r, signer: pluginSigner(client, { keyId, pluginConfig: config }), envelope: codec });
  const verifier = createVerifier({
    trustPolicy: {
      version: '1.0',
      trustPolicies: [
        {
          name: 'p12',
          registryScopes: ['example.com/app'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:p12'],
          trustedIdentities: [`x509.subject: ${pki.leaf.certificate.subject}`],
        },
      ],
    },
    trustStore: memoryTrustStore({ ca: { p12: [pki.root.certificate] } }),
    envelopes: [jws, cose],
    revocation: false,
  });
  return verifier.verify(`@${digest}`, { repository: r, scope: 'example.com/app' });
}

describe('PEM key directory (no openssl needed)', () => {
  it('passes the conformance helper in-process', async () => {
    const checks = await pluginConformance(inProcessPlugin(plugin), { keyId: pemDir, pluginConfig: config });
    expect(failures(checks)).toEqual([]);
    expect(checks.filter((c) => c.status === 'passed').length).toBeGreaterThan(15);
  });

  it('signs (RAW, chain ordered leaf first) and the signature verifies', async () => {
    const r = await roundTrip(inProcessPlugin(plugin), pemDir, memoryRepository(), cose);
    expect(r.signature?.signer?.certificateChain.map((c) => c.subject)).toEqual(pki.chain.map((c) => c.subject));
  });
});

describe.skipIf(!haveOpenssl)('PKCS#12 file', () => {
  it('passes the conformance helper in-process', async () => {
    expect(failures(await pluginConformance(inProcessPlugin(plugin), { keyId: p12, pluginConfig: config }))).toEqual([]);
  });

  it.skipIf(!haveTsup)('passes the conformance helper as the executable notation-vouch-pkcs12', { timeout: 120_000 }, async () => {
    const client = executablePlugin(bin, { env: { [PASSWORD_ENV]: 'correct horse' } });
    expect(client.name).toBe('vouch-pkcs12');
    expect(failures(await pluginConformance(client, { keyId: p12, pluginConfig: config }))).toEqual([]);
  });

  it('round trip in-process over a memory repository', async () => {
    const r = await roundTrip(inProcessPlugin(plugin), p12, memoryRepository());
    expect(r.signature?.signer?.certificateChain[0]?.subject).toBe(pki.leaf.certificate.subject);
  });

  it.skipIf(!haveTsup)('round trip through the executable over an OCI layout', { timeout: 60_000 }, async () => {
    const layout = join(dir, `layout-${Date.now()}`);
    await mkdir(layout);
    await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] }));
    const client = executablePlugin(bin, { env: { [PASSWORD_ENV]: 'correct horse' } });
    const r = await roundTrip(client, p12, nodeOciLayout(layout));
    expect(r.policy.level).toBe('strict');
  });

  it('a wrong password is ACCESS_DENIED; an unknown key VALIDATION_ERROR', async () => {
    const wrong = inProcessPlugin(createPkcs12Plugin({ env: { ...process.env, [PASSWORD_ENV]: 'wrong' } }));
    const e1 = await wrong.describeKey({ keyId: p12, pluginConfig: config }).catch((e) => e);
    expect(isPluginError(e1) && e1.pluginErrorCode).toBe('ACCESS_DENIED');
    const e2 = await inProcessPlugin(plugin)
      .describeKey({ keyId: join(dir, 'nope.p12'), pluginConfig: config })
      .catch((e) => e);
    expect(isPluginError(e2) && e2.pluginErrorCode).toBe('VALIDATION_ERROR');
    expect(e2).toBeVouchError('ERR_PLUGIN_FAILED');
  });
});
