/**
 * Verify an image's cosign signatures and attestations in every registry form, as `cosign
 * verify` / `cosign verify-attestation` do, offline: the cryptography (signatures, Rekor SETs
 * and inclusion proofs, certificates, SCTs, RFC 3161 timestamps, identities) is
 * `@vouch/sigstore`'s; this module finds what to verify, checks cosign's claims (the
 * simple-signing digest, the statement subject, `-a` annotations, the predicate type) and
 * reports each signature's outcome.
 *
 * Fail closed, like `@vouch/notation`'s `verify`: the promise resolves only when at least one
 * signature verified, and rejects otherwise with a `VouchError` (`ERR_SIGNATURE_NOT_FOUND` when
 * there is none, `ERR_VERIFICATION_FAILED` when none verified) whose `details.outcomes` list every
 * signature tried. The resolved result lists every outcome too, failed ones included.
 */

import { type Descriptor, decodePem, isVouchError, VouchError, type VouchErrorCode } from '@vouch/core';
import { bytesEqual, fromUtf8, toBase64 } from '@vouch/core/internal';
import type { Repository } from '@vouch/registry';
import {
  type InTotoStatement,
  parseBundle,
  type SigstoreVerification,
  type VerifyPolicyOptions,
  verifyBundle,
  verifyCosignSignature,
} from '@vouch/sigstore';
import { COSIGN_SIGN_PREDICATE_TYPE, type CosignForm, type CosignKind, type FoundSignature, findCosignSignatures } from './formats.js';
import { checkSimpleSigningClaims, missingAnnotations, parseSimpleSigning } from './simple-signing.js';

/** Options shared by {@link verifyCosignSignatures} and {@link verifyCosignAttestations}. */
export interface VerifyCosignImageOptions extends VerifyPolicyOptions {
  /** The repository of the image. */
  repository: Repository;
  /** The image: a tag or digest in `repository` (resolved), or its manifest descriptor. */
  reference: string | Descriptor;
  /** Where signatures are stored (cosign's `COSIGN_REPOSITORY`, Kyverno's `repository`); default `repository`. */
  signatureRepository?: Repository;
  /** Forms to read (default: every form of the kind). */
  forms?: readonly CosignForm[];
  /** At most this many signatures are read (default 100). */
  maxSignatures?: number;
  /**
   * The signing certificate, given rather than read from the signature (cosign `--certificate`,
   * PEM): legacy signatures are verified with it; a bundle must carry this very certificate.
   */
  certificate?: string;
  signal?: AbortSignal;
}

/** Options of {@link verifyCosignSignatures}. */
export interface VerifyCosignSignaturesOptions extends VerifyCosignImageOptions {
  /**
   * Annotations every accepted signature must carry (cosign `-a k=v`, Kyverno `annotations`): in
   * the simple-signing `optional` section, or in a bundle statement's subject annotations.
   */
  annotations?: Readonly<Record<string, string>>;
  /** Check the claims (digest, annotations); default true. cosign `--check-claims=false` skips them (vouch then still checks the digest). */
  checkClaims?: boolean;
}

/** Options of {@link verifyCosignAttestations}. */
export interface VerifyCosignAttestationsOptions extends VerifyCosignImageOptions {
  /**
   * Keep only attestations of this predicate type (a URI, or one of cosign's `--type` names:
   * `custom`, `slsaprovenance`, `slsaprovenance02`, `slsaprovenance1`, `spdx`, `spdxjson`,
   * `cyclonedx`, `link`, `vuln`, `openvex`). Undefined: every predicate type.
   */
  predicateType?: string;
}

/** The image-signature claim a signature carried, once verified. */
export interface CosignClaim {
  /** `critical.identity.docker-reference` (legacy forms). */
  dockerReference?: string;
  /** The digest claimed: `docker-manifest-digest`, or the statement subject's. */
  digest: string;
  /** The simple-signing `optional` section, or the statement subject's annotations. */
  annotations: Record<string, unknown> | null;
  /** `cosign container image signature`, or the statement's predicate type. */
  type: string;
}

/** What happened to one signature or attestation. */
export interface CosignSignatureOutcome {
  form: CosignForm;
  kind: CosignKind;
  /** The manifest that holds it. */
  manifest: string;
  /** The layer that holds it. */
  layer?: string;
  verified: boolean;
  /** Why it did not verify. */
  error?: VouchError;
  /** What the verification proved (signer, times, log entries). */
  verification?: SigstoreVerification;
  /** Image signatures: the claim. */
  claim?: CosignClaim;
  /** Attestations: the in-toto statement. */
  statement?: InTotoStatement;
  /** Attestations: the DSSE envelope as JSON text (what `cosign verify-attestation` prints). */
  envelope?: string;
  /** Legacy signatures: the simple-signing payload bytes (what `cosign verify` prints, parsed). */
  payload?: Uint8Array;
}

/** The result of a verification that succeeded. */
export interface CosignVerifyResult {
  /** The image manifest verified. */
  subject: Descriptor;
  /** Every signature tried, in the order found. */
  outcomes: CosignSignatureOutcome[];
  /** Those that verified (at least one). */
  verified: CosignSignatureOutcome[];
}

/** cosign's `--type` names and the predicate type URIs they stand for. */
export const PREDICATE_TYPES: Readonly<Record<string, string>> = Object.freeze({
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  link: 'https://in-toto.io/Link/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
});

/** The predicate type URI of a cosign `--type` value (a name from {@link PREDICATE_TYPES}, or a URI as is). */
export function predicateTypeUri(type: string): string {
  return PREDICATE_TYPES[type] ?? type;
}

function failure(e: unknown): VouchError {
  if (isVouchError(e)) return e;
  return new VouchError('ERR_INTERNAL', `unexpected error while verifying: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

/** Errors that mean "could not decide" rather than "not trusted": they fail the call, not one signature. */
const INCONCLUSIVE: ReadonlySet<VouchErrorCode> = new Set(['ERR_ABORTED', 'ERR_NETWORK', 'ERR_TIMEOUT', 'ERR_INTERNAL']);

function policyOf(o: VerifyPolicyOptions): VerifyPolicyOptions {
  const { trust, identity, key, ignoreTlog, ignoreSct, tlogThreshold, ctlogThreshold, now } = o;
  return {
    trust,
    ...(identity !== undefined ? { identity } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(ignoreTlog !== undefined ? { ignoreTlog } : {}),
    ...(ignoreSct !== undefined ? { ignoreSct } : {}),
    ...(tlogThreshold !== undefined ? { tlogThreshold } : {}),
    ...(ctlogThreshold !== undefined ? { ctlogThreshold } : {}),
    ...(now !== undefined ? { now } : {}),
  };
}

function legacyInput(f: FoundSignature, given: string | undefined) {
  const certificate = given ?? f.certificate;
  return {
    ...(certificate ? { certificate } : {}),
    ...(f.chain ? { chain: f.chain } : {}),
    ...(f.rekorBundle ? { rekorBundle: f.rekorBundle } : {}),
    ...(f.rfc3161Timestamp ? { rfc3161Timestamp: f.rfc3161Timestamp } : {}),
  };
}

/** The annotations of the statement subject naming `digest` (cosign 3 puts `-a` there). */
function subjectAnnotations(payload: Uint8Array, digest: string): Record<string, unknown> | null {
  try {
    const doc = JSON.parse(fromUtf8(payload)) as { subject?: { digest?: Record<string, string>; annotations?: unknown }[] };
    const [alg, hex] = digest.split(':');
    const s = doc.subject?.find((x) => x.digest?.[alg!] === hex);
    const a = s?.annotations;
    return typeof a === 'object' && a !== null && !Array.isArray(a) ? (a as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function dsseContent(v: SigstoreVerification): { payload: Uint8Array; payloadType: string; statement?: InTotoStatement } {
  if (v.content.type !== 'dsse') {
    throw new VouchError('ERR_ENVELOPE_MALFORMED', 'the bundle holds a message signature, not a DSSE envelope of an in-toto statement');
  }
  return v.content;
}

function envelopeJson(c: { payload: Uint8Array; payloadType: string }, signatures: readonly { keyid?: string; sig: string }[]): string {
  return JSON.stringify({ payloadType: c.payloadType, payload: toBase64(c.payload), signatures });
}

/**
 * One signature's outcome: `check` fills it and throws why it fails; a failure that is not a
 * verdict (network, abort, internal error) fails the whole verification instead.
 */
async function settle(
  f: FoundSignature,
  kind: CosignKind,
  check: (out: CosignSignatureOutcome) => Promise<void>,
): Promise<CosignSignatureOutcome> {
  const out: CosignSignatureOutcome = {
    form: f.form,
    kind,
    manifest: f.manifest.digest,
    ...(f.layer ? { layer: f.layer.digest } : {}),
    verified: false,
  };
  try {
    if (f.error) throw f.error;
    await check(out);
    out.verified = true;
  } catch (e) {
    const err = failure(e);
    if (INCONCLUSIVE.has(err.code)) throw err;
    out.error = err;
  }
  return out;
}

async function verifySignatureEntry(
  f: FoundSignature,
  subject: Descriptor,
  o: VerifyCosignSignaturesOptions,
): Promise<CosignSignatureOutcome> {
  return settle(f, 'signature', async (out) => {
    if (f.form === 'bundle-referrer') {
      const bundle = parseBundle(f.bundle!);
      checkGivenCertificate(bundle.certificate?.der, o.certificate);
      const verification = await verifyBundle(bundle, { ...policyOf(o), digest: subject.digest });
      const content = dsseContent(verification);
      const type = content.statement?.predicateType;
      if (type !== COSIGN_SIGN_PREDICATE_TYPE) {
        throw new VouchError('ERR_ENVELOPE_MALFORMED', `the bundle is not an image signature: predicate type "${type ?? '(none)'}"`);
      }
      const annotations = subjectAnnotations(content.payload, subject.digest);
      out.verification = verification;
      out.claim = { digest: subject.digest, annotations, type };
      if (o.checkClaims !== false) {
        const missing = missingAnnotations(annotations, o.annotations);
        if (missing.length > 0) {
          throw new VouchError('ERR_USER_METADATA_MISMATCH', `missing or incorrect annotation: ${missing.join(', ')}`, {
            details: { missing },
          });
        }
      }
    } else {
      const payload = f.payload!;
      const verification = await verifyCosignSignature(
        { content: { type: 'message', payload, signature: f.signature! }, ...legacyInput(f, o.certificate) },
        policyOf(o),
      );
      out.verification = verification;
      out.payload = payload;
      const claim = parseSimpleSigning(payload);
      out.claim = {
        dockerReference: claim.dockerReference,
        digest: claim.dockerManifestDigest,
        annotations: claim.optional,
        type: claim.type,
      };
      // the digest is always checked (a signature for another image is never accepted)
      checkSimpleSigningClaims(claim, {
        digest: subject.digest,
        ...(o.checkClaims !== false && o.annotations ? { annotations: o.annotations } : {}),
      });
    }
  });
}

async function verifyAttestationEntry(
  f: FoundSignature,
  subject: Descriptor,
  o: VerifyCosignAttestationsOptions,
): Promise<CosignSignatureOutcome> {
  return settle(f, 'attestation', async (out) => {
    let verification: SigstoreVerification;
    let signatures: { keyid?: string; sig: string }[];
    if (f.form === 'bundle-referrer') {
      const bundle = parseBundle(f.bundle!);
      checkGivenCertificate(bundle.certificate?.der, o.certificate);
      if (bundle.content.type !== 'dsseEnvelope')
        throw new VouchError('ERR_ENVELOPE_MALFORMED', 'the attestation bundle holds no DSSE envelope');
      signatures = bundle.content.envelope.signatures.map((s) => ({ ...(s.keyid ? { keyid: s.keyid } : {}), sig: toBase64(s.sig) }));
      verification = await verifyBundle(bundle, { ...policyOf(o), digest: subject.digest });
    } else {
      const text = fromUtf8(f.payload!);
      signatures = parseEnvelopeSignatures(text);
      verification = await verifyCosignSignature(
        { content: { type: 'dsse', envelope: text }, ...legacyInput(f, o.certificate) },
        { ...policyOf(o), digest: subject.digest },
      );
    }
    const content = dsseContent(verification);
    out.verification = verification;
    if (content.statement) out.statement = content.statement;
    out.envelope = envelopeJson(content, signatures);
  });
}

function parseEnvelopeSignatures(text: string): { keyid?: string; sig: string }[] {
  try {
    const doc = JSON.parse(text) as { signatures?: { keyid?: unknown; sig?: unknown }[] };
    return (doc.signatures ?? []).map((s) => ({ ...(typeof s.keyid === 'string' ? { keyid: s.keyid } : {}), sig: String(s.sig ?? '') }));
  } catch {
    return [];
  }
}

/** The DER of the first CERTIFICATE block of `pem`. */
const certificateDer = (pem: string): Uint8Array | undefined => decodePem(pem).find((b) => b.label === 'CERTIFICATE')?.der;

/**
 * With `--certificate`, a bundle must carry that certificate (`carried`: the bundle's signing
 * certificate, DER or PEM; undefined when it has none). Images and blobs alike.
 */
export function checkGivenCertificate(carried: Uint8Array | string | undefined, given: string | undefined): void {
  if (given === undefined) return;
  const der = certificateDer(given);
  if (!der) throw new VouchError('ERR_CERT_INVALID', 'the given certificate is not a PEM CERTIFICATE');
  const carriedDer = typeof carried === 'string' ? certificateDer(carried) : carried;
  if (!carriedDer || !bytesEqual(carriedDer, der)) {
    throw new VouchError('ERR_CERT_UNTRUSTED', 'the bundle was not signed with the given certificate (--certificate)');
  }
}

/** Resolve the image and find its signatures (or attestations). */
async function find(o: VerifyCosignImageOptions, kind: CosignKind): Promise<{ subject: Descriptor; found: FoundSignature[] }> {
  const subject = typeof o.reference === 'string' ? await o.repository.resolve(o.reference, { signal: o.signal }) : o.reference;
  const found = await findCosignSignatures({
    repository: o.repository,
    subject,
    kind,
    ...(o.signatureRepository ? { signatureRepository: o.signatureRepository } : {}),
    ...(o.forms ? { forms: o.forms } : {}),
    ...(o.maxSignatures !== undefined ? { maxSignatures: o.maxSignatures } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return { subject, found };
}

function firstReason(outcomes: readonly CosignSignatureOutcome[]): string {
  return outcomes.find((x) => x.error)?.error?.message ?? 'no signature verified';
}

function outcomeDetails(outcomes: readonly CosignSignatureOutcome[]): Record<string, unknown>[] {
  return outcomes.map(outcomeToJson);
}

/** A JSON-safe view of an outcome (for `--output json` and error details). */
export function outcomeToJson(o: CosignSignatureOutcome): Record<string, unknown> {
  const v = o.verification;
  return {
    form: o.form,
    kind: o.kind,
    manifest: o.manifest,
    ...(o.layer ? { layer: o.layer } : {}),
    verified: o.verified,
    ...(o.error ? { error: { code: o.error.code, message: o.error.message } } : {}),
    ...(v
      ? {
          signer:
            v.signer.type === 'key'
              ? { type: 'key', keyType: v.signer.key.type, ...(v.signer.hint ? { hint: v.signer.hint } : {}) }
              : {
                  type: 'certificate',
                  subjectAlternativeNames: v.signer.subjectAlternativeNames,
                  ...(v.signer.extensions.issuer ? { issuer: v.signer.extensions.issuer } : {}),
                },
          times: v.times.map((t) => ({ source: t.source, time: t.time.toISOString() })),
          tlogEntries: v.tlogEntries.map((t) => ({ logIndex: t.logIndex, kind: t.kind, integratedTime: t.integratedTime, proof: t.proof })),
          warnings: v.warnings.map((w) => ({ code: w.code, message: w.message })),
        }
      : {}),
    ...(o.claim ? { claim: o.claim } : {}),
    ...(o.statement ? { predicateType: o.statement.predicateType } : {}),
  };
}

/**
 * Verify the cosign signatures of an image (every form: bundle referrers, the `.sig` tag, OCI 1.1
 * referrers). Resolves when at least one verified; see the module doc for failures.
 * @example
 * ```ts
 * import { fetchLike } from '@vouch/core';
 * import { verifyCosignSignatures } from '@vouch/cosign';
 * import { createRegistryClient, remoteRepository } from '@vouch/registry';
 * import { trustMaterialFromPem } from '@vouch/sigstore';
 *
 * const repository = remoteRepository(createRegistryClient({ fetch: fetchLike() }), 'registry.example.com/app');
 * const { verified } = await verifyCosignSignatures({
 *   repository,
 *   reference: 'v1.2.3',
 *   trust: trustMaterialFromPem({ publicKeys: cosignPub }),
 *   key: cosignPub,
 *   ignoreTlog: true,
 * });
 * ```
 */
export async function verifyCosignSignatures(options: VerifyCosignSignaturesOptions): Promise<CosignVerifyResult> {
  const { subject, found } = await find(options, 'signature');
  // a bundle whose manifest does not say its kind is an image signature only if its statement says so
  const candidates = found.filter((f) => f.kind !== 'attestation');
  if (candidates.length === 0) {
    throw new VouchError('ERR_SIGNATURE_NOT_FOUND', 'no signatures found', { details: { subject: subject.digest } });
  }
  const outcomes = await Promise.all(candidates.map((f) => verifySignatureEntry(f, subject, options)));
  const verified = outcomes.filter((x) => x.verified);
  if (verified.length === 0) {
    throw new VouchError('ERR_VERIFICATION_FAILED', `no matching signatures: ${firstReason(outcomes)}`, {
      details: { subject: subject.digest, outcomes: outcomeDetails(outcomes) },
    });
  }
  return { subject, outcomes, verified };
}

/**
 * Verify the cosign attestations of an image (bundle referrers and the `.att` tag), keeping those
 * of `predicateType`. Resolves when at least one verified.
 */
export async function verifyCosignAttestations(options: VerifyCosignAttestationsOptions): Promise<CosignVerifyResult> {
  const { subject, found } = await find(options, 'attestation');
  if (found.length === 0) {
    throw new VouchError('ERR_SIGNATURE_NOT_FOUND', 'no attestations found', { details: { subject: subject.digest } });
  }
  const all = await Promise.all(found.map((f) => verifyAttestationEntry(f, subject, options)));
  // bundles of image signatures that did not say so in their manifest are not attestations
  const outcomes = all.filter((x) => x.statement?.predicateType !== COSIGN_SIGN_PREDICATE_TYPE);
  const wanted = options.predicateType === undefined ? undefined : predicateTypeUri(options.predicateType);
  const verified = outcomes.filter((x) => x.verified);
  if (verified.length === 0) {
    throw new VouchError('ERR_VERIFICATION_FAILED', `no matching attestations: ${firstReason(outcomes)}`, {
      details: { subject: subject.digest, outcomes: outcomeDetails(outcomes) },
    });
  }
  if (wanted !== undefined) {
    const matching = verified.filter((x) => x.statement?.predicateType === wanted);
    if (matching.length === 0) {
      const types = [...new Set(verified.map((x) => x.statement?.predicateType ?? '(none)'))].join(', ');
      throw new VouchError(
        'ERR_VERIFICATION_FAILED',
        `none of the attestations matched the predicate type: ${options.predicateType}, found: ${types}`,
        { details: { subject: subject.digest, predicateType: wanted, outcomes: outcomeDetails(outcomes) } },
      );
    }
    return { subject, outcomes, verified: matching };
  }
  return { subject, outcomes, verified };
}
