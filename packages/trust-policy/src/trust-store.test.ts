import { isVouchError } from '@vouch/core';
import type { Certificate } from '@vouch/x509';
import { createCertificate, createTestPki, generateKeyPair, type TestPki } from '@vouch/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  isValidTrustStoreName,
  memoryTrustStore,
  parseTrustStoreReference,
  validateTrustStoreCertificates,
  verifyTrustStoreCertificates,
} from './trust-store.js';

async function asyncCodeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isVouchError(e) ? e.code : 'not a VouchError';
  }
  return undefined;
}

describe('parseTrustStoreReference', () => {
  it.each([
    ['ca:acme', 'ca', 'acme'],
    ['signingAuthority:a_b.c-d', 'signingAuthority', 'a_b.c-d'],
    ['tsa:TSA1', 'tsa', 'TSA1'],
  ])('parses %s', (ref, type, name) => {
    expect(parseTrustStoreReference(ref)).toEqual({ type, name });
  });

  it.each(['ca', '', 'CA:x', 'x509:x', 'ca:', 'ca:a:b', 'ca:a/b', 'ca:.', 'ca:..', 'ca: x', ':x'])('rejects %j', (ref) => {
    expect(() => parseTrustStoreReference(ref)).toThrowWithCode('ERR_TRUST_POLICY_INVALID');
  });

  it('names the statement in messages when given', () => {
    try {
      parseTrustStoreReference('hola:valid-ts', 'test-statement-name');
    } catch (e) {
      expect((e as Error).message).toBe(
        'trust policy statement "test-statement-name" uses an unsupported trust store type "hola" in trust store value "hola:valid-ts"',
      );
    }
    expect.assertions(1);
  });

  it('isValidTrustStoreName', () => {
    expect(isValidTrustStoreName('a.b')).toBe(true);
    expect(isValidTrustStoreName('...')).toBe(true);
    expect(isValidTrustStoreName('..')).toBe(false);
    expect(isValidTrustStoreName('a b')).toBe(false);
    expect(isValidTrustStoreName(1)).toBe(false);
  });
});

describe('trust store certificate rules', () => {
  let pki: TestPki;
  let selfSignedLeaf: Certificate;
  let selfIssuedNotSelfSigned: Certificate;
  let caNoKeyCertSign: Certificate;

  beforeAll(async () => {
    pki = await createTestPki({ keySpec: 'EC-256' });
    const k = await generateKeyPair('EC-256');
    selfSignedLeaf = await createCertificate({
      subject: 'CN=self,O=Notary,ST=WA,C=US',
      publicKey: k.publicKey,
      privateKey: k.privateKey,
      keyUsage: { usages: ['digitalSignature'] },
      extKeyUsage: { usages: ['codeSigning'] },
    });
    // A CA whose name equals the leaf's: the leaf is self-issued but signed by another key.
    const ck = await generateKeyPair('EC-256');
    const twin = await createCertificate({
      subject: 'CN=twin,O=Notary,ST=WA,C=US',
      publicKey: ck.publicKey,
      privateKey: ck.privateKey,
      basicConstraints: { ca: true },
      keyUsage: { usages: ['keyCertSign'] },
    });
    const lk = await generateKeyPair('EC-256');
    selfIssuedNotSelfSigned = await createCertificate({
      subject: 'CN=twin,O=Notary,ST=WA,C=US',
      publicKey: lk.publicKey,
      issuer: { certificate: twin, privateKey: ck.privateKey },
      keyUsage: { usages: ['digitalSignature'] },
    });
    caNoKeyCertSign = await createCertificate({
      subject: 'CN=odd root,O=Notary,ST=WA,C=US',
      publicKey: ck.publicKey,
      privateKey: ck.privateKey,
      basicConstraints: { ca: true },
      keyUsage: { usages: ['digitalSignature'] },
    });
  });

  it('ca and signingAuthority stores accept CA certificates and self-signed leaves', async () => {
    for (const type of ['ca', 'signingAuthority'] as const) {
      validateTrustStoreCertificates(type, [pki.root.certificate, pki.intermediate.certificate, selfSignedLeaf]);
      await verifyTrustStoreCertificates(type, [pki.root.certificate, pki.intermediate.certificate, selfSignedLeaf]);
    }
  });

  it('ca and signingAuthority stores reject a leaf issued by a CA', async () => {
    expect(() => validateTrustStoreCertificates('ca', [pki.root.certificate, pki.leaf.certificate])).toThrowWithCode(
      'ERR_TRUST_STORE_INVALID',
    );
    expect(await asyncCodeOf(verifyTrustStoreCertificates('signingAuthority', [pki.leaf.certificate]))).toBe('ERR_TRUST_STORE_INVALID');
  });

  it('a self-issued leaf whose signature is not its own passes the structural check only', async () => {
    expect(() => validateTrustStoreCertificates('ca', [selfIssuedNotSelfSigned])).not.toThrow();
    expect(await asyncCodeOf(verifyTrustStoreCertificates('ca', [selfIssuedNotSelfSigned]))).toBe('ERR_TRUST_STORE_INVALID');
  });

  it('tsa stores accept only self-signed root CAs', async () => {
    await verifyTrustStoreCertificates('tsa', [pki.root.certificate]);
    expect(() => validateTrustStoreCertificates('tsa', [pki.intermediate.certificate])).toThrowWithCode('ERR_TRUST_STORE_INVALID');
    expect(() => validateTrustStoreCertificates('tsa', [selfSignedLeaf])).toThrowWithCode('ERR_TRUST_STORE_INVALID');
    expect(() => validateTrustStoreCertificates('tsa', [caNoKeyCertSign])).toThrowWithCode('ERR_TRUST_STORE_INVALID');
    expect(() => validateTrustStoreCertificates('tsa', [pki.tsaLeaf.certificate])).toThrowWithCode('ERR_TRUST_STORE_INVALID');
  });

  it('rejects an empty list and an unknown type', () => {
    expect(() => validateTrustStoreCertificates('ca', [])).toThrowWithCode('ERR_TRUST_STORE_INVALID');
    expect(() => validateTrustStoreCertificates('x509' as 'ca', [pki.root.certificate])).toThrowWithCode('ERR_INVALID_ARGUMENT');
  });

  describe('memoryTrustStore', () => {
    it('returns the certificates of a named store', async () => {
      const store = memoryTrustStore({ ca: { acme: [pki.root.certificate] }, tsa: { ts: [pki.root.certificate] } });
      expect(await store.getCertificates('ca', 'acme')).toEqual([pki.root.certificate]);
      expect(await store.getCertificates('tsa', 'ts')).toHaveLength(1);
    });

    it('throws ERR_TRUST_STORE_NOT_FOUND for a missing or empty store', async () => {
      const store = memoryTrustStore({ ca: { acme: [pki.root.certificate], empty: [] } });
      expect(await asyncCodeOf(store.getCertificates('ca', 'other'))).toBe('ERR_TRUST_STORE_NOT_FOUND');
      expect(await asyncCodeOf(store.getCertificates('signingAuthority', 'acme'))).toBe('ERR_TRUST_STORE_NOT_FOUND');
      expect(await asyncCodeOf(store.getCertificates('ca', 'empty'))).toBe('ERR_TRUST_STORE_NOT_FOUND');
      expect(await asyncCodeOf(store.getCertificates('ca', '__proto__'))).toBe('ERR_TRUST_STORE_NOT_FOUND');
    });

    it('validates names and certificates at creation, self-signatures on first use', async () => {
      expect(() => memoryTrustStore({ ca: { 'bad name': [pki.root.certificate] } })).toThrowWithCode('ERR_TRUST_STORE_INVALID');
      expect(() => memoryTrustStore({ tsa: { t: [pki.intermediate.certificate] } })).toThrowWithCode('ERR_TRUST_STORE_INVALID');
      expect(() => memoryTrustStore({ ca: { a: [pki.leaf.certificate] } })).toThrowWithCode('ERR_TRUST_STORE_INVALID');
      expect(() => memoryTrustStore({ x509: {} } as never)).toThrowWithCode('ERR_INVALID_ARGUMENT');
      const store = memoryTrustStore({ ca: { twin: [selfIssuedNotSelfSigned] } });
      expect(await asyncCodeOf(store.getCertificates('ca', 'twin'))).toBe('ERR_TRUST_STORE_INVALID');
    });

    it('honours an aborted signal', async () => {
      const store = memoryTrustStore({ ca: { acme: [pki.root.certificate] } });
      expect(await asyncCodeOf(store.getCertificates('ca', 'acme', { signal: AbortSignal.abort() }))).toBe('ERR_ABORTED');
    });

    it('copies the input arrays', async () => {
      const certs = [pki.root.certificate];
      const store = memoryTrustStore({ ca: { acme: certs } });
      certs.push(pki.leaf.certificate);
      expect(await store.getCertificates('ca', 'acme')).toHaveLength(1);
    });
  });
});
