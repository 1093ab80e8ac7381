import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isVouchError, VouchError } from '@vouch/core';
import {
  isTrustStoreType,
  isValidTrustStoreName,
  type TrustStore,
  type TrustStoreType,
  verifyTrustStoreCertificates,
} from '@vouch/trust-policy';
import { type Certificate, parseCertificates } from '@vouch/x509';
import { ConfigPaths } from '../config/dirs.js';
import { errnoCode } from '../config/fsutil.js';

/** Throw ERR_INVALID_ARGUMENT unless `type` is a store type and `name` a valid store name. */
export function assertStoreAddress(type: string, name: string): asserts type is TrustStoreType {
  if (!isTrustStoreType(type)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `unsupported store type: ${type} (use ca, signingAuthority or tsa)`, {
      details: { type },
    });
  }
  if (!isValidTrustStoreName(name)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `named store name needs to follow [a-zA-Z0-9_.-]+ format, got "${name}"`, {
      details: { name },
    });
  }
}

/** Directory of a named store: `<configDir>/truststore/x509/<type>/<name>`. */
export function trustStoreDir(configDir: string, type: TrustStoreType, name: string): string {
  return join(configDir, ConfigPaths.TRUST_STORE, type, name);
}

/** Options for {@link fileTrustStore}. */
export interface FileTrustStoreOptions {
  /**
   * When false, a store is read once and never re-checked. Default true: every call stats
   * the store directory and its files and re-reads the store when a modification time,
   * size or the file list changed.
   */
  revalidate?: boolean;
}

/** A {@link TrustStore} over notation's directory layout, with a cache you can drop. */
export interface FileTrustStore extends TrustStore {
  /** The config dir the store reads. */
  readonly configDir: string;
  /** Forget every cached store (or one), so the next call reads from disk. */
  invalidate(type?: TrustStoreType, name?: string): void;
}

interface Snapshot {
  /** `name:mtimeMs:size` of the directory and every entry, joined. */
  stamp: string;
  certs: readonly Certificate[];
}

function storeLabel(type: string, name: string): string {
  return `trust store ${name} of type ${type}`;
}

async function stampOf(dir: string, type: TrustStoreType, name: string): Promise<{ stamp: string; entries: string[] }> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') {
      throw new VouchError(
        'ERR_TRUST_STORE_NOT_FOUND',
        `the ${storeLabel(type, name)} does not exist (${dir}); add certificates with \`vouch cert add --type ${type} --store ${name} <file>\``,
        { details: { type, name, path: dir, reason: 'missing' } },
      );
    }
    throw new VouchError('ERR_IO', `cannot read the ${storeLabel(type, name)}: ${(e as Error).message}`, { cause: e });
  }
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new VouchError(
      'ERR_TRUST_STORE_INVALID',
      `the ${storeLabel(type, name)} at ${dir} is not a regular directory (symlinks are not supported)`,
      { details: { type, name, path: dir } },
    );
  }
  const entries = (await readdir(dir)).sort();
  const parts = [`${st.mtimeMs}`];
  for (const entry of entries) {
    const est = await lstat(join(dir, entry));
    if (!est.isFile()) {
      throw new VouchError(
        'ERR_TRUST_STORE_INVALID',
        `the trusted certificate ${entry} in ${storeLabel(type, name)} is not a regular file (directories or symlinks are not supported)`,
        { details: { type, name, file: entry } },
      );
    }
    parts.push(`${entry}:${est.mtimeMs}:${est.size}`);
  }
  return { stamp: parts.join('|'), entries };
}

/**
 * Read and check the certificates of one named store: every entry must be a regular file
 * (sub-directories and symlinks are rejected, as notation does), every file must hold one or
 * more PEM or DER certificates, and the certificates must satisfy the store type's rules
 * (`verifyTrustStoreCertificates`). An empty store is ERR_TRUST_STORE_NOT_FOUND.
 */
export async function readTrustStoreCertificates(configDir: string, type: TrustStoreType, name: string): Promise<readonly Certificate[]> {
  assertStoreAddress(type, name);
  const dir = trustStoreDir(configDir, type, name);
  const { entries } = await stampOf(dir, type, name);
  return loadEntries(dir, type, name, entries);
}

async function loadEntries(dir: string, type: TrustStoreType, name: string, entries: string[]): Promise<Certificate[]> {
  const all: Certificate[] = [];
  for (const entry of entries) {
    const certs = await readCertificateFile(join(dir, entry), type, name, entry);
    try {
      await verifyTrustStoreCertificates(type, certs);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new VouchError(
        'ERR_TRUST_STORE_INVALID',
        `failed to validate the trusted certificate ${entry} in ${storeLabel(type, name)}: ${why}`,
        { cause: e, details: { type, name, file: entry, ...(isVouchError(e) ? { reason: e.code } : {}) } },
      );
    }
    all.push(...certs);
  }
  if (all.length === 0) {
    throw new VouchError(
      'ERR_TRUST_STORE_NOT_FOUND',
      `no x509 certificates were found in ${storeLabel(type, name)}; add certificates with \`vouch cert add --type ${type} --store ${name} <file>\``,
      { details: { type, name, path: dir, reason: 'empty' } },
    );
  }
  return all;
}

async function readCertificateFile(path: string, type: string, name: string, entry: string): Promise<Certificate[]> {
  let certs: Certificate[];
  try {
    certs = [...parseCertificates(new Uint8Array(await readFile(path)))];
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new VouchError(
      'ERR_TRUST_STORE_INVALID',
      `failed to read the trusted certificate ${entry} in ${storeLabel(type, name)}: ${why}`,
      { cause: e, details: { type, name, file: entry } },
    );
  }
  if (certs.length === 0) {
    throw new VouchError(
      'ERR_TRUST_STORE_INVALID',
      `no x509 certificates were found in the trusted certificate ${entry} in ${storeLabel(type, name)}`,
      { details: { type, name, file: entry } },
    );
  }
  return certs;
}

/**
 * A {@link TrustStore} over notation's layout `<configDir>/truststore/x509/<type>/<name>/`.
 * Each named store is parsed once and cached; the cache is checked against the directory's
 * and files' modification times on every call (see {@link FileTrustStoreOptions.revalidate}),
 * and concurrent first loads of a store share one read.
 *
 * Errors: ERR_INVALID_ARGUMENT (bad type or name), ERR_TRUST_STORE_NOT_FOUND (absent or
 * empty store), ERR_TRUST_STORE_INVALID (symlink, sub-directory, unparsable file, or a
 * certificate the store type does not allow), ERR_IO.
 * @example
 * ```ts
 * import { cose } from '@vouch/envelope/cose';
 * import { jws } from '@vouch/envelope/jws';
 * import { fileTrustStore, notationConfigDir } from '@vouch/node';
 * import { createVerifier } from '@vouch/notation';
 *
 * const trustStore = fileTrustStore(notationConfigDir()); // <configDir>/truststore/x509/{ca,signingAuthority,tsa}/<name>/
 * const verifier = createVerifier({ trustPolicy, trustStore, envelopes: [jws, cose] });
 * ```
 */
export function fileTrustStore(configDir: string, options: FileTrustStoreOptions = {}): FileTrustStore {
  const revalidate = options.revalidate ?? true;
  const cache = new Map<string, Snapshot>();
  const inflight = new Map<string, Promise<readonly Certificate[]>>();

  async function load(type: TrustStoreType, name: string, key: string): Promise<readonly Certificate[]> {
    const dir = trustStoreDir(configDir, type, name);
    const cached = cache.get(key);
    if (cached && !revalidate) return cached.certs;
    const { stamp, entries } = await stampOf(dir, type, name);
    if (cached && cached.stamp === stamp) return cached.certs;
    const certs = Object.freeze(await loadEntries(dir, type, name, entries));
    cache.set(key, { stamp, certs });
    return certs;
  }

  return {
    configDir,
    async getCertificates(type, name, opts) {
      if (opts?.signal?.aborted) throw new VouchError('ERR_ABORTED', 'trust store read aborted');
      assertStoreAddress(type, name);
      const key = `${type}/${name}`;
      const running = inflight.get(key);
      if (running) return running;
      const p = load(type, name, key).finally(() => inflight.delete(key));
      inflight.set(key, p);
      return p;
    },
    invalidate(type, name) {
      if (!type) {
        cache.clear();
        return;
      }
      for (const key of [...cache.keys()]) {
        if (key.startsWith(`${type}/`) && (name === undefined || key === `${type}/${name}`)) cache.delete(key);
      }
    },
  };
}
