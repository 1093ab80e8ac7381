/**
 * Keys as cosign takes them with `--key`: PEM public keys (`PUBLIC KEY`, `RSA PUBLIC KEY`) for
 * verification, and for signing cosign's encrypted key file or a PEM private key (`PRIVATE KEY`,
 * `EC PRIVATE KEY`, `RSA PRIVATE KEY`). EC P-256/P-384/P-521, RSA and Ed25519. WebCrypto only.
 *
 * How cosign signs with each key (and so how vouch signs and verifies):
 * - ECDSA: ASN.1 DER signatures. The legacy formats (`.sig` tag, `sign-blob` without a bundle)
 *   hash with SHA-256 whatever the curve (cosign's `--signature-digest-algorithm` default);
 *   Sigstore bundles use the curve's hash (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512).
 * - RSA: PKCS#1 v1.5 with SHA-256.
 * - Ed25519: pure Ed25519 over the message.
 */
import { decodePem, encodePem, type HashAlgorithm, type NamedCurve, VouchError } from '@vouch/core';
import {
  Asn1Error,
  decode,
  encBitString,
  encInt,
  encNull,
  encOctets,
  encOid,
  encSeq,
  readOid,
  readSmallInt,
  seq,
  TAG,
} from '@vouch/core/asn1';
import { CRYPTO_OID, describeVerificationKey, ecdsaP1363ToDer, toBase64 } from '@vouch/core/internal';
import type { SigstorePublicKey } from '@vouch/sigstore';
import { decryptCosignKey, isEncryptedCosignKey } from './key-file.js';

/**
 * A public key cosign can verify with: RSA, EC (P-256/384/521) or Ed25519, with its DER
 * SubjectPublicKeyInfo (the same value as `@vouch/sigstore`'s `SigstorePublicKey`).
 */
export type CosignPublicKey = SigstorePublicKey;

/** A private key to sign with, and its public half. */
export interface CosignSigner {
  readonly publicKey: CosignPublicKey;
  /**
   * Sign `data` (the whole message: WebCrypto hashes it) with `hash` (ignored for Ed25519).
   * ECDSA signatures are returned DER-encoded, as cosign writes them.
   */
  sign(data: Uint8Array, hash: HashAlgorithm): Promise<Uint8Array>;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new VouchError('ERR_UNSUPPORTED', 'WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return s;
}

/** Read a DER SubjectPublicKeyInfo (EC on P-256/384/521, RSA, Ed25519). Throws ERR_MALFORMED_INPUT / ERR_UNSUPPORTED. */
export function publicKeyFromSpki(spki: Uint8Array): CosignPublicKey {
  try {
    const info = describeVerificationKey(spki);
    if (info.type === 'Ed25519') return Object.freeze({ type: 'Ed25519', bits: 256, spki: info.spki.slice() });
    if (info.type === 'EC' && !info.curve) throw new Asn1Error(`unsupported elliptic curve ${info.curveOid ?? ''}`);
    return Object.freeze({ type: info.type, bits: info.bits, spki: info.spki.slice(), ...(info.curve ? { curve: info.curve } : {}) });
  } catch (e) {
    const unsupported = /unsupported/.test((e as Error).message);
    throw new VouchError(unsupported ? 'ERR_UNSUPPORTED' : 'ERR_MALFORMED_INPUT', `public key: ${(e as Error).message}`, { cause: e });
  }
}

/** An RSAPublicKey (PKCS#1) wrapped as a SubjectPublicKeyInfo. */
function spkiOfPkcs1(pkcs1: Uint8Array): Uint8Array {
  return encSeq(encSeq(encOid(CRYPTO_OID.rsaEncryption), encNull()), encBitString(pkcs1));
}

/**
 * Every public key in PEM `text` (`PUBLIC KEY`, and `RSA PUBLIC KEY` in PKCS#1), in order, as
 * Kyverno expands a multi-PEM `publicKeys`. No key at all fails with ERR_MALFORMED_INPUT.
 */
export function parsePublicKeys(text: string): CosignPublicKey[] {
  const out: CosignPublicKey[] = [];
  for (const block of decodePem(text)) {
    if (block.label === 'PUBLIC KEY') out.push(publicKeyFromSpki(block.der));
    else if (block.label === 'RSA PUBLIC KEY') out.push(publicKeyFromSpki(spkiOfPkcs1(block.der)));
  }
  if (out.length === 0) {
    throw new VouchError('ERR_MALFORMED_INPUT', 'no PEM "PUBLIC KEY" block found: pass a PEM-encoded public key (cosign.pub)');
  }
  return out;
}

/** The one public key in PEM `text`; more than one fails (use {@link parsePublicKeys}). */
export function parsePublicKey(text: string): CosignPublicKey {
  const keys = parsePublicKeys(text);
  if (keys.length !== 1) throw new VouchError('ERR_INVALID_ARGUMENT', `expected one public key, found ${keys.length}`);
  return keys[0]!;
}

/** A public key as PEM (`PUBLIC KEY`), as `cosign public-key` prints it. */
export function publicKeyToPem(key: CosignPublicKey): string {
  return encodePem('PUBLIC KEY', key.spki);
}

/** The SHA-256 of the SPKI, base64: cosign 3's `publicKey.hint` in bundles, and the Rekor/CT log ID form. */
export async function publicKeyHint(key: CosignPublicKey): Promise<string> {
  return toBase64(new Uint8Array(await subtle().digest('SHA-256', key.spki as Uint8Array<ArrayBuffer>)));
}

/** The hash Sigstore bundles pair with a key (P-384 → SHA-384, P-521 → SHA-512, else SHA-256); undefined for Ed25519. */
export function defaultHashOf(key: CosignPublicKey): HashAlgorithm | undefined {
  if (key.type === 'Ed25519') return undefined;
  if (key.type === 'EC') return key.curve === 'P-384' ? 'SHA-384' : key.curve === 'P-521' ? 'SHA-512' : 'SHA-256';
  return 'SHA-256';
}

const CURVE_BY_OID: Readonly<Record<string, NamedCurve>> = {
  [CRYPTO_OID.p256]: 'P-256',
  [CRYPTO_OID.p384]: 'P-384',
  [CRYPTO_OID.p521]: 'P-521',
};

type KeyKind = { type: 'EC'; curve: NamedCurve } | { type: 'RSA' } | { type: 'Ed25519' };

/** What a PKCS#8 PrivateKeyInfo holds. */
function pkcs8Kind(pkcs8: Uint8Array): KeyKind {
  const [version, alg, key] = seq(decode(pkcs8), 'PrivateKeyInfo');
  if (readSmallInt(version, 'PrivateKeyInfo.version') > 1) throw new Asn1Error('unsupported PrivateKeyInfo version');
  const [oidNode, params] = seq(alg, 'PrivateKeyInfo.privateKeyAlgorithm');
  const oid = readOid(oidNode, 'privateKeyAlgorithm');
  if (oid === CRYPTO_OID.rsaEncryption) return { type: 'RSA' };
  if (oid === CRYPTO_OID.ed25519) return { type: 'Ed25519' };
  if (oid === CRYPTO_OID.ecPublicKey) {
    let curveOid = params?.tag === TAG.OID ? readOid(params, 'EC curve') : undefined;
    if (!curveOid && key) {
      // the curve may be named only inside the ECPrivateKey ([0] parameters)
      const inner = seq(decode(key.value), 'ECPrivateKey');
      const named = inner.find((n) => n.tag === 0xa0);
      if (named) curveOid = readOid(decode(named.value), 'EC curve');
    }
    const curve = curveOid ? CURVE_BY_OID[curveOid] : undefined;
    if (!curve) throw new VouchError('ERR_UNSUPPORTED', `unsupported elliptic curve ${curveOid ?? '(unnamed)'}: use P-256, P-384 or P-521`);
    return { type: 'EC', curve };
  }
  throw new VouchError('ERR_UNSUPPORTED', `unsupported private key algorithm ${oid}: use an EC (P-256/384/521), RSA or Ed25519 key`);
}

/** A SEC1 ECPrivateKey wrapped as PKCS#8. */
function pkcs8OfSec1(sec1: Uint8Array): Uint8Array {
  const inner = seq(decode(sec1), 'ECPrivateKey');
  const named = inner.find((n) => n.tag === 0xa0);
  if (!named) throw new Asn1Error('the EC private key does not name its curve');
  const curveOid = readOid(decode(named.value), 'EC curve');
  return encSeq(encInt(0), encSeq(encOid(CRYPTO_OID.ecPublicKey), encOid(curveOid)), encOctets(sec1));
}

/** An RSAPrivateKey (PKCS#1) wrapped as PKCS#8. */
function pkcs8OfPkcs1(pkcs1: Uint8Array): Uint8Array {
  return encSeq(encInt(0), encSeq(encOid(CRYPTO_OID.rsaEncryption), encNull()), encOctets(pkcs1));
}

function importParams(kind: KeyKind, hash: HashAlgorithm): EcKeyImportParams | RsaHashedImportParams | Algorithm {
  if (kind.type === 'EC') return { name: 'ECDSA', namedCurve: kind.curve };
  if (kind.type === 'RSA') return { name: 'RSASSA-PKCS1-v1_5', hash };
  return { name: 'Ed25519' };
}

/**
 * A signer from a PKCS#8 DER private key. The public key is derived from the private one
 * (through a JWK export, since WebCrypto exports no SPKI from a private key).
 */
export async function signerFromPkcs8(pkcs8: Uint8Array): Promise<CosignSigner> {
  let kind: KeyKind;
  try {
    kind = pkcs8Kind(pkcs8);
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw new VouchError('ERR_MALFORMED_INPUT', `private key: ${(e as Error).message}`, { cause: e });
  }
  const s = subtle();
  const keys = new Map<HashAlgorithm, Promise<CryptoKey>>();
  const load = (hash: HashAlgorithm): Promise<CryptoKey> => {
    const k = kind.type === 'RSA' ? hash : 'SHA-256';
    let p = keys.get(k);
    if (!p) {
      p = Promise.resolve(
        s.importKey('pkcs8', pkcs8 as Uint8Array<ArrayBuffer>, importParams(kind, k), kind.type !== 'RSA' || k === 'SHA-256', ['sign']),
      );
      keys.set(k, p);
    }
    return p;
  };
  let first: CryptoKey;
  try {
    // extractable, to derive the public key
    first = await s.importKey('pkcs8', pkcs8 as Uint8Array<ArrayBuffer>, importParams(kind, 'SHA-256'), true, ['sign']);
  } catch (e) {
    throw new VouchError('ERR_MALFORMED_INPUT', `private key could not be imported: ${(e as Error).message}`, { cause: e });
  }
  keys.set('SHA-256', Promise.resolve(first));
  const jwk = await s.exportKey('jwk', first);
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, key_ops: _ops, ...pub } = jwk;
  const publicKey = await s.importKey('jwk', pub, importParams(kind, 'SHA-256'), true, ['verify']);
  const spki = new Uint8Array(await s.exportKey('spki', publicKey));
  const info = publicKeyFromSpki(spki);
  return {
    publicKey: info,
    async sign(data: Uint8Array, hash: HashAlgorithm): Promise<Uint8Array> {
      const key = await load(hash);
      if (kind.type === 'Ed25519') return new Uint8Array(await s.sign({ name: 'Ed25519' }, key, data as Uint8Array<ArrayBuffer>));
      if (kind.type === 'RSA') return new Uint8Array(await s.sign({ name: 'RSASSA-PKCS1-v1_5' }, key, data as Uint8Array<ArrayBuffer>));
      const raw = new Uint8Array(await s.sign({ name: 'ECDSA', hash }, key, data as Uint8Array<ArrayBuffer>));
      return ecdsaP1363ToDer(raw);
    },
  };
}

/** Options of {@link loadSigner}. */
export interface LoadSignerOptions {
  /** Password of an encrypted cosign key (cosign: `COSIGN_PASSWORD`). Required for encrypted keys; empty is a valid password. */
  password?: string;
}

/**
 * A signer from what cosign's `--key` names for signing: cosign's encrypted key file (needs
 * `password`), or a PEM `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` (SEC1) or `RSA PRIVATE KEY`
 * (PKCS#1). Encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`) is refused with a hint.
 */
export async function loadSigner(text: string, options: LoadSignerOptions = {}): Promise<CosignSigner> {
  if (isEncryptedCosignKey(text)) {
    if (options.password === undefined) {
      throw new VouchError('ERR_KEY_NOT_FOUND', 'the cosign key is encrypted: set COSIGN_PASSWORD to its password (empty for none)');
    }
    return signerFromPkcs8(await decryptCosignKey(text, options.password));
  }
  const blocks = decodePem(text);
  for (const b of blocks) {
    try {
      if (b.label === 'PRIVATE KEY') return await signerFromPkcs8(b.der);
      if (b.label === 'EC PRIVATE KEY') return await signerFromPkcs8(pkcs8OfSec1(b.der));
      if (b.label === 'RSA PRIVATE KEY') return await signerFromPkcs8(pkcs8OfPkcs1(b.der));
    } catch (e) {
      if (e instanceof VouchError) throw e;
      throw new VouchError('ERR_MALFORMED_INPUT', `private key: ${(e as Error).message}`, { cause: e });
    }
    if (b.label === 'ENCRYPTED PRIVATE KEY') {
      throw new VouchError(
        'ERR_UNSUPPORTED',
        'encrypted PKCS#8 keys are not supported: convert the key with `cosign import-key-pair --key <file>` (or `openssl pkcs8 -topk8 -nocrypt`)',
      );
    }
  }
  throw new VouchError(
    'ERR_MALFORMED_INPUT',
    'no private key found: pass cosign.key (ENCRYPTED SIGSTORE PRIVATE KEY) or a PEM PRIVATE KEY / EC PRIVATE KEY / RSA PRIVATE KEY',
  );
}
