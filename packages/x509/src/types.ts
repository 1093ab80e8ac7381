/**
 * The certificate model of vouch. No pkijs type appears here: callers get plain data.
 * (Contract shared by @vouch/envelope, @vouch/trust-policy, @vouch/notation: extend it by adding
 * optional fields; do not rename.)
 */

import type { KeyType, NamedCurve, PublicKeyInfo } from '@vouch/core';

/** The key vocabulary lives in @vouch/core; re-exported here because the certificate model uses it. */
export type { KeyType, NamedCurve, PublicKeyInfo };

/** One extension as it appears in the certificate (raw `extnValue` contents). */
export interface CertificateExtension {
  oid: string;
  critical: boolean;
  /** The DER inside the extnValue OCTET STRING. */
  value: Uint8Array;
}

/** One attribute of a relative distinguished name, e.g. `{ type: 'CN', value: 'Alice' }`. */
export interface DnAttribute {
  /** Short name (CN, O, OU, C, ST, L, …) when known, else the dotted OID. */
  type: string;
  value: string;
}

export interface Certificate {
  /** The exact DER bytes. */
  readonly der: Uint8Array;
  /** Subject in RFC 4514 form, most specific first (`CN=…,O=…,C=…`), as notation prints it. */
  readonly subject: string;
  readonly issuer: string;
  /** Subject RDNs in certificate order (least specific first); each RDN may hold several attributes. */
  readonly subjectRdns: readonly (readonly DnAttribute[])[];
  readonly issuerRdns: readonly (readonly DnAttribute[])[];
  /** Serial number, lowercase hex. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyInfo;
  /** OID of the certificate's signature algorithm. */
  readonly signatureAlgorithm: string;
  /** SHA-256 of `der`, lowercase hex (the thumbprint annotation format). */
  readonly sha256Fingerprint: string;
  /**
   * Raw subject DER equals raw issuer DER (self-issued). Parsing is synchronous, so the
   * self-signature is not checked here; chain validation and trust stores verify it.
   */
  readonly selfSigned: boolean;
  readonly basicConstraints?: { critical: boolean; ca: boolean; pathLenConstraint?: number };
  /** Key usage names present (digitalSignature, keyCertSign, cRLSign, …). */
  readonly keyUsage?: { critical: boolean; usages: readonly string[] };
  /** Extended key usage OIDs. */
  readonly extKeyUsage?: { critical: boolean; oids: readonly string[] };
  /** OIDs of critical extensions present. */
  readonly criticalExtensions: readonly string[];
  readonly ocspUrls: readonly string[];
  readonly crlUrls: readonly string[];
  /** X.509 version (1, 2 or 3). */
  readonly version?: number;
  /** Every extension, in certificate order (for callers that need one vouch does not model, e.g. freshestCRL). */
  readonly extensions?: readonly CertificateExtension[];
  /**
   * OIDs of extensions vouch interprets (basicConstraints, keyUsage, extKeyUsage, AIA, CRL
   * distribution points, key identifiers) whose value could not be decoded. A non-critical
   * malformed extension does not stop parsing (Go ignores several); chain validation rejects a
   * certificate whose basicConstraints/keyUsage/extKeyUsage is malformed, and revocation should
   * treat malformed AIA/CRLDP as "status unknown".
   */
  readonly malformedExtensions?: readonly string[];
  /** Subject key identifier, lowercase hex. */
  readonly subjectKeyIdentifier?: string;
  /** Authority key identifier (keyIdentifier field), lowercase hex. */
  readonly authorityKeyIdentifier?: string;
  /** caIssuers URLs from the authority information access extension. */
  readonly issuingCertificateUrls?: readonly string[];
}
