import { join } from 'node:path';
import { isVouchError, VouchError } from '@vouch/core';
import { fileStream, fileTrustStore, loadBlobTrustPolicy, nodeHasher, readSignatureFile } from '@vouch/node';
import { readBlobTrustPolicyFile } from '@vouch/node/config';
import { createBlobVerifier, ocspCrlRevocation, outcomeToJson, rfc3161Timestamp, type VerifyBlobResult } from '@vouch/notation';
import { type BlobTrustPolicyDocument, type BlobTrustPolicyStatement, selectBlobPolicy } from '@vouch/trust-policy';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';
import { crlCacheOption } from '../crl-cache.js';
import { envelopeCodecs } from '../deps.js';
import { renderTable } from '../format/table.js';
import { cliFetch } from '../registry.js';
import { type BlobOpts, parseFlagMap, positional, verifySignatureFormat } from './flags.js';
import { checkReadableFile } from './io.js';

const CREATE_POLICY_HINT = 'To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';

/**
 * The blob trust policy of the config dir, validated. A missing file is notation's
 * "trust policy is not present" error; an invalid one is ERR_TRUST_POLICY_INVALID.
 */
export async function loadBlobPolicy(ctx: CliContext, configDir: string): Promise<BlobTrustPolicyDocument> {
  const file = await readBlobTrustPolicyFile(configDir);
  if (!file) {
    throw new VouchError(
      'ERR_CONFIG_INVALID',
      `trust policy is not present. ${CREATE_POLICY_HINT} (vouch looked for ${join(configDir, 'trustpolicy.blob.json')}; create it with \`${ctx.programName} blob policy import <file>\` or \`${ctx.programName} blob policy init\`)`,
      { details: { configDir } },
    );
  }
  return loadBlobTrustPolicy(configDir);
}

/** A Go-struct-like rendering of a statement, as notation's debug log prints it (`{Name:… …}`). */
function statementDebug(s: BlobTrustPolicyStatement): string {
  const sv = s.signatureVerification;
  const override = Object.entries(sv.override ?? {})
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  return `{Name:${s.name} SignatureVerification:{VerificationLevel:${sv.level} Override:map[${override}] VerifyTimestamp:${sv.verifyTimestamp ?? ''}} TrustStores:[${(s.trustStores ?? []).join(' ')}] TrustedIdentities:[${(s.trustedIdentities ?? []).join(' ')}] GlobalPolicy:${s.globalPolicy === true}}`;
}

const CHECK_LABELS: Record<string, string> = {
  integrity: 'Integrity',
  authenticity: 'Authenticity',
  trustedIdentity: 'Trusted identity',
  expiry: 'Expiry',
  authenticTimestamp: 'Timestamp',
  revocation: 'Revocation',
  artifact: 'Blob',
  userMetadata: 'User metadata',
};

function debugChecks(ctx: CliContext, result: VerifyBlobResult): void {
  const log = ctx.logger();
  for (const c of result.signature?.checks ?? []) {
    const label = CHECK_LABELS[c.type] ?? c.type;
    const state = c.result === 'passed' ? 'Success' : c.result === 'skipped' ? 'Skipped' : `Failure (action ${c.action})`;
    log.debug(`${label} verification: ${state}${c.error ? `: ${c.error.message}` : ''}`);
  }
}

/** notation's name of a validation in warnings (the identity check is part of authenticity there). */
function validationName(type: string): string {
  return type === 'trustedIdentity' ? 'authenticity' : type;
}

/**
 * `vouch blob verify`: verify a detached signature (`--signature`) for a blob against the blob
 * trust policy of the config dir (`--policy-name`, else the global statement), the file trust
 * store, OCSP/CRL revocation with the file CRL cache, and RFC 3161 timestamps. The blob is
 * streamed once through the signature's hash.
 */
export async function runBlobVerify(ctx: CliContext, blobArg: unknown, opts: BlobOpts): Promise<void> {
  const blobPath = positional(
    blobArg,
    `missing path to the blob artifact: use \`${ctx.programName} blob verify --help\` to see what parameters are required`,
    'blob path cannot be empty',
  );
  const signaturePath = opts.signature;
  if (typeof signaturePath !== 'string' || signaturePath === '') throw new UsageError('filepath of the signature cannot be empty');
  const mediaType = opts.mediaType as string | undefined;
  if (mediaType === '') throw new UsageError('--media-type is set but with empty value');
  const policyName = (opts.policyName as string | undefined) || undefined;
  const pluginConfig = parseFlagMap(opts.pluginConfig as string[] | undefined, 'plugin-config');
  const userMetadata = parseFlagMap(opts.userMetadata as string[] | undefined, 'user-metadata');
  const { envelopeMediaType } = verifySignatureFormat(signaturePath);

  const blobFile = ctx.resolvePath(blobPath);
  await checkReadableFile(blobFile, blobPath);
  const signature = await readSignatureFile(ctx.resolvePath(signaturePath));
  const configDir = ctx.configDir();
  const policy = await loadBlobPolicy(ctx, configDir);
  const log = ctx.logger();
  if (pluginConfig)
    log.debug(`Plugin configuration ignored unless the signature names a verification plugin: ${Object.keys(pluginConfig).join(', ')}`);
  if (ctx.globals.debug) {
    try {
      log.debug(`Trust policy configuration: ${statementDebug(selectBlobPolicy(policy, policyName))}`);
    } catch {
      // the verifier reports a missing statement below
    }
  }
  const fetch = cliFetch(ctx);
  const verifier = createBlobVerifier({
    trustPolicy: policy,
    trustStore: fileTrustStore(configDir),
    envelopes: envelopeCodecs(),
    revocation: ocspCrlRevocation({ fetch, ...crlCacheOption(ctx), logger: ctx.logger() }),
    timestamp: rfc3161Timestamp,
    hasher: nodeHasher,
    logger: log,
    ...(ctx.io.now ? { now: ctx.io.now } : {}),
  });
  log.debug(`Verify signature of media type ${envelopeMediaType}`);
  let result: VerifyBlobResult;
  try {
    result = await verifier.verifyBlob(fileStream(blobFile), signature.bytes, {
      envelopeMediaType,
      ...(policyName !== undefined ? { policyName } : {}),
      ...(mediaType !== undefined ? { mediaType } : {}),
      ...(userMetadata ? { userMetadata } : {}),
    });
  } catch (e) {
    if (isVouchError(e) && e.details?.outcome !== undefined && ctx.globals.debug) {
      log.debug(`Verification outcome: ${JSON.stringify(e.details.outcome)}`);
    }
    if (isVouchError(e) && e.message.startsWith('provided signature verification failed against the blob: ')) {
      const reason = e.message.slice('provided signature verification failed against the blob: '.length);
      throw new VouchError(e.code, `provided signature verification failed against blob ${blobPath}: ${reason}`, {
        cause: e,
        ...(e.details ? { details: e.details } : {}),
      });
    }
    throw e;
  }
  if (ctx.globals.debug) debugChecks(ctx, result);
  report(ctx, result, blobPath, signaturePath);
}

function report(ctx: CliContext, result: VerifyBlobResult, blobPath: string, signaturePath: string): void {
  const warnings = (result.signature?.checks ?? []).filter((c) => c.result === 'failed' && c.action === 'log' && c.error);
  const metadata = result.signature?.userMetadata ?? {};
  if (ctx.json) {
    ctx.result({
      blob: blobPath,
      signature: signaturePath,
      verified: !result.skipped,
      skipped: result.skipped,
      policy: result.policy,
      ...(result.artifact ? { artifact: result.artifact } : {}),
      ...(result.signature ? { outcome: outcomeToJson(result.signature) } : {}),
      userMetadata: metadata,
      warnings: warnings.map((c) => ({ type: c.type, action: c.action, code: c.error!.code, message: c.error!.message })),
    });
    return;
  }
  for (const c of warnings) {
    ctx.warn(`Warning: ${validationName(c.type)} was set to "${c.action}" and failed with error: ${c.error!.message}`);
  }
  if (warnings.length > 0) ctx.warn('');
  if (result.skipped) {
    ctx.line(`Trust policy is configured to skip signature verification for ${blobPath}`);
    return;
  }
  ctx.line(`Successfully verified signature for ${blobPath}`);
  const keys = Object.keys(metadata);
  if (keys.length > 0) {
    ctx.line('\nThe artifact was signed with the following user metadata.');
    ctx.out(`\n${renderTable([['KEY', 'VALUE'], ...keys.map((k) => [k, metadata[k]!])])}`);
  }
}
