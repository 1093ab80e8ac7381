/**
 * `@vouch/x509/revocation`: OCSP (RFC 6960) and CRL (RFC 5280) checks of Notary
 * certificate chains over an injected fetch, per the Notary revocation rules (OCSP first,
 * CRL fallback, HTTP URLs only, delta CRLs, size caps and timeouts). Runs in browsers,
 * Deno, Bun and Node (WebCrypto).
 *
 * @packageDocumentation
 */

// Checking a chain
export { checkRevocation, freshestCrlUrls, revocationOutcome } from './check.js';

// CRLs: inspection and caching
export { type CrlInfo, inspectCrl } from './crl.js';
export { memoryCrlCache } from './cache.js';

// Types
export type {
  CertificateRevocation,
  CertRevocationStatus,
  CheckRevocationOptions,
  CrlCache,
  CrlCacheEntry,
  RevocationError,
  RevocationMode,
  RevocationOutcome,
  RevocationReport,
} from './types.js';
