/**
 * WebCrypto helpers shared by ./tsp and ./revocation: hashing by OID and signature
 * verification for the algorithms the Notary specification admits (RSA PKCS#1 v1.5,
 * RSASSA-PSS, ECDSA with SHA-256/384/512). SHA-1 based signatures are refused. Internal.
 */
import type { PublicKeyInfo } from '../../types.js';
import { type Asn1, Asn1Error, decode, isContext, readOid, readSmallInt, seq, TAG } from './der.js';

export type HashName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

export const OID = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha1WithRSA: '1.2.840.113549.1.1.5',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha1: '1.2.840.10045.4.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
} as const;

const HASH_BY_OID: Record<string, HashName> = {
  [OID.sha1]: 'SHA-1',
  [OID.sha256]: 'SHA-256',
  [OID.sha384]: 'SHA-384',
  [OID.sha512]: 'SHA-512',
};

export const HASH_OID: Record<HashName, string> = {
  'SHA-1': OID.sha1,
  'SHA-256': OID.sha256,
  'SHA-384': OID.sha384,
  'SHA-512': OID.sha512,
};

/** The hash named by a digest-algorithm OID, or undefined. */
export function hashByOid(oid: string): HashName | undefined {
  return HASH_BY_OID[oid];
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return s;
}

export async function digest(hash: HashName, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest(hash, data as Uint8Array<ArrayBuffer>));
}

/** A resolved signature scheme. */
interface Scheme {
  kind: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'ECDSA';
  hash: HashName;
  saltLength?: number;
}

/** Thrown for algorithms vouch refuses or does not know. */
export class UnsupportedAlgorithmError extends Error {}

/**
 * Resolve a signature AlgorithmIdentifier. `digestOid` is the CMS SignerInfo digestAlgorithm,
 * used when the signature algorithm names only the key type (rsaEncryption, id-ecPublicKey).
 */
export function resolveScheme(sigAlg: Asn1, digestOid?: string): Scheme {
  const parts = seq(sigAlg, 'signature algorithm');
  const oid = readOid(parts[0], 'signature algorithm');
  const fromDigest = (): HashName => {
    const h = digestOid ? hashByOid(digestOid) : undefined;
    if (!h) throw new UnsupportedAlgorithmError(`unsupported digest algorithm ${digestOid ?? '(none)'}`);
    return h;
  };
  let scheme: Scheme;
  switch (oid) {
    case OID.sha256WithRSA:
      scheme = { kind: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
      break;
    case OID.sha384WithRSA:
      scheme = { kind: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' };
      break;
    case OID.sha512WithRSA:
      scheme = { kind: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' };
      break;
    case OID.rsaEncryption:
      scheme = { kind: 'RSASSA-PKCS1-v1_5', hash: fromDigest() };
      break;
    case OID.ecdsaWithSha256:
      scheme = { kind: 'ECDSA', hash: 'SHA-256' };
      break;
    case OID.ecdsaWithSha384:
      scheme = { kind: 'ECDSA', hash: 'SHA-384' };
      break;
    case OID.ecdsaWithSha512:
      scheme = { kind: 'ECDSA', hash: 'SHA-512' };
      break;
    case OID.ecPublicKey:
      scheme = { kind: 'ECDSA', hash: fromDigest() };
      break;
    case OID.rsassaPss:
      scheme = pssScheme(parts[1]);
      break;
    case OID.sha1WithRSA:
    case OID.ecdsaWithSha1:
      throw new UnsupportedAlgorithmError(`SHA-1 signatures are not accepted (algorithm ${oid})`);
    default:
      throw new UnsupportedAlgorithmError(`unsupported signature algorithm ${oid}`);
  }
  if (scheme.hash === 'SHA-1') throw new UnsupportedAlgorithmError('SHA-1 signatures are not accepted');
  return scheme;
}

function pssScheme(params: Asn1 | undefined): Scheme {
  // RSASSA-PSS-params: [0] hashAlgorithm (default SHA-1), [1] maskGen, [2] saltLength (default 20), [3] trailerField
  let hash: HashName = 'SHA-1';
  let saltLength = 20;
  for (const p of params ? seq(params, 'RSASSA-PSS parameters') : []) {
    if (isContext(p, 0)) {
      const h = hashByOid(readOid(seq(p.children[0], 'PSS hash')[0], 'PSS hash'));
      if (!h) throw new UnsupportedAlgorithmError('unsupported RSASSA-PSS hash');
      hash = h;
    } else if (isContext(p, 1)) {
      const mgf = seq(p.children[0], 'PSS mask generation');
      if (readOid(mgf[0]) !== OID.mgf1) throw new UnsupportedAlgorithmError('unsupported RSASSA-PSS mask generation');
      const mh = hashByOid(readOid(seq(mgf[1], 'MGF1 hash')[0]));
      if (mh !== hash) throw new UnsupportedAlgorithmError('RSASSA-PSS MGF1 hash differs from the message hash');
    } else if (isContext(p, 2)) {
      saltLength = readSmallInt(p.children[0], 'PSS salt length');
    }
  }
  return { kind: 'RSA-PSS', hash, saltLength };
}

/** Convert a DER ECDSA-Sig-Value to the fixed-width r||s form WebCrypto verifies. */
function ecdsaRaw(sig: Uint8Array, size: number): Uint8Array {
  const parts = seq(decode(sig), 'ECDSA signature');
  if (parts.length !== 2) throw new Asn1Error('ECDSA signature: expected r and s');
  const out = new Uint8Array(size * 2);
  parts.forEach((p, i) => {
    if (p.tag !== TAG.INTEGER) throw new Asn1Error('ECDSA signature: bad integer');
    let v = p.content;
    while (v.length > 0 && v[0] === 0) v = v.subarray(1);
    if (v.length > size) throw new Asn1Error('ECDSA signature: integer too long');
    out.set(v, i * size + (size - v.length));
  });
  return out;
}

const CURVE_BYTES: Record<string, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

/**
 * Verify `signature` over `data` with the key of a certificate. Returns false for a
 * signature that does not verify; throws UnsupportedAlgorithmError / Asn1Error for
 * algorithms or encodings that cannot be checked.
 */
export async function verifySignature(
  key: PublicKeyInfo,
  sigAlg: Asn1,
  data: Uint8Array,
  signature: Uint8Array,
  digestOid?: string,
): Promise<boolean> {
  const scheme = resolveScheme(sigAlg, digestOid);
  const s = subtle();
  const spki = key.spki as Uint8Array<ArrayBuffer>;
  if (scheme.kind === 'ECDSA') {
    if (key.type !== 'EC' || !key.curve) throw new UnsupportedAlgorithmError('ECDSA signature with a non-EC key');
    let raw: Uint8Array;
    try {
      raw = ecdsaRaw(signature, CURVE_BYTES[key.curve]!);
    } catch {
      return false;
    }
    const k = await s.importKey('spki', spki, { name: 'ECDSA', namedCurve: key.curve }, false, ['verify']);
    return s.verify({ name: 'ECDSA', hash: scheme.hash }, k, raw as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>);
  }
  if (key.type !== 'RSA') throw new UnsupportedAlgorithmError('RSA signature with a non-RSA key');
  const k = await s.importKey('spki', spki, { name: scheme.kind, hash: scheme.hash }, false, ['verify']);
  const params = scheme.kind === 'RSA-PSS' ? { name: 'RSA-PSS', saltLength: scheme.saltLength } : { name: scheme.kind };
  return s.verify(params, k, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>);
}
