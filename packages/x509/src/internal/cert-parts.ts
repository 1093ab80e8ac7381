/**
 * The raw parts of a certificate that the model does not carry: what signature checks, chain
 * links and CMS/OCSP/CRL references need. One view, cached with the parsed certificate
 * (`certificatePartsOf` in ../certificate.ts).
 */
import { VouchError } from '@vouch/core';
import { Asn1Error, type Asn1Node, decode, expectTag, readBitString, readBoolean, readInteger, readOid, seq, TAG } from '@vouch/core/asn1';
import type { CertificateExtension } from '../types.js';

/** The signed parts of a certificate and the raw names and key that references are matched on. */
export interface CertificateParts {
  /** DER of the TBSCertificate (the signed bytes). */
  tbs: Uint8Array;
  /** OID of the signature algorithm. */
  signatureAlgorithm: string;
  /** The signature AlgorithmIdentifier, decoded (for `signatureScheme`). */
  signatureAlgorithmId: Asn1Node;
  /** The signatureValue BIT STRING content. */
  signature: Uint8Array;
  /** The serial number. */
  serial: bigint;
  /** DER of the issuer Name. */
  rawIssuer: Uint8Array;
  /** DER of the subject Name. */
  rawSubject: Uint8Array;
  /** The subjectPublicKey BIT STRING content (what key identifiers and OCSP CertIDs hash). */
  subjectPublicKey: Uint8Array;
}

/**
 * Decode the parts of certificate DER.
 *
 * @throws VouchError ERR_CERT_INVALID when the bytes are not a certificate.
 */
export function decodeCertificateParts(der: Uint8Array): CertificateParts {
  try {
    const [tbs, alg, sig] = seq(decode(der), 'Certificate');
    const fields = seq(tbs, 'TBSCertificate');
    const off = fields[0]?.tag === 0xa0 ? 1 : 0;
    const signatureAlgorithmId = expectTag(alg, TAG.SEQUENCE, 'signatureAlgorithm');
    const { unused, bytes } = readBitString(sig, 'signatureValue');
    if (unused !== 0) throw new Error('signature BIT STRING has unused bits');
    const spki = seq(fields[off + 5], 'subjectPublicKeyInfo');
    return {
      tbs: tbs!.raw,
      signatureAlgorithm: readOid(signatureAlgorithmId.children[0], 'signatureAlgorithm.algorithm'),
      signatureAlgorithmId,
      signature: bytes,
      // The model keeps the serial as it is; as a bigint, two's complement, non-minimal bytes allowed.
      serial: readInteger(serialNode(fields[off]), 'serialNumber'),
      rawIssuer: expectTag(fields[off + 2], TAG.SEQUENCE, 'issuer').raw,
      rawSubject: expectTag(fields[off + 4], TAG.SEQUENCE, 'subject').raw,
      subjectPublicKey: readBitString(spki[1], 'subjectPublicKey').bytes,
    };
  } catch (e) {
    throw new VouchError('ERR_CERT_INVALID', `certificate could not be decoded: ${(e as Error).message}`, { cause: e });
  }
}

/** The serial INTEGER read leniently (certificates in the wild carry non-minimal serials; parsing accepts them). */
function serialNode(n: Asn1Node | undefined): Asn1Node | undefined {
  if (n?.encoding !== 'der') return n;
  return decode(n.raw, { encoding: 'ber' });
}

/**
 * An Extensions SEQUENCE (RFC 5280: certificates, CRLs and CRL entries; RFC 6960: OCSP), each
 * extension as its extnID, criticality (DEFAULT FALSE) and the contents of its extnValue.
 * Absent (`undefined`) reads as none.
 */
export function readExtensions(n: Asn1Node | undefined): CertificateExtension[] {
  if (!n) return [];
  return seq(n, 'Extensions').map((e) => {
    const parts = seq(e, 'Extension');
    const oid = readOid(parts[0], 'extnID');
    let j = 1;
    let critical = false;
    if (parts[j]?.tag === TAG.BOOLEAN) critical = readBoolean(parts[j++], 'critical');
    const value = expectTag(parts[j++], TAG.OCTET_STRING, 'extnValue').value;
    if (j !== parts.length) throw new Asn1Error('Extension has trailing fields');
    return { oid, critical, value };
  });
}
