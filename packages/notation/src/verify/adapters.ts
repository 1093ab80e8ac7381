/**
 * The default adapters of verification: revocation (OCSP, CRL) and RFC 3161 timestamps, each
 * behind a function type so callers can bring their own.
 */
import { type FetchLike, type Logger, VouchError } from '@vouch/core';
import type { Certificate } from '@vouch/x509';
import { type CrlCache, checkRevocation, revocationOutcome } from '@vouch/x509/revocation';
import { verifyTimestampToken } from '@vouch/x509/tsp';

/** Checks revocation of a signing or timestamping chain (see {@link ocspCrlRevocation}). */
export type RevocationChecker = (
  chain: readonly Certificate[],
  options: { at: Date; mode: 'code-signing' | 'timestamping'; signingTime?: Date; signal?: AbortSignal },
) => Promise<{ result: 'ok' | 'revoked' | 'unknown'; error?: VouchError }>;

/** Verifies an RFC 3161 timestamp attached to a signature (see {@link rfc3161Timestamp}). */
export type TimestampVerifier = (
  token: Uint8Array,
  options: {
    signature: Uint8Array;
    trustedRoots: readonly Certificate[];
    signingChain: readonly Certificate[];
    now: Date;
    signal?: AbortSignal;
  },
) => Promise<{ notBefore: Date; notAfter: Date; tsaChain?: readonly Certificate[] }>;

/**
 * The spec's revocation check (OCSP first, CRL as fallback, HTTP only, 2 s / 5 s timeouts,
 * size caps) over `fetch`, from `@vouch/x509/revocation`. `crlCache` keeps downloaded CRLs;
 * `logger.info` gets notation's notice for each certificate whose OCSP check fell back to CRLs.
 */
export function ocspCrlRevocation(options: { fetch: FetchLike; crlCache?: CrlCache; logger?: Pick<Logger, 'info'> }): RevocationChecker {
  return async (chain, o) => {
    // Nothing to ask when no certificate names an OCSP responder or a CRL (all non-revokable).
    if (chain.length > 0 && chain.every((c) => c.ocspUrls.length === 0 && c.crlUrls.length === 0)) return { result: 'ok' };
    const report = await checkRevocation([...chain], {
      fetch: options.fetch,
      at: o.at,
      mode: o.mode,
      // the signature verifier validated the signing chain (integrity) and the TSA chain (timestamp) already
      chainValidated: true,
      ...(o.signingTime ? { signingTime: o.signingTime } : {}),
      ...(options.crlCache ? { crlCache: options.crlCache } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    // notation's notice (shown with --verbose/--debug), root side first
    for (let i = report.certificates.length - 1; i >= 0; i--) {
      const c = report.certificates[i]!;
      if (c.fallback) {
        options.logger?.info(
          `OCSP check failed with unknown error and fallback to CRL check for certificate #${c.index + 1} in chain with subject ${JSON.stringify(c.subject)}`,
        );
      }
    }
    const out = revocationOutcome(report);
    if (out.result === 'ok') return { result: 'ok' };
    return { result: out.result, error: new VouchError(out.code!, out.message!, { details: { certificates: report.certificates } }) };
  };
}

/** RFC 3161 verification of the timestamp countersignature, from `@vouch/x509/tsp`. */
export const rfc3161Timestamp: TimestampVerifier = async (token, o) => {
  const r = await verifyTimestampToken(token, { message: o.signature, trustedRoots: [...o.trustedRoots] });
  return { notBefore: r.range.earliest, notAfter: r.range.latest, tsaChain: r.chain };
};
