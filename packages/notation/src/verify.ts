import {
  Annotation,
  type Clock,
  type Descriptor,
  type FetchLike,
  fetchLike,
  formatReference,
  hasCode,
  Limits,
  type Logger,
  MediaType,
  noopLogger,
  parseReference,
  type Reference,
  systemClock,
  toVouchError,
  VouchError,
} from '@vouch/core';
import { assertCriticalAttributesProcessed, type EnvelopeCodec, type ParsedEnvelope } from '@vouch/envelope';
import { parseSignatureManifest, type Repository } from '@vouch/registry';
import {
  type OciTrustPolicyDocument,
  parseOciTrustPolicy,
  parseTrustStoreReference,
  resolveVerificationLevel,
  selectOciPolicy,
  type TrustPolicyStatement,
  type TrustStore,
  type TrustStoreType,
  verifyTrustedIdentity,
} from '@vouch/trust-policy';
import { type Certificate, validateSigningChain } from '@vouch/x509';
import { type CrlCache, checkRevocation, revocationOutcome } from '@vouch/x509/revocation';
import { verifyTimestampToken } from '@vouch/x509/tsp';
import {
  assertPluginProcessedAttributes,
  capabilitiesToVerify,
  type PluginResolver,
  resolveVerificationPlugin,
  runVerificationPlugin,
  type VerificationPlugin,
} from './plugin-verify.js';
import type { CheckOutcome, SignatureOutcome, SignerInfo, ValidationAction, VerificationLevel, VerifyResult } from './types.js';

/** Checks revocation of a signing or timestamping chain (see {@link ocspCrlRevocation}). */
export type RevocationChecker = (
  chain: readonly Certificate[],
  options: { at: Date; mode: 'code-signing' | 'timestamping'; signingTime?: Date; signal?: AbortSignal },
) => Promise<{ result: 'ok' | 'revoked' | 'unknown'; error?: VouchError }>;

/**
 * The spec's revocation check (OCSP first, CRL as fallback, HTTP only, 2 s / 5 s timeouts,
 * size caps) over `fetch`, from `@vouch/x509/revocation`. `crlCache` keeps downloaded CRLs;
 * `logger.info` gets notation's notice for each certificate whose OCSP check fell back to CRLs.
 */
export function ocspCrlRevocation(options: { fetch: FetchLike; crlCache?: CrlCache; logger?: Pick<Logger, 'info'> }): RevocationChecker {
  return async (chain, o) => {
    // Nothing to ask when no certificate names an OCSP responder or a CRL (all non-revokable).
    if (chain.length > 0 && chain.every((c) => c.ocspUrls.length === 0 && c.crlUrls.length === 0)) return { result: 'ok' };
    const report = await checkRevocation([...chain], {
      fetch: options.fetch,
      at: o.at,
      mode: o.mode,
      // verify() validated the signing chain (integrity) and the TSA chain (timestamp) already
      chainValidated: true,
      ...(o.signingTime ? { signingTime: o.signingTime } : {}),
      ...(options.crlCache ? { crlCache: options.crlCache } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    // notation's notice (shown with --verbose/--debug), root side first
    for (let i = report.certificates.length - 1; i >= 0; i--) {
      const c = report.certificates[i]!;
      if (c.fallback) {
        options.logger?.info(
          `OCSP check failed with unknown error and fallback to CRL check for certificate #${c.index + 1} in chain with subject ${JSON.stringify(c.subject)}`,
        );
      }
    }
    const out = revocationOutcome(report);
    if (out.result === 'ok') return { result: 'ok' };
    return { result: out.result, error: new VouchError(out.code!, out.message!, { details: { certificates: report.certificates } }) };
  };
}

/** RFC 3161 verification of the timestamp countersignature, from `@vouch/x509/tsp`. */
export const rfc3161Timestamp: TimestampVerifier = async (token, o) => {
  const r = await verifyTimestampToken(token, { message: o.signature, trustedRoots: [...o.trustedRoots] });
  return { notBefore: r.range.earliest, notAfter: r.range.latest, tsaChain: r.chain };
};

/** Verifies an RFC 3161 timestamp attached to a signature (issue 4 wires `@vouch/x509/tsp`). */
export type TimestampVerifier = (
  token: Uint8Array,
  options: {
    signature: Uint8Array;
    trustedRoots: readonly Certificate[];
    signingChain: readonly Certificate[];
    now: Date;
    signal?: AbortSignal;
  },
) => Promise<{ notBefore: Date; notAfter: Date; tsaChain?: readonly Certificate[] }>;

export interface VerifierConfig {
  /** A parsed document, or JSON text/bytes/object to parse and validate. */
  trustPolicy: OciTrustPolicyDocument | string | Uint8Array | object;
  trustStore: TrustStore;
  /** Envelope codecs (`jws` from `@vouch/envelope/jws`, `cose` from `@vouch/envelope/cose`). */
  envelopes: readonly EnvelopeCodec[];
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

export interface VerifyCallOptions {
  /** Where the artifact and its signatures live. */
  repository: Repository;
  /**
   * Trust-policy scope (`registry/repository`) when `reference` is only a tag or digest
   * inside `repository` (OCI layouts: notation's `--scope`).
   */
  scope?: string;
  userMetadata?: Record<string, string>;
  maxSignatureAttempts?: number;
  /** `pluginConfig` sent to verification plugins (notation's `verify --plugin-config`). */
  pluginConfig?: Record<string, string>;
  signal?: AbortSignal;
}

export interface Verifier {
  /** Verify the artifact named by `reference`; resolves only when a signature satisfies the policy. */
  verify(reference: string, options: VerifyCallOptions): Promise<VerifyResult>;
  /**
   * Verify one envelope against a policy statement for an artifact descriptor (the per-signature
   * algorithm, shared by OCI and blob verification). Never throws for a policy failure: the
   * outcome's `error` says why.
   */
  verifySignature(input: SignatureInput): Promise<SignatureOutcome>;
}

export interface SignatureInput {
  envelope: Uint8Array;
  envelopeMediaType: string;
  descriptor: Descriptor;
  /** The artifact the signature must describe. For blobs, see `compareArtifact`. */
  artifact: Descriptor;
  statement: Pick<TrustPolicyStatement, 'name' | 'signatureVerification' | 'trustStores' | 'trustedIdentities'>;
  userMetadata?: Record<string, string>;
  /** Custom payload binding (blob verification compares digest/size/optional mediaType). */
  compareArtifact?: (payload: Descriptor, artifact: Descriptor) => VouchError | undefined;
  /** `pluginConfig` sent to a verification plugin. */
  pluginConfig?: Record<string, string>;
  signal?: AbortSignal;
}

const SCHEME_STORE: Record<string, TrustStoreType> = {
  'notary.x509': 'ca',
  'notary.x509.signingAuthority': 'signingAuthority',
};

function assertUserMetadata(md: Record<string, string> | undefined): void {
  if (!md) return;
  for (const [k, v] of Object.entries(md)) {
    if (k.startsWith(Annotation.NOTARY_PREFIX)) {
      throw new VouchError(
        'ERR_INVALID_ARGUMENT',
        `user metadata key "${k}" is reserved: keys starting with "io.cncf.notary" cannot be used`,
      );
    }
    if (typeof v !== 'string') throw new VouchError('ERR_INVALID_ARGUMENT', `user metadata "${k}" must be a string`);
  }
}

function positive(n: number | undefined, name: string, fallback: number): number {
  if (n === undefined) return fallback;
  if (!Number.isSafeInteger(n) || n <= 0) throw new VouchError('ERR_INVALID_ARGUMENT', `${name} must be a positive integer, got ${n}`);
  return n;
}

/** Match on mediaType, digest and size (the OCI payload binding). */
export function compareOciArtifact(payload: Descriptor, artifact: Descriptor): VouchError | undefined {
  if (payload.mediaType === artifact.mediaType && payload.digest === artifact.digest && payload.size === artifact.size) return undefined;
  return new VouchError(
    'ERR_ARTIFACT_MISMATCH',
    `content descriptor mismatch: the signature is for ${payload.digest} (${payload.mediaType}, ${payload.size} bytes), not for ${artifact.digest} (${artifact.mediaType}, ${artifact.size} bytes)`,
    { details: { signed: pick(payload), artifact: pick(artifact) } },
  );
}

function pick(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

/**
 * A reusable verifier: parses the trust policy once and caches trust-store certificates,
 * for controllers that verify thousands of times.
 */
export function createVerifier(config: VerifierConfig): Verifier {
  // Validated once here (also when given an object), so a bad policy fails at construction.
  const policy = parseOciTrustPolicy(config.trustPolicy);
  const now = config.now ?? systemClock;
  const logger = config.logger ?? noopLogger;
  const codecs = new Map<string, EnvelopeCodec>(config.envelopes.map((c) => [c.mediaType, c]));
  if (codecs.size === 0) throw new VouchError('ERR_INVALID_ARGUMENT', 'createVerifier needs at least one envelope codec (jws or cose)');
  const defaultMax = positive(config.maxSignatureAttempts, 'maxSignatureAttempts', Limits.MAX_SIGNATURE_ATTEMPTS);
  const maxManifestBytes = positive(config.maxManifestBytes, 'maxManifestBytes', Limits.MAX_MANIFEST_BYTES);
  const maxEnvelopeBytes = positive(config.maxEnvelopeBytes, 'maxEnvelopeBytes', Limits.MAX_ENVELOPE_BYTES);
  const storeCache = new Map<string, Promise<readonly Certificate[]>>();
  const revocation: RevocationChecker | false =
    config.revocation ?? (typeof globalThis.fetch === 'function' ? ocspCrlRevocation({ fetch: fetchLike() }) : false);
  const timestamp = config.timestamp ?? rfc3161Timestamp;

  function storeCertificates(type: TrustStoreType, name: string, signal?: AbortSignal): Promise<readonly Certificate[]> {
    const key = `${type}:${name}`;
    let p = storeCache.get(key);
    if (!p) {
      p = config.trustStore.getCertificates(type, name, { signal });
      storeCache.set(key, p);
      // Do not cache failures: a store may be fixed while a controller runs.
      p.catch(() => storeCache.delete(key));
    }
    return p;
  }

  async function trustedCertificates(
    statement: SignatureInput['statement'],
    type: TrustStoreType,
    signal?: AbortSignal,
  ): Promise<Certificate[]> {
    const refs = (statement.trustStores ?? []).map((r) => parseTrustStoreReference(r)).filter((r) => r.type === type);
    if (refs.length === 0) {
      throw new VouchError(
        'ERR_CERT_UNTRUSTED',
        `trust policy "${statement.name}" lists no "${type}" trust store, which signatures with this signing scheme need`,
        // a mistake in the trust policy, not in the signature
        { details: { policy: statement.name, storeType: type, configuration: true } },
      );
    }
    const out: Certificate[] = [];
    for (const r of refs) out.push(...(await storeCertificates(r.type, r.name, signal)));
    if (out.length === 0)
      throw new VouchError('ERR_TRUST_STORE_NOT_FOUND', `the "${type}" trust stores of policy "${statement.name}" hold no certificates`);
    return out;
  }

  async function verifySignature(input: SignatureInput): Promise<SignatureOutcome> {
    const at = now();
    const { level, actions, verifyTimestamp } = resolveVerificationLevel(input.statement.signatureVerification);
    const outcome: SignatureOutcome = { descriptor: input.descriptor, envelopeMediaType: input.envelopeMediaType, checks: [] };
    const record = (type: CheckOutcome['type'], action: ValidationAction, error?: VouchError): boolean => {
      if (action === 'skip') {
        outcome.checks.push({ type, action, result: 'skipped' });
        return true;
      }
      if (!error) {
        outcome.checks.push({ type, action, result: 'passed' });
        return true;
      }
      outcome.checks.push({ type, action, result: 'failed', error });
      if (action === 'enforce') {
        outcome.error = error;
        return false;
      }
      logger.warn(`${type} check failed but is only logged by policy "${input.statement.name}": ${error.message}`, { code: error.code });
      return true;
    };
    if (level === 'skip') return outcome;

    // 1. Integrity (always enforced): envelope rules, signature, chain shape, payload binding.
    const codec = codecs.get(input.envelopeMediaType);
    if (!codec) {
      record(
        'integrity',
        'enforce',
        new VouchError(
          'ERR_ENVELOPE_UNSUPPORTED',
          `signature envelope media type "${input.envelopeMediaType}" is not supported (expected ${[...codecs.keys()].join(' or ')})`,
        ),
      );
      return outcome;
    }
    let env: ParsedEnvelope;
    try {
      env = codec.parse(input.envelope);
      // Independent checks, run concurrently; the envelope signature's failure is reported first.
      const [sig, chain] = await Promise.allSettled([codec.verifyIntegrity(env), validateSigningChain(env.certificateChain)]);
      if (sig.status === 'rejected') throw sig.reason;
      if (chain.status === 'rejected') throw chain.reason;
    } catch (e) {
      record('integrity', 'enforce', toVouchError(e, 'ERR_SIGNATURE_INTEGRITY', 'signature integrity check failed'));
      return outcome;
    }
    const sa = env.signedAttributes;
    const signer: SignerInfo = {
      signingScheme: sa.signingScheme,
      certificateChain: env.certificateChain,
      signatureAlgorithm: env.algorithm,
    };
    if (sa.signingTime) signer.signingTime = sa.signingTime;
    if (sa.authenticSigningTime) signer.authenticSigningTime = sa.authenticSigningTime;
    if (sa.expiry) signer.expiry = sa.expiry;
    if (env.unsignedAttributes.signingAgent !== undefined) signer.signingAgent = env.unsignedAttributes.signingAgent;
    outcome.signer = signer;
    outcome.userMetadata = { ...(env.payload.targetArtifact.annotations ?? {}) };
    const binding = (input.compareArtifact ?? compareOciArtifact)(env.payload.targetArtifact, input.artifact);
    if (!record('integrity', 'enforce', binding)) return outcome;
    // Spec-strict (GAP in notation-go): an unknown critical attribute that nobody processes fails.
    // A signature naming a verification plugin delegates its other critical attributes to it.
    let vp: VerificationPlugin | undefined;
    if (!env.signedAttributes.extended.some((a) => a.key === 'io.cncf.notary.verificationPlugin')) {
      try {
        assertCriticalAttributesProcessed(env.signedAttributes, []);
      } catch (e) {
        record('integrity', 'enforce', toVouchError(e, 'ERR_ENVELOPE_MALFORMED', 'unprocessed critical attribute'));
        return outcome;
      }
    } else {
      // Verification-plugin discovery: any failure is fatal, whatever the level.
      try {
        vp = await resolveVerificationPlugin(env.signedAttributes, {
          ...(config.plugins ? { plugins: config.plugins } : {}),
          ...(input.pluginConfig ? { pluginConfig: input.pluginConfig } : {}),
          ...(input.signal ? { signal: input.signal } : {}),
        });
      } catch (e) {
        record('integrity', 'enforce', toVouchError(e, 'ERR_VERIFICATION_INCONCLUSIVE', 'verification plugin discovery failed'));
        return outcome;
      }
    }
    const pluginHas = (c: string) => vp?.capabilities.some((x) => x === c) === true;

    // 2. Authenticity: chain ends in a trusted certificate, leaf matches a trusted identity.
    const storeType = SCHEME_STORE[sa.signingScheme]!;
    let authError: VouchError | undefined;
    try {
      const trusted = await trustedCertificates(input.statement, storeType, input.signal);
      const fingerprints = new Set(trusted.map((c) => c.sha256Fingerprint));
      if (!env.certificateChain.some((c) => fingerprints.has(c.sha256Fingerprint))) {
        authError = new VouchError(
          'ERR_CERT_UNTRUSTED',
          `signature is not produced by a trusted signer: no certificate of the chain (leaf "${env.certificateChain[0]!.subject}") is in the "${storeType}" trust stores of policy "${input.statement.name}"`,
        );
      } else {
        // The plugin decides the trusted identity when it has that capability.
        authError = pluginHas('SIGNATURE_VERIFIER.TRUSTED_IDENTITY') ? undefined : identityError(input.statement, env.certificateChain[0]!);
      }
    } catch (e) {
      authError = toVouchError(e, 'ERR_CERT_UNTRUSTED', 'authenticity check failed');
    }
    if (!record('authenticity', actions.authenticity, authError)) return outcome;

    // 3. Expiry.
    let expiryError: VouchError | undefined;
    if (sa.expiry && at.getTime() >= sa.expiry.getTime()) {
      expiryError = new VouchError('ERR_SIGNATURE_EXPIRED', `digital signature has expired on "${sa.expiry.toISOString()}"`);
    }
    if (!record('expiry', actions.expiry, expiryError)) return outcome;

    // 4. Authentic timestamp / signing time.
    let tsError: VouchError | undefined;
    if (actions.authenticTimestamp !== 'skip') {
      tsError = await authenticTimeError(env, input, at, verifyTimestamp);
    }
    if (!record('authenticTimestamp', actions.authenticTimestamp, tsError)) return outcome;

    // 5. Revocation (the plugin checks it when it has that capability).
    if (actions.revocation !== 'skip' && !pluginHas('SIGNATURE_VERIFIER.REVOCATION_CHECK')) {
      if (revocation) {
        let revError: VouchError | undefined;
        try {
          const opts: Parameters<RevocationChecker>[1] = { at, mode: 'code-signing' };
          if (sa.signingScheme === 'notary.x509.signingAuthority' && sa.authenticSigningTime) opts.signingTime = sa.authenticSigningTime;
          if (input.signal) opts.signal = input.signal;
          const r = await revocation(env.certificateChain, opts);
          if (r.result !== 'ok')
            revError =
              r.error ??
              new VouchError(r.result === 'revoked' ? 'ERR_CERT_REVOKED' : 'ERR_REVOCATION_UNKNOWN', `revocation status: ${r.result}`);
        } catch (e) {
          revError = toVouchError(e, 'ERR_REVOCATION_UNKNOWN', 'revocation check failed');
        }
        if (!record('revocation', actions.revocation, revError)) return outcome;
      } else {
        outcome.checks.push({ type: 'revocation', action: actions.revocation, result: 'skipped' });
      }
    } else if (actions.revocation === 'skip') {
      outcome.checks.push({ type: 'revocation', action: 'skip', result: 'skipped' });
    }

    // 5b. Verification plugin: verify-signature with the capabilities still needed.
    if (vp) {
      const caps = capabilitiesToVerify(vp, actions);
      // As notation-go: when the policy skips all the plugin would check, it is not invoked.
      if (caps.length > 0) {
        let res: Awaited<ReturnType<typeof runVerificationPlugin>>;
        try {
          res = await runVerificationPlugin(vp, env, {
            capabilities: caps,
            trustedIdentities: [...(input.statement.trustedIdentities ?? [])],
            ...(input.pluginConfig ? { pluginConfig: input.pluginConfig } : {}),
            ...(input.signal ? { signal: input.signal } : {}),
          });
        } catch (e) {
          record('integrity', 'enforce', toVouchError(e, 'ERR_VERIFICATION_INCONCLUSIVE', 'verification plugin failed'));
          return outcome;
        }
        if (res.trustedIdentity !== undefined && !record('trustedIdentity', actions.authenticity, res.trustedIdentity ?? undefined)) {
          return outcome;
        }
        if (res.revocation !== undefined && !record('revocation', actions.revocation, res.revocation ?? undefined)) return outcome;
        if (!record('integrity', 'enforce', assertPluginProcessedAttributes(vp, env.signedAttributes, res.processedAttributes))) {
          return outcome;
        }
      }
    }

    // 6. User metadata.
    if (input.userMetadata && Object.keys(input.userMetadata).length > 0) {
      const have = env.payload.targetArtifact.annotations ?? {};
      const missing = Object.entries(input.userMetadata).filter(([k, v]) => have[k] !== v);
      const err = missing.length
        ? new VouchError(
            'ERR_USER_METADATA_MISMATCH',
            `unable to find specified metadata in the signature: ${missing.map(([k, v]) => `${k}=${v}`).join(', ')}`,
            { details: { missing: Object.fromEntries(missing) } },
          )
        : undefined;
      if (!record('userMetadata', 'enforce', err)) return outcome;
    }
    return outcome;

    async function authenticTimeError(
      envelope: ParsedEnvelope,
      inp: SignatureInput,
      t: Date,
      mode: 'always' | 'afterCertExpiry',
    ): Promise<VouchError | undefined> {
      const chain = envelope.certificateChain;
      const s = envelope.signedAttributes;
      if (s.signingScheme === 'notary.x509.signingAuthority') {
        const ast = s.authenticSigningTime;
        if (!ast) return new VouchError('ERR_ENVELOPE_MALFORMED', 'authenticSigningTime is missing for the signingAuthority scheme');
        for (const c of chain) {
          if (ast < c.notBefore || ast > c.notAfter) {
            return new VouchError(
              'ERR_CERT_EXPIRED',
              `certificate "${c.subject}" was not valid when the digital signature was produced at ${ast.toISOString()}`,
            );
          }
        }
        return undefined;
      }
      const tsaStores = (inp.statement.trustStores ?? []).map((r) => parseTrustStoreReference(r)).filter((r) => r.type === 'tsa');
      const anyExpired = chain.some((c) => c.notAfter.getTime() < t.getTime());
      const triggered = tsaStores.length > 0 && (mode === 'always' || anyExpired);
      if (!triggered) {
        for (const c of chain) {
          if (t < c.notBefore)
            return new VouchError(
              'ERR_CERT_EXPIRED',
              `verification time is before certificate "${c.subject}" validity period, it will be valid from "${c.notBefore.toISOString()}"`,
            );
          if (t > c.notAfter)
            return new VouchError(
              'ERR_CERT_EXPIRED',
              `verification time is after certificate "${c.subject}" validity period, it was expired at "${c.notAfter.toISOString()}"`,
            );
        }
        return undefined;
      }
      const token = envelope.unsignedAttributes.timestampSignature;
      if (!token || token.length === 0) {
        return new VouchError(
          'ERR_TIMESTAMP_INVALID',
          'no timestamp countersignature was found in the signature envelope, and the trust policy requires one (it lists a "tsa" trust store)',
        );
      }
      try {
        const roots: Certificate[] = [];
        for (const r of tsaStores) roots.push(...(await storeCertificates('tsa', r.name, inp.signal)));
        const tsOpts: Parameters<TimestampVerifier>[1] = {
          signature: envelope.signature,
          trustedRoots: roots,
          signingChain: chain,
          now: t,
        };
        if (inp.signal) tsOpts.signal = inp.signal;
        const range = await timestamp(token, tsOpts);
        for (const c of chain) {
          if (range.notBefore < c.notBefore || range.notAfter > c.notAfter) {
            return new VouchError(
              'ERR_TIMESTAMP_INVALID',
              `timestamp [${range.notBefore.toISOString()}, ${range.notAfter.toISOString()}] is not within certificate "${c.subject}" validity period [${c.notBefore.toISOString()}, ${c.notAfter.toISOString()}]`,
            );
          }
        }
        // The TSA chain's revocation (no signing time): revoked or unknown fails the timestamp.
        if (revocation && range.tsaChain && range.tsaChain.length > 1) {
          const r = await revocation(range.tsaChain, { at: t, mode: 'timestamping', ...(inp.signal ? { signal: inp.signal } : {}) });
          if (r.result !== 'ok')
            return r.error ?? new VouchError('ERR_TIMESTAMP_INVALID', `timestamping certificate revocation status: ${r.result}`);
        }
        return undefined;
      } catch (e) {
        return toVouchError(e, 'ERR_TIMESTAMP_INVALID', 'timestamp verification failed');
      }
    }
  }

  async function verify(reference: string, options: VerifyCallOptions): Promise<VerifyResult> {
    const { repository, signal } = options;
    if (!repository)
      throw new VouchError('ERR_INVALID_ARGUMENT', 'verify needs a repository (an OCI layout, a remote registry or a memory repository)');
    assertUserMetadata(options.userMetadata);
    const maxAttempts = positive(options.maxSignatureAttempts, 'maxSignatureAttempts', defaultMax);
    const { scope, target, parsed } = splitReference(reference, options.scope);
    const statement = selectOciPolicy(policy, scope);
    const { level } = resolveVerificationLevel(statement.signatureVerification);

    const artifact = await repository.resolve(target, signal ? { signal } : undefined);
    if (parsed?.digest && parsed.digest !== artifact.digest) {
      throw new VouchError(
        'ERR_DIGEST_MISMATCH',
        `user input digest ${parsed.digest} does not match the resolved digest ${artifact.digest}`,
      );
    }
    const resolvedRef = parsed
      ? formatReference({ registry: parsed.registry, repository: parsed.repository, digest: artifact.digest })
      : `${scope}@${artifact.digest}`;
    const result: VerifyResult = {
      reference: resolvedRef,
      artifact: pick(artifact),
      policy: { name: statement.name, level: level as VerificationLevel },
      outcomes: [],
      warnings: [],
    };
    if (level === 'skip') return result;

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
          result.outcomes.push({ descriptor: pick(sigDesc), envelopeMediaType: 'unknown', checks: [], error });
          logger.warn(`skipping signature ${sigDesc.digest}: ${error.message}`, { code: error.code });
          continue;
        }
        const outcome = await verifySignature({
          envelope,
          envelopeMediaType: envDesc.mediaType,
          descriptor: pick(sigDesc),
          artifact,
          statement,
          ...(options.userMetadata ? { userMetadata: options.userMetadata } : {}),
          ...(options.pluginConfig ? { pluginConfig: options.pluginConfig } : {}),
          ...(signal ? { signal } : {}),
        });
        result.outcomes.push(outcome);
        if (!outcome.error) {
          result.signature = outcome;
          result.warnings = outcome.checks.filter((c) => c.result === 'failed' && c.error).map((c) => c.error!);
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
      {
        details,
      },
    );
  }

  return { verify, verifySignature };
}

function identityError(statement: SignatureInput['statement'], leaf: Certificate): VouchError | undefined {
  try {
    verifyTrustedIdentity(statement.trustedIdentities ?? [], leaf, { policyName: statement.name });
    return undefined;
  } catch (e) {
    return toVouchError(e, 'ERR_IDENTITY_UNTRUSTED', `signing certificate subject "${leaf.subject}" cannot be matched`);
  }
}

function splitReference(reference: string, scope: string | undefined): { scope: string; target: string; parsed?: Reference } {
  if (typeof reference !== 'string' || reference === '') throw new VouchError('ERR_INVALID_REFERENCE', 'empty artifact reference');
  if (scope !== undefined) {
    // Inside an OCI layout (or any repository given with an explicit scope): a tag or digest.
    const target = reference.startsWith('@') ? reference.slice(1) : reference;
    return { scope, target };
  }
  const parsed = parseReference(reference);
  const target = parsed.digest ?? parsed.tag;
  if (!target)
    throw new VouchError('ERR_INVALID_REFERENCE', `reference "${reference}" has no tag or digest: write ${reference}@sha256:<digest>`);
  return { scope: `${parsed.registry}/${parsed.repository}`, target, parsed };
}

/** JSON-safe view of an outcome (for error details and `--output json`). */
export function outcomeToJson(o: SignatureOutcome): Record<string, unknown> {
  return {
    signature: o.descriptor.digest,
    envelopeMediaType: o.envelopeMediaType,
    ...(o.signer
      ? {
          signer: {
            signingScheme: o.signer.signingScheme,
            signingTime: o.signer.signingTime?.toISOString(),
            expiry: o.signer.expiry?.toISOString(),
            subject: o.signer.certificateChain[0]?.subject,
          },
        }
      : {}),
    checks: o.checks.map((c) => ({ type: c.type, action: c.action, result: c.result, ...(c.error ? { error: c.error.toJSON() } : {}) })),
    ...(o.error ? { error: o.error.toJSON() } : {}),
  };
}

/** One-shot verification: `createVerifier(options).verify(reference, options)`. */
export async function verify(reference: string, options: VerifierConfig & VerifyCallOptions): Promise<VerifyResult> {
  return createVerifier(options).verify(reference, options);
}
