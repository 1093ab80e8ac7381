import type { Clock, Descriptor, EnvelopeMediaType, Logger, VouchError } from '@vouch/core';
import type { Repository } from '@vouch/registry';
import type { OciTrustPolicyDocument, TrustStore } from '@vouch/trust-policy';
import type { Certificate } from '@vouch/x509';

/** The validation types of the Notary trust policy, in the order they run. */
export type ValidationType = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type ValidationAction = 'enforce' | 'log' | 'skip';
export type VerificationLevel = 'strict' | 'permissive' | 'audit' | 'skip';

/** One check of one signature. */
export interface CheckOutcome {
  type: ValidationType | 'trustedIdentity' | 'userMetadata' | 'artifact';
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
  /** The signature that satisfied the policy (absent for level skip). */
  signature?: SignatureOutcome;
  /** Every signature tried, in order. */
  outcomes: SignatureOutcome[];
  /** Checks whose action was `log` and that failed. */
  warnings: VouchError[];
}

export interface VerifyOptions {
  trustPolicy: OciTrustPolicyDocument;
  trustStore: TrustStore;
  /** Where the artifact and its signatures live (OCI layout, remote registry, memory). */
  repository: Repository;
  /** Scope used to select the trust policy when the reference is not `registry/repo@digest` (OCI layouts: `--scope`). */
  scope?: string;
  /** Required user metadata: every key/value must be in the signed payload annotations. */
  userMetadata?: Record<string, string>;
  /** Default 100. */
  maxSignatureAttempts?: number;
  /** Limits; defaults 4 MiB / 32 MiB. */
  maxManifestBytes?: number;
  maxEnvelopeBytes?: number;
  now?: Clock;
  logger?: Logger;
  signal?: AbortSignal;
}
