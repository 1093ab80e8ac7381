/**
 * Plain HTTP or TLS, as notation decides it: plain HTTP only for `localhost:<port>`, for
 * `--insecure-registry` and for the `insecureRegistries` of config.json; every other registry,
 * loopback addresses included, is reached over HTTPS. Two real registries (CNCF distribution) on
 * 127.0.0.1: one serving TLS with a self-signed certificate (trusted by the `vouch` child process
 * through NODE_EXTRA_CA_CERTS, as a user would), one plain HTTP.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningRegistry, requireTool, run, skopeoCopy, startRegistry } from '@vouch/testing/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from './index.js';
import { usesPlainHttp } from './registry.js';
import { disposeCliExecutable, runCliProcess } from './testing/cli-process.js';
import { layoutWithImage } from './testing/layout.js';
import { runVouch } from './testing/run-cli.js';

describe('usesPlainHttp: notation rule', () => {
  it('plain HTTP for localhost:<port> only, unless the flag or config.json says so', () => {
    expect(usesPlainHttp('localhost:5000', false, {})).toBe(true);
    expect(usesPlainHttp('localhost', false, {})).toBe(false);
    expect(usesPlainHttp('LOCALHOST:5000', false, {})).toBe(false);
    expect(usesPlainHttp('127.0.0.1:5000', false, {})).toBe(false);
    expect(usesPlainHttp('127.0.0.1', false, {})).toBe(false);
    expect(usesPlainHttp('[::1]:5000', false, {})).toBe(false);
    expect(usesPlainHttp('registry.example', false, {})).toBe(false);
    expect(usesPlainHttp('127.0.0.1:5000', true, {})).toBe(true);
    expect(usesPlainHttp('Reg.Example:5000', false, { insecureRegistries: ['reg.example:5000'] })).toBe(true);
    expect(usesPlainHttp('reg.example:5001', false, { insecureRegistries: ['reg.example:5000'] })).toBe(false);
  });
});

const hasTools =
  requireTool('docker-registry', 'the registry TLS tests need CNCF distribution') &&
  requireTool('skopeo', 'the registry TLS tests copy an image with skopeo') &&
  requireTool('openssl', 'the registry TLS tests make a server certificate with openssl');

describe.skipIf(!hasTools)('TLS and plain HTTP registries on 127.0.0.1', () => {
  let root: string;
  let cfg: string;
  let caFile: string;
  let tls: RunningRegistry;
  let plain: RunningRegistry;
  let digest: string;
  let env: Record<string, string>;

  const vouch = (args: string[], extra: Partial<CliIo> = {}) =>
    runVouch(['--config-dir', cfg, ...args], { env: { ...env }, cwd: root, ...extra });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vouch-cli-tls-'));
    cfg = join(root, 'config');
    env = { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') };
    caFile = join(root, 'server.crt');
    const keyFile = join(root, 'server.key');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      caFile,
      '-days',
      '2',
      '-subj',
      '/CN=vouch test registry',
      '-addext',
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
      '-addext',
      'extendedKeyUsage=serverAuth',
    ]);
    [tls, plain] = await Promise.all([startRegistry({ tls: { certificate: caFile, key: keyFile, ca: caFile } }), startRegistry()]);
    const layout = join(root, 'layout');
    digest = await layoutWithImage(layout, 'v1', 'tls test');
    await skopeoCopy(`oci:${layout}:v1`, `docker://${tls.host}/app:v1`);
    await skopeoCopy(`oci:${layout}:v1`, `docker://${plain.host}/app:v1`);
    expect((await vouch(['cert', 'generate-test', '--default', 'tls.example'])).code).toBe(0);
    const plainPort = plain.host.split(':')[1];
    const policy = {
      version: '1.0',
      trustPolicies: [
        {
          name: 'all',
          registryScopes: [`${tls.host}/app`, `${plain.host}/app`, `localhost:${plainPort}/app`],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:tls.example'],
          trustedIdentities: ['*'],
        },
      ],
    };
    await writeFile(join(cfg, 'trustpolicy.oci.json'), JSON.stringify(policy));
  }, 120_000);
  afterAll(async () => {
    await Promise.all([tls?.stop(), plain?.stop()]);
    disposeCliExecutable();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const child = (args: string[], extraEnv: Record<string, string> = {}) =>
    runCliProcess(['--config-dir', cfg, ...args], { cwd: root, env: { ...env, ...extraEnv }, timeoutMs: 60_000 });

  it('a TLS registry on 127.0.0.1 is reached over HTTPS: sign, verify and list with the CA trusted by NODE_EXTRA_CA_CERTS', async () => {
    const trusted = { NODE_EXTRA_CA_CERTS: caFile };
    const ref = `${tls.host}/app@${digest}`;
    const s = await child(['sign', ref], trusted);
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    expect(s.stdout).toContain(`Successfully signed ${ref}`);
    const v = await child(['verify', ref], trusted);
    expect(v.code).toBe(0);
    expect(v.stdout).toBe(`Successfully verified signature for ${ref}\n`);
    const ls = await child(['ls', ref], trusted);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/└── application\/vnd\.cncf\.notary\.signature\n {4}└── sha256:[0-9a-f]{64}\n$/);
  }, 120_000);

  it('HTTPS really is used: without the CA the certificate is refused', async () => {
    const v = await child(['verify', `${tls.host}/app@${digest}`, '-o', 'json']);
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout).error.code).toBe('ERR_NETWORK');
    expect(v.stderr).toMatch(/^Error: .*self[- ]signed certificate/);
  }, 60_000);

  it('--insecure-registry against the TLS registry: plain HTTP, and the error says the registry speaks HTTPS', async () => {
    const v = await vouch(['verify', '--insecure-registry', `${tls.host}/app@${digest}`]);
    expect(v.code).toBe(1);
    expect(v.err).toMatch(/^Error: .*HTTP 400/);
    expect(v.err).toContain('the registry may expect HTTPS');
  });

  it('a plain HTTP registry on 127.0.0.1 needs --insecure-registry or insecureRegistries; localhost:<port> is plain by default', async () => {
    const ref = `${plain.host}/app@${digest}`;
    const refused = await vouch(['sign', ref, '-o', 'json']);
    expect(refused.code).toBe(1);
    expect(refused.json().error.code).toBe('ERR_NETWORK');
    expect(refused.err).toContain('--insecure-registry');
    const signed = await vouch(['sign', '--insecure-registry', ref]);
    expect(signed.err).toBe('');
    expect(signed.code).toBe(0);
    const flag = await vouch(['verify', '--insecure-registry', ref]);
    expect(flag.code).toBe(0);
    const boolFlag = await vouch(['verify', '--insecure-registry=true', ref]);
    expect(boolFlag.code).toBe(0);
    // notation's config.json
    await writeFile(join(cfg, 'config.json'), JSON.stringify({ insecureRegistries: [plain.host] }));
    try {
      const configured = await vouch(['verify', ref]);
      expect(configured.code).toBe(0);
    } finally {
      await rm(join(cfg, 'config.json'));
    }
    const local = `localhost:${plain.host.split(':')[1]}/app@${digest}`;
    const byName = await vouch(['verify', local]);
    expect(byName.err).toBe('');
    expect(byName.code).toBe(0);
    expect(byName.out).toBe(`Successfully verified signature for ${local}\n`);
  }, 60_000);

  it('login follows the same rule', async () => {
    const port = plain.host.split(':')[1];
    const tlsLogin = await vouch(['login', '-u', 'u', '--password-stdin', plain.host], {
      stdin: (async function* () {
        yield 'p\n';
      })(),
    });
    expect(tlsLogin.code).toBe(1);
    expect(tlsLogin.err).toMatch(/^Error: cannot reach registry https:\/\/127\.0\.0\.1:/);
    for (const args of [['--insecure-registry', plain.host], [`localhost:${port}`]]) {
      const r = await vouch(['login', '-u', 'u', '--password-stdin', ...args], {
        stdin: (async function* () {
          yield 'p\n';
        })(),
      });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toBe('Login Succeeded\n');
    }
  });
});
