/**
 * Trust policy documents, with the exact JSON field names of notation's
 * `trustpolicy.oci.json` and `trustpolicy.blob.json` (Notary trust store and trust policy
 * specification, version 1.0).
 */

/** The verification levels of the Notary trust policy. */
export type VerificationLevelName = 'strict' | 'permissive' | 'audit' | 'skip';

/** The validations a verifier performs, in the order of the specification's level table. */
export type ValidationType = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';

/** What a verifier does with a validation: fail on error, record it and continue, or not run it. */
export type ValidationAction = 'enforce' | 'log' | 'skip';

/** When the authentic timestamp of a `notary.x509` signature is verified. */
export type VerifyTimestampOption = 'always' | 'afterCertExpiry';

/** Validation types an `override` may name (`integrity` is never overridable). */
export type OverridableValidationType = Exclude<ValidationType, 'integrity'>;

/** The `signatureVerification` object of a statement. */
export interface SignatureVerification {
  level: VerificationLevelName;
  /** Per-validation actions replacing the level's; `skip` is allowed only for `revocation`. */
  override?: Partial<Record<OverridableValidationType, ValidationAction>>;
  /** Default `always`. */
  verifyTimestamp?: VerifyTimestampOption;
}

/** Fields common to OCI and blob trust policy statements. */
export interface TrustPolicyStatementBase {
  /** Unique, non-empty name of the statement. */
  name: string;
  signatureVerification: SignatureVerification;
  /** `<type>:<name>` references (`ca:acme`, `signingAuthority:acme`, `tsa:timestamps`); empty for level `skip`. */
  trustStores?: readonly string[];
  /** `*`, `x509.subject:<DN>` values, or values with other prefixes (ignored by vouch); empty for level `skip`. */
  trustedIdentities?: readonly string[];
}

/** One statement of an OCI trust policy (`trustpolicy.oci.json`). */
export interface TrustPolicyStatement extends TrustPolicyStatementBase {
  /** `registry/repository` scopes, or `["*"]` alone. */
  registryScopes: readonly string[];
}

/** An OCI trust policy document (`trustpolicy.oci.json`, legacy `trustpolicy.json`). */
export interface OciTrustPolicyDocument {
  version: '1.0';
  trustPolicies: readonly TrustPolicyStatement[];
}

/** One statement of a blob trust policy (`trustpolicy.blob.json`). */
export interface BlobTrustPolicyStatement extends TrustPolicyStatementBase {
  /** The statement used when no policy name is given; at most one per document, never `skip`. */
  globalPolicy?: boolean;
}

/** A blob trust policy document (`trustpolicy.blob.json`). */
export interface BlobTrustPolicyDocument {
  version: '1.0';
  trustPolicies: readonly BlobTrustPolicyStatement[];
}
