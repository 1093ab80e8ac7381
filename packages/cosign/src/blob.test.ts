import { encodePem, isVouchError, utf8 } from '@vouch/core';
import { toBase64 } from '@vouch/core/internal';
import { parseTrustedRoot, type TrustMaterial } from '@vouch/sigstore';
import { createTestSigstore, messageBundle, signBytes, type TestSigstore } from '@vouch/testing/sigstore';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyCosignBlob } from './blob.js';

const BLOB = utf8('release artifact');
const SUBJECT = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isVouchError(e) ? e.code : `not a VouchError: ${String(e)}`;
  }
}

let stack: TestSigstore;
let trust: TrustMaterial;
beforeAll(async () => {
  stack = await createTestSigstore();
  trust = parseTrustedRoot(stack.trustedRoot());
});

describe('verifyCosignBlob with a certificate given beside the bundle', () => {
  it('a Sigstore bundle: the given certificate must be the one it was signed with', async () => {
    const signer = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER });
    const other = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER });
    const bundle = JSON.stringify(await messageBundle(stack, BLOB, signer));
    const policy = { trust, identity: { subject: SUBJECT, issuer: ISSUER } };
    const own = encodePem('CERTIFICATE', signer.certificate.der);
    expect((await verifyCosignBlob({ ...policy, data: BLOB, bundle })).form).toBe('sigstore-bundle');
    expect((await verifyCosignBlob({ ...policy, data: BLOB, bundle, certificate: own })).form).toBe('sigstore-bundle');
    // same identity, same CA: without the check the bundle would verify against a certificate it was not signed with
    expect(
      await codeOf(verifyCosignBlob({ ...policy, data: BLOB, bundle, certificate: encodePem('CERTIFICATE', other.certificate.der) })),
    ).toBe('ERR_CERT_UNTRUSTED');
  });

  it("cosign's own bundle format: the same", async () => {
    const signer = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER });
    const other = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER });
    const own = encodePem('CERTIFICATE', signer.certificate.der);
    const bundle = JSON.stringify({
      base64Signature: toBase64(await signBytes(signer.privateKey, BLOB)),
      cert: toBase64(utf8(own)),
    });
    const policy = { trust, identity: { subject: SUBJECT, issuer: ISSUER }, ignoreTlog: true };
    expect((await verifyCosignBlob({ ...policy, data: BLOB, bundle, certificate: own })).form).toBe('cosign-bundle');
    expect(
      await codeOf(verifyCosignBlob({ ...policy, data: BLOB, bundle, certificate: encodePem('CERTIFICATE', other.certificate.der) })),
    ).toBe('ERR_CERT_UNTRUSTED');
  });
});
