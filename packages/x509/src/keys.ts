/**
 * Keys: WebCrypto import/export, the Notary key specs, and certificate signature checks.
 * Runs anywhere `globalThis.crypto.subtle` exists (browsers, Deno, Bun, Node ≥ 20, edge).
 */
import {
  type CertificateSignatureAlgorithm,
  decodePem,
  isVouchError,
  KEY_SPECS,
  type KeySpec,
  type SignatureAlgorithm,
  VouchError,
} from '@vouch/core';
import { Asn1Error, decode, encInt, encNull, encOctets, encOid, encSeq, expectTag, readOid, seq, TAG } from '@vouch/core/asn1';
import {
  bitLength,
  importVerificationKey,
  isCertificateSignatureAlgorithm,
  keySpecInfo,
  keySpecOfKey,
  SignatureCheckError,
  signatureAlgorithmInfo,
  signatureScheme,
} from '@vouch/core/internal';
import { certificateMemo } from './certificate.js';
import { OID } from './internal/oids.js';
import type { Certificate, PublicKeyInfo } from './types.js';

export type { CertificateSignatureAlgorithm, KeySpec, SignatureAlgorithm } from '@vouch/core';
export { ecdsaDerToP1363, ecdsaP1363ToDer } from '@vouch/core/internal';
export { verifyCertificateSignature } from './internal/verify.js';
export { KEY_SPECS };

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new VouchError('ERR_UNSUPPORTED', 'WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return s;
}

const buf = (b: Uint8Array): Uint8Array<ArrayBuffer> => b as Uint8Array<ArrayBuffer>;

function webCryptoParams(algorithm: CertificateSignatureAlgorithm, curve?: string): RsaHashedImportParams | EcKeyImportParams {
  if (!isCertificateSignatureAlgorithm(algorithm))
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `unsupported signature algorithm "${algorithm}"`);
  const { hash } = signatureAlgorithmInfo(algorithm);
  if (algorithm.startsWith('PS')) return { name: 'RSA-PSS', hash };
  if (algorithm.startsWith('RS')) return { name: 'RSASSA-PKCS1-v1_5', hash };
  if (!curve) throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `${algorithm} needs an EC key on a named curve`);
  return { name: 'ECDSA', namedCurve: curve };
}

function isCertificate(k: PublicKeyInfo | Certificate): k is Certificate {
  return (k as Certificate).publicKey !== undefined && (k as Certificate).der !== undefined;
}

/** The key spec of a public key (or of a certificate's key). */
export function keySpecOf(key: PublicKeyInfo | Certificate): KeySpec {
  const pk = isCertificate(key) ? key.publicKey : key;
  const spec = keySpecOfKey(pk);
  if (spec) return spec;
  const what = pk.type === 'RSA' ? `rsa key size ${pk.bits} bits` : `ecdsa key size ${pk.bits} bits`;
  throw new VouchError(
    'ERR_CERT_INVALID',
    `${what} is not supported: the Notary Project allows RSA 2048/3072/4096 and EC P-256/P-384/P-521 keys`,
    { details: { keyType: pk.type, bits: pk.bits } },
  );
}

/** The signature algorithm the Notary specification pairs with a key spec (RSA → PSS). */
export function signatureAlgorithmOf(keySpec: KeySpec): SignatureAlgorithm {
  if (!KEY_SPECS.includes(keySpec)) throw new VouchError('ERR_INVALID_ARGUMENT', `unknown key spec "${String(keySpec)}"`);
  return keySpecInfo(keySpec).algorithm;
}

/**
 * Import a public key (or a certificate's key) as a WebCrypto verification key for
 * `algorithm`. The key family must fit the algorithm (RSA for PS/RS, EC for ES).
 */
export async function importPublicKey(key: PublicKeyInfo | Certificate, algorithm: CertificateSignatureAlgorithm): Promise<CryptoKey> {
  const pk = isCertificate(key) ? key.publicKey : key;
  if (!isCertificateSignatureAlgorithm(algorithm))
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `unsupported signature algorithm "${algorithm}"`);
  if (pk.type !== signatureAlgorithmInfo(algorithm).keyType) {
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `algorithm ${algorithm} cannot be used with an ${pk.type} key`);
  }
  // Family and curve only: which key size pairs with which algorithm is the caller's rule.
  const { keySpec: _notaryPairing, ...scheme } = signatureScheme(algorithm);
  try {
    return await importVerificationKey(pk, scheme, isCertificate(key) ? certificateMemo(key) : undefined);
  } catch (e) {
    if (e instanceof SignatureCheckError && e.reason === 'key' && !e.cause) throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', e.message);
    throw new VouchError('ERR_CERT_INVALID', `public key could not be imported for ${algorithm}: ${(e as Error).message}`, { cause: e });
  }
}

// ---------------------------------------------------------------- private keys

interface Pkcs8Info {
  pkcs8: Uint8Array;
  type: 'RSA' | 'EC';
  bits: number;
  curve?: 'P-256' | 'P-384' | 'P-521';
}

const CURVE_BY_OID: Record<string, 'P-256' | 'P-384' | 'P-521'> = {
  [OID.p256]: 'P-256',
  [OID.p384]: 'P-384',
  [OID.p521]: 'P-521',
};

function rsaBitsOfPkcs1(pkcs1: Uint8Array): number {
  const f = seq(decode(pkcs1), 'RSAPrivateKey');
  return bitLength(expectTag(f[1], TAG.INTEGER, 'modulus').value);
}

/** Normalise PKCS#8, PKCS#1 (RSA PRIVATE KEY) or SEC1 (EC PRIVATE KEY) into PKCS#8 and describe it. */
function toPkcs8(der: Uint8Array, label: string): Pkcs8Info {
  if (label === 'RSA PRIVATE KEY') {
    const bits = rsaBitsOfPkcs1(der);
    const pkcs8 = encSeq(encInt(0), encSeq(encOid(OID.rsaEncryption), encNull()), encOctets(der));
    return { pkcs8, type: 'RSA', bits };
  }
  if (label === 'EC PRIVATE KEY') {
    const f = seq(decode(der), 'ECPrivateKey');
    const params = f.find((x) => x.tag === 0xa0);
    if (!params) throw new Asn1Error('EC PRIVATE KEY does not name its curve');
    const curveOid = readOid(params.children[0], 'ECPrivateKey curve');
    const curve = CURVE_BY_OID[curveOid];
    if (!curve) throw new Asn1Error(`unsupported curve ${curveOid}`);
    // PKCS#8 carries the curve in the AlgorithmIdentifier; drop [0] parameters from the inner key.
    const inner = encSeq(...f.filter((x) => x.tag !== 0xa0).map((x) => x.raw));
    const pkcs8 = encSeq(encInt(0), encSeq(encOid(OID.ecPublicKey), encOid(curveOid)), encOctets(inner));
    return { pkcs8, type: 'EC', bits: Number(curve.slice(2)), curve };
  }
  const f = seq(decode(der), 'PrivateKeyInfo');
  const [algOid, params] = seq(f[1], 'privateKeyAlgorithm');
  const oid = readOid(algOid, 'privateKeyAlgorithm');
  const keyOctets = expectTag(f[2], TAG.OCTET_STRING, 'privateKey').value;
  if (oid === OID.rsaEncryption) return { pkcs8: der, type: 'RSA', bits: rsaBitsOfPkcs1(keyOctets) };
  if (oid === OID.ecPublicKey) {
    const curveOid = params ? readOid(params, 'EC curve') : '';
    const curve = CURVE_BY_OID[curveOid];
    if (!curve) throw new Asn1Error(`unsupported curve ${curveOid || '(none)'}`);
    return { pkcs8: der, type: 'EC', bits: Number(curve.slice(2)), curve };
  }
  throw new Asn1Error(`unsupported private key algorithm ${oid} (vouch supports RSA and EC keys)`);
}

function defaultAlgorithm(info: Pkcs8Info): SignatureAlgorithm {
  const spec = keySpecOfKey(info);
  if (spec) return keySpecInfo(spec).algorithm;
  throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `rsa key size ${info.bits} bits is not supported`);
}

/**
 * Import a private key for signing. Accepts PKCS#8 DER, or PEM text holding a `PRIVATE KEY`,
 * `RSA PRIVATE KEY` (PKCS#1) or `EC PRIVATE KEY` (SEC1) block — the formats notation's
 * `localkeys/*.key` files use. Without `algorithm`, the Notary pairing of the key spec is used
 * (RSA-2048 → PS256, …, EC P-521 → ES512). The key is extractable so it can be exported again.
 *
 * @throws VouchError ERR_MALFORMED_INPUT for undecodable input, ERR_ENVELOPE_UNSUPPORTED for an
 *   unsupported key type/size or an algorithm that does not fit the key.
 */
export async function importPrivateKey(pkcs8: Uint8Array | string, algorithm?: CertificateSignatureAlgorithm): Promise<CryptoKey> {
  let info: Pkcs8Info;
  try {
    if (typeof pkcs8 === 'string') {
      const block = decodePem(pkcs8).find((b) => /^(|RSA |EC )PRIVATE KEY$/.test(b.label));
      if (!block) throw new Asn1Error('no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY PEM block found');
      info = toPkcs8(block.der, block.label);
    } else {
      info = toPkcs8(pkcs8, 'PRIVATE KEY');
    }
  } catch (e) {
    if (isVouchError(e) && e.code !== 'ERR_MALFORMED_INPUT') throw e;
    throw new VouchError('ERR_MALFORMED_INPUT', `private key could not be decoded: ${(e as Error).message}`, { cause: e });
  }
  const alg = algorithm ?? defaultAlgorithm(info);
  if (!isCertificateSignatureAlgorithm(alg)) throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `unsupported signature algorithm "${alg}"`);
  if (info.type !== signatureAlgorithmInfo(alg).keyType) {
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `algorithm ${alg} cannot be used with an ${info.type} key`);
  }
  if (!keySpecOfKey(info)) {
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `rsa key size ${info.bits} bits is not supported`);
  }
  try {
    return await subtle().importKey('pkcs8', buf(info.pkcs8), webCryptoParams(alg, info.curve), true, ['sign']);
  } catch (e) {
    throw new VouchError('ERR_MALFORMED_INPUT', `private key could not be imported: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The signature algorithm a WebCrypto key was created or imported for: RSA-PSS → PS*,
 * RSASSA-PKCS1-v1_5 → RS*, ECDSA → ES* by curve.
 *
 * @throws VouchError ERR_ENVELOPE_UNSUPPORTED for any other key.
 */
export function signatureAlgorithmOfKey(key: CryptoKey): CertificateSignatureAlgorithm {
  const a = key.algorithm as KeyAlgorithm & { hash?: { name: string }; namedCurve?: string };
  const bits = { 'SHA-256': '256', 'SHA-384': '384', 'SHA-512': '512' }[a.hash?.name ?? ''];
  if (a.name === 'RSA-PSS' && bits) return `PS${bits}` as SignatureAlgorithm;
  if (a.name === 'RSASSA-PKCS1-v1_5' && bits) return `RS${bits}` as CertificateSignatureAlgorithm;
  if (a.name === 'ECDSA') {
    const ec = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[a.namedCurve ?? ''];
    if (ec) return ec as SignatureAlgorithm;
  }
  throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `key algorithm ${a.name} is not one the Notary Project signs with`);
}

/** Export an extractable private key as PKCS#8 DER. */
export async function exportPrivateKeyPkcs8(key: CryptoKey): Promise<Uint8Array> {
  try {
    return new Uint8Array(await subtle().exportKey('pkcs8', key));
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `private key could not be exported as PKCS#8: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
