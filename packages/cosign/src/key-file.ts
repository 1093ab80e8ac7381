/**
 * cosign's encrypted private key file (`cosign.key`, as `cosign generate-key-pair` and
 * `cosign import-key-pair` write it): a PEM block of type `ENCRYPTED SIGSTORE PRIVATE KEY`
 * (older cosign: `ENCRYPTED COSIGN PRIVATE KEY`) whose body is a JSON envelope
 *
 *   {"kdf":{"name":"scrypt","params":{"N":…,"r":…,"p":…},"salt":"<base64>"},
 *    "cipher":{"name":"nacl/secretbox","nonce":"<base64, 24 bytes>"},
 *    "ciphertext":"<base64>"}
 *
 * The secretbox key is scrypt(password, salt, N, r, p) of 32 bytes; the plaintext is the PKCS#8
 * DER of the private key. Crypto from @noble (scrypt, XSalsa20-Poly1305), no Node APIs.
 */
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { decodePem, encodePem, utf8, VouchError } from '@vouch/core';
import { fromBase64, fromUtf8, toBase64 } from '@vouch/core/internal';

/** PEM type cosign writes (sigstore ≥ 1.x). */
export const ENCRYPTED_SIGSTORE_KEY_PEM = 'ENCRYPTED SIGSTORE PRIVATE KEY';
/** PEM type older cosign releases wrote; still read. */
export const ENCRYPTED_COSIGN_KEY_PEM = 'ENCRYPTED COSIGN PRIVATE KEY';

const ENCRYPTED_TYPES: readonly string[] = [ENCRYPTED_SIGSTORE_KEY_PEM, ENCRYPTED_COSIGN_KEY_PEM];

/** Largest scrypt memory a key file may ask for (128·N·r·p bytes): 256 MiB. cosign writes N=65536, r=8, p=1 (64 MiB). */
export const MAX_SCRYPT_MEMORY_BYTES = 256 * 1024 * 1024;

/** The parsed JSON envelope of an encrypted cosign key (binary fields decoded). */
export interface EncryptedCosignKey {
  kdf: { name: 'scrypt'; params: { N: number; r: number; p: number }; salt: Uint8Array };
  cipher: { name: 'nacl/secretbox'; nonce: Uint8Array };
  ciphertext: Uint8Array;
}

function malformed(message: string, cause?: unknown): VouchError {
  return new VouchError('ERR_MALFORMED_INPUT', `encrypted cosign key: ${message}`, cause === undefined ? {} : { cause });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function b64Field(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string') throw malformed(`${what} is not a base64 string`);
  try {
    return fromBase64(v);
  } catch (e) {
    throw malformed(`${what} is not valid base64`, e);
  }
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw malformed(`${what} is not a positive integer`);
  return v;
}

/** True when `text` holds a PEM block of cosign's encrypted key types. */
export function isEncryptedCosignKey(text: string): boolean {
  return ENCRYPTED_TYPES.some((t) => text.includes(`-----BEGIN ${t}-----`));
}

/**
 * Parse the JSON envelope of an encrypted cosign key (the PEM file, or the JSON bytes inside it).
 * Strict: unknown KDF or cipher names, a nonce that is not 24 bytes, an N that is not a power of
 * two above 1, or parameters asking for more than {@link MAX_SCRYPT_MEMORY_BYTES} are refused
 * with ERR_MALFORMED_INPUT (the limit keeps a hostile key file from exhausting memory).
 */
export function parseEncryptedCosignKey(input: string | Uint8Array): EncryptedCosignKey {
  let json: Uint8Array;
  if (typeof input === 'string') {
    const blocks = decodePem(input).filter((b) => ENCRYPTED_TYPES.includes(b.label));
    if (blocks.length === 0) throw malformed(`no "${ENCRYPTED_SIGSTORE_KEY_PEM}" PEM block`);
    if (blocks.length > 1) throw malformed('more than one encrypted key block');
    json = blocks[0]!.der;
  } else json = input;
  let doc: unknown;
  try {
    doc = JSON.parse(fromUtf8(json));
  } catch (e) {
    throw malformed('the envelope is not JSON', e);
  }
  if (!isObject(doc)) throw malformed('the envelope is not a JSON object');
  const { kdf, cipher } = doc;
  if (!isObject(kdf) || kdf.name !== 'scrypt')
    throw malformed(`unsupported key derivation ${JSON.stringify(isObject(kdf) ? kdf.name : kdf)} (cosign uses scrypt)`);
  if (!isObject(kdf.params)) throw malformed('kdf.params is missing');
  const N = positiveInt(kdf.params.N, 'kdf.params.N');
  const r = positiveInt(kdf.params.r, 'kdf.params.r');
  const p = positiveInt(kdf.params.p, 'kdf.params.p');
  if (N < 2 || (N & (N - 1)) !== 0) throw malformed(`kdf.params.N (${N}) is not a power of two`);
  if (128 * N * r * p > MAX_SCRYPT_MEMORY_BYTES) {
    throw malformed(`scrypt parameters N=${N} r=${r} p=${p} need more than ${MAX_SCRYPT_MEMORY_BYTES / 1024 / 1024} MiB`);
  }
  const salt = b64Field(kdf.salt, 'kdf.salt');
  if (!isObject(cipher) || cipher.name !== 'nacl/secretbox') {
    throw malformed(`unsupported cipher ${JSON.stringify(isObject(cipher) ? cipher.name : cipher)} (cosign uses nacl/secretbox)`);
  }
  const nonce = b64Field(cipher.nonce, 'cipher.nonce');
  if (nonce.length !== 24) throw malformed(`cipher.nonce is ${nonce.length} bytes, expected 24`);
  const ciphertext = b64Field(doc.ciphertext, 'ciphertext');
  if (ciphertext.length <= 16) throw malformed('ciphertext is too short');
  return { kdf: { name: 'scrypt', params: { N, r, p }, salt }, cipher: { name: 'nacl/secretbox', nonce }, ciphertext };
}

async function deriveKey(password: string, kdf: EncryptedCosignKey['kdf']): Promise<Uint8Array> {
  return scryptAsync(utf8(password), kdf.salt, { ...kdf.params, dkLen: 32, maxmem: MAX_SCRYPT_MEMORY_BYTES + 1024 });
}

/**
 * Decrypt cosign's encrypted key file with `password` (cosign reads it from `COSIGN_PASSWORD`;
 * an empty password is valid) and return the private key as PKCS#8 DER. A wrong password fails
 * with ERR_KEY_NOT_FOUND ("decrypt failed", as cosign says), a malformed file with
 * ERR_MALFORMED_INPUT.
 */
export async function decryptCosignKey(input: string | Uint8Array, password: string): Promise<Uint8Array> {
  const env = parseEncryptedCosignKey(input);
  const key = await deriveKey(password, env.kdf);
  try {
    return xsalsa20poly1305(key, env.cipher.nonce).decrypt(env.ciphertext);
  } catch (e) {
    throw new VouchError('ERR_KEY_NOT_FOUND', 'decrypt failed: the password of the encrypted cosign key is wrong (set COSIGN_PASSWORD)', {
      cause: e,
    });
  }
}

/** Options of {@link encryptCosignKey}. */
export interface EncryptCosignKeyOptions {
  /** scrypt N (default 65536, as cosign writes). */
  N?: number;
  /** scrypt r (default 8). */
  r?: number;
  /** scrypt p (default 1). */
  p?: number;
  /** PEM type (default `ENCRYPTED SIGSTORE PRIVATE KEY`). */
  pemType?: typeof ENCRYPTED_SIGSTORE_KEY_PEM | typeof ENCRYPTED_COSIGN_KEY_PEM;
}

/**
 * Encrypt a PKCS#8 DER private key into cosign's key file format (PEM text), readable by
 * `cosign sign --key` with the same password. Salt and nonce come from `crypto.getRandomValues`.
 */
export async function encryptCosignKey(pkcs8: Uint8Array, password: string, options: EncryptCosignKeyOptions = {}): Promise<string> {
  const params = { N: options.N ?? 65536, r: options.r ?? 8, p: options.p ?? 1 };
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(24));
  const key = await deriveKey(password, { name: 'scrypt', params, salt });
  const ciphertext = xsalsa20poly1305(key, nonce).encrypt(pkcs8);
  const doc = {
    kdf: { name: 'scrypt', params, salt: toBase64(salt) },
    cipher: { name: 'nacl/secretbox', nonce: toBase64(nonce) },
    ciphertext: toBase64(ciphertext),
  };
  // cosign's parser reads the envelope after validating it: round-trip to keep ours as strict
  parseEncryptedCosignKey(utf8(JSON.stringify(doc)));
  return encodePem(options.pemType ?? ENCRYPTED_SIGSTORE_KEY_PEM, utf8(JSON.stringify(doc)));
}
