import type { FetchLike, VouchErrorCode } from '@vouch/core';

/** Which chain is being checked: decides the chain profile re-validated first and the wording of outcomes. */
export type RevocationMode = 'code-signing' | 'timestamping';

/** Per-certificate status. `non-revokable`: the certificate names neither an OCSP responder nor a CRL. */
export type CertRevocationStatus = 'ok' | 'revoked' | 'unknown' | 'non-revokable';

/** A cached CRL download (DER). */
export interface CrlCacheEntry {
  base: Uint8Array;
  delta?: Uint8Array;
}

/**
 * Cache of downloaded CRLs keyed by distribution-point URL. Entries are re-validated on
 * every use (signature, issuer) and used only while the base CRL's nextUpdate has not
 * passed. Implementations may fail: errors are discarded and the CRL is downloaded.
 */
export interface CrlCache {
  get(url: string): Promise<CrlCacheEntry | undefined>;
  set(url: string, entry: CrlCacheEntry): Promise<void>;
}

/** A JSON-safe error summary. */
export interface RevocationError {
  code: VouchErrorCode;
  message: string;
}

/** The revocation status of one certificate of the chain. */
export interface CertificateRevocation {
  /** Index in the chain (0 = leaf). */
  index: number;
  subject: string;
  serialNumber: string;
  result: CertRevocationStatus;
  /** The method that produced `result` (absent for non-revokable). */
  via?: 'ocsp' | 'crl';
  /** True when OCSP could not decide and the CRL was used instead. */
  fallback?: boolean;
  /** Revocation time and reason when revoked. */
  revokedAt?: Date;
  reason?: string;
  /** Why the status is unknown (or what failed before a fallback succeeded). */
  error?: RevocationError;
  /** Every attempt made (OCSP URL / CRL URL), in order, for diagnostics. */
  attempts: { via: 'ocsp' | 'crl'; url: string; outcome: string }[];
}

/** The whole chain's result: revoked if any certificate is revoked, else unknown if any is unknown, else ok. */
export interface RevocationReport {
  result: 'ok' | 'revoked' | 'unknown';
  mode: RevocationMode;
  /** One entry per certificate except the root (chain order, leaf first). */
  certificates: CertificateRevocation[];
}

export interface CheckRevocationOptions {
  fetch: FetchLike;
  /** Instant for freshness checks (OCSP nextUpdate, CRL nextUpdate); default now. */
  at?: Date;
  /** 'code-signing' (default) or 'timestamping'. */
  mode?: RevocationMode;
  /**
   * The authentic signing time (signingAuthority scheme only). When set, a revocation whose
   * invalidity date is after it does not count. Never pass a TSA time here.
   */
  signingTime?: Date;
  /** Per-URL OCSP timeout, default 2000 ms. */
  ocspTimeoutMs?: number;
  /** Per-URL CRL download timeout, default 5000 ms. */
  crlTimeoutMs?: number;
  /** OCSP response cap, default 20 480 bytes. */
  maxOcspBytes?: number;
  /** CRL size cap, default 32 MiB. */
  maxCrlBytes?: number;
  /** Optional CRL cache (e.g. {@link memoryCrlCache}); default none. */
  crlCache?: CrlCache;
  /**
   * The caller has already validated this chain for its purpose (profile and signature links),
   * as the verification facade does before revocation: skip re-validating it here.
   */
  chainValidated?: boolean;
  /** Send an OCSP nonce and require it echoed when the responder returns one (default false). */
  ocspNonce?: boolean;
  signal?: AbortSignal;
}

/** What a caller needs to act on a report: the decision and a notation-style message. */
export interface RevocationOutcome {
  result: 'ok' | 'revoked' | 'unknown';
  /** ERR_CERT_REVOKED or ERR_REVOCATION_UNKNOWN when not ok. */
  code?: 'ERR_CERT_REVOKED' | 'ERR_REVOCATION_UNKNOWN';
  /** e.g. `signing certificate with subject "CN=…" is revoked`. */
  message?: string;
  /** The certificate the message names (the first revoked, else the first unknown, in chain order). */
  subject?: string;
  /** Non-root certificates without OCSP or CRL information (Quarkslab INFO-9): callers should warn. */
  nonRevokable: string[];
}
