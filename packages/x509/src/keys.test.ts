import { encodePem, VouchError } from '@vouch/core';
import { describe, expect, it } from 'vitest';
import { createCertificate, generateKeyPair } from './builder.js';
import {
  exportPrivateKeyPkcs8,
  importPrivateKey,
  importPublicKey,
  type KeySpec,
  keySpecOf,
  signatureAlgorithmOf,
  signatureAlgorithmOfKey,
  verifyCertificateSignature,
} from './keys.js';
import type { PublicKeyInfo } from './types.js';

const data = new TextEncoder().encode('payload');

async function selfSigned(keySpec: KeySpec, signatureAlgorithm?: 'RS256' | 'PS256' | 'PS384' | 'RS512') {
  const pair = await generateKeyPair(keySpec);
  const cert = await createCertificate({
    subject: `CN=${keySpec}`,
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    signatureAlgorithm,
  });
  return { pair, cert };
}

describe('keys', () => {
  it.each(['RSA-2048', 'EC-256', 'EC-384', 'EC-521'] as const)('%s: key spec, import, sign/verify, PKCS#8 round trip', async (spec) => {
    const { pair, cert } = await selfSigned(spec);
    expect(keySpecOf(cert)).toBe(spec);
    expect(keySpecOf(cert.publicKey)).toBe(spec);
    const alg = signatureAlgorithmOf(spec);
    expect(signatureAlgorithmOfKey(pair.privateKey)).toBe(alg);
    const pkcs8 = await exportPrivateKeyPkcs8(pair.privateKey);
    const priv = await importPrivateKey(encodePem('PRIVATE KEY', pkcs8));
    expect(signatureAlgorithmOfKey(priv)).toBe(alg);
    const params = spec.startsWith('RSA') ? { name: 'RSA-PSS', saltLength: 32 } : { name: 'ECDSA', hash: `SHA-${alg.slice(2)}` };
    const sig = await crypto.subtle.sign(params, priv, data);
    const pub = await importPublicKey(cert, alg);
    expect(await crypto.subtle.verify(params, pub, sig, data)).toBe(true);
    expect(await verifyCertificateSignature(cert, cert)).toBe(true);
  });

  it('verifies RSA PKCS#1 v1.5 and RSA-PSS certificate signatures, and detects a wrong issuer', async () => {
    const a = await selfSigned('RSA-2048', 'RS512');
    const b = await selfSigned('RSA-2048', 'PS256');
    expect(await verifyCertificateSignature(a.cert, a.cert)).toBe(true);
    expect(await verifyCertificateSignature(b.cert, b.cert)).toBe(true);
    expect(await verifyCertificateSignature(a.cert, b.cert)).toBe(false);
  });

  it('detects a tampered certificate', async () => {
    const { cert } = await selfSigned('EC-256');
    const der = cert.der.slice();
    der[der.length - 5]! ^= 1; // inside the signature
    const { parseCertificate } = await import('./certificate.js');
    let tampered: Awaited<ReturnType<typeof parseCertificate>>;
    try {
      tampered = parseCertificate(der);
    } catch {
      return; // a flipped bit may break the DER of the ECDSA signature: also a rejection
    }
    expect(await verifyCertificateSignature(tampered, cert)).toBe(false);
  });

  it('keySpecOf rejects RSA-1024 and P-224', () => {
    const rsa: PublicKeyInfo = { type: 'RSA', bits: 1024, spki: new Uint8Array() };
    const ec: PublicKeyInfo = { type: 'EC', bits: 224, spki: new Uint8Array(), curveOid: '1.3.132.0.33' };
    for (const k of [rsa, ec]) {
      expect(() => keySpecOf(k)).toThrow(VouchError);
      try {
        keySpecOf(k);
      } catch (e) {
        expect((e as VouchError).code).toBe('ERR_CERT_INVALID');
      }
    }
  });

  it('importPublicKey refuses an algorithm of the wrong key family', async () => {
    const { cert } = await selfSigned('EC-256');
    await expect(importPublicKey(cert, 'PS256')).toRejectWithCode('ERR_ENVELOPE_UNSUPPORTED');
  });

  it('importPrivateKey accepts PKCS#1 and SEC1 PEM and rejects junk', async () => {
    // PKCS#1 / SEC1 from PKCS#8 by unwrapping the inner OCTET STRING.
    const { decode, seq } = await import('@vouch/core/asn1');
    const rsa = await generateKeyPair('RSA-2048');
    const rsa8 = await exportPrivateKeyPkcs8(rsa.privateKey);
    const pkcs1 = seq(decode(rsa8), 'pkcs8')[2]!.value;
    const k1 = await importPrivateKey(encodePem('RSA PRIVATE KEY', pkcs1));
    expect(signatureAlgorithmOfKey(k1)).toBe('PS256');
    const ec = await generateKeyPair('EC-384');
    const ec8 = await exportPrivateKeyPkcs8(ec.privateKey);
    const sec1 = seq(decode(ec8), 'pkcs8')[2]!.value;
    // WebCrypto's SEC1 omits the curve; add [0] parameters as openssl writes them.
    const { encSeq, encOid, tlv } = await import('@vouch/core/asn1');
    const f = seq(decode(sec1), 'sec1');
    const withCurve = encSeq(f[0]!.raw, f[1]!.raw, tlv(0xa0, encOid('1.3.132.0.34')), ...f.slice(2).map((x) => x.raw));
    const k2 = await importPrivateKey(encodePem('EC PRIVATE KEY', withCurve));
    expect(signatureAlgorithmOfKey(k2)).toBe('ES384');
    await expect(importPrivateKey('not a key')).toRejectWithCode('ERR_MALFORMED_INPUT');
    await expect(importPrivateKey(new Uint8Array([0x30, 0x00]))).toRejectWithCode('ERR_MALFORMED_INPUT');
    await expect(importPrivateKey(rsa8, 'ES256')).toRejectWithCode('ERR_ENVELOPE_UNSUPPORTED');
  });
});
