import { beforeAll, describe, expect, it } from 'vitest';
import { type CertificateWithKey, createCertificate, createTestPki, generateKeyPair, type TestPki } from './builder.js';
import { OID } from './internal/oids.js';
import { buildCertificatePath } from './path.js';
import type { Certificate } from './types.js';

const NB = new Date('2025-01-01T00:00:00Z');
const NA = new Date('2027-01-01T00:00:00Z');
const AT = new Date('2026-01-01T00:00:00Z');

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki({ keySpec: 'EC-256', notBefore: NB, notAfter: NA });
});

async function ca(
  issuer: CertificateWithKey | undefined,
  name: string,
  extra: Partial<Parameters<typeof createCertificate>[0]> = {},
): Promise<CertificateWithKey> {
  const k = await generateKeyPair('EC-256');
  const certificate = await createCertificate({
    subject: `CN=${name}`,
    publicKey: k.publicKey,
    ...(issuer ? { issuer } : { privateKey: k.privateKey }),
    notBefore: NB,
    notAfter: NA,
    basicConstraints: { ca: true },
    keyUsage: { usages: ['keyCertSign'] },
    ...extra,
  });
  return { certificate, privateKey: k.privateKey };
}

async function leafOf(issuer: CertificateWithKey, extra: Partial<Parameters<typeof createCertificate>[0]> = {}): Promise<Certificate> {
  const k = await generateKeyPair('EC-256');
  return createCertificate({
    subject: 'CN=leaf',
    publicKey: k.publicKey,
    issuer,
    notBefore: NB,
    notAfter: NA,
    keyUsage: { usages: ['digitalSignature'] },
    ...extra,
  });
}

describe('buildCertificatePath', () => {
  it('finds leaf → intermediate → anchor among candidates in any order', async () => {
    const path = await buildCertificatePath(pki.leaf.certificate, {
      anchors: [pki.root.certificate],
      intermediates: [pki.tsaLeaf.certificate, pki.intermediate.certificate],
      at: AT,
    });
    expect(path.map((c) => c.subject)).toEqual(pki.chain.map((c) => c.subject));
  });

  it('a leaf that is itself an anchor is its own path', async () => {
    expect(await buildCertificatePath(pki.root.certificate, { anchors: [pki.root.certificate], at: AT })).toEqual([pki.root.certificate]);
  });

  it('refuses without a path to an anchor (missing intermediate, other root)', async () => {
    await expect(buildCertificatePath(pki.leaf.certificate, { anchors: [pki.root.certificate], at: AT })).toRejectWithCode(
      'ERR_CERT_UNTRUSTED',
    );
    const other = await createTestPki({ keySpec: 'EC-256', notBefore: NB, notAfter: NA });
    await expect(
      buildCertificatePath(pki.leaf.certificate, {
        anchors: [other.root.certificate],
        intermediates: [pki.intermediate.certificate],
        at: AT,
      }),
    ).toRejectWithCode('ERR_CERT_UNTRUSTED');
  });

  it('reports ERR_CERT_EXPIRED when a path exists but not at that time', async () => {
    const e = await buildCertificatePath(pki.leaf.certificate, {
      anchors: [pki.root.certificate],
      intermediates: [pki.intermediate.certificate],
      at: new Date('2028-01-01T00:00:00Z'),
    }).catch((x: unknown) => x);
    expect(e).toBeVouchError('ERR_CERT_EXPIRED');
  });

  it('applies the CA rules: basicConstraints cA, keyCertSign, path length', async () => {
    const root = await ca(undefined, 'root');
    const notCa = await ca(root, 'not a CA', { basicConstraints: { ca: false } });
    await expect(
      buildCertificatePath(await leafOf(notCa), { anchors: [root.certificate], intermediates: [notCa.certificate], at: AT }),
    ).toRejectWithCode('ERR_CERT_UNTRUSTED');
    const noSign = await ca(root, 'no keyCertSign', { keyUsage: { usages: ['digitalSignature'] } });
    await expect(
      buildCertificatePath(await leafOf(noSign), { anchors: [root.certificate], intermediates: [noSign.certificate], at: AT }),
    ).toRejectWithCode('ERR_CERT_UNTRUSTED');
    const zero = await ca(root, 'pathlen 0', { basicConstraints: { ca: true, pathLen: 0 } });
    const below = await ca(zero, 'below pathlen 0');
    await expect(
      buildCertificatePath(await leafOf(below), {
        anchors: [root.certificate],
        intermediates: [zero.certificate, below.certificate],
        at: AT,
      }),
    ).toRejectWithCode('ERR_CERT_UNTRUSTED');
    await expect(
      buildCertificatePath(await leafOf(zero), { anchors: [root.certificate], intermediates: [zero.certificate], at: AT }),
    ).resolves.not.toThrow();
  });

  it('nests extended key usages through CAs that list them', async () => {
    const root = await ca(undefined, 'root');
    const tsOnly = await ca(root, 'timestamping CA', { extKeyUsage: { usages: ['timeStamping'] } });
    const leaf = await leafOf(tsOnly, { extKeyUsage: { usages: ['codeSigning'] } });
    const opts = { anchors: [root.certificate], intermediates: [tsOnly.certificate], at: AT };
    await expect(buildCertificatePath(leaf, { ...opts, extendedKeyUsage: OID.codeSigning })).toRejectWithCode('ERR_CERT_UNTRUSTED');
    await expect(buildCertificatePath(leaf, opts)).resolves.not.toThrow();
    const codeCa = await ca(root, 'code-signing CA', { extKeyUsage: { usages: ['codeSigning'] } });
    const ok = await leafOf(codeCa);
    await expect(
      buildCertificatePath(ok, {
        anchors: [root.certificate],
        intermediates: [codeCa.certificate],
        at: AT,
        extendedKeyUsage: OID.codeSigning,
      }),
    ).resolves.not.toThrow();
  });

  it('refuses an unrecognised critical extension', async () => {
    const root = await ca(undefined, 'root');
    const leaf = await leafOf(root, { extensions: [{ oid: '1.2.3.4', critical: true, value: new Uint8Array([5, 0]) }] });
    await expect(buildCertificatePath(leaf, { anchors: [root.certificate], at: AT })).toRejectWithCode('ERR_CERT_CHAIN_INVALID');
  });
});
