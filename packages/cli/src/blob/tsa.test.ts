import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVouchError } from '@vouch/core';
import { certificatesToPem, createCertificate, createTestPki, generateKeyPair, type TestPki } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTsaRootCertificate } from './tsa.js';

let dir: string;
let pki: TestPki;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-tsa-root-'));
  pki = await createTestPki({ keySpec: 'EC-256' });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function failure(content: string | Uint8Array): Promise<{ code: string; message: string }> {
  const p = join(dir, `f${Math.random().toString(16).slice(2)}`);
  await writeFile(p, content);
  try {
    await loadTsaRootCertificate(p, 'root.pem');
  } catch (e) {
    if (isVouchError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('loadTsaRootCertificate (--timestamp-root-cert)', () => {
  it('accepts exactly one self-issued certificate signed by its own key, PEM or DER', async () => {
    const pem = join(dir, 'root.pem');
    await writeFile(pem, certificatesToPem([pki.root.certificate]));
    expect((await loadTsaRootCertificate(pem)).sha256Fingerprint).toBe(pki.root.certificate.sha256Fingerprint);
    const der = join(dir, 'root.der');
    await writeFile(der, pki.root.certificate.der);
    expect((await loadTsaRootCertificate(der)).subject).toBe(pki.root.certificate.subject);
  });

  it("rejects what notation rejects, in notation's words", async () => {
    expect(await failure('')).toEqual({
      code: 'ERR_CERT_INVALID',
      message: 'cannot find any certificate from "root.pem". Expecting single x509 root certificate in PEM or DER format from the file',
    });
    expect((await failure(certificatesToPem([pki.root.certificate, pki.intermediate.certificate]))).message).toMatch(
      /^found more than one certificates from "root.pem"\. Expecting single x509 root certificate/,
    );
    expect((await failure('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n')).message).toMatch(/^x509: malformed certificate/);
    // issued by the root: its signature does not verify with its own key
    expect((await failure(certificatesToPem([pki.intermediate.certificate]))).message).toMatch(
      /^failed to check root certificate with error: /,
    );
    // signed by its own key, but the issuer name differs from the subject
    const keys = await generateKeyPair('EC-256');
    const a = await createCertificate({ subject: 'CN=a,O=vouch', publicKey: keys.publicKey, privateKey: keys.privateKey });
    const b = await createCertificate({
      subject: 'CN=b,O=vouch',
      publicKey: keys.publicKey,
      issuer: { certificate: a, privateKey: keys.privateKey },
      basicConstraints: { ca: true },
    });
    expect(await failure(certificatesToPem([b]))).toEqual({
      code: 'ERR_CERT_INVALID',
      message:
        'certificate from "root.pem" is not a root certificate. Expecting single x509 root certificate in PEM or DER format from the file',
    });
    await expect(loadTsaRootCertificate(join(dir, 'missing.pem'))).toRejectWithCode('ERR_IO');
  });
});
