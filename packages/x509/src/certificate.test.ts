import { encodePem, VouchError } from '@vouch/core';
import { encOctets, encSeq, tlv } from '@vouch/core/asn1';
import { hashBytes, toHex } from '@vouch/core/internal';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCertificate, createTestPki, generateKeyPair, generateTestCertificate, type TestPki } from './builder.js';
import { certificatesToPem, parseCertificate, parseCertificates } from './certificate.js';
import { OID } from './internal/oids.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki({ keySpec: 'EC-256', ocspUrls: ['http://127.0.0.1:1/ocsp'], crlUrls: ['http://127.0.0.1:1/ca.crl'] });
});

describe('parseCertificate', () => {
  it('fills every field of the model', () => {
    const c = pki.leaf.certificate;
    expect(c.subject).toBe('CN=vouch test signer,O=vouch,ST=WA,C=US');
    expect(c.issuer).toBe('CN=vouch test intermediate,O=vouch,ST=WA,C=US');
    expect(c.subjectRdns.map((r) => r.map((a) => `${a.type}=${a.value}`).join('+'))).toEqual([
      'C=US',
      'ST=WA',
      'O=vouch',
      'CN=vouch test signer',
    ]);
    expect(c.sha256Fingerprint).toBe(toHex(hashBytes(c.der)));
    expect(c.serialNumber).toMatch(/^[0-9a-f]+$/);
    expect(c.publicKey).toMatchObject({ type: 'EC', bits: 256, curve: 'P-256' });
    expect(c.signatureAlgorithm).toBe(OID.ecdsaWithSha256);
    expect(c.selfSigned).toBe(false);
    expect(c.basicConstraints).toEqual({ critical: true, ca: false });
    expect(c.keyUsage).toEqual({ critical: true, usages: ['digitalSignature'] });
    expect(c.extKeyUsage).toEqual({ critical: false, oids: [OID.codeSigning] });
    expect(c.criticalExtensions).toEqual([OID.basicConstraints, OID.keyUsage]);
    expect(c.ocspUrls).toEqual(['http://127.0.0.1:1/ocsp']);
    expect(c.crlUrls).toEqual(['http://127.0.0.1:1/ca.crl']);
    expect(c.authorityKeyIdentifier).toBe(pki.intermediate.certificate.subjectKeyIdentifier);
    expect(c.version).toBe(3);
    expect(pki.root.certificate.selfSigned).toBe(true);
    expect(pki.root.certificate.basicConstraints).toEqual({ critical: true, ca: true, pathLenConstraint: 1 });
  });

  it('renders subjects like Go pkix.Name.String(): fixed order, escaping, multi-valued, unknown OIDs', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EC-256');
    const c = await createCertificate({
      subject: [
        { type: '0.9.2342.19200300.100.1.1', value: 'uid-1' },
        { type: 'CN', value: ' Acme, Inc.' },
        { type: 'OU', value: 'b' },
        { type: 'O', value: '#org' },
        { type: 'OU', value: 'a' },
        { type: 'C', value: 'US' },
      ],
      publicKey,
      privateKey,
    });
    // DER order is reversed (C first); Go prints CN, OU (grouped), O, C, then unknown types.
    expect(c.subject).toBe('CN=\\ Acme\\, Inc.,OU=a+OU=b,O=\\#org,C=US,0.9.2342.19200300.100.1.1=#13057569642d31');
  });

  it('parses a certificate with a malformed non-critical extension and records it', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EC-256');
    const c = await createCertificate({
      subject: 'CN=odd',
      publicKey,
      privateKey,
      extensions: [
        { oid: OID.crlDistributionPoints, critical: false, value: new Uint8Array([0x30, 0x03, 0xa0, 0x01]) },
        { oid: OID.freshestCrl, critical: false, value: new Uint8Array([0x30, 0x04, 0x30, 0x02, 0xa0, 0x00]) },
        { oid: '1.2.3.4.5', critical: false, value: new Uint8Array([0xff]) },
      ],
    });
    expect(c.crlUrls).toEqual([]);
    expect(c.malformedExtensions).toEqual([OID.crlDistributionPoints]);
    expect(c.extensions?.map((e) => e.oid)).toContain(OID.freshestCrl);
  });

  it('rejects a malformed critical extension it interprets', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EC-256');
    const c = await createCertificate({
      subject: 'CN=bad',
      publicKey,
      privateKey,
      extensions: [{ oid: OID.authorityInfoAccess, critical: true, value: encSeq(encSeq(tlv(0x06, new Uint8Array(0)))) }],
    }).catch((e) => e);
    expect(c).toBeInstanceOf(VouchError);
    expect(c.code).toBe('ERR_CERT_INVALID');
  });

  it('rejects trailing bytes, truncation and non-certificates', () => {
    const der = pki.leaf.certificate.der;
    expect(() => parseCertificate(new Uint8Array([...der, 0]))).toThrowWithCode('ERR_CERT_INVALID');
    expect(() => parseCertificate(der.subarray(0, der.length - 1))).toThrowWithCode('ERR_CERT_INVALID');
    expect(() => parseCertificate(encSeq(encOctets(new Uint8Array(3))))).toThrowWithCode('ERR_CERT_INVALID');
    expect(() => parseCertificate(new Uint8Array(0))).toThrowWithCode('ERR_CERT_INVALID');
  });
});

describe('parseCertificates', () => {
  it('reads PEM (string or bytes) with several blocks and ignores other block types', () => {
    const pem = `${encodePem('PRIVATE KEY', new Uint8Array([1, 2, 3]))}${certificatesToPem(pki.chain)}`;
    const fromString = parseCertificates(pem);
    expect(fromString.map((c) => c.sha256Fingerprint)).toEqual(pki.chain.map((c) => c.sha256Fingerprint));
    expect(parseCertificates(new TextEncoder().encode(pem))).toHaveLength(3);
  });

  it('reads concatenated DER', () => {
    const all = new Uint8Array(pki.chain.reduce((n, c) => n + c.der.length, 0));
    let o = 0;
    for (const c of pki.chain) {
      all.set(c.der, o);
      o += c.der.length;
    }
    expect(parseCertificates(all).map((c) => c.subject)).toEqual(pki.chain.map((c) => c.subject));
  });

  it('rejects empty input, junk, PEM without certificates and a bad certificate among good ones', () => {
    expect(() => parseCertificates('')).toThrowWithCode('ERR_CERT_INVALID');
    expect(() => parseCertificates(new Uint8Array(0))).toThrowWithCode('ERR_CERT_INVALID');
    expect(() => parseCertificates(new TextEncoder().encode('invalid\ninvalid\n'))).toThrowWithCode('ERR_CERT_INVALID');
    expect(() => parseCertificates(encodePem('PUBLIC KEY', new Uint8Array([1])))).toThrowWithCode('ERR_CERT_INVALID');
    expect(() =>
      parseCertificates(`${certificatesToPem([pki.root.certificate])}${encodePem('CERTIFICATE', new Uint8Array([0x30, 0]))}`),
    ).toThrowWithCode('ERR_CERT_INVALID');
    expect(() => parseCertificates('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n')).toThrowWithCode('ERR_CERT_INVALID');
  });
});

describe('generateTestCertificate', () => {
  it('produces the notation generate-test profile', async () => {
    const now = new Date('2025-03-01T00:00:00Z');
    const g = await generateTestCertificate('wabbit-networks.io', { now });
    const c = g.certificate;
    expect(c.subject).toBe('CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US');
    expect(c.issuer).toBe(c.subject);
    expect(c.selfSigned).toBe(true);
    expect(c.publicKey).toMatchObject({ type: 'RSA', bits: 2048 });
    expect(c.signatureAlgorithm).toBe(OID.sha256WithRsa);
    expect(c.basicConstraints).toBeUndefined();
    expect(c.keyUsage).toEqual({ critical: true, usages: ['digitalSignature'] });
    expect(c.extKeyUsage).toEqual({ critical: false, oids: [OID.codeSigning] });
    expect(c.notBefore.toISOString()).toBe(now.toISOString());
    expect(c.notAfter.getTime() - c.notBefore.getTime()).toBe(86_400_000);
    expect(g.pkcs8[0]).toBe(0x30);
  });
});

describe('parseCertificate memo (same DER parsed again)', () => {
  it('gives each call its own object over the caller bytes, with frozen shared parts and fresh dates', () => {
    const der = pki.leaf.certificate.der;
    const a = parseCertificate(der.slice());
    const copy = der.slice();
    const b = parseCertificate(copy);
    expect(b).not.toBe(a);
    expect(b).toEqual(a);
    expect(b.der).toBe(copy);
    expect(b.publicKey.spki.buffer).toBe(copy.buffer);
    expect(b.notBefore).not.toBe(a.notBefore);
    expect(Object.isFrozen(b.subjectRdns)).toBe(true);
    expect(Object.isFrozen(b.ocspUrls)).toBe(true);
    expect(Object.isFrozen(b.keyUsage)).toBe(true);
    expect(() => (b.ocspUrls as string[]).push('http://evil')).toThrow(TypeError);
    // what one caller changes in its own object does not reach the next one
    a.notBefore.setTime(0);
    copy.fill(0);
    const c = parseCertificate(der.slice());
    expect(c.notBefore.getTime()).toBe(pki.leaf.certificate.notBefore.getTime());
    expect(c.sha256Fingerprint).toBe(toHex(hashBytes(der, 'sha256')));
    expect(c.der).toEqual(der);
  });

  it('matches on the exact bytes: a one-byte change is parsed (and rejected or read) on its own', () => {
    const der = pki.leaf.certificate.der;
    parseCertificate(der);
    const changed = der.slice();
    // flip a bit inside the subject's CN value (the certificate stays well-formed)
    const cn = new TextEncoder().encode('vouch test signer');
    const at = changed.findIndex((_, i) => cn.every((x, j) => changed[i + j] === x));
    changed[at] = 'W'.charCodeAt(0);
    expect(parseCertificate(changed).subject).toBe('CN=Wouch test signer,O=vouch,ST=WA,C=US');
    expect(parseCertificate(der.slice()).subject).toBe('CN=vouch test signer,O=vouch,ST=WA,C=US');
    expect(() => parseCertificate(der.subarray(0, der.length - 1))).toThrowWithCode('ERR_CERT_INVALID');
  });
});
