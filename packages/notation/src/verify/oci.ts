/**
 * OCI artifact verification: select the trust policy statement by scope, resolve the artifact,
 * walk its Notary signatures (the referrer loop) and run the per-signature verifier on each
 * until one satisfies the policy.
 */
import {
  type Clock,
  type Descriptor,
  fetchLike,
  formatReference,
  hasCode,
  Limits,
  type Logger,
  MediaType,
  type Reference,
  VouchError,
} from '@vouch/core';
import { noopLogger, splitArtifactReference, toVouchError } from '@vouch/core/internal';
import type { EnvelopeCodec } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { createRegistryClient, parseSignatureManifest, type RegistryClient, type Repository, remoteRepository } from '@vouch/registry';
import {
  type OciTrustPolicyDocument,
  parseOciTrustPolicy,
  resolveVerificationLevel,
  selectOciPolicy,
  type TrustStore,
} from '@vouch/trust-policy';
import type { PluginResolver } from '../plugin-verify.js';
import type { SignatureOutcome, VerificationLevel, VerifyResult } from '../types.js';
import { checkUserMetadata } from '../user-metadata.js';
import type { RevocationChecker, TimestampVerifier } from './adapters.js';
import { createSignatureVerifier, descriptorOf, outcomeToJson, type SignatureInput, warningsOf } from './signature.js';

/** Configuration of {@link createVerifier}. */
export interface VerifierConfig {
  /** A parsed document, or JSON text/bytes/object to parse and validate. */
  trustPolicy: OciTrustPolicyDocument | string | Uint8Array | object;
  trustStore: TrustStore;
  /** Envelope codecs (`jws` from `@vouch/envelope/jws`, `cose` from `@vouch/envelope/cose`). */
  envelopes: readonly EnvelopeCodec[];
  /**
   * Where artifacts named `registry/repository@digest` live when a call passes no
   * `repository`: a {@link RegistryClient} (`createRegistryClient`), whose repositories are
   * opened with `remoteRepository`, or a function from the parsed reference to its repository
   * (an OCI layout per reference, a mirror, a fake in tests). Default: a client over
   * `globalThis.fetch` (`fetchLike()`), created on first use: anonymous, plain HTTP for
   * loopback registries only.
   */
  registry?: RegistryClient | ((reference: Reference) => Repository);
  /**
   * Revocation checker. Default: {@link ocspCrlRevocation} over `globalThis.fetch` (as notation
   * does, this contacts the OCSP/CRL URLs in the certificates). `false` turns checking off: the
   * revocation check is then reported as skipped.
   */
  revocation?: RevocationChecker | false;
  /** Timestamp verifier; default {@link rfc3161Timestamp}. */
  timestamp?: TimestampVerifier;
  /**
   * Verification plugins by name, for signatures that name one (`io.cncf.notary.verificationPlugin`).
   * Without it such signatures fail with ERR_PLUGIN_NOT_FOUND. `createNodeVerifier` wires the
   * plugins installed in the notation config dir.
   */
  plugins?: PluginResolver;
  now?: Clock;
  logger?: Logger;
  maxSignatureAttempts?: number;
  maxManifestBytes?: number;
  maxEnvelopeBytes?: number;
}

/** Per-call options of {@link Verifier.verify}. */
export interface VerifyCallOptions {
  /**
   * Where the artifact and its signatures live. Default: the verifier's `registry`, for a
   * `registry/repository[:tag|@digest]` reference. Pass it for an OCI layout (with `scope`).
   */
  repository?: Repository;
  /**
   * Trust-policy scope (`registry/repository`) when `reference` is only a tag or digest
   * inside `repository` (OCI layouts: notation's `--scope`).
   */
  scope?: string;
  /** Required user metadata: every key/value must be in the signed payload annotations. */
  userMetadata?: Record<string, string>;
  maxSignatureAttempts?: number;
  /** `pluginConfig` sent to verification plugins (notation's `verify --plugin-config`). */
  pluginConfig?: Record<string, string>;
  signal?: AbortSignal;
}

/** A reusable verifier (see {@link createVerifier}). */
export interface Verifier {
  /** Verify the artifact named by `reference`; resolves only when a signature satisfies the policy. */
  verify(reference: string, options?: VerifyCallOptions): Promise<VerifyResult>;
  /**
   * Verify one envelope against a policy statement for an artifact descriptor (the per-signature
   * algorithm, shared by OCI and blob verification). Never throws for a policy failure: the
   * outcome's `error` says why.
   */
  verifySignature(input: SignatureInput): Promise<SignatureOutcome>;
}

function positive(n: number | undefined, name: string, fallback: number): number {
  if (n === undefined) return fallback;
  if (!Number.isSafeInteger(n) || n <= 0) throw new VouchError('ERR_INVALID_ARGUMENT', `${name} must be a positive integer, got ${n}`);
  return n;
}

/** The repository of a reference, from `registry` (the default client is created on first use). */
function repositoriesOf(source: VerifierConfig['registry']): (reference: Reference) => Repository {
  if (typeof source === 'function') return source;
  let client = source;
  return (reference) => {
    if (!client) {
      if (typeof globalThis.fetch !== 'function') {
        throw new VouchError(
          'ERR_INVALID_ARGUMENT',
          'this runtime has no globalThis.fetch: pass `registry` to createVerifier, or a `repository` to verify',
        );
      }
      client = createRegistryClient({ fetch: fetchLike() });
    }
    return remoteRepository(client, `${reference.registry}/${reference.repository}`);
  };
}

/**
 * A reusable verifier: parses the trust policy once and caches trust-store certificates,
 * for controllers that verify thousands of times. Artifacts named by a full reference are
 * read through `registry` (default: a client over `globalThis.fetch`); pass a per-call
 * `repository` for OCI layouts.
 *
 * @example
 * ```ts
 * import { createVerifier, hasCode } from '@vouch/notation';
 * import { jws } from '@vouch/envelope/jws';
 * import { cose } from '@vouch/envelope/cose';
 *
 * const verifier = createVerifier({ trustPolicy, trustStore, envelopes: [jws, cose] });
 * try {
 *   const { artifact, signature } = await verifier.verify('registry.example/app@sha256:…');
 * } catch (e) {
 *   if (hasCode(e, 'ERR_VERIFICATION_FAILED')) console.error(e.details?.outcomes);
 * }
 * ```
 *
 * @throws VouchError ERR_TRUST_POLICY_INVALID for a bad policy, ERR_INVALID_ARGUMENT without
 *   envelope codecs or for a bad limit.
 */
export function createVerifier(config: VerifierConfig): Verifier {
  // Validated once here (also when given an object), so a bad policy fails at construction.
  const policy = parseOciTrustPolicy(config.trustPolicy);
  const logger = config.logger ?? noopLogger;
  const defaultMax = positive(config.maxSignatureAttempts, 'maxSignatureAttempts', Limits.MAX_SIGNATURE_ATTEMPTS);
  const maxManifestBytes = positive(config.maxManifestBytes, 'maxManifestBytes', Limits.MAX_MANIFEST_BYTES);
  const maxEnvelopeBytes = positive(config.maxEnvelopeBytes, 'maxEnvelopeBytes', Limits.MAX_ENVELOPE_BYTES);
  const repositoryFor = repositoriesOf(config.registry);
  const verifySignature = createSignatureVerifier({
    trustStore: config.trustStore,
    envelopes: config.envelopes,
    ...(config.revocation !== undefined ? { revocation: config.revocation } : {}),
    ...(config.timestamp ? { timestamp: config.timestamp } : {}),
    ...(config.plugins ? { plugins: config.plugins } : {}),
    ...(config.now ? { now: config.now } : {}),
    logger,
  });

  async function verify(reference: string, options: VerifyCallOptions = {}): Promise<VerifyResult> {
    const { signal } = options;
    const userMetadata = checkUserMetadata(options.userMetadata);
    const maxAttempts = positive(options.maxSignatureAttempts, 'maxSignatureAttempts', defaultMax);
    const named = splitArtifactReference(reference);
    const parsed = named.reference;
    if (!parsed && options.scope === undefined) {
      throw new VouchError(
        'ERR_INVALID_REFERENCE',
        `reference "${reference}" names no repository: write <registry>/<repository>@<digest>, or pass repository and scope (OCI layouts)`,
      );
    }
    if (!parsed && !options.repository) {
      throw new VouchError('ERR_INVALID_ARGUMENT', 'verify needs a repository (an OCI layout, a remote registry or a memory repository)');
    }
    const scope = options.scope ?? `${parsed!.registry}/${parsed!.repository}`;
    const statement = selectOciPolicy(policy, scope);
    const { level } = resolveVerificationLevel(statement.signatureVerification);
    const repository = options.repository ?? repositoryFor(parsed!);

    const artifact = await repository.resolve(named.target, signal ? { signal } : undefined);
    if (named.digest && named.digest !== artifact.digest) {
      throw new VouchError(
        'ERR_DIGEST_MISMATCH',
        `user input digest ${named.digest} does not match the resolved digest ${artifact.digest}`,
      );
    }
    const resolvedRef = parsed
      ? formatReference({ registry: parsed.registry, repository: parsed.repository, digest: artifact.digest })
      : `${scope}@${artifact.digest}`;
    const result: VerifyResult = {
      reference: resolvedRef,
      artifact: descriptorOf(artifact),
      policy: { name: statement.name, level: level as VerificationLevel },
      skipped: level === 'skip',
      outcomes: [],
      warnings: [],
    };
    if (level === 'skip') return result;

    // The referrer loop: every Notary signature of the artifact, in listing order, up to the limit.
    let attempts = 0;
    let limitHit = false;
    let retrievalFailures = 0;
    outer: for await (const page of repository.referrers(artifact, {
      artifactType: MediaType.NOTARY_SIGNATURE,
      ...(signal ? { signal } : {}),
    })) {
      for (const sigDesc of page) {
        if (attempts >= maxAttempts) {
          limitHit = true;
          break outer;
        }
        attempts++;
        let envelope: Uint8Array;
        let envDesc: Descriptor;
        try {
          const { bytes } = await repository.fetchManifest(sigDesc, { maxBytes: maxManifestBytes, ...(signal ? { signal } : {}) });
          const sm = parseSignatureManifest(bytes, sigDesc.mediaType);
          if (sm.subject && sm.subject.digest !== artifact.digest) {
            throw new VouchError(
              'ERR_SIGNATURE_RETRIEVAL_FAILED',
              `signature manifest ${sigDesc.digest} is for ${sm.subject.digest}, not ${artifact.digest}`,
            );
          }
          envDesc = sm.envelope;
          envelope = await repository.fetchBlob(envDesc, { maxBytes: maxEnvelopeBytes, ...(signal ? { signal } : {}) });
        } catch (e) {
          if (hasCode(e, 'ERR_ABORTED')) throw e;
          retrievalFailures++;
          const error = toVouchError(e, 'ERR_SIGNATURE_RETRIEVAL_FAILED', `signature ${sigDesc.digest} could not be retrieved`);
          result.outcomes.push({ descriptor: descriptorOf(sigDesc), envelopeMediaType: 'unknown', checks: [], error });
          logger.warn(`skipping signature ${sigDesc.digest}: ${error.message}`, { code: error.code });
          continue;
        }
        const outcome = await verifySignature({
          envelope,
          envelopeMediaType: envDesc.mediaType,
          descriptor: descriptorOf(sigDesc),
          artifact,
          statement,
          ...(Object.keys(userMetadata).length ? { userMetadata } : {}),
          ...(options.pluginConfig ? { pluginConfig: options.pluginConfig } : {}),
          ...(signal ? { signal } : {}),
        });
        result.outcomes.push(outcome);
        if (!outcome.error) {
          result.signature = outcome;
          result.warnings = warningsOf(outcome);
          return result;
        }
      }
    }
    const details = { reference: resolvedRef, policy: statement.name, outcomes: result.outcomes.map(outcomeToJson) };
    if (attempts === 0) {
      throw new VouchError(
        'ERR_SIGNATURE_NOT_FOUND',
        `no signature is associated with "${resolvedRef}", make sure the artifact was signed successfully`,
        { details },
      );
    }
    if (limitHit) {
      throw new VouchError(
        'ERR_SIGNATURE_LIMIT_EXCEEDED',
        `signature evaluation stopped. The configured limit of ${maxAttempts} signatures to verify per artifact exceeded`,
        { details },
      );
    }
    if (retrievalFailures === attempts) {
      throw new VouchError('ERR_VERIFICATION_INCONCLUSIVE', `no signature of "${resolvedRef}" could be retrieved`, { details });
    }
    const reasons = result.outcomes.map((o) => o.error?.message).filter(Boolean);
    throw new VouchError(
      'ERR_VERIFICATION_FAILED',
      `signature verification failed for all the signatures associated with ${resolvedRef}: ${reasons.join('; ')}`,
      { details },
    );
  }

  return { verify, verifySignature };
}

/**
 * One-shot verification: `createVerifier(options).verify(reference, options)`, with both
 * envelope codecs (JWS and COSE) unless `envelopes` says otherwise. Resolves only when a
 * signature satisfies the policy; otherwise rejects with a {@link VouchError} whose `code` says
 * why (ERR_VERIFICATION_FAILED, ERR_SIGNATURE_NOT_FOUND, …) and whose `details.outcomes` lists
 * every signature tried.
 *
 * @example
 * ```ts
 * import { verify } from '@vouch/notation';
 * import { memoryTrustStore } from '@vouch/trust-policy';
 * import { parseCertificates } from '@vouch/x509';
 *
 * const trustStore = memoryTrustStore({ ca: { 'wabbit-networks.io': parseCertificates(caPem) } });
 * const { artifact } = await verify('registry.example/app@sha256:…', { trustPolicy, trustStore });
 * ```
 */
export async function verify(
  reference: string,
  options: Omit<VerifierConfig, 'envelopes'> & { envelopes?: readonly EnvelopeCodec[] } & VerifyCallOptions,
): Promise<VerifyResult> {
  return createVerifier({ ...options, envelopes: options.envelopes ?? [jws, cose] }).verify(reference, options);
}
