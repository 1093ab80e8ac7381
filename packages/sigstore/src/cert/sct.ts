/**
 * Embedded signed certificate timestamps (RFC 6962 §3.3): the SCT list extension of a
 * certificate, and each SCT's signature over the precertificate entry — the TBSCertificate
 * without the SCT list extension, bound to the issuer by the SHA-256 of its
 * SubjectPublicKeyInfo (RFC 6962 §3.2).
 */

import { VouchError } from '@vouch/core';
import { Asn1Error, decode, readOctets, readOid, seq, TAG, tlv } from '@vouch/core/asn1';
import { bytesEqual, concatBytes, hashBytes, toBase64, uintBytes as u, type VerificationScheme } from '@vouch/core/internal';
import type { Certificate } from '@vouch/x509';
import { verifyWithScheme } from '../internal/keys.js';
import type { TransparencyLogKey } from '../types.js';

/** The SCT list extension (RFC 6962 §3.3). */
export const SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';

/** One SCT of a certificate (v1). */
export interface SignedCertificateTimestamp {
  readonly version: number;
  readonly logId: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly extensions: Uint8Array;
  /** TLS HashAlgorithm (4 = SHA-256, 5 = SHA-384, 6 = SHA-512). */
  readonly hashAlgorithm: number;
  /** TLS SignatureAlgorithm (1 = RSA, 3 = ECDSA). */
  readonly signatureAlgorithm: number;
  readonly signature: Uint8Array;
}

const MAX_SCTS = 64;

function invalid(message: string, cause?: unknown): VouchError {
  return new VouchError('ERR_SCT_INVALID', message, cause === undefined ? {} : { cause });
}

class Reader {
  p = 0;
  constructor(readonly b: Uint8Array) {}
  u(n: number): number {
    if (this.p + n > this.b.length) throw new Error('truncated');
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.b[this.p++]!;
    return v;
  }
  bytes(n: number): Uint8Array {
    if (this.p + n > this.b.length) throw new Error('truncated');
    const out = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }
  vec(lenBytes: number): Uint8Array {
    return this.bytes(this.u(lenBytes));
  }
  get done(): boolean {
    return this.p === this.b.length;
  }
}

/**
 * Parse a TLS-encoded SignedCertificateTimestampList (the OCTET STRING inside the extension
 * value). Every SCT must be v1 and consume its bytes exactly.
 *
 * @throws VouchError ERR_SCT_INVALID when the list is malformed.
 */
export function parseSctList(list: Uint8Array): SignedCertificateTimestamp[] {
  try {
    const outer = new Reader(list);
    const all = new Reader(outer.vec(2));
    if (!outer.done) throw new Error('trailing bytes after the list');
    const out: SignedCertificateTimestamp[] = [];
    while (!all.done) {
      if (out.length >= MAX_SCTS) throw new Error(`more than ${MAX_SCTS} SCTs`);
      const one = new Reader(all.vec(2));
      const version = one.u(1);
      if (version !== 0) throw new Error(`SCT version ${version + 1} is not v1`);
      const logId = one.bytes(32);
      const timestamp = one.u(8);
      if (!Number.isSafeInteger(timestamp)) throw new Error('SCT timestamp out of range');
      const extensions = one.vec(2);
      const hashAlgorithm = one.u(1);
      const signatureAlgorithm = one.u(1);
      const signature = one.vec(2);
      if (!one.done) throw new Error('trailing bytes in an SCT');
      out.push({ version, logId, timestamp, extensions, hashAlgorithm, signatureAlgorithm, signature });
    }
    if (out.length === 0) throw new Error('the list is empty');
    return out;
  } catch (e) {
    throw invalid(`the SCT list is malformed: ${(e as Error).message}`, e);
  }
}

/** The SCTs embedded in `cert` (empty when it has no SCT list extension). */
export function embeddedScts(cert: Certificate): SignedCertificateTimestamp[] {
  const ext = (cert.extensions ?? []).find((e) => e.oid === SCT_LIST_OID);
  if (!ext) return [];
  let list: Uint8Array;
  try {
    list = readOctets(decode(ext.value), 'SignedCertificateTimestampList');
  } catch (e) {
    throw invalid(`the SCT list extension is not an OCTET STRING: ${(e as Error).message}`, e);
  }
  return parseSctList(list);
}

/** The TBSCertificate of `cert` without its SCT list extension (the precertificate's TBS). */
export function precertificateTbs(cert: Certificate): Uint8Array {
  try {
    const [tbs] = seq(decode(cert.der), 'Certificate');
    const fields = seq(tbs, 'TBSCertificate');
    const parts: Uint8Array[] = [];
    for (const f of fields) {
      if (f.tag !== 0xa3) {
        parts.push(f.raw);
        continue;
      }
      const exts = seq(f.children[0], 'Extensions').filter((e) => readOid(seq(e, 'Extension')[0], 'extnID') !== SCT_LIST_OID);
      if (exts.length > 0) parts.push(tlv(0xa3, tlv(TAG.SEQUENCE, ...exts.map((e) => e.raw))));
    }
    return tlv(TAG.SEQUENCE, ...parts);
  } catch (e) {
    if (e instanceof Asn1Error) throw invalid(`the certificate cannot be read as a precertificate: ${e.message}`, e);
    throw e;
  }
}

/** The bytes an SCT signs for a precertificate entry (RFC 6962 §3.2 `digitally-signed` struct). */
export function sctSignedData(sct: SignedCertificateTimestamp, tbs: Uint8Array, issuerSpki: Uint8Array): Uint8Array {
  return concatBytes(
    new Uint8Array([sct.version, 0]), // version, signature_type = certificate_timestamp
    u(sct.timestamp, 8),
    u(1, 2), // entry_type = precert_entry
    hashBytes(issuerSpki, 'sha256'),
    u(tbs.length, 3),
    tbs,
    u(sct.extensions.length, 2),
    sct.extensions,
  );
}

function schemeOf(sct: SignedCertificateTimestamp, log: TransparencyLogKey): VerificationScheme | undefined {
  const hash = sct.hashAlgorithm === 4 ? 'SHA-256' : sct.hashAlgorithm === 5 ? 'SHA-384' : sct.hashAlgorithm === 6 ? 'SHA-512' : undefined;
  if (!hash) return undefined;
  if (sct.signatureAlgorithm === 3 && log.key.type === 'EC') return { kind: 'ECDSA', hash, encoding: 'der' };
  if (sct.signatureAlgorithm === 1 && log.key.type === 'RSA') return { kind: 'RSASSA-PKCS1-v1_5', hash };
  return undefined;
}

/** The outcome of checking a certificate's embedded SCTs. */
export interface SctCheck {
  /** SCTs whose log is trusted (valid at the SCT's time) and whose signature verifies. */
  readonly verified: number;
  /** One line per SCT that did not verify, and why. */
  readonly problems: readonly string[];
}

/** Verify the embedded SCTs of `leaf` (issued by `issuer`) against the trusted CT logs. */
export async function verifyEmbeddedScts(leaf: Certificate, issuer: Certificate, ctlogs: readonly TransparencyLogKey[]): Promise<SctCheck> {
  const scts = embeddedScts(leaf);
  if (scts.length === 0) return { verified: 0, problems: ['the certificate has no embedded SCT'] };
  const tbs = precertificateTbs(leaf);
  const problems: string[] = [];
  let verified = 0;
  for (const sct of scts) {
    const at = sct.timestamp;
    const log = ctlogs.find(
      (l) =>
        bytesEqual(l.logId, sct.logId) &&
        (l.validFor.start === undefined || l.validFor.start.getTime() <= at) &&
        (l.validFor.end === undefined || at <= l.validFor.end.getTime()),
    );
    if (!log) {
      problems.push(`SCT from an unknown CT log (log ID ${toBase64(sct.logId)}) or outside the log's validity`);
      continue;
    }
    const scheme = schemeOf(sct, log);
    if (!scheme) {
      problems.push(
        `SCT with hash/signature algorithm ${sct.hashAlgorithm}/${sct.signatureAlgorithm} that the log's ${log.key.type} key cannot check`,
      );
      continue;
    }
    if (await verifyWithScheme(log.key, scheme, sctSignedData(sct, tbs, issuer.publicKey.spki), sct.signature)) verified++;
    else problems.push(`the SCT signature by CT log ${log.baseUrl ?? toBase64(log.logId)} does not verify`);
  }
  return { verified, problems };
}
