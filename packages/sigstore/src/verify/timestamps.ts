/**
 * RFC 3161 timestamps over the signature, verified with @vouch/x509's timestamp code against
 * the trusted timestamping authorities: the token verifies with a TSA whose chain (from the trust
 * material, embedded certificates optional) reaches that TSA's root, and its time lies within
 * the TSA's validity window (both ends included).
 */
import { isVouchError, VouchError } from '@vouch/core';
import { decode, TAG } from '@vouch/core/asn1';
import { parseTimestampResponse, verifyTimestampToken } from '@vouch/x509/tsp';
import type { CertificateAuthority } from '../types.js';

function inWindow(ca: CertificateAuthority, t: Date): boolean {
  const v = ca.validFor;
  return (v.start === undefined || v.start.getTime() <= t.getTime()) && (v.end === undefined || t.getTime() <= v.end.getTime());
}

/**
 * The TimeStampToken of `bytes`: Sigstore bundles carry the whole TimeStampResp (status and
 * token); a bare token (a CMS ContentInfo, which starts with its content type OID) is taken as is.
 */
export async function timestampTokenOf(bytes: Uint8Array): Promise<Uint8Array> {
  let first: number | undefined;
  try {
    first = decode(bytes, { encoding: 'ber' }).children[0]?.tag;
  } catch (e) {
    throw new VouchError('ERR_TIMESTAMP_INVALID', `the RFC 3161 timestamp is not DER/BER: ${(e as Error).message}`, {
      cause: e,
      details: { step: 'parse' },
    });
  }
  if (first === TAG.OID) return bytes;
  return (await parseTimestampResponse(bytes)).token.der;
}

/**
 * Verify `token` over `signature` against `authorities`; resolves the proven time.
 *
 * @throws VouchError ERR_TIMESTAMP_INVALID when no authority verifies it (the message says why
 *   for the last one tried).
 */
export async function verifyTimestamp(
  token: Uint8Array,
  signature: Uint8Array,
  authorities: readonly CertificateAuthority[],
): Promise<Date> {
  const der = await timestampTokenOf(token);
  let last: unknown;
  for (const ca of authorities) {
    const anchor = ca.certChain[ca.certChain.length - 1]!;
    try {
      const v = await verifyTimestampToken(der, { message: signature, trustedRoots: [anchor], certificates: ca.certChain });
      const t = v.token.genTime;
      if (!inWindow(ca, t)) {
        last = new VouchError(
          'ERR_TIMESTAMP_INVALID',
          `the timestamp's time ${t.toISOString()} is outside the validity of the timestamping authority ${JSON.stringify(anchor.subject)} in the trust material`,
          { details: { step: 'validity' } },
        );
        continue;
      }
      return t;
    } catch (e) {
      last = e;
    }
  }
  if (isVouchError(last) && last.code === 'ERR_TIMESTAMP_INVALID') {
    throw new VouchError(
      'ERR_TIMESTAMP_INVALID',
      `the RFC 3161 timestamp does not verify with a trusted timestamping authority: ${last.message}`,
      {
        cause: last,
        details: { ...(last.details ?? {}) },
      },
    );
  }
  throw new VouchError(
    'ERR_TIMESTAMP_INVALID',
    `the RFC 3161 timestamp does not verify: ${(last as Error | undefined)?.message ?? 'no authority'}`,
    {
      cause: last,
    },
  );
}
