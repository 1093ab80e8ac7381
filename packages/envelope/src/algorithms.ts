import { isVouchError, VouchError } from '@vouch/core';
import { type Certificate, importPublicKey, type PublicKeyInfo } from '@vouch/x509';
import type { RawSigner, SignatureAlgorithm } from './model.js';

/** WebCrypto hash name of each algorithm. */
export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

interface AlgorithmSpec {
  keyType: 'RSA' | 'EC';
  bits: number;
  hash: HashName;
  /** COSE algorithm identifier (RFC 9053 / RFC 8230). */
  cose: number;
  /** EC: curve and byte length of each of r and s. */
  curve?: 'P-256' | 'P-384' | 'P-521';
  coordinateBytes?: number;
}

const SPECS: Record<SignatureAlgorithm, AlgorithmSpec> = {
  PS256: { keyType: 'RSA', bits: 2048, hash: 'SHA-256', cose: -37 },
  PS384: { keyType: 'RSA', bits: 3072, hash: 'SHA-384', cose: -38 },
  PS512: { keyType: 'RSA', bits: 4096, hash: 'SHA-512', cose: -39 },
  ES256: { keyType: 'EC', bits: 256, hash: 'SHA-256', cose: -7, curve: 'P-256', coordinateBytes: 32 },
  ES384: { keyType: 'EC', bits: 384, hash: 'SHA-384', cose: -35, curve: 'P-384', coordinateBytes: 48 },
  ES512: { keyType: 'EC', bits: 521, hash: 'SHA-512', cose: -36, curve: 'P-521', coordinateBytes: 66 },
};

/** All supported algorithms, in table order. */
export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = Object.keys(SPECS) as SignatureAlgorithm[];

/** True when `alg` is one of the six Notary algorithms. */
export function isSignatureAlgorithm(alg: unknown): alg is SignatureAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(SPECS, alg);
}

/**
 * The signature algorithm implied by a public key (the Notary key table):
 * RSA-2048/3072/4096 → PS256/384/512, EC P-256/384/521 → ES256/384/512.
 * Any other key throws ERR_ENVELOPE_UNSUPPORTED.
 */
export function algorithmForKey(pub: PublicKeyInfo): SignatureAlgorithm {
  for (const alg of SIGNATURE_ALGORITHMS) {
    const s = SPECS[alg];
    if (s.keyType !== pub.type || s.bits !== pub.bits) continue;
    if (s.curve && pub.curve !== undefined && pub.curve !== s.curve) continue;
    return alg;
  }
  throw new VouchError(
    'ERR_ENVELOPE_UNSUPPORTED',
    `key ${pub.type} ${pub.bits}${pub.curve ? ` (${pub.curve})` : ''} is not supported by the Notary Project; use RSA 2048/3072/4096 or EC P-256/P-384/P-521`,
    { details: { keyType: pub.type, bits: pub.bits, curve: pub.curve } },
  );
}

/** The hash function of an algorithm (also the RFC 3161 message-imprint hash for timestamps). */
export function hashForAlgorithm(alg: SignatureAlgorithm): HashName {
  return SPECS[alg].hash;
}

/** COSE `alg` identifier of a signature algorithm (−37/−38/−39/−7/−35/−36). */
export function coseAlgorithmId(alg: SignatureAlgorithm): number {
  return SPECS[alg].cose;
}

/** Inverse of {@link coseAlgorithmId}; undefined for any other identifier. */
export function algorithmFromCoseId(id: number): SignatureAlgorithm | undefined {
  return SIGNATURE_ALGORITHMS.find((a) => SPECS[a].cose === id);
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new VouchError('ERR_UNSUPPORTED', 'WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return s;
}

function signParams(alg: SignatureAlgorithm): RsaPssParams | EcdsaParams {
  const s = SPECS[alg];
  return s.keyType === 'RSA' ? { name: 'RSA-PSS', saltLength: Number(s.hash.slice(4)) / 8 } : { name: 'ECDSA', hash: s.hash };
}

/**
 * Import a public key (or a certificate's) as a WebCrypto verification key for `alg`, after
 * checking that the key's type and size imply exactly `alg` (the Notary table).
 * Throws ERR_ENVELOPE_UNSUPPORTED when the key does not fit `alg`.
 */
export async function importVerificationKey(key: PublicKeyInfo | Certificate, alg: SignatureAlgorithm): Promise<CryptoKey> {
  const pub = 'publicKey' in key ? key.publicKey : key;
  if (algorithmForKey(pub) !== alg) {
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `a ${pub.type} ${pub.bits}-bit key cannot verify ${alg}`);
  }
  try {
    // A certificate (rather than its key) lets x509 reuse the key it imported for that certificate.
    return await importPublicKey(key, alg);
  } catch (e) {
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `the signing certificate's ${pub.type} key could not be imported for ${alg}`, {
      cause: e,
    });
  }
}

/**
 * Verify a raw signature (RSASSA-PSS with salt = hash length, or ECDSA r||s) over `data`.
 * Resolves false on a bad signature (including a wrongly sized ECDSA value).
 */
export async function verifyRawSignature(
  alg: SignatureAlgorithm,
  key: CryptoKey,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  const s = SPECS[alg];
  if (s.coordinateBytes !== undefined && signature.length !== 2 * s.coordinateBytes) return false;
  try {
    return await subtle().verify(signParams(alg), key, signature as BufferSource, data as BufferSource);
  } catch {
    return false;
  }
}

/**
 * A {@link RawSigner} over a WebCrypto private key. The key must be an RSA-PSS key imported with
 * the hash of the leaf's algorithm (RSA-2048 → SHA-256, 3072 → SHA-384, 4096 → SHA-512) or an
 * ECDSA key on the leaf's curve. Throws ERR_INVALID_ARGUMENT when key and certificate disagree.
 */
export function localRawSigner(privateKey: CryptoKey, certificateChain: Certificate[]): RawSigner {
  const leaf = certificateChain[0];
  if (!leaf) throw new VouchError('ERR_INVALID_ARGUMENT', 'localRawSigner: the certificate chain is empty; pass the leaf first');
  const algorithm = algorithmForKey(leaf.publicKey);
  const spec = SPECS[algorithm];
  const ka = privateKey.algorithm as { name?: string; hash?: { name?: string }; namedCurve?: string };
  const ok =
    privateKey.type === 'private' &&
    (spec.keyType === 'RSA' ? ka.name === 'RSA-PSS' && ka.hash?.name === spec.hash : ka.name === 'ECDSA' && ka.namedCurve === spec.curve);
  if (!ok) {
    const want = spec.keyType === 'RSA' ? `an RSA-PSS private key imported with hash ${spec.hash}` : `an ECDSA ${spec.curve} private key`;
    throw new VouchError('ERR_INVALID_ARGUMENT', `localRawSigner: the leaf certificate implies ${algorithm}, which needs ${want}`, {
      details: { algorithm, key: { type: privateKey.type, name: ka.name, hash: ka.hash?.name, curve: ka.namedCurve } },
    });
  }
  return {
    certificateChain,
    algorithm,
    async sign(toBeSigned: Uint8Array): Promise<Uint8Array> {
      try {
        return new Uint8Array(await subtle().sign(signParams(algorithm), privateKey, toBeSigned as BufferSource));
      } catch (e) {
        if (isVouchError(e)) throw e;
        throw new VouchError('ERR_SIGNING_FAILED', `signing with the local ${algorithm} key failed`, { cause: e });
      }
    },
  };
}
