/**
 * Configuration errors met while verifying a signature (a trust store the policy names is missing,
 * empty or unreadable; a policy that lists no store of the type the signature needs) are not a
 * verdict on the signature: they are reported as what they are, with the command that fixes them,
 * instead of "signature verification failed for all the signatures …" (notation does the same for
 * trust store and certificate errors).
 */
import { VouchError, type VouchErrorCode } from '@vouch/core';

/** An error as `outcomeToJson` / `VouchError#toJSON` print it. */
interface ErrorJson {
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
}

const CONFIG_CODES = new Set<string>([
  'ERR_TRUST_STORE_NOT_FOUND',
  'ERR_TRUST_STORE_INVALID',
  'ERR_CONFIG_INVALID',
  'ERR_TRUST_POLICY_INVALID',
  'ERR_IO',
]);

/** Whether a verification error is a mistake in the configuration rather than in the signature. */
export function isConfigurationError(e: ErrorJson | undefined): boolean {
  if (!e?.code) return false;
  return CONFIG_CODES.has(e.code) || e.details?.configuration === true;
}

/**
 * The first configuration error among the outcomes of a failed verification, as the error to
 * report (notation's wording where notation has one, `programName` for the commands), with
 * `details.hint` naming the command that fixes it; undefined when there is none.
 */
export function configurationErrorOf(
  outcomes: readonly { error?: ErrorJson }[],
  programName: string,
  extra: Record<string, unknown> = {},
): VouchError | undefined {
  const found = outcomes.map((o) => o.error).find(isConfigurationError);
  if (!found) return undefined;
  const d = found.details ?? {};
  const type = typeof d.type === 'string' ? d.type : undefined;
  const name = typeof d.name === 'string' ? d.name : undefined;
  const addCommand = `Use command '${programName} cert add' to create and add trusted certificates to the trust store`;
  let message = found.message ?? 'invalid configuration';
  let hint: string | undefined;
  if (found.code === 'ERR_TRUST_STORE_NOT_FOUND' && type && name) {
    message =
      d.reason === 'empty'
        ? `no x509 certificates were found in trust store "${name}" of type "${type}". ${addCommand}`
        : `the trust store "${name}" of type "${type}" does not exist. ${addCommand}`;
    hint = `${programName} cert add --type ${type} --store ${name} <certificate file>`;
  } else if (found.code === 'ERR_TRUST_STORE_INVALID' && type && name && typeof d.file === 'string') {
    hint = `replace or remove the file: ${programName} cert delete --type ${type} --store ${name} ${d.file}`;
  } else if (typeof d.policy === 'string' && typeof d.storeType === 'string') {
    hint = `add a "${d.storeType}:<store>" entry to trustStores of trust policy "${d.policy}" (${programName} policy show, ${programName} policy import)`;
  }
  return new VouchError(found.code as VouchErrorCode, message, {
    details: { ...d, configuration: true, ...(hint ? { hint } : {}), ...extra },
  });
}
