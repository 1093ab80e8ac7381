import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import type { HashAlgorithm } from './algorithms.js';
import { toHex } from './bytes.js';
import { VouchError } from './errors.js';

export type DigestAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** The OCI digest algorithm of a hash (`SHA-256` → `sha256`, as in `sha256:<hex>`). */
export function digestAlgorithmOf(hash: HashAlgorithm): DigestAlgorithm {
  return `sha${hash.slice(4)}` as DigestAlgorithm;
}

/** The hash of an OCI digest algorithm (`sha384` → `SHA-384`). */
export function hashAlgorithmOfDigest(algorithm: DigestAlgorithm): HashAlgorithm {
  return `SHA-${algorithm.slice(3)}` as HashAlgorithm;
}

const HEX_LEN: Record<DigestAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };
const NOBLE = { sha256, sha384, sha512 } as const;

/** An incremental hash; `digest()` may be called once. */
export interface Hasher {
  update(chunk: Uint8Array): Hasher;
  digest(): Uint8Array;
}

/**
 * Creates incremental hashers. The default is portable (@noble/hashes);
 * `@vouch/node` provides a native one for large blobs.
 */
export type HasherFactory = (algorithm: DigestAlgorithm) => Hasher;

export const portableHasher: HasherFactory = (algorithm) => {
  const h = NOBLE[algorithm].create();
  const api: Hasher = {
    update(chunk) {
      h.update(chunk);
      return api;
    },
    digest: () => h.digest(),
  };
  return api;
};

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

const DIGEST_RE = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Parse `alg:hex`; only sha256/384/512 with lowercase hex of the right length are accepted. */
export function parseDigest(digest: string): ParsedDigest {
  const m = DIGEST_RE.exec(digest);
  if (!m) throw new VouchError('ERR_INVALID_DIGEST', `invalid digest "${digest}": expected <algorithm>:<hex>`);
  const algorithm = m[1] as DigestAlgorithm;
  if (!(algorithm in HEX_LEN)) {
    throw new VouchError(
      'ERR_INVALID_DIGEST',
      `unsupported digest algorithm "${m[1]}" in "${digest}" (sha256, sha384, sha512 are supported)`,
    );
  }
  const hex = m[2]!;
  if (hex.length !== HEX_LEN[algorithm] || !/^[0-9a-f]+$/.test(hex)) {
    throw new VouchError(
      'ERR_INVALID_DIGEST',
      `invalid ${algorithm} digest "${digest}": expected ${HEX_LEN[algorithm]} lowercase hex characters`,
    );
  }
  return { algorithm, hex };
}

export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

/** Synchronous digest of bytes, formatted `alg:hex`. */
export function digestOf(data: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${toHex(NOBLE[algorithm](data))}`;
}

/** Raw digest bytes (synchronous, portable). */
export function hashBytes(data: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): Uint8Array {
  return NOBLE[algorithm](data);
}

/** Digest using WebCrypto when present (native speed), falling back to the portable hash. */
export async function digestAsync(data: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) {
    const buf = await subtle.digest(hashAlgorithmOfDigest(algorithm), data as Uint8Array<ArrayBuffer>);
    return `${algorithm}:${toHex(new Uint8Array(buf))}`;
  }
  return digestOf(data, algorithm);
}

/** Throws ERR_DIGEST_MISMATCH (and ERR_SIZE_LIMIT_EXCEEDED-free) when `data` does not hash to `expected`. */
export function verifyDigest(data: Uint8Array, expected: string, what = 'content'): void {
  const { algorithm } = parseDigest(expected);
  const actual = digestOf(data, algorithm);
  if (actual !== expected) {
    throw new VouchError('ERR_DIGEST_MISMATCH', `${what} digest mismatch: expected ${expected}, got ${actual}`, {
      details: { expected, actual },
    });
  }
}

/** Hash a stream chunk by chunk; returns `alg:hex` and the byte count. */
export async function digestStream(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  algorithm: DigestAlgorithm = 'sha256',
  hasher: HasherFactory = portableHasher,
): Promise<{ digest: string; size: number }> {
  const h = hasher(algorithm);
  let size = 0;
  const iterable: AsyncIterable<Uint8Array> =
    Symbol.asyncIterator in (stream as object)
      ? (stream as AsyncIterable<Uint8Array>)
      : streamToIterable(stream as ReadableStream<Uint8Array>);
  for await (const chunk of iterable) {
    h.update(chunk);
    size += chunk.length;
  }
  return { digest: `${algorithm}:${toHex(h.digest())}`, size };
}

async function* streamToIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
