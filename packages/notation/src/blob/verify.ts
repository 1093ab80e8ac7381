/**
 * Blob verification, a thin driver of the per-signature verifier: select the blob policy, parse
 * the detached envelope to learn its algorithm, digest the blob with the matching hash, then
 * verify the signature with the blob payload binding.
 */
import { type Clock, type Descriptor, digestOf, type HasherFactory, type Logger, parseDigest, VouchError } from '@vouch/core';
import { toVouchError } from '@vouch/core/internal';
import { codecForMediaType, type EnvelopeCodec, type ParsedEnvelope } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import {
  type BlobTrustPolicyDocument,
  type BlobTrustPolicyStatement,
  parseBlobTrustPolicy,
  resolveVerificationLevel,
  selectBlobPolicy,
  type TrustStore,
} from '@vouch/trust-policy';
import type { SignatureOutcome, VerificationLevel } from '../types.js';
import { checkUserMetadata } from '../user-metadata.js';
import type { RevocationChecker, TimestampVerifier } from '../verify/adapters.js';
import { createSignatureVerifier, outcomeToJson, warningsOf } from '../verify/signature.js';
import { type BlobSource, blobDigestAlgorithm, checkMediaType, digestBlob } from './source.js';

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
 * Create a reusable blob verifier. Per call: select the blob policy (named, else global),
 * return an explicit skipped result for level `skip` (notation's nil-outcome quirk fixed),
 * parse the envelope to learn its algorithm, stream the blob through the matching hash, then
 * run the Notary per-signature algorithm (integrity with the blob binding — digest, size,
 * media type when given — authenticity, expiry, authentic timestamp, revocation, user
 * metadata) per the policy's level.
 *
 * @example
 * ```ts
 * import { createBlobVerifier, formatFromSignatureFileName, SIGNATURE_FORMAT_MEDIA_TYPES } from '@vouch/notation';
 * import { jws } from '@vouch/envelope/jws';
 * import { cose } from '@vouch/envelope/cose';
 *
 * const verifier = createBlobVerifier({ trustPolicy: blobPolicy, trustStore, envelopes: [jws, cose] });
 * const format = formatFromSignatureFileName('app.tar.jws.sig');
 * const { signature } = await verifier.verifyBlob(bytes, signatureBytes, { envelopeMediaType: SIGNATURE_FORMAT_MEDIA_TYPES[format] });
 * ```
 *
 * @throws VouchError ERR_TRUST_POLICY_INVALID for a bad policy document, ERR_INVALID_ARGUMENT
 *   without envelope codecs.
 */
export function createBlobVerifier(config: BlobVerifierConfig): BlobVerifier {
  if (!config || typeof config !== 'object')
    throw new VouchError('ERR_INVALID_ARGUMENT', 'createBlobVerifier needs a configuration object');
  const policy = parseBlobTrustPolicy(config.trustPolicy);
  const envelopes = config.envelopes ?? [];
  const verifySignature = createSignatureVerifier({
    trustStore: config.trustStore,
    envelopes,
    ...(config.revocation !== undefined ? { revocation: config.revocation } : {}),
    ...(config.timestamp ? { timestamp: config.timestamp } : {}),
    ...(config.now ? { now: config.now } : {}),
    ...(config.logger ? { logger: config.logger } : {}),
  });

  function parseSignature(signature: Uint8Array, mediaType: string | undefined): { codec: EnvelopeCodec; env: ParsedEnvelope } {
    if (!(signature instanceof Uint8Array)) throw new VouchError('ERR_INVALID_ARGUMENT', 'the signature must be a Uint8Array');
    const candidates = mediaType !== undefined ? [codecForMediaType(mediaType, envelopes)] : envelopes;
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
    checkUserMetadata(options.userMetadata);
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
    const outcome = await verifySignature({
      envelope: signature,
      envelopeMediaType: codec.mediaType,
      descriptor: { mediaType: codec.mediaType, digest: digestOf(signature, 'sha256'), size: signature.length },
      artifact,
      statement,
      compareArtifact: compareBlobArtifact,
      ...(options.userMetadata ? { userMetadata: options.userMetadata } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (outcome.error) {
      const e = outcome.error;
      throw new VouchError(e.code, `provided signature verification failed against the blob: ${e.message}`, {
        cause: e,
        details: { policy: statement.name, level, outcome: outcomeToJson(outcome) },
      });
    }
    return {
      artifact: { mediaType: env.payload.targetArtifact.mediaType, digest: artifact.digest, size: artifact.size },
      policy: { name: statement.name, level },
      skipped: false,
      signature: outcome,
      warnings: warningsOf(outcome),
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

/** {@link BlobVerifierConfig} with `envelopes` defaulting to JWS and COSE, plus the call's options. */
type OneShotBlobOptions = Omit<BlobVerifierConfig, 'envelopes'> & { envelopes?: readonly EnvelopeCodec[] } & VerifyBlobCallOptions;

function oneShot(options: OneShotBlobOptions): BlobVerifier {
  return createBlobVerifier({ ...options, envelopes: options?.envelopes ?? [jws, cose] });
}

/**
 * One-shot blob verification: `createBlobVerifier(options).verifyBlob(blob, signature, options)`,
 * with both envelope codecs (JWS and COSE) unless `envelopes` says otherwise.
 */
export async function verifyBlob(
  blob: BlobSource,
  signature: Uint8Array,
  options: Omit<BlobVerifierConfig, 'envelopes'> & { envelopes?: readonly EnvelopeCodec[] } & VerifyBlobCallOptions,
): Promise<VerifyBlobResult> {
  return oneShot(options).verifyBlob(blob, signature, options);
}

/**
 * One-shot descriptor verification: `createBlobVerifier(options).verifyBlobDescriptor(descriptor, signature, options)`,
 * with both envelope codecs unless `envelopes` says otherwise.
 */
export async function verifyBlobDescriptor(
  descriptor: BlobDescriptor,
  signature: Uint8Array,
  options: Omit<BlobVerifierConfig, 'envelopes'> & { envelopes?: readonly EnvelopeCodec[] } & VerifyBlobCallOptions,
): Promise<VerifyBlobResult> {
  return oneShot(options).verifyBlobDescriptor(descriptor, signature, options);
}
