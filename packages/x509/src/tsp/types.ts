import type { FetchLike, HashAlgorithm } from '@vouch/core';
import type { Certificate } from '../types.js';

/** Hash algorithms accepted for RFC 3161 message imprints (SHA-1 is refused). */
export type TimestampHashAlgorithm = HashAlgorithm;

/** What a TimeStampReq asked for; the response must match it (RFC 3161 §2.4.2). */
export interface TimestampRequestInfo {
  hashAlgorithm: TimestampHashAlgorithm;
  /** The hashed message (the digest, not the message). */
  messageImprint: Uint8Array;
  /** Nonce as lowercase hex without leading zeros; absent when none was sent. */
  nonce?: string;
  /** Whether the TSA was asked to include its certificate. */
  certReq: boolean;
  /** Requested TSA policy OID, if any. */
  policy?: string;
}

/** A DER TimeStampReq and the facts needed to validate the reply. */
export interface TimestampRequest extends TimestampRequestInfo {
  /** DER-encoded TimeStampReq, ready to POST as `application/timestamp-query`. */
  readonly der: Uint8Array;
}

export interface CreateTimestampRequestOptions {
  /** The bytes to timestamp (for Notary signatures: the primitive signature value). Give this or `digest`. */
  message?: Uint8Array;
  /** The precomputed hash of the message, made with `hashAlgorithm`. */
  digest?: Uint8Array;
  /** Default SHA-256. */
  hashAlgorithm?: TimestampHashAlgorithm;
  /**
   * Send a fresh random nonce (default true). The value is always generated here and
   * cannot be supplied by the caller (Quarkslab INFO-2).
   */
  nonce?: boolean;
  /** Ask the TSA to include its signing certificate (default true; the Notary spec requires true). */
  certReq?: boolean;
  /** Optional TSA policy OID to request. */
  policy?: string;
}

/** Accuracy as written in TSTInfo. */
export interface TimestampAccuracy {
  seconds: number;
  millis: number;
  micros: number;
}

/** A parsed (not yet verified) RFC 3161 TimeStampToken. */
export interface TimestampToken {
  /** The token bytes (a CMS ContentInfo holding SignedData). */
  readonly der: Uint8Array;
  /** TSTInfo version (must be 1 to verify). */
  readonly version: number;
  /** TSA policy OID. */
  readonly policy: string;
  /** 'SHA-256' | 'SHA-384' | 'SHA-512' | 'SHA-1', or the dotted OID when the algorithm is unknown. */
  readonly hashAlgorithm: string;
  readonly messageImprint: Uint8Array;
  /** TSTInfo serial number, lowercase hex. */
  readonly serialNumber: string;
  readonly genTime: Date;
  /** Accuracy as written in the token, if present. */
  readonly accuracyField?: TimestampAccuracy;
  /**
   * Effective accuracy in milliseconds, per the Notary trust-policy rules: the explicit
   * accuracy when any component is non-zero, else 1000 for the baseline policy
   * 0.4.0.2023.1.1 (RFC 3628), else 0.
   */
  readonly accuracy: number;
  readonly ordering: boolean;
  /** Nonce, lowercase hex, if present. */
  readonly nonce?: string;
  /** Certificates carried in the token (may be empty). */
  readonly certificates: readonly Certificate[];
  /**
   * The certificate named by the first signer's ESS signing-certificate-v2 attribute
   * (hash checked), if it can be resolved. Not yet trusted: use {@link verifyTimestampToken}.
   */
  readonly signerCertificate?: Certificate;
}

/** PKIStatus values of RFC 3161 §2.4.2. */
export type TimestampStatus = 'granted' | 'grantedWithMods' | 'rejection' | 'waiting' | 'revocationWarning' | 'revocationNotification';

/** A decoded TimeStampResp whose status is granted or grantedWithMods. */
export interface TimestampResponse {
  status: 'granted' | 'grantedWithMods';
  /** Free text the TSA sent, if any. */
  statusText?: string[];
  token: TimestampToken;
}

export interface RequestTimestampOptions {
  /** Transport (globalThis.fetch or @vouch/node's). */
  fetch: FetchLike;
  /** Default 15 000 ms. */
  timeoutMs?: number;
  /** Response size cap, default 1 MiB. */
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface VerifyTimestampOptions {
  /** The timestamped bytes (for Notary signatures: the primitive signature value). */
  message: Uint8Array;
  /** Self-signed TSA roots (a `tsa` trust store). Non-root certificates are never used as anchors. */
  trustedRoots: readonly Certificate[];
  /** Instant at which the TSA chain must be valid; default the token's genTime (as notation does). */
  at?: Date;
  /**
   * Further certificates to find the TSA signing certificate and intermediates in, for tokens
   * that do not embed them (Sigstore trusted roots list the TSA's whole chain). Never anchors.
   */
  certificates?: readonly Certificate[];
}

/** The time range a verified timestamp proves: the signature existed no later than `latest`. */
export interface TimestampRange {
  /** genTime − accuracy. */
  earliest: Date;
  /** genTime + accuracy. */
  latest: Date;
}

export interface VerifiedTimestamp {
  token: TimestampToken;
  /** TSA chain, signing certificate first, ending with the trusted root. */
  chain: Certificate[];
  /** The certificate that signed the token. */
  signerCertificate: Certificate;
  range: TimestampRange;
}
