/**
 * The Notary per-signature verification algorithm, shared by OCI and blob verification: one
 * function per check, each returning the check's error or undefined, run in the order of the
 * {@link SIGNATURE_CHECKS} table with the action the trust policy statement gives its type.
 * Internal: callers reach it through `Verifier.verifySignature` and the blob verifier.
 */
import { type Clock, type Descriptor, fetchLike, type Logger, VouchError } from '@vouch/core';
import { noopLogger, systemClock, toVouchError } from '@vouch/core/internal';
import { codecForMediaType, type EnvelopeCodec, type ParsedEnvelope } from '@vouch/envelope';
import { assertCriticalAttributesProcessed } from '@vouch/envelope/internal';
import {
  parseTrustStoreReference,
  resolveVerificationLevel,
  type TrustPolicyStatement,
  type TrustStore,
  type TrustStoreType,
  verifyTrustedIdentity,
} from '@vouch/trust-policy';
import { type Certificate, validateSigningChain } from '@vouch/x509';
import {
  assertPluginProcessedAttributes,
  capabilitiesToVerify,
  type PluginResolver,
  resolveVerificationPlugin,
  runVerificationPlugin,
  type VerificationPlugin,
  type VerificationPluginResult,
  verificationPluginOf,
} from '../plugin-verify.js';
import type { CheckOutcome, SignatureOutcome, SignerInfo, ValidationAction, ValidationType } from '../types.js';
import { userMetadataMismatch } from '../user-metadata.js';
import { ocspCrlRevocation, type RevocationChecker, rfc3161Timestamp, type TimestampVerifier } from './adapters.js';

/** One signature to verify against a policy statement (see `Verifier.verifySignature`). */
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

/** What the per-signature verifier needs besides the signature: trust material and adapters. */
export interface SignatureVerifierConfig {
  trustStore: TrustStore;
  envelopes: readonly EnvelopeCodec[];
  /** Default: {@link ocspCrlRevocation} over `globalThis.fetch` when there is one; `false` skips revocation. */
  revocation?: RevocationChecker | false;
  /** Default {@link rfc3161Timestamp}. */
  timestamp?: TimestampVerifier;
  plugins?: PluginResolver;
  now?: Clock;
  logger?: Logger;
}

/** Verifies one signature; never throws for a policy failure (the outcome's `error` says why). */
export type SignatureVerifier = (input: SignatureInput) => Promise<SignatureOutcome>;

/** The adapters and trust material every check may use, resolved once per verifier. */
interface Deps {
  readonly envelopes: readonly EnvelopeCodec[];
  readonly revocation: RevocationChecker | false;
  readonly timestamp: TimestampVerifier;
  readonly plugins: PluginResolver | undefined;
  /** The certificates of one trust store (cached per store). */
  storeCertificates(type: TrustStoreType, name: string, signal?: AbortSignal): Promise<readonly Certificate[]>;
  /** The SHA-256 fingerprints of the certificates in a statement's trust stores of one type (cached per statement). */
  trustAnchors(statement: SignatureInput['statement'], type: TrustStoreType, signal?: AbortSignal): Promise<ReadonlySet<string>>;
}

/** One signature being verified: what the checks read, and what earlier checks found. */
interface SignatureRun {
  readonly deps: Deps;
  readonly input: SignatureInput;
  /** The verification time. */
  readonly at: Date;
  readonly actions: Readonly<Record<ValidationType, ValidationAction>>;
  readonly verifyTimestamp: 'always' | 'afterCertExpiry';
  readonly outcome: SignatureOutcome;
  /** Set by {@link envelopeIntegrity}; every later check runs only when it is set. */
  env?: ParsedEnvelope;
  /** Set by {@link envelopeIntegrity}: the signature names a verification plugin. */
  namesPlugin?: boolean;
  /** Set by {@link pluginDiscovery} when the signature names a verification plugin. */
  plugin?: VerificationPlugin;
  /** Set by {@link verificationPlugin}: what the plugin decided. */
  pluginResult?: VerificationPluginResult;
}

/** A check: the error to record for it, or undefined when it passed. */
type Check = (run: SignatureRun) => VouchError | undefined | Promise<VouchError | undefined>;

interface CheckOptions {
  /** Whether the check applies to this signature: false records nothing, `'skipped'` records it as skipped. */
  when?: (run: SignatureRun) => boolean | 'skipped';
  /** Record only a failure (a step of a check whose pass another row records). */
  quiet?: true;
}

/** A row of the check table: the type recorded, the validation type whose policy action applies, the check. */
type CheckRow = readonly [type: CheckOutcome['type'], action: ValidationType | 'enforce', check: Check, options?: CheckOptions];

const SCHEME_STORE: Record<string, TrustStoreType> = {
  'notary.x509': 'ca',
  'notary.x509.signingAuthority': 'signingAuthority',
};

const envelopeOf = (run: SignatureRun): ParsedEnvelope => run.env!;
const pluginHas = (run: SignatureRun, capability: string): boolean => run.plugin?.capabilities.some((c) => c === capability) === true;

/** Integrity, 1: a supported envelope that parses, whose signature verifies and whose chain is well formed. */
async function envelopeIntegrity(run: SignatureRun): Promise<VouchError | undefined> {
  const { input, outcome } = run;
  let codec: EnvelopeCodec;
  try {
    codec = codecForMediaType(input.envelopeMediaType, run.deps.envelopes);
  } catch (e) {
    return toVouchError(e, 'ERR_ENVELOPE_UNSUPPORTED', 'unsupported signature envelope');
  }
  let env: ParsedEnvelope;
  try {
    env = codec.parse(input.envelope);
    // Independent checks, run concurrently; the envelope signature's failure is reported first.
    const [sig, chain] = await Promise.allSettled([codec.verifyIntegrity(env), validateSigningChain(env.certificateChain)]);
    if (sig.status === 'rejected') throw sig.reason;
    if (chain.status === 'rejected') throw chain.reason;
  } catch (e) {
    return toVouchError(e, 'ERR_SIGNATURE_INTEGRITY', 'signature integrity check failed');
  }
  run.env = env;
  const sa = env.signedAttributes;
  run.namesPlugin = verificationPluginOf(sa) !== undefined;
  const signer: SignerInfo = { signingScheme: sa.signingScheme, certificateChain: env.certificateChain, signatureAlgorithm: env.algorithm };
  if (sa.signingTime) signer.signingTime = sa.signingTime;
  if (sa.authenticSigningTime) signer.authenticSigningTime = sa.authenticSigningTime;
  if (sa.expiry) signer.expiry = sa.expiry;
  if (env.unsignedAttributes.signingAgent !== undefined) signer.signingAgent = env.unsignedAttributes.signingAgent;
  outcome.signer = signer;
  outcome.userMetadata = { ...(env.payload.targetArtifact.annotations ?? {}) };
  return undefined;
}

/** Integrity, 2: the payload describes the artifact (OCI: mediaType, digest, size; blobs: see `compareArtifact`). */
function payloadBinding(run: SignatureRun): VouchError | undefined {
  return (run.input.compareArtifact ?? compareOciArtifact)(envelopeOf(run).payload.targetArtifact, run.input.artifact);
}

/** Integrity, 3: every critical attribute is processed (spec-strict; GAP in notation-go, which ignores unknown ones). */
function criticalAttributes(run: SignatureRun): VouchError | undefined {
  try {
    assertCriticalAttributesProcessed(envelopeOf(run).signedAttributes, []);
    return undefined;
  } catch (e) {
    return toVouchError(e, 'ERR_ENVELOPE_MALFORMED', 'unprocessed critical attribute');
  }
}

/**
 * Integrity, 3 for a signature naming a verification plugin (which then processes its other
 * critical attributes): discovery, where any failure is fatal whatever the level.
 */
async function pluginDiscovery(run: SignatureRun): Promise<VouchError | undefined> {
  const { input } = run;
  try {
    run.plugin = await resolveVerificationPlugin(envelopeOf(run).signedAttributes, {
      ...(run.deps.plugins ? { plugins: run.deps.plugins } : {}),
      ...(input.pluginConfig ? { pluginConfig: input.pluginConfig } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    return undefined;
  } catch (e) {
    return toVouchError(e, 'ERR_VERIFICATION_INCONCLUSIVE', 'verification plugin discovery failed');
  }
}

/** Authenticity: the chain ends in a certificate of the scheme's trust stores, and the leaf matches a trusted identity. */
async function authenticity(run: SignatureRun): Promise<VouchError | undefined> {
  const { input } = run;
  const env = envelopeOf(run);
  const storeType = SCHEME_STORE[env.signedAttributes.signingScheme]!;
  try {
    const anchors = await run.deps.trustAnchors(input.statement, storeType, input.signal);
    if (!env.certificateChain.some((c) => anchors.has(c.sha256Fingerprint))) {
      return new VouchError(
        'ERR_CERT_UNTRUSTED',
        `signature is not produced by a trusted signer: no certificate of the chain (leaf "${env.certificateChain[0]!.subject}") is in the "${storeType}" trust stores of policy "${input.statement.name}"`,
      );
    }
    // The plugin decides the trusted identity when it has that capability.
    if (pluginHas(run, 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY')) return undefined;
    return identityError(input.statement, env.certificateChain[0]!);
  } catch (e) {
    return toVouchError(e, 'ERR_CERT_UNTRUSTED', 'authenticity check failed');
  }
}

/** The certificates of the statement's trust stores of one type: the scheme's trust anchors. */
async function trustedCertificates(
  storeCertificates: Deps['storeCertificates'],
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
  if (out.length === 0) {
    throw new VouchError('ERR_TRUST_STORE_NOT_FOUND', `the "${type}" trust stores of policy "${statement.name}" hold no certificates`);
  }
  return out;
}

function identityError(statement: SignatureInput['statement'], leaf: Certificate): VouchError | undefined {
  try {
    verifyTrustedIdentity(statement.trustedIdentities ?? [], leaf, { policyName: statement.name });
    return undefined;
  } catch (e) {
    return toVouchError(e, 'ERR_IDENTITY_UNTRUSTED', `signing certificate subject "${leaf.subject}" cannot be matched`);
  }
}

/** Expiry: the signature's own expiry (signed attribute) has not passed. */
function expiry(run: SignatureRun): VouchError | undefined {
  const exp = envelopeOf(run).signedAttributes.expiry;
  if (exp && run.at.getTime() >= exp.getTime()) {
    return new VouchError('ERR_SIGNATURE_EXPIRED', `digital signature has expired on "${exp.toISOString()}"`);
  }
  return undefined;
}

/**
 * Authentic timestamp: the signing chain was valid when the signature was made — at the
 * authentic signing time (signingAuthority scheme), at the RFC 3161 timestamp when the policy
 * lists a `tsa` store (always, or after a certificate expired with `afterCertExpiry`), else now.
 */
function authenticTimestamp(run: SignatureRun): VouchError | undefined | Promise<VouchError | undefined> {
  const { input, at: t } = run;
  const env = envelopeOf(run);
  const chain = env.certificateChain;
  const s = env.signedAttributes;
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
  const tsaStores = (input.statement.trustStores ?? []).map((r) => parseTrustStoreReference(r)).filter((r) => r.type === 'tsa');
  const anyExpired = chain.some((c) => c.notAfter.getTime() < t.getTime());
  const triggered = tsaStores.length > 0 && (run.verifyTimestamp === 'always' || anyExpired);
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
  return timestampCountersignature(run, tsaStores);
}

/** The RFC 3161 countersignature: present, trusted by the `tsa` stores, within the chain's validity, its TSA chain not revoked. */
async function timestampCountersignature(run: SignatureRun, tsaStores: readonly { name: string }[]): Promise<VouchError | undefined> {
  const { input, at: t, deps } = run;
  const env = envelopeOf(run);
  const chain = env.certificateChain;
  const token = env.unsignedAttributes.timestampSignature;
  if (!token || token.length === 0) {
    return new VouchError(
      'ERR_TIMESTAMP_INVALID',
      'no timestamp countersignature was found in the signature envelope, and the trust policy requires one (it lists a "tsa" trust store)',
    );
  }
  try {
    const roots: Certificate[] = [];
    for (const r of tsaStores) roots.push(...(await deps.storeCertificates('tsa', r.name, input.signal)));
    const tsOpts: Parameters<TimestampVerifier>[1] = { signature: env.signature, trustedRoots: roots, signingChain: chain, now: t };
    if (input.signal) tsOpts.signal = input.signal;
    const range = await deps.timestamp(token, tsOpts);
    for (const c of chain) {
      if (range.notBefore < c.notBefore || range.notAfter > c.notAfter) {
        return new VouchError(
          'ERR_TIMESTAMP_INVALID',
          `timestamp [${range.notBefore.toISOString()}, ${range.notAfter.toISOString()}] is not within certificate "${c.subject}" validity period [${c.notBefore.toISOString()}, ${c.notAfter.toISOString()}]`,
        );
      }
    }
    // The TSA chain's revocation (no signing time): revoked or unknown fails the timestamp.
    if (deps.revocation && range.tsaChain && range.tsaChain.length > 1) {
      const r = await deps.revocation(range.tsaChain, { at: t, mode: 'timestamping', ...(input.signal ? { signal: input.signal } : {}) });
      if (r.result !== 'ok')
        return r.error ?? new VouchError('ERR_TIMESTAMP_INVALID', `timestamping certificate revocation status: ${r.result}`);
    }
    return undefined;
  } catch (e) {
    return toVouchError(e, 'ERR_TIMESTAMP_INVALID', 'timestamp verification failed');
  }
}

/** Revocation of the signing chain (OCSP/CRL through the configured checker). */
async function revocation(run: SignatureRun): Promise<VouchError | undefined> {
  const { input } = run;
  const env = envelopeOf(run);
  const sa = env.signedAttributes;
  try {
    const opts: Parameters<RevocationChecker>[1] = { at: run.at, mode: 'code-signing' };
    if (sa.signingScheme === 'notary.x509.signingAuthority' && sa.authenticSigningTime) opts.signingTime = sa.authenticSigningTime;
    if (input.signal) opts.signal = input.signal;
    const r = await (run.deps.revocation as RevocationChecker)(env.certificateChain, opts);
    if (r.result === 'ok') return undefined;
    return (
      r.error ?? new VouchError(r.result === 'revoked' ? 'ERR_CERT_REVOKED' : 'ERR_REVOCATION_UNKNOWN', `revocation status: ${r.result}`)
    );
  } catch (e) {
    return toVouchError(e, 'ERR_REVOCATION_UNKNOWN', 'revocation check failed');
  }
}

/**
 * Revocation applies unless the verification plugin checks it (the policy's `skip` is still
 * recorded); without a checker (`revocation: false`) it is recorded as skipped.
 */
function revocationApplies(run: SignatureRun): boolean | 'skipped' {
  if (run.actions.revocation === 'skip') return true;
  if (pluginHas(run, 'SIGNATURE_VERIFIER.REVOCATION_CHECK')) return false;
  return run.deps.revocation ? true : 'skipped';
}

/** The verification plugin's `verify-signature`, with the capabilities the policy still needs; a plugin that cannot answer makes the signature fail. */
async function verificationPlugin(run: SignatureRun): Promise<VouchError | undefined> {
  const { input } = run;
  const plugin = run.plugin!;
  try {
    run.pluginResult = await runVerificationPlugin(plugin, envelopeOf(run), {
      capabilities: capabilitiesToVerify(plugin, run.actions),
      trustedIdentities: [...(input.statement.trustedIdentities ?? [])],
      ...(input.pluginConfig ? { pluginConfig: input.pluginConfig } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
    });
    return undefined;
  } catch (e) {
    return toVouchError(e, 'ERR_VERIFICATION_INCONCLUSIVE', 'verification plugin failed');
  }
}

/** As notation-go: when the policy skips all the plugin would check, it is not invoked. */
const pluginHasWork = (run: SignatureRun): boolean => run.plugin !== undefined && capabilitiesToVerify(run.plugin, run.actions).length > 0;

/** The plugin's TRUSTED_IDENTITY verdict. */
const pluginTrustedIdentity: Check = (run) => run.pluginResult!.trustedIdentity ?? undefined;

/** The plugin's REVOCATION_CHECK verdict. */
const pluginRevocation: Check = (run) => run.pluginResult!.revocation ?? undefined;

/** Integrity after the plugin: every critical attribute processed by vouch or by the plugin. */
const pluginProcessedAttributes: Check = (run) =>
  assertPluginProcessedAttributes(run.plugin!, envelopeOf(run).signedAttributes, run.pluginResult!.processedAttributes);

/** User metadata: every required key/value is in the signed payload annotations. */
const userMetadata: Check = (run) => userMetadataMismatch(run.input.userMetadata!, envelopeOf(run).payload.targetArtifact.annotations);

const QUIET: CheckOptions = { quiet: true };

/**
 * The per-signature algorithm of the Notary trust-policy specification as a table, in the
 * order the checks run: integrity (always enforced), authenticity, expiry, authentic timestamp,
 * revocation, then the verification plugin's verdicts and user metadata. Each row: the check
 * type recorded in the outcome, the validation type whose action (from the level table,
 * `VERIFICATION_LEVELS` in @vouch/trust-policy, and the statement's overrides) applies, the
 * check. A failed check whose action is `enforce` stops the run and fails the signature; `log`
 * records it as a warning; `skip` records it as skipped without running it.
 */
export const SIGNATURE_CHECKS: readonly CheckRow[] = [
  ['integrity', 'integrity', envelopeIntegrity, QUIET],
  ['integrity', 'integrity', payloadBinding],
  ['integrity', 'integrity', criticalAttributes, { quiet: true, when: (run) => !run.namesPlugin }],
  ['integrity', 'integrity', pluginDiscovery, { quiet: true, when: (run) => run.namesPlugin === true }],
  ['authenticity', 'authenticity', authenticity],
  ['expiry', 'expiry', expiry],
  ['authenticTimestamp', 'authenticTimestamp', authenticTimestamp],
  ['revocation', 'revocation', revocation, { when: revocationApplies }],
  ['integrity', 'integrity', verificationPlugin, { quiet: true, when: pluginHasWork }],
  ['trustedIdentity', 'authenticity', pluginTrustedIdentity, { when: (run) => run.pluginResult?.trustedIdentity !== undefined }],
  ['revocation', 'revocation', pluginRevocation, { when: (run) => run.pluginResult?.revocation !== undefined }],
  ['integrity', 'integrity', pluginProcessedAttributes, { when: (run) => run.pluginResult !== undefined }],
  ['userMetadata', 'enforce', userMetadata, { when: (run) => Object.keys(run.input.userMetadata ?? {}).length > 0 }],
];

/**
 * The per-signature verifier (policy-free: each call names its statement). Trust-store
 * certificates are cached per store; failures are not, so a store fixed while a controller
 * runs is picked up.
 *
 * @throws VouchError ERR_INVALID_ARGUMENT without any envelope codec.
 */
export function createSignatureVerifier(config: SignatureVerifierConfig): SignatureVerifier {
  const envelopes = config.envelopes ?? [];
  if (envelopes.length === 0) throw new VouchError('ERR_INVALID_ARGUMENT', 'a verifier needs at least one envelope codec (jws or cose)');
  const now = config.now ?? systemClock;
  const logger = config.logger ?? noopLogger;
  const storeCache = new Map<string, Promise<readonly Certificate[]>>();

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

  const anchorCache = new Map<string, Promise<ReadonlySet<string>>>();
  function trustAnchors(statement: SignatureInput['statement'], type: TrustStoreType, signal?: AbortSignal): Promise<ReadonlySet<string>> {
    const key = `${type}\u0000${statement.name}\u0000${(statement.trustStores ?? []).join('\u0000')}`;
    let p = anchorCache.get(key);
    if (!p) {
      if (anchorCache.size >= 256) anchorCache.clear(); // statements come from a policy; a caller inventing them stays bounded
      p = trustedCertificates(storeCertificates, statement, type, signal).then((certs) => new Set(certs.map((c) => c.sha256Fingerprint)));
      anchorCache.set(key, p);
      p.catch(() => anchorCache.delete(key));
    }
    return p;
  }

  const deps: Deps = {
    envelopes,
    revocation: config.revocation ?? (typeof globalThis.fetch === 'function' ? ocspCrlRevocation({ fetch: fetchLike() }) : false),
    timestamp: config.timestamp ?? rfc3161Timestamp,
    plugins: config.plugins,
    storeCertificates,
    trustAnchors,
  };

  return async function verifySignature(input: SignatureInput): Promise<SignatureOutcome> {
    const { level, actions, verifyTimestamp } = resolveVerificationLevel(input.statement.signatureVerification);
    const outcome: SignatureOutcome = { descriptor: input.descriptor, envelopeMediaType: input.envelopeMediaType, checks: [] };
    if (level === 'skip') return outcome;
    const run: SignatureRun = { deps, input, at: now(), actions, verifyTimestamp, outcome };
    for (const [type, actionOf, check, options] of SIGNATURE_CHECKS) {
      const applies = options?.when ? options.when(run) : true;
      if (applies === false) continue;
      const action: ValidationAction = actionOf === 'enforce' ? 'enforce' : actions[actionOf];
      if (action === 'skip' || applies === 'skipped') {
        outcome.checks.push({ type, action, result: 'skipped' });
        continue;
      }
      const pending = check(run);
      const error = pending instanceof Promise ? await pending : pending;
      if (!error) {
        if (!options?.quiet) outcome.checks.push({ type, action, result: 'passed' });
        continue;
      }
      outcome.checks.push({ type, action, result: 'failed', error });
      if (action === 'enforce') {
        outcome.error = error;
        return outcome;
      }
      logger.warn(`${type} check failed but is only logged by policy "${input.statement.name}": ${error.message}`, { code: error.code });
    }
    return outcome;
  };
}

/** Match on mediaType, digest and size (the OCI payload binding). */
export function compareOciArtifact(payload: Descriptor, artifact: Descriptor): VouchError | undefined {
  if (payload.mediaType === artifact.mediaType && payload.digest === artifact.digest && payload.size === artifact.size) return undefined;
  return new VouchError(
    'ERR_ARTIFACT_MISMATCH',
    `content descriptor mismatch: the signature is for ${payload.digest} (${payload.mediaType}, ${payload.size} bytes), not for ${artifact.digest} (${artifact.mediaType}, ${artifact.size} bytes)`,
    { details: { signed: descriptorOf(payload), artifact: descriptorOf(artifact) } },
  );
}

/** mediaType, digest and size of a descriptor (no annotations, no extra fields). */
export function descriptorOf(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

/** The failures of checks whose action is `log`: a result's `warnings`. */
export function warningsOf(outcome: SignatureOutcome): VouchError[] {
  return outcome.checks.filter((c) => c.result === 'failed' && c.error).map((c) => c.error!);
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
