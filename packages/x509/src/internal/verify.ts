/**
 * Signature checks of @vouch/x509 on top of the one verification function
 * (`verifySignature` in `@vouch/core/internal`, where the algorithm and key rules live):
 * certificate signatures with per-certificate memos, the issuer link the timestamp and
 * revocation code build chains with, and hashing by name for CMS and OCSP.
 */

import { type HashAlgorithm, isVouchError, type NamedCurve, VouchError } from '@vouch/core';
import {
  bytesEqual,
  ecCoordinateBytes,
  ecdsaDerToP1363,
  type SignatureScheme,
  signatureScheme,
  verifySignature,
} from '@vouch/core/internal';
import { certificateMemo, certificatePartsOf } from '../certificate.js';
import type { Certificate } from '../types.js';

/**
 * Verify that `issuer`'s key signed `cert` (signature only: names and constraints are the
 * chain validator's job). RSA PKCS#1 v1.5 and RSA-PSS with SHA-256/384/512 and ECDSA with
 * SHA-256/384/512 are supported; the RSA-PSS parameters must be the ones Go accepts.
 *
 * @returns true when the signature verifies, false when it does not.
 * @throws VouchError ERR_CERT_INVALID when the algorithm is insecure (SHA-1, MD5) or unsupported,
 *   or when the issuer's key does not fit the signature algorithm.
 */
export async function verifyCertificateSignature(cert: Certificate, issuer: Certificate): Promise<boolean> {
  const parts = certificatePartsOf(cert);
  const ik = issuer.publicKey;
  // What the check needs from this DER (the scheme, an ECDSA signature in r||s form for the
  // issuer's curve) is a pure function of it: prepared once and kept with the parsed certificate.
  const memo = certificateMemo(cert);
  const memoKey = `check:${ik.type}/${ik.curve ?? ''}`;
  let prepared = memo?.get(memoKey) as Prepared | undefined;
  try {
    if (!prepared) {
      prepared = prepare(signatureScheme(parts.signatureAlgorithmId), parts.signature, ik.curve);
      memo?.set(memoKey, prepared);
    }
    if (!prepared.signature) return false;
    return await verifySignature({
      key: ik,
      algorithm: prepared.scheme,
      data: parts.tbs,
      signature: prepared.signature,
      keyMemo: certificateMemo(issuer),
    });
  } catch (e) {
    if (isVouchError(e)) throw e;
    throw new VouchError('ERR_CERT_INVALID', `certificate signature cannot be checked: ${(e as Error).message}`, { cause: e });
  }
}

interface Prepared {
  scheme: SignatureScheme;
  /** Undefined when the signature value is malformed (it does not verify). */
  signature: Uint8Array | undefined;
}

function prepare(scheme: SignatureScheme, signature: Uint8Array, curve: NamedCurve | undefined): Prepared {
  if (scheme.kind !== 'ECDSA' || scheme.encoding !== 'der' || !curve) return { scheme, signature };
  try {
    return { scheme: { ...scheme, encoding: 'raw' }, signature: ecdsaDerToP1363(signature, ecCoordinateBytes(curve)) };
  } catch {
    return { scheme, signature: undefined };
  }
}

/** True when `parent`'s subject is `child`'s issuer (raw names) and `parent`'s key verifies `child`'s signature. */
export async function signedBy(child: Certificate, parent: Certificate): Promise<boolean> {
  if (!bytesEqual(certificatePartsOf(child).rawIssuer, certificatePartsOf(parent).rawSubject)) return false;
  try {
    return await verifyCertificateSignature(child, parent);
  } catch {
    return false;
  }
}

/** WebCrypto digest; SHA-1 only where a protocol requires it (OCSP CertIDs, RFC 5019). */
export async function digest(hash: HashAlgorithm | 'SHA-1', data: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new VouchError('ERR_UNSUPPORTED', 'WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return new Uint8Array(await subtle.digest(hash, data as Uint8Array<ArrayBuffer>));
}
