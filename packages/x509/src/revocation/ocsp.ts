import { bytesEqual, type FetchLike, readLimited, toBase64, VouchError } from '@vouch/core';
import { digest, HASH_OID, hashByOid, verifySignature } from '../tsp/internal/crypto.js';
import {
  type Asn1,
  decode,
  encInt,
  encNull,
  encOctets,
  encOid,
  encSeq,
  expect,
  isContext,
  readBitString,
  readInt,
  readOctets,
  readOid,
  readSmallInt,
  readTime,
  seq,
  TAG,
  tlv,
} from '../tsp/internal/der.js';
import { fetchWithDeadline } from '../tsp/internal/http.js';
import { certParts, parseCertificate } from '../tsp/internal/x509.js';
import { issuedBy } from '../tsp/verify.js';
import type { Certificate } from '../types.js';

const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
const OID_EKU_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const OID_INVALIDITY_DATE = '2.5.29.24';
/** Tolerated clock skew for thisUpdate in the future. */
const SKEW_MS = 5 * 60 * 1000;

export const CRL_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'unused',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

const RESPONSE_STATUS: Record<number, string> = {
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

/** Outcome of one OCSP URL. `unknown` carries the reason. */
export type OcspResult =
  | { status: 'good' }
  | { status: 'revoked'; revokedAt: Date; reason?: string }
  | { status: 'unknown'; definitive: boolean; error: VouchError };

function unknown(message: string, definitive = false, code: 'ERR_REVOCATION_UNKNOWN' = 'ERR_REVOCATION_UNKNOWN'): OcspResult {
  return { status: 'unknown', definitive, error: new VouchError(code, message) };
}

/** Build a DER OCSPRequest for one certificate (CertID hash SHA-1, as RFC 5019 profiles expect). */
export async function buildOcspRequest(cert: Certificate, issuer: Certificate, nonce?: Uint8Array): Promise<Uint8Array> {
  const ip = certParts(issuer);
  const certId = encSeq(
    encSeq(encOid(HASH_OID['SHA-1']), encNull()),
    encOctets(await digest('SHA-1', ip.subject)),
    encOctets(await digest('SHA-1', ip.subjectPublicKey)),
    encIntSigned(certParts(cert).serial),
  );
  const ext = nonce ? [tlv(0xa2, encSeq(encSeq(encOid(OID_OCSP_NONCE), encOctets(encOctets(nonce)))))] : [];
  return encSeq(encSeq(encSeq(encSeq(certId)), ...ext));
}

function encIntSigned(v: bigint): Uint8Array {
  if (v >= 0n) return encInt(v);
  // Negative serials exist in the wild; encode two's complement.
  let len = 1;
  while (v < -(1n << BigInt(len * 8 - 1))) len++;
  const bytes = new Uint8Array(len);
  let x = (1n << BigInt(len * 8)) + v;
  for (let i = len - 1; i >= 0; i--) {
    bytes[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return tlv(TAG.INTEGER, bytes);
}

interface SingleResponse {
  hashOid: string;
  nameHash: Uint8Array;
  keyHash: Uint8Array;
  serial: bigint;
  status: Asn1;
  thisUpdate: Date;
  nextUpdate?: Date;
  invalidityDate?: Date;
}

function parseExtensions(n: Asn1 | undefined): { oid: string; critical: boolean; value: Uint8Array }[] {
  if (!n) return [];
  return seq(n, 'extensions').map((e) => {
    const p = seq(e, 'extension');
    const oid = readOid(p[0], 'extension id');
    const critical = p[1]?.tag === TAG.BOOLEAN ? p[1].content[0] !== 0 : false;
    const value = readOctets(p[p.length - 1], 'extension value');
    return { oid, critical, value };
  });
}

function parseSingle(n: Asn1): SingleResponse {
  const p = seq(n, 'SingleResponse');
  const id = seq(p[0], 'CertID');
  const single: SingleResponse = {
    hashOid: readOid(seq(id[0], 'CertID hashAlgorithm')[0]),
    nameHash: readOctets(id[1], 'issuerNameHash'),
    keyHash: readOctets(id[2], 'issuerKeyHash'),
    serial: readInt(id[3], 'CertID serial'),
    status: p[1]!,
    thisUpdate: readTime(expect(p[2], TAG.GENERALIZED_TIME, 'thisUpdate'), 'thisUpdate'),
  };
  for (const f of p.slice(3)) {
    if (isContext(f, 0)) single.nextUpdate = readTime(f.children[0], 'nextUpdate');
    else if (isContext(f, 1)) {
      for (const e of parseExtensions(f.children[0])) {
        if (e.oid === OID_INVALIDITY_DATE) single.invalidityDate = readTime(decode(e.value), 'invalidityDate');
      }
    }
  }
  return single;
}

/**
 * Decode and check an OCSP response for `cert` issued by `issuer`: response status
 * successful, basic response, signed by the issuer or by a delegated responder certificate
 * issued by it with id-kp-OCSPSigning, a SingleResponse for this CertID, thisUpdate not in
 * the future, nextUpdate present and not passed, nonce echoed when one was sent.
 */
export async function evaluateOcspResponse(
  bytes: Uint8Array,
  cert: Certificate,
  issuer: Certificate,
  at: Date,
  signingTime?: Date,
  nonce?: Uint8Array,
): Promise<OcspResult> {
  let rd: Asn1[];
  let sigAlg: Asn1;
  let sig: Uint8Array;
  let tbs: Uint8Array;
  let responderCerts: Certificate[] = [];
  let responderId: Asn1;
  let singles: SingleResponse[];
  let nonceExt: Uint8Array | undefined;
  try {
    const top = seq(decode(bytes), 'OCSPResponse');
    const status = readSmallInt(top[0], 'responseStatus', TAG.ENUMERATED);
    if (status !== 0) return unknown(`the OCSP responder answered "${RESPONSE_STATUS[status] ?? `status ${status}`}"`);
    if (!isContext(top[1], 0)) return unknown('the OCSP response has no responseBytes');
    const rb = seq(top[1].children[0], 'responseBytes');
    if (readOid(rb[0]) !== OID_OCSP_BASIC) return unknown('the OCSP response is not a basic OCSP response');
    const basic = seq(decode(readOctets(rb[1], 'response')), 'BasicOCSPResponse');
    tbs = basic[0]!.raw;
    rd = [...seq(basic[0], 'ResponseData')];
    sigAlg = expect(basic[1], TAG.SEQUENCE, 'signatureAlgorithm');
    sig = readBitString(basic[2], 'signature');
    if (isContext(basic[3], 0)) {
      responderCerts = seq(basic[3].children[0], 'certs').map((c) => parseCertificate(c.raw.slice()));
    }
    let i = 0;
    if (isContext(rd[0], 0)) i++;
    responderId = rd[i++]!;
    readTime(expect(rd[i++], TAG.GENERALIZED_TIME, 'producedAt'), 'producedAt');
    singles = seq(rd[i++], 'responses').map(parseSingle);
    if (isContext(rd[i], 1)) {
      for (const e of parseExtensions(rd[i]!.children[0])) {
        if (e.oid === OID_OCSP_NONCE) nonceExt = e.value;
      }
    }
  } catch (e) {
    return unknown(`the OCSP response is malformed: ${(e as Error).message}`);
  }

  // Who signed it: the issuer itself, or a delegated responder issued by it.
  const ip = certParts(issuer);
  const matchesResponderId = async (c: Certificate): Promise<boolean> => {
    const parts = certParts(c);
    if (isContext(responderId, 1)) return bytesEqual(responderId.children[0]!.raw, parts.subject);
    if (isContext(responderId, 2)) return bytesEqual(readOctets(responderId.children[0]), await digest('SHA-1', parts.subjectPublicKey));
    return false;
  };
  let signer: Certificate | undefined;
  if (await matchesResponderId(issuer)) signer = issuer;
  else {
    for (const c of responderCerts) {
      if (!(await matchesResponderId(c))) continue;
      if (!(await issuedBy(c, issuer)))
        return unknown(`the OCSP responder certificate "${c.subject}" is not issued by "${issuer.subject}"`);
      if (!c.extKeyUsage?.oids.includes(OID_EKU_OCSP_SIGNING)) {
        return unknown(`the OCSP responder certificate "${c.subject}" lacks the OCSPSigning extended key usage`);
      }
      if (at < c.notBefore || at > c.notAfter)
        return unknown(`the OCSP responder certificate "${c.subject}" is not valid at ${at.toISOString()}`);
      signer = c;
      break;
    }
  }
  if (!signer) return unknown('the OCSP response is signed neither by the issuer nor by a responder it authorised');
  let ok = false;
  try {
    ok = await verifySignature(signer.publicKey, sigAlg, tbs, sig);
  } catch (e) {
    return unknown(`the OCSP response signature cannot be checked: ${(e as Error).message}`);
  }
  if (!ok) return unknown('the OCSP response signature does not verify');

  if (nonce && nonceExt) {
    let echoed: Uint8Array;
    try {
      echoed = readOctets(decode(nonceExt));
    } catch {
      echoed = nonceExt;
    }
    if (!bytesEqual(echoed, nonce)) return unknown('the OCSP response nonce differs from the request nonce');
  }

  const serial = certParts(cert).serial;
  let single: SingleResponse | undefined;
  for (const s of singles) {
    if (s.serial !== serial) continue;
    const h = hashByOid(s.hashOid);
    if (!h) continue;
    if (bytesEqual(s.nameHash, await digest(h, ip.subject)) && bytesEqual(s.keyHash, await digest(h, ip.subjectPublicKey))) {
      single = s;
      break;
    }
  }
  if (!single) return unknown('the OCSP response has no status for this certificate');
  if (single.thisUpdate.getTime() > at.getTime() + SKEW_MS) {
    return unknown(`the OCSP response thisUpdate ${single.thisUpdate.toISOString()} is in the future`);
  }
  if (!single.nextUpdate || at > single.nextUpdate) {
    return unknown(`expired OCSP response (nextUpdate ${single.nextUpdate?.toISOString() ?? 'absent'})`);
  }
  const st = single.status;
  if (isContext(st, 0)) return { status: 'good' };
  if (isContext(st, 1)) {
    const revokedAt = readTime(st.children[0], 'revocationTime');
    let reason: string | undefined;
    if (isContext(st.children[1], 0)) {
      const code = readSmallInt(st.children[1].children[0], 'revocationReason', TAG.ENUMERATED);
      reason = CRL_REASONS[code] ?? `reason ${code}`;
    }
    if (signingTime && single.invalidityDate && signingTime < single.invalidityDate) return { status: 'good' };
    return { status: 'revoked', revokedAt, ...(reason ? { reason } : {}) };
  }
  return unknown('the OCSP responder does not know this certificate (status unknown)', true);
}

export interface OcspFetchOptions {
  fetch: FetchLike;
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

/** Send one OCSP request (GET when the encoded request is under 255 characters, else POST); returns the body. */
export async function fetchOcsp(url: string, request: Uint8Array, opts: OcspFetchOptions): Promise<Uint8Array> {
  const encoded = encodeURIComponent(toBase64(request));
  const get = encoded.length < 255;
  const target = get ? `${url.endsWith('/') ? url : `${url}/`}${encoded}` : url;
  return fetchWithDeadline(opts.fetch, `OCSP request to ${url}`, opts.timeoutMs, opts.signal, async (fetch, signal) => {
    const res = await fetch(
      target,
      get
        ? { method: 'GET', signal, redirect: 'error' }
        : { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: request, signal, redirect: 'error' },
    );
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new VouchError('ERR_REVOCATION_UNKNOWN', `the OCSP responder ${url} answered HTTP ${res.status}`);
    }
    return readLimited(res, opts.maxBytes, 'OCSP response');
  });
}
