/**
 * The webhook's serving certificate: read from files, checked as a pair before use (so a bad
 * pair is refused with a message naming both files), and reloaded when the files change on disk
 * (cert-manager rotating the Secret, kubelet swapping the mounted files) without a restart.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { VouchError } from '@vouch/core';

/** A checked certificate/key pair. */
export interface TlsPair {
  /** PEM certificate chain (leaf first). */
  cert: string;
  /** PEM private key. */
  key: string;
  /** The leaf certificate's notAfter. */
  notAfter: Date;
  /** The leaf certificate's subject, for logs. */
  subject: string;
}

/** Where a pair came from, for messages: file paths, or flag names for in-memory material. */
export interface TlsSource {
  cert: string;
  key: string;
}

const PRIVATE_KEY_PEM = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;
const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----/;

function bad(source: TlsSource, reason: string, cause?: unknown): VouchError {
  return new VouchError(
    'ERR_CONFIG_INVALID',
    `the TLS certificate ${source.cert} and key ${source.key} cannot be used: ${reason}`,
    cause === undefined ? { details: { cert: source.cert, key: source.key } } : { cause, details: { cert: source.cert, key: source.key } },
  );
}

/**
 * Checks that `cert` is a PEM certificate (chain), `key` a PEM private key, and that the key
 * belongs to the first certificate; throws ERR_CONFIG_INVALID naming both sources otherwise
 * (swapped files are recognised as such).
 */
export function checkTlsPair(cert: string, key: string, source: TlsSource): TlsPair {
  const certHasCert = CERTIFICATE_PEM.test(cert);
  const keyHasKey = PRIVATE_KEY_PEM.test(key);
  if (!certHasCert && !keyHasKey && PRIVATE_KEY_PEM.test(cert) && CERTIFICATE_PEM.test(key)) {
    throw bad(source, `the two look swapped: ${source.cert} holds a private key and ${source.key} a certificate`);
  }
  if (!certHasCert) {
    const what = PRIVATE_KEY_PEM.test(cert) ? 'a private key, not a certificate' : 'no PEM CERTIFICATE block';
    throw bad(source, `${source.cert} holds ${what}`);
  }
  if (!keyHasKey) {
    const what = CERTIFICATE_PEM.test(key) ? 'a certificate, not a private key' : 'no PEM PRIVATE KEY block';
    throw bad(source, `${source.key} holds ${what}`);
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    throw bad(source, `${source.cert} is not a readable certificate (${(e as Error).message})`, e);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    const encrypted = /ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED/.test(key) ? ' (encrypted keys are not supported)' : '';
    throw bad(source, `${source.key} is not a readable private key${encrypted} (${(e as Error).message})`, e);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw bad(
      source,
      `the private key in ${source.key} does not belong to the certificate in ${source.cert} (${x509.subject.replace(/\n/g, ', ')})`,
    );
  }
  try {
    createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
  } catch (e) {
    throw bad(source, (e as Error).message, e);
  }
  return { cert, key, notAfter: new Date(x509.validTo), subject: x509.subject.replace(/\n/g, ', ') };
}

/** Reads and checks the pair in `certFile` and `keyFile` (ERR_IO when a file cannot be read). */
export async function loadTlsFiles(certFile: string, keyFile: string): Promise<TlsPair> {
  const read = async (path: string, what: string) => {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      throw new VouchError('ERR_IO', `cannot read the TLS ${what} ${path}: ${(e as Error).message}`, { cause: e, details: { path } });
    }
  };
  const [cert, key] = await Promise.all([read(certFile, 'certificate'), read(keyFile, 'key')]);
  return checkTlsPair(cert, key, { cert: certFile, key: keyFile });
}
