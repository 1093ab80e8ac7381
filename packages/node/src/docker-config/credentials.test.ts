import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { hasCode } from '@vouch/core';
import { codeOf } from '@vouch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerConfigPath } from './config.js';
import { dockerCredentials } from './credentials.js';
import { runCredentialHelper, updateCredentialHelper } from './helper.js';

let dir: string;
const oldPath = process.env.PATH;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-dockercfg-'));
  // a credential helper: answers for reg.example and hub, "not found" otherwise, logs its stdin
  const helper = `#!/usr/bin/env node
let input = '';
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
`;
  await writeFile(join(dir, 'docker-credential-vouchtest'), helper);
  await chmod(join(dir, 'docker-credential-vouchtest'), 0o755);
  process.env.PATH = `${dir}${delimiter}${oldPath}`;
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
    expect(await codeOf(p.get('reg.other'))).toBe('ERR_CONFIG_INVALID');
  });

  it('times out a hanging helper when given a deadline (get and store alike) and rejects unsafe helper names', async () => {
    expect(await codeOf(runCredentialHelper('vouchtest', 'slow.example', { timeoutMs: 300 }))).toBe('ERR_TIMEOUT');
    expect(await codeOf(updateCredentialHelper('vouchtest', 'store', 'slow.example', { timeoutMs: 300 }))).toBe('ERR_TIMEOUT');
    expect(await codeOf(runCredentialHelper('../evil', 'x'))).toBe('ERR_CONFIG_INVALID');
    expect(await codeOf(runCredentialHelper('a;rm -rf /', 'x'))).toBe('ERR_CONFIG_INVALID');
  });

  it('reports a failing helper with what it printed, and a missing one as ERR_CONFIG_INVALID', async () => {
    const err = await runCredentialHelper('vouchtest', 'broken.example').catch((e: unknown) => e);
    expect(hasCode(err, 'ERR_REGISTRY_UNAUTHORIZED')).toBe(true);
    expect((err as Error).message).toBe('credential helper docker-credential-vouchtest failed: keychain is locked');
    const missing = await runCredentialHelper('vouch-no-such-helper', 'reg.example').catch((e: unknown) => e);
    expect(hasCode(missing, 'ERR_CONFIG_INVALID')).toBe(true);
    expect((missing as Error).message).toBe('credential helper docker-credential-vouch-no-such-helper is not installed');
  });

  it('treats a missing config as anonymous and a broken one as ERR_CONFIG_INVALID', async () => {
    expect(await dockerCredentials({ configPath: join(dir, 'nope.json') }).get('reg.a')).toBeUndefined();
    await writeFile(join(dir, 'bad.json'), '{');
    expect(await codeOf(dockerCredentials({ configPath: join(dir, 'bad.json') }).get('reg.a'))).toBe('ERR_CONFIG_INVALID');
  });
});
