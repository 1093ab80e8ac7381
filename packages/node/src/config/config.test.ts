import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8 } from '@vouch/core';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { notationConfigDir } from './dirs.js';
import { writeFileAtomic } from './fsutil.js';
import {
  addSigningKey,
  importOciTrustPolicy,
  loadNotationConfig,
  loadSigningKeys,
  readOciTrustPolicyFile,
  removeSigningKeys,
  saveNotationConfig,
  setDefaultSigningKey,
} from './index.js';
import { loadBlobTrustPolicy, loadOciTrustPolicy } from './policy.js';
import { parseSigningKeys } from './signing-keys.js';
import { createNodeVerifier } from './verifier.js';

const tmpRoot = await mkdtemp(join(tmpdir(), 'vouch-config-'));
afterAll(() => rm(tmpRoot, { recursive: true, force: true }));
let n = 0;
let dir: string;
beforeEach(async () => {
  dir = join(tmpRoot, `c${n++}`);
  await mkdir(dir, { recursive: true });
});

const POLICY = {
  version: '1.0',
  trustPolicies: [
    {
      name: 'p',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:s'],
      trustedIdentities: ['*'],
    },
  ],
};
const BLOB_POLICY = {
  version: '1.0',
  trustPolicies: [
    { name: 'b', globalPolicy: true, signatureVerification: { level: 'audit' }, trustStores: ['ca:s'], trustedIdentities: ['*'] },
  ],
};

describe('notationConfigDir', () => {
  it('uses --config-dir first, then NOTATION_CONFIG, then XDG_CONFIG_HOME, then ~/.config', () => {
    const env = { XDG_CONFIG_HOME: '/xdg', HOME: '/home/u', NOTATION_CONFIG: '/nc' };
    expect(notationConfigDir({ configDir: '/explicit', env, platform: 'linux' })).toBe('/explicit');
    expect(notationConfigDir({ env, platform: 'linux' })).toBe('/nc');
    expect(notationConfigDir({ env: { XDG_CONFIG_HOME: '/xdg', HOME: '/home/u' }, platform: 'linux' })).toBe('/xdg/notation');
    expect(notationConfigDir({ env: { HOME: '/home/u' }, platform: 'linux' })).toBe('/home/u/.config/notation');
    // a relative XDG_CONFIG_HOME is ignored (XDG spec)
    expect(notationConfigDir({ env: { XDG_CONFIG_HOME: 'rel', HOME: '/home/u' }, platform: 'linux' })).toBe('/home/u/.config/notation');
  });
  it('follows the macOS and Windows conventions', () => {
    expect(notationConfigDir({ env: { HOME: '/Users/u' }, platform: 'darwin' })).toBe('/Users/u/Library/Application Support/notation');
    expect(notationConfigDir({ env: { APPDATA: '/appdata' }, platform: 'win32' })).toMatch(/appdata[\\/]notation$/);
  });
  it('falls back to ./.notation without a home directory', () => {
    expect(notationConfigDir({ env: {}, platform: 'linux' })).toBe(join(process.cwd(), '.notation'));
  });
});

describe('trust policy loading', () => {
  it('reads trustpolicy.json (notation 1.3 reads only it), else trustpolicy.oci.json (notation 2), and says when they disagree', async () => {
    await writeFile(join(dir, 'trustpolicy.oci.json'), JSON.stringify(POLICY));
    expect(await readOciTrustPolicyFile(dir)).toMatchObject({
      path: join(dir, 'trustpolicy.oci.json'),
      notation: { disagreeing: join(dir, 'trustpolicy.json'), reason: 'missing' },
    });
    await loadOciTrustPolicy(dir);
    const other = { ...POLICY, trustPolicies: [{ ...POLICY.trustPolicies[0], name: 'legacy' }] };
    await writeFile(join(dir, 'trustpolicy.json'), JSON.stringify(other));
    const both = await readOciTrustPolicyFile(dir);
    expect(both?.path).toBe(join(dir, 'trustpolicy.json'));
    expect(both?.notation).toEqual({ disagreeing: join(dir, 'trustpolicy.oci.json'), reason: 'differs' });
    expect((await loadOciTrustPolicy(dir)).trustPolicies[0]!.name).toBe('legacy');
    await writeFile(join(dir, 'trustpolicy.oci.json'), JSON.stringify(other));
    expect((await readOciTrustPolicyFile(dir))?.notation).toBeUndefined();
  });
  it('reports a missing policy as ERR_CONFIG_INVALID and a malformed one as ERR_TRUST_POLICY_INVALID naming the file', async () => {
    await expect(loadOciTrustPolicy(dir)).toRejectWithCode('ERR_CONFIG_INVALID');
    await writeFile(join(dir, 'trustpolicy.oci.json'), '{not json');
    const err = await loadOciTrustPolicy(dir).catch((e) => e);
    expect(err.code).toBe('ERR_TRUST_POLICY_INVALID');
    expect(err.message).toContain(join(dir, 'trustpolicy.oci.json'));
    await writeFile(join(dir, 'trustpolicy.oci.json'), JSON.stringify({ version: '2.0', trustPolicies: [] }));
    await expect(loadOciTrustPolicy(dir)).toRejectWithCode('ERR_TRUST_POLICY_INVALID');
  });
  it('rejects a symlinked or directory policy file', async () => {
    await writeFile(join(dir, 'real.json'), JSON.stringify(POLICY));
    await symlink(join(dir, 'real.json'), join(dir, 'trustpolicy.oci.json'));
    await expect(loadOciTrustPolicy(dir)).toRejectWithCode('ERR_CONFIG_INVALID');
    await rm(join(dir, 'trustpolicy.oci.json'));
    await mkdir(join(dir, 'trustpolicy.oci.json'));
    await expect(loadOciTrustPolicy(dir)).toRejectWithCode('ERR_CONFIG_INVALID');
  });
  it('loads the blob policy from trustpolicy.blob.json', async () => {
    await expect(loadBlobTrustPolicy(dir)).toRejectWithCode('ERR_CONFIG_INVALID');
    await writeFile(join(dir, 'trustpolicy.blob.json'), JSON.stringify(BLOB_POLICY));
    expect(await loadBlobTrustPolicy(dir)).toBeTruthy();
  });
  it('imports only valid policies into trustpolicy.json, refuses to overwrite without the flag, and never deletes it', async () => {
    await expect(importOciTrustPolicy(dir, utf8('{"version":"1.0","trustPolicies":[]}'))).toRejectWithCode('ERR_TRUST_POLICY_INVALID');
    expect(await readdir(dir)).toEqual([]);
    const first = await importOciTrustPolicy(dir, utf8(JSON.stringify(POLICY)));
    expect(first.path).toBe(join(dir, 'trustpolicy.json'));
    expect(first.written).toEqual([join(dir, 'trustpolicy.json')]);
    expect(await readdir(dir)).toEqual(['trustpolicy.json']);
    await expect(importOciTrustPolicy(dir, utf8(JSON.stringify(POLICY)))).toRejectWithCode('ERR_INVALID_ARGUMENT');
    const r = await importOciTrustPolicy(dir, utf8(JSON.stringify(POLICY)), { overwrite: true });
    expect(await readdir(dir)).toEqual(['trustpolicy.json']);
    expect((await lstat(r.path)).mode & 0o777).toBe(0o600);
  });
  it("keeps notation 2's trustpolicy.oci.json equal to trustpolicy.json when the config dir has one", async () => {
    await writeFile(
      join(dir, 'trustpolicy.oci.json'),
      JSON.stringify({ ...POLICY, trustPolicies: [{ ...POLICY.trustPolicies[0], name: 'old' }] }),
    );
    const bytes = utf8(JSON.stringify(POLICY));
    const r = await importOciTrustPolicy(dir, bytes, { overwrite: true });
    expect(r.written).toEqual([join(dir, 'trustpolicy.json'), join(dir, 'trustpolicy.oci.json')]);
    expect((await readdir(dir)).sort()).toEqual(['trustpolicy.json', 'trustpolicy.oci.json']);
    for (const f of r.written) expect(new Uint8Array(await readFile(f))).toEqual(bytes);
    expect((await readOciTrustPolicyFile(dir))?.notation).toBeUndefined();
  });
  it('restores trustpolicy.oci.json when trustpolicy.json cannot be written', async () => {
    const old = JSON.stringify({ ...POLICY, trustPolicies: [{ ...POLICY.trustPolicies[0], name: 'old' }] });
    await writeFile(join(dir, 'trustpolicy.oci.json'), old);
    await mkdir(join(dir, 'trustpolicy.json'));
    await writeFile(join(dir, 'trustpolicy.json', 'squatter'), 'x');
    await expect(importOciTrustPolicy(dir, utf8(JSON.stringify(POLICY)), { overwrite: true })).toRejectWithCode('ERR_IO');
    expect(await readFile(join(dir, 'trustpolicy.oci.json'), 'utf8')).toBe(old);
  });
});

describe('signingkeys.json', () => {
  it('applies notation rules: unique names, existing default', () => {
    const key = { name: 'a', keyPath: '/k', certPath: '/c' };
    expect(parseSigningKeys({ default: 'a', keys: [key] }).default).toBe('a');
    expect(() => parseSigningKeys({ keys: [key, key] })).toThrow(/multiple keys with name 'a' found/);
    expect(() => parseSigningKeys({ default: 'zz', keys: [key] })).toThrow(/default key 'zz' not found/);
    expect(() => parseSigningKeys({ keys: [{ name: 'x' }] })).toThrow(/neither/);
    expect(() => parseSigningKeys({ keys: [{ name: 'p', id: 'i', pluginName: 'pl', pluginConfig: { a: 1 } }] })).toThrow(/pluginConfig/);
  });
  it('adds, marks default, removes, and writes 0600 atomically', async () => {
    expect(await loadSigningKeys(dir)).toEqual({ keys: [] });
    await addSigningKey(dir, { name: 'a', keyPath: '/k', certPath: '/c' });
    await addSigningKey(dir, { name: 'b', id: 'id1', pluginName: 'com.example', pluginConfig: { k: 'v' } }, { makeDefault: true });
    await expect(addSigningKey(dir, { name: 'a', keyPath: '/k', certPath: '/c' })).toRejectWithCode('ERR_INVALID_ARGUMENT');
    let doc = await loadSigningKeys(dir);
    expect(doc.default).toBe('b');
    expect(doc.keys.map((k) => k.name)).toEqual(['a', 'b']);
    const raw = JSON.parse(await readFile(join(dir, 'signingkeys.json'), 'utf8'));
    expect(raw.keys[1]).toEqual({ name: 'b', id: 'id1', pluginName: 'com.example', pluginConfig: { k: 'v' } });
    expect((await lstat(join(dir, 'signingkeys.json'))).mode & 0o777).toBe(0o600);
    await setDefaultSigningKey(dir, 'a');
    expect((await loadSigningKeys(dir)).default).toBe('a');
    await expect(setDefaultSigningKey(dir, 'nope')).toRejectWithCode('ERR_KEY_NOT_FOUND');
    await expect(removeSigningKeys(dir, ['a', 'nope'])).toRejectWithCode('ERR_KEY_NOT_FOUND');
    expect((await loadSigningKeys(dir)).keys).toHaveLength(2);
    const r = await removeSigningKeys(dir, ['a']);
    expect(r).toEqual({ removed: ['a'], removedDefault: 'a' });
    doc = await loadSigningKeys(dir);
    expect(doc.default).toBeUndefined();
    expect(doc.keys.map((k) => k.name)).toEqual(['b']);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('config.json', () => {
  it('round-trips notation fields and keeps unknown ones', async () => {
    expect(await loadNotationConfig(dir)).toEqual({});
    await saveNotationConfig(dir, { insecureRegistries: ['localhost:5000'], signatureFormat: 'cose', extra: 1 });
    expect(await loadNotationConfig(dir)).toEqual({ insecureRegistries: ['localhost:5000'], signatureFormat: 'cose', extra: 1 });
    await writeFile(join(dir, 'config.json'), JSON.stringify({ signatureFormat: 'pgp' }));
    await expect(loadNotationConfig(dir)).toRejectWithCode('ERR_CONFIG_INVALID');
    await writeFile(join(dir, 'config.json'), JSON.stringify({ insecureRegistries: 'x' }));
    await expect(loadNotationConfig(dir)).toRejectWithCode('ERR_CONFIG_INVALID');
  });
  it('writeFileAtomic replaces content and applies the mode', async () => {
    const p = join(dir, 'sub', 'f.key');
    await writeFileAtomic(p, 'one', 0o600);
    await writeFileAtomic(p, 'two', 0o600);
    expect(await readFile(p, 'utf8')).toBe('two');
    expect((await lstat(p)).mode & 0o777).toBe(0o600);
    expect((await lstat(join(dir, 'sub'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, 'sub'))).toEqual(['f.key']);
  });
});

describe('createNodeVerifier', () => {
  it('reads the trust policy of the config dir once, at construction', async () => {
    await expect(createNodeVerifier({ configDir: dir })).toRejectWithCode('ERR_CONFIG_INVALID');
    await writeFile(join(dir, 'trustpolicy.oci.json'), JSON.stringify({ version: '1.0', trustPolicies: [{ name: 'x' }] }));
    await expect(createNodeVerifier({ configDir: dir })).toRejectWithCode('ERR_TRUST_POLICY_INVALID');
    await writeFile(join(dir, 'trustpolicy.oci.json'), JSON.stringify(POLICY));
    const v = await createNodeVerifier({ configDir: dir });
    expect(v.configDir).toBe(dir);
    expect(typeof v.verify).toBe('function');
    // the trust store is the config dir's: a missing store is reported by name
    await expect(v.trustStore.getCertificates('ca', 's')).toRejectWithCode('ERR_TRUST_STORE_NOT_FOUND');
  });
});
