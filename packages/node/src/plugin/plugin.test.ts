import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodePem, hasCode, utf8 } from '@vouch/core';
import { toBase64 } from '@vouch/core/internal';
import { type GenerateSignatureRequest, isPluginError, type PluginClient, pluginConformance } from '@vouch/plugin';
import { type GeneratedCertificate, generateTestCertificate } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRawSignatureResponse } from './check.js';
import { findPlugin, listPlugins, pluginExecutablePath } from './discovery.js';
import { executablePlugin } from './executable.js';
import { installPlugin, uninstallPlugin } from './install.js';
import { readTar } from './tar.js';

const fixtures = fileURLToPath(new URL('./test/', import.meta.url));
let tmp: string;
let key: GeneratedCertificate;
let other: GeneratedCertificate;
let env: Record<string, string>;

/** Copy a fixture script to `path` as an executable with this node as interpreter. */
function placeScript(fixture: string, path: string): string {
  const src = readFileSync(join(fixtures, fixture), 'utf8').replace(/^#!.*\n/, `#!${process.execPath}\n`);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, src, { mode: 0o755 });
  return path;
}

function scriptBytes(fixture: string, version = '1.0.0'): Uint8Array {
  const text = readFileSync(join(fixtures, fixture), 'utf8').replace(/^#!.*\n/, `#!${process.execPath}\n`);
  return utf8(text.replace("process.env.FAKE_VERSION ?? '1.0.0'", `'${version}'`));
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'vouch-plugin-host-'));
  key = await generateTestCertificate('spec plugin', { keySpec: 'EC-256' });
  other = await generateTestCertificate('someone else', { keySpec: 'EC-256' });
  env = {
    SPEC_PLUGIN_KEY_PEM: encodePem('PRIVATE KEY', key.pkcs8),
    SPEC_PLUGIN_CERT_B64: toBase64(key.certificate.der),
    SPEC_PLUGIN_KEY_SPEC: 'EC-256',
    FAKE_OTHER_CERT_B64: toBase64(other.certificate.der),
  };
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('executablePlugin with a plugin written from the spec (not the SDK)', () => {
  let configDir: string;
  let client: PluginClient;
  beforeAll(async () => {
    configDir = join(tmp, 'spec-config');
    placeScript('spec-plugin.cjs', pluginExecutablePath('io.vouch.test.spec', { configDir }));
    client = await findPlugin('io.vouch.test.spec', { configDir, env, timeoutMs: 20_000 });
  });

  it('drives get-plugin-metadata, describe-key, generate-signature and verify-signature', async () => {
    const md = await client.metadata();
    expect(md).toMatchObject({
      name: 'io.vouch.test.spec',
      capabilities: ['SIGNATURE_GENERATOR.RAW', 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY', 'SIGNATURE_VERIFIER.REVOCATION_CHECK'],
    });
    const dk = await client.describeKey({ keyId: 'spec-key' });
    expect(dk).toEqual({ keyId: 'spec-key', keySpec: 'EC-256' });
    const req: GenerateSignatureRequest = {
      keyId: 'spec-key',
      keySpec: dk.keySpec,
      hashAlgorithm: 'SHA-256',
      payload: utf8('eyJhbGciOiJFUzI1NiJ9.e30'),
    };
    const res = await client.generateSignature(req);
    const checked = await checkRawSignatureResponse(req, res);
    expect(checked.jwsAlgorithm).toBe('ES256');
    expect(checked.certificates[0]!.sha256Fingerprint).toBe(key.certificate.sha256Fingerprint);

    const verifyReq = {
      signature: {
        criticalAttributes: {
          contentType: 'application/vnd.cncf.notary.payload.v1+json',
          signingScheme: 'notary.x509',
          verificationPlugin: 'io.vouch.test.spec',
        },
        unprocessedAttributes: ['io.example.custom'],
        certificateChain: res.certificateChain,
      },
      trustPolicy: {
        trustedIdentities: ['*'],
        signatureVerification: ['SIGNATURE_VERIFIER.TRUSTED_IDENTITY' as const, 'SIGNATURE_VERIFIER.REVOCATION_CHECK' as const],
      },
    };
    expect(await client.verifySignature(verifyReq)).toEqual({
      verificationResults: {
        'SIGNATURE_VERIFIER.TRUSTED_IDENTITY': { success: true },
        'SIGNATURE_VERIFIER.REVOCATION_CHECK': { success: true },
      },
      processedAttributes: ['io.example.custom'],
    });
    const revoked = await client.verifySignature({ ...verifyReq, pluginConfig: { revoked: 'true' } });
    expect(revoked.verificationResults['SIGNATURE_VERIFIER.REVOCATION_CHECK']).toEqual({ success: false, reason: 'certificate revoked' });
    const stranger = await client.verifySignature({
      ...verifyReq,
      signature: { ...verifyReq.signature, certificateChain: [other.certificate.der] },
    });
    expect(stranger.verificationResults['SIGNATURE_VERIFIER.TRUSTED_IDENTITY']?.success).toBe(false);
  });

  it('maps the plugin error body to PluginError', async () => {
    const e = await rejection(client.describeKey({ keyId: 'nope' }));
    expect(e).toBeVouchError('ERR_PLUGIN_FAILED');
    expect(e).toMatchObject({
      pluginErrorCode: 'VALIDATION_ERROR',
      details: { pluginErrorCode: 'VALIDATION_ERROR', plugin: 'io.vouch.test.spec' },
    });
  });

  it('passes the conformance helper', { timeout: 120_000 }, async () => {
    const checks = await pluginConformance(client, { keyId: 'spec-key' });
    expect(checks.filter((c) => c.status !== 'passed')).toEqual([]);
  });

  it('is listed with its metadata', async () => {
    const list = await listPlugins({ configDir, env });
    expect(list.map((p) => [p.name, p.metadata?.version, p.error?.code])).toEqual([['io.vouch.test.spec', '1.0.0', undefined]]);
  });
});

describe('executablePlugin rejects misbehaving plugins with typed errors', () => {
  const fake = (mode: string, opts: { timeoutMs?: number; maxOutputBytes?: number; extra?: Record<string, string> } = {}) => {
    const path = join(tmp, 'fakes', mode, 'notation-io.vouch.test.fake');
    if (!existsSync(path)) placeScript('fake-plugin.cjs', path);
    return executablePlugin(path, {
      env: { ...env, FAKE_MODE: mode, ...(opts.extra ?? {}) },
      timeoutMs: opts.timeoutMs ?? 20_000,
      ...(opts.maxOutputBytes ? { maxOutputBytes: opts.maxOutputBytes } : {}),
    });
  };
  const sigReq: GenerateSignatureRequest = { keyId: 'k', keySpec: 'EC-256', hashAlgorithm: 'SHA-256', payload: utf8('a.b') };

  it.each([
    ['stdout that is not JSON', 'bad-json'],
    ['a response of the wrong shape', 'bad-shape'],
    ['an error body that breaks the contract', 'bad-error-body'],
    ['stderr that is not an error body', 'stderr-garbage'],
  ])('%s → ERR_PLUGIN_PROTOCOL', async (_what, mode) => {
    await expect(fake(mode).metadata()).toRejectWithCode('ERR_PLUGIN_PROTOCOL');
  });

  it.each([['oversized-stdout'], ['oversized-stderr']])('%s over maxOutputBytes → ERR_PLUGIN_PROTOCOL', async (mode) => {
    const e = await rejection(fake(mode, { maxOutputBytes: 1024 * 1024 }).metadata());
    expect(e).toMatchObject({ code: 'ERR_PLUGIN_PROTOCOL', details: { limit: 1024 * 1024 } });
  });

  it('kills a plugin that outlives the timeout → ERR_TIMEOUT', async () => {
    const pidFile = join(tmp, 'slow.pid');
    const e = await rejection(fake('slow', { timeoutMs: 3000, extra: { FAKE_PID_FILE: pidFile } }).metadata());
    expect(e).toBeVouchError('ERR_TIMEOUT');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      await new Promise((r) => setTimeout(r, 200));
      expect(() => process.kill(pid, 0)).toThrow();
    }
  });

  it('aborts a running call through its signal → ERR_ABORTED', async () => {
    const ac = new AbortController();
    const p = fake('slow').metadata({}, { signal: ac.signal });
    setTimeout(() => ac.abort(), 300);
    await expect(p).toRejectWithCode('ERR_ABORTED');
  });

  it('an error body → PluginError with code and metadata', async () => {
    const e = await rejection(fake('error-body').metadata());
    expect(isPluginError(e)).toBe(true);
    expect(e).toMatchObject({
      code: 'ERR_PLUGIN_FAILED',
      pluginErrorCode: 'THROTTLED',
      pluginErrorMetadata: { retryAfter: '7' },
      retryable: true,
    });
  });

  it.each([['silent-failure'], ['crash']])('%s (non-zero exit without a body) → ERR_PLUGIN_FAILED with ERROR', async (mode) => {
    expect(await rejection(fake(mode).metadata())).toMatchObject({ code: 'ERR_PLUGIN_FAILED', pluginErrorCode: 'ERROR' });
  });

  it('a plugin whose metadata name differs from its executable name → ERR_PLUGIN_PROTOCOL', async () => {
    const e = await rejection(fake('ok', { extra: { FAKE_NAME: 'io.vouch.test.impostor' } }).metadata());
    expect(e).toMatchObject({ code: 'ERR_PLUGIN_PROTOCOL', details: { reportedName: 'io.vouch.test.impostor' } });
  });

  it('runs the executable without a shell, even from a path with shell metacharacters', async () => {
    const marker = join(tmp, 'shell-ran');
    const path = placeScript('fake-plugin.cjs', join(tmp, `odd dir; touch ${marker}; $(touch ${marker})`, 'notation-io.vouch.test.fake'));
    expect((await executablePlugin(path, { env: { ...env, FAKE_MODE: 'ok' } }).metadata()).name).toBe('io.vouch.test.fake');
    expect(existsSync(marker)).toBe(false);
  });

  it('passes the inherited environment plus env, or only env', async () => {
    const md = await fake('env', { extra: { FAKE_ECHO: 'hello' } }).metadata();
    expect(md.description).toBe(`hello|${process.env.HOME ?? 'no-home'}`);
    const isolated = executablePlugin(join(tmp, 'fakes', 'env', 'notation-io.vouch.test.fake'), {
      inheritEnv: false,
      env: { FAKE_MODE: 'env' },
    });
    expect((await isolated.metadata()).description).toBe('|no-home');
  });

  it('a missing executable → ERR_PLUGIN_NOT_FOUND', async () => {
    await expect(executablePlugin(join(tmp, 'nowhere', 'notation-x')).metadata()).toRejectWithCode('ERR_PLUGIN_NOT_FOUND');
  });

  it('lying RAW responses are caught by checkRawSignatureResponse', async () => {
    const honest = await fake('ok').generateSignature(sigReq);
    await expect(checkRawSignatureResponse(sigReq, honest)).resolves.toMatchObject({ jwsAlgorithm: 'ES256' });

    const wrongAlg = await fake('wrong-alg').generateSignature(sigReq);
    expect(await rejection(checkRawSignatureResponse(sigReq, wrongAlg))).toMatchObject({
      code: 'ERR_PLUGIN_PROTOCOL',
      details: { check: 'signingAlgorithm' },
    });

    const wrongCert = await fake('wrong-cert').generateSignature(sigReq);
    expect(await rejection(checkRawSignatureResponse(sigReq, wrongCert))).toMatchObject({
      code: 'ERR_PLUGIN_PROTOCOL',
      details: { check: 'signature' },
    });
  });

  it('checkRawSignatureResponse validates the chain at the signing time', async () => {
    const honest = await fake('ok').generateSignature(sigReq);
    const later = new Date(Date.now() + 400 * 24 * 3600 * 1000);
    await expect(checkRawSignatureResponse(sigReq, honest, { signingTime: later })).toRejectWithCode('ERR_CERT_EXPIRED');
    await expect(checkRawSignatureResponse(sigReq, honest, { signingTime: false })).resolves.toBeDefined();
  });
});

describe('an SDK plugin (runPluginCli) driven by the host as a real executable', () => {
  const repo = resolve(fixtures, '../../../../..');
  const esbuild = join(repo, 'node_modules', '.bin', 'esbuild');
  it.skipIf(!existsSync(esbuild))('passes the conformance helper through executablePlugin', { timeout: 120_000 }, async () => {
    const bin = join(tmp, 'sdk', 'notation-sdk.mjs');
    execFileSync(
      esbuild,
      [
        join(repo, 'packages/plugin/src/test/sdk-plugin-bin.ts'),
        '--bundle',
        '--platform=node',
        '--format=esm',
        `--banner:js=#!${process.execPath}`,
        `--outfile=${bin}`,
        '--log-level=error',
      ],
      { cwd: repo },
    );
    execFileSync('chmod', ['755', bin]);
    const client = executablePlugin(bin, {
      name: 'io.vouch.test.sdk',
      env: { VOUCH_TEST_KEY_SPEC: 'EC-256', VOUCH_TEST_KEY_PEM: env.SPEC_PLUGIN_KEY_PEM!, VOUCH_TEST_CERT_B64: env.SPEC_PLUGIN_CERT_B64! },
    });
    const checks = await pluginConformance(client, { keyId: 'test-key' });
    expect(checks.filter((c) => c.status !== 'passed')).toEqual([]);
    const req: GenerateSignatureRequest = { keyId: 'test-key', keySpec: 'EC-256', hashAlgorithm: 'SHA-256', payload: utf8('h.p') };
    await expect(checkRawSignatureResponse(req, await client.generateSignature(req))).resolves.toMatchObject({ jwsAlgorithm: 'ES256' });
    expect(await rejection(client.describeKey({ keyId: 'denied' }))).toMatchObject({
      pluginErrorCode: 'ACCESS_DENIED',
      pluginErrorMetadata: { keyId: 'denied' },
    });
  });
});

// ------------------------------------------------------------------ discovery and install

/** A minimal ustar writer for test archives. */
function tar(files: { name: string; data: Uint8Array; mode?: number; type?: string }[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const f of files) {
    const h = new Uint8Array(512);
    const put = (s: string, off: number) => h.set(utf8(s), off);
    put(f.name, 0);
    put(`${(f.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100);
    put('0000000\0', 108);
    put('0000000\0', 116);
    put(`${f.data.length.toString(8).padStart(11, '0')}\0`, 124);
    put('00000000000\0', 136);
    put(f.type ?? '0', 156);
    put('ustar\0', 257);
    put('00', 263);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h);
    const padded = new Uint8Array(Math.ceil(f.data.length / 512) * 512);
    padded.set(f.data);
    blocks.push(padded);
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of blocks) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

describe('readTar', () => {
  it('reads ustar entries and rejects a corrupt header', () => {
    const t = tar([
      { name: './notation-a', data: utf8('#!x'), mode: 0o755 },
      { name: 'dir', data: new Uint8Array(0), type: '5' },
    ]);
    expect(readTar(t).map((e) => [e.path, e.type, e.mode, e.data.length])).toEqual([
      ['notation-a', 'file', 0o755, 3],
      ['dir', 'directory', 0o755 & 0o644, 0],
    ]);
    const bad = t.slice();
    bad[10] = 0x41;
    expect(
      hasCode(
        (() => {
          try {
            readTar(bad);
          } catch (e) {
            return e;
          }
        })(),
        'ERR_MALFORMED_INPUT',
      ),
    ).toBe(true);
  });
});

describe('installPlugin / listPlugins / uninstallPlugin', () => {
  let configDir: string;
  let src: string;
  beforeAll(() => {
    configDir = join(tmp, 'install-config');
    src = join(tmp, 'install-src');
    mkdirSync(src, { recursive: true });
  });
  const opts = (extra: object = {}) => ({ configDir, env: { ...env, FAKE_MODE: 'ok' }, timeoutMs: 20_000, ...extra });

  it('installs a single executable, verifying its checksum', async () => {
    const file = join(src, 'notation-io.vouch.test.fake');
    writeFileSync(file, scriptBytes('fake-plugin.cjs'));
    const { createHash } = await import('node:crypto');
    const sum = createHash('sha256').update(readFileSync(file)).digest('hex');
    await expect(installPlugin(file, opts({ sha256: '0'.repeat(64) }))).toRejectWithCode('ERR_DIGEST_MISMATCH');
    const r = await installPlugin(file, opts({ sha256: sum.toUpperCase() }));
    expect(r).toMatchObject({
      name: 'io.vouch.test.fake',
      version: '1.0.0',
      path: pluginExecutablePath('io.vouch.test.fake', { configDir }),
    });
    expect((await findPlugin('io.vouch.test.fake', opts())).path).toBe(r.path);
  });

  it('refuses a same-version reinstall or a downgrade unless forced, and upgrades', async () => {
    const file = join(src, 'notation-io.vouch.test.fake');
    await expect(installPlugin(file, opts())).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(installPlugin(file, opts({ force: true }))).resolves.toMatchObject({ previousVersion: '1.0.0' });
    const newer = join(src, 'v1.1.0', 'notation-io.vouch.test.fake');
    mkdirSync(join(newer, '..'), { recursive: true });
    writeFileSync(newer, scriptBytes('fake-plugin.cjs', '1.1.0'));
    await expect(installPlugin(newer, opts())).resolves.toMatchObject({ version: '1.1.0', previousVersion: '1.0.0' });
    await expect(installPlugin(file, opts())).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(installPlugin(file, opts({ force: true }))).resolves.toMatchObject({ version: '1.0.0', previousVersion: '1.1.0' });
  });

  it('orders pre-releases by SemVer precedence (beta.11 is newer than beta.2)', async () => {
    const build = (version: string) => {
      const f = join(src, version, 'notation-io.vouch.test.fake');
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, scriptBytes('fake-plugin.cjs', version));
      return f;
    };
    const beta2 = build('1.1.0-beta.2');
    const beta11 = build('1.1.0-beta.11');
    await expect(installPlugin(beta2, opts())).resolves.toMatchObject({ version: '1.1.0-beta.2', previousVersion: '1.0.0' });
    await expect(installPlugin(beta11, opts())).resolves.toMatchObject({ version: '1.1.0-beta.11', previousVersion: '1.1.0-beta.2' });
    const downgrade = await rejection(installPlugin(beta2, opts()));
    expect(downgrade).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', details: { installed: '1.1.0-beta.11', candidate: '1.1.0-beta.2' } });
    const file = join(src, 'notation-io.vouch.test.fake');
    await expect(installPlugin(file, opts({ force: true }))).resolves.toMatchObject({ version: '1.0.0', previousVersion: '1.1.0-beta.11' });
  });

  it('installs from a .tar.gz with exactly one notation-<name> and its LICENSE', async () => {
    const archive = join(src, 'spec.tar.gz');
    writeFileSync(
      archive,
      gzipSync(
        tar([
          { name: 'notation-io.vouch.test.spec', data: scriptBytes('spec-plugin.cjs'), mode: 0o755 },
          { name: 'LICENSE', data: utf8('Apache-2.0') },
          { name: 'nested/notation-io.vouch.test.nested', data: utf8('ignored') },
        ]),
      ),
    );
    const r = await installPlugin(archive, opts());
    expect(r.name).toBe('io.vouch.test.spec');
    expect(readFileSync(join(r.path, '..', 'LICENSE'), 'utf8')).toBe('Apache-2.0');
    expect(existsSync(join(r.path, '..', 'nested'))).toBe(false);
  });

  it('rejects archives without exactly one executable, zip archives and misnamed files', async () => {
    const none = join(src, 'none.tar.gz');
    writeFileSync(none, gzipSync(tar([{ name: 'README', data: utf8('hi') }])));
    await expect(installPlugin(none, opts())).toRejectWithCode('ERR_INVALID_ARGUMENT');
    const two = join(src, 'two.tar.gz');
    writeFileSync(
      two,
      gzipSync(
        tar([
          { name: 'notation-a', data: utf8('1') },
          { name: 'notation-b', data: utf8('2') },
        ]),
      ),
    );
    await expect(installPlugin(two, opts())).toRejectWithCode('ERR_INVALID_ARGUMENT');
    const zip = join(src, 'plugin.zip');
    writeFileSync(zip, new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]));
    await expect(installPlugin(zip, opts())).toRejectWithCode('ERR_UNSUPPORTED');
    const misnamed = join(src, 'my-plugin');
    writeFileSync(misnamed, scriptBytes('fake-plugin.cjs'));
    await expect(installPlugin(misnamed, opts())).toRejectWithCode('ERR_INVALID_ARGUMENT');
  });

  it('refuses a plugin whose metadata name does not match its file name, leaving nothing behind', async () => {
    const file = join(src, 'notation-io.vouch.test.liar');
    writeFileSync(file, scriptBytes('fake-plugin.cjs'));
    await expect(installPlugin(file, opts())).toRejectWithCode('ERR_PLUGIN_PROTOCOL');
    expect(existsSync(join(configDir, 'plugins', 'io.vouch.test.liar'))).toBe(false);
  });

  it('lists plugins, skipping files and symlinked directories, and reports broken ones', async () => {
    const plugins = join(configDir, 'plugins');
    writeFileSync(join(plugins, 'stray-file'), 'x');
    symlinkSync(join(plugins, 'io.vouch.test.spec'), join(plugins, 'io.vouch.test.link'));
    mkdirSync(join(plugins, 'io.vouch.test.broken'));
    const target = join(plugins, 'io.vouch.test.symexe');
    mkdirSync(target);
    symlinkSync(pluginExecutablePath('io.vouch.test.fake', { configDir }), join(target, 'notation-io.vouch.test.symexe'));
    const list = await listPlugins(opts());
    expect(list.map((p) => [p.name, p.metadata?.name, p.error?.code])).toEqual([
      ['io.vouch.test.broken', undefined, 'ERR_PLUGIN_NOT_FOUND'],
      ['io.vouch.test.fake', 'io.vouch.test.fake', undefined],
      ['io.vouch.test.spec', 'io.vouch.test.spec', undefined],
      ['io.vouch.test.symexe', undefined, 'ERR_PLUGIN_NOT_FOUND'],
    ]);
    await expect(findPlugin('io.vouch.test.link', opts())).toRejectWithCode('ERR_PLUGIN_NOT_FOUND');
  });

  it('uninstalls, and rejects unknown or invalid names', async () => {
    await uninstallPlugin('io.vouch.test.fake', { configDir });
    expect(existsSync(join(configDir, 'plugins', 'io.vouch.test.fake'))).toBe(false);
    await expect(uninstallPlugin('io.vouch.test.fake', { configDir })).toRejectWithCode('ERR_PLUGIN_NOT_FOUND');
    await expect(uninstallPlugin('../etc', { configDir })).toRejectWithCode('ERR_INVALID_ARGUMENT');
  });
});
