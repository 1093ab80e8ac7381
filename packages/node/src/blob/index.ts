/**
 * Node helpers for blob signing and verification: streaming a file with flat memory, a
 * native `node:crypto` hasher for `signBlob` / `verifyBlob`, and detached signature files
 * written atomically.
 */
import { createHash } from 'node:crypto';
import { lstat, open, stat } from 'node:fs/promises';
import { type DigestAlgorithm, type Hasher, type HasherFactory, Limits, VouchError } from '@vouch/core';
import { formatFromSignatureFileName, SIGNATURE_FORMAT_MEDIA_TYPES, type SignatureFormat } from '@vouch/notation';
import { errnoCode, readRegularFile, writeFileAtomic } from '../config/fsutil.js';

const NODE_HASH: Record<DigestAlgorithm, string> = { sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };

/**
 * A native (`node:crypto`, OpenSSL) {@link HasherFactory}: pass it as `hasher` to `signBlob`,
 * `createBlobVerifier` or `digestBlob` for large blobs.
 */
export const nodeHasher: HasherFactory = (algorithm: DigestAlgorithm): Hasher => {
  const name = NODE_HASH[algorithm];
  if (!name) throw new VouchError('ERR_INVALID_ARGUMENT', `unsupported digest algorithm ${JSON.stringify(algorithm)}`);
  const h = createHash(name);
  const api: Hasher = {
    update(chunk) {
      h.update(chunk);
      return api;
    },
    digest: () => new Uint8Array(h.digest()),
  };
  return api;
};

/** Options of {@link fileStream}. */
export interface FileStreamOptions {
  /** Bytes per chunk; default 1 MiB (64 KiB … 16 MiB). */
  chunkSize?: number;
  signal?: AbortSignal;
}

const DEFAULT_CHUNK = 1024 * 1024;

function ioError(path: string, e: unknown): VouchError {
  const errno = errnoCode(e);
  const why = errno === 'ENOENT' ? 'the file does not exist' : (e as Error).message;
  return new VouchError('ERR_IO', `cannot read ${path}: ${why}`, { cause: e, details: { path, ...(errno ? { errno } : {}) } });
}

/**
 * Read a file as an async iterable of chunks, one chunk in memory at a time (each chunk is a
 * fresh buffer the consumer may keep). The file must be a regular file (a directory, FIFO or
 * device is rejected); it is opened lazily on the first iteration and closed when iteration
 * ends, fails or is abandoned.
 *
 * @throws VouchError (when iterated) ERR_IO for a missing or unreadable file or a file that
 *   changed size while being read, ERR_ABORTED when `signal` fires, ERR_INVALID_ARGUMENT for a
 *   bad chunk size.
 */
export function fileStream(path: string, options: FileStreamOptions = {}): AsyncIterable<Uint8Array> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 64 * 1024 || chunkSize > 16 * 1024 * 1024) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `chunkSize must be an integer between 64 KiB and 16 MiB, got ${chunkSize}`);
  }
  if (typeof path !== 'string' || path === '') throw new VouchError('ERR_INVALID_ARGUMENT', 'fileStream needs a file path');
  const { signal } = options;
  return {
    async *[Symbol.asyncIterator]() {
      let fh: Awaited<ReturnType<typeof open>>;
      try {
        fh = await open(path, 'r');
      } catch (e) {
        throw ioError(path, e);
      }
      try {
        const st = await fh.stat();
        if (!st.isFile()) {
          throw new VouchError('ERR_IO', `cannot read ${path}: not a regular file`, { details: { path } });
        }
        let read = 0;
        for (;;) {
          if (signal?.aborted) throw new VouchError('ERR_ABORTED', `reading ${path} was aborted`, { cause: signal.reason });
          const buf = new Uint8Array(chunkSize);
          let n: number;
          try {
            ({ bytesRead: n } = await fh.read(buf, 0, chunkSize, null));
          } catch (e) {
            throw ioError(path, e);
          }
          if (n === 0) break;
          read += n;
          yield n === chunkSize ? buf : buf.subarray(0, n);
        }
        if (read !== st.size) {
          throw new VouchError('ERR_IO', `${path} changed while it was read (${st.size} bytes expected, ${read} read)`, {
            details: { path, expected: st.size, read },
          });
        }
      } finally {
        await fh.close().catch(() => {});
      }
    },
  };
}

/** Options of {@link writeSignatureFile}. */
export interface WriteSignatureFileOptions {
  /** Replace an existing file (notation's `--force`); default false. */
  overwrite?: boolean;
  /** File mode; default 0o644 (signatures are public). */
  mode?: number;
}

/**
 * Write a detached signature file atomically: the bytes go to a temporary file in the same
 * directory, which is flushed and renamed over `path`, so a reader never sees a partial
 * signature. Missing parent directories are created (mode 0700).
 *
 * @throws VouchError ERR_INVALID_ARGUMENT when the file exists and `overwrite` is not set,
 *   ERR_IO when writing fails.
 */
export async function writeSignatureFile(path: string, bytes: Uint8Array, options: WriteSignatureFileOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new VouchError('ERR_INVALID_ARGUMENT', 'writeSignatureFile needs a file path');
  if (!(bytes instanceof Uint8Array)) throw new VouchError('ERR_INVALID_ARGUMENT', 'the signature must be a Uint8Array');
  if (!options.overwrite) {
    let exists = false;
    try {
      await lstat(path);
      exists = true;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw new VouchError('ERR_IO', `cannot check ${path}: ${(e as Error).message}`, { cause: e });
    }
    if (exists) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `the signature file ${path} already exists; pass overwrite (--force) to replace it`, {
        details: { path },
      });
    }
  }
  await writeFileAtomic(path, bytes, options.mode ?? 0o644);
}

/** A detached signature read from disk. */
export interface SignatureFile {
  bytes: Uint8Array;
  format: SignatureFormat;
  /** `application/jose+json` or `application/cose`. */
  envelopeMediaType: string;
}

/**
 * Read a detached signature file: the format comes from its name (`<blob>.<jws|cose>.sig`,
 * see `formatFromSignatureFileName`), the file must be a regular file of at most 32 MiB
 * (notation's envelope limit).
 *
 * @throws VouchError ERR_INVALID_ARGUMENT / ERR_ENVELOPE_UNSUPPORTED for a bad name,
 *   ERR_SIZE_LIMIT_EXCEEDED, ERR_IO.
 */
export async function readSignatureFile(path: string): Promise<SignatureFile> {
  const format = formatFromSignatureFileName(path);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw ioError(path, e);
  }
  if (size > Limits.MAX_ENVELOPE_BYTES) {
    throw new VouchError(
      'ERR_SIZE_LIMIT_EXCEEDED',
      `signature file ${path} is ${size} bytes, over the ${Limits.MAX_ENVELOPE_BYTES}-byte limit`,
    );
  }
  const bytes = await readRegularFile(path, 'signature file', 'ERR_IO');
  if (!bytes) throw ioError(path, Object.assign(new Error('no such file'), { code: 'ENOENT' }));
  return { bytes, format, envelopeMediaType: SIGNATURE_FORMAT_MEDIA_TYPES[format] };
}
