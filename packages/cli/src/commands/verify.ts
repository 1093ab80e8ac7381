import { isVouchError, VouchError } from '@vouch/core';
import { createNodeVerifier } from '@vouch/node';
import { ocspCrlRevocation, outcomeToJson, type VerifyResult } from '@vouch/notation';
import type { Command } from 'commander';
import { act, addRegistryOptions, collect, parseKeyValues, positionalArgument, positiveInt, registryFlags } from '../command.js';
import { configurationErrorOf } from '../config-errors.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';
import { crlCacheOption } from '../crl-cache.js';
import { envelopeCodecs, openTarget } from '../deps.js';
import { renderTable } from '../format/table.js';
import { pluginResolver } from '../plugin-signing.js';
import { cliFetch } from '../registry.js';

/** `vouch verify`: verify the signatures of an artifact against the trust policy. */
export function registerVerify(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('verify')
    .description('Verify OCI artifacts')
    .argument('<reference>', 'artifact reference: registry/repository@digest, or with --oci-layout <path>@<digest> / <path>:<tag>')
    .option('--oci-layout', 'the artifact is in an OCI image layout directory')
    .option('--scope <scope>', 'trust policy scope for an OCI layout artifact (registry/repository); required with --oci-layout')
    .option('-m, --user-metadata <key=value>', 'user defined metadata that must be in the signature (repeatable)', collect)
    .option('--plugin-config <key=value>', 'plugin configuration (repeatable)', collect)
    .option('--max-signatures <n>', 'maximum number of signatures to evaluate', '100');
  addRegistryOptions(cmd);
  act(cmd, ctx, async ([reference], opts) => {
    const ref = positionalArgument(ctx, reference);
    const ociLayout = !!opts.ociLayout;
    const scope = opts.scope as string | undefined;
    // --oci-layout and --scope are experimental in notation 1.3 (NOTATION_EXPERIMENTAL=1); stable in vouch
    if (ociLayout && !scope)
      throw new UsageError('if any flags in the group [oci-layout scope] are set they must all be set; missing [scope]');
    if (!ociLayout && scope) {
      throw new UsageError('if any flags in the group [oci-layout scope] are set they must all be set; missing [oci-layout]');
    }
    const userMetadata = parseKeyValues(opts.userMetadata as string[] | undefined, 'user-metadata');
    const maxSignatureAttempts = positiveInt(opts.maxSignatures, 'max-signatures');
    const pluginConfig = parseKeyValues(opts.pluginConfig as string[] | undefined, 'plugin-config');

    const verifier = await createNodeVerifier({
      configDir: ctx.configDir(),
      envelopes: envelopeCodecs(),
      logger: ctx.logger(),
      plugins: pluginResolver(ctx),
      // OCSP/CRL over the CLI's transport, with notation's file CRL cache (as `blob verify`)
      revocation: ocspCrlRevocation({ fetch: cliFetch(ctx), ...crlCacheOption(ctx), logger: ctx.logger() }),
      ...(ctx.io.now ? { now: ctx.io.now } : {}),
    }).catch((e: unknown) => {
      throw policyError(e);
    });
    const target = openTarget(ctx, ref, { ociLayout, registry: registryFlags(opts) });
    if (target.isTag) {
      ctx.warn(
        `Warning: Always verify the artifact using digest(@sha256:...) rather than a tag(:${target.tag}) because resolved digest may not point to the same signed artifact, as tags are mutable.`,
      );
    }
    let display = ref;
    // what the trust policy is applied to: in a layout, the scope at the resolved digest (as notation names it)
    let policyReference = ref;
    if (target.layout) {
      const desc = await target.repository.resolve(target.reference);
      display = `${target.display}@${desc.digest}`;
      policyReference = `${scope}@${desc.digest}`;
    }
    let result: VerifyResult;
    try {
      result = await verifier.verify(target.reference, {
        repository: target.repository,
        ...(scope ? { scope } : {}),
        ...(userMetadata ? { userMetadata } : {}),
        ...(maxSignatureAttempts ? { maxSignatureAttempts } : {}),
        ...(pluginConfig ? { pluginConfig } : {}),
      });
    } catch (e) {
      throw policyError(summarize(ctx, e, display, policyReference));
    }
    if (!target.layout) display = result.reference;
    if (ctx.globals.debug) debugTrace(ctx, result);
    report(ctx, result, display);
  });
}

const CHECK_NAMES: Record<string, string> = {
  integrity: 'integrity',
  authenticity: 'cert chain',
  trustedIdentity: 'trust identity',
  expiry: 'expiry',
  authenticTimestamp: 'authentic timestamp',
  revocation: 'revocation',
};

/** With --debug: what the verifier did, one line per signature and check (after the fact, from the result). */
function debugTrace(ctx: CliContext, result: VerifyResult): void {
  ctx.warn(`DEBUG: Check verification level: policy "${result.policy.name}" has level ${result.policy.level}`);
  for (const o of result.outcomes) {
    ctx.warn(
      `DEBUG: Verify signature against artifact ${result.artifact.digest} (signature ${o.descriptor.digest}) in signature media type ${o.envelopeMediaType}`,
    );
    for (const c of o.checks) {
      const line = (name: string) =>
        ctx.warn(
          `DEBUG: Validating ${name}: ${c.result}${c.action !== 'enforce' ? ` (action ${c.action})` : ''}${c.error ? `: ${c.error.message}` : ''}`,
        );
      line(CHECK_NAMES[c.type] ?? c.type);
      // vouch checks the trusted identity as part of authenticity
      if (c.type === 'authenticity' && !o.checks.some((x) => x.type === 'trustedIdentity')) line(CHECK_NAMES.trustedIdentity!);
    }
  }
}

interface OutcomeJson {
  signature?: string;
  checks?: { type: string; action: string; result: string; error?: { code?: string; message?: string } }[];
  error?: { code?: string; message?: string };
}

const ENVELOPE_CODES = new Set(['ERR_ENVELOPE_UNSUPPORTED', 'ERR_ENVELOPE_MALFORMED', 'ERR_SIGNATURE_INTEGRITY']);

/** notation's name of a validation (identity is part of authenticity there). */
function notationType(type: string): string {
  return type === 'trustedIdentity' ? 'authenticity' : type;
}

/** A check's failure in notation's words (the vouch detail follows where notation's is terser). */
export function notationReason(code: string | undefined, message: string): string {
  if (code === 'ERR_CERT_UNTRUSTED') return `the signature's certificate chain does not contain any trusted certificate: ${message}`;
  return message;
}

function summarize(ctx: CliContext, e: unknown, display: string, userReference: string): unknown {
  if (!isVouchError(e)) return e;
  const verbose = ctx.globals.verbose || ctx.globals.debug;
  const outcomes = (e.details?.outcomes as OutcomeJson[] | undefined) ?? [];
  if (verbose && !ctx.json) {
    for (const o of outcomes) {
      const failed = (o.checks ?? []).filter((c) => c.result === 'failed' && c.action === 'enforce' && c.error);
      for (const c of failed) {
        ctx.warn(`${notationType(c.type)} validation failed. Failure reason: ${notationReason(c.error?.code, c.error?.message ?? '')}`);
      }
      if (failed.length === 0 && o.error?.message) {
        const kind = ENVELOPE_CODES.has(o.error.code ?? '') || /envelope/i.test(o.error.message) ? 'integrity' : undefined;
        ctx.warn(
          kind
            ? `${kind} validation failed. Failure reason: ${o.error.message} (signature ${o.signature ?? 'unknown'})`
            : `Signature ${o.signature ?? '(unknown)'} failed: ${o.error.message}`,
        );
      }
    }
  }
  if (e.code === 'ERR_VERIFICATION_FAILED' || e.code === 'ERR_VERIFICATION_INCONCLUSIVE') {
    // a trust store or policy mistake is reported as such, not as a verdict on the signatures
    const config = configurationErrorOf(outcomes, ctx.programName, { outcomes });
    if (config) return config;
    return new VouchError(e.code, `signature verification failed for all the signatures associated with ${display}`, {
      cause: e,
      details: { ...e.details, reason: e.message },
    });
  }
  if (e.code === 'ERR_SIGNATURE_NOT_FOUND') {
    return new VouchError(
      'ERR_SIGNATURE_NOT_FOUND',
      `signature verification failed: no signature is associated with "${display}", make sure the artifact was signed successfully`,
      { cause: e, ...(e.details ? { details: e.details } : {}) },
    );
  }
  if (e.code === 'ERR_NO_APPLICABLE_TRUST_POLICY') {
    return new VouchError(
      e.code,
      `signature verification failed: artifact "${userReference}" has no applicable trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy`,
      { cause: e, ...(e.details ? { details: e.details } : {}) },
    );
  }
  return e;
}

/** notation prints a trust policy's validation error as is, without naming the file. */
function policyError(e: unknown): unknown {
  if (isVouchError(e) && e.code === 'ERR_CONFIG_INVALID' && /^trust policy is not present\b/.test(e.message)) {
    // notation's sentence first; the command that fixes it as the hint
    return new VouchError(
      e.code,
      'trust policy is not present. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy',
      { cause: e, details: { ...e.details, configuration: true, hint: e.message.replace(/^trust policy is not present: /, '') } },
    );
  }
  if (isVouchError(e) && e.code === 'ERR_TRUST_POLICY_INVALID' && /^malformed trust policy file /.test(e.message)) {
    return new VouchError(
      e.code,
      'malformed trust policy. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy',
      { cause: e, details: { ...e.details, configuration: true, hint: e.message } },
    );
  }
  if (!isVouchError(e) || e.code !== 'ERR_TRUST_POLICY_INVALID') return e;
  const bare = e.message.replace(/^trust policy file .*? is invalid: (oci trust policy: )?/, '');
  return bare === e.message ? e : new VouchError(e.code, bare, { cause: e, ...(e.details ? { details: e.details } : {}) });
}

function report(ctx: CliContext, result: VerifyResult, display: string): void {
  const warnings: { type: string; action: string; message: string; code: string }[] = [];
  for (const c of result.signature?.checks ?? []) {
    if (c.result === 'failed' && c.action === 'log' && c.error) {
      warnings.push({ type: c.type, action: c.action, message: c.error.message, code: c.error.code });
    }
  }
  const metadata = result.signature?.userMetadata ?? {};
  if (ctx.json) {
    ctx.result({
      reference: display,
      verified: true,
      artifact: { mediaType: result.artifact.mediaType, digest: result.artifact.digest, size: result.artifact.size },
      policy: result.policy,
      ...(result.signature ? { signature: outcomeToJson(result.signature) } : {}),
      userMetadata: metadata,
      warnings,
    });
    return;
  }
  for (const w of warnings) {
    ctx.warn(`Warning: ${notationType(w.type)} was set to "${w.action}" and failed with error: ${notationReason(w.code, w.message)}`);
  }
  if (warnings.length > 0) ctx.warn('');
  if (result.policy.level === 'skip') {
    ctx.line(`Trust policy is configured to skip signature verification for ${display}`);
    return;
  }
  ctx.line(`Successfully verified signature for ${display}`);
  const keys = Object.keys(metadata).sort(); // notation prints a Go map (random order); vouch sorts
  if (keys.length > 0) {
    ctx.line('\nThe artifact was signed with the following user metadata.');
    ctx.out(`\n${renderTable([['KEY', 'VALUE'], ...keys.map((k) => [k, metadata[k]!])])}`);
  }
}
