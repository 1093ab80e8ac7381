import { copyFile, lstat, readdir, readFile, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { isVouchError, VouchError } from '@vouch/core';
import { isValidTrustStoreName, TRUST_STORE_TYPES, type TrustStoreType, verifyTrustStoreCertificates } from '@vouch/trust-policy';
import { type Certificate, parseCertificates } from '@vouch/x509';
import { ConfigPaths } from '../config/dirs.js';
import { ensureDir, errnoCode } from '../config/fsutil.js';
import { assertStoreAddress, trustStoreDir } from './file-trust-store.js';

/** One certificate file in a trust store. */
export interface TrustStoreEntry {
  type: TrustStoreType;
  store: string;
  /** File name inside the store. */
  file: string;
  /** Absolute path. */
  path: string;
}

async function readCerts(path: string): Promise<Certificate[]> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') {
      throw new VouchError('ERR_INVALID_ARGUMENT', `certificate file ${path} does not exist`, { cause: e });
    }
    throw new VouchError('ERR_IO', `cannot read certificate file ${path}: ${(e as Error).message}`, { cause: e });
  }
  let certs: Certificate[];
  try {
    certs = [...parseCertificates(bytes)];
  } catch (e) {
    if (isVouchError(e)) throw e;
    throw new VouchError('ERR_CERT_INVALID', `cannot parse certificate file ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (certs.length === 0) {
    throw new VouchError('ERR_CERT_INVALID', `no valid certificate found in the empty file ${path}`, { details: { path } });
  }
  return certs;
}

/**
 * Copy a certificate file into a named store (`vouch cert add`), creating the store.
 * The file must hold PEM or DER certificates that the store type allows (CA or self-signed
 * for ca/signingAuthority, self-signed roots for tsa); a file with the same name in the store
 * is rejected. Returns the new entry.
 */
export async function addTrustStoreCertificate(configDir: string, type: string, name: string, certFile: string): Promise<TrustStoreEntry> {
  assertStoreAddress(type, name);
  const source = resolve(certFile);
  const certs = await readCerts(source);
  try {
    await verifyTrustStoreCertificates(type, certs);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new VouchError('ERR_TRUST_STORE_INVALID', `certificate file ${source} cannot be added to a ${type} store: ${why}`, {
      cause: e,
    });
  }
  const file = basename(source);
  const dir = trustStoreDir(configDir, type, name);
  const target = join(dir, file);
  try {
    await lstat(target);
    throw new VouchError('ERR_INVALID_ARGUMENT', `certificate ${file} already exists in the trust store ${name} of type ${type}`, {
      details: { type, name, file },
    });
  } catch (e) {
    if (isVouchError(e)) throw e;
    if (errnoCode(e) !== 'ENOENT') throw new VouchError('ERR_IO', `cannot check ${target}: ${(e as Error).message}`, { cause: e });
  }
  await ensureDir(dir);
  try {
    await copyFile(source, target, 1 /* COPYFILE_EXCL */);
  } catch (e) {
    throw new VouchError('ERR_IO', `cannot copy ${source} to ${target}: ${(e as Error).message}`, { cause: e });
  }
  return { type, store: name, file, path: target };
}

async function dirEntries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return [];
    throw new VouchError('ERR_IO', `cannot list ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * List certificate files (`vouch cert list`), optionally filtered by type and/or store
 * name. Only regular files that parse as certificates are listed; sub-directories and
 * symlinks are left out. An absent trust store lists nothing.
 */
export async function listTrustStoreCertificates(
  configDir: string,
  filter: { type?: string; store?: string } = {},
): Promise<TrustStoreEntry[]> {
  if (filter.type !== undefined && filter.type !== '') assertStoreAddress(filter.type, filter.store || 'x');
  else if (filter.store) assertStoreAddress('ca', filter.store);
  const types = filter.type ? [filter.type as TrustStoreType] : TRUST_STORE_TYPES;
  const out: TrustStoreEntry[] = [];
  for (const type of types) {
    const typeDir = join(configDir, ConfigPaths.TRUST_STORE, type);
    const stores = filter.store ? [filter.store] : await dirEntries(typeDir);
    for (const store of stores) {
      const dir = join(typeDir, store);
      const st = await lstat(dir).catch(() => undefined);
      if (!st?.isDirectory()) continue;
      for (const file of await dirEntries(dir)) {
        const path = join(dir, file);
        const fst = await lstat(path);
        if (!fst.isFile()) continue;
        try {
          if (parseCertificates(new Uint8Array(await readFile(path))).length === 0) continue;
        } catch {
          continue;
        }
        out.push({ type, store, file, path });
      }
    }
  }
  return out;
}

function entryPath(configDir: string, type: string, name: string, file: string): string {
  assertStoreAddress(type, name);
  if (!isValidTrustStoreName(file)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `certificate file name needs to follow [a-zA-Z0-9_.-]+ format, got "${file}"`);
  }
  return join(trustStoreDir(configDir, type, name), file);
}

/** Parse and return the certificates of one store file (`vouch cert show`). */
export async function showTrustStoreCertificate(
  configDir: string,
  type: string,
  name: string,
  file: string,
): Promise<{ entry: TrustStoreEntry; certificates: Certificate[] }> {
  const path = entryPath(configDir, type, name, file);
  const st = await lstatIfPresent(path);
  if (!st) {
    throw new VouchError('ERR_TRUST_STORE_NOT_FOUND', `certificate ${file} does not exist in the trust store ${name} of type ${type}`, {
      details: { type, name, file },
    });
  }
  if (!st.isFile()) {
    throw new VouchError('ERR_TRUST_STORE_INVALID', `${path} is not a regular file (directories or symlinks are not supported)`);
  }
  const certificates = await readCerts(path);
  return { entry: { type: type as TrustStoreType, store: name, file, path }, certificates };
}

/** Delete one certificate file from a store (`vouch cert delete FILE`). Returns its path. */
export async function deleteTrustStoreCertificate(configDir: string, type: string, name: string, file: string): Promise<string> {
  const path = entryPath(configDir, type, name, file);
  const st = await lstatIfPresent(path);
  if (!st) {
    throw new VouchError('ERR_TRUST_STORE_NOT_FOUND', `certificate ${file} does not exist in the trust store ${name} of type ${type}`, {
      details: { type, name, file },
    });
  }
  await rm(path, { recursive: false, force: true }).catch((e) => {
    throw new VouchError('ERR_IO', `cannot delete ${path}: ${(e as Error).message}`, { cause: e });
  });
  return path;
}

/**
 * `lstat`, or undefined when nothing is there (ENOENT, ENOTDIR). Any other failure (a permission
 * error above all) is ERR_IO: "not there" must not be reported for a file that cannot be reached.
 */
async function lstatIfPresent(path: string) {
  try {
    return await lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new VouchError('ERR_IO', `cannot access ${path}: ${(e as Error).message}; check the permissions of the trust store directories`, {
      cause: e,
      details: { path, errno: code },
    });
  }
}

/** Delete a whole named store (`vouch cert delete --all`). Returns its path. */
export async function deleteTrustStore(configDir: string, type: string, name: string): Promise<string> {
  assertStoreAddress(type, name);
  const dir = trustStoreDir(configDir, type, name);
  const st = await lstatIfPresent(dir);
  if (!st) {
    throw new VouchError('ERR_TRUST_STORE_NOT_FOUND', `the trust store ${name} of type ${type} does not exist`, {
      details: { type, name },
    });
  }
  await rm(dir, { recursive: true, force: true }).catch((e) => {
    throw new VouchError('ERR_IO', `cannot delete ${dir}: ${(e as Error).message}`, { cause: e });
  });
  return dir;
}
