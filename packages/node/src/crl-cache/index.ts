/**
 * A file-system CRL cache in notation's layout (`{NOTATION_CACHE}/crl/<hex sha256(url)>`, each
 * file `{"baseCRL":"<base64 DER>","deltaCRL":"<base64 DER>"}`), so vouch and notation can share
 * one cache directory.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, rm, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Logger, VouchError } from '@vouch/core';
import type { CrlCache, CrlCacheEntry } from '@vouch/x509/revocation';
import { userHome } from '../config/dirs.js';
import { ensureDir, errnoCode, writeFileAtomic } from '../config/fsutil.js';

/** Options of {@link notationCacheDir}. */
export interface NotationCacheDirOptions {
  /** Environment to read (`NOTATION_CACHE`, `XDG_CACHE_HOME`, `LOCALAPPDATA`, `HOME`); default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Platform whose convention to follow; default `process.platform`. */
  platform?: string;
  /** Home directory; default `HOME` from `env`, else `os.homedir()`. */
  home?: string;
}

/**
 * notation's cache directory: `$NOTATION_CACHE`, else the user cache dir + `/notation`
 * (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LocalAppData%` on
 * Windows), else `./.notation-cache`. The CRL cache is its `crl` sub-directory. Nothing is created.
 */
export function notationCacheDir(options: NotationCacheDirOptions = {}): string {
  const env = options.env ?? process.env;
  if (env.NOTATION_CACHE) return resolve(env.NOTATION_CACHE);
  const platform = options.platform ?? process.platform;
  const home = userHome(options);
  let base: string | undefined;
  if (platform === 'win32') base = env.LOCALAPPDATA;
  else if (platform === 'darwin') base = home ? join(home, 'Library', 'Caches') : undefined;
  else base = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : home ? join(home, '.cache') : undefined;
  return base ? resolve(base, 'notation') : resolve('.notation-cache');
}

/** Options of {@link fileCrlCache}. */
export interface FileCrlCacheOptions {
  /** Most entries kept; the least recently used are removed beyond it. Default 256. */
  maxEntries?: number;
  /** Largest entry file read back (bigger files are treated as corrupt). Default 96 MiB (two 32 MiB CRLs in base64). */
  maxEntryBytes?: number;
  /** Called once per cache with the first error discarded (notation logs "CRL cache error discarded"). */
  onError?: (error: VouchError) => void;
  /**
   * Debug trace of every lookup and store, and of every discarded error, in notation's wording
   * (`Retrieving crl bundle from file cache with key "<url>" ...`, `CRL file cache miss. …`,
   * `failed to get crl bundle from file cache with key "<url>": open <path>: permission denied`, …).
   */
  logger?: Pick<Logger, 'debug'>;
}

/**
 * An fs error as Go prints it (`open /path: permission denied`), which notation's messages embed;
 * follows `cause` to the underlying errno error when it was wrapped.
 */
export function fsErrorText(e: unknown): string {
  for (let cur: unknown = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    const m = /^[A-Z0-9_]+: ([^,]+), (\w+) '(.*)'$/.exec(cur.message);
    if (m) return `${m[2]} ${m[3]}: ${m[1]}`;
  }
  return e instanceof Error ? e.message : String(e);
}

const ENTRY_NAME = /^[0-9a-f]{64}$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The cache file name of a CRL URL: lowercase hex SHA-256 of the URL (notation's layout). */
export function crlCacheKey(url: string): string {
  return createHash('sha256').update(url, 'utf8').digest('hex');
}

function decodeEntry(text: string): CrlCacheEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { baseCRL, deltaCRL } = v as { baseCRL?: unknown; deltaCRL?: unknown };
  const dec = (s: unknown): Uint8Array | undefined =>
    typeof s === 'string' && s.length > 0 && s.length % 4 === 0 && B64.test(s) ? new Uint8Array(Buffer.from(s, 'base64')) : undefined;
  const base = dec(baseCRL);
  if (!base) return undefined;
  if (deltaCRL === undefined || deltaCRL === null) return { base };
  const delta = dec(deltaCRL);
  return delta ? { base, delta } : undefined;
}

/**
 * A {@link CrlCache} stored in `dir` (typically `join(notationCacheDir(), 'crl')`), in
 * notation's file layout: one file per distribution-point URL, named by the hex SHA-256 of
 * the URL, holding `{"baseCRL": base64, "deltaCRL": base64}`.
 *
 * - Writes are atomic: a temporary file in the same directory, flushed, then renamed
 *   (notation's fix for CVE-2024-51491). Directory mode 0700, files 0600.
 * - Freshness is not decided here: `checkRevocation` re-validates every entry (signature,
 *   issuer, nextUpdate) and downloads again when it is stale, then overwrites it.
 * - A corrupt, oversized or non-regular entry is ignored (removed, then replaced by the next
 *   download). Cache errors never fail a revocation check.
 * - Bounded: beyond `maxEntries`, the least recently used entries are removed.
 */
export function fileCrlCache(dir: string, options: FileCrlCacheOptions = {}): CrlCache {
  if (typeof dir !== 'string' || dir === '') throw new VouchError('ERR_INVALID_ARGUMENT', 'fileCrlCache needs a directory');
  const root = resolve(dir);
  const maxEntries = options.maxEntries ?? 256;
  const maxEntryBytes = options.maxEntryBytes ?? 96 * 1024 * 1024;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `maxEntries must be a positive integer, got ${maxEntries}`);
  }
  if (!Number.isSafeInteger(maxEntryBytes) || maxEntryBytes < 1) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `maxEntryBytes must be a positive integer, got ${maxEntryBytes}`);
  }
  let reported = false;
  const report = (e: unknown, what: string) => {
    if (reported || !options.onError) return;
    reported = true;
    options.onError(
      new VouchError('ERR_IO', `CRL cache error discarded (${what}): ${e instanceof Error ? e.message : String(e)}`, { cause: e }),
    );
  };
  const fileOf = (url: string) => join(root, crlCacheKey(url));
  const drop = (path: string) => rm(path, { force: true }).catch((e) => report(e, 'remove'));

  async function prune(): Promise<void> {
    const names = (await readdir(root)).filter((n) => ENTRY_NAME.test(n));
    if (names.length <= maxEntries) return;
    const dated: { name: string; t: number }[] = [];
    for (const name of names) {
      try {
        dated.push({ name, t: (await lstat(join(root, name))).mtimeMs });
      } catch {
        // removed concurrently
      }
    }
    dated.sort((a, b) => a.t - b.t);
    for (const { name } of dated.slice(0, Math.max(0, dated.length - maxEntries))) await drop(join(root, name));
  }

  const debug = (m: string) => options.logger?.debug(m);
  return {
    async get(url) {
      const path = fileOf(url);
      debug(`Retrieving crl bundle from file cache with key ${JSON.stringify(url)} ...`);
      try {
        const st = await lstat(path);
        if (!st.isFile() || st.size > maxEntryBytes) {
          await drop(path);
          return undefined;
        }
        const entry = decodeEntry(await readFile(path, 'utf8'));
        if (!entry) {
          await drop(path);
          return undefined;
        }
        const now = new Date();
        await utimes(path, now, now).catch(() => {}); // recency for the LRU bound
        return entry;
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') debug(`CRL file cache miss. Key ${JSON.stringify(url)} does not exist`);
        else {
          debug(`failed to get crl bundle from file cache with key ${JSON.stringify(url)}: ${fsErrorText(e)}`);
          report(e, 'read');
        }
        return undefined;
      }
    },
    async set(url, entry) {
      debug(`Storing crl bundle to file cache with key ${JSON.stringify(url)} ...`);
      try {
        if (!(entry?.base instanceof Uint8Array)) throw new Error('entry has no base CRL');
        await ensureDir(root);
        const body: { baseCRL: string; deltaCRL?: string } = { baseCRL: Buffer.from(entry.base).toString('base64') };
        if (entry.delta) body.deltaCRL = Buffer.from(entry.delta).toString('base64');
        await writeFileAtomic(fileOf(url), JSON.stringify(body), 0o600);
        await prune();
      } catch (e) {
        debug(`failed to store crl bundle in file cache: ${fsErrorText(e)}`);
        report(e, 'write');
      }
    },
  };
}
