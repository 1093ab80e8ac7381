import { lstat, open } from 'node:fs/promises';
import { VouchError } from '@vouch/core';

function errno(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/**
 * Fail early, before anything is signed or fetched, when the blob cannot be read: open it
 * for reading and check that it is a regular file. The message carries the OS reason
 * (`permission denied`, `no such file or directory`), as notation's does.
 *
 * @throws VouchError ERR_IO
 */
export async function checkReadableFile(path: string, display = path): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = errno(e);
    const why =
      code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOENT' ? 'no such file or directory' : (e as Error).message;
    throw new VouchError('ERR_IO', `open ${display}: ${why}`, { cause: e, details: { path, ...(code ? { errno: code } : {}) } });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new VouchError('ERR_IO', `${display} is not a regular file`, { details: { path } });
  } finally {
    await fh.close().catch(() => {});
  }
}

/** True when something exists at `path` (a symlink counts); other errors than ENOENT are ERR_IO. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return false;
    throw new VouchError('ERR_IO', `cannot check ${path}: ${(e as Error).message}`, { cause: e, details: { path } });
  }
}
