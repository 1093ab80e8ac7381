/** Signing blobs with detached signatures. */
import { type Clock, type Descriptor, type HasherFactory, type SignatureAlgorithm, VouchError } from '@vouch/core';
import { systemClock, toVouchError } from '@vouch/core/internal';
import type { EnvelopeCodec, EnvelopeMediaTypeName, RawSigner, SigningScheme } from '@vouch/envelope';
import { algorithmForKey } from '@vouch/envelope/internal';
import { signPayload } from '../payload-signing.js';
import { type EnvelopeSigner, isEnvelopeSigner } from '../plugin-signer.js';
import { checkTimestampAuthority, type TimestampAuthority } from '../timestamp-sign.js';
import { checkUserMetadata } from '../user-metadata.js';
import { type BlobSource, blobDigestAlgorithm, checkAbort, checkMediaType, DEFAULT_BLOB_MEDIA_TYPE, digestBlob } from './source.js';

/** Options of {@link signBlob}. */
export interface SignBlobOptions {
  /**
   * Produces the signature: a {@link RawSigner} (local key), or an {@link EnvelopeSigner} that can
   * tell its signature algorithm before signing (`pluginSigner` for a RAW or ENVELOPE plugin).
   */
  signer: RawSigner | EnvelopeSigner;
  /** `jws` from `@vouch/envelope/jws` or `cose` from `@vouch/envelope/cose`. */
  envelope: EnvelopeCodec;
  /** Media type recorded for the blob; default `application/octet-stream`. */
  mediaType?: string;
  signingScheme?: SigningScheme;
  /** Signature validity in seconds from the signing time (notation's `--expiry`). */
  expirySeconds?: number;
  /** Signed into the payload's targetArtifact annotations. Keys may not start with `io.cncf.notary`. */
  userMetadata?: Record<string, string>;
  signingAgent?: string;
  /** RFC 3161 countersignature, verified before it is attached (see {@link rfc3161Timestamper}). */
  timestamper?: TimestampAuthority;
  /** Incremental hasher; default portable. Use `nodeHasher` from `@vouch/node` for native speed. */
  hasher?: HasherFactory;
  now?: Clock;
  signal?: AbortSignal;
}

/** Result of {@link signBlob}. */
export interface SignBlobResult {
  /** The detached signature envelope: write it to `signatureFileName(blob, format)`. */
  envelope: Uint8Array;
  envelopeMediaType: EnvelopeMediaTypeName;
  /** The signed blob descriptor (the payload's targetArtifact): mediaType, digest, size, annotations. */
  descriptor: Descriptor;
  /** Non-fatal notes (none today; the same field as every sign and verify result). */
  warnings: VouchError[];
}

/**
 * Sign a blob with a detached signature. The blob is streamed once through the digest the
 * signing key implies (SHA-256/384/512, as notation does); the envelope's payload names the
 * blob's mediaType, digest and size (plus user metadata). Nothing is written anywhere.
 *
 * @example
 * ```ts
 * import { signBlob, signatureFileName } from '@vouch/notation';
 * import { localRawSigner } from '@vouch/envelope';
 * import { jws } from '@vouch/envelope/jws';
 *
 * const signer = localRawSigner(privateKey, certificateChain); // a CryptoKey and its chain, leaf first
 * const { envelope } = await signBlob(bytes, { signer, envelope: jws, mediaType: 'application/x-tar' });
 * // write `envelope` to signatureFileName('app.tar', 'jws') = 'app.tar.jws.sig'
 * ```
 *
 * @throws VouchError ERR_INVALID_ARGUMENT (bad options), ERR_IO (stream failure),
 *   ERR_TIMESTAMP_INVALID (timestamping failed), ERR_SIGNING_FAILED, ERR_ABORTED.
 */
export async function signBlob(blob: BlobSource, options: SignBlobOptions): Promise<SignBlobResult> {
  if (!options || typeof options !== 'object') throw new VouchError('ERR_INVALID_ARGUMENT', 'signBlob needs options { signer, envelope }');
  const { signer, envelope, signal } = options;
  if (!signer || !envelope) throw new VouchError('ERR_INVALID_ARGUMENT', 'signBlob needs a signer and an envelope codec');
  const envelopeSigner = isEnvelopeSigner(signer) ? signer : undefined;
  const leaf = envelopeSigner
    ? undefined
    : Array.isArray((signer as RawSigner).certificateChain)
      ? (signer as RawSigner).certificateChain[0]
      : undefined;
  if (!envelopeSigner && !leaf)
    throw new VouchError('ERR_INVALID_ARGUMENT', "the signer's certificate chain is empty; it must start with the signing certificate");
  if (envelopeSigner && typeof envelopeSigner.signatureAlgorithm !== 'function') {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      'an EnvelopeSigner signing a blob must tell its signature algorithm before signing (signatureAlgorithm()), to pick the blob digest',
    );
  }
  const mediaType = options.mediaType ?? DEFAULT_BLOB_MEDIA_TYPE;
  checkMediaType(mediaType, 'blob media type');
  if (options.expirySeconds !== undefined && (!Number.isSafeInteger(options.expirySeconds) || options.expirySeconds < 0)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `expiry must be a whole, non-negative number of seconds, got ${options.expirySeconds}`);
  }
  const annotations = checkUserMetadata(options.userMetadata);
  if (options.timestamper !== undefined) checkTimestampAuthority(options.timestamper);
  let algorithm: SignatureAlgorithm;
  if (envelopeSigner) algorithm = await envelopeSigner.signatureAlgorithm!(signal);
  else {
    try {
      algorithm = algorithmForKey(leaf!.publicKey);
    } catch (e) {
      throw toVouchError(e, 'ERR_SIGNING_FAILED', 'the signing key is not supported');
    }
  }
  const { digest, size } = await digestBlob(blob, blobDigestAlgorithm(algorithm), {
    ...(options.hasher ? { hasher: options.hasher } : {}),
    ...(signal ? { signal } : {}),
  });
  const descriptor: Descriptor = { mediaType, digest, size };
  if (Object.keys(annotations).length) descriptor.annotations = annotations;

  const now = (options.now ?? systemClock)();
  const signingTime = new Date(Math.floor(now.getTime() / 1000) * 1000);
  checkAbort(signal);
  let bytes: Uint8Array;
  try {
    const res = await signPayload(signer, envelope, descriptor, signingTime, options, true);
    if (envelopeSigner) {
      // the digest was taken with the hash of the key the signer described: the key it signed with must agree
      const used = algorithmForKey(res.certificateChain[0]!.publicKey);
      if (blobDigestAlgorithm(used) !== blobDigestAlgorithm(algorithm)) {
        throw new VouchError(
          'ERR_PLUGIN_PROTOCOL',
          `the signer described a ${algorithm} key but signed with a ${used} key: the blob digest (${blobDigestAlgorithm(algorithm)}) does not fit the signature`,
          { details: { check: 'keySpec', described: algorithm, signed: used } },
        );
      }
    }
    bytes = res.envelope;
  } catch (e) {
    throw toVouchError(e, 'ERR_SIGNING_FAILED', 'signing the blob failed');
  }
  return { envelope: bytes, envelopeMediaType: envelope.mediaType, descriptor, warnings: [] };
}
