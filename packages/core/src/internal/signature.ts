/**
 * The one signature verification function of vouch, for certificate chains, RFC 3161
 * timestamps, OCSP responses, CRLs, Notary envelopes and plugin responses. WebCrypto only.
 *
 * The rules, all here:
 * - Algorithms: RSASSA-PKCS1-v1_5, RSASSA-PSS and ECDSA with SHA-256, SHA-384 or SHA-512.
 *   SHA-1 and MD5 are refused wherever they appear (as Go refuses SHA-1 signatures).
 * - An RSASSA-PSS AlgorithmIdentifier is accepted exactly as Go's x509 accepts it: the hash is
 *   SHA-256/384/512 (the SHA-1 default is refused), hash parameters are NULL or absent, the mask
 *   is MGF1 with the same hash, the salt length equals the hash length, the trailer field is 1.
 * - By name (Notary envelopes and plugin responses): PS256/384/512 are RSASSA-PSS with a salt as
 *   long as the hash, ES256/384/512 are ECDSA with an r||s signature, and the key must have
 *   exactly the key spec the Notary table pairs with the algorithm (RSA-2048 ↔ PS256, EC P-256 ↔
 *   ES256, …). RS256/384/512 name RSASSA-PKCS1-v1_5 (certificates only), with any RSA key.
 * - Keys: RSA schemes need an RSA key; ECDSA needs an EC key on P-256, P-384 or P-521 (an
 *   X.509 AlgorithmIdentifier does not tie the hash to the curve).
 * - Ed25519 (RFC 8032, pure): only as an explicit scheme `{ kind: 'Ed25519' }` with an Ed25519
 *   key (Sigstore checkpoints and keys); X.509 and CMS identifiers never resolve to it.
 *
 * {@link verifySignature} resolves `false` when the signature does not verify (a malformed
 * signature value included) and throws {@link SignatureCheckError} when it cannot be checked.
 */
import {
  type CertificateSignatureAlgorithm,
  type HashAlgorithm,
  hashLength,
  isCertificateSignatureAlgorithm,
  type KeySpec,
  keySpecOfKey,
  type PublicKeyInfo,
  signatureAlgorithmInfo,
} from '../algorithms.js';
import { Asn1Error, type Asn1Node, decode, readOid, readSmallInt, seq, TAG } from '../asn1/index.js';
import { BytesCache } from '../bytes-cache.js';
import { CRYPTO_OID } from './oids.js';
import { ecCoordinateBytes, ecdsaDerToP1363, type VerificationKeyInfo } from './public-key.js';

/** A signature scheme, resolved from an algorithm name or an AlgorithmIdentifier. */
export type SignatureScheme =
  | { readonly kind: 'RSASSA-PKCS1-v1_5'; readonly hash: HashAlgorithm; readonly keySpec?: undefined }
  | { readonly kind: 'RSA-PSS'; readonly hash: HashAlgorithm; readonly saltLength: number; readonly keySpec?: KeySpec }
  | {
      readonly kind: 'ECDSA';
      readonly hash: HashAlgorithm;
      /** `der`: an ECDSA-Sig-Value (X.509, CMS, OCSP, CRL); `raw`: r||s (JOSE, COSE, plugins). */
      readonly encoding: 'der' | 'raw';
      readonly keySpec?: KeySpec;
    };

/** Pure Ed25519 (RFC 8032): never resolved from a name or an AlgorithmIdentifier, only given explicitly. */
export interface Ed25519Scheme {
  readonly kind: 'Ed25519';
}

/** What {@link verifySignature} checks with: a {@link SignatureScheme} or {@link Ed25519Scheme}. */
export type VerificationScheme = SignatureScheme | Ed25519Scheme;

/** Why a signature cannot be checked: the algorithm (unknown, insecure, bad parameters) or the key (wrong family, curve or size, unusable). */
export class SignatureCheckError extends Error {
  readonly reason: 'algorithm' | 'key';
  constructor(reason: 'algorithm' | 'key', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignatureCheckError';
    this.reason = reason;
  }
}

const algorithmError = (message: string, cause?: unknown) =>
  new SignatureCheckError('algorithm', message, cause === undefined ? undefined : { cause });

const HASH_BY_OID: Readonly<Record<string, HashAlgorithm | 'SHA-1'>> = {
  [CRYPTO_OID.sha1]: 'SHA-1',
  [CRYPTO_OID.sha256]: 'SHA-256',
  [CRYPTO_OID.sha384]: 'SHA-384',
  [CRYPTO_OID.sha512]: 'SHA-512',
};

/** The hash a digest-algorithm OID names (SHA-1 included, for OCSP CertIDs), or undefined. */
export function hashOfOid(oid: string): HashAlgorithm | 'SHA-1' | undefined {
  return HASH_BY_OID[oid];
}

/** OID of a hash. */
export function oidOfHash(hash: HashAlgorithm | 'SHA-1'): string {
  return hash === 'SHA-1'
    ? CRYPTO_OID.sha1
    : hash === 'SHA-256'
      ? CRYPTO_OID.sha256
      : hash === 'SHA-384'
        ? CRYPTO_OID.sha384
        : CRYPTO_OID.sha512;
}

const FIXED: Readonly<Record<string, SignatureScheme>> = Object.freeze({
  [CRYPTO_OID.sha256WithRsa]: Object.freeze({ kind: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const),
  [CRYPTO_OID.sha384WithRsa]: Object.freeze({ kind: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' } as const),
  [CRYPTO_OID.sha512WithRsa]: Object.freeze({ kind: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' } as const),
  [CRYPTO_OID.ecdsaWithSha256]: Object.freeze({ kind: 'ECDSA', hash: 'SHA-256', encoding: 'der' } as const),
  [CRYPTO_OID.ecdsaWithSha384]: Object.freeze({ kind: 'ECDSA', hash: 'SHA-384', encoding: 'der' } as const),
  [CRYPTO_OID.ecdsaWithSha512]: Object.freeze({ kind: 'ECDSA', hash: 'SHA-512', encoding: 'der' } as const),
});

const INSECURE = new Set<string>([CRYPTO_OID.md5WithRsa, CRYPTO_OID.sha1WithRsa, CRYPTO_OID.ecdsaWithSha1]);

/** The hash of a hash AlgorithmIdentifier whose parameters are NULL or absent. */
function hashOfIdentifier(n: Asn1Node | undefined, what: string): HashAlgorithm | 'SHA-1' {
  const [oid, params, extra] = seq(n, what);
  if (extra || (params && params.tag !== TAG.NULL)) throw algorithmError(`${what}: parameters must be NULL or absent`);
  const id = readOid(oid, what);
  const hash = HASH_BY_OID[id];
  if (!hash) throw algorithmError(`${what}: unsupported hash algorithm ${id}`);
  return hash;
}

function pssScheme(params: Asn1Node | undefined): SignatureScheme {
  if (!params) throw algorithmError('RSASSA-PSS requires parameters');
  // RSASSA-PSS-params: [0] hashAlgorithm DEFAULT sha1, [1] maskGenAlgorithm DEFAULT mgf1SHA1,
  // [2] saltLength DEFAULT 20, [3] trailerField DEFAULT 1 — in this order, each at most once.
  let hash: HashAlgorithm | 'SHA-1' = 'SHA-1';
  let mgfHash: HashAlgorithm | 'SHA-1' = 'SHA-1';
  let saltLength = 20;
  let trailer = 1;
  let last = -1;
  for (const f of seq(params, 'RSASSA-PSS-params')) {
    if (f.cls !== 2 || !f.constructed || f.tagNumber > 3 || f.tagNumber <= last)
      throw algorithmError('unexpected field in RSASSA-PSS-params');
    last = f.tagNumber;
    const [inner, more] = f.children;
    if (!inner || more) throw algorithmError(`RSASSA-PSS parameter [${f.tagNumber}] must hold one value`);
    if (f.tagNumber === 0) hash = hashOfIdentifier(inner, 'RSASSA-PSS hashAlgorithm');
    else if (f.tagNumber === 1) {
      const [oid, mgfParams, extra] = seq(inner, 'RSASSA-PSS maskGenAlgorithm');
      if (readOid(oid, 'RSASSA-PSS maskGenAlgorithm') !== CRYPTO_OID.mgf1 || extra) {
        throw algorithmError('RSASSA-PSS mask generation must be MGF1');
      }
      mgfHash = hashOfIdentifier(mgfParams, 'RSASSA-PSS MGF1 hash');
    } else if (f.tagNumber === 2) saltLength = readSmallInt(inner, 'RSASSA-PSS saltLength');
    else trailer = readSmallInt(inner, 'RSASSA-PSS trailerField');
  }
  if (hash === 'SHA-1' || mgfHash === 'SHA-1')
    throw algorithmError('RSASSA-PSS with SHA-1 is not accepted; use SHA-256, SHA-384 or SHA-512');
  if (mgfHash !== hash) throw algorithmError(`RSASSA-PSS MGF1 hash ${mgfHash} differs from the message hash ${hash}`);
  if (trailer !== 1) throw algorithmError(`RSASSA-PSS trailer field must be 1, found ${trailer}`);
  if (saltLength !== hashLength(hash)) {
    throw algorithmError(`RSASSA-PSS salt length must equal the ${hash} length (${hashLength(hash)} bytes), found ${saltLength}`);
  }
  return { kind: 'RSA-PSS', hash, saltLength };
}

function namedScheme(algorithm: CertificateSignatureAlgorithm): SignatureScheme {
  const { hash, keySpec } = signatureAlgorithmInfo(algorithm);
  if (algorithm.startsWith('PS')) return Object.freeze({ kind: 'RSA-PSS', hash, saltLength: hashLength(hash), keySpec });
  if (algorithm.startsWith('ES')) return Object.freeze({ kind: 'ECDSA', hash, encoding: 'raw', keySpec });
  return Object.freeze({ kind: 'RSASSA-PKCS1-v1_5', hash });
}

/** The scheme of each algorithm name, resolved once. */
const NAMED = Object.fromEntries(
  (['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512'] as const).map((a) => [a, namedScheme(a)]),
) as Readonly<Record<CertificateSignatureAlgorithm, SignatureScheme>>;

/** Options of {@link signatureScheme}. */
export interface SignatureSchemeOptions {
  /**
   * CMS SignerInfo only: the digestAlgorithm OID, for a signature AlgorithmIdentifier that names
   * only the key type (rsaEncryption, id-ecPublicKey), as RFC 5652 allows.
   */
  digestAlgorithm?: string;
}

/**
 * Resolve how a signature was made: from a JOSE name (PS*, ES*, RS*), or from a DER
 * AlgorithmIdentifier (bytes or a decoded node), applying the rules of this module.
 * Throws {@link SignatureCheckError} (reason `algorithm`).
 */
export function signatureScheme(
  algorithm: CertificateSignatureAlgorithm | Uint8Array | Asn1Node,
  options: SignatureSchemeOptions = {},
): SignatureScheme {
  if (typeof algorithm === 'string') {
    if (!isCertificateSignatureAlgorithm(algorithm)) throw algorithmError(`unsupported signature algorithm "${String(algorithm)}"`);
    return NAMED[algorithm];
  }
  let oid: string;
  let params: Asn1Node | undefined;
  try {
    const node = algorithm instanceof Uint8Array ? decode(algorithm) : algorithm;
    const parts = seq(node, 'AlgorithmIdentifier');
    if (parts.length > 2) throw new Asn1Error('AlgorithmIdentifier has trailing fields');
    oid = readOid(parts[0], 'AlgorithmIdentifier.algorithm');
    params = parts[1];
  } catch (e) {
    if (e instanceof SignatureCheckError) throw e;
    throw algorithmError(`malformed signature algorithm identifier: ${(e as Error).message}`, e);
  }
  const fixed = FIXED[oid];
  if (fixed) return fixed;
  if (INSECURE.has(oid)) throw algorithmError(`signed with an insecure algorithm (${oid}); SHA-1 and MD5 signatures are rejected`);
  if (oid === CRYPTO_OID.rsassaPss) {
    try {
      return pssScheme(params);
    } catch (e) {
      if (e instanceof SignatureCheckError) throw e;
      throw algorithmError(`malformed RSASSA-PSS parameters: ${(e as Error).message}`, e);
    }
  }
  if (oid === CRYPTO_OID.rsaEncryption || oid === CRYPTO_OID.ecPublicKey) {
    const digest = options.digestAlgorithm;
    const hash = digest === undefined ? undefined : HASH_BY_OID[digest];
    if (hash === 'SHA-1')
      throw algorithmError(`signed with an insecure algorithm (SHA-1 digest ${digest}); SHA-1 and MD5 signatures are rejected`);
    if (!hash) throw algorithmError(`unsupported digest algorithm ${digest ?? '(none)'} for signature algorithm ${oid}`);
    return oid === CRYPTO_OID.rsaEncryption ? { kind: 'RSASSA-PKCS1-v1_5', hash } : { kind: 'ECDSA', hash, encoding: 'der' };
  }
  throw algorithmError(`unsupported signature algorithm ${oid}`);
}

/** Throw unless `key` may check a signature of `scheme` (family, curve, and the Notary key spec for named algorithms). */
export function checkKeyForScheme(key: VerificationKeyInfo, scheme: VerificationScheme): void {
  if ((key.type === 'Ed25519') !== (scheme.kind === 'Ed25519')) {
    throw new SignatureCheckError('key', `an ${key.type} key cannot check a ${scheme.kind} signature`);
  }
  if (key.type === 'Ed25519' || scheme.kind === 'Ed25519') return;
  const wantRsa = scheme.kind !== 'ECDSA';
  if ((key.type === 'RSA') !== wantRsa) {
    throw new SignatureCheckError('key', `an ${key.type} key cannot check a ${scheme.kind} signature`);
  }
  if (key.type === 'EC' && !key.curve) {
    throw new SignatureCheckError('key', `the EC key is on an unsupported curve${key.curveOid ? ` (${key.curveOid})` : ''}`);
  }
  if (scheme.keySpec !== undefined && keySpecOfKey(key) !== scheme.keySpec) {
    const has = key.type === 'EC' ? `EC ${key.curve}` : `RSA ${key.bits}-bit`;
    throw new SignatureCheckError(
      'key',
      `a ${has} key cannot check this signature: the Notary Project pairs it with key spec ${scheme.keySpec} only`,
    );
  }
}

type ImportParams = RsaHashedImportParams | EcKeyImportParams | Algorithm;

function importParams(key: VerificationKeyInfo, scheme: VerificationScheme): ImportParams {
  if (scheme.kind === 'Ed25519') return { name: 'Ed25519' };
  if (scheme.kind === 'ECDSA') return { name: 'ECDSA', namedCurve: (key as PublicKeyInfo).curve! };
  return { name: scheme.kind, hash: scheme.hash };
}

function paramsKeyOf(key: VerificationKeyInfo, scheme: VerificationScheme): string {
  if (scheme.kind === 'Ed25519') return 'Ed25519';
  if (scheme.kind === 'ECDSA') return `ECDSA/${(key as PublicKeyInfo).curve}`;
  return `${scheme.kind}/${scheme.hash}`;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new SignatureCheckError('key', 'WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return s;
}

const KEY_CACHE = new BytesCache<Map<string, Promise<CryptoKey>>>(512);

/**
 * The key each import promise resolved to, so a warm check hands its work to WebCrypto at once
 * instead of a microtask later (after whatever synchronous work its caller does next).
 */
const RESOLVED = new WeakMap<Promise<CryptoKey>, CryptoKey>();

/**
 * Import `key` as a WebCrypto verification key for `scheme` after {@link checkKeyForScheme}.
 * Imported keys are a pure function of (SPKI, parameters) and are kept in a bounded cache keyed
 * by the exact SPKI bytes; `memo` (a map owned by the caller, e.g. per certificate) is consulted
 * first. Failed imports are not kept. Throws {@link SignatureCheckError} (reason `key`).
 */
export function importVerificationKey(
  key: VerificationKeyInfo,
  scheme: VerificationScheme,
  memo?: Map<string, unknown>,
): Promise<CryptoKey> {
  checkKeyForScheme(key, scheme);
  const params = importParams(key, scheme);
  const paramsKey = paramsKeyOf(key, scheme);
  const memoKey = `key:${paramsKey}`;
  const known = memo?.get(memoKey) as Promise<CryptoKey> | undefined;
  if (known) return known;
  let byParams = KEY_CACHE.get(key.spki);
  let imported = byParams?.get(paramsKey);
  if (!imported) {
    imported = subtle()
      .importKey('spki', key.spki as Uint8Array<ArrayBuffer>, params, false, ['verify'])
      .catch((e: unknown) => {
        throw new SignatureCheckError('key', `the ${key.type} public key could not be imported: ${(e as Error).message}`, { cause: e });
      });
    if (!byParams) {
      byParams = new Map();
      KEY_CACHE.set(key.spki, byParams);
    }
    const entry = byParams;
    const p = imported;
    entry.set(paramsKey, p);
    p.then(
      (k) => RESOLVED.set(p, k),
      () => entry.delete(paramsKey),
    );
  }
  if (memo) {
    const p = imported;
    memo.set(memoKey, p);
    p.catch(() => memo.delete(memoKey));
  }
  return imported;
}

/** What {@link verifySignature} checks. */
export interface VerifySignatureInput extends SignatureSchemeOptions {
  /** The signer's public key (an Ed25519 key only with the `Ed25519` scheme). */
  key: VerificationKeyInfo;
  /** How the signature was made: a JOSE name, a DER AlgorithmIdentifier (bytes or node), or a scheme resolved before. */
  algorithm: CertificateSignatureAlgorithm | Uint8Array | Asn1Node | VerificationScheme;
  /** The signed bytes. */
  data: Uint8Array;
  signature: Uint8Array;
  /** A caller-owned map for the imported key (see {@link importVerificationKey}). */
  keyMemo?: Map<string, unknown>;
}

function isScheme(a: VerifySignatureInput['algorithm']): a is VerificationScheme {
  return typeof a === 'object' && !(a instanceof Uint8Array) && 'kind' in a;
}

/**
 * Verify `signature` over `data` with `key`. Resolves true or false (a signature that does not
 * verify, or a malformed signature value); throws {@link SignatureCheckError} when the algorithm
 * or the key cannot be used (see the module rules).
 */
export async function verifySignature(input: VerifySignatureInput): Promise<boolean> {
  const scheme = isScheme(input.algorithm) ? input.algorithm : signatureScheme(input.algorithm, input);
  const pending = importVerificationKey(input.key, scheme, input.keyMemo);
  const cryptoKey = RESOLVED.get(pending) ?? (await pending);
  let signature = input.signature;
  let params: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
  if (scheme.kind === 'Ed25519') {
    if (signature.length !== 64) return false;
    params = { name: 'Ed25519' };
  } else if (scheme.kind === 'ECDSA') {
    const size = ecCoordinateBytes((input.key as PublicKeyInfo).curve!);
    if (scheme.encoding === 'der') {
      try {
        signature = ecdsaDerToP1363(signature, size);
      } catch {
        return false;
      }
    } else if (signature.length !== 2 * size) return false;
    params = { name: 'ECDSA', hash: scheme.hash };
  } else params = scheme.kind === 'RSA-PSS' ? { name: 'RSA-PSS', saltLength: scheme.saltLength } : { name: scheme.kind };
  try {
    return await subtle().verify(params, cryptoKey, signature as Uint8Array<ArrayBuffer>, input.data as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}
