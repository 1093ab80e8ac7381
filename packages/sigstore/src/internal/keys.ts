/**
 * Keys as Sigstore names and uses them: reading PEM/DER/trusted-root keys, the hash names of
 * the protobuf specs, and the signature schemes a key is checked with (through the one
 * verification function of @vouch/core).
 */

import { decodePem, type HashAlgorithm, VouchError } from '@vouch/core';
import { encBitString, encNull, encOid, encSeq } from '@vouch/core/asn1';
import {
  bytesEqual,
  CRYPTO_OID,
  describeVerificationKey,
  type VerificationKeyInfo,
  type VerificationScheme,
  verifySignature,
} from '@vouch/core/internal';
import type { PublicKeyInput, SigstorePublicKey } from '../types.js';

const PROTO_HASHES: Readonly<Record<string, HashAlgorithm>> = { SHA2_256: 'SHA-256', SHA2_384: 'SHA-384', SHA2_512: 'SHA-512' };

/** `SHA2_256` → `SHA-256` (protobuf-specs `HashAlgorithm`); undefined for anything else. */
export function hashOfProtoName(name: string): HashAlgorithm | undefined {
  return PROTO_HASHES[name];
}

/** `sha256` (Rekor's lowercase names) → `SHA-256`. */
export function hashOfRekorName(name: string): HashAlgorithm | undefined {
  return name === 'sha256' ? 'SHA-256' : name === 'sha384' ? 'SHA-384' : name === 'sha512' ? 'SHA-512' : undefined;
}

function asKey(info: VerificationKeyInfo): SigstorePublicKey {
  return info.type === 'EC'
    ? { type: 'EC', bits: info.bits, curve: info.curve!, spki: info.spki }
    : { type: info.type, bits: info.bits, spki: info.spki };
}

/**
 * A key from DER SubjectPublicKeyInfo: RSA (at least 2048 bits), EC on P-256/P-384/P-521, or
 * Ed25519. Throws VouchError `code` otherwise.
 */
export function keyFromSpki(
  spki: Uint8Array,
  what: string,
  code: 'ERR_MALFORMED_INPUT' | 'ERR_CONFIG_INVALID' | 'ERR_TLOG_INVALID' = 'ERR_MALFORMED_INPUT',
): SigstorePublicKey {
  let info: VerificationKeyInfo;
  try {
    info = describeVerificationKey(spki);
  } catch (e) {
    throw new VouchError(code, `${what} is not a usable public key: ${(e as Error).message}`, { cause: e });
  }
  if (info.type === 'EC' && !info.curve) throw new VouchError(code, `${what} is an EC key on an unsupported curve (${info.curveOid})`);
  if (info.type === 'RSA' && info.bits < 2048)
    throw new VouchError(code, `${what} is a ${info.bits}-bit RSA key; at least 2048 bits are required`);
  return asKey(info);
}

/** Wrap a PKCS#1 RSAPublicKey into a SubjectPublicKeyInfo. */
export function spkiOfPkcs1(rsaPublicKey: Uint8Array): Uint8Array {
  return encSeq(encSeq(encOid(CRYPTO_OID.rsaEncryption), encNull()), encBitString(rsaPublicKey));
}

/** Every `PUBLIC KEY` (and PKCS#1 `RSA PUBLIC KEY`) block of PEM text, as keys. */
export function keysFromPem(pem: string, what: string): SigstorePublicKey[] {
  let blocks: { label: string; der: Uint8Array }[];
  try {
    blocks = decodePem(pem);
  } catch (e) {
    throw new VouchError('ERR_MALFORMED_INPUT', `${what}: ${(e as Error).message}`, { cause: e });
  }
  const keys = blocks
    .filter((b) => b.label === 'PUBLIC KEY' || b.label === 'RSA PUBLIC KEY')
    .map((b, i) => keyFromSpki(b.label === 'PUBLIC KEY' ? b.der : spkiOfPkcs1(b.der), `${what} (key ${i + 1})`));
  if (keys.length === 0) throw new VouchError('ERR_MALFORMED_INPUT', `${what}: no "-----BEGIN PUBLIC KEY-----" block found`);
  return keys;
}

/** Read a public key: PEM (`PUBLIC KEY`, exactly one), DER SubjectPublicKeyInfo, or an already parsed key. */
export function parsePublicKey(input: PublicKeyInput): SigstorePublicKey {
  if (typeof input === 'string') {
    const keys = keysFromPem(input, 'public key');
    if (keys.length !== 1) throw new VouchError('ERR_MALFORMED_INPUT', `public key: expected one PEM key, found ${keys.length}`);
    return keys[0]!;
  }
  if (input instanceof Uint8Array) return keyFromSpki(input, 'public key');
  if (typeof input === 'object' && input !== null && input.spki instanceof Uint8Array) return keyFromSpki(input.spki, 'public key');
  throw new VouchError('ERR_INVALID_ARGUMENT', 'a public key is PEM text, DER SubjectPublicKeyInfo bytes, or a parsed key');
}

export function sameKey(a: SigstorePublicKey, b: SigstorePublicKey): boolean {
  return bytesEqual(a.spki, b.spki);
}

/** The hash ECDSA signatures are made with on a curve, as Sigstore pairs them (P-256/SHA-256, …). */
function curveHash(key: SigstorePublicKey): HashAlgorithm {
  return key.curve === 'P-384' ? 'SHA-384' : key.curve === 'P-521' ? 'SHA-512' : 'SHA-256';
}

/**
 * The schemes an artifact signature by `key` is checked with, most likely first: ECDSA (DER
 * signature) with the hash the context names (`hint`: the bundle's message digest or the log
 * entry's), the curve's own hash, then SHA-256 (cosign signs with SHA-256 on every curve);
 * RSASSA-PKCS1-v1_5 with the same hashes; pure Ed25519.
 */
export function schemesFor(key: SigstorePublicKey, hint?: HashAlgorithm): VerificationScheme[] {
  if (key.type === 'Ed25519') return [{ kind: 'Ed25519' }];
  const hashes = [...new Set([hint, key.type === 'EC' ? curveHash(key) : 'SHA-256', 'SHA-256'].filter((h): h is HashAlgorithm => !!h))];
  return hashes.map((hash) => (key.type === 'EC' ? { kind: 'ECDSA', hash, encoding: 'der' } : { kind: 'RSASSA-PKCS1-v1_5', hash }));
}

/** Verify `signature` over `data` with `key`, trying {@link schemesFor}. Resolves false when no scheme verifies. */
export async function verifyWithKey(
  key: SigstorePublicKey,
  data: Uint8Array,
  signature: Uint8Array,
  hint?: HashAlgorithm,
): Promise<boolean> {
  for (const scheme of schemesFor(key, hint)) {
    if (await verifySignature({ key: key as VerificationKeyInfo, algorithm: scheme, data, signature })) return true;
  }
  return false;
}

/** Verify with one explicit scheme (SETs, checkpoints, SCTs: the scheme is fixed by the protocol). */
export function verifyWithScheme(
  key: SigstorePublicKey,
  scheme: VerificationScheme,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  return verifySignature({ key: key as VerificationKeyInfo, algorithm: scheme, data, signature });
}

/** The scheme a log (Rekor, CT) signs with: ECDSA with the curve's hash, RSASSA-PKCS1-v1_5 with SHA-256, or Ed25519. */
export function logScheme(key: SigstorePublicKey): VerificationScheme {
  if (key.type === 'Ed25519') return { kind: 'Ed25519' };
  if (key.type === 'EC') return { kind: 'ECDSA', hash: curveHash(key), encoding: 'der' };
  return { kind: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}
