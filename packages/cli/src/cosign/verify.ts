/**
 * `vouch cosign verify` and `vouch cosign verify-attestation`: cosign's verbs, offline. Text
 * output as cosign's (the check list on stderr, the verified claims as JSON on stdout);
 * `--output json` gives vouch's per-signature outcomes. Exit codes as cosign's: 0 verified,
 * 10 no signature found, 11 image tag not found, 12 no matching signature, 1 otherwise.
 */
import { type Descriptor, isVouchError, VouchError } from '@vouch/core';
import {
  type CosignSignatureOutcome,
  type CosignVerifyResult,
  cosignOutcomeToJson as outcomeToJson,
  verifyCosignAttestations,
  verifyCosignSignatures,
} from '@vouch/cosign';
import type { Repository } from '@vouch/registry';
import type { Opts } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { openCosignImage } from './registry.js';
import { cosignPolicy } from './trust.js';

/** `-a k=v` flags as a map (cosign: split at the first `=`). */
export function annotationFlags(values: readonly string[] | undefined): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`unable to parse annotation: ${v}`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** cosign's exit codes for verification errors. */
export function cosignExitCode(e: unknown): number | undefined {
  if (!isVouchError(e)) return undefined;
  if (e.code === 'ERR_SIGNATURE_NOT_FOUND' && e.details?.kind !== 'attestation') return 10;
  if (e.code === 'ERR_REGISTRY_NOT_FOUND' && e.details?.imageTag === true) return 11;
  if (e.code === 'ERR_VERIFICATION_FAILED' && e.details?.kind === 'signature') return 12;
  return undefined;
}

function flagged(e: unknown, details: Record<string, unknown>): unknown {
  if (!isVouchError(e)) return e;
  return new VouchError(e.code, e.message, { cause: e.cause ?? e, details: { ...(e.details ?? {}), ...details } });
}

async function resolveImage(repository: Repository, reference: string, display: string): Promise<Descriptor> {
  try {
    return await repository.resolve(reference);
  } catch (e) {
    if (isVouchError(e) && e.code === 'ERR_REGISTRY_NOT_FOUND') {
      throw new VouchError('ERR_REGISTRY_NOT_FOUND', `image tag not found: ${display}: ${e.message}`, {
        cause: e,
        details: { ...(e.details ?? {}), imageTag: true },
      });
    }
    throw e;
  }
}

/** cosign's stderr header of a successful verification. */
function header(ctx: CliContext, display: string, keyed: boolean, result: CosignVerifyResult): void {
  ctx.warn('');
  ctx.warn(`Verification for ${display} --`);
  ctx.warn('The following checks were performed on each of these signatures:');
  ctx.warn('  - The cosign claims were validated');
  if (result.verified.some((o) => (o.verification?.tlogEntries.length ?? 0) > 0)) {
    ctx.warn('  - Existence of the claims in the transparency log was verified offline');
  }
  ctx.warn(
    keyed
      ? '  - The signatures were verified against the specified public key'
      : '  - The code-signing certificate was verified using trusted certificate authority certificates',
  );
}

/** What `cosign verify` prints for one verified image signature (its SimpleContainerImage). */
function claimJson(o: CosignSignatureOutcome, display: string): Record<string, unknown> {
  const c = o.claim!;
  const optional: Record<string, unknown> | null = c.annotations ? { ...c.annotations } : o.form === 'bundle-referrer' ? {} : null;
  const signer = o.verification?.signer;
  let out = optional;
  if (signer?.type === 'certificate') {
    out = { ...(optional ?? {}) };
    if (signer.subjectAlternativeNames[0] !== undefined) out.Subject = signer.subjectAlternativeNames[0];
    if (signer.extensions.issuer) {
      out.Issuer = signer.extensions.issuer;
      out['1.3.6.1.4.1.57264.1.1'] = signer.extensions.issuer;
    }
  }
  return {
    critical: {
      identity: { 'docker-reference': c.dockerReference ?? display },
      image: { 'docker-manifest-digest': c.digest },
      type: c.type,
    },
    optional: out,
  };
}

function warnIgnoredTlog(ctx: CliContext, what: string, ignoreTlog: boolean | undefined): void {
  if (ignoreTlog) {
    ctx.warn(
      `WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the ${what}.`,
    );
  }
}

function jsonResult(display: string, kind: string, result: CosignVerifyResult): Record<string, unknown> {
  return {
    reference: display,
    verified: true,
    kind,
    subject: { mediaType: result.subject.mediaType, digest: result.subject.digest, size: result.subject.size },
    signatures: result.outcomes.map(outcomeToJson),
  };
}

/** `vouch cosign verify <image>…` */
export async function runCosignVerify(
  ctx: CliContext,
  images: readonly string[],
  opts: Opts,
  kind: 'signature' | 'attestation',
): Promise<void> {
  ctx.errorExitCode = cosignExitCode;
  if (images.length === 0) throw new UsageError('at least one image is required');
  if (typeof opts.signature === 'string') {
    // a flag declared "not supported" must not be ignored: the attached signatures would be verified instead
    throw new VouchError(
      'ERR_UNSUPPORTED',
      '--signature (a detached signature for an image) is not supported: verify the attached signatures',
    );
  }
  if (kind === 'attestation' && Array.isArray(opts.policy) && opts.policy.length > 0) {
    throw new VouchError('ERR_UNSUPPORTED', '--policy (CUE/Rego policies) is not supported by vouch cosign; nothing was verified');
  }
  const { policy, keyed, certificate } = await cosignPolicy(ctx, opts);
  warnIgnoredTlog(ctx, kind, policy.ignoreTlog);
  const annotations = annotationFlags(opts.annotations as string[] | undefined);
  const maxSignatures = opts.maxSignatures === undefined ? undefined : Number(opts.maxSignatures);
  const results: Record<string, unknown>[] = [];
  for (const image of images) {
    const target = openCosignImage(ctx, image, opts);
    const subject = await resolveImage(target.repository, target.reference, image);
    const display = `${target.display}@${subject.digest}`;
    const common = {
      ...policy,
      repository: target.repository,
      reference: subject,
      ...(target.signatureRepository ? { signatureRepository: target.signatureRepository } : {}),
      ...(maxSignatures ? { maxSignatures } : {}),
      ...(certificate ? { certificate } : {}),
    };
    let result: CosignVerifyResult;
    try {
      result =
        kind === 'signature'
          ? await verifyCosignSignatures({
              ...common,
              ...(annotations ? { annotations } : {}),
              ...(opts.checkClaims === false ? { checkClaims: false } : {}),
            })
          : await verifyCosignAttestations({ ...common, ...(typeof opts.type === 'string' ? { predicateType: opts.type } : {}) });
    } catch (e) {
      throw flagged(e, { kind, reference: image });
    }
    if (ctx.json) {
      results.push(jsonResult(display, kind, result));
      continue;
    }
    header(ctx, display, keyed, result);
    if (kind === 'signature') {
      ctx.stdout.write(`\n${JSON.stringify(result.verified.map((o) => claimJson(o, display)))}\n`);
    } else {
      for (const o of result.verified) ctx.stdout.write(`${o.envelope}\n`);
    }
  }
  if (ctx.json) ctx.result(results.length === 1 ? results[0] : results);
}
