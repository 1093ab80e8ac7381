import { Annotation, type Clock, type Descriptor, type Logger, MediaType, VouchError } from '@vouch/core';
import { noopLogger, referenceScope, splitArtifactReference, systemClock, toVouchError } from '@vouch/core/internal';
import type { EnvelopeCodec, RawSigner, SigningScheme } from '@vouch/envelope';
import { buildSignatureManifest, EMPTY_CONFIG_BYTES, type WritableRepository } from '@vouch/registry';
import { thumbprintAnnotation } from '@vouch/registry/internal';
import { signPayload } from './payload-signing.js';
import type { EnvelopeSigner } from './plugin-signer.js';
import { checkTimestampAuthority, type TimestampAuthority } from './timestamp-sign.js';
import { checkUserMetadata } from './user-metadata.js';

export interface SignOptions {
  /** Where the artifact lives and the signature goes. */
  repository: WritableRepository;
  /**
   * Produces the signature: a {@link RawSigner} (local key), or an {@link EnvelopeSigner}
   * (a plugin, see `pluginSigner`) that returns the whole envelope.
   */
  signer: RawSigner | EnvelopeSigner;
  /** `jws` from `@vouch/envelope/jws` or `cose` from `@vouch/envelope/cose`. */
  envelope: EnvelopeCodec;
  signingScheme?: SigningScheme;
  /** Signature validity in seconds from the signing time (whole seconds; notation's `--expiry`). */
  expirySeconds?: number;
  /** Added to the payload's targetArtifact annotations (signed). Keys may not start with `io.cncf.notary`. */
  userMetadata?: Record<string, string>;
  signingAgent?: string;
  /**
   * Countersign the signature with an RFC 3161 timestamp from this TSA (notation's
   * `--timestamp-url` + `--timestamp-root-cert`; `notary.x509` only). The token is verified
   * against the given root, including the TSA chain's revocation, before it is attached as
   * `io.cncf.notary.timestampSignature`; any failure fails signing (ERR_TIMESTAMP_INVALID).
   * See {@link rfc3161Timestamper}.
   */
  timestamper?: TimestampAuthority;
  /** Extra manifest annotations (unsigned); notation's own keys win on collision. */
  manifestAnnotations?: Record<string, string>;
  /**
   * The signature manifest's form (see `buildSignatureManifest`): `legacy` (default), an image
   * manifest whose config media type is `application/vnd.cncf.notary.signature`, as notation 1.3
   * writes to registries and OCI layouts (notation-go's layout reader lists only this form);
   * `current`, `artifactType` with the empty config.
   */
  manifestForm?: 'legacy' | 'current';
  now?: Clock;
  logger?: Logger;
  signal?: AbortSignal;
}

export interface SignResult {
  /** `registry/repo@digest` (or `@digest` inside a layout). */
  reference: string;
  artifact: Descriptor;
  signatureManifest: Descriptor;
  envelope: Uint8Array;
  envelopeDescriptor: Descriptor;
  /**
   * Non-fatal problems, as errors that were not thrown: signing a tag rather than a digest
   * gives ERR_INVALID_REFERENCE (tags are mutable; the resolved digest was signed).
   */
  warnings: VouchError[];
}

export { DEFAULT_SIGNING_AGENT } from './payload-signing.js';

/**
 * Sign the artifact named by `reference` (`registry/repo:tag|@digest`, or a bare tag/digest
 * inside `repository`) and push the signature next to it. Always signs the resolved digest.
 *
 * @example
 * ```ts
 * import { fetchLike } from '@vouch/core';
 * import { sign } from '@vouch/notation';
 * import { localRawSigner } from '@vouch/envelope';
 * import { jws } from '@vouch/envelope/jws';
 * import { createRegistryClient, remoteRepository } from '@vouch/registry';
 *
 * const repository = remoteRepository(createRegistryClient({ fetch: fetchLike(), credentials }), 'registry.example/app');
 * const signer = localRawSigner(privateKey, certificateChain); // a CryptoKey and its chain, leaf first
 * const { reference, signatureManifest } = await sign('registry.example/app@sha256:…', { repository, signer, envelope: jws });
 * ```
 *
 * @throws VouchError ERR_INVALID_ARGUMENT (bad options or user metadata), ERR_INVALID_REFERENCE,
 *   ERR_DIGEST_MISMATCH, ERR_SIGNING_FAILED, ERR_TIMESTAMP_INVALID, ERR_PUSH_SIGNATURE_FAILED.
 */
export async function sign(reference: string, options: SignOptions): Promise<SignResult> {
  const { repository, signer, envelope, signal } = options;
  const logger = options.logger ?? noopLogger;
  const warnings: VouchError[] = [];
  if (!repository || !signer || !envelope) throw new VouchError('ERR_INVALID_ARGUMENT', 'sign needs repository, signer and envelope');
  if (options.expirySeconds !== undefined && (!Number.isSafeInteger(options.expirySeconds) || options.expirySeconds < 0)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `expiry must be a whole, non-negative number of seconds, got ${options.expirySeconds}`);
  }
  if (options.timestamper !== undefined) checkTimestampAuthority(options.timestamper);
  const annotations = checkUserMetadata(options.userMetadata);
  const named = splitArtifactReference(reference);
  const artifact = await repository.resolve(named.target, signal ? { signal } : undefined);
  if (named.digest && named.digest !== artifact.digest) {
    throw new VouchError('ERR_DIGEST_MISMATCH', `user input digest ${named.digest} does not match the resolved digest ${artifact.digest}`);
  }
  if (!named.digest) {
    const w = new VouchError(
      'ERR_INVALID_REFERENCE',
      `Always sign the artifact using digest(@sha256:...) rather than a tag(:${named.tag}) because tags are mutable and a tag reference can point to a different artifact than the one signed.`,
      { details: { tag: named.tag, digest: artifact.digest } },
    );
    warnings.push(w);
    logger.warn(w.message);
  }
  const now = (options.now ?? systemClock)();
  const signingTime = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const targetArtifact: Descriptor = { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.size };
  if (Object.keys(annotations).length) targetArtifact.annotations = annotations;

  let bytes: Uint8Array;
  let chainDer: Uint8Array[];
  let signerAnnotations: Record<string, string>;
  try {
    const out = await signPayload(signer, envelope, targetArtifact, signingTime, options);
    bytes = out.envelope;
    chainDer = out.certificateChain.map((c) => c.der);
    signerAnnotations = out.annotations;
  } catch (e) {
    throw toVouchError(e, 'ERR_SIGNING_FAILED', 'signing failed');
  }
  let envelopeDescriptor: Descriptor;
  let signatureManifest: Descriptor;
  try {
    envelopeDescriptor = await repository.pushBlob(envelope.mediaType, bytes, signal ? { signal } : undefined);
    // The signature manifest's config is the 2-byte `{}` blob (in both forms): registries reject a
    // manifest whose blobs are missing (repositories skip the upload when it is already there).
    await repository.pushBlob(MediaType.OCI_EMPTY, EMPTY_CONFIG_BYTES, signal ? { signal } : undefined);
    const { bytes: manifestBytes } = buildSignatureManifest({
      subject: { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.size },
      envelopeDescriptor,
      form: options.manifestForm ?? 'legacy',
      annotations: {
        ...(options.manifestAnnotations ?? {}),
        ...signerAnnotations,
        [Annotation.THUMBPRINT_S256]: thumbprintAnnotation(chainDer),
        [Annotation.CREATED]: signingTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    });
    signatureManifest = await repository.pushManifest(MediaType.OCI_MANIFEST, manifestBytes, signal ? { signal } : undefined);
  } catch (e) {
    throw toVouchError(e, 'ERR_PUSH_SIGNATURE_FAILED', 'pushing the signature failed');
  }
  return {
    reference: named.reference ? `${referenceScope(named.reference)}@${artifact.digest}` : `@${artifact.digest}`,
    artifact: { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.size },
    signatureManifest,
    envelope: bytes,
    envelopeDescriptor,
    warnings,
  };
}
