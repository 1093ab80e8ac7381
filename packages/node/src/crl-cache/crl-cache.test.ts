import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VouchError } from '@vouch/core';
import { afterAll, describe, expect, it } from 'vitest';
import { crlCacheKey, fileCrlCache, fsErrorText, notationCacheDir } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'vouch-crl-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `c${n++}`, 'crl');

describe('notationCacheDir', () => {
  it('follows NOTATION_CACHE, XDG_CACHE_HOME, ~/.cache, macOS and Windows conventions', () => {
    expect(notationCacheDir({ env: { NOTATION_CACHE: '/n' } })).toBe('/n');
    expect(notationCacheDir({ env: { XDG_CACHE_HOME: '/x', HOME: '/h' }, platform: 'linux' })).toBe('/x/notation');
    expect(notationCacheDir({ env: { XDG_CACHE_HOME: 'rel', HOME: '/h' }, platform: 'linux' })).toBe('/h/.cache/notation');
    expect(notationCacheDir({ env: { HOME: '/h' }, platform: 'darwin' })).toBe('/h/Library/Caches/notation');
    expect(notationCacheDir({ env: { LOCALAPPDATA: '/w' }, platform: 'win32' })).toContain('notation');
  });
});

describe('fileCrlCache', () => {
  it("stores entries in notation's layout and reads them back", async () => {
    const dir = fresh();
    const cache = fileCrlCache(dir);
    const url = 'http://127.0.0.1:1/int.crl';
    expect(await cache.get(url)).toBeUndefined();
    await cache.set(url, { base: new Uint8Array([1, 2, 3]), delta: new Uint8Array([4]) });
    const file = join(dir, createHash('sha256').update(url).digest('hex'));
    expect(crlCacheKey(url)).toBe(file.slice(-64));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ baseCRL: 'AQID', deltaCRL: 'BA==' });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await cache.get(url)).toEqual({ base: new Uint8Array([1, 2, 3]), delta: new Uint8Array([4]) });
    await cache.set(url, { base: new Uint8Array([9]) });
    expect(await cache.get(url)).toEqual({ base: new Uint8Array([9]) });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ baseCRL: 'CQ==' });
    // a second cache instance (another process) sees the same data; no temp files remain
    expect(await fileCrlCache(dir).get(url)).toEqual({ base: new Uint8Array([9]) });
    expect(readdirSync(dir)).toEqual([crlCacheKey(url)]);
  });

  it('ignores and removes corrupt entries, reporting the first error once', async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const errors: VouchError[] = [];
    const cache = fileCrlCache(dir, { onError: (e) => errors.push(e) });
    const bad = ['not json', '{"baseCRL":5}', '{"baseCRL":"!!!!"}', '{"baseCRL":"AQID","deltaCRL":"x"}', '{}', 'null'];
    for (const [i, body] of bad.entries()) {
      const url = `http://h/${i}`;
      writeFileSync(join(dir, crlCacheKey(url)), body);
      expect(await cache.get(url)).toBeUndefined();
      expect(readdirSync(dir)).not.toContain(crlCacheKey(url));
      await cache.set(url, { base: new Uint8Array([7]) });
      expect(await cache.get(url)).toEqual({ base: new Uint8Array([7]) });
    }
    // a directory in place of an entry is not followed; oversized entries are dropped
    const small = fileCrlCache(dir, { maxEntryBytes: 10 });
    await cache.set('http://h/big', { base: new Uint8Array(100) });
    expect(await small.get('http://h/big')).toBeUndefined();
    expect(errors).toEqual([]);
    // an unwritable location: set() never throws, the error is reported once
    writeFileSync(join(root, 'file'), '');
    const broken = fileCrlCache(join(root, 'file', 'crl'), { onError: (e) => errors.push(e) });
    await broken.set('http://h/1', { base: new Uint8Array([1]) });
    await broken.set('http://h/2', { base: new Uint8Array([1]) });
    expect(await broken.get('http://h/1')).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/CRL cache error discarded/);
  });

  it("traces lookups, stores and discarded errors in notation's wording", async () => {
    const lines: string[] = [];
    const logger = { debug: (m: string) => lines.push(m) };
    const url = 'http://127.0.0.1:1/leaf.crl';
    const cache = fileCrlCache(fresh(), { logger });
    await cache.get(url);
    await cache.set(url, { base: new Uint8Array([1]) });
    await cache.get(url);
    expect(lines).toEqual([
      `Retrieving crl bundle from file cache with key "${url}" ...`,
      `CRL file cache miss. Key "${url}" does not exist`,
      `Storing crl bundle to file cache with key "${url}" ...`,
      `Retrieving crl bundle from file cache with key "${url}" ...`,
    ]);
    // a cache whose directory cannot exist (a file is in the way): both errors are traced, Go-style
    writeFileSync(join(root, 'blocker'), '');
    lines.length = 0;
    const broken = fileCrlCache(join(root, 'blocker', 'crl'), { logger });
    await broken.get(url);
    await broken.set(url, { base: new Uint8Array([1]) });
    expect(lines[1]).toMatch(
      new RegExp(`^failed to get crl bundle from file cache with key "${url}": \\w+ .*blocker/crl/${crlCacheKey(url)}: not a directory$`),
    );
    expect(lines[3]).toMatch(/^failed to store crl bundle in file cache: \w+ .*blocker\/crl: (not a directory|file already exists)$/);
  });

  it('fsErrorText prints an fs error as Go does', () => {
    const e = Object.assign(new Error("EACCES: permission denied, open '/x/y'"), { code: 'EACCES' });
    expect(fsErrorText(e)).toBe('open /x/y: permission denied');
    expect(fsErrorText(new Error('other'))).toBe('other');
  });

  it('is bounded: the least recently used entries go first', async () => {
    const dir = fresh();
    const cache = fileCrlCache(dir, { maxEntries: 3 });
    const t = Date.now() / 1000;
    for (const i of [0, 1, 2]) {
      await cache.set(`http://h/${i}`, { base: new Uint8Array([i]) });
      utimesSync(join(dir, crlCacheKey(`http://h/${i}`)), t - 100 + i, t - 100 + i);
    }
    // touch 0 (now the most recent), then add 3: entry 1 is evicted
    expect(await cache.get('http://h/0')).toBeDefined();
    await cache.set('http://h/3', { base: new Uint8Array([3]) });
    expect(readdirSync(dir).sort()).toEqual([0, 2, 3].map((i) => crlCacheKey(`http://h/${i}`)).sort());
    expect(await cache.get('http://h/1')).toBeUndefined();
  });

  it('validates its options', () => {
    expect(() => fileCrlCache('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => fileCrlCache(fresh(), { maxEntries: 0 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
