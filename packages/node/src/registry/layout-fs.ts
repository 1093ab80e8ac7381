import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { VouchError } from '@vouch/core';
import { type LayoutFs, type OciLayoutOptions, type OciLayoutRepository, ociLayoutRepository } from '@vouch/registry';

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * A {@link LayoutFs} over a directory on disk. Paths are confined to `rootDir`; writes go to a
 * temporary file in the same directory, are flushed, then renamed over the target (atomic on
 * POSIX file systems). `version` is the file's device, inode, size and nanosecond modification
 * and change times, read with a synchronous `stat`.
 */
export function nodeLayoutFs(rootDir: string): LayoutFs {
  const root = resolve(rootDir);
  function full(rel: string): string {
    if (typeof rel !== 'string' || rel === '' || isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `invalid OCI layout path "${String(rel)}"`);
    }
    const p = join(root, ...rel.split('/'));
    if (!p.startsWith(root + sep)) throw new VouchError('ERR_INVALID_ARGUMENT', `path "${rel}" escapes the OCI layout`);
    return p;
  }
  const versionPaths = new Map<string, string>();
  return {
    async readFile(rel, options = {}) {
      const p = full(rel);
      let fh: Awaited<ReturnType<typeof open>>;
      try {
        fh = await open(p, 'r');
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw new VouchError('ERR_IO', `cannot read ${p}: ${(e as Error).message}`, { cause: e });
      }
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw new VouchError('ERR_IO', `${p} is not a regular file`);
        if (options.maxBytes !== undefined && st.size > options.maxBytes) {
          throw new VouchError('ERR_SIZE_LIMIT_EXCEEDED', `${p} is ${st.size} bytes, over the ${options.maxBytes}-byte limit`, {
            details: { limit: options.maxBytes, size: st.size },
          });
        }
        const buf = await fh.readFile();
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (e) {
        if (e instanceof VouchError) throw e;
        throw new VouchError('ERR_IO', `cannot read ${p}: ${(e as Error).message}`, { cause: e });
      } finally {
        await fh.close().catch(() => {});
      }
    },
    async writeFile(rel, data) {
      const p = full(rel);
      const tmp = `${p}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await mkdir(dirname(p), { recursive: true });
        const fh = await open(tmp, 'wx', 0o644);
        try {
          await fh.writeFile(data);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, p);
      } catch (e) {
        await rm(tmp, { force: true }).catch(() => {});
        throw new VouchError('ERR_IO', `cannot write ${p}: ${(e as Error).message}`, { cause: e });
      }
    },
    version(rel) {
      // Synchronous on purpose: one stat of a local file (no content read) costs a few
      // microseconds, far less than a round trip through libuv's thread pool, and warm
      // verification calls it on every verify.
      let p = versionPaths.get(rel);
      if (p === undefined) {
        p = full(rel);
        if (versionPaths.size < 64) versionPaths.set(rel, p);
      }
      try {
        const s = statSync(p, { bigint: true, throwIfNoEntry: false });
        if (s === undefined) return undefined;
        return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
      } catch (e) {
        if (isNotFound(e)) return undefined;
        if (e instanceof VouchError) throw e;
        throw new VouchError('ERR_IO', `cannot stat ${rel}: ${(e as Error).message}`, { cause: e });
      }
    },
    async exists(rel) {
      try {
        await stat(full(rel));
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        if (e instanceof VouchError) throw e;
        throw new VouchError('ERR_IO', `cannot stat ${rel}: ${(e as Error).message}`, { cause: e });
      }
    },
  };
}

/**
 * `ociLayoutRepository(nodeLayoutFs(dir), options)`: an OCI image layout directory as a repository.
 *
 * @example
 * ```ts
 * import { nodeOciLayout } from '@vouch/node';
 * import { verify } from '@vouch/notation';
 *
 * const layout = nodeOciLayout('./oci-layout');
 * await verify('sha256:…', { trustPolicy, trustStore, repository: layout, scope: 'local/app' });
 * ```
 */
export function nodeOciLayout(dir: string, options?: OciLayoutOptions): OciLayoutRepository {
  return ociLayoutRepository(nodeLayoutFs(dir), options);
}
