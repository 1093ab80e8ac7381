import { type Clock, type FetchLike, hasCode, isVouchError, type SignatureAlgorithm, VouchError } from '@vouch/core';
import { systemClock } from '@vouch/core/internal';
import type { Timestamper } from '@vouch/envelope';
import { hashForAlgorithm } from '@vouch/envelope/internal';
import type { Certificate } from '@vouch/x509';
import { createTimestampRequest, requestTimestamp, verifyTimestampToken } from '@vouch/x509/tsp';
import { ocspCrlRevocation, type RevocationChecker } from './verify/adapters.js';

/**
 * The RFC 3161 Time Stamping Authority to countersign signatures with: notation's
 * `--timestamp-url` and `--timestamp-root-cert`. Only the `notary.x509` signing scheme
 * can be timestamped.
 */
export interface TimestampAuthority {
  /** The TSA endpoint (`http://` or `https://`), e.g. `http://timestamp.digicert.com`. */
  url: string;
  /**
   * The TSA's trust anchor: exactly one self-signed root certificate, as notation's
   * `--timestamp-root-cert` file must hold. The returned token must chain to it.
   */
  rootCertificates: readonly Certificate[];
  /** Transport for the TSA request and for the TSA chain's OCSP/CRL checks. */
  fetch: FetchLike;
  /** TSA request timeout in milliseconds; default 15 000. */
  timeoutMs?: number;
  /**
   * Revocation check of the TSA chain (every certificate but the root): a revoked or
   * unknown status fails signing (notation's fix for CVE-2024-56138). Default
   * `ocspCrlRevocation({ fetch })`; `false` turns it off (notation's CLI always checks).
   */
  revocation?: RevocationChecker | false;
}

function invalid(message: string): VouchError {
  return new VouchError('ERR_INVALID_ARGUMENT', message);
}

/** Check a {@link TimestampAuthority} before anything is signed (fail fast on configuration errors). */
export function checkTimestampAuthority(tsa: TimestampAuthority): void {
  if (!tsa || typeof tsa !== 'object') throw invalid('the timestamp authority must be an object { url, rootCertificates, fetch }');
  if (typeof tsa.url !== 'string' || tsa.url === '') throw invalid('the timestamp authority URL (--timestamp-url) is empty');
  let u: URL;
  try {
    u = new URL(tsa.url);
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `the timestamp authority URL "${tsa.url}" is not a valid URL`, { cause: e });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw invalid(`the timestamp authority URL "${tsa.url}" must use http or https`);
  }
  if (typeof tsa.fetch !== 'function') throw invalid('the timestamp authority needs a fetch transport');
  const roots = tsa.rootCertificates;
  if (!Array.isArray(roots) || roots.length !== 1) {
    throw invalid(
      `the timestamp root certificate (--timestamp-root-cert) must be exactly one self-signed root certificate, found ${Array.isArray(roots) ? roots.length : 0}`,
    );
  }
  if (!roots[0]!.selfSigned) {
    throw invalid(`the timestamp root certificate "${roots[0]!.subject}" is not self-signed; give the root certificate of the TSA's chain`);
  }
  if (tsa.timeoutMs !== undefined && (!Number.isSafeInteger(tsa.timeoutMs) || tsa.timeoutMs <= 0)) {
    throw invalid(`the timestamp timeout must be a positive number of milliseconds, got ${tsa.timeoutMs}`);
  }
}

/**
 * An envelope {@link Timestamper} backed by an RFC 3161 TSA. For each signature it:
 * requests a timestamp over the primitive signature bytes (message imprint hashed with the
 * signing algorithm's hash, random nonce, certReq), validates the response against the
 * request (status, imprint, nonce, policy, signing certificate present), verifies the token
 * against the one trusted root (CMS signature, ESS binding, chain valid at genTime with the
 * timestamping profile), checks the TSA chain's revocation (revoked or unknown fails), and
 * only then returns the token for `io.cncf.notary.timestampSignature`.
 *
 * Every failure rejects with ERR_TIMESTAMP_INVALID (the underlying error is the `cause`, its
 * code is in `details.reason`), except ERR_ABORTED. Configuration errors throw
 * ERR_INVALID_ARGUMENT immediately.
 */
export function rfc3161Timestamper(tsa: TimestampAuthority, options: { now?: Clock; signal?: AbortSignal } = {}): Timestamper {
  checkTimestampAuthority(tsa);
  const root = tsa.rootCertificates[0]!;
  const now = options.now ?? systemClock;
  const revocation = tsa.revocation === undefined ? ocspCrlRevocation({ fetch: tsa.fetch }) : tsa.revocation;
  const origin = new URL(tsa.url).origin;
  return async (signature: Uint8Array, algorithm: SignatureAlgorithm): Promise<Uint8Array> => {
    const fail = (what: string, e: unknown): never => {
      if (hasCode(e, 'ERR_ABORTED')) throw e;
      const reason = isVouchError(e) ? e.code : undefined;
      throw new VouchError(
        'ERR_TIMESTAMP_INVALID',
        `timestamping the signature with the TSA at ${origin} failed (${what}): ${e instanceof Error ? e.message : String(e)}`,
        { cause: e, details: { url: tsa.url, step: what, ...(reason ? { reason } : {}) } },
      );
    };
    let token: Awaited<ReturnType<typeof requestTimestamp>>;
    try {
      // The message imprint uses the hash of the signing algorithm (spec MUST for OCI, SHOULD for blobs).
      const request = await createTimestampRequest({ message: signature, hashAlgorithm: hashForAlgorithm(algorithm), certReq: true });
      token = await requestTimestamp(tsa.url, request, {
        fetch: tsa.fetch,
        ...(tsa.timeoutMs !== undefined ? { timeoutMs: tsa.timeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (e) {
      return fail('request', e);
    }
    let chain: Certificate[];
    try {
      const verified = await verifyTimestampToken(token, { message: signature, trustedRoots: [root] });
      chain = verified.chain;
    } catch (e) {
      return fail('verify', e);
    }
    if (revocation && chain.length > 1) {
      let r: Awaited<ReturnType<RevocationChecker>>;
      try {
        r = await revocation(chain, { at: now(), mode: 'timestamping', ...(options.signal ? { signal: options.signal } : {}) });
      } catch (e) {
        return fail('revocation', e);
      }
      if (r.result !== 'ok') {
        return fail(
          'revocation',
          r.error ??
            new VouchError(
              r.result === 'revoked' ? 'ERR_CERT_REVOKED' : 'ERR_REVOCATION_UNKNOWN',
              `timestamping certificate revocation status is ${r.result}`,
            ),
        );
      }
    }
    return token.der;
  };
}
