import { type Descriptor, Limits, parseDigest, VouchError } from '@vouch/core';
import { digestAsync } from '@vouch/core/internal';

/** Default cap for manifests (notation: 4 MiB). */
export const DEFAULT_MAX_MANIFEST_BYTES: number = Limits.MAX_MANIFEST_BYTES;
/** Default cap for blobs and signature envelopes (notation: 32 MiB). */
export const DEFAULT_MAX_BLOB_BYTES: number = Limits.MAX_ENVELOPE_BYTES;

/** Throws ERR_SIZE_LIMIT_EXCEEDED when a descriptor declares more than `limit` bytes. */
export function checkDeclaredSize(descriptor: Pick<Descriptor, 'digest' | 'size'>, limit: number, what: string): void {
  if (descriptor.size > limit) {
    throw new VouchError(
      'ERR_SIZE_LIMIT_EXCEEDED',
      `${what} ${descriptor.digest} declares ${descriptor.size} bytes, over the ${limit}-byte limit; raise the limit only if you trust the source`,
      { details: { digest: descriptor.digest, size: descriptor.size, limit } },
    );
  }
}

/**
 * Verify bytes against a digest and, when given, a size. Throws ERR_DIGEST_MISMATCH (the bytes
 * are not used). Returns the bytes for chaining.
 */
export async function verifyContent(bytes: Uint8Array, digest: string, size: number | undefined, what: string): Promise<Uint8Array> {
  const { algorithm } = parseDigest(digest);
  checkContentSize(bytes, digest, size, what);
  const actual = await digestAsync(bytes, algorithm);
  if (actual !== digest) {
    throw new VouchError(
      'ERR_DIGEST_MISMATCH',
      `${what} does not match its digest: expected ${digest}, got ${actual}; the content was tampered with and is not used`,
      { details: { expected: digest, actual } },
    );
  }
  return bytes;
}

/** Throws ERR_DIGEST_MISMATCH when `size` is given and `bytes` has another length. */
export function checkContentSize(bytes: Uint8Array, digest: string, size: number | undefined, what: string): void {
  if (size !== undefined && bytes.length !== size) {
    throw new VouchError(
      'ERR_DIGEST_MISMATCH',
      `${what} ${digest}: expected ${size} bytes, got ${bytes.length}; the content was truncated or replaced and is not used`,
      { details: { digest, expectedSize: size, actualSize: bytes.length } },
    );
  }
}

/** ERR_REGISTRY_NOT_FOUND for a missing tag, manifest or blob. */
export function notFound(what: string, details?: Record<string, unknown>): VouchError {
  return new VouchError('ERR_REGISTRY_NOT_FOUND', `${what} not found`, details ? { details } : {});
}

/** Throws ERR_ABORTED when the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new VouchError('ERR_ABORTED', 'the operation was aborted', { cause: signal.reason });
  }
}

/** A tag per the distribution spec. */
export const TAG_RE: RegExp = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** The referrers tag-schema tag of a digest: `<alg>-<hex>`, alg truncated to 32 and hex to 64 characters. */
export function referrersTag(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm.slice(0, 32)}-${hex.slice(0, 64)}`;
}

/** Simple async mutex: runs `fn` after every previously queued task. */
export function createMutex(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}
