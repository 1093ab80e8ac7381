import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isVouchError, utf8, VouchError } from '@vouch/core';
import { fromUtf8 } from '@vouch/core/internal';
import { loadBlobTrustPolicy } from '@vouch/node';
import { ConfigPaths, importBlobTrustPolicy, readBlobTrustPolicyFile } from '@vouch/node/config';
import { writeFileAtomic } from '@vouch/node/internal';
import { parseBlobTrustPolicy } from '@vouch/trust-policy';
import { type CliContext, UsageError } from '../context.js';
import { askConfirmation, type BlobOpts } from './flags.js';

const EXISTS_PROMPT = 'The blob trust policy configuration already exists, do you want to overwrite it?';

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** True when the config dir holds a blob trust policy that loads (notation only asks before replacing a valid one). */
async function validPolicyExists(configDir: string): Promise<boolean> {
  return loadBlobTrustPolicy(configDir).then(
    () => true,
    () => false,
  );
}

/** notation's rule before replacing a valid policy: `--force` warns, otherwise ask (declining is not an error). */
async function mayReplace(ctx: CliContext, configDir: string, force: boolean): Promise<boolean> {
  if (!(await validPolicyExists(configDir))) return true;
  if (force) {
    ctx.warn('Warning: existing blob trust policy configuration will be overwritten');
    return true;
  }
  return askConfirmation(ctx, EXISTS_PROMPT);
}

/**
 * `vouch blob policy import <file> [--force]`: validate a blob trust policy and write it to
 * `trustpolicy.blob.json` (0600, atomically). A valid existing policy is replaced only with
 * `--force` or after confirmation; an invalid one is replaced without asking.
 */
export async function runBlobPolicyImport(ctx: CliContext, files: readonly string[], opts: BlobOpts): Promise<void> {
  if (files.length !== 1) {
    throw new UsageError(
      `requires 1 argument but received ${files.length}.\nUsage: ${ctx.programName} blob policy import <path-to-policy.json>\nPlease specify a trust policy configuration location as the argument`,
    );
  }
  const source = files[0]!;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(ctx.resolvePath(source)));
  } catch (e) {
    throw new VouchError('ERR_IO', `failed to read blob trust policy file: ${message(e)}`, { cause: e, details: { path: source } });
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new VouchError('ERR_TRUST_POLICY_INVALID', `failed to parse blob trust policy configuration: ${message(e)}`, {
      cause: e,
      details: { path: source },
    });
  }
  try {
    parseBlobTrustPolicy(json);
  } catch (e) {
    throw new VouchError(
      isVouchError(e) ? e.code : 'ERR_TRUST_POLICY_INVALID',
      `failed to validate blob trust policy configuration: ${message(e)}`,
      { cause: e, details: { path: source, ...(isVouchError(e) ? e.details : {}) } },
    );
  }
  const configDir = ctx.configDir();
  if (!(await mayReplace(ctx, configDir, !!opts.force))) {
    ctx.result({ imported: false, reason: 'the blob trust policy exists; overwrite declined' });
    return;
  }
  let path: string;
  try {
    ({ path } = await importBlobTrustPolicy(configDir, bytes, { overwrite: true, source }));
  } catch (e) {
    if (isVouchError(e) && e.code === 'ERR_IO') {
      throw new VouchError('ERR_IO', `failed to write blob trust policy configuration: ${e.message}`, { cause: e });
    }
    throw e;
  }
  ctx.line(`Successfully imported blob trust policy configuration to ${path}.`);
  ctx.result({ imported: true, path });
}

/**
 * `vouch blob policy show`: print `trustpolicy.blob.json` byte for byte. An invalid policy is
 * still printed, with the validation error on stderr, and the command exits 1.
 */
export async function runBlobPolicyShow(ctx: CliContext): Promise<void> {
  const configDir = ctx.configDir();
  let file: Awaited<ReturnType<typeof readBlobTrustPolicyFile>>;
  try {
    file = await readBlobTrustPolicyFile(configDir);
  } catch (e) {
    throw new VouchError(isVouchError(e) ? e.code : 'ERR_IO', `failed to show trust policy: ${message(e)}`, { cause: e });
  }
  if (!file) {
    throw new VouchError(
      'ERR_CONFIG_INVALID',
      `failed to show blob trust policy as the trust policy file does not exist.\nYou can import one using \`${ctx.programName} blob policy import <path-to-policy.json>\``,
      { details: { path: join(configDir, ConfigPaths.BLOB_TRUST_POLICY) } },
    );
  }
  let error: unknown;
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.bytes));
    parseBlobTrustPolicy(parsed);
  } catch (e) {
    error = e;
  }
  if (ctx.json) {
    ctx.result({
      path: file.path,
      valid: error === undefined,
      policy: parsed,
      ...(error ? { error: { code: isVouchError(error) ? error.code : 'ERR_TRUST_POLICY_INVALID', message: message(error) } } : {}),
    });
  } else {
    if (error) {
      ctx.warn(`Error: ${message(error)}`);
      ctx.warn(
        `Existing blob trust policy configuration is invalid, you may update or create a new one via \`${ctx.programName} blob policy import <path-to-policy.json>\``,
      );
    }
    ctx.out(fromUtf8(file.bytes));
  }
  if (error) ctx.exitCode = 1;
}

/** JSON text as Go's `json.MarshalIndent(v, "", "  ")` writes it (HTML-safe escapes, no trailing newline). */
function goJsonIndent(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Names of required flags that are missing, in declaration order. */
function missingFlags(opts: BlobOpts): string[] {
  const missing: string[] = [];
  if (opts.name === undefined) missing.push('name');
  if (!Array.isArray(opts.trustStore) || opts.trustStore.length === 0) missing.push('trust-store');
  if (!Array.isArray(opts.trustedIdentity) || opts.trustedIdentity.length === 0) missing.push('trusted-identity');
  return missing;
}

/**
 * `vouch blob policy init --name N --trust-store T… --trusted-identity I… [--global] [--force]`:
 * write a one-statement blob trust policy (level strict) to `trustpolicy.blob.json`.
 */
export async function runBlobPolicyInit(ctx: CliContext, opts: BlobOpts): Promise<void> {
  const missing = missingFlags(opts);
  if (missing.length > 0) throw new UsageError(`required flag(s) ${missing.map((m) => `"${m}"`).join(', ')} not set`);
  const statement: Record<string, unknown> = {
    name: String(opts.name),
    signatureVerification: { level: 'strict' },
    trustStores: opts.trustStore as string[],
    trustedIdentities: opts.trustedIdentity as string[],
  };
  if (opts.global) statement.globalPolicy = true;
  const doc = { version: '1.0', trustPolicies: [statement] };
  try {
    parseBlobTrustPolicy(doc);
  } catch (e) {
    throw new VouchError(isVouchError(e) ? e.code : 'ERR_TRUST_POLICY_INVALID', `invalid blob policy: ${message(e)}`, {
      cause: e,
      ...(isVouchError(e) && e.details ? { details: e.details } : {}),
    });
  }
  const configDir = ctx.configDir();
  if (!(await mayReplace(ctx, configDir, !!opts.force))) {
    ctx.result({ initialized: false, reason: 'the blob trust policy exists; overwrite declined' });
    return;
  }
  const path = join(configDir, ConfigPaths.BLOB_TRUST_POLICY);
  try {
    await writeFileAtomic(path, utf8(goJsonIndent(doc)), 0o600);
  } catch (e) {
    throw new VouchError('ERR_IO', `failed to write blob trust policy configuration: ${message(e)}`, { cause: e, details: { path } });
  }
  ctx.line(`Successfully initialized blob trust policy file to ${path}.`);
  ctx.result({ initialized: true, path, policy: doc });
}
