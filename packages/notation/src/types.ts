import type { Descriptor, EnvelopeMediaType, VouchError } from '@vouch/core';
import type { ValidationAction, ValidationType, VerificationLevelName } from '@vouch/trust-policy';
import type { Certificate } from '@vouch/x509';

export type { ValidationAction, ValidationType };
/** A verification level of the trust policy (the vocabulary of `@vouch/trust-policy`). */
export type VerificationLevel = VerificationLevelName;

/** One check of one signature. */
export interface CheckOutcome {
  type: ValidationType | 'trustedIdentity' | 'userMetadata';
  action: ValidationAction;
  /** `passed`, `failed` (enforced → signature rejected; logged → warning) or `skipped`. */
  result: 'passed' | 'failed' | 'skipped';
  error?: VouchError;
}

export interface SignerInfo {
  signingScheme: 'notary.x509' | 'notary.x509.signingAuthority';
  signingTime?: Date;
  authenticSigningTime?: Date;
  expiry?: Date;
  signingAgent?: string;
  certificateChain: readonly Certificate[];
  signatureAlgorithm: string;
}

export interface SignatureOutcome {
  /** Descriptor of the signature manifest (registry) or envelope (blob). */
  descriptor: Descriptor;
  envelopeMediaType: EnvelopeMediaType | string;
  signer?: SignerInfo;
  /** Payload annotations (user metadata) when the envelope could be read. */
  userMetadata?: Record<string, string>;
  checks: CheckOutcome[];
  /** Set when the signature did not satisfy the policy. */
  error?: VouchError;
}

export interface VerifyResult {
  /** Always the resolved digest form. */
  reference: string;
  artifact: Descriptor;
  policy: { name: string; level: VerificationLevel };
  /** True when the policy's level is `skip`: no signature was read or verified. */
  skipped: boolean;
  /** The signature that satisfied the policy (absent for level skip). */
  signature?: SignatureOutcome;
  /** Every signature tried, in order. */
  outcomes: SignatureOutcome[];
  /** Checks whose action was `log` and that failed. */
  warnings: VouchError[];
}
