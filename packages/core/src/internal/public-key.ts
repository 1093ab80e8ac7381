/** Public keys: the one SubjectPublicKeyInfo reader, and the two ECDSA signature encodings. */
import type { NamedCurve, PublicKeyInfo } from '../algorithms.js';
import { Asn1Error, type Asn1Node, decode, encInt, encSeq, expectTag, readBitString, readOid, seq, TAG } from '../asn1/index.js';
import { CRYPTO_OID } from './oids.js';

const CURVES: Readonly<Record<string, { curve?: NamedCurve; bits: number; coordinate: number }>> = {
  [CRYPTO_OID.p224]: { bits: 224, coordinate: 28 },
  [CRYPTO_OID.p256]: { curve: 'P-256', bits: 256, coordinate: 32 },
  [CRYPTO_OID.p384]: { curve: 'P-384', bits: 384, coordinate: 48 },
  [CRYPTO_OID.p521]: { curve: 'P-521', bits: 521, coordinate: 66 },
};

/** Byte length of each of r and s of an ECDSA signature on `curve`. */
export function ecCoordinateBytes(curve: NamedCurve): number {
  return curve === 'P-521' ? 66 : curve === 'P-384' ? 48 : 32;
}

/** Bit length of an unsigned big-endian magnitude. */
export function bitLength(magnitude: Uint8Array): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  if (i === magnitude.length) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i]!));
}

/**
 * Read a DER SubjectPublicKeyInfo: an RSA key (parameters NULL or absent, a positive modulus;
 * `bits` is the modulus size) or an EC key on a named curve with an uncompressed point (P-256,
 * P-384, P-521 set `curve`; P-224 is described but has none). Anything else throws Asn1Error.
 */
export function describePublicKey(spki: Uint8Array | Asn1Node): PublicKeyInfo {
  const node = spki instanceof Uint8Array ? decode(spki) : spki;
  const [alg, key, extra] = seq(node, 'SubjectPublicKeyInfo');
  if (extra) throw new Asn1Error('SubjectPublicKeyInfo has trailing fields');
  const [algOid, params] = seq(alg, 'SubjectPublicKeyInfo.algorithm');
  const oid = readOid(algOid, 'SubjectPublicKeyInfo.algorithm');
  const { unused, bytes } = readBitString(key, 'subjectPublicKey');
  if (unused !== 0) throw new Asn1Error('subjectPublicKey has unused bits');
  if (oid === CRYPTO_OID.rsaEncryption) {
    if (params && params.tag !== TAG.NULL) throw new Asn1Error('RSA key parameters must be NULL');
    const [n, e, more] = seq(decode(bytes), 'RSAPublicKey');
    expectTag(n, TAG.INTEGER, 'RSA modulus');
    expectTag(e, TAG.INTEGER, 'RSA exponent');
    if (more) throw new Asn1Error('RSAPublicKey has trailing fields');
    if (n!.value.length === 0 || n!.value[0]! & 0x80) throw new Asn1Error('RSA modulus is not positive');
    return { type: 'RSA', bits: bitLength(n!.value), spki: node.raw };
  }
  if (oid === CRYPTO_OID.ecPublicKey) {
    if (!params || params.tag !== TAG.OID) throw new Asn1Error('EC key must name its curve');
    const curveOid = readOid(params, 'EC curve');
    const c = CURVES[curveOid];
    if (!c) throw new Asn1Error(`unsupported elliptic curve ${curveOid}`);
    if (bytes.length !== 1 + 2 * c.coordinate || bytes[0] !== 0x04) throw new Asn1Error('EC public key is not an uncompressed point');
    const info: PublicKeyInfo = { type: 'EC', bits: c.bits, spki: node.raw, curveOid };
    if (c.curve) info.curve = c.curve;
    return info;
  }
  throw new Asn1Error(`unsupported public key algorithm ${oid} (vouch supports RSA and EC keys)`);
}

/**
 * An Ed25519 public key (RFC 8410). Not a Notary key type: only the checks that need one
 * (Sigstore signed-note checkpoints, Ed25519 public keys in trust material) use it.
 */
export interface Ed25519PublicKeyInfo {
  type: 'Ed25519';
  bits: 256;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
}

/** Any key {@link verifySignature} can check with: a Notary key (RSA, EC) or an Ed25519 key. */
export type VerificationKeyInfo = PublicKeyInfo | Ed25519PublicKeyInfo;

/**
 * Read a DER SubjectPublicKeyInfo as {@link describePublicKey} does, and also accept an Ed25519
 * key (id-Ed25519, no parameters, 32 bytes). Anything else throws Asn1Error.
 */
export function describeVerificationKey(spki: Uint8Array | Asn1Node): VerificationKeyInfo {
  const node = spki instanceof Uint8Array ? decode(spki) : spki;
  const [alg, key, extra] = seq(node, 'SubjectPublicKeyInfo');
  const [algOid, params, more] = seq(alg, 'SubjectPublicKeyInfo.algorithm');
  if (readOid(algOid, 'SubjectPublicKeyInfo.algorithm') !== CRYPTO_OID.ed25519) return describePublicKey(node);
  if (extra) throw new Asn1Error('SubjectPublicKeyInfo has trailing fields');
  if (params || more) throw new Asn1Error('an Ed25519 key has no parameters (RFC 8410)');
  const { unused, bytes } = readBitString(key, 'subjectPublicKey');
  if (unused !== 0 || bytes.length !== 32) throw new Asn1Error('an Ed25519 public key is 32 bytes');
  return { type: 'Ed25519', bits: 256, spki: node.raw };
}

/**
 * Convert a DER ECDSA-Sig-Value into the fixed-width r||s form WebCrypto verifies. r and s must
 * be positive, minimally encoded INTEGERs that fit `coordinateBytes` (as Go's parser requires).
 */
export function ecdsaDerToP1363(der: Uint8Array, coordinateBytes: number): Uint8Array {
  const [r, s, extra] = seq(decode(der), 'ECDSA-Sig-Value');
  if (extra) throw new Asn1Error('ECDSA signature has trailing fields');
  const out = new Uint8Array(coordinateBytes * 2);
  for (const [i, part] of [expectTag(r, TAG.INTEGER, 'r'), expectTag(s, TAG.INTEGER, 's')].entries()) {
    let v = part.value;
    if (v.length === 0 || v[0]! & 0x80) throw new Asn1Error('ECDSA signature integer is not positive');
    if (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) throw new Asn1Error('ECDSA signature integer is not minimally encoded');
    if (v[0] === 0) v = v.subarray(1);
    if (v.length === 0 || v.length > coordinateBytes) throw new Asn1Error('ECDSA signature integer is out of range');
    out.set(v, (i + 1) * coordinateBytes - v.length);
  }
  return out;
}

/** Convert a fixed-width r||s ECDSA signature into a DER ECDSA-Sig-Value. */
export function ecdsaP1363ToDer(signature: Uint8Array): Uint8Array {
  if (signature.length === 0 || signature.length % 2 !== 0) throw new Asn1Error('an r||s ECDSA signature has an even, non-zero length');
  const n = signature.length / 2;
  return encSeq(encInt(signature.subarray(0, n)), encInt(signature.subarray(n)));
}
