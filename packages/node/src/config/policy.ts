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
}

/**
 * Read the OCI trust policy file as notation does: `trustpolicy.oci.json`, and only if it
 * does not exist, the legacy `trustpolicy.json`. Returns undefined when neither exists.
 * A symlink or directory in place of the file is ERR_CONFIG_INVALID.
 */
export async function readOciTrustPolicyFile(configDir: string): Promise<TrustPolicyFile | undefined> {
  for (const name of [ConfigPaths.OCI_TRUST_POLICY, ConfigPaths.LEGACY_TRUST_POLICY]) {
    const path = join(configDir, name);
    const bytes = await readRegularFile(path, 'trust policy file');
    if (bytes !== undefined) return { path, bytes };
  }
  return undefined;
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
 * Load and validate the OCI trust policy of a notation config dir (`trustpolicy.oci.json`,
 * falling back to `trustpolicy.json`). Throws ERR_CONFIG_INVALID when no policy file exists
 * or it is not a regular file, ERR_TRUST_POLICY_INVALID (message naming the file) when it is
 * malformed or breaks a rule of the trust policy specification.
 */
export async function loadOciTrustPolicy(configDir: string): Promise<OciTrustPolicyDocument> {
  const file = await readOciTrustPolicyFile(configDir);
  if (!file) {
    throw new VouchError(
      'ERR_CONFIG_INVALID',
      `trust policy is not present: neither ${join(configDir, ConfigPaths.OCI_TRUST_POLICY)} nor ${join(configDir, ConfigPaths.LEGACY_TRUST_POLICY)} exists; import one with \`vouch policy import <path-to-policy.json>\``,
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

/**
 * Validate an OCI trust policy (JSON bytes) and write it to `trustpolicy.oci.json`
 * atomically (mode 0600). Nothing is written when validation fails. When `overwrite` is
 * false and a policy file (either name) exists, throws ERR_INVALID_ARGUMENT. After writing,
 * a legacy `trustpolicy.json` is removed, as notation does. Returns the written path and
 * whether the legacy file was removed.
 */
export async function importOciTrustPolicy(
  configDir: string,
  json: Uint8Array,
  options: { overwrite?: boolean; source?: string } = {},
): Promise<{ path: string; removedLegacy: boolean; document: OciTrustPolicyDocument }> {
  const source = options.source ?? 'trust policy';
  const document = validate({ path: source, bytes: json }, 'trust policy file', (j) => parseOciTrustPolicy(j));
  if (!options.overwrite && (await readOciTrustPolicyFile(configDir))) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'the OCI trust policy file already exists; use --force to overwrite it', {
      details: { configDir, exists: true },
    });
  }
  const path = join(configDir, ConfigPaths.OCI_TRUST_POLICY);
  await writeFileAtomic(path, json, 0o600);
  let removedLegacy = false;
  const legacy = join(configDir, ConfigPaths.LEGACY_TRUST_POLICY);
  try {
    await lstat(legacy);
    await rm(legacy, { force: true });
    removedLegacy = true;
  } catch {
    // absent: nothing to clean
  }
  return { path, removedLegacy, document };
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
