import { readFile } from 'node:fs/promises';
import { isVouchError, VouchError } from '@vouch/core';
import { type Certificate, parseCertificates, verifyCertificateSignature } from '@vouch/x509';

const EXPECTING = 'Expecting single x509 root certificate in PEM or DER format from the file';

/**
 * Load `--timestamp-root-cert` as notation does before anything is signed: the file must hold
 * exactly one certificate (PEM or DER), whose signature verifies with its own key and whose
 * subject and issuer are the same name. Messages follow notation's wording.
 *
 * @throws VouchError ERR_IO (unreadable file), ERR_CERT_INVALID (malformed, none, several,
 *   not a root).
 */
export async function loadTsaRootCertificate(path: string, display = path): Promise<Certificate> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new VouchError('ERR_IO', `cannot read the timestamp root certificate file ${display}: ${(e as Error).message}`, {
      cause: e,
      details: { path },
    });
  }
  let certs: Certificate[] = [];
  const isBlank = bytes.every((b) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09);
  if (!isBlank) {
    try {
      certs = parseCertificates(bytes);
    } catch (e) {
      const why = isVouchError(e) ? e.message : String(e);
      throw new VouchError('ERR_CERT_INVALID', `x509: malformed certificate in ${display}: ${why}`, { cause: e, details: { path } });
    }
  }
  if (certs.length === 0) {
    throw new VouchError('ERR_CERT_INVALID', `cannot find any certificate from ${JSON.stringify(display)}. ${EXPECTING}`, {
      details: { path },
    });
  }
  if (certs.length > 1) {
    throw new VouchError('ERR_CERT_INVALID', `found more than one certificates from ${JSON.stringify(display)}. ${EXPECTING}`, {
      details: { path, count: certs.length },
    });
  }
  const cert = certs[0]!;
  let signedByItself: boolean;
  try {
    signedByItself = await verifyCertificateSignature(cert, cert);
  } catch (e) {
    throw new VouchError('ERR_CERT_INVALID', `failed to check root certificate with error: ${(e as Error).message}`, {
      cause: e,
      details: { path },
    });
  }
  if (!signedByItself) {
    throw new VouchError(
      'ERR_CERT_INVALID',
      `failed to check root certificate with error: ${cert.publicKey.type === 'RSA' ? 'crypto/rsa: verification error' : 'signature verification error'} (the certificate ${cert.subject} is not signed by its own key)`,
      { details: { path, subject: cert.subject } },
    );
  }
  if (!cert.selfSigned) {
    throw new VouchError('ERR_CERT_INVALID', `certificate from ${JSON.stringify(display)} is not a root certificate. ${EXPECTING}`, {
      details: { path, subject: cert.subject, issuer: cert.issuer },
    });
  }
  return cert;
}
