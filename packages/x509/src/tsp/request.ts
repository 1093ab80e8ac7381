import { isHashAlgorithm, VouchError } from '@vouch/core';
import * as asn1 from '@vouch/core/asn1';
import { bytesEqual, hashLength, oidOfHash, readLimited } from '@vouch/core/internal';
import { digest, fetchWithDeadline } from '../internal/index.js';
import { BER, parseTokenInternal, tsError } from './token.js';
import type {
  CreateTimestampRequestOptions,
  RequestTimestampOptions,
  TimestampRequest,
  TimestampRequestInfo,
  TimestampResponse,
  TimestampStatus,
  TimestampToken,
} from './types.js';
import { hashOidOf } from './verify.js';

/** Random nonce uniform in [1, 2^159): 20 random bytes with the top bit cleared. */
function randomNonce(): bigint {
  const b = new Uint8Array(20);
  globalThis.crypto.getRandomValues(b);
  b[0]! &= 0x7f;
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v === 0n ? 1n : v;
}

/**
 * Build a DER TimeStampReq (RFC 3161 §2.4.1): version 1, the message imprint (hash
 * parameters NULL), a fresh random nonce unless `nonce: false`, certReq (default true),
 * optional reqPolicy, no extensions.
 *
 * @throws VouchError ERR_INVALID_ARGUMENT for a missing message/digest, a digest of the
 *   wrong length or an unsupported hash algorithm.
 */
export async function createTimestampRequest(options: CreateTimestampRequestOptions): Promise<TimestampRequest> {
  const hashAlgorithm = options.hashAlgorithm ?? 'SHA-256';
  if (!isHashAlgorithm(hashAlgorithm)) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      `unsupported timestamp hash algorithm "${hashAlgorithm}"; use SHA-256, SHA-384 or SHA-512`,
    );
  }
  let imprint: Uint8Array;
  if (options.digest instanceof Uint8Array) {
    if (options.message !== undefined) throw new VouchError('ERR_INVALID_ARGUMENT', 'give either message or digest, not both');
    if (options.digest.length !== hashLength(hashAlgorithm)) {
      throw new VouchError(
        'ERR_INVALID_ARGUMENT',
        `a ${hashAlgorithm} digest is ${hashLength(hashAlgorithm)} bytes, got ${options.digest.length}`,
      );
    }
    imprint = options.digest.slice();
  } else if (options.message instanceof Uint8Array) {
    imprint = await digest(hashAlgorithm, options.message);
  } else {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'createTimestampRequest needs the message bytes or their digest');
  }
  const certReq = options.certReq ?? true;
  const nonce = options.nonce === false ? undefined : randomNonce();
  let policy: Uint8Array | undefined;
  try {
    if (options.policy !== undefined) policy = asn1.encOid(options.policy);
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `timestamp policy must be a dotted OID, got "${options.policy}"`, { cause: e });
  }
  const der = asn1.encSeq(
    asn1.encInt(1),
    asn1.encSeq(asn1.encSeq(asn1.encOid(oidOfHash(hashAlgorithm)), asn1.encNull()), asn1.encOctets(imprint)),
    ...(policy ? [policy] : []),
    ...(nonce !== undefined ? [asn1.encInt(nonce)] : []),
    ...(certReq ? [asn1.encBool(true)] : []),
  );
  return {
    der,
    hashAlgorithm,
    messageImprint: imprint,
    ...(nonce !== undefined ? { nonce: asn1.intHex(nonce) } : {}),
    certReq,
    ...(options.policy ? { policy: options.policy } : {}),
  };
}

const STATUS: TimestampStatus[] = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];
const FAILURES: Record<number, string> = {
  0: 'badAlg (unrecognized or unsupported algorithm identifier)',
  2: 'badRequest (transaction not permitted or supported)',
  5: 'badDataFormat (the data submitted has the wrong format)',
  14: 'timeNotAvailable (the TSA time source is not available)',
  15: 'unacceptedPolicy (the requested TSA policy is not supported)',
  16: 'unacceptedExtension (the requested extension is not supported)',
  17: 'addInfoNotAvailable (the additional information requested could not be understood)',
  25: 'systemFailure (the request cannot be handled due to system failure)',
};

/**
 * Decode a TimeStampResp (RFC 3161 §2.4.2). Returns the parsed token when the status is
 * granted or grantedWithMods.
 *
 * @throws VouchError ERR_TIMESTAMP_INVALID for malformed bytes (`details.step` 'parse') and
 *   for any other status (`details.step` 'status', with `status`, `statusText`, `failInfo`).
 */
export async function parseTimestampResponse(bytes: Uint8Array): Promise<TimestampResponse> {
  if (!(bytes instanceof Uint8Array)) throw new VouchError('ERR_INVALID_ARGUMENT', 'timestamp response must be a Uint8Array');
  let status: number;
  const statusText: string[] = [];
  const failInfo: string[] = [];
  let tokenBytes: Uint8Array | undefined;
  try {
    const top = asn1.seq(asn1.decode(bytes, BER), 'TimeStampResp');
    const si = asn1.seq(top[0], 'PKIStatusInfo');
    status = asn1.readSmallInt(si[0], 'PKIStatus');
    for (const f of si.slice(1)) {
      if (f.tag === asn1.TAG.SEQUENCE) {
        for (const s of f.children) statusText.push(new TextDecoder().decode(asn1.stringContent(s)));
      } else if (f.tag === asn1.TAG.BIT_STRING) {
        const bits = f.value.subarray(1);
        for (let i = 0; i < bits.length * 8; i++) {
          if (bits[i >> 3]! & (0x80 >> (i & 7))) failInfo.push(FAILURES[i] ?? `bit ${i}`);
        }
      } else throw new asn1.Asn1Error('PKIStatusInfo: unexpected field');
    }
    if (top[1]) tokenBytes = top[1].raw;
    if (top.length > 2) throw new asn1.Asn1Error('TimeStampResp: unexpected trailing fields');
  } catch (e) {
    throw tsError('parse', `the timestamp response is malformed: ${(e as Error).message}`, {}, e);
  }
  if (status !== 0 && status !== 1) {
    const name = STATUS[status] ?? `status ${status}`;
    throw tsError(
      'status',
      `the TSA did not grant the timestamp: ${name}${failInfo.length ? `; failure: ${failInfo.join(', ')}` : ''}${statusText.length ? `; "${statusText.join(' ')}"` : ''}`,
      { status: name, statusText, failInfo },
    );
  }
  if (!tokenBytes) throw tsError('parse', 'the TSA granted the request but sent no timestamp token');
  const parsed = await parseTokenInternal(tokenBytes.slice());
  return { status: STATUS[status] as 'granted' | 'grantedWithMods', ...(statusText.length ? { statusText } : {}), token: parsed.token };
}

/**
 * Check a token against the request it answers (RFC 3161 §2.4.2): TSTInfo version 1, the
 * same message imprint (algorithm and hash), the same nonce, the requested policy if one was
 * sent, and certificates present exactly when certReq was true. This does not verify the
 * token's signature: call {@link verifyTimestampToken} before relying on it.
 *
 * @throws VouchError ERR_TIMESTAMP_INVALID (`details.step` 'response').
 */
export function validateTimestampResponse(token: TimestampToken, request: TimestampRequestInfo): void {
  const fail = (m: string) => {
    throw tsError('response', `the timestamp response does not match the request: ${m}`);
  };
  if (token.version !== 1) fail(`TSTInfo version must be 1, found ${token.version}`);
  if (request.policy !== undefined && request.policy !== token.policy) {
    fail(`policy ${token.policy} differs from the requested policy ${request.policy}`);
  }
  const reqOid = isHashAlgorithm(request.hashAlgorithm) ? oidOfHash(request.hashAlgorithm) : request.hashAlgorithm;
  if (hashOidOf(token) !== reqOid || !bytesEqual(token.messageImprint, request.messageImprint)) {
    fail('the message imprint differs from the one requested');
  }
  if ((request.nonce ?? '') !== (token.nonce ?? '')) {
    fail(`nonce ${token.nonce ?? '(none)'} differs from the requested nonce ${request.nonce ?? '(none)'}`);
  }
  if (request.certReq && token.certificates.length === 0) fail('certReq was true but the token carries no TSA certificate');
  if (!request.certReq && token.certificates.length > 0) fail('certReq was false but the token carries certificates');
}

function validateUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `invalid timestamp authority URL "${url}"`, { cause: e });
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `timestamp authority URL "${url}" must be http:// or https:// with a host`);
  }
  return u;
}

/**
 * POST a TimeStampReq to a TSA (`application/timestamp-query`), require HTTP 200 with
 * `application/timestamp-reply` within `maxBytes` (default 1 MiB) and `timeoutMs`
 * (default 15 s), decode it and check it against the request
 * ({@link validateTimestampResponse}). The token's signature and TSA chain are NOT yet
 * verified: call {@link verifyTimestampToken} with the TSA root before attaching it.
 *
 * @throws VouchError ERR_INVALID_ARGUMENT (bad URL), ERR_NETWORK, ERR_TIMEOUT, ERR_ABORTED,
 *   ERR_SIZE_LIMIT_EXCEEDED, ERR_TIMESTAMP_INVALID.
 */
export async function requestTimestamp(url: string, request: TimestampRequest, options: RequestTimestampOptions): Promise<TimestampToken> {
  const u = validateUrl(url);
  if (typeof options?.fetch !== 'function') throw new VouchError('ERR_INVALID_ARGUMENT', 'requestTimestamp needs options.fetch');
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const body = await fetchWithDeadline(
    options.fetch,
    `timestamp request to ${u.origin}`,
    timeoutMs,
    options.signal,
    async (fetch, signal) => {
      const res = await fetch(u.href, {
        method: 'POST',
        headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
        body: request.der,
        signal,
        redirect: 'error',
      });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        throw tsError('http', `the TSA at ${u.origin} answered HTTP ${res.status}; expected 200`, { status: res.status });
      }
      const ct = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (ct !== 'application/timestamp-reply') {
        await res.body?.cancel().catch(() => {});
        throw tsError('http', `the TSA at ${u.origin} answered with content type "${ct}"; expected application/timestamp-reply`);
      }
      return readLimited(res, maxBytes, 'timestamp response');
    },
  );
  const { token } = await parseTimestampResponse(body);
  validateTimestampResponse(token, request);
  return token;
}
