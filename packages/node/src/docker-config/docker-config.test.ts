/**
 * The docker-config module: reading credentials (auths, credHelpers, credsStore), writing them
 * (login/logout), and the one credential-helper runner, with two fake helpers installed on PATH.
 */
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { hasCode } from '@vouch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerConfigPath, dockerServerKey } from './config.js';
import { dockerCredentials } from './credentials.js';
import { runCredentialHelper, updateCredentialHelper } from './helper.js';
import { eraseDockerCredentials, storeDockerCredentials } from './store.js';

let dir: string;
const oldPath = process.env.PATH;

/** Install `docker-credential-<name>` (a node script) in the test's PATH folder. */
async function installHelper(name: string, script: string): Promise<void> {
  await writeFile(join(dir, `docker-credential-${name}`), `#!/usr/bin/env node\n${script}`);
  await chmod(join(dir, `docker-credential-${name}`), 0o755);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-dockercfg-'));
  process.env.PATH = `${dir}${delimiter}${oldPath}`;
  // answers for reg.example and hub, "not found" otherwise, logs its stdin
  await installHelper(
    'vouchtest',
    `let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  require('fs').appendFileSync(${JSON.stringify(join(dir ?? '', 'helper.log'))}, process.argv.slice(2).join(' ') + ' ' + input + '\\n');
  if (input === 'reg.example') { process.stdout.write(JSON.stringify({ ServerURL: input, Username: 'helper-user', Secret: 'helper-pass' })); return; }
  if (input === 'https://index.docker.io/v1/') { process.stdout.write(JSON.stringify({ ServerURL: input, Username: '<token>', Secret: 'refresh' })); return; }
  if (input === 'slow.example') { setTimeout(() => {}, 60000); return; }
  if (input === 'broken.example') { process.stderr.write('keychain is locked'); process.exit(3); }
  process.stdout.write('credentials not found in native keychain');
  process.exit(1);
});
`,
  );
  // keeps its store in a JSON file next to it
  const db = join(dir, 'helper.json');
  await installHelper(
    'vouchwrite',
    `const fs = require('fs');
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const s = fs.existsSync(${JSON.stringify(db)}) ? JSON.parse(fs.readFileSync(${JSON.stringify(db)}, 'utf8')) : {};
  const a = process.argv[2];
  if (a === 'store') { const c = JSON.parse(input); s[c.ServerURL] = c; }
  else if (a === 'erase') { delete s[input]; }
  else if (a === 'get') { if (!s[input]) { process.stdout.write('credentials not found'); process.exit(1); } process.stdout.write(JSON.stringify(s[input])); return; }
  fs.writeFileSync(${JSON.stringify(db)}, JSON.stringify(s));
});
`,
  );
});
afterAll(async () => {
  process.env.PATH = oldPath;
  await rm(dir, { recursive: true, force: true });
});

describe('dockerConfigPath', () => {
  it('honours DOCKER_CONFIG', () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/x/y' })).toBe('/x/y/config.json');
    expect(dockerConfigPath({})).toMatch(/\.docker\/config\.json$/);
  });
});

describe('dockerCredentials', () => {
  it('reads auths (base64 auth, username/password, identity token) by host', async () => {
    const configPath = join(dir, 'auths.json');
    await writeFile(
      configPath,
      JSON.stringify({
        auths: {
          'https://reg.a:5000/v1/': { auth: Buffer.from('alice:pa:ss').toString('base64') },
          'reg.b': { username: 'bob', password: 'pw' },
          'reg.c': { identitytoken: 'tok' },
          'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hubpass').toString('base64') },
        },
      }),
    );
    const p = dockerCredentials({ configPath });
    expect(await p.get('reg.a:5000')).toEqual({ username: 'alice', password: 'pa:ss' });
    expect(await p.get('reg.b')).toEqual({ username: 'bob', password: 'pw' });
    expect(await p.get('reg.c')).toEqual({ identityToken: 'tok' });
    expect(await p.get('docker.io')).toEqual({ username: 'hubuser', password: 'hubpass' });
    expect(await p.get('reg.unknown')).toBeUndefined();
  });

  it('runs credHelpers / credsStore without a shell', async () => {
    const configPath = join(dir, 'helpers.json');
    await writeFile(configPath, JSON.stringify({ credsStore: 'vouchtest', credHelpers: { 'reg.other': 'missing-helper' } }));
    const p = dockerCredentials({ configPath });
    expect(await p.get('reg.example')).toEqual({ username: 'helper-user', password: 'helper-pass' });
    expect(await p.get('docker.io')).toEqual({ identityToken: 'refresh' });
    expect(await p.get('reg.none')).toBeUndefined();
    await expect(p.get('reg.other')).toRejectWithCode('ERR_CONFIG_INVALID');
  });

  it('times out a hanging helper when given a deadline (get and store alike) and rejects unsafe helper names', async () => {
    await expect(runCredentialHelper('vouchtest', 'slow.example', { timeoutMs: 300 })).toRejectWithCode('ERR_TIMEOUT');
    await expect(updateCredentialHelper('vouchtest', 'store', 'slow.example', { timeoutMs: 300 })).toRejectWithCode('ERR_TIMEOUT');
    await expect(runCredentialHelper('../evil', 'x')).toRejectWithCode('ERR_CONFIG_INVALID');
    await expect(runCredentialHelper('a;rm -rf /', 'x')).toRejectWithCode('ERR_CONFIG_INVALID');
  });

  it('reports a failing helper with what it printed, and a missing one as ERR_CONFIG_INVALID', async () => {
    const err = await runCredentialHelper('vouchtest', 'broken.example').catch((e: unknown) => e);
    expect(err).toBeVouchError('ERR_REGISTRY_UNAUTHORIZED');
    expect((err as Error).message).toBe('credential helper docker-credential-vouchtest failed: keychain is locked');
    const missing = await runCredentialHelper('vouch-no-such-helper', 'reg.example').catch((e: unknown) => e);
    expect(missing).toBeVouchError('ERR_CONFIG_INVALID');
    expect((missing as Error).message).toBe('credential helper docker-credential-vouch-no-such-helper is not installed');
  });

  it('treats a missing config as anonymous and a broken one as ERR_CONFIG_INVALID', async () => {
    expect(await dockerCredentials({ configPath: join(dir, 'nope.json') }).get('reg.a')).toBeUndefined();
    await writeFile(join(dir, 'bad.json'), '{');
    await expect(dockerCredentials({ configPath: join(dir, 'bad.json') }).get('reg.a')).toRejectWithCode('ERR_CONFIG_INVALID');
  });
});

describe('docker config writing (login/logout)', () => {
  it('stores base64 auth (0600), keeps other fields, and erases it', async () => {
    const configPath = join(dir, 'plain', 'config.json');
    await storeDockerCredentials('reg.example:5000', 'bob', 'pw', { configPath });
    await storeDockerCredentials('docker.io', '', 'refresh-token', { configPath });
    const doc = JSON.parse(await readFile(configPath, 'utf8'));
    expect(doc.auths['reg.example:5000'].auth).toBe(Buffer.from('bob:pw').toString('base64'));
    expect(doc.auths['https://index.docker.io/v1/']).toEqual({ identitytoken: 'refresh-token' });
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
    // what was written is what the reader finds
    expect(await dockerCredentials({ configPath }).get('reg.example:5000')).toEqual({ username: 'bob', password: 'pw' });
    doc.other = { keep: true };
    await writeFile(configPath, JSON.stringify(doc));
    expect((await eraseDockerCredentials('reg.example:5000', { configPath })).removed).toBe(true);
    expect((await eraseDockerCredentials('reg.example:5000', { configPath })).removed).toBe(false);
    const after = JSON.parse(await readFile(configPath, 'utf8'));
    expect(after.other).toEqual({ keep: true });
    expect(after.auths['reg.example:5000']).toBeUndefined();
  });

  it('goes through the credential helper named by credsStore or by the helper option', async () => {
    const configPath = join(dir, 'helper', 'config.json');
    await storeDockerCredentials('reg.example', 'carol', 'pw2', { configPath, helper: 'vouchwrite' });
    const db = JSON.parse(await readFile(join(dir, 'helper.json'), 'utf8'));
    expect(db['reg.example']).toEqual({ ServerURL: 'reg.example', Username: 'carol', Secret: 'pw2' });
    await expect(readFile(configPath)).rejects.toThrow();
    expect((await eraseDockerCredentials('reg.example', { configPath, helper: 'vouchwrite' })).helper).toBe('vouchwrite');
    expect(JSON.parse(await readFile(join(dir, 'helper.json'), 'utf8'))['reg.example']).toBeUndefined();
    await writeFile(join(dir, 'cs.json'), JSON.stringify({ credsStore: 'vouchwrite' }));
    const r = await storeDockerCredentials('reg2.example', 'dan', 'pw3', { configPath: join(dir, 'cs.json') });
    expect(r.helper).toBe('vouchwrite');
  });

  it('rejects a malformed config and a missing helper with typed errors', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '[1,2]');
    await expect(storeDockerCredentials('r', 'u', 'p', { configPath: bad })).rejects.toSatisfy((e: unknown) =>
      hasCode(e, 'ERR_CONFIG_INVALID'),
    );
    await expect(storeDockerCredentials('r', 'u', 'p', { configPath: join(dir, 'x.json'), helper: 'nonexistent-vouch' })).rejects.toSatisfy(
      (e: unknown) => hasCode(e, 'ERR_CONFIG_INVALID'),
    );
    expect(dockerServerKey('index.docker.io')).toBe('https://index.docker.io/v1/');
    expect(dockerServerKey('localhost:5000')).toBe('localhost:5000');
  });
});
