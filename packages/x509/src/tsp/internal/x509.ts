/**
 * The one place ./tsp and ./revocation reach into the rest of @vouch/x509, plus small
 * DER views of a certificate that the certificate model does not carry (raw issuer /
 * subject names, the raw signature parts). Internal.
 */
import type { Certificate } from '../../types.js';
import { type Asn1, decode, isContext, readInt, readOctets, readOid, seq, TAG } from './der.js';

export { parseCertificate, parseCertificates } from '../../certificate.js';
export { validateSigningChain, validateTimestampingChain } from '../../chain.js';

/** Raw pieces of a certificate needed to match CMS/OCSP/CRL references and check signatures. */
export interface CertParts {
  tbs: Uint8Array;
  signatureAlgorithm: Asn1;
  signature: Uint8Array;
  serial: bigint;
  /** DER of the issuer Name. */
  issuer: Uint8Array;
  /** DER of the subject Name. */
  subject: Uint8Array;
  /** BIT STRING content of subjectPublicKey (without the unused-bits byte). */
  subjectPublicKey: Uint8Array;
  /** Extensions by OID: criticality and the extnValue content. */
  extensions: Map<string, { critical: boolean; value: Uint8Array }>;
}

const cache = new WeakMap<Uint8Array, CertParts>();

export function certParts(cert: Certificate): CertParts {
  const hit = cache.get(cert.der);
  if (hit) return hit;
  const top = seq(decode(cert.der), 'certificate');
  const tbs = seq(top[0], 'tbsCertificate');
  let i = 0;
  if (isContext(tbs[0], 0)) i = 1;
  const spki = seq(tbs[i + 5], 'subjectPublicKeyInfo');
  const parts: CertParts = {
    tbs: top[0]!.raw,
    signatureAlgorithm: top[1]!,
    signature: top[2]!.content.subarray(1),
    serial: readInt(tbs[i], 'serial number'),
    issuer: tbs[i + 2]!.raw,
    subject: tbs[i + 4]!.raw,
    subjectPublicKey: spki[1]!.content.subarray(1),
    extensions: new Map(),
  };
  const extsNode = tbs.slice(i + 6).find((n) => isContext(n, 3));
  for (const e of extsNode ? seq(extsNode.children[0], 'extensions') : []) {
    const p = seq(e, 'extension');
    const critical = p[1]?.tag === TAG.BOOLEAN ? p[1].content[0] !== 0 : false;
    parts.extensions.set(readOid(p[0], 'extension id'), { critical, value: readOctets(p[p.length - 1], 'extension value') });
  }
  cache.set(cert.der, parts);
  return parts;
}
