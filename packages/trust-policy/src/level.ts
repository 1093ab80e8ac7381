import { VouchError } from '@vouch/core';
import type {
  OverridableValidationType,
  SignatureVerification,
  ValidationAction,
  ValidationType,
  VerificationLevelName,
  VerifyTimestampOption,
} from './types.js';

/** The validation types, in the order of the specification's level table. */
export const VALIDATION_TYPES: readonly ValidationType[] = Object.freeze([
  'integrity',
  'authenticity',
  'authenticTimestamp',
  'expiry',
  'revocation',
]);

/** The validation actions. */
export const VALIDATION_ACTIONS: readonly ValidationAction[] = Object.freeze(['enforce', 'log', 'skip']);

/** The `verifyTimestamp` values. */
export const VERIFY_TIMESTAMP_OPTIONS: readonly VerifyTimestampOption[] = Object.freeze(['always', 'afterCertExpiry']);

type ActionTable = Readonly<Record<ValidationType, ValidationAction>>;

/** The level table of the Notary trust policy specification. */
export const VERIFICATION_LEVELS: Readonly<Record<VerificationLevelName, ActionTable>> = Object.freeze({
  strict: Object.freeze({
    integrity: 'enforce',
    authenticity: 'enforce',
    authenticTimestamp: 'enforce',
    expiry: 'enforce',
    revocation: 'enforce',
  }),
  permissive: Object.freeze({ integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' }),
  audit: Object.freeze({ integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' }),
  skip: Object.freeze({ integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' }),
});

/** A statement's `signatureVerification`, resolved to one action per validation type. */
export interface ResolvedVerificationLevel {
  /** The base level. */
  level: VerificationLevelName;
  /** True when an `override` was given (notation then names the level `custom`). */
  custom: boolean;
  actions: Readonly<Record<ValidationType, ValidationAction>>;
  /** `always` unless the policy says `afterCertExpiry`. */
  verifyTimestamp: VerifyTimestampOption;
}

function invalid(message: string): VouchError {
  return new VouchError('ERR_TRUST_POLICY_INVALID', message);
}

const q = (v: unknown): string => JSON.stringify(v) ?? String(v);
const qList = (l: readonly string[]): string => `[${l.map((x) => q(x)).join(' ')}]`;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isLevelName(v: unknown): v is VerificationLevelName {
  return v === 'strict' || v === 'permissive' || v === 'audit' || v === 'skip';
}

/**
 * Resolve and validate a statement's `signatureVerification`:
 *
 * - `level` must be `strict`, `permissive`, `audit` or `skip` (the level table of
 *   `VERIFICATION_LEVELS`);
 * - `override` is not allowed with `skip`; its keys must be validation types other than
 *   `integrity` (which can never be overridden), its values `enforce` or `log`, and `skip` only
 *   for `revocation`;
 * - `verifyTimestamp` must be `always` (the default) or `afterCertExpiry`. vouch checks it at
 *   every level; notation ignores it for `skip` (a stricter reading, same meaning).
 *
 * Throws ERR_TRUST_POLICY_INVALID with notation's wording (without the statement prefix,
 * which the document parsers add).
 */
export function resolveVerificationLevel(signatureVerification: SignatureVerification): ResolvedVerificationLevel {
  const sv: unknown = signatureVerification;
  if (sv === undefined || sv === null) throw invalid('signature verification level is empty or missing in the trust policy statement');
  if (!isPlainObject(sv)) throw invalid(`signatureVerification must be a JSON object, but got ${q(sv)}`);
  const level = sv.level;
  if (level === undefined || level === null || level === '') {
    throw invalid('signature verification level is empty or missing in the trust policy statement');
  }
  if (!isLevelName(level)) throw invalid(`invalid signature verification level ${q(level)}`);

  const actions: Record<ValidationType, ValidationAction> = { ...VERIFICATION_LEVELS[level] };
  const override = sv.override;
  let custom = false;
  if (override !== undefined && override !== null) {
    if (!isPlainObject(override)) throw invalid(`override in custom signature verification must be a JSON object, but got ${q(override)}`);
    const entries = Object.entries(override);
    if (entries.length > 0) {
      if (level === 'skip') throw invalid(`signature verification level ${q(level)} can't be used to customize signature verification`);
      custom = true;
      for (const [key, value] of entries) {
        if (!(VALIDATION_TYPES as readonly string[]).includes(key)) {
          throw invalid(
            `verification type ${q(key)} in custom signature verification is not supported, supported values are ${qList(VALIDATION_TYPES)}`,
          );
        }
        if (typeof value !== 'string' || !(VALIDATION_ACTIONS as readonly string[]).includes(value)) {
          throw invalid(
            `verification action ${q(value)} in custom signature verification is not supported, supported values are ${qList(VALIDATION_ACTIONS)}`,
          );
        }
        if (key === 'integrity') throw invalid(`${q(key)} verification can not be overridden in custom signature verification`);
        if (key !== 'revocation' && value === 'skip')
          throw invalid(`${q(key)} verification can not be skipped in custom signature verification`);
        actions[key as OverridableValidationType] = value as ValidationAction;
      }
    }
  }

  const vt = sv.verifyTimestamp;
  let verifyTimestamp: VerifyTimestampOption = 'always';
  if (vt !== undefined && vt !== null && vt !== '') {
    if (vt !== 'always' && vt !== 'afterCertExpiry') {
      throw invalid(`verifyTimestamp must be "always" or "afterCertExpiry", but got ${q(vt)}`);
    }
    verifyTimestamp = vt;
  }
  return Object.freeze({ level, custom, actions: Object.freeze(actions), verifyTimestamp });
}
