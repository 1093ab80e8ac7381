import { digestOf, isVouchError, utf8 } from '@vouch/core';
import { toBase64 } from '@vouch/core/internal';
import {
  createTestLog,
  createTestSigstore,
  dsseBundle,
  generateEcdsa,
  hashedRekordBody,
  inTotoStatement,
  messageBundle,
  rekorBundleAnnotation,
  signBytes,
  signDsse,
  spkiOf,
  type TestSigstore,
  type TlogEntryJson,
} from '@vouch/testing/sigstore';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedRoot, trustMaterialFromPem, verifyBundle, verifyCosignSignature } from '../index.js';
import type { TrustMaterial } from '../types.js';

const ARTIFACT = utf8('hello, sigstore');
const SUBJECT = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const IDENTITY = { subject: SUBJECT, issuer: ISSUER };

/** `CODE/check` of the VouchError `p` rejects with (the check that caught it, when the error names one). */
async function checkOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    if (!isVouchError(e)) return `non-VouchError ${String(e)}`;
    const d = e.details as { check?: string; step?: string } | undefined;
    return `${e.code}/${d?.check ?? d?.step ?? '-'}`;
  }
}

async function messageOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  return 'resolved';
}

let stack: TestSigstore;
let root: TrustMaterial;
let keyPair: CryptoKeyPair;
let keyPem: string;
beforeAll(async () => {
  stack = await createTestSigstore();
  root = parseTrustedRoot(stack.trustedRoot());
  keyPair = await generateEcdsa();
  keyPem = `-----BEGIN PUBLIC KEY-----\n${toBase64(await spkiOf(keyPair.publicKey))}\n-----END PUBLIC KEY-----\n`;
});

describe('verifyBundle: key-signed bundles', () => {
  it('verifies a v0.3 bundle with a SET and an inclusion proof, trust from PEM', async () => {
    const bundle = await messageBundle(stack, ARTIFACT, { keyPair });
    const trust = trustMaterialFromPem({ publicKeys: keyPem, rekorPublicKeys: stack.rekor.publicKeyPem });
    const r = await verifyBundle(bundle, { artifact: ARTIFACT, trust });
    expect(r.signer.type).toBe('key');
    expect(r.content).toEqual({ type: 'message' });
    expect(r.tlogEntries).toHaveLength(1);
    expect(r.tlogEntries[0]!.proof).toEqual(['set', 'inclusion-proof']);
    expect(r.times).toHaveLength(1);
    expect(r.times[0]!.source).toBe('tlog');
    expect(r.warnings).toEqual([]);
  });

  it('takes the key from the `key` option with trust from a trusted root', async () => {
    const bundle = await messageBundle(stack, ARTIFACT, { keyPair });
    const r = await verifyBundle(JSON.stringify(bundle), { artifact: ARTIFACT, trust: root, key: keyPem });
    expect(r.signer.type).toBe('key');
  });

  it('refuses another artifact, another key, and a missing key with the field to set', async () => {
    const bundle = await messageBundle(stack, ARTIFACT, { keyPair });
    await expect(verifyBundle(bundle, { artifact: utf8('other'), trust: root, key: keyPem })).toRejectWithCode('ERR_ARTIFACT_MISMATCH');
    const other = await generateEcdsa();
    const otherPem = `-----BEGIN PUBLIC KEY-----\n${toBase64(await spkiOf(other.publicKey))}\n-----END PUBLIC KEY-----\n`;
    await expect(verifyBundle(bundle, { artifact: ARTIFACT, trust: root, key: otherPem })).toRejectWithCode('ERR_SIGNATURE_INTEGRITY');
    const missing = verifyBundle(bundle, { artifact: ARTIFACT, trust: root });
    await expect(missing).toRejectWithCode('ERR_TRUST_MATERIAL_MISSING');
    expect(await messageOf(verifyBundle(bundle, { artifact: ARTIFACT, trust: root }))).toMatch(/keys\.publicKeys.*--key/);
  });

  it('an identity cannot be met by a key signature', async () => {
    const bundle = await messageBundle(stack, ARTIFACT, { keyPair });
    await expect(
      verifyBundle(bundle, { artifact: ARTIFACT, trust: root, key: keyPem, identity: { subject: 'me@example.com' } }),
    ).toRejectWithCode('ERR_IDENTITY_UNTRUSTED');
    await expect(verifyBundle(bundle, { artifact: ARTIFACT, trust: root, identity: { subject: 'me@example.com' } })).toRejectWithCode(
      'ERR_TRUST_MATERIAL_MISSING',
    );
    await expect(verifyBundle(bundle, { artifact: ARTIFACT, trust: root, key: keyPem, identity: 'any' })).resolves.not.toThrow();
  });

  it('a message signature needs the artifact bytes, not only a digest', async () => {
    const bundle = await messageBundle(stack, ARTIFACT, { keyPair });
    await expect(verifyBundle(bundle, { digest: digestOf(ARTIFACT), trust: root, key: keyPem })).toRejectWithCode('ERR_INVALID_ARGUMENT');
  });

  it('verifies an entry of a Rekor v2 log (Ed25519 checkpoint), from a trusted root and from PEM', async () => {
    const bundle = await messageBundle(stack, ARTIFACT, { keyPair }, { log: stack.rekorV2 });
    const r = await verifyBundle(bundle, { artifact: ARTIFACT, trust: root, key: keyPem });
    expect(r.tlogEntries[0]!.proof).toEqual(['inclusion-proof']);
    expect(r.times).toEqual([]);
    const pem = trustMaterialFromPem({ rekorPublicKeys: stack.rekorV2.publicKeyPem });
    expect((await verifyBundle(bundle, { artifact: ARTIFACT, trust: pem, key: keyPem })).signer.type).toBe('key');
  });
});

describe('verifyBundle: certificate-signed bundles', () => {
  it('verifies v0.3 (both media types), v0.2 and v0.1 bundles with identity, SCT and chain', async () => {
    const signer = await stack.fulcio.issue({
      subject: SUBJECT,
      issuer: ISSUER,
      extensions: { 5: 'org/repo', 12: 'https://github.com/org/repo' },
    });
    for (const o of [
      { version: '0.3' as const },
      { version: '0.3' as const, legacyMediaType: true },
      { version: '0.2' as const },
      { version: '0.1' as const, withIntermediate: true },
    ]) {
      const bundle = await messageBundle(stack, ARTIFACT, signer, o);
      const r = await verifyBundle(bundle, { artifact: ARTIFACT, trust: root, identity: IDENTITY });
      expect(r.signer.type, JSON.stringify(o)).toBe('certificate');
      if (r.signer.type !== 'certificate') return;
      expect(r.signer.subjectAlternativeNames).toEqual([SUBJECT]);
      expect(r.signer.extensions).toMatchObject({
        issuer: ISSUER,
        githubWorkflowRepository: 'org/repo',
        sourceRepositoryUri: 'https://github.com/org/repo',
      });
      expect(r.signer.chain.map((c) => c.subject)).toEqual([
        signer.certificate.subject,
        stack.fulcio.intermediate.certificate.subject,
        stack.fulcio.root.certificate.subject,
      ]);
      expect(r.verifiedScts).toBe(1);
    }
  });

  it('matches identities exactly, by unanchored regular expression, and by Fulcio extension', async () => {
    const signer = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER, extensions: { 5: 'org/repo' } });
    const bundle = await messageBundle(stack, ARTIFACT, signer);
    const ok = (identity: object) => verifyBundle(bundle, { artifact: ARTIFACT, trust: root, identity });
    await expect(ok({ subjectRegExp: 'github\\.com/org/', issuerRegExp: '^https://token\\.actions' })).resolves.not.toThrow();
    await expect(ok({ subject: SUBJECT, extensions: { githubWorkflowRepository: 'org/repo' } })).resolves.not.toThrow();
    await expect(ok({ subject: `${SUBJECT}x`, issuer: ISSUER })).toRejectWithCode('ERR_IDENTITY_UNTRUSTED');
    await expect(ok({ subject: SUBJECT, issuer: 'https://accounts.google.com' })).toRejectWithCode('ERR_IDENTITY_UNTRUSTED');
    await expect(ok({ subject: SUBJECT, extensions: { githubWorkflowRepository: 'org/other' } })).toRejectWithCode(
      'ERR_IDENTITY_UNTRUSTED',
    );
    await expect(ok({ subjectRegExp: '^org/' })).toRejectWithCode('ERR_IDENTITY_UNTRUSTED');
    await expect(ok({})).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(verifyBundle(bundle, { artifact: ARTIFACT, trust: root })).toRejectWithCode('ERR_INVALID_ARGUMENT');
    // any one of several identities
    await expect(ok([{ subject: 'a@example.com' }, { subject: SUBJECT }] as never)).resolves.not.toThrow();
  });

  it('reads the deprecated issuer extension (.1.1) when .1.8 is absent', async () => {
    const signer = await stack.fulcio.issue({ subject: 'me@example.com', issuer: 'https://accounts.google.com', legacyIssuer: true });
    const bundle = await messageBundle(stack, ARTIFACT, signer);
    const r = await verifyBundle(bundle, {
      artifact: ARTIFACT,
      trust: root,
      identity: { subject: 'me@example.com', issuer: 'https://accounts.google.com' },
    });
    expect(r.signer.type === 'certificate' && r.signer.extensions.issuer).toBe('https://accounts.google.com');
  });

  it('checks the certificate at the integrated time', async () => {
    const t = Math.floor(Date.now() / 1000);
    const expired = await stack.fulcio.issue({
      subject: SUBJECT,
      issuer: ISSUER,
      notBefore: new Date((t - 3600) * 1000),
      notAfter: new Date((t - 3000) * 1000),
    });
    const bundle = await messageBundle(stack, ARTIFACT, expired, { integratedTime: t });
    await expect(verifyBundle(bundle, { artifact: ARTIFACT, trust: root, identity: IDENTITY })).toRejectWithCode('ERR_CERT_EXPIRED');
    // the same certificate, logged while it was valid, verifies long after it expired
    const ok = await messageBundle(stack, ARTIFACT, expired, { integratedTime: t - 3300 });
    await expect(verifyBundle(ok, { artifact: ARTIFACT, trust: root, identity: IDENTITY })).resolves.not.toThrow();
  });

  it('requires an embedded SCT from a trusted CT log unless ignoreSct', async () => {
    const noSct = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER, sct: false });
    const bundle = await messageBundle(stack, ARTIFACT, noSct);
    await expect(verifyBundle(bundle, { artifact: ARTIFACT, trust: root, identity: IDENTITY })).toRejectWithCode('ERR_SCT_INVALID');
    await expect(verifyBundle(bundle, { artifact: ARTIFACT, trust: root, identity: IDENTITY, ignoreSct: true })).resolves.not.toThrow();
    const { createTestCtLog } = await import('@vouch/testing/sigstore');
    const foreign = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER, sct: await createTestCtLog() });
    await expect(
      verifyBundle(await messageBundle(stack, ARTIFACT, foreign), { artifact: ARTIFACT, trust: root, identity: IDENTITY }),
    ).toRejectWithCode('ERR_SCT_INVALID');
  });

  it('requires the code-signing extended key usage', async () => {
    const tls = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER, extKeyUsage: ['serverAuth'] });
    await expect(
      verifyBundle(await messageBundle(stack, ARTIFACT, tls), { artifact: ARTIFACT, trust: root, identity: IDENTITY }),
    ).toRejectWithCode('ERR_CERT_CHAIN_INVALID');
  });

  it('refuses a certificate from another CA', async () => {
    const other = await createTestSigstore();
    const signer = await other.fulcio.issue({ subject: SUBJECT, issuer: ISSUER, sct: stack.ctlog });
    await expect(
      verifyBundle(await messageBundle(stack, ARTIFACT, signer), { artifact: ARTIFACT, trust: root, identity: IDENTITY }),
    ).toRejectWithCode('ERR_CERT_UNTRUSTED');
  });

  it('names the policy field for each missing piece of PEM trust material', async () => {
    const signer = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER });
    const bundle = await messageBundle(stack, ARTIFACT, signer);
    const { rekorPublicKeys, ctlogPublicKeys, roots } = stack.pem();
    const run = (pem: Parameters<typeof trustMaterialFromPem>[0]) =>
      verifyBundle(bundle, { artifact: ARTIFACT, trust: trustMaterialFromPem(pem), identity: IDENTITY });
    await expect(run({ rekorPublicKeys, ctlogPublicKeys, roots })).resolves.not.toThrow();
    expect(await messageOf(run({ ctlogPublicKeys, roots }))).toMatch(/`rekor\.pubkey`.*SIGSTORE_REKOR_PUBLIC_KEY/);
    expect(await messageOf(run({ rekorPublicKeys, roots }))).toMatch(/`ctlog\.pubkey`.*SIGSTORE_CT_LOG_PUBLIC_KEY_FILE/);
    expect(await messageOf(run({ rekorPublicKeys, ctlogPublicKeys }))).toMatch(/`keyless\.roots`/);
    for (const pem of [
      { ctlogPublicKeys, roots },
      { rekorPublicKeys, roots },
      { rekorPublicKeys, ctlogPublicKeys },
    ]) {
      await expect(run(pem)).toRejectWithCode('ERR_TRUST_MATERIAL_MISSING');
    }
  });

  it('Rekor v2 entries carry no time: a certificate needs an RFC 3161 timestamp', async () => {
    const signer = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER });
    const bundle = await messageBundle(stack, ARTIFACT, signer, { log: stack.rekorV2 });
    await expect(verifyBundle(bundle, { artifact: ARTIFACT, trust: root, identity: IDENTITY })).toRejectWithCode('ERR_TIMESTAMP_INVALID');
  });
});

describe('verifyBundle: DSSE and in-toto', () => {
  it('verifies dsse and intoto entries and checks the subject against the artifact or its digest', async () => {
    const signer = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER });
    const statement = inTotoStatement({ name: 'artifact', sha256: digestOf(ARTIFACT).slice(7) });
    for (const dsseKind of ['dsse', 'intoto'] as const) {
      const bundle = await dsseBundle(stack, statement, signer, { dsseKind });
      const r = await verifyBundle(bundle, { artifact: ARTIFACT, trust: root, identity: IDENTITY });
      expect(r.content.type === 'dsse' && r.content.statement?.predicateType).toBe('https://slsa.dev/provenance/v1');
      await expect(verifyBundle(bundle, { digest: digestOf(ARTIFACT), trust: root, identity: IDENTITY })).resolves.not.toThrow();
      await expect(verifyBundle(bundle, { artifact: utf8('another'), trust: root, identity: IDENTITY })).toRejectWithCode(
        'ERR_ARTIFACT_MISMATCH',
      );
      await expect(verifyBundle(bundle, { trust: root, identity: IDENTITY })).toRejectWithCode('ERR_INVALID_ARGUMENT');
    }
  });

  it('verifies a DSSE envelope logged to Rekor v2 as hashedrekord over PAE', async () => {
    const statement = inTotoStatement({ name: 'artifact', sha256: digestOf(ARTIFACT).slice(7) });
    const bundle = await dsseBundle(stack, statement, { keyPair }, { log: stack.rekorV2 });
    const r = await verifyBundle(bundle, { artifact: ARTIFACT, trust: root, key: keyPem });
    expect(r.tlogEntries[0]!.kind).toBe('hashedrekord');
  });
});

describe('verifyBundle: the transparency log', () => {
  async function tamper(mutate: (b: Record<string, unknown>) => void): Promise<string> {
    const bundle = await messageBundle(stack, ARTIFACT, { keyPair }, { version: '0.3' });
    mutate(bundle);
    return checkOf(verifyBundle(bundle, { artifact: ARTIFACT, trust: root, key: keyPem }));
  }
  const entry = (b: Record<string, unknown>) => (b.verificationMaterial as { tlogEntries: TlogEntryJson[] }).tlogEntries[0]!;

  it('refuses an altered SET, integrated time, inclusion proof, checkpoint or body', async () => {
    expect(await tamper((b) => void (entry(b).integratedTime = String(Number(entry(b).integratedTime) - 1)))).toBe('ERR_TLOG_INVALID/set');
    expect(
      await tamper((b) => {
        const s = entry(b).inclusionPromise!.signedEntryTimestamp;
        entry(b).inclusionPromise!.signedEntryTimestamp = `${s.slice(0, 20)}${s[20] === 'A' ? 'B' : 'A'}${s.slice(21)}`;
      }),
    ).toBe('ERR_TLOG_INVALID/set');
    expect(
      await tamper((b) => {
        const ip = entry(b).inclusionProof!;
        ip.rootHash = toBase64(new Uint8Array(32));
      }),
    ).toBe('ERR_TLOG_INVALID/inclusion-proof');
    expect(
      await tamper((b) => {
        const cp = entry(b).inclusionProof!.checkpoint!;
        cp.envelope = cp.envelope.replace(/(\n\n— \S+ .{8})(.)/, (_m, head, c) => `${head}${c === 'A' ? 'B' : 'A'}`);
      }),
    ).toBe('ERR_TLOG_INVALID/checkpoint');
    expect(
      await tamper((b) => {
        const ip = entry(b).inclusionProof!;
        ip.hashes = [...ip.hashes, toBase64(new Uint8Array(32))];
      }),
    ).toBe('ERR_TLOG_INVALID/inclusion-proof');
  });

  it('refuses an entry whose body is for another signature (a valid entry, swapped in)', async () => {
    const other = await messageBundle(stack, utf8('another artifact'), { keyPair });
    const bundle = await messageBundle(stack, ARTIFACT, { keyPair });
    (bundle.verificationMaterial as { tlogEntries: unknown[] }).tlogEntries = (
      other.verificationMaterial as { tlogEntries: unknown[] }
    ).tlogEntries;
    expect(await checkOf(verifyBundle(bundle, { artifact: ARTIFACT, trust: root, key: keyPem }))).toBe('ERR_TLOG_INVALID/body-signature');
  });

  it('refuses an entry from an untrusted log, and a bundle without entries unless ignoreTlog', async () => {
    const rogue = await createTestLog('v1', 'rogue.test');
    const bundle = await messageBundle(stack, ARTIFACT, { keyPair }, { log: rogue });
    expect(await checkOf(verifyBundle(bundle, { artifact: ARTIFACT, trust: root, key: keyPem }))).toBe('ERR_TLOG_INVALID/log');
    const none = await messageBundle(stack, ARTIFACT, { keyPair }, { log: false });
    await expect(verifyBundle(none, { artifact: ARTIFACT, trust: root, key: keyPem })).toRejectWithCode('ERR_TLOG_ENTRY_MISSING');
    const r = await verifyBundle(none, { artifact: ARTIFACT, trust: root, key: keyPem, ignoreTlog: true });
    expect(r.tlogEntries).toEqual([]);
  });

  it('with ignoreTlog, a certificate is checked at now and the result says so', async () => {
    const signer = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER });
    const none = await messageBundle(stack, ARTIFACT, signer, { log: false });
    const r = await verifyBundle(none, { artifact: ARTIFACT, trust: root, identity: IDENTITY, ignoreTlog: true });
    expect(r.warnings.map((w) => w.code)).toEqual(['ERR_TIMESTAMP_INVALID']);
  });
});

describe('verifyCosignSignature: cosign legacy registry signatures', () => {
  it('verifies a key-signed simple-signing payload with its Rekor bundle annotation', async () => {
    const payload = utf8(
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': 'r.test/app' },
          image: { 'docker-manifest-digest': 'sha256:00' },
          type: 'cosign container image signature',
        },
        optional: null,
      }),
    );
    const signature = await signBytes(keyPair.privateKey, payload);
    const entry = await stack.rekor.append(hashedRekordBody(payload, signature, { spki: await spkiOf(keyPair.publicKey) }), {
      setOnly: true,
    });
    const trust = trustMaterialFromPem({ publicKeys: keyPem, rekorPublicKeys: stack.rekor.publicKeyPem });
    const r = await verifyCosignSignature(
      { content: { type: 'message', payload, signature }, rekorBundle: rekorBundleAnnotation(entry) },
      { trust },
    );
    expect(r.tlogEntries[0]!.proof).toEqual(['set']);
    await expect(verifyCosignSignature({ content: { type: 'message', payload, signature } }, { trust })).toRejectWithCode(
      'ERR_TLOG_ENTRY_MISSING',
    );
    await expect(
      verifyCosignSignature({ content: { type: 'message', payload, signature } }, { trust, ignoreTlog: true }),
    ).resolves.not.toThrow();
    const altered = utf8(new TextDecoder().decode(payload).replace('sha256:00', 'sha256:01'));
    await expect(
      verifyCosignSignature(
        { content: { type: 'message', payload: altered, signature }, rekorBundle: rekorBundleAnnotation(entry) },
        { trust },
      ),
    ).toRejectWithCode('ERR_SIGNATURE_INTEGRITY');
  });

  it('verifies a certificate signature with its chain annotation, and a DSSE attestation by digest', async () => {
    const certPair = await generateEcdsa();
    const signer = await stack.fulcio.issue({ subject: SUBJECT, issuer: ISSUER, keyPair: certPair });
    const payload = utf8('{"critical":{}}');
    const signature = await signBytes(signer.privateKey, payload);
    const entry = await stack.rekor.append(hashedRekordBody(payload, signature, { certificate: signer.certificate }), { setOnly: true });
    const pem = (d: Uint8Array) => `-----BEGIN CERTIFICATE-----\n${toBase64(d)}\n-----END CERTIFICATE-----\n`;
    const r = await verifyCosignSignature(
      {
        content: { type: 'message', payload, signature },
        certificate: pem(signer.certificate.der),
        chain: stack.fulcio.chainPem,
        rekorBundle: rekorBundleAnnotation(entry),
      },
      { trust: trustMaterialFromPem(stack.pem()), identity: IDENTITY },
    );
    expect(r.signer.type).toBe('certificate');
    // the same signature checked with its key: the certificate it carries is not verified against a
    // root, so an identity asked for is refused rather than read from it (or dropped)
    const certKey = `-----BEGIN PUBLIC KEY-----\n${toBase64(await spkiOf(certPair.publicKey))}\n-----END PUBLIC KEY-----\n`;
    const keyed = {
      content: { type: 'message' as const, payload, signature },
      certificate: pem(signer.certificate.der),
      rekorBundle: rekorBundleAnnotation(entry),
    };
    const keyTrust = trustMaterialFromPem({ ...stack.pem(), publicKeys: certKey });
    await expect(verifyCosignSignature(keyed, { trust: keyTrust, key: certKey, identity: IDENTITY })).toRejectWithCode(
      'ERR_IDENTITY_UNTRUSTED',
    );
    expect((await verifyCosignSignature(keyed, { trust: keyTrust, key: certKey })).signer.type).toBe('key');

    const imageDigest = `sha256:${'ab'.repeat(32)}`;
    const env = await signDsse(inTotoStatement({ name: 'r.test/app', sha256: 'ab'.repeat(32) }), signer.privateKey);
    const { intotoBody } = await import('@vouch/testing/sigstore');
    const attEntry = await stack.rekor.append(intotoBody(env, { certificate: signer.certificate }), { setOnly: true });
    const att = {
      content: { type: 'dsse' as const, envelope: env.json },
      certificate: signer.certificate,
      rekorBundle: rekorBundleAnnotation(attEntry),
    };
    await expect(verifyCosignSignature(att, { trust: root, identity: IDENTITY, digest: imageDigest })).resolves.not.toThrow();
    await expect(verifyCosignSignature(att, { trust: root, identity: IDENTITY, digest: `sha256:${'cd'.repeat(32)}` })).toRejectWithCode(
      'ERR_ARTIFACT_MISMATCH',
    );
  });
});
