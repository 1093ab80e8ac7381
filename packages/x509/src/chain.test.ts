import { isVouchError, type VouchError } from '@vouch/core';
import { contextTag, encBitString, encInt, encNull, encOid, encSeq, tlv } from '@vouch/core/asn1';
import { fromHex, toHex } from '@vouch/core/internal';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CertificateWithKey,
  type CreateCertificateOptions,
  createCertificate,
  createTestPki,
  generateKeyPair,
  generateTestCertificate,
  type TestPki,
} from './builder.js';
import { certificatePartsOf, parseCertificate } from './certificate.js';
import {
  isValidAt,
  validateCaCertificate,
  validateSigningChain,
  validateSigningLeaf,
  validateSigningTime,
  validateTimestampingChain,
  validateTimestampingLeaf,
} from './chain.js';
import { OID } from './internal/oids.js';
import { verifyCertificateSignature } from './internal/verify.js';
import type { Certificate } from './types.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki({ keySpec: 'EC-256', notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2027-01-01T00:00:00Z') });
});

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<VouchError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (!isVouchError(e)) throw e;
    return e;
  }
  throw new Error('expected a rejection');
}

async function expectRule(p: Promise<unknown> | (() => unknown), rule: string, code = 'ERR_CERT_CHAIN_INVALID'): Promise<VouchError> {
  const e = await rejection(p);
  expect(e.code).toBe(code);
  expect(e.details?.rule).toBe(rule);
  return e;
}

/** A leaf issued by the test intermediate with the given overrides. */
async function leafWith(overrides: Partial<CreateCertificateOptions>, issuer: CertificateWithKey = pki.intermediate): Promise<Certificate> {
  const { publicKey } = await generateKeyPair('EC-256');
  return createCertificate({
    subject: 'CN=leaf,O=vouch,ST=WA,C=US',
    publicKey,
    issuer,
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2026-01-01T00:00:00Z'),
    basicConstraints: { ca: false },
    keyUsage: { usages: ['digitalSignature'] },
    extKeyUsage: { usages: ['codeSigning'] },
    ...overrides,
  });
}

/** An intermediate under the test root with the given overrides, plus its key. */
async function intermediateWith(overrides: Partial<CreateCertificateOptions>): Promise<CertificateWithKey> {
  const pair = await generateKeyPair('EC-256');
  const certificate = await createCertificate({
    subject: 'CN=other intermediate,O=vouch,ST=WA,C=US',
    publicKey: pair.publicKey,
    issuer: pki.root,
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: { usages: ['keyCertSign'] },
    ...overrides,
  });
  return { certificate, privateKey: pair.privateKey };
}

describe('valid chains', () => {
  it('accepts the test PKI signing and timestamping chains, at a time inside every validity', async () => {
    await validateSigningChain(pki.chain, { at: new Date('2025-06-01T00:00:00Z') });
    await validateTimestampingChain(pki.tsaChain, { at: new Date('2025-06-01T00:00:00Z') });
  });

  it('accepts a generate-test self-signed certificate as a 1-certificate signing chain', async () => {
    const g = await generateTestCertificate('demo');
    await validateSigningChain([g.certificate], { at: new Date() });
  });

  it.each(['EC-384', 'EC-521', 'RSA-2048'] as const)('accepts a %s chain', async (keySpec) => {
    const p = await createTestPki({ keySpec });
    await validateSigningChain(p.chain);
    await validateTimestampingChain(p.tsaChain);
  });

  it('accepts RSA-PSS signed certificates and a 4096-bit self-signed leaf', async () => {
    const g = await generateTestCertificate('big', { keySpec: 'RSA-4096' });
    await validateSigningChain([g.certificate]);
    const pair = await generateKeyPair('RSA-3072');
    const c = await createCertificate({
      subject: 'CN=pss',
      publicKey: pair.publicKey,
      privateKey: pair.privateKey,
      signatureAlgorithm: 'PS384',
      keyUsage: { usages: ['digitalSignature'] },
    });
    await validateSigningChain([c]);
  });

  it('does not enforce validity nesting (a leaf may outlive its issuer)', async () => {
    const leaf = await leafWith({ notAfter: new Date('2030-01-01T00:00:00Z') });
    await validateSigningChain([leaf, pki.intermediate.certificate, pki.root.certificate]);
  });

  it('accepts a code-signing leaf without EKU, and with codeSigning plus an unknown EKU', async () => {
    await validateSigningChain([await leafWith({ extKeyUsage: undefined }), pki.intermediate.certificate, pki.root.certificate]);
    const leaf = await leafWith({ extKeyUsage: { usages: ['codeSigning', '1.3.6.1.4.1.311.10.3.13'] } });
    await validateSigningChain([leaf, pki.intermediate.certificate, pki.root.certificate]);
  });

  it('ignores recognised but unevaluated critical extensions (certificatePolicies)', async () => {
    const leaf = await leafWith({
      extensions: [{ oid: OID.certificatePolicies, critical: true, value: encSeq(encSeq(encOid('2.5.29.32.0'))) }],
    });
    await validateSigningChain([leaf, pki.intermediate.certificate, pki.root.certificate]);
  });
});

describe('chain structure rules', () => {
  it('rejects an empty chain', async () => {
    expect((await rejection(validateSigningChain([]))).code).toBe('ERR_CERT_CHAIN_INVALID');
    expect((await rejection(validateTimestampingChain([]))).code).toBe('ERR_CERT_CHAIN_INVALID');
  });

  it('rejects an over-long chain', async () => {
    const long = Array.from({ length: 17 }, () => pki.root.certificate);
    expect((await rejection(validateSigningChain(long))).code).toBe('ERR_CERT_CHAIN_INVALID');
  });

  it('rejects a single certificate that is not self-signed', async () => {
    await expectRule(validateSigningChain([pki.leaf.certificate]), 'self-signed');
  });

  it('rejects a single certificate whose signature verifies with its own key but whose issuer name differs', async () => {
    const pair = await generateKeyPair('EC-256');
    const first = await createCertificate({
      subject: 'CN=first',
      publicKey: pair.publicKey,
      privateKey: pair.privateKey,
      basicConstraints: { ca: true },
      keyUsage: { usages: ['keyCertSign'] },
    });
    const second = await createCertificate({
      subject: 'CN=second',
      publicKey: pair.publicKey,
      issuer: { certificate: first, privateKey: pair.privateKey },
      keyUsage: { usages: ['digitalSignature'] },
    });
    await expectRule(validateSigningChain([second]), 'self-signed');
  });

  it('rejects a self-signed leaf in a longer chain', async () => {
    await expectRule(validateSigningChain([pki.root.certificate, pki.root.certificate]), 'self-signed-non-root');
  });

  it('rejects a self-signed intermediate (duplicated root)', async () => {
    const c = pki.chain;
    await expectRule(validateSigningChain([c[0]!, c[1]!, c[2]!, c[2]!]), 'self-signed-non-root');
  });

  it('rejects a chain that does not end in a self-signed root', async () => {
    await expectRule(validateSigningChain([pki.leaf.certificate, pki.intermediate.certificate]), 'root-self-signed');
  });

  it('rejects a misordered chain', async () => {
    await expectRule(validateSigningChain([pki.leaf.certificate, pki.root.certificate, pki.intermediate.certificate]), 'issuer-link');
  });

  it('rejects a certificate whose issuer name does not match although the signature verifies', async () => {
    // Same key as the real intermediate, different subject: the signature checks out, the names do not.
    const twin = await createCertificate({
      subject: 'CN=twin intermediate,O=vouch,ST=WA,C=US',
      publicKey: (await crypto.subtle.importKey(
        'spki',
        pki.intermediate.certificate.publicKey.spki as Uint8Array<ArrayBuffer>,
        { name: 'ECDSA', namedCurve: 'P-256' },
        true,
        ['verify'],
      )) as CryptoKey,
      issuer: pki.root,
      basicConstraints: { ca: true, pathLen: 0 },
      keyUsage: { usages: ['keyCertSign'] },
    });
    const leaf = await leafWith({}, { certificate: twin, privateKey: pki.intermediate.privateKey });
    const e = await expectRule(validateSigningChain([leaf, pki.intermediate.certificate, pki.root.certificate]), 'issuer-link');
    expect(e.message).toContain('is not issued by');
  });

  it('rejects an issuer that is not a CA (no basicConstraints)', async () => {
    const notCa = await intermediateWith({ basicConstraints: undefined });
    const leaf = await leafWith({}, notCa);
    await expectRule(validateSigningChain([leaf, notCa.certificate, pki.root.certificate]), 'issuer-link');
  });

  it('rejects an issuer whose keyUsage lacks keyCertSign', async () => {
    const noSign = await intermediateWith({ keyUsage: { usages: ['digitalSignature'] } });
    const leaf = await leafWith({}, noSign);
    await expectRule(validateSigningChain([leaf, noSign.certificate, pki.root.certificate]), 'issuer-link');
  });

  /**
   * A self-signed RSA-2048 certificate whose signature AlgorithmIdentifier (in the TBS and
   * outside it) has `from` replaced by `to`, re-signed with the same key as `sign` says.
   */
  async function resigned(
    options: Partial<CreateCertificateOptions>,
    from: Uint8Array,
    to: Uint8Array,
    sign: { key: RsaHashedImportParams; params: AlgorithmIdentifier | RsaPssParams },
  ): Promise<{ original: Certificate; rewritten: Certificate }> {
    const pair = await generateKeyPair('RSA-2048');
    const original = await createCertificate({
      subject: 'CN=rewritten',
      publicKey: pair.publicKey,
      privateKey: pair.privateKey,
      keyUsage: { usages: ['digitalSignature'] },
      ...options,
    });
    const rewrite = (b: Uint8Array) => fromHex(toHex(b).replace(toHex(from), toHex(to)));
    const tbs = rewrite(certificatePartsOf(original).tbs);
    const pkcs8 = await crypto.subtle.exportKey('pkcs8', pair.privateKey);
    const k = await crypto.subtle.importKey('pkcs8', pkcs8, sign.key, false, ['sign']);
    const sig = new Uint8Array(await crypto.subtle.sign(sign.params, k, tbs as Uint8Array<ArrayBuffer>));
    const rewritten = parseCertificate(encSeq(tbs, rewrite(certificatePartsOf(original).signatureAlgorithmId.raw), encBitString(sig)));
    return { original, rewritten };
  }

  it('rejects a certificate signed with SHA-1', async () => {
    // sha256WithRSAEncryption rewritten to sha1WithRSAEncryption, re-signed with SHA-1
    const { rewritten: sha1Cert } = await resigned(
      {},
      encSeq(encOid(OID.sha256WithRsa), encNull()),
      encSeq(encOid(OID.sha1WithRsa), encNull()),
      { key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-1' }, params: { name: 'RSASSA-PKCS1-v1_5' } },
    );
    expect(sha1Cert.signatureAlgorithm).toBe(OID.sha1WithRsa);
    const e = await expectRule(validateSigningChain([sha1Cert]), 'self-signed');
    expect(e.message).toMatch(/insecure/);
  });

  it('accepts RSASSA-PSS parameters only as Go does: a salt shorter than the hash is refused', async () => {
    // PS256 (salt 32) rewritten to saltLength 20, re-signed with a 20-byte salt
    const { original, rewritten: shortSalt } = await resigned(
      { signatureAlgorithm: 'PS256' },
      tlv(contextTag(2, true), encInt(32)),
      tlv(contextTag(2, true), encInt(20)),
      { key: { name: 'RSA-PSS', hash: 'SHA-256' }, params: { name: 'RSA-PSS', saltLength: 20 } },
    );
    expect(await verifyCertificateSignature(original, original)).toBe(true);
    const e = await rejection(verifyCertificateSignature(shortSalt, shortSalt));
    expect([e.code, e.message]).toEqual([
      'ERR_CERT_INVALID',
      expect.stringMatching(/salt length must equal the SHA-256 length \(32 bytes\), found 20/),
    ]);
    await expectRule(validateSigningChain([shortSalt]), 'self-signed');
  });
});

describe('CA rules', () => {
  it('rejects a CA whose basicConstraints is not critical (GAP: notation does not check)', async () => {
    const ca = await intermediateWith({ basicConstraints: { ca: true, critical: false } });
    const leaf = await leafWith({}, ca);
    await expectRule(validateSigningChain([leaf, ca.certificate, pki.root.certificate]), 'ca-basic-constraints');
  });

  it('rejects a CA with cA=false (via validateCaCertificate)', async () => {
    const ca = await intermediateWith({ basicConstraints: { ca: false } });
    await expectRule(() => validateCaCertificate(ca.certificate, 0), 'ca-basic-constraints');
  });

  it('honours pathLenConstraint', async () => {
    const rootPair = await generateKeyPair('EC-256');
    const root = await createCertificate({
      subject: 'CN=pathlen root',
      publicKey: rootPair.publicKey,
      privateKey: rootPair.privateKey,
      basicConstraints: { ca: true, pathLen: 0 },
      keyUsage: { usages: ['keyCertSign'] },
    });
    const intPair = await generateKeyPair('EC-256');
    const int = await createCertificate({
      subject: 'CN=pathlen int',
      publicKey: intPair.publicKey,
      issuer: { certificate: root, privateKey: rootPair.privateKey },
      basicConstraints: { ca: true },
      keyUsage: { usages: ['keyCertSign'] },
    });
    const leaf = await leafWith({}, { certificate: int, privateKey: intPair.privateKey });
    await expectRule(validateSigningChain([leaf, int, root]), 'path-length');
    // pathLen 0 directly above the leaf is fine.
    await validateSigningChain([await leafWith({}, { certificate: root, privateKey: rootPair.privateKey }), root]);
  });

  it('rejects a CA without keyUsage', async () => {
    const ca = await intermediateWith({ keyUsage: undefined });
    const leaf = await leafWith({}, ca);
    await expectRule(validateSigningChain([leaf, ca.certificate, pki.root.certificate]), 'key-usage-present');
  });

  it('requires a critical keyUsage on code-signing CAs but not on TSA CAs', async () => {
    const ca = await intermediateWith({ keyUsage: { usages: ['keyCertSign'], critical: false } });
    const leaf = await leafWith({}, ca);
    await expectRule(validateSigningChain([leaf, ca.certificate, pki.root.certificate]), 'key-usage-critical');
    const tsa = await leafWith({ extKeyUsage: { usages: ['timeStamping'], critical: true } }, ca);
    await validateTimestampingChain([tsa, ca.certificate, pki.root.certificate]);
  });

  it('rejects a CA whose keyUsage lacks keyCertSign (via validateCaCertificate)', async () => {
    const ca = await intermediateWith({ keyUsage: { usages: ['cRLSign'] } });
    await expectRule(() => validateCaCertificate(ca.certificate, 0), 'ca-key-usage');
  });
});

describe('leaf rules', () => {
  const chainOf = (leaf: Certificate) => [leaf, pki.intermediate.certificate, pki.root.certificate];

  it('rejects a leaf with cA=true', async () => {
    await expectRule(validateSigningChain(chainOf(await leafWith({ basicConstraints: { ca: true } }))), 'leaf-basic-constraints');
  });

  it('rejects a leaf without keyUsage', async () => {
    await expectRule(validateSigningChain(chainOf(await leafWith({ keyUsage: undefined }))), 'key-usage-present');
  });

  it('rejects a code-signing leaf whose keyUsage is not critical', async () => {
    await expectRule(
      validateSigningChain(chainOf(await leafWith({ keyUsage: { usages: ['digitalSignature'], critical: false } }))),
      'key-usage-critical',
    );
  });

  it('rejects a leaf without digitalSignature', async () => {
    await expectRule(validateSigningChain(chainOf(await leafWith({ keyUsage: { usages: ['nonRepudiation'] } }))), 'leaf-key-usage');
  });

  it.each(['keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'decipherOnly'] as const)(
    'rejects a leaf with keyUsage %s',
    async (bit) => {
      const leaf = await leafWith({ keyUsage: { usages: ['digitalSignature', bit] } });
      await expectRule(() => validateSigningLeaf(leaf), 'leaf-key-usage');
    },
  );

  it('allows nonRepudiation next to digitalSignature', async () => {
    validateSigningLeaf(await leafWith({ keyUsage: { usages: ['digitalSignature', 'nonRepudiation'] } }));
  });

  it.each(['anyExtendedKeyUsage', 'serverAuth', 'clientAuth', 'emailProtection', 'timeStamping', 'ocspSigning'])(
    'rejects a code-signing leaf with EKU %s',
    async (eku) => {
      const leaf = await leafWith({ extKeyUsage: { usages: ['codeSigning', eku] } });
      await expectRule(validateSigningChain(chainOf(leaf)), 'leaf-ext-key-usage');
    },
  );

  it('rejects a leaf whose RSA key is 1024 bits', async () => {
    const weak = (await crypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    const leaf = await leafWith({ publicKey: weak.publicKey });
    await expectRule(validateSigningChain(chainOf(leaf)), 'leaf-key');
  });

  it('rejects an unknown critical extension unless allowed', async () => {
    const leaf = await leafWith({ extensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: true, value: encNull() }] });
    await expectRule(validateSigningChain(chainOf(leaf)), 'unknown-critical-extension');
    await validateSigningChain(chainOf(leaf), { allowUnknownCriticalExtensions: true });
    const g = await generateTestCertificate('x');
    await validateSigningChain([g.certificate]);
  });

  it('rejects a leaf whose non-critical EKU is malformed (no fail-open)', async () => {
    const leaf = await leafWith({
      extKeyUsage: undefined,
      extensions: [{ oid: OID.extKeyUsage, critical: false, value: new Uint8Array([0x30, 0x00]) }],
    });
    expect(leaf.malformedExtensions).toEqual([OID.extKeyUsage]);
    await expectRule(validateSigningChain(chainOf(leaf)), 'malformed-extension');
  });
});

describe('timestamping leaf rules', () => {
  const chainOf = (leaf: Certificate) => [leaf, pki.intermediate.certificate, pki.root.certificate];

  it('rejects a TSA leaf without EKU, with extra EKUs, or with a non-critical EKU', async () => {
    await expectRule(validateTimestampingChain(chainOf(await leafWith({ extKeyUsage: undefined }))), 'tsa-ext-key-usage');
    await expectRule(
      validateTimestampingChain(chainOf(await leafWith({ extKeyUsage: { usages: ['timeStamping', 'codeSigning'], critical: true } }))),
      'tsa-ext-key-usage',
    );
    await expectRule(
      validateTimestampingChain(chainOf(await leafWith({ extKeyUsage: { usages: ['timeStamping'] } }))),
      'tsa-ext-key-usage-critical',
    );
  });

  it('accepts a TSA leaf whose keyUsage is not critical (SHOULD), and rejects a code-signing leaf as TSA', async () => {
    const leaf = await leafWith({
      keyUsage: { usages: ['digitalSignature'], critical: false },
      extKeyUsage: { usages: ['timeStamping'], critical: true },
    });
    validateTimestampingLeaf(leaf);
    await expectRule(validateTimestampingChain(pki.chain), 'tsa-ext-key-usage');
    await expectRule(validateSigningChain(pki.tsaChain), 'leaf-ext-key-usage');
  });
});

describe('time', () => {
  it('rejects a chain outside its validity at `at` with ERR_CERT_EXPIRED', async () => {
    expect((await rejection(validateSigningChain(pki.chain, { at: new Date('2024-12-31T23:59:59Z') }))).code).toBe('ERR_CERT_EXPIRED');
    expect((await rejection(validateSigningChain(pki.chain, { at: new Date('2027-01-01T00:00:01Z') }))).code).toBe('ERR_CERT_EXPIRED');
    expect((await rejection(validateSigningChain(pki.chain, { signingTime: new Date('2020-01-01T00:00:00Z') }))).code).toBe(
      'ERR_CERT_EXPIRED',
    );
  });

  it('validateSigningTime and isValidAt include both ends', () => {
    const c = pki.leaf.certificate;
    expect(isValidAt(c, c.notBefore)).toBe(true);
    expect(isValidAt(c, c.notAfter)).toBe(true);
    expect(isValidAt(c, new Date(c.notAfter.getTime() + 1000))).toBe(false);
    validateSigningTime(c, c.notBefore);
    expect(() => validateSigningTime(c, new Date(c.notBefore.getTime() - 1000))).toThrow(/was invalid at signing time/);
  });
});
