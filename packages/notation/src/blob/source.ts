/** Blobs as sources of bytes: streaming digests, the digest a signature algorithm implies, media types. */
import { type DigestAlgorithm, type HasherFactory, isSignatureAlgorithm, type SignatureAlgorithm, VouchError } from '@vouch/core';
import { digestAlgorithmOf, portableHasher, streamChunks, toHex, toVouchError } from '@vouch/core/internal';
import { hashForAlgorithm } from '@vouch/envelope/internal';

/**
 * A blob to sign or verify: bytes, a WHATWG `ReadableStream`, or any async iterable of chunks
 * (a Node `fs.ReadStream`, `@vouch/node`'s `fileStream`). Streams are read once, chunk by chunk.
 */
export type BlobSource = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Media type notation gives a blob when none is specified (`--media-type`). */
export const DEFAULT_BLOB_MEDIA_TYPE = 'application/octet-stream';

/** The blob digest algorithm implied by a signature algorithm (PS256/ES256 → sha256, …384 → sha384, …512 → sha512). */
export function blobDigestAlgorithm(algorithm: SignatureAlgorithm): DigestAlgorithm {
  if (!isSignatureAlgorithm(algorithm))
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `no digest algorithm for signature algorithm ${algorithm}`);
  return digestAlgorithmOf(hashForAlgorithm(algorithm));
}

/** Throws ERR_ABORTED when `signal` has fired. */
export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new VouchError('ERR_ABORTED', 'the blob operation was aborted', { cause: signal.reason });
}

async function* chunksOf(blob: BlobSource): AsyncIterable<Uint8Array> {
  if (blob instanceof Uint8Array) {
    yield blob;
    return;
  }
  yield* streamChunks(blob, 'the blob (a Uint8Array or a stream)');
}

/**
 * Digest a blob chunk by chunk (memory stays flat whatever its size) and count its bytes.
 * `hasher` defaults to the portable one; `@vouch/node`'s `nodeHasher` is native.
 *
 * @throws VouchError ERR_INVALID_ARGUMENT for a chunk that is not a Uint8Array, ERR_IO when
 *   the stream fails, ERR_ABORTED when `signal` fires.
 */
export async function digestBlob(
  blob: BlobSource,
  algorithm: DigestAlgorithm,
  options: { hasher?: HasherFactory; signal?: AbortSignal } = {},
): Promise<{ digest: string; size: number }> {
  const h = (options.hasher ?? portableHasher)(algorithm);
  let size = 0;
  checkAbort(options.signal);
  try {
    for await (const chunk of chunksOf(blob)) {
      if (!(chunk instanceof Uint8Array)) {
        throw new VouchError('ERR_INVALID_ARGUMENT', 'the blob stream yielded a chunk that is not a Uint8Array');
      }
      h.update(chunk);
      size += chunk.length;
      checkAbort(options.signal);
    }
  } catch (e) {
    throw toVouchError(e, 'ERR_IO', 'reading the blob failed');
  }
  return { digest: `${algorithm}:${toHex(h.digest())}`, size };
}

// A media type as notation accepts it (Go's mime.ParseMediaType): `type/subtype` or a lone
// token, with optional parameters. The payload spec only says "any user-chosen type".
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126})?(\s*;.*)?$/;

/** @throws VouchError ERR_INVALID_ARGUMENT when `mediaType` is not a media type notation accepts. */
export function checkMediaType(mediaType: string, what: string): void {
  if (typeof mediaType !== 'string' || !MEDIA_TYPE_RE.test(mediaType)) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      `${what} ${JSON.stringify(mediaType)} is not a valid media type (type/subtype or a token)`,
    );
  }
}
