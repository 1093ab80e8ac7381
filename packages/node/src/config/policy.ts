import { lstat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isVouchError, VouchError } from '@vouch/core';
import { type BlobTrustPolicyDocument, type OciTrustPolicyDocument, parseBlobTrustPolicy, parseOciTrustPolicy } from '@vouch/trust-policy';
import { ConfigPaths } from './dirs.js';
import { parseJsonFile, readRegularFile, writeFileAtomic } from './fsutil.js';

/** A trust policy file read from the config dir, before validation. */
export interface TrustPolicyFile {
  /** Absolute path of the file that was read. */
  path: string;
  bytes: Uint8Array;
  /**
   * OCI trust policy only: the other file name when it exists too with different content
   * (`trustpolicy.oci.json` beside the `trustpolicy.json` in force), or `trustpolicy.json` when
   * only `trustpolicy.oci.json` exists (notation 1.3 then finds no policy). Absent when every
   * notation version reads the same policy.
   */
  notation?: { disagreeing: string; reason: 'differs' | 'missing' };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Read the OCI trust policy file: `trustpolicy.json`, the only file notation 1.3 reads, and when
 * it does not exist `trustpolicy.oci.json` (notation 2's name; notation 2 reads it first and
 * falls back to `trustpolicy.json`). `vouch policy import` keeps the two equal. Returns undefined
 * when neither exists. A symlink or directory in place of the file is ERR_CONFIG_INVALID.
 */
export async function readOciTrustPolicyFile(configDir: string): Promise<TrustPolicyFile | undefined> {
  const primary = join(configDir, ConfigPaths.LEGACY_TRUST_POLICY);
  const secondary = join(configDir, ConfigPaths.OCI_TRUST_POLICY);
  const bytes = await readRegularFile(primary, 'trust policy file');
  if (bytes !== undefined) {
    const other = await readRegularFile(secondary, 'trust policy file').catch(() => undefined);
    return other === undefined || sameBytes(other, bytes)
      ? { path: primary, bytes }
      : { path: primary, bytes, notation: { disagreeing: secondary, reason: 'differs' } };
  }
  const fallback = await readRegularFile(secondary, 'trust policy file');
  return fallback === undefined ? undefined : { path: secondary, bytes: fallback, notation: { disagreeing: primary, reason: 'missing' } };
}

/** Read `trustpolicy.blob.json`; undefined when absent. */
export async function readBlobTrustPolicyFile(configDir: string): Promise<TrustPolicyFile | undefined> {
  const path = join(configDir, ConfigPaths.BLOB_TRUST_POLICY);
  const bytes = await readRegularFile(path, 'blob trust policy file');
  return bytes === undefined ? undefined : { path, bytes };
}

function validate<T>(file: TrustPolicyFile, what: string, parse: (json: unknown) => T): T {
  const json = parseJsonFile(file.bytes, file.path, what, 'ERR_TRUST_POLICY_INVALID');
  try {
    return parse(json);
  } catch (e) {
    const code = isVouchError(e) ? e.code : 'ERR_TRUST_POLICY_INVALID';
    const why = e instanceof Error ? e.message : String(e);
    throw new VouchError(code, `${what} ${file.path} is invalid: ${why}`, {
      cause: e,
      details: { path: file.path, ...(isVouchError(e) ? e.details : {}) },
    });
  }
}

/**
 * Load and validate the OCI trust policy of a notation config dir (`trustpolicy.json`, else
 * `trustpolicy.oci.json`; see {@link readOciTrustPolicyFile}). Throws ERR_CONFIG_INVALID when no
 * policy file exists or it is not a regular file, ERR_TRUST_POLICY_INVALID (message naming the
 * file) when it is malformed or breaks a rule of the trust policy specification.
 */
export async function loadOciTrustPolicy(configDir: string): Promise<OciTrustPolicyDocument> {
  const file = await readOciTrustPolicyFile(configDir);
  if (!file) {
    throw new VouchError(
      'ERR_CONFIG_INVALID',
      `trust policy is not present: neither ${join(configDir, ConfigPaths.LEGACY_TRUST_POLICY)} nor ${join(configDir, ConfigPaths.OCI_TRUST_POLICY)} exists; import one with \`vouch policy import <path-to-policy.json>\``,
      { details: { configDir } },
    );
  }
  return validate(file, 'trust policy file', (json) => parseOciTrustPolicy(json));
}

/**
 * Load and validate `trustpolicy.blob.json`. Throws ERR_CONFIG_INVALID when absent,
 * ERR_TRUST_POLICY_INVALID when malformed or invalid.
 */
export async function loadBlobTrustPolicy(configDir: string): Promise<BlobTrustPolicyDocument> {
  const file = await readBlobTrustPolicyFile(configDir);
  if (!file) {
    throw new VouchError(
      'ERR_CONFIG_INVALID',
      `blob trust policy is not present: ${join(configDir, ConfigPaths.BLOB_TRUST_POLICY)} does not exist; import one with \`vouch blob policy import <path-to-policy.json>\``,
      { details: { configDir } },
    );
  }
  return validate(file, 'blob trust policy file', (json) => parseBlobTrustPolicy(json));
}

/** What {@link importOciTrustPolicy} wrote. */
export interface ImportedOciTrustPolicy {
  /** `trustpolicy.json`, the file notation 1.3 and vouch read. */
  path: string;
  /** Every file written: `trustpolicy.json`, and `trustpolicy.oci.json` when the config dir has one. */
  written: string[];
  document: OciTrustPolicyDocument;
}

/**
 * Validate an OCI trust policy (JSON bytes) and write it where every notation version reads it:
 * `trustpolicy.json` (the only file notation 1.3 reads; notation 2 falls back to it), and, when
 * the config dir already has notation 2's `trustpolicy.oci.json`, that file too with the same
 * bytes, so that no version keeps reading an older policy. Nothing is deleted. Each file is
 * written atomically (mode 0600); when the second one cannot be written the first is restored,
 * and nothing is written when validation fails. When `overwrite` is false and a policy file
 * (either name) exists, throws ERR_INVALID_ARGUMENT.
 */
export async function importOciTrustPolicy(
  configDir: string,
  json: Uint8Array,
  options: { overwrite?: boolean; source?: string } = {},
): Promise<ImportedOciTrustPolicy> {
  const source = options.source ?? 'trust policy';
  const document = validate({ path: source, bytes: json }, 'trust policy file', (j) => parseOciTrustPolicy(j));
  if (!options.overwrite && (await readOciTrustPolicyFile(configDir))) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'the OCI trust policy file already exists; use --force to overwrite it', {
      details: { configDir, exists: true },
    });
  }
  const path = join(configDir, ConfigPaths.LEGACY_TRUST_POLICY);
  const oci = join(configDir, ConfigPaths.OCI_TRUST_POLICY);
  const ociExists = await lstat(oci).then(
    () => true,
    () => false,
  );
  if (!ociExists) {
    await writeFileAtomic(path, json, 0o600);
    return { path, written: [path], document };
  }
  // notation 2's file first (its old content kept to roll back), then notation 1.3's
  const previous = await readRegularFile(oci, 'trust policy file');
  await writeFileAtomic(oci, json, 0o600);
  try {
    await writeFileAtomic(path, json, 0o600);
  } catch (e) {
    await (previous === undefined ? rm(oci, { force: true }) : writeFileAtomic(oci, previous, 0o600)).catch(() => {});
    throw e;
  }
  return { path, written: [path, oci], document };
}

/** Validate a blob trust policy (JSON bytes) and write it to `trustpolicy.blob.json` (0600). */
export async function importBlobTrustPolicy(
  configDir: string,
  json: Uint8Array,
  options: { overwrite?: boolean; source?: string } = {},
): Promise<{ path: string; document: BlobTrustPolicyDocument }> {
  const source = options.source ?? 'blob trust policy';
  const document = validate({ path: source, bytes: json }, 'blob trust policy file', (j) => parseBlobTrustPolicy(j));
  if (!options.overwrite && (await readBlobTrustPolicyFile(configDir))) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'the blob trust policy file already exists; use --force to overwrite it', {
      details: { configDir, exists: true },
    });
  }
  const path = join(configDir, ConfigPaths.BLOB_TRUST_POLICY);
  await writeFileAtomic(path, json, 0o600);
  return { path, document };
}
