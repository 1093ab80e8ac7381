/**
 * Key material of the vectors. Keys are committed (test-vectors/pki/keys/*.key.pem, PKCS#8) so
 * that regenerating keeps every certificate's key; `--new-keys` makes fresh ones.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeySpec } from '@vouch/core';
import { exportPrivateKeyPkcs8, generateKeyPair } from '@vouch/x509';
import { OUT, pem, write } from './common.js';

export type KeyKind = KeySpec | 'RSA-1024' | 'EC-224';

export interface KeyMaterial {
  name: string;
  kind: KeyKind;
  /** WebCrypto keys (absent for EC-224, which WebCrypto does not support). */
  privateKey?: CryptoKey;
  publicKey?: CryptoKey;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** PKCS#8 DER. */
  pkcs8: Uint8Array;
}

const NEW_KEYS = process.argv.includes('--new-keys');
const subtle = globalThis.crypto.subtle;

function webCryptoParams(kind: KeyKind): RsaHashedImportParams | EcKeyImportParams {
  switch (kind) {
    case 'RSA-1024':
    case 'RSA-2048':
      return { name: 'RSA-PSS', hash: 'SHA-256' };
    case 'RSA-3072':
      return { name: 'RSA-PSS', hash: 'SHA-384' };
    case 'RSA-4096':
      return { name: 'RSA-PSS', hash: 'SHA-512' };
    case 'EC-256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'EC-384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'EC-521':
      return { name: 'ECDSA', namedCurve: 'P-521' };
    default:
      throw new Error(`no WebCrypto parameters for ${kind}`);
  }
}

async function fresh(kind: KeyKind): Promise<Uint8Array> {
  if (kind === 'EC-224') {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp224r1' });
    return new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' }));
  }
  if (kind === 'RSA-1024') {
    const pair = (await subtle.generateKey(
      { name: 'RSA-PSS', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    return new Uint8Array(await subtle.exportKey('pkcs8', pair.privateKey));
  }
  return exportPrivateKeyPkcs8((await generateKeyPair(kind)).privateKey);
}

const cache = new Map<string, KeyMaterial>();

/** The key named `name` (loaded from pki/keys/, or generated and saved there). */
export async function key(name: string, kind: KeyKind): Promise<KeyMaterial> {
  const hit = cache.get(name);
  if (hit) {
    if (hit.kind !== kind) throw new Error(`key ${name} requested as ${kind} and ${hit.kind}`);
    return hit;
  }
  const rel = `pki/keys/${name}.key.pem`;
  let pkcs8: Uint8Array;
  if (!NEW_KEYS && existsSync(join(OUT, rel))) {
    const ko = createPrivateKey(readFileSync(join(OUT, rel), 'utf8'));
    pkcs8 = new Uint8Array(ko.export({ type: 'pkcs8', format: 'der' }));
  } else {
    pkcs8 = await fresh(kind);
    write(rel, pem('PRIVATE KEY', pkcs8));
  }
  const ko = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  const d = ko.asymmetricKeyDetails ?? {};
  const actual =
    ko.asymmetricKeyType === 'ec'
      ? `EC-${{ prime256v1: 256, secp384r1: 384, secp521r1: 521, secp224r1: 224 }[d.namedCurve as string]}`
      : `RSA-${d.modulusLength}`;
  if (actual !== kind) throw new Error(`${rel} holds a ${actual} key, expected ${kind}; delete it or run with --new-keys`);
  const spki = new Uint8Array(createPublicKey(ko).export({ type: 'spki', format: 'der' }));
  const m: KeyMaterial = { name, kind, spki, pkcs8 };
  if (kind !== 'EC-224') {
    const params = webCryptoParams(kind);
    m.privateKey = await subtle.importKey('pkcs8', pkcs8 as BufferSource, params, true, ['sign']);
    m.publicKey = await subtle.importKey('spki', spki as BufferSource, params, true, ['verify']);
  }
  cache.set(name, m);
  return m;
}
