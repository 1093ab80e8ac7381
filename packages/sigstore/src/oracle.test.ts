/**
 * @sigstore/verify (3.1.1, the last line that declares Node 20) as an oracle: the bundles the
 * test Sigstore stack writes, and their tampered variants, are accepted or refused by vouch and
 * by sigstore-js alike. This checks both sides: that the stack writes real Sigstore material and
 * that vouch judges it as the reference JavaScript implementation does. Never a runtime
 * dependency: only this test loads it.
 */
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { digestOf, utf8 } from '@vouch/core';
import { createTestSigstore, dsseBundle, inTotoStatement, messageBundle, type TestSigstore } from '@vouch/testing/sigstore';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedRoot, verifyBundle } from './index.js';

const ARTIFACT = utf8('oracle artifact');
const SUBJECT = 'https://github.com/org/repo/.github/workflows/ci.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

let stack: TestSigstore;
beforeAll(async () => {
  stack = await createTestSigstore();
});

async function vouch(bundle: object, artifact: Uint8Array, identity: { subject: string; issuer: string }): Promise<boolean> {
  try {
    await verifyBundle(bundle, { artifact, trust: parseTrustedRoot(stack.trustedRoot()), identity });
    return true;
  } catch {
    return false;
  }
}

function sigstoreJs(bundle: object, artifact: Uint8Array, identity: { subject: string; issuer: string }): boolean {
  try {
    // sigstore-js's trusted-root reader does not know Rekor v2 (Ed25519) logs: give it the v1 log only.
    const root = stack.trustedRoot() as { tlogs: { publicKey: { keyDetails: string } }[] };
    const v1 = { ...root, tlogs: root.tlogs.filter((t) => t.publicKey.keyDetails !== 'PKIX_ED25519') };
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(v1)), { tlogThreshold: 1, ctlogThreshold: 1, tsaThreshold: 0 });
    verifier.verify(toSignedEntity(bundleFromJSON(bundle), Buffer.from(artifact)), {
      subjectAlternativeName: identity.subject,
      extensions: { issuer: identity.issuer },
    });
    return true;
  } catch {
    return false;
  }
}

describe('oracle: vouch and @sigstore/verify agree on the test stack bundles', () => {
  it('accept what is valid, refuse what is tampered, for message and DSSE bundles of every version', async () => {
    const signer = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER });
    const identity = { subject: SUBJECT, issuer: ISSUER };
    const statement = inTotoStatement({ name: 'a', sha256: digestOf(ARTIFACT).slice(7) });
    const cases: { name: string; bundle: Record<string, unknown>; artifact?: Uint8Array; identity?: typeof identity; valid: boolean }[] =
      [];
    for (const version of ['0.1', '0.2', '0.3'] as const) {
      cases.push({
        name: `message v${version}`,
        bundle: await messageBundle(stack, ARTIFACT, signer, { version, withIntermediate: version !== '0.3' }),
        valid: true,
      });
    }
    cases.push({ name: 'dsse (dsse 0.0.1)', bundle: await dsseBundle(stack, statement, signer), valid: true });
    cases.push({ name: 'dsse (intoto 0.0.2)', bundle: await dsseBundle(stack, statement, signer, { dsseKind: 'intoto' }), valid: true });
    const good = await messageBundle(stack, ARTIFACT, signer);
    cases.push({ name: 'another artifact', bundle: good, artifact: utf8('x'), valid: false });
    cases.push({
      name: 'another identity',
      bundle: good,
      identity: { subject: 'https://example.com/other', issuer: ISSUER },
      valid: false,
    });
    cases.push({ name: 'another issuer', bundle: good, identity: { subject: SUBJECT, issuer: 'https://example.com' }, valid: false });
    const noSct = await messageBundle(stack, ARTIFACT, await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER, sct: false }));
    cases.push({ name: 'no SCT', bundle: noSct, valid: false });
    const t = Math.floor(Date.now() / 1000);
    const late = await stack.fulcio.issue({
      subject: SUBJECT,
      issuer: ISSUER,
      notBefore: new Date((t - 7200) * 1000),
      notAfter: new Date((t - 3600) * 1000),
    });
    cases.push({
      name: 'logged after the certificate expired',
      bundle: await messageBundle(stack, ARTIFACT, late, { integratedTime: t }),
      valid: false,
    });
    const swapped = structuredClone(good) as { verificationMaterial: { tlogEntries: unknown[] } };
    swapped.verificationMaterial.tlogEntries = (
      (await messageBundle(stack, utf8('y'), signer)) as typeof swapped
    ).verificationMaterial.tlogEntries;
    cases.push({ name: 'entry of another signature', bundle: swapped, valid: false });
    const badSet = structuredClone(good) as { verificationMaterial: { tlogEntries: { integratedTime: string }[] } };
    badSet.verificationMaterial.tlogEntries[0]!.integratedTime = String(
      Number(badSet.verificationMaterial.tlogEntries[0]!.integratedTime) + 1,
    );
    cases.push({ name: 'SET over another time', bundle: badSet, valid: false });

    const verdicts = [];
    for (const c of cases) {
      const a = c.artifact ?? ARTIFACT;
      const id = c.identity ?? identity;
      verdicts.push({ name: c.name, vouch: await vouch(c.bundle, a, id), sigstoreJs: sigstoreJs(c.bundle, a, id), valid: c.valid });
    }
    expect(verdicts.filter((v) => v.vouch !== v.valid || v.sigstoreJs !== v.valid)).toEqual([]);
  });
});
