import {
  Annotation,
  type Clock,
  type Descriptor,
  type DigestAlgorithm,
  digestAlgorithmOf,
  digestOf,
  type HasherFactory,
  isSignatureAlgorithm,
  type Logger,
  parseDigest,
  portableHasher,
  systemClock,
  toHex,
  toVouchError,
  VouchError,
} from '@vouch/core';
import {
  algorithmForKey,
  type EnvelopeCodec,
  type EnvelopeMediaTypeName,
  hashForAlgorithm,
  type ParsedEnvelope,
  type RawSigner,
  type SignatureAlgorithm,
  type SigningScheme,
} from '@vouch/envelope';
import {
  type BlobTrustPolicyDocument,
  type BlobTrustPolicyStatement,
  parseBlobTrustPolicy,
  resolveVerificationLevel,
  selectBlobPolicy,
  type TrustStore,
} from '@vouch/trust-policy';
import { signPayload } from './payload-signing.js';
import { type EnvelopeSigner, isEnvelopeSigner } from './plugin-signer.js';
import { checkTimestampAuthority, rfc3161Timestamper, type TimestampAuthority } from './timestamp-sign.js';
import type { SignatureOutcome, VerificationLevel } from './types.js';
import {
  createVerifier,
  outcomeToJson,
  type RevocationChecker,
  rfc3161Timestamp,
  type TimestampVerifier,
  type Verifier,
} from './verify.js';

/**
 * A blob to sign or verify: bytes, a WHATWG `ReadableStream`, or any async iterable of chunks
 * (a Node `fs.ReadStream`, `@vouch/node`'s `fileStream`). Streams are read once, chunk by chunk.
 */
export type BlobSource = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Media type notation gives a blob when none is specified (`--media-type`). */
export const DEFAULT_BLOB_MEDIA_TYPE = 'application/octet-stream';

/** Envelope format of a detached signature file (`<blob>.<format>.sig`). */
export type SignatureFormat = 'jws' | 'cose';

/** Envelope media type of each signature format. */
export const SIGNATURE_FORMAT_MEDIA_TYPES: Readonly<Record<SignatureFormat, EnvelopeMediaTypeName>> = Object.freeze({
  jws: 'application/jose+json',
  cose: 'application/cose',
});

/** The blob digest algorithm implied by a signature algorithm (PS256/ES256 → sha256, …384 → sha384, …512 → sha512). */
export function blobDigestAlgorithm(algorithm: SignatureAlgorithm): DigestAlgorithm {
  if (!isSignatureAlgorithm(algorithm))
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `no digest algorithm for signature algorithm ${algorithm}`);
  return digestAlgorithmOf(hashForAlgorithm(algorithm));
}

function baseName(path: string): string {
  const parts = path.split(/[/\\]/);
  return parts[parts.length - 1] ?? '';
}

/**
 * The detached signature file name notation writes for a blob: `<blob file name>.<format>.sig`
 * (e.g. `app.tar.gz` → `app.tar.gz.jws.sig`). Only the base name of `blobPath` is used: join
 * the result with the signature directory (notation's `--signature-directory`).
 *
 * @throws VouchError ERR_INVALID_ARGUMENT for an empty base name or an unknown format.
 */
export function signatureFileName(blobPath: string, format: SignatureFormat): string {
  if (format !== 'jws' && format !== 'cose') {
    throw new VouchError('ERR_INVALID_ARGUMENT', `signature format must be "jws" or "cose", got ${JSON.stringify(format)}`);
  }
  const name = typeof blobPath === 'string' ? baseName(blobPath) : '';
  if (name === '' || name === '.' || name === '..') {
    throw new VouchError('ERR_INVALID_ARGUMENT', `cannot derive a signature file name from blob path ${JSON.stringify(blobPath)}`);
  }
  return `${name}.${format}.sig`;
}

/**
 * The envelope format of a detached signature file, as notation derives it: the base name
 * must end in `.sig` and have at least three dot-separated segments; the second-to-last one
 * is the format (`jws` or `cose`). Both checks are case-insensitive.
 *
 * @throws VouchError ERR_INVALID_ARGUMENT for a name without `.sig` or without a format
 *   segment; ERR_ENVELOPE_UNSUPPORTED for an unknown format.
 */
export function formatFromSignatureFileName(path: string): SignatureFormat {
  const name = typeof path === 'string' ? baseName(path) : '';
  const parts = name.split('.');
  if (parts.length < 2 || parts[parts.length - 1]!.toLowerCase() !== 'sig') {
    throw new VouchError('ERR_INVALID_ARGUMENT', `invalid signature filename ${name}. The file extension must be .sig`);
  }
  if (parts.length < 3) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      `invalid signature filename ${name}. A valid signature file name must contain signature format and .sig file extension`,
    );
  }
  const format = parts[parts.length - 2]!.toLowerCase();
  if (format !== 'jws' && format !== 'cose') {
    throw new VouchError(
      'ERR_ENVELOPE_UNSUPPORTED',
      `signature format "${parts[parts.length - 2]}" of ${name} is not supported; use jws or cose`,
    );
  }
  return format;
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new VouchError('ERR_ABORTED', 'the blob operation was aborted', { cause: signal.reason });
}

async function* chunksOf(blob: BlobSource): AsyncIterable<Uint8Array> {
  if (blob instanceof Uint8Array) {
    yield blob;
    return;
  }
  if (blob && typeof (blob as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    yield* blob as AsyncIterable<Uint8Array>;
    return;
  }
  if (blob && typeof (blob as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (blob as ReadableStream<Uint8Array>).getReader();
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
  throw new VouchError('ERR_INVALID_ARGUMENT', 'the blob must be a Uint8Array, a ReadableStream or an async iterable of Uint8Array chunks');
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

function checkMediaType(mediaType: string, what: string): void {
  if (typeof mediaType !== 'string' || !MEDIA_TYPE_RE.test(mediaType)) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      `${what} ${JSON.stringify(mediaType)} is not a valid media type (type/subtype or a token)`,
    );
  }
}

function checkUserMetadata(md: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (md === undefined) return out;
  if (typeof md !== 'object' || md === null) throw new VouchError('ERR_INVALID_ARGUMENT', 'user metadata must be an object of strings');
  for (const [k, v] of Object.entries(md)) {
    if (k === '' || typeof v !== 'string' || v === '') {
      throw new VouchError('ERR_INVALID_ARGUMENT', `user metadata "${k}" needs a non-empty key and a non-empty string value`);
    }
    if (k.startsWith(Annotation.NOTARY_PREFIX)) {
      throw new VouchError(
        'ERR_INVALID_ARGUMENT',
        `user metadata key "${k}" is reserved: keys starting with "io.cncf.notary" cannot be used`,
      );
    }
    out[k] = v;
  }
  return out;
}

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
}

/**
 * Sign a blob with a detached signature. The blob is streamed once through the digest the
 * signing key implies (SHA-256/384/512, as notation does); the envelope's payload names the
 * blob's mediaType, digest and size (plus user metadata). Nothing is written anywhere.
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
  return { envelope: bytes, envelopeMediaType: envelope.mediaType, descriptor };
}

/** A blob given by its digest and size (the lower-level form of {@link BlobVerifier.verifyBlob}). */
export interface BlobDescriptor {
  /** `sha256:…`, `sha384:…` or `sha512:…`: must use the hash implied by the signature's algorithm. */
  digest: string;
  size: number;
  /** Compared with the signed media type only when given and non-empty. */
  mediaType?: string;
}

/**
 * The blob payload binding: digest and size must equal the signed ones, and the media type
 * too when the caller gave one. Failure: ERR_ARTIFACT_MISMATCH, "integrity check failed.
 * signature does not match the given blob" (notation's wording).
 */
export function compareBlobArtifact(payload: Descriptor, artifact: Descriptor): VouchError | undefined {
  const diffs: string[] = [];
  if (payload.digest !== artifact.digest) diffs.push(`digest ${artifact.digest} (signed: ${payload.digest})`);
  if (payload.size !== artifact.size) diffs.push(`size ${artifact.size} (signed: ${payload.size})`);
  if (artifact.mediaType && payload.mediaType !== artifact.mediaType) {
    diffs.push(`media type ${artifact.mediaType} (signed: ${payload.mediaType})`);
  }
  if (diffs.length === 0) return undefined;
  return new VouchError('ERR_ARTIFACT_MISMATCH', `integrity check failed. signature does not match the given blob: ${diffs.join(', ')}`, {
    details: {
      signed: { mediaType: payload.mediaType, digest: payload.digest, size: payload.size },
      blob: { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.size },
    },
  });
}

/** Configuration of {@link createBlobVerifier}. */
export interface BlobVerifierConfig {
  /** The blob trust policy (`trustpolicy.blob.json`): a parsed document, or JSON text/bytes/object to parse. */
  trustPolicy: BlobTrustPolicyDocument | string | Uint8Array | object;
  trustStore: TrustStore;
  /** Envelope codecs (`jws` from `@vouch/envelope/jws`, `cose` from `@vouch/envelope/cose`). */
  envelopes: readonly EnvelopeCodec[];
  /** Revocation checker (default: OCSP/CRL over `globalThis.fetch`); `false` reports revocation as skipped. */
  revocation?: RevocationChecker | false;
  /** Timestamp verifier; default RFC 3161 (`rfc3161Timestamp`). */
  timestamp?: TimestampVerifier;
  /** Incremental hasher for {@link BlobVerifier.verifyBlob}; default portable (`nodeHasher` in `@vouch/node`). */
  hasher?: HasherFactory;
  now?: Clock;
  logger?: Logger;
}

/** Per-call options of {@link BlobVerifier}. */
export interface VerifyBlobCallOptions {
  /** The blob trust policy statement to use; default the global one (`"globalPolicy": true`). */
  policyName?: string;
  /**
   * `application/jose+json` or `application/cose` (see {@link formatFromSignatureFileName}).
   * When absent, each configured codec is tried in turn.
   */
  envelopeMediaType?: string;
  /** Expected blob media type; compared with the signed one only when given. */
  mediaType?: string;
  /** Every key/value must be in the signed payload annotations. */
  userMetadata?: Record<string, string>;
  signal?: AbortSignal;
}

/** Result of a successful blob verification (verification fails closed: it rejects otherwise). */
export interface VerifyBlobResult {
  /** The blob as verified (digest with the signature's hash, size, signed media type); absent when skipped. */
  artifact?: Descriptor;
  policy: { name: string; level: VerificationLevel };
  /** True when the policy's level is `skip`: nothing was read or verified. */
  skipped: boolean;
  /** The signature's outcome, every check with its action and result; absent when skipped. */
  signature?: SignatureOutcome;
  /** Checks whose action is `log` and that failed. */
  warnings: VouchError[];
}

/** A reusable blob verifier (the policy is parsed once, trust-store certificates cached). */
export interface BlobVerifier {
  /** Stream `blob` through the signature's hash and verify `signature` (a detached envelope) for it. */
  verifyBlob(blob: BlobSource, signature: Uint8Array, options?: VerifyBlobCallOptions): Promise<VerifyBlobResult>;
  /** Verify `signature` for a blob known by its digest and size (no blob bytes needed). */
  verifyBlobDescriptor(descriptor: BlobDescriptor, signature: Uint8Array, options?: VerifyBlobCallOptions): Promise<VerifyBlobResult>;
}

/**
 * createVerifier needs an OCI policy document; blob verification passes its statement to
 * verifySignature directly, so this placeholder is never selected or used.
 */
const UNUSED_OCI_POLICY = {
  version: '1.0',
  trustPolicies: [
    {
      name: 'vouch-blob-placeholder',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:vouch-blob-placeholder'],
      trustedIdentities: ['*'],
    },
  ],
};

/**
 * Create a reusable blob verifier. Per call: select the blob policy (named, else global),
 * return an explicit skipped result for level `skip` (notation's nil-outcome quirk fixed),
 * parse the envelope to learn its algorithm, stream the blob through the matching hash, then
 * run the Notary per-signature algorithm (integrity with the blob binding — digest, size,
 * media type when given — authenticity, expiry, authentic timestamp, revocation, user
 * metadata) per the policy's level.
 *
 * Throws ERR_TRUST_POLICY_INVALID for a bad policy document.
 */
export function createBlobVerifier(config: BlobVerifierConfig): BlobVerifier {
  if (!config || typeof config !== 'object')
    throw new VouchError('ERR_INVALID_ARGUMENT', 'createBlobVerifier needs a configuration object');
  const policy = parseBlobTrustPolicy(config.trustPolicy);
  const codecs = new Map<string, EnvelopeCodec>((config.envelopes ?? []).map((c) => [c.mediaType, c]));
  const verifier: Verifier = createVerifier({
    trustPolicy: UNUSED_OCI_POLICY,
    trustStore: config.trustStore,
    envelopes: config.envelopes,
    ...(config.revocation !== undefined ? { revocation: config.revocation } : {}),
    timestamp: config.timestamp ?? rfc3161Timestamp,
    ...(config.now ? { now: config.now } : {}),
    ...(config.logger ? { logger: config.logger } : {}),
  });

  function parseSignature(signature: Uint8Array, mediaType: string | undefined): { codec: EnvelopeCodec; env: ParsedEnvelope } {
    if (!(signature instanceof Uint8Array)) throw new VouchError('ERR_INVALID_ARGUMENT', 'the signature must be a Uint8Array');
    let candidates: EnvelopeCodec[];
    if (mediaType !== undefined) {
      const c = codecs.get(mediaType);
      if (!c) {
        throw new VouchError(
          'ERR_ENVELOPE_UNSUPPORTED',
          `signature envelope media type "${mediaType}" is not supported (configured: ${[...codecs.keys()].join(', ')})`,
        );
      }
      candidates = [c];
    } else {
      candidates = [...codecs.values()];
    }
    let last: unknown;
    for (const codec of candidates) {
      try {
        return { codec, env: codec.parse(signature) };
      } catch (e) {
        last = e;
      }
    }
    const cause = toVouchError(last, 'ERR_ENVELOPE_MALFORMED', 'unable to parse the digital signature');
    throw new VouchError(
      cause.code === 'ERR_SIZE_LIMIT_EXCEEDED' ? cause.code : 'ERR_ENVELOPE_MALFORMED',
      `unable to parse the digital signature, error : ${cause.message}`,
      { cause },
    );
  }

  function prepare(options: VerifyBlobCallOptions): { statement: BlobTrustPolicyStatement; level: VerificationLevel } {
    if (options.userMetadata !== undefined) {
      for (const [k, v] of Object.entries(options.userMetadata)) {
        if (typeof v !== 'string') throw new VouchError('ERR_INVALID_ARGUMENT', `user metadata "${k}" must be a string`);
      }
    }
    if (options.mediaType !== undefined && options.mediaType !== '') checkMediaType(options.mediaType, 'blob media type');
    const statement = selectBlobPolicy(policy, options.policyName);
    const { level } = resolveVerificationLevel(statement.signatureVerification);
    return { statement, level: level as VerificationLevel };
  }

  async function run(
    statement: BlobTrustPolicyStatement,
    level: VerificationLevel,
    codec: EnvelopeCodec,
    env: ParsedEnvelope,
    signature: Uint8Array,
    artifact: Descriptor,
    options: VerifyBlobCallOptions,
  ): Promise<VerifyBlobResult> {
    const outcome = await verifier.verifySignature({
      envelope: signature,
      envelopeMediaType: codec.mediaType,
      descriptor: { mediaType: codec.mediaType, digest: digestOf(signature, 'sha256'), size: signature.length },
      artifact,
      statement,
      compareArtifact: compareBlobArtifact,
      ...(options.userMetadata ? { userMetadata: options.userMetadata } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const policyInfo = { name: statement.name, level };
    if (outcome.error) {
      const e = outcome.error;
      throw new VouchError(e.code, `provided signature verification failed against the blob: ${e.message}`, {
        cause: e,
        details: { policy: statement.name, level, outcome: outcomeToJson(outcome) },
      });
    }
    return {
      artifact: { mediaType: env.payload.targetArtifact.mediaType, digest: artifact.digest, size: artifact.size },
      policy: policyInfo,
      skipped: false,
      signature: outcome,
      warnings: outcome.checks.filter((c) => c.result === 'failed' && c.error).map((c) => c.error!),
    };
  }

  async function verifyBlobImpl(blob: BlobSource, signature: Uint8Array, options: VerifyBlobCallOptions = {}): Promise<VerifyBlobResult> {
    const { statement, level } = prepare(options);
    if (level === 'skip') return { policy: { name: statement.name, level }, skipped: true, warnings: [] };
    const { codec, env } = parseSignature(signature, options.envelopeMediaType);
    const { digest, size } = await digestBlob(blob, blobDigestAlgorithm(env.algorithm), {
      ...(config.hasher ? { hasher: config.hasher } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return run(statement, level, codec, env, signature, { mediaType: options.mediaType ?? '', digest, size }, options);
  }

  async function verifyBlobDescriptorImpl(
    descriptor: BlobDescriptor,
    signature: Uint8Array,
    options: VerifyBlobCallOptions = {},
  ): Promise<VerifyBlobResult> {
    if (!descriptor || typeof descriptor !== 'object')
      throw new VouchError('ERR_INVALID_ARGUMENT', 'the blob descriptor must be an object');
    parseDigest(descriptor.digest);
    if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `the blob size must be a non-negative integer, got ${descriptor.size}`);
    }
    const mediaType = descriptor.mediaType ?? options.mediaType ?? '';
    const { statement, level } = prepare({ ...options, mediaType });
    if (level === 'skip') return { policy: { name: statement.name, level }, skipped: true, warnings: [] };
    const { codec, env } = parseSignature(signature, options.envelopeMediaType);
    return run(statement, level, codec, env, signature, { mediaType, digest: descriptor.digest, size: descriptor.size }, options);
  }

  return { verifyBlob: verifyBlobImpl, verifyBlobDescriptor: verifyBlobDescriptorImpl };
}

/** One-shot blob verification: `createBlobVerifier(options).verifyBlob(blob, signature, options)`. */
export async function verifyBlob(
  blob: BlobSource,
  signature: Uint8Array,
  options: BlobVerifierConfig & VerifyBlobCallOptions,
): Promise<VerifyBlobResult> {
  return createBlobVerifier(options).verifyBlob(blob, signature, options);
}

/** One-shot descriptor verification: `createBlobVerifier(options).verifyBlobDescriptor(descriptor, signature, options)`. */
export async function verifyBlobDescriptor(
  descriptor: BlobDescriptor,
  signature: Uint8Array,
  options: BlobVerifierConfig & VerifyBlobCallOptions,
): Promise<VerifyBlobResult> {
  return createBlobVerifier(options).verifyBlobDescriptor(descriptor, signature, options);
}
