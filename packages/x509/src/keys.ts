/**
 * Keys: WebCrypto import/export, the Notary key specs, and certificate signature checks.
 * Runs anywhere `globalThis.crypto.subtle` exists (browsers, Deno, Bun, Node ≥ 20, edge).
 */
import { BytesCache, decodePem, isVouchError, VouchError } from '@vouch/core';
import { certificateMemo, certificatePartsOf } from './certificate.js';
import {
  children,
  DerError,
  decodeOid,
  decodeSmallInt,
  encNull,
  encOctets,
  encOid,
  encSeq,
  encSmallInt,
  expectTag,
  parseOne,
  seq,
  TAG,
  tlv,
} from './der.js';
import { OID } from './oids.js';
import type { Certificate, PublicKeyInfo } from './types.js';

/** The JOSE-style algorithm names vouch signs and verifies with. */
export type SignatureAlgorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384' | 'RS512';

/** The key specs of the Notary Project signature specification. */
export type KeySpec = 'RSA-2048' | 'RSA-3072' | 'RSA-4096' | 'EC-256' | 'EC-384' | 'EC-521';

/** Every supported key spec. */
export const KEY_SPECS: readonly KeySpec[] = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'EC-256', 'EC-384', 'EC-521'];

const HASH_OF: Record<SignatureAlgorithm, 'SHA-256' | 'SHA-384' | 'SHA-512'> = {
  PS256: 'SHA-256',
  PS384: 'SHA-384',
  PS512: 'SHA-512',
  ES256: 'SHA-256',
  ES384: 'SHA-384',
  ES512: 'SHA-512',
  RS256: 'SHA-256',
  RS384: 'SHA-384',
  RS512: 'SHA-512',
};

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new VouchError('ERR_UNSUPPORTED', 'WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return s;
}

const buf = (b: Uint8Array): Uint8Array<ArrayBuffer> => b as Uint8Array<ArrayBuffer>;

function webCryptoParams(algorithm: SignatureAlgorithm, curve?: string): RsaHashedImportParams | EcKeyImportParams {
  const hash = HASH_OF[algorithm];
  if (!hash) throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `unsupported signature algorithm "${algorithm}"`);
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
  if (pk.type === 'RSA' && (pk.bits === 2048 || pk.bits === 3072 || pk.bits === 4096)) return `RSA-${pk.bits}` as KeySpec;
  if (pk.type === 'EC' && pk.curve) return `EC-${pk.curve.slice(2)}` as KeySpec;
  const what = pk.type === 'RSA' ? `rsa key size ${pk.bits} bits` : `ecdsa key size ${pk.bits} bits`;
  throw new VouchError(
    'ERR_CERT_INVALID',
    `${what} is not supported: the Notary Project allows RSA 2048/3072/4096 and EC P-256/P-384/P-521 keys`,
    { details: { keyType: pk.type, bits: pk.bits } },
  );
}

/** The signature algorithm the Notary specification pairs with a key spec (RSA → PSS). */
export function signatureAlgorithmOf(keySpec: KeySpec): SignatureAlgorithm {
  switch (keySpec) {
    case 'RSA-2048':
      return 'PS256';
    case 'RSA-3072':
      return 'PS384';
    case 'RSA-4096':
      return 'PS512';
    case 'EC-256':
      return 'ES256';
    case 'EC-384':
      return 'ES384';
    case 'EC-521':
      return 'ES512';
    default:
      throw new VouchError('ERR_INVALID_ARGUMENT', `unknown key spec "${String(keySpec)}"`);
  }
}

/**
 * Import a public key (or a certificate's key) as a WebCrypto verification key for
 * `algorithm`. The key family must fit the algorithm (RSA for PS/RS, EC for ES).
 */
export async function importPublicKey(key: PublicKeyInfo | Certificate, algorithm: SignatureAlgorithm): Promise<CryptoKey> {
  const pk = isCertificate(key) ? key.publicKey : key;
  const wantRsa = algorithm.startsWith('PS') || algorithm.startsWith('RS');
  if (!HASH_OF[algorithm]) throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `unsupported signature algorithm "${algorithm}"`);
  if ((pk.type === 'RSA') !== wantRsa) {
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `algorithm ${algorithm} cannot be used with an ${pk.type} key`);
  }
  try {
    return await importSpkiCached(pk.spki, webCryptoParams(algorithm, pk.curve), isCertificate(key) ? certificateMemo(key) : undefined);
  } catch (e) {
    if (isVouchError(e)) throw e;
    throw new VouchError('ERR_CERT_INVALID', `public key could not be imported for ${algorithm}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * Imported verification keys are a pure function of (SPKI, parameters): memoise them so warm
 * verification does not re-import the same chain keys. Keyed by the exact SPKI bytes; bounded,
 * least recently used goes first. Failed imports are not kept.
 */
function importSpkiCached(
  spki: Uint8Array,
  params: RsaHashedImportParams | EcKeyImportParams,
  memo?: Map<string, unknown>,
): Promise<CryptoKey> {
  const p = params as { name: string; hash?: unknown; namedCurve?: string };
  const paramsKey = `${p.name}/${typeof p.hash === 'string' ? p.hash : JSON.stringify(p.hash ?? '')}/${p.namedCurve ?? ''}`;
  // The certificate's own memo first (no lookup by bytes), then the shared cache.
  const memoKey = `key:${paramsKey}`;
  const known = memo?.get(memoKey) as Promise<CryptoKey> | undefined;
  if (known) return known;
  const imported = importSpkiShared(spki, params, paramsKey);
  if (memo) {
    memo.set(memoKey, imported);
    imported.catch(() => memo.delete(memoKey));
  }
  return imported;
}

function importSpkiShared(spki: Uint8Array, params: RsaHashedImportParams | EcKeyImportParams, paramsKey: string): Promise<CryptoKey> {
  let byParams = KEY_CACHE.get(spki);
  const hit = byParams?.get(paramsKey);
  if (hit) return hit;
  const imported = subtle().importKey('spki', buf(spki), params, false, ['verify']);
  if (!byParams) {
    byParams = new Map();
    KEY_CACHE.set(spki, byParams);
  }
  const entry = byParams;
  entry.set(paramsKey, imported);
  imported.catch(() => entry.delete(paramsKey));
  return imported;
}

const KEY_CACHE = new BytesCache<Map<string, Promise<CryptoKey>>>(512);

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

function modulusBits(n: Uint8Array): number {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]!));
}

function rsaBitsOfPkcs1(pkcs1: Uint8Array): number {
  const f = seq(parseOne(pkcs1), 'RSAPrivateKey');
  return modulusBits(expectTag(f[1], TAG.INTEGER, 'modulus').value);
}

/** Normalise PKCS#8, PKCS#1 (RSA PRIVATE KEY) or SEC1 (EC PRIVATE KEY) into PKCS#8 and describe it. */
function toPkcs8(der: Uint8Array, label: string): Pkcs8Info {
  if (label === 'RSA PRIVATE KEY') {
    const bits = rsaBitsOfPkcs1(der);
    const pkcs8 = encSeq(encSmallInt(0), encSeq(encOid(OID.rsaEncryption), encNull()), encOctets(der));
    return { pkcs8, type: 'RSA', bits };
  }
  if (label === 'EC PRIVATE KEY') {
    const f = seq(parseOne(der), 'ECPrivateKey');
    const params = f.find((x) => x.tag === 0xa0);
    if (!params) throw new DerError('EC PRIVATE KEY does not name its curve');
    const curveOid = decodeOid(children(params)[0]!);
    const curve = CURVE_BY_OID[curveOid];
    if (!curve) throw new DerError(`unsupported curve ${curveOid}`);
    // PKCS#8 carries the curve in the AlgorithmIdentifier; drop [0] parameters from the inner key.
    const inner = encSeq(...f.filter((x) => x.tag !== 0xa0).map((x) => x.raw));
    const pkcs8 = encSeq(encSmallInt(0), encSeq(encOid(OID.ecPublicKey), encOid(curveOid)), encOctets(inner));
    return { pkcs8, type: 'EC', bits: Number(curve.slice(2)), curve };
  }
  const f = seq(parseOne(der), 'PrivateKeyInfo');
  const [algOid, params] = seq(f[1], 'privateKeyAlgorithm');
  const oid = decodeOid(algOid!);
  const keyOctets = expectTag(f[2], TAG.OCTET_STRING, 'privateKey').value;
  if (oid === OID.rsaEncryption) return { pkcs8: der, type: 'RSA', bits: rsaBitsOfPkcs1(keyOctets) };
  if (oid === OID.ecPublicKey) {
    const curveOid = params ? decodeOid(params) : '';
    const curve = CURVE_BY_OID[curveOid];
    if (!curve) throw new DerError(`unsupported curve ${curveOid || '(none)'}`);
    return { pkcs8: der, type: 'EC', bits: Number(curve.slice(2)), curve };
  }
  throw new DerError(`unsupported private key algorithm ${oid} (vouch supports RSA and EC keys)`);
}

function defaultAlgorithm(info: Pkcs8Info): SignatureAlgorithm {
  if (info.type === 'EC') return signatureAlgorithmOf(`EC-${info.curve!.slice(2)}` as KeySpec);
  if (info.bits === 2048 || info.bits === 3072 || info.bits === 4096) return signatureAlgorithmOf(`RSA-${info.bits}` as KeySpec);
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
export async function importPrivateKey(pkcs8: Uint8Array | string, algorithm?: SignatureAlgorithm): Promise<CryptoKey> {
  let info: Pkcs8Info;
  try {
    if (typeof pkcs8 === 'string') {
      const block = decodePem(pkcs8).find((b) => /^(|RSA |EC )PRIVATE KEY$/.test(b.label));
      if (!block) throw new DerError('no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY PEM block found');
      info = toPkcs8(block.der, block.label);
    } else {
      info = toPkcs8(pkcs8, 'PRIVATE KEY');
    }
  } catch (e) {
    if (isVouchError(e) && e.code !== 'ERR_MALFORMED_INPUT') throw e;
    throw new VouchError('ERR_MALFORMED_INPUT', `private key could not be decoded: ${(e as Error).message}`, { cause: e });
  }
  const alg = algorithm ?? defaultAlgorithm(info);
  const wantRsa = alg.startsWith('PS') || alg.startsWith('RS');
  if (!HASH_OF[alg]) throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `unsupported signature algorithm "${alg}"`);
  if ((info.type === 'RSA') !== wantRsa) {
    throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `algorithm ${alg} cannot be used with an ${info.type} key`);
  }
  const keySpec = (info.type === 'EC' ? `EC-${info.curve!.slice(2)}` : `RSA-${info.bits}`) as KeySpec;
  if (!KEY_SPECS.includes(keySpec)) {
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
export function signatureAlgorithmOfKey(key: CryptoKey): SignatureAlgorithm {
  const a = key.algorithm as KeyAlgorithm & { hash?: { name: string }; namedCurve?: string };
  const bits = { 'SHA-256': '256', 'SHA-384': '384', 'SHA-512': '512' }[a.hash?.name ?? ''];
  if (a.name === 'RSA-PSS' && bits) return `PS${bits}` as SignatureAlgorithm;
  if (a.name === 'RSASSA-PKCS1-v1_5' && bits) return `RS${bits}` as SignatureAlgorithm;
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

// ---------------------------------------------------------------- signatures

/** Convert a DER ECDSA-Sig-Value into the fixed-width r||s form WebCrypto uses. */
export function ecdsaDerToP1363(der: Uint8Array, coordBytes: number): Uint8Array {
  const [r, s, extra] = seq(parseOne(der), 'ECDSA-Sig-Value');
  if (extra) throw new DerError('ECDSA signature has trailing fields');
  const out = new Uint8Array(coordBytes * 2);
  for (const [i, part] of [expectTag(r, TAG.INTEGER, 'r'), expectTag(s, TAG.INTEGER, 's')].entries()) {
    let v = part.value;
    if (v.length === 0 || v[0]! & 0x80) throw new DerError('ECDSA signature integer is not positive');
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > coordBytes) throw new DerError('ECDSA signature integer is too large');
    out.set(v, (i + 1) * coordBytes - v.length);
  }
  return out;
}

/** Convert a fixed-width r||s ECDSA signature into DER. */
export function ecdsaP1363ToDer(sig: Uint8Array): Uint8Array {
  const n = sig.length / 2;
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const m = b.subarray(i);
    return m[0]! & 0x80 ? tlv(TAG.INTEGER, new Uint8Array([0]), m) : tlv(TAG.INTEGER, m);
  };
  return encSeq(int(sig.subarray(0, n)), int(sig.subarray(n)));
}

const HASH_BY_OID: Record<string, 'SHA-256' | 'SHA-384' | 'SHA-512'> = {
  [OID.sha256]: 'SHA-256',
  [OID.sha384]: 'SHA-384',
  [OID.sha512]: 'SHA-512',
};

interface VerifyPlan {
  keyParams: RsaHashedImportParams | EcKeyImportParams;
  verifyParams: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
  ecCoord?: number;
}

function parsePssParams(params: Uint8Array | undefined): { hash: 'SHA-256' | 'SHA-384' | 'SHA-512'; saltLength: number } {
  if (!params) throw new DerError('RSASSA-PSS requires parameters');
  let hash: 'SHA-256' | 'SHA-384' | 'SHA-512' | undefined;
  let mgfHash: string | undefined;
  let saltLength = 20;
  for (const f of seq(parseOne(params), 'RSASSA-PSS-params')) {
    const [inner] = children(f);
    if (!inner) throw new DerError('empty RSASSA-PSS parameter');
    if (f.tag === 0xa0) hash = HASH_BY_OID[decodeOid(seq(inner, 'hashAlgorithm')[0]!)];
    else if (f.tag === 0xa1) {
      const [mgfOid, mgfParams] = seq(inner, 'maskGenAlgorithm');
      if (decodeOid(mgfOid!) !== OID.mgf1) throw new DerError('RSASSA-PSS mask generation must be MGF1');
      mgfHash = HASH_BY_OID[decodeOid(seq(mgfParams, 'MGF1 hash')[0]!)];
    } else if (f.tag === 0xa2) saltLength = decodeSmallInt(inner);
    else if (f.tag === 0xa3) {
      if (decodeSmallInt(inner) !== 1) throw new DerError('RSASSA-PSS trailer field must be 1');
    }
  }
  // SHA-1 (the ASN.1 default) is refused, as Go refuses SHA-1 certificate signatures.
  if (!hash || mgfHash !== hash) throw new DerError('RSASSA-PSS must use SHA-256/384/512 with a matching MGF1 hash');
  return { hash, saltLength };
}

function planFor(sigOid: string, params: Uint8Array | undefined, issuerKey: PublicKeyInfo): VerifyPlan {
  const rsa = (hash: 'SHA-256' | 'SHA-384' | 'SHA-512'): VerifyPlan => ({
    keyParams: { name: 'RSASSA-PKCS1-v1_5', hash },
    verifyParams: { name: 'RSASSA-PKCS1-v1_5' },
  });
  const ec = (hash: 'SHA-256' | 'SHA-384' | 'SHA-512'): VerifyPlan => {
    if (!issuerKey.curve) throw new DerError('issuer EC key is on an unsupported curve');
    return {
      keyParams: { name: 'ECDSA', namedCurve: issuerKey.curve },
      verifyParams: { name: 'ECDSA', hash },
      ecCoord: Math.ceil(issuerKey.bits / 8),
    };
  };
  switch (sigOid) {
    case OID.sha256WithRsa:
      return rsa('SHA-256');
    case OID.sha384WithRsa:
      return rsa('SHA-384');
    case OID.sha512WithRsa:
      return rsa('SHA-512');
    case OID.rsassaPss: {
      const { hash, saltLength } = parsePssParams(params);
      if (saltLength > 1024) throw new DerError('RSASSA-PSS salt length out of range');
      return { keyParams: { name: 'RSA-PSS', hash }, verifyParams: { name: 'RSA-PSS', saltLength } };
    }
    case OID.ecdsaWithSha256:
      return ec('SHA-256');
    case OID.ecdsaWithSha384:
      return ec('SHA-384');
    case OID.ecdsaWithSha512:
      return ec('SHA-512');
    case OID.sha1WithRsa:
    case OID.ecdsaWithSha1:
    case OID.md5WithRsa:
      throw new VouchError(
        'ERR_CERT_INVALID',
        `certificate is signed with an insecure algorithm (${sigOid}); SHA-1 and MD5 signatures are rejected`,
      );
    default:
      throw new VouchError('ERR_CERT_INVALID', `unsupported certificate signature algorithm ${sigOid}`);
  }
}

/**
 * Verify that `issuer`'s key signed `cert` (signature only: names and constraints are the
 * chain validator's job). RSA PKCS#1 v1.5 and RSA-PSS with SHA-256/384/512 and ECDSA with
 * SHA-256/384/512 are supported.
 *
 * @returns true when the signature verifies, false when it does not.
 * @throws VouchError ERR_CERT_INVALID when the algorithm is insecure (SHA-1, MD5) or unsupported,
 *   or when the key type does not fit the signature algorithm.
 */
export async function verifyCertificateSignature(cert: Certificate, issuer: Certificate): Promise<boolean> {
  const parts = certificatePartsOf(cert);
  // The prepared check depends only on this DER and on the issuer key's type and size.
  const memo = certificateMemo(cert);
  const ik = issuer.publicKey;
  const memoKey = `check:${ik.type}/${ik.bits}/${ik.curve ?? ''}`;
  const prepared = memo?.get(memoKey) as { plan: VerifyPlan; signature: Uint8Array } | undefined;
  let plan: VerifyPlan;
  let signature = parts.signature;
  if (prepared) {
    plan = prepared.plan;
    signature = prepared.signature;
  } else {
    try {
      plan = planFor(parts.signatureAlgorithm, parts.signatureParams, issuer.publicKey);
      const wantRsa = plan.keyParams.name !== 'ECDSA';
      if ((issuer.publicKey.type === 'RSA') !== wantRsa) {
        throw new VouchError(
          'ERR_CERT_INVALID',
          `signature algorithm ${parts.signatureAlgorithm} does not fit the issuer's ${issuer.publicKey.type} key`,
        );
      }
      if (plan.ecCoord) {
        try {
          signature = ecdsaDerToP1363(signature, plan.ecCoord);
        } catch {
          return false;
        }
      }
    } catch (e) {
      if (isVouchError(e)) throw e;
      throw new VouchError('ERR_CERT_INVALID', `certificate signature cannot be checked: ${(e as Error).message}`, { cause: e });
    }
    memo?.set(memoKey, { plan, signature });
  }
  let key: CryptoKey;
  try {
    key = await importSpkiCached(issuer.publicKey.spki, plan.keyParams, certificateMemo(issuer));
  } catch (e) {
    throw new VouchError('ERR_CERT_INVALID', `issuer public key could not be imported: ${(e as Error).message}`, { cause: e });
  }
  try {
    return await subtle().verify(plan.verifyParams, key, buf(signature), buf(parts.tbs));
  } catch {
    return false;
  }
}
