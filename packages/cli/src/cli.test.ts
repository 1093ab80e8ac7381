import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FetchLike, MediaType, utf8 } from '@vouch/core';
import { nodeOciLayout } from '@vouch/node';
import { type RunningFakeRegistry, startFakeRegistry } from '@vouch/testing/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from './index.js';
import { type CliRun, type Json, runVouch } from './testing/run-cli.js';

let root: string;
let cfg: string;
let work: string;
let layout: string;
let digest: string;
let unsignedDigest: string;
const NAME = 'test.example';

async function vouch(args: string[], extra: Partial<CliIo> = {}): Promise<CliRun> {
  return runVouch(['--config-dir', cfg, ...args], {
    env: { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') },
    cwd: work,
    ...extra,
  });
}

function stdin(text: string): AsyncIterable<string> {
  return (async function* () {
    yield text;
  })();
}

const POLICY = (stores: string[], level = 'strict', identities = ['*']) => ({
  version: '1.0',
  trustPolicies: [
    {
      name: 'local',
      registryScopes: ['local.io/app'],
      signatureVerification: { level },
      trustStores: stores,
      trustedIdentities: identities,
    },
  ],
});

async function makeImage(dir: string, tag: string, content: string): Promise<string> {
  const repo = nodeOciLayout(dir);
  const config = await repo.pushBlob(MediaType.OCI_CONFIG, utf8('{}'));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(content));
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
  };
  const d = await repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(manifest)), { tag });
  return d.digest;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-cli-'));
  cfg = join(root, 'config');
  work = join(root, 'work');
  layout = join(work, 'layout');
  await mkdir(work, { recursive: true });
  await mkdir(layout, { recursive: true });
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] }));
  digest = await makeImage(layout, 'v1', 'hello');
  unsignedDigest = await makeImage(layout, 'unsigned', 'other');
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('vouch CLI: generate-test, sign, policy, verify, inspect, list (OCI layout)', () => {
  it('cert generate-test writes the key (0600), certificate, ca store and default signing key', async () => {
    const r = await vouch(['cert', 'generate-test', NAME, '--default']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('generating RSA Key with 2048 bits');
    expect(r.out).toContain(`Successfully added ${NAME}.crt to named store ${NAME} of type ca`);
    expect(r.out).toContain(`${NAME}: marked as default signing key`);
    const keyPath = join(cfg, 'localkeys', `${NAME}.key`);
    expect((await lstat(keyPath)).mode & 0o777).toBe(0o600);
    expect(existsSync(join(cfg, 'truststore', 'x509', 'ca', NAME, `${NAME}.crt`))).toBe(true);
    const keys = JSON.parse(await readFile(join(cfg, 'signingkeys.json'), 'utf8'));
    expect(keys).toEqual({ default: NAME, keys: [{ name: NAME, keyPath, certPath: join(cfg, 'localkeys', `${NAME}.crt`) }] });
    const again = await vouch(['cert', 'generate-test', NAME, '-o', 'json']);
    expect(again.code).toBe(1);
    expect(again.json().error.code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('sign --oci-layout signs by digest and warns about tags', async () => {
    const r = await vouch(['sign', '--oci-layout', 'layout:v1']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('Warning: Always sign the artifact using digest');
    expect(r.out).toContain(`Successfully signed layout@${digest}`);
    const j = await vouch(['sign', '--oci-layout', `layout@${digest}`, '--signature-format', 'cose', '-m', 'build=42', '-o', 'json']);
    expect(j.code).toBe(0);
    expect(j.err).toBe('');
    expect(j.json()).toMatchObject({ reference: `layout@${digest}`, signature: { envelopeMediaType: 'application/cose' } });
  });

  it('--oci-layout and --scope are stable: no NOTATION_EXPERIMENTAL gate and no warning, the variable is accepted', async () => {
    const env = { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') };
    const dir = join(work, 'stable');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] }));
    const d = await makeImage(dir, 'v1', 'stable');
    for (const extra of [{}, { NOTATION_EXPERIMENTAL: '1' }, { NOTATION_EXPERIMENTAL: '0' }]) {
      const s = await vouch(['sign', '--oci-layout', `stable@${d}`], { env: { ...env, ...extra } });
      expect(s.err).toBe('');
      expect(s.code).toBe(0);
      for (const verb of ['ls', 'inspect']) {
        const r = await vouch([verb, '--oci-layout', `stable@${d}`], { env: { ...env, ...extra } });
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
      }
    }
  });

  it('policy import validates before writing; show prints the file', async () => {
    await writeFile(join(work, 'bad.json'), JSON.stringify({ version: '1.0', trustPolicies: [] }));
    const bad = await vouch(['policy', 'import', 'bad.json']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^Error: /);
    expect(existsSync(join(cfg, 'trustpolicy.json'))).toBe(false);
    const missing = await vouch(['policy', 'show', '-o', 'json']);
    expect(missing.code).toBe(1);
    expect(missing.json().error.code).toBe('ERR_CONFIG_INVALID');

    const text = JSON.stringify(POLICY([`ca:${NAME}`]), null, 2);
    await writeFile(join(work, 'policy.json'), text);
    const ok = await vouch(['policy', 'import', 'policy.json']);
    expect(ok.code).toBe(0);
    // notation 1.3 reads only trustpolicy.json: vouch writes there (and no notation 2 file it did not find)
    expect(ok.out).toContain(`Successfully imported OCI trust policy configuration to ${join(cfg, 'trustpolicy.json')}`);
    expect(existsSync(join(cfg, 'trustpolicy.oci.json'))).toBe(false);
    const show = await vouch(['policy', 'show']);
    expect(show.code).toBe(0);
    expect(show.out).toBe(text);
    expect(show.err).toBe('');
    // existing policy: without --force and without input, nothing is overwritten
    await writeFile(join(work, 'policy2.json'), JSON.stringify(POLICY([`ca:${NAME}`], 'audit')));
    expect((await vouch(['policy', 'import', 'policy2.json'])).code).toBe(1);
    expect((await vouch(['policy', 'import', 'policy2.json'], { stdin: stdin('n\n') })).code).toBe(0);
    expect(await readFile(join(cfg, 'trustpolicy.json'), 'utf8')).toBe(text);
    const forced = await vouch(['policy', 'import', '--force', 'policy.json', '-o', 'json']);
    expect(forced.code).toBe(0);
    expect(forced.json()).toMatchObject({ imported: true, path: join(cfg, 'trustpolicy.json'), written: [join(cfg, 'trustpolicy.json')] });
    // a notation 2 file beside it that says something else: show warns, import writes both
    await writeFile(join(cfg, 'trustpolicy.oci.json'), JSON.stringify(POLICY([`ca:${NAME}`], 'audit')));
    const differs = await vouch(['policy', 'show']);
    expect(differs.out).toBe(text);
    expect(differs.err).toContain(`Warning: ${join(cfg, 'trustpolicy.oci.json')} differs from ${join(cfg, 'trustpolicy.json')}`);
    expect((await vouch(['policy', 'import', '--force', 'policy.json'])).code).toBe(0);
    expect(await readFile(join(cfg, 'trustpolicy.oci.json'), 'utf8')).toBe(text);
    expect((await vouch(['policy', 'show'])).err).toBe('');
    await rm(join(cfg, 'trustpolicy.oci.json'));
  });

  it('verify succeeds with notation wording and a json shape', async () => {
    const r = await vouch(['verify', '--oci-layout', `layout@${digest}`, '--scope', 'local.io/app']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`Successfully verified signature for layout@${digest}\n`);
    const m = await vouch(['verify', '--oci-layout', `layout@${digest}`, '--scope', 'local.io/app', '-m', 'build=42']);
    expect(m.code).toBe(0);
    expect(m.out).toContain('The artifact was signed with the following user metadata.');
    expect(m.out).toMatch(/metadata\.\n\nKEY {5}VALUE {3}\nbuild {3}42 {6}\n$/);
    const j = await vouch(['verify', '--oci-layout', `layout@${digest}`, '--scope', 'local.io/app', '--output', 'json']);
    expect(j.code).toBe(0);
    expect(j.json()).toMatchObject({ reference: `layout@${digest}`, verified: true, policy: { name: 'local', level: 'strict' } });
    const tag = await vouch(['verify', '--oci-layout', 'layout:v1', '--scope', 'local.io/app']);
    expect(tag.code).toBe(0);
    expect(tag.err).toContain('Warning: Always verify the artifact using digest(@sha256:...) rather than a tag(:v1)');
  });

  it('verify fails with exit 1 and the error code', async () => {
    const meta = await vouch(['verify', '--oci-layout', `layout@${digest}`, '--scope', 'local.io/app', '-m', 'build=43', '-o', 'json']);
    expect(meta.code).toBe(1);
    expect(meta.json().error.code).toBe('ERR_VERIFICATION_FAILED');
    expect(meta.err).toContain(`Error: signature verification failed for all the signatures associated with layout@${digest}`);
    const none = await vouch(['verify', '--oci-layout', `layout@${unsignedDigest}`, '--scope', 'local.io/app', '-o', 'json']);
    expect(none.code).toBe(1);
    expect(none.json().error.code).toBe('ERR_SIGNATURE_NOT_FOUND');
    const scope = await vouch(['verify', '--oci-layout', `layout@${digest}`, '--scope', 'other.io/app', '-o', 'json']);
    expect(scope.code).toBe(1);
    expect(scope.json().error.code).toBe('ERR_NO_APPLICABLE_TRUST_POLICY');
    const noScope = await vouch(['verify', '--oci-layout', `layout@${digest}`]);
    expect(noScope.code).toBe(1);
    expect(noScope.err).toContain("Run 'vouch verify --help' for usage.");
    const offline: FetchLike = async () => {
      throw new Error('offline');
    };
    const remote = await vouch(['verify', `local.io/app@${digest}`, '-o', 'json'], { fetch: offline });
    expect(remote.code).toBe(1);
    expect(remote.json().error.code).toBe('ERR_NETWORK');
    const max = await vouch(['verify', '--oci-layout', `layout@${digest}`, '--scope', 'local.io/app', '--max-signatures', '0']);
    expect(max.code).toBe(1);
  });

  it('list and inspect print notation trees', async () => {
    const ls = await vouch(['ls', '--oci-layout', `layout@${digest}`]);
    expect(ls.code).toBe(0);
    const lines = ls.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`layout@${digest}`);
    expect(lines[1]).toBe('└── application/vnd.cncf.notary.signature');
    expect(lines.slice(2)).toHaveLength(2);
    expect(lines[2]).toMatch(/^ {4}├── sha256:[0-9a-f]{64}$/);
    expect(lines[3]).toMatch(/^ {4}└── sha256:[0-9a-f]{64}$/);
    const none = await vouch(['list', '--oci-layout', `layout@${unsignedDigest}`]);
    // notation 1.3.2's wording (notation 2 says "signatures")
    expect(none.out).toBe(`layout@${unsignedDigest} has no associated signature\n`);
    const ins = await vouch(['inspect', '--oci-layout', `layout@${digest}`]);
    expect(ins.code).toBe(0);
    expect(
      ins.out.startsWith(`Inspecting all signatures for signed artifact\nlayout@${digest}\n└── application/vnd.cncf.notary.signature\n`),
    ).toBe(true);
    expect(ins.out).toContain('├── signature algorithm: RSASSA-PSS-SHA-256');
    // notation 1.3's labels: the envelope type is "media type", attributes keep their JSON names
    expect(ins.out).toContain('├── media type: application/cose');
    expect(ins.out).toMatch(/│ {3}├── signingScheme: notary\.x509\n/);
    expect(ins.out).toContain('│   └── signingAgent: vouch/');
    expect(ins.out).not.toContain('signature envelope type');
    expect(ins.out).toContain('│   └── build: 42');
    expect(ins.out).toContain(`issued to: CN=${NAME},O=Notary,L=Seattle,ST=WA,C=US`);
    const j = await vouch(['inspect', '--oci-layout', `layout@${digest}`, '-o', 'json']);
    expect(j.code).toBe(0);
    expect(j.json().signatures).toBeUndefined();
    const sigs = j.json().Signatures as Json[];
    expect(sigs).toHaveLength(2);
    expect(sigs.map((s) => s.mediaType).sort()).toEqual(['application/cose', 'application/jose+json']);
    expect(Object.keys(sigs[0]!)).toEqual([
      'mediaType',
      'digest',
      'signatureAlgorithm',
      'signedAttributes',
      'userDefinedAttributes',
      'unsignedAttributes',
      'certificates',
      'signedArtifact',
    ]);
    expect(sigs[0]!.signedAttributes.contentType).toBeUndefined();
    expect(sigs[0]!.signedArtifact).toEqual({ mediaType: MediaType.OCI_MANIFEST, digest, size: expect.any(Number) });
  });
});

describe('vouch cert', () => {
  it('add, list, show, delete with notation messages and exit codes', async () => {
    const crt = join(cfg, 'localkeys', `${NAME}.crt`);
    const add = await vouch(['cert', 'add', '--type', 'ca', '--store', 'extra', crt]);
    expect(add.code).toBe(0);
    expect(add.out).toBe(`Successfully added following certificates to named store extra of type ca:\n${crt}\n`);
    const dup = await vouch(['cert', 'add', '-t', 'ca', '-s', 'extra', crt]);
    expect(dup.code).toBe(1);
    expect(dup.err).toContain('Failed to add following certificates to named store extra of type ca:');
    const badType = await vouch(['cert', 'add', '-t', 'root', '-s', 'extra', crt, '-o', 'json']);
    expect(badType.code).toBe(1);
    expect(badType.json().error.code).toBe('ERR_INVALID_ARGUMENT');
    const noType = await vouch(['cert', 'add', '-s', 'extra', crt]);
    expect(noType.code).toBe(1);
    expect(noType.err).toContain('required flag(s) "type" not set');

    const ls = await vouch(['cert', 'ls']);
    expect(ls.code).toBe(0);
    expect(ls.out.split('\n')[0]).toMatch(/^STORE TYPE {3}STORE NAME {3,}CERTIFICATE {3,}$/);
    expect(ls.out).toMatch(/\nca {11}extra {10}test\.example\.crt {3}\n/);
    const lsJson = await vouch(['cert', 'list', '--store', 'extra', '-o', 'json']);
    expect(lsJson.json().certificates).toEqual([
      { type: 'ca', store: 'extra', file: `${NAME}.crt`, path: join(cfg, 'truststore', 'x509', 'ca', 'extra', `${NAME}.crt`) },
    ]);

    const show = await vouch(['cert', 'show', '-t', 'ca', '-s', 'extra', `${NAME}.crt`]);
    expect(show.code).toBe(0);
    expect(show.out).toContain(`Subject: CN=${NAME},O=Notary,L=Seattle,ST=WA,C=US`);
    expect(show.out).toMatch(/Valid to: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC/);
    expect(show.out).toContain('IsCA: false');
    expect(show.out).toMatch(/\nSHA256 Thumbprint: [0-9a-f]{64}\n/);
    expect(show.out).not.toContain('SHA1');

    const noConfirm = await vouch(['cert', 'delete', '-t', 'ca', '-s', 'extra', `${NAME}.crt`]);
    expect(noConfirm.code).toBe(1);
    const declined = await vouch(['cert', 'delete', '-t', 'ca', '-s', 'extra', `${NAME}.crt`], { stdin: stdin('no\n') });
    expect(declined.code).toBe(0);
    expect(existsSync(join(cfg, 'truststore', 'x509', 'ca', 'extra', `${NAME}.crt`))).toBe(true);
    const del = await vouch(['cert', 'delete', '-t', 'ca', '-s', 'extra', `${NAME}.crt`, '-y']);
    expect(del.code).toBe(0);
    expect(del.out).toBe(`Successfully deleted ${NAME}.crt from trust store extra of type ca\n`);
    // the store held only that certificate: its directory is gone too, as with notation
    expect(existsSync(join(cfg, 'truststore', 'x509', 'ca', 'extra'))).toBe(false);
    expect((await vouch(['cert', 'add', '-t', 'ca', '-s', 'extra', join(cfg, 'localkeys', `${NAME}.crt`)])).code).toBe(0);
    const both = await vouch(['cert', 'delete', '-t', 'ca', '-s', 'extra', 'x.crt', '--all']);
    expect(both.code).toBe(1);
    const all = await vouch(['cert', 'delete', '-t', 'ca', '-s', 'extra', '--all'], { stdin: stdin('y\n') });
    expect(all.code).toBe(0);
    expect(existsSync(join(cfg, 'truststore', 'x509', 'ca', 'extra'))).toBe(false);
    const gone = await vouch(['cert', 'delete', '-t', 'ca', '-s', 'extra', '--all', '-y', '-o', 'json']);
    expect(gone.json().error.code).toBe('ERR_TRUST_STORE_NOT_FOUND');
  });
});

describe('vouch key', () => {
  it('add (local and plugin), list, update, delete', async () => {
    const crt = join(cfg, 'localkeys', `${NAME}.crt`);
    const key = join(cfg, 'localkeys', `${NAME}.key`);
    const add = await vouch(['key', 'add', 'second', '--key-path', key, '--cert-path', crt]);
    expect(add.code).toBe(0);
    expect(add.out).toBe('second\n');
    const noPlugin = await vouch(['key', 'add', 'kms', '--plugin', 'com.example.kms', '--id', 'k1', '-o', 'json']);
    expect(noPlugin.code).toBe(1);
    expect(noPlugin.json().error.code).toBe('ERR_PLUGIN_NOT_FOUND');
    const pdir = join(cfg, 'plugins', 'com.example.kms');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(pdir, 'notation-com.example.kms'), '#!/bin/sh\n', { mode: 0o755 });
    const plugin = await vouch([
      'key',
      'add',
      'kms',
      '--plugin',
      'com.example.kms',
      '--id',
      'k1',
      '--plugin-config',
      'region=eu',
      '--default',
    ]);
    expect(plugin.code).toBe(0);
    expect(plugin.out).toBe('kms: marked as default\n');
    const dup = await vouch(['key', 'add', 'kms', '--plugin', 'com.example.kms', '--id', 'k1']);
    expect(dup.code).toBe(1);
    expect(dup.err).toBe('Error: kms: already exists\n');
    const noId = await vouch(['key', 'add', 'x', '--plugin', 'com.example.kms']);
    expect(noId.code).toBe(1);

    const ls = await vouch(['key', 'ls']);
    expect(ls.code).toBe(0);
    const rows = ls.out.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+KEY PATH\s+CERTIFICATE PATH\s+ID\s+PLUGIN NAME\s+$/);
    expect(rows.find((r) => r.startsWith('* kms'))).toMatch(/k1\s+com\.example\.kms/);
    const lsJson = await vouch(['key', 'list', '-o', 'json']);
    expect(lsJson.json().default).toBe('kms');
    expect(lsJson.json().keys).toContainEqual({ name: 'kms', id: 'k1', pluginName: 'com.example.kms', pluginConfig: { region: 'eu' } });

    const upd = await vouch(['key', 'update', 'second', '--default']);
    expect(upd.out).toBe('second: marked as default\n');
    expect((await vouch(['key', 'update', 'nope', '--default', '-o', 'json'])).json().error.code).toBe('ERR_KEY_NOT_FOUND');

    const del = await vouch(['key', 'delete', 'second', 'kms']);
    expect(del.code).toBe(0);
    expect(del.out).toBe('second: unmarked as default\nkms\n');
    const again = await vouch(['key', 'rm', 'kms']);
    expect(again.code).toBe(1);
    expect(again.err).toBe('Error: signing key kms not found\n');
  });
});

describe('vouch login / logout', () => {
  function fakeRegistry(user: string, pass: string): { fetch: FetchLike; calls: string[] } {
    const calls: string[] = [];
    const fetch: FetchLike = async (url, init) => {
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      const auth = init?.headers?.authorization;
      const ok = auth === `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      const status = ok ? 200 : 401;
      return {
        status,
        headers: { get: (h: string) => (h.toLowerCase() === 'www-authenticate' ? 'Basic realm="test"' : null) },
        body: null,
        arrayBuffer: async () => new ArrayBuffer(0),
        text: async () => '',
      };
    };
    return { fetch, calls };
  }

  it('checks the credentials, writes the docker config (0600) and removes them on logout', async () => {
    const reg = fakeRegistry('testuser', 'testpassword');
    const bad = await vouch(['login', '-u', 'testuser', '--password-stdin', 'localhost:5000', '-o', 'json'], {
      fetch: reg.fetch,
      stdin: stdin('wrong\n'),
    });
    expect(bad.code).toBe(1);
    expect(bad.json().error.code).toBe('ERR_REGISTRY_UNAUTHORIZED');
    const dockerConfig = join(root, 'docker', 'config.json');
    expect(existsSync(dockerConfig)).toBe(false);
    await mkdir(join(root, 'docker'), { recursive: true });
    await writeFile(dockerConfig, JSON.stringify({ auths: { 'other.io': { auth: 'eA==' } }, extra: true }));
    const ok = await vouch(['login', '-u', 'testuser', '--password-stdin', 'localhost:5000'], {
      fetch: reg.fetch,
      stdin: stdin('testpassword\n'),
    });
    expect(ok.code).toBe(0);
    expect(ok.out).toBe('Login Succeeded\n');
    expect(reg.calls.every((c) => c.startsWith('GET http://localhost:5000/v2/'))).toBe(true);
    const saved = JSON.parse(await readFile(dockerConfig, 'utf8'));
    expect(saved.extra).toBe(true);
    expect(saved.auths['other.io']).toEqual({ auth: 'eA==' });
    expect(Buffer.from(saved.auths['localhost:5000'].auth, 'base64').toString()).toBe('testuser:testpassword');
    expect((await lstat(dockerConfig)).mode & 0o777).toBe(0o600);
    const warn = await vouch(['login', '-u', 'testuser', '-p', 'testpassword', 'localhost:5000'], { fetch: reg.fetch });
    expect(warn.err).toContain('WARNING! Using --password via the CLI is insecure');
    const out = await vouch(['logout', 'localhost:5000']);
    expect(out.code).toBe(0);
    expect(out.out).toBe('Logout Succeeded\n');
    const after = JSON.parse(await readFile(dockerConfig, 'utf8'));
    expect(after.auths['localhost:5000']).toBeUndefined();
    expect(after.auths['other.io']).toEqual({ auth: 'eA==' });
  });
});

describe('vouch: usage and global behaviour', () => {
  it('help exits 0; no arguments, unknown verbs and options exit 1 with Error:', async () => {
    const help = await vouch(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('verify');
    expect((await vouch([])).code).toBe(1);
    const unknown = await vouch(['frobnicate']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toBe(`Error: unknown command "frobnicate" for "vouch"\nRun 'vouch --help' for usage.\n`);
    const opt = await vouch(['verify', '--bogus', 'x']);
    expect(opt.code).toBe(1);
    expect(opt.err).toMatch(/^Error: unknown flag: --bogus\n/);
    const fmt = await vouch(['key', 'ls', '-o', 'yaml']);
    expect(fmt.code).toBe(1);
    expect(fmt.err).toContain('unrecognized output format');
    expect((await vouch(['--version'])).out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
  it('resolves the config dir from XDG_CONFIG_HOME when --config-dir is absent', async () => {
    let out = '';
    const xdg = join(root, 'xdg');
    const code = await runCli(['key', 'ls', '-o', 'json'], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: () => {} },
      env: { XDG_CONFIG_HOME: xdg, HOME: join(root, 'home') },
    });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ default: null, keys: [] });
    await mkdir(join(xdg, 'notation'), { recursive: true });
    await writeFile(join(xdg, 'notation', 'signingkeys.json'), '{"keys":[{"name":"x"}]}');
    const bad = await runCli(['key', 'ls'], { stdout: { write: () => {} }, stderr: { write: () => {} }, env: { XDG_CONFIG_HOME: xdg } });
    expect(bad).toBe(1);
  });
  it('the bin module runs the CLI', async () => {
    const src = await readFile(join(import.meta.dirname, 'bin.ts'), 'utf8');
    expect(src.startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});

/** Push a small image to the fake registry over HTTP; returns its digest. */
async function pushRemote(fake: RunningFakeRegistry, repo: string, salt: string): Promise<string> {
  const blob = async (bytes: Uint8Array) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const start = await fetch(`${fake.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    await fetch(`${fake.url}${start.headers.get('location')}?digest=${digest}`, { method: 'PUT', body: Buffer.from(bytes) });
    return { digest, size: bytes.length };
  };
  const config = { mediaType: MediaType.OCI_CONFIG, ...(await blob(utf8('{}'))) };
  const layer = { mediaType: MediaType.OCI_LAYER_TAR, ...(await blob(utf8(salt))) };
  const res = await fetch(`${fake.url}/v2/${repo}/manifests/v1`, {
    method: 'PUT',
    headers: { 'content-type': MediaType.OCI_MANIFEST },
    body: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config, layers: [layer] }),
  });
  return res.headers.get('docker-content-digest')!;
}

const tagOf = (digest: string) => digest.replace(':', '-');

/**
 * What `vouch sign` writes, as notation 1.3.2 writes it (issue 11, defects 3 and 6; the interop
 * suite checks the same against the real notation): an image manifest whose config media type is
 * the signature type (no artifactType), in registries and OCI layouts (notation-go's layout
 * reader lists only this form), the layout's index.json entry with the manifest's annotations;
 * `--force-referrers-tag` defaulting to true (the tag-schema index also where the registry has
 * the Referrers API), `--force-referrers-tag=false` the API alone.
 */
describe('the signature manifest vouch writes (notation 1.3.2 form)', () => {
  let fake: RunningFakeRegistry;
  beforeAll(async () => {
    fake = await startFakeRegistry({ referrersApi: true });
    expect((await vouch(['cert', 'generate-test', 'form.example'])).code).toBe(0);
  });
  afterAll(() => fake?.stop());
  it('in an OCI layout: config media type = signature, no artifactType; the index.json entry carries its annotations', async () => {
    const dir = join(root, 'form-layout');
    const digest = await makeImage(dir, 'v1', 'form');
    const s = await vouch(['sign', '--key', 'form.example', '--oci-layout', `${dir}@${digest}`]);
    expect(s.code).toBe(0);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Record<string, unknown>[] };
    const entry = index.manifests.find((m) => m.digest !== digest)!;
    expect(Object.keys(entry)).toEqual(['mediaType', 'digest', 'size', 'annotations']);
    const manifest = JSON.parse(await readFile(join(dir, 'blobs', ...(entry.digest as string).split(':')), 'utf8'));
    expect(Object.keys(manifest)).toEqual(['schemaVersion', 'mediaType', 'config', 'layers', 'subject', 'annotations']);
    expect(manifest.artifactType).toBeUndefined();
    expect(manifest.config).toEqual({ mediaType: MediaType.NOTARY_SIGNATURE, digest: expect.any(String), size: 2 });
    expect(entry.annotations).toEqual(manifest.annotations);
    expect(Object.keys(entry.annotations as object)).toEqual([
      'io.cncf.notary.x509chain.thumbprint#S256',
      'org.opencontainers.image.created',
    ]);
    // and vouch reads it back
    const ls = await vouch(['list', '--oci-layout', `${dir}@${digest}`]);
    expect(ls.out).toContain(`└── ${entry.digest}`);
  });

  it('on a registry with the Referrers API: the tag-schema index is written by default (--force-referrers-tag defaults to true)', async () => {
    const digest = await pushRemote(fake, 'app', 'default');
    const s = await vouch(['sign', '--key', 'form.example', '--insecure-registry', `${fake.host}/app@${digest}`]);
    expect(s.code).toBe(0);
    const tags = (await (await fetch(`${fake.url}/v2/app/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toContain(tagOf(digest));
    const index = (await (await fetch(`${fake.url}/v2/app/manifests/${tagOf(digest)}`)).json()) as { manifests: Record<string, unknown>[] };
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]!.artifactType).toBe(MediaType.NOTARY_SIGNATURE);
    const manifest = (await (await fetch(`${fake.url}/v2/app/manifests/${index.manifests[0]!.digest}`)).json()) as Record<string, unknown>;
    expect(manifest.artifactType).toBeUndefined();
    expect((manifest.config as { mediaType: string }).mediaType).toBe(MediaType.NOTARY_SIGNATURE);
  });

  it('--force-referrers-tag=false: the Referrers API alone; --force-referrers-tag=true and the bare flag as the default', async () => {
    const off = await pushRemote(fake, 'off', 'off');
    expect(
      (await vouch(['sign', '--key', 'form.example', '--insecure-registry', '--force-referrers-tag=false', `${fake.host}/off@${off}`]))
        .code,
    ).toBe(0);
    const offTags = (await (await fetch(`${fake.url}/v2/off/tags/list`)).json()) as { tags: string[] };
    expect(offTags.tags).not.toContain(tagOf(off));
    const referrers = (await (await fetch(`${fake.url}/v2/off/referrers/${off}`)).json()) as { manifests: unknown[] };
    expect(referrers.manifests).toHaveLength(1);
    for (const flag of ['--force-referrers-tag=true', '--force-referrers-tag']) {
      const repo = flag.endsWith('true') ? 'on' : 'bare';
      const d = await pushRemote(fake, repo, repo);
      expect((await vouch(['sign', '--key', 'form.example', '--insecure-registry', flag, `${fake.host}/${repo}@${d}`])).code).toBe(0);
      const tags = (await (await fetch(`${fake.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] };
      expect(tags.tags).toContain(tagOf(d));
    }
  });

  it('sign --help shows the default as notation does (pflag: "(default true)")', async () => {
    const h = await vouch(['sign', '--help']);
    expect(h.out).toMatch(/--force-referrers-tag\s[^-]*\(default true\)/);
    expect(h.out).not.toContain('--no-force-referrers-tag');
  });
});
