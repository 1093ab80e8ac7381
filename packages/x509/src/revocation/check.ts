import { VouchError } from '@vouch/core';
import { type Certificate, OID, signedBy, validateSigningChain, validateTimestampingChain } from '../internal/index.js';
import { distributionPointUris, lookupCrl, obtainCrl } from './crl.js';
import { buildOcspRequest, evaluateOcspResponse, fetchOcsp } from './ocsp.js';
import type {
  CertificateRevocation,
  CheckRevocationOptions,
  RevocationError,
  RevocationMode,
  RevocationOutcome,
  RevocationReport,
} from './types.js';

function errOf(e: unknown): RevocationError {
  if (e instanceof VouchError) return { code: e.code, message: e.message };
  return { code: 'ERR_REVOCATION_UNKNOWN', message: e instanceof Error ? e.message : String(e) };
}

/**
 * The delta-CRL URLs of a certificate's Freshest CRL extension (2.5.29.46): the fullName
 * URIs of each distribution point, collecting stops at the first non-URI name.
 *
 * @throws VouchError ERR_CERT_INVALID when the extension is malformed.
 */
export function freshestCrlUrls(cert: Certificate): string[] {
  const ext = cert.extensions?.find((e) => e.oid === OID.freshestCrl);
  if (!ext) return [];
  try {
    return distributionPointUris(ext.value);
  } catch (e) {
    throw new VouchError('ERR_CERT_INVALID', `the Freshest CRL extension of "${cert.subject}" is malformed: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

type Opts = Required<Pick<CheckRevocationOptions, 'ocspTimeoutMs' | 'crlTimeoutMs' | 'maxOcspBytes' | 'maxCrlBytes'>> &
  CheckRevocationOptions & { at: Date };

async function viaOcsp(cert: Certificate, issuer: Certificate, o: Opts, out: CertificateRevocation): Promise<boolean> {
  let lastError: RevocationError | undefined;
  for (const url of cert.ocspUrls) {
    if (!url.startsWith('http://')) {
      lastError = { code: 'ERR_REVOCATION_UNKNOWN', message: `OCSP URL ${url} is not http:// (only plain HTTP responders are used)` };
      out.attempts.push({ via: 'ocsp', url, outcome: 'skipped: not http://' });
      continue;
    }
    try {
      const nonce = o.ocspNonce ? globalThis.crypto.getRandomValues(new Uint8Array(16)) : undefined;
      const req = await buildOcspRequest(cert, issuer, nonce);
      const body = await fetchOcsp(url, req, { fetch: o.fetch, timeoutMs: o.ocspTimeoutMs, maxBytes: o.maxOcspBytes, signal: o.signal });
      const r = await evaluateOcspResponse(body, cert, issuer, o.at, o.signingTime, nonce);
      out.attempts.push({ via: 'ocsp', url, outcome: r.status });
      if (r.status === 'good') {
        Object.assign(out, { result: 'ok', via: 'ocsp' });
        return true;
      }
      if (r.status === 'revoked') {
        Object.assign(out, { result: 'revoked', via: 'ocsp', revokedAt: r.revokedAt, ...(r.reason ? { reason: r.reason } : {}) });
        return true;
      }
      lastError = errOf(r.error);
      if (r.definitive) break; // status "unknown" from the responder: stop trying further URLs
    } catch (e) {
      if (e instanceof VouchError && e.code === 'ERR_ABORTED') throw e;
      lastError = errOf(e);
      out.attempts.push({ via: 'ocsp', url, outcome: `error: ${lastError.message}` });
    }
  }
  Object.assign(out, {
    result: 'unknown',
    via: 'ocsp',
    error: lastError ?? { code: 'ERR_REVOCATION_UNKNOWN', message: 'no usable OCSP URL' },
  });
  return false;
}

async function viaCrl(cert: Certificate, issuer: Certificate, o: Opts, out: CertificateRevocation): Promise<void> {
  let checked = 0;
  let lastError: RevocationError | undefined;
  let certDeltaUrls: string[] = [];
  try {
    certDeltaUrls = freshestCrlUrls(cert);
  } catch (e) {
    lastError = errOf(e);
  }
  for (const url of cert.crlUrls) {
    if (!url.startsWith('http://')) {
      out.attempts.push({ via: 'crl', url, outcome: 'skipped: not http://' });
      lastError = { code: 'ERR_REVOCATION_UNKNOWN', message: `CRL URL ${url} is not http:// (only plain HTTP CRL URLs are used)` };
      continue;
    }
    try {
      const set = await obtainCrl(url, issuer, o.at, {
        fetch: o.fetch,
        timeoutMs: o.crlTimeoutMs,
        maxBytes: o.maxCrlBytes,
        signal: o.signal,
        ...(o.crlCache ? { cache: o.crlCache } : {}),
      });
      if (certDeltaUrls.length && !set.delta) {
        throw new VouchError('ERR_REVOCATION_UNKNOWN', `"${cert.subject}" names a delta CRL but the CRL at ${url} provided none`);
      }
      const r = lookupCrl(set, cert, o.signingTime);
      out.attempts.push({ via: 'crl', url, outcome: r.status });
      if (r.status === 'revoked') {
        Object.assign(out, { result: 'revoked', via: 'crl', revokedAt: r.revokedAt, ...(r.reason ? { reason: r.reason } : {}) });
        delete out.error;
        return;
      }
      checked++;
    } catch (e) {
      if (e instanceof VouchError && e.code === 'ERR_ABORTED') throw e;
      lastError = errOf(e);
      out.attempts.push({ via: 'crl', url, outcome: `error: ${lastError.message}` });
    }
  }
  if (checked > 0) {
    out.result = 'ok';
    out.via = 'crl';
    if (out.fallback) delete out.error; // the OCSP failure stays in attempts
  } else {
    Object.assign(out, {
      result: 'unknown',
      via: 'crl',
      error: lastError ?? { code: 'ERR_REVOCATION_UNKNOWN', message: 'no usable CRL URL' },
    });
  }
}

async function checkOne(cert: Certificate, issuer: Certificate, index: number, o: Opts): Promise<CertificateRevocation> {
  const out: CertificateRevocation = {
    index,
    subject: cert.subject,
    serialNumber: cert.serialNumber,
    result: 'non-revokable',
    attempts: [],
  };
  const hasOcsp = cert.ocspUrls.length > 0;
  const hasCrl = cert.crlUrls.length > 0;
  if (!hasOcsp && !hasCrl) return out;
  if (hasOcsp) {
    const decided = await viaOcsp(cert, issuer, o, out);
    if (decided || !hasCrl) return out;
    out.fallback = true;
  }
  await viaCrl(cert, issuer, o, out);
  return out;
}

/**
 * Check the revocation status of every certificate of `chain` (leaf first, ending with its
 * root) except the root, per the Notary specification: OCSP when the certificate names
 * http:// responders (GET for short requests, else POST; response signed by the issuer or
 * an authorised responder; nextUpdate present and not passed); CRL when it names only CRL
 * distribution points, or as the fallback when OCSP cannot decide (base CRL plus delta CRL,
 * signature by the issuing CA, nextUpdate not passed, certificateHold / removeFromCRL);
 * `non-revokable` when it names neither. Certificates are checked in parallel.
 *
 * The chain is first re-validated for `mode` (code-signing or timestamping profile).
 * Returns data, not a decision: map it with {@link revocationOutcome} and your
 * verification level.
 *
 * @throws VouchError ERR_CERT_CHAIN_INVALID when the chain is not valid for `mode`;
 *   ERR_INVALID_ARGUMENT for bad options; ERR_ABORTED when `signal` fires.
 */
export async function checkRevocation(chain: readonly Certificate[], options: CheckRevocationOptions): Promise<RevocationReport> {
  if (!Array.isArray(chain) || chain.length === 0) throw new VouchError('ERR_INVALID_ARGUMENT', 'checkRevocation needs a non-empty chain');
  if (typeof options?.fetch !== 'function') throw new VouchError('ERR_INVALID_ARGUMENT', 'checkRevocation needs options.fetch');
  const mode: RevocationMode = options.mode ?? 'code-signing';
  if (mode !== 'code-signing' && mode !== 'timestamping') {
    throw new VouchError('ERR_INVALID_ARGUMENT', `revocation mode must be "code-signing" or "timestamping", got "${mode}"`);
  }
  if (!options.chainValidated)
    try {
      if (mode === 'timestamping') await validateTimestampingChain([...chain]);
      else await validateSigningChain([...chain]);
      for (let i = 0; i + 1 < chain.length; i++) {
        if (!(await signedBy(chain[i]!, chain[i + 1]!))) {
          throw new VouchError('ERR_CERT_CHAIN_INVALID', `"${chain[i]!.subject}" is not issued by "${chain[i + 1]!.subject}"`);
        }
      }
    } catch (e) {
      if (e instanceof VouchError && e.code === 'ERR_CERT_CHAIN_INVALID') throw e;
      throw new VouchError(
        'ERR_CERT_CHAIN_INVALID',
        `the ${mode} chain is invalid, so its revocation cannot be checked: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  const o: Opts = {
    ...options,
    at: options.at ?? new Date(),
    ocspTimeoutMs: options.ocspTimeoutMs ?? 2000,
    crlTimeoutMs: options.crlTimeoutMs ?? 5000,
    maxOcspBytes: options.maxOcspBytes ?? 20480,
    maxCrlBytes: options.maxCrlBytes ?? 32 * 1024 * 1024,
  };
  const certificates = await Promise.all(chain.slice(0, -1).map((c, i) => checkOne(c, chain[i + 1]!, i, o)));
  const result = certificates.some((c) => c.result === 'revoked')
    ? 'revoked'
    : certificates.some((c) => c.result === 'unknown')
      ? 'unknown'
      : 'ok';
  return { result, mode, certificates };
}

/**
 * Reduce a report to a decision and a notation-style message: any revoked certificate →
 * `revoked` (`signing certificate with subject "…" is revoked`, or `timestamping
 * certificate …` in timestamping mode), naming the first revoked certificate in chain
 * order; else any unknown → `unknown` (`… revocation status is unknown`); else `ok`.
 * Whether `revoked`/`unknown` is enforced or logged is the caller's verification level.
 */
export function revocationOutcome(report: RevocationReport): RevocationOutcome {
  const kind = report.mode === 'timestamping' ? 'timestamping' : 'signing';
  const nonRevokable = report.certificates.filter((c) => c.result === 'non-revokable').map((c) => c.subject);
  const revoked = report.certificates.find((c) => c.result === 'revoked');
  if (revoked) {
    return {
      result: 'revoked',
      code: 'ERR_CERT_REVOKED',
      message: `${kind} certificate with subject "${revoked.subject}" is revoked`,
      subject: revoked.subject,
      nonRevokable,
    };
  }
  const unknown = report.certificates.find((c) => c.result === 'unknown');
  if (unknown) {
    return {
      result: 'unknown',
      code: 'ERR_REVOCATION_UNKNOWN',
      message: `${kind} certificate with subject "${unknown.subject}" revocation status is unknown`,
      subject: unknown.subject,
      nonRevokable,
    };
  }
  return { result: 'ok', nonRevokable };
}
