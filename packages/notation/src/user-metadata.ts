// Internal: the one user-metadata rule of sign, signBlob, verify and verifyBlob (not exported from the package).
import { Annotation, VouchError } from '@vouch/core';

/**
 * Check user metadata given to sign or verify (notation's `--user-metadata`): an object of
 * non-empty keys and non-empty string values, no key in the reserved `io.cncf.notary`
 * namespace. Returns a copy (empty when `metadata` is undefined).
 *
 * @throws VouchError ERR_INVALID_ARGUMENT naming the first offending entry.
 */
export function checkUserMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (metadata === undefined) return out;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'user metadata must be an object of strings');
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (k === '' || typeof v !== 'string' || v === '') {
      throw new VouchError('ERR_INVALID_ARGUMENT', `user metadata "${k}" needs a non-empty key and a non-empty string value`);
    }
    if (k.startsWith(Annotation.NOTARY_PREFIX)) {
      throw new VouchError(
        'ERR_INVALID_ARGUMENT',
        `user metadata key "${k}" is reserved: keys starting with "io.cncf.notary" cannot be used`,
      );
    }
    out[k] = v;
  }
  return out;
}

/**
 * The user-metadata check of verification: every required key/value must be in the signed
 * payload's annotations. Returns ERR_USER_METADATA_MISMATCH listing what is missing, or undefined.
 */
export function userMetadataMismatch(
  required: Readonly<Record<string, string>>,
  signed: Readonly<Record<string, string>> | undefined,
): VouchError | undefined {
  const have = signed ?? {};
  const missing = Object.entries(required).filter(([k, v]) => have[k] !== v);
  if (missing.length === 0) return undefined;
  return new VouchError(
    'ERR_USER_METADATA_MISMATCH',
    `unable to find specified metadata in the signature: ${missing.map(([k, v]) => `${k}=${v}`).join(', ')}`,
    { details: { missing: Object.fromEntries(missing) } },
  );
}
