import {
  Annotation,
  type Clock,
  type Descriptor,
  type Logger,
  MediaType,
  noopLogger,
  parseReference,
  systemClock,
  toVouchError,
  VouchError,
} from '@vouch/core';
import type { EnvelopeCodec, RawSigner, SigningScheme } from '@vouch/envelope';
import { buildSignatureManifest, EMPTY_CONFIG_BYTES, thumbprintAnnotation, type WritableRepository } from '@vouch/registry';
import { signPayload } from './payload-signing.js';
import type { EnvelopeSigner } from './plugin-signer.js';
import { checkTimestampAuthority, type TimestampAuthority } from './timestamp-sign.js';

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
  /** Non-fatal notes, e.g. "signed a tag: always sign by digest". */
  warnings: string[];
}

export { DEFAULT_SIGNING_AGENT } from './payload-signing.js';

/**
 * Sign the artifact named by `reference` (`registry/repo:tag|@digest`, or a bare tag/digest
 * inside `repository`) and push the signature next to it. Always signs the resolved digest.
 */
export async function sign(reference: string, options: SignOptions): Promise<SignResult> {
  const { repository, signer, envelope, signal } = options;
  const logger = options.logger ?? noopLogger;
  const warnings: string[] = [];
  if (!repository || !signer || !envelope) throw new VouchError('ERR_INVALID_ARGUMENT', 'sign needs repository, signer and envelope');
  if (options.expirySeconds !== undefined && (!Number.isSafeInteger(options.expirySeconds) || options.expirySeconds < 0)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `expiry must be a whole, non-negative number of seconds, got ${options.expirySeconds}`);
  }
  if (options.timestamper !== undefined) checkTimestampAuthority(options.timestamper);
  let target = reference.startsWith('@') ? reference.slice(1) : reference;
  let userDigest: string | undefined;
  let prefix = '';
  if (reference.includes('/')) {
    const ref = parseReference(reference);
    target = ref.digest ?? ref.tag ?? '';
    if (!target) throw new VouchError('ERR_INVALID_REFERENCE', `reference "${reference}" has no tag or digest`);
    userDigest = ref.digest;
    prefix = `${ref.registry}/${ref.repository}`;
  } else if (target.includes(':') && target.startsWith('sha')) {
    userDigest = target;
  }
  const artifact = await repository.resolve(target, signal ? { signal } : undefined);
  if (userDigest && userDigest !== artifact.digest) {
    throw new VouchError('ERR_DIGEST_MISMATCH', `user input digest ${userDigest} does not match the resolved digest ${artifact.digest}`);
  }
  if (!userDigest) {
    const w = `Always sign the artifact using digest(@sha256:...) rather than a tag(:${target}) because tags are mutable and a tag reference can point to a different artifact than the one signed.`;
    warnings.push(w);
    logger.warn(w);
  }
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.userMetadata ?? {})) {
    if (k.startsWith(Annotation.NOTARY_PREFIX)) {
      throw new VouchError(
        'ERR_INVALID_ARGUMENT',
        `user metadata key "${k}" is reserved: keys starting with "io.cncf.notary" cannot be used`,
      );
    }
    annotations[k] = v;
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
    reference: prefix ? `${prefix}@${artifact.digest}` : `@${artifact.digest}`,
    artifact: { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.size },
    signatureManifest,
    envelope: bytes,
    envelopeDescriptor,
    warnings,
  };
}
