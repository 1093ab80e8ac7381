import { type FetchLike, VouchError } from '@vouch/core';
import * as asn1 from '@vouch/core/asn1';
import { bytesEqual, hashOfOid, oidOfHash, readLimited, toBase64, verifySignature } from '@vouch/core/internal';
import {
  type Certificate,
  certificatePartsOf,
  digest,
  fetchWithDeadline,
  OID,
  parseCertificate,
  readExtensions,
  signedBy,
} from '../internal/index.js';

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
  const ip = certificatePartsOf(issuer);
  const certId = asn1.encSeq(
    asn1.encSeq(asn1.encOid(oidOfHash('SHA-1')), asn1.encNull()),
    asn1.encOctets(await digest('SHA-1', ip.rawSubject)),
    asn1.encOctets(await digest('SHA-1', ip.subjectPublicKey)),
    // negative serials exist in the wild: two's complement
    asn1.encInt(certificatePartsOf(cert).serial),
  );
  const nonceExtension = asn1.encSeq(asn1.encOid(OID.ocspNonce), asn1.encOctets(asn1.encOctets(nonce ?? new Uint8Array(0))));
  const ext = nonce ? [asn1.tlv(asn1.contextTag(2, true), asn1.encSeq(nonceExtension))] : [];
  return asn1.encSeq(asn1.encSeq(asn1.encSeq(asn1.encSeq(certId)), ...ext));
}

interface SingleResponse {
  hashOid: string;
  nameHash: Uint8Array;
  keyHash: Uint8Array;
  serial: bigint;
  status: asn1.Asn1Node;
  thisUpdate: Date;
  nextUpdate?: Date;
  invalidityDate?: Date;
}

function parseSingle(n: asn1.Asn1Node): SingleResponse {
  const p = asn1.seq(n, 'SingleResponse');
  const id = asn1.seq(p[0], 'CertID');
  const single: SingleResponse = {
    hashOid: asn1.readOid(asn1.seq(id[0], 'CertID hashAlgorithm')[0]),
    nameHash: asn1.readOctets(id[1], 'issuerNameHash'),
    keyHash: asn1.readOctets(id[2], 'issuerKeyHash'),
    serial: asn1.readInteger(id[3], 'CertID serial'),
    status: p[1]!,
    thisUpdate: asn1.readTime(asn1.expectTag(p[2], asn1.TAG.GENERALIZED_TIME, 'thisUpdate'), 'thisUpdate'),
  };
  for (const f of p.slice(3)) {
    if (asn1.isContext(f, 0)) single.nextUpdate = asn1.readTime(f.children[0], 'nextUpdate');
    else if (asn1.isContext(f, 1)) {
      for (const e of readExtensions(f.children[0])) {
        if (e.oid === OID.invalidityDate) single.invalidityDate = asn1.readTime(asn1.decode(e.value), 'invalidityDate');
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
  let rd: asn1.Asn1Node[];
  let sigAlg: asn1.Asn1Node;
  let sig: Uint8Array;
  let tbs: Uint8Array;
  let responderCerts: Certificate[] = [];
  let responderName: Uint8Array | undefined;
  let responderKeyHash: Uint8Array | undefined;
  let singles: SingleResponse[];
  let nonceExt: Uint8Array | undefined;
  try {
    const top = asn1.seq(asn1.decode(bytes), 'OCSPResponse');
    const status = asn1.readSmallInt(top[0], 'responseStatus', asn1.TAG.ENUMERATED);
    if (status !== 0) return unknown(`the OCSP responder answered "${RESPONSE_STATUS[status] ?? `status ${status}`}"`);
    if (!asn1.isContext(top[1], 0)) return unknown('the OCSP response has no responseBytes');
    const rb = asn1.seq(top[1].children[0], 'responseBytes');
    if (asn1.readOid(rb[0], 'responseType') !== OID.ocspBasic) return unknown('the OCSP response is not a basic OCSP response');
    const basic = asn1.seq(asn1.decode(asn1.readOctets(rb[1], 'response')), 'BasicOCSPResponse');
    tbs = basic[0]!.raw;
    rd = [...asn1.seq(basic[0], 'ResponseData')];
    sigAlg = asn1.expectTag(basic[1], asn1.TAG.SEQUENCE, 'signatureAlgorithm');
    sig = asn1.readBitString(basic[2], 'signature').bytes;
    if (asn1.isContext(basic[3], 0)) {
      responderCerts = asn1.seq(basic[3].children[0], 'certs').map((c) => parseCertificate(c.raw.slice()));
    }
    let i = 0;
    if (asn1.isContext(rd[0], 0)) i++;
    const responderId = rd[i++];
    if (asn1.isContext(responderId, 1))
      responderName = asn1.expectTag(responderId.children[0], asn1.TAG.SEQUENCE, 'ResponderID byName').raw;
    else if (asn1.isContext(responderId, 2)) responderKeyHash = asn1.readOctets(responderId.children[0], 'ResponderID byKey');
    else throw new asn1.Asn1Error('ResponderID: expected [1] byName or [2] byKey');
    asn1.readTime(asn1.expectTag(rd[i++], asn1.TAG.GENERALIZED_TIME, 'producedAt'), 'producedAt');
    singles = asn1.seq(rd[i++], 'responses').map(parseSingle);
    if (asn1.isContext(rd[i], 1)) {
      for (const e of readExtensions(rd[i]!.children[0])) {
        if (e.oid === OID.ocspNonce) nonceExt = e.value;
      }
    }
  } catch (e) {
    return unknown(`the OCSP response is malformed: ${(e as Error).message}`);
  }

  // Who signed it: the issuer itself, or a delegated responder issued by it.
  const ip = certificatePartsOf(issuer);
  const matchesResponderId = async (c: Certificate): Promise<boolean> => {
    const parts = certificatePartsOf(c);
    if (responderName) return bytesEqual(responderName, parts.rawSubject);
    return responderKeyHash !== undefined && bytesEqual(responderKeyHash, await digest('SHA-1', parts.subjectPublicKey));
  };
  let signer: Certificate | undefined;
  if (await matchesResponderId(issuer)) signer = issuer;
  else {
    for (const c of responderCerts) {
      if (!(await matchesResponderId(c))) continue;
      if (!(await signedBy(c, issuer)))
        return unknown(`the OCSP responder certificate "${c.subject}" is not issued by "${issuer.subject}"`);
      if (!c.extKeyUsage?.oids.includes(OID.ocspSigning)) {
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
    ok = await verifySignature({ key: signer.publicKey, algorithm: sigAlg, data: tbs, signature: sig });
  } catch (e) {
    return unknown(`the OCSP response signature cannot be checked: ${(e as Error).message}`);
  }
  if (!ok) return unknown('the OCSP response signature does not verify');

  if (nonce && nonceExt) {
    let echoed: Uint8Array;
    try {
      echoed = asn1.readOctets(asn1.decode(nonceExt));
    } catch {
      echoed = nonceExt;
    }
    if (!bytesEqual(echoed, nonce)) return unknown('the OCSP response nonce differs from the request nonce');
  }

  const serial = certificatePartsOf(cert).serial;
  let single: SingleResponse | undefined;
  for (const s of singles) {
    if (s.serial !== serial) continue;
    const h = hashOfOid(s.hashOid);
    if (!h) continue;
    if (bytesEqual(s.nameHash, await digest(h, ip.rawSubject)) && bytesEqual(s.keyHash, await digest(h, ip.subjectPublicKey))) {
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
  if (asn1.isContext(st, 0)) return { status: 'good' };
  if (asn1.isContext(st, 1)) {
    const revokedAt = asn1.readTime(st.children[0], 'revocationTime');
    let reason: string | undefined;
    if (asn1.isContext(st.children[1], 0)) {
      const code = asn1.readSmallInt(st.children[1].children[0], 'revocationReason', asn1.TAG.ENUMERATED);
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
