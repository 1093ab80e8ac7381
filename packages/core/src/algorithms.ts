/**
 * The one vocabulary of keys and algorithms shared by every vouch package: hash names, key
 * specs and signature algorithms of the Notary Project, with the table that pairs them
 * (signature specification, "Algorithm Selection"; COSE identifiers from RFC 9053 / RFC 8230).
 */

/**
 * The hash functions vouch signs and verifies with, by their WebCrypto names (also the names of
 * the plugin contract and of RFC 3161 message imprints). SHA-1 is never accepted.
 */
export type HashAlgorithm = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** Every hash algorithm. */
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = Object.freeze(['SHA-256', 'SHA-384', 'SHA-512']);

/** The key families of the Notary Project. */
export type KeyType = 'RSA' | 'EC';

/** The elliptic curves of the Notary Project. */
export type NamedCurve = 'P-256' | 'P-384' | 'P-521';

/** The key specs of the Notary Project signature specification (and of the plugin contract). */
export type KeySpec = 'RSA-2048' | 'RSA-3072' | 'RSA-4096' | 'EC-256' | 'EC-384' | 'EC-521';

/** Every key spec. */
export const KEY_SPECS: readonly KeySpec[] = Object.freeze(['RSA-2048', 'RSA-3072', 'RSA-4096', 'EC-256', 'EC-384', 'EC-521']);

/** The six signature algorithms the Notary Project allows for signatures, by their JOSE names. */
export type SignatureAlgorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/** Every Notary signature algorithm. */
export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = Object.freeze(['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']);

/**
 * {@link SignatureAlgorithm} plus RSASSA-PKCS1-v1_5 (`RS256`/`RS384`/`RS512`): the algorithms a
 * certificate may be signed with. Notary signatures never use RS*.
 */
export type CertificateSignatureAlgorithm = SignatureAlgorithm | 'RS256' | 'RS384' | 'RS512';

/** A public key as the Notary rules see it: family, size, curve and the DER SubjectPublicKeyInfo. */
export interface PublicKeyInfo {
  type: KeyType;
  /** RSA modulus size or EC field size in bits (2048, 3072, 4096, 256, 384, 521). */
  bits: number;
  curve?: NamedCurve;
  /** DER SubjectPublicKeyInfo, importable with WebCrypto `importKey('spki', …)`. */
  spki: Uint8Array;
  /** EC only: the named curve OID (set also for curves outside {@link NamedCurve}, e.g. P-224). */
  curveOid?: string;
}

/** What the Notary table says about a key spec. */
export interface KeySpecInfo {
  type: KeyType;
  bits: number;
  /** EC only. */
  curve?: NamedCurve;
  /** The hash paired with the key size (RSA-2048/EC-256 → SHA-256, …). */
  hash: HashAlgorithm;
  /** The signature algorithm paired with the key spec (RSA → PS*, EC → ES*). */
  algorithm: SignatureAlgorithm;
}

/** What the table says about a signature algorithm. */
export interface SignatureAlgorithmInfo {
  keyType: KeyType;
  hash: HashAlgorithm;
  /** The key spec a Notary signature with this algorithm must be made with (none for RS*). */
  keySpec?: KeySpec;
  /** COSE `alg` identifier (none for RS*, which Notary signatures never use). */
  cose?: number;
}

const KEY_SPEC_TABLE: Readonly<Record<KeySpec, Readonly<KeySpecInfo>>> = {
  'RSA-2048': Object.freeze({ type: 'RSA', bits: 2048, hash: 'SHA-256', algorithm: 'PS256' }),
  'RSA-3072': Object.freeze({ type: 'RSA', bits: 3072, hash: 'SHA-384', algorithm: 'PS384' }),
  'RSA-4096': Object.freeze({ type: 'RSA', bits: 4096, hash: 'SHA-512', algorithm: 'PS512' }),
  'EC-256': Object.freeze({ type: 'EC', bits: 256, curve: 'P-256', hash: 'SHA-256', algorithm: 'ES256' }),
  'EC-384': Object.freeze({ type: 'EC', bits: 384, curve: 'P-384', hash: 'SHA-384', algorithm: 'ES384' }),
  'EC-521': Object.freeze({ type: 'EC', bits: 521, curve: 'P-521', hash: 'SHA-512', algorithm: 'ES512' }),
};

const ALGORITHM_TABLE: Readonly<Record<CertificateSignatureAlgorithm, Readonly<SignatureAlgorithmInfo>>> = {
  PS256: Object.freeze({ keyType: 'RSA', hash: 'SHA-256', keySpec: 'RSA-2048', cose: -37 }),
  PS384: Object.freeze({ keyType: 'RSA', hash: 'SHA-384', keySpec: 'RSA-3072', cose: -38 }),
  PS512: Object.freeze({ keyType: 'RSA', hash: 'SHA-512', keySpec: 'RSA-4096', cose: -39 }),
  ES256: Object.freeze({ keyType: 'EC', hash: 'SHA-256', keySpec: 'EC-256', cose: -7 }),
  ES384: Object.freeze({ keyType: 'EC', hash: 'SHA-384', keySpec: 'EC-384', cose: -35 }),
  ES512: Object.freeze({ keyType: 'EC', hash: 'SHA-512', keySpec: 'EC-521', cose: -36 }),
  RS256: Object.freeze({ keyType: 'RSA', hash: 'SHA-256' }),
  RS384: Object.freeze({ keyType: 'RSA', hash: 'SHA-384' }),
  RS512: Object.freeze({ keyType: 'RSA', hash: 'SHA-512' }),
};

const HASH_BYTES: Readonly<Record<HashAlgorithm, number>> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

/** True when `value` is one of the {@link HASH_ALGORITHMS}. */
export function isHashAlgorithm(value: unknown): value is HashAlgorithm {
  return typeof value === 'string' && Object.hasOwn(HASH_BYTES, value);
}

/** True when `value` is one of the {@link KEY_SPECS}. */
export function isKeySpec(value: unknown): value is KeySpec {
  return typeof value === 'string' && Object.hasOwn(KEY_SPEC_TABLE, value);
}

/** True when `value` is one of the six Notary {@link SIGNATURE_ALGORITHMS}. */
export function isSignatureAlgorithm(value: unknown): value is SignatureAlgorithm {
  return (
    typeof value === 'string' && Object.hasOwn(ALGORITHM_TABLE, value) && ALGORITHM_TABLE[value as SignatureAlgorithm].keySpec !== undefined
  );
}

/** True when `value` is a {@link CertificateSignatureAlgorithm} (a Notary algorithm or RS256/384/512). */
export function isCertificateSignatureAlgorithm(value: unknown): value is CertificateSignatureAlgorithm {
  return typeof value === 'string' && Object.hasOwn(ALGORITHM_TABLE, value);
}

/** Output length of a hash in bytes (also the RSASSA-PSS salt length of the Notary algorithms). */
export function hashLength(hash: HashAlgorithm): number {
  return HASH_BYTES[hash];
}

/** Key type, size, curve, hash and signature algorithm the Notary table gives a key spec. */
export function keySpecInfo(keySpec: KeySpec): Readonly<KeySpecInfo> {
  const info = KEY_SPEC_TABLE[keySpec];
  if (!info) throw new TypeError(`unknown key spec "${String(keySpec)}"`);
  return info;
}

/** Key type, hash, key spec and COSE identifier of a signature algorithm. */
export function signatureAlgorithmInfo(algorithm: CertificateSignatureAlgorithm): Readonly<SignatureAlgorithmInfo> {
  const info = ALGORITHM_TABLE[algorithm];
  if (!info) throw new TypeError(`unknown signature algorithm "${String(algorithm)}"`);
  return info;
}

/** The key spec of a key (RSA 2048/3072/4096 bits, EC on P-256/P-384/P-521), or undefined when the Notary Project has none for it. */
export function keySpecOfKey(key: { type: KeyType; bits: number; curve?: string }): KeySpec | undefined {
  if (key.type === 'RSA' && (key.bits === 2048 || key.bits === 3072 || key.bits === 4096)) return `RSA-${key.bits}`;
  if (key.type === 'EC') {
    if (key.curve === 'P-256' && key.bits === 256) return 'EC-256';
    if (key.curve === 'P-384' && key.bits === 384) return 'EC-384';
    if (key.curve === 'P-521' && key.bits === 521) return 'EC-521';
  }
  return undefined;
}

/** The signature algorithm with COSE identifier `id`, or undefined. */
export function signatureAlgorithmFromCose(id: number): SignatureAlgorithm | undefined {
  return SIGNATURE_ALGORITHMS.find((a) => ALGORITHM_TABLE[a].cose === id);
}
