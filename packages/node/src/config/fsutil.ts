import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VouchError, type VouchErrorCode } from '@vouch/core';

/** Node error code of a thrown fs error, if any. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/** Create a directory (and parents) with mode 0700 where it does not exist yet. */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new VouchError('ERR_IO', `cannot create directory ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Write a file atomically: the bytes go to a temporary file in the same directory with
 * `mode`, which is flushed and then renamed over `path`. Readers see the old or the new
 * content, never a partial file. Parent directories are created with mode 0700.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  await ensureDir(dir);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new VouchError('ERR_IO', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Read a configuration file that must be a regular file (symlinks and directories are
 * rejected, as notation does). Returns undefined when the file does not exist.
 */
export async function readRegularFile(
  path: string,
  what: string,
  code: VouchErrorCode = 'ERR_CONFIG_INVALID',
): Promise<Uint8Array | undefined> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
    throw new VouchError('ERR_IO', `cannot read ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!st.isFile()) {
    throw new VouchError(
      code,
      `${what} ${path} is not a regular file (symlinks and directories are not supported); replace it with a regular file`,
      { details: { path } },
    );
  }
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new VouchError('ERR_IO', `cannot read ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Parse JSON, turning a syntax error into a VouchError naming the file. */
export function parseJsonFile(bytes: Uint8Array, path: string, what: string, code: VouchErrorCode): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new VouchError(code, `malformed ${what} ${path}: ${(e as Error).message}`, { cause: e, details: { path } });
  }
}
