import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { hasCode } from '@vouch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerServerKey } from './config.js';
import { dockerCredentials } from './credentials.js';
import { eraseDockerCredentials, storeDockerCredentials } from './store.js';

let dir: string;
const oldPath = process.env.PATH;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-dockerwrite-'));
  // a credential helper keeping its store in a JSON file next to it
  const db = join(dir, 'helper.json');
  const helper = `#!/usr/bin/env node
const fs = require('fs');
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
`;
  await writeFile(join(dir, 'docker-credential-vouchwrite'), helper);
  await chmod(join(dir, 'docker-credential-vouchwrite'), 0o755);
  process.env.PATH = `${dir}${delimiter}${oldPath}`;
});
afterAll(async () => {
  process.env.PATH = oldPath;
  await rm(dir, { recursive: true, force: true });
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
