/**
 * End-to-end scenarios of the runtime-agnostic packages, through their public APIs only, for
 * the browser run (and, identically, for Node in tools/test/browser.test.ts): envelopes (JWS
 * and COSE sign → parse → verify, tamper detection), X.509 (builder, PEM round trip, chain
 * validation), trust policy (parse, select, reject), `createVerifier().verify()` over
 * `memoryRepository()` with `memoryTrustStore()`, and Sigstore bundles (key and certificate
 * signers, Rekor v1 SETs and Rekor v2 Ed25519 checkpoints, SCTs, DSSE) over the test Sigstore stack,
 * cosign's registry forms (`signImage` → `verifyCosignSignatures` over `memoryRepository()`), and a
 * Kyverno `type: Cosign` rule judging AdmissionReviews (`@vouch/kyverno`).
 */
import { digestOf, encodePem, isVouchError, MediaType, utf8 } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';
import { publicKeyToPem, signerFromPkcs8, signImage, verifyCosignSignatures } from '@vouch/cosign';
import { type EnvelopeCodec, localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { cosignImageVerifier, createKyvernoEngine, handleAdmissionReview, policyFromObject } from '@vouch/kyverno';
import { createVerifier, sign } from '@vouch/notation';
import { type MemoryRepository, memoryRepository } from '@vouch/registry';
import { parseTrustedRoot, trustMaterialFromPem, verifyBundle } from '@vouch/sigstore';
import { createTestSigstore, dsseBundle, generateEcdsa, inTotoStatement, messageBundle, spkiOf } from '@vouch/testing/sigstore';
import { memoryTrustStore, parseOciTrustPolicy, selectOciPolicy } from '@vouch/trust-policy';
import { certificatesToPem, createTestPki, parseCertificates, type TestPki, validateSigningChain } from '@vouch/x509';

/** Result of one scenario. */
export interface SmokeResult {
  name: string;
  ok: boolean;
  detail?: string;
}

const SCOPE = 'registry.example/app';

function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(what);
}

/** Await `p` and return the VouchError code it rejects with ('resolved' when it does not). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isVouchError(e) ? e.code : `non-VouchError: ${e instanceof Error ? e.message : String(e)}`;
  }
}

async function pushImage(repo: MemoryRepository, content: string): Promise<string> {
  const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(content));
  const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
  return (await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: 'v1' })).digest;
}

const policy = {
  version: '1.0',
  trustPolicies: [
    {
      name: 'app',
      registryScopes: [SCOPE],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:test'],
      trustedIdentities: ['*'],
    },
  ],
};

async function envelopeRoundTrip(codec: EnvelopeCodec, pki: TestPki): Promise<void> {
  const payload = { targetArtifact: { mediaType: MediaType.OCI_MANIFEST, digest: await digestOf(utf8('artifact')), size: 8 } };
  const signer = localRawSigner(pki.leaf.privateKey, pki.chain);
  const bytes = await codec.sign({ payload, signingScheme: 'notary.x509', signingTime: new Date(), signer });
  const env = codec.parse(bytes);
  check(env.payload.targetArtifact.digest === payload.targetArtifact.digest, 'payload digest survives the round trip');
  check(env.certificateChain.length === 3, 'certificate chain of 3 carried in the envelope');
  await codec.verifyIntegrity(env);
  // Flip one byte near the end (inside the signature for both formats): parse or verify must fail.
  const tampered = bytes.slice();
  const at = tampered.length - 20;
  const byte = tampered[at];
  if (byte === undefined) throw new Error(`envelope of ${tampered.length} bytes is too short to tamper with`);
  tampered[at] = byte ^ 0x01;
  let code = 'resolved';
  try {
    await codec.verifyIntegrity(codec.parse(tampered));
  } catch (e) {
    code = isVouchError(e) ? e.code : `non-VouchError: ${String(e)}`;
  }
  check(code.startsWith('ERR_'), `tampered envelope rejected with a VouchError (got ${code})`);
}

/** Run every scenario; never throws. */
export async function runSmoke(): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  const step = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (e) {
      results.push({ name, ok: false, detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
  };
  let ec: TestPki | undefined;
  let rsa: TestPki | undefined;
  let other: TestPki | undefined;
  await step('x509: createTestPki (EC P-256, RSA-2048) with WebCrypto', async () => {
    [ec, rsa, other] = await Promise.all([
      createTestPki({ keySpec: 'EC-256' }),
      createTestPki({ keySpec: 'RSA-2048', name: 'rsa' }),
      createTestPki({ keySpec: 'EC-256', name: 'other' }),
    ]);
  });
  if (!ec || !rsa || !other) return results;
  const [pki, rsaPki, otherPki] = [ec, rsa, other];

  await step('x509: PEM round trip and signing-chain validation', async () => {
    const parsed = parseCertificates(certificatesToPem(pki.chain));
    check(parsed.length === 3, 'three certificates parsed');
    check(parsed[0]!.subject === pki.leaf.certificate.subject, 'leaf subject kept');
    await validateSigningChain(parsed, { at: new Date() });
    const broken = await codeOf(validateSigningChain([parsed[0]!, parsed[2]!], { at: new Date() }));
    check(broken === 'ERR_CERT_CHAIN_INVALID', `chain without its intermediate rejected (got ${broken})`);
  });

  await step('trust policy: parse, select by scope, reject an invalid document', async () => {
    const doc = parseOciTrustPolicy(policy);
    check(selectOciPolicy(doc, SCOPE).name === 'app', 'statement selected by registry scope');
    const none = await codeOf(Promise.resolve().then(() => selectOciPolicy(doc, 'other.example/repo')));
    check(none === 'ERR_NO_APPLICABLE_TRUST_POLICY', `no statement for another scope (got ${none})`);
    const bad = await codeOf(Promise.resolve().then(() => parseOciTrustPolicy({ version: '1.0', trustPolicies: [{ name: 'x' }] })));
    check(bad.startsWith('ERR_') && bad !== 'resolved', `invalid policy rejected (got ${bad})`);
  });

  for (const [codec, label, p] of [
    [jws, 'JWS ES256', pki],
    [cose, 'COSE ES256', pki],
    [jws, 'JWS PS256', rsaPki],
    [cose, 'COSE PS256', rsaPki],
  ] as const) {
    await step(`envelope ${label}: sign → parse → verifyIntegrity, tamper detected`, () => envelopeRoundTrip(codec, p));
  }

  for (const codec of [jws, cose]) {
    await step(`notation ${codec.mediaType}: sign() then createVerifier().verify() over memoryRepository`, async () => {
      const repo = memoryRepository();
      const digest = await pushImage(repo, `layer for ${codec.mediaType}`);
      await sign(`@${digest}`, { repository: repo, signer: localRawSigner(pki.leaf.privateKey, pki.chain), envelope: codec });
      const verifier = createVerifier({
        trustPolicy: policy,
        trustStore: memoryTrustStore({ ca: { test: [pki.root.certificate] } }),
        envelopes: [jws, cose],
      });
      const r = await verifier.verify(`@${digest}`, { repository: repo, scope: SCOPE });
      check(r.artifact.digest === digest, 'verified the signed digest');
      check(r.policy.level === 'strict', 'strict level applied');
      // An artifact signed by a PKI the trust store does not hold fails closed.
      const digest2 = await pushImage(repo, 'second');
      await sign(`@${digest2}`, { repository: repo, signer: localRawSigner(otherPki.leaf.privateKey, otherPki.chain), envelope: codec });
      const untrusted = await codeOf(verifier.verify(`@${digest2}`, { repository: repo, scope: SCOPE }));
      check(untrusted === 'ERR_VERIFICATION_FAILED', `untrusted signer rejected (got ${untrusted})`);
      // An unsigned artifact has no signature to find.
      const digest3 = await pushImage(repo, 'unsigned');
      const unsigned = await codeOf(verifier.verify(`@${digest3}`, { repository: repo, scope: SCOPE }));
      check(unsigned === 'ERR_SIGNATURE_NOT_FOUND', `unsigned artifact rejected (got ${unsigned})`);
    });
  }
  await step('sigstore: key-signed bundle (Rekor v1 SET, Rekor v2 Ed25519 checkpoint), trust from PEM; tamper detected', async () => {
    const stack = await createTestSigstore();
    const pair = await generateEcdsa();
    const artifact = utf8('sigstore smoke');
    const keyPem = encodePem('PUBLIC KEY', await spkiOf(pair.publicKey));
    for (const log of [stack.rekor, stack.rekorV2]) {
      const bundle = await messageBundle(stack, artifact, { keyPair: pair }, { log });
      const trust = trustMaterialFromPem({ publicKeys: keyPem, rekorPublicKeys: log.publicKeyPem });
      const r = await verifyBundle(bundle, { artifact, trust });
      check(r.signer.type === 'key' && r.tlogEntries.length === 1, `verified with the ${log.kind} log`);
      const bad = await codeOf(verifyBundle(bundle, { artifact: utf8('tampered'), trust }));
      check(bad === 'ERR_ARTIFACT_MISMATCH', `another artifact rejected (got ${bad})`);
    }
  });

  await step('sigstore: certificate-signed message and DSSE bundles (chain, SCT, identity) from a trusted root', async () => {
    const stack = await createTestSigstore();
    const subject = 'https://github.com/org/repo/.github/workflows/ci.yml@refs/heads/main';
    const issuer = 'https://token.actions.githubusercontent.com';
    const signer = await stack.fulcio.issue({ subject, issuer });
    const trust = parseTrustedRoot(stack.trustedRoot());
    const artifact = utf8('sigstore smoke');
    const r = await verifyBundle(await messageBundle(stack, artifact, signer), { artifact, trust, identity: { subject, issuer } });
    check(r.signer.type === 'certificate' && r.verifiedScts === 1, 'certificate signer with an SCT');
    const statement = inTotoStatement({ name: 'a', sha256: digestOf(artifact).slice(7) });
    const d = await verifyBundle(await dsseBundle(stack, statement, signer), {
      digest: digestOf(artifact),
      trust,
      identity: { subject, issuer },
    });
    check(d.content.type === 'dsse' && d.content.statement?.subject[0]?.name === 'a', 'in-toto subject matched');
    const who = await codeOf(
      verifyBundle(await messageBundle(stack, artifact, signer), { artifact, trust, identity: { subject: 'x@example.com' } }),
    );
    check(who === 'ERR_IDENTITY_UNTRUSTED', `another identity rejected (got ${who})`);
  });
  await step(
    'cosign: key-signed image as a Sigstore bundle referrer and in the .sig tag, verified; another key and an unsigned image rejected',
    async () => {
      const repo = memoryRepository();
      const pkcs8 = async () => {
        const pair = await generateEcdsa();
        return new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
      };
      const signer = await signerFromPkcs8(await pkcs8());
      const key = publicKeyToPem(signer.publicKey);
      const trust = trustMaterialFromPem({ publicKeys: key });
      for (const format of ['bundle', 'legacy'] as const) {
        const digest = await pushImage(repo, `cosign ${format}`);
        const subject = await repo.resolve(digest);
        await signImage({ repository: repo, subject, dockerReference: SCOPE, signer, format });
        const r = await verifyCosignSignatures({ repository: repo, reference: digest, trust, key, ignoreTlog: true });
        const form = format === 'bundle' ? 'bundle-referrer' : 'sig-tag';
        check(r.verified.length === 1 && r.verified[0]!.form === form && r.subject.digest === digest, `verified the ${form}`);
        const other = publicKeyToPem((await signerFromPkcs8(await pkcs8())).publicKey);
        const wrong = await codeOf(
          verifyCosignSignatures({
            repository: repo,
            reference: digest,
            trust: trustMaterialFromPem({ publicKeys: other }),
            key: other,
            ignoreTlog: true,
          }),
        );
        check(wrong === 'ERR_VERIFICATION_FAILED', `another key rejected (got ${wrong})`);
      }
      const unsigned = await pushImage(repo, 'cosign unsigned');
      const none = await codeOf(verifyCosignSignatures({ repository: repo, reference: unsigned, trust, key, ignoreTlog: true }));
      check(none === 'ERR_SIGNATURE_NOT_FOUND', `unsigned image rejected (got ${none})`);
    },
  );
  await step('kyverno: a type Cosign rule admits the signed Pod with its digest pinned and denies the unsigned one', async () => {
    const repo = memoryRepository();
    const signer = await signerFromPkcs8(new Uint8Array(await crypto.subtle.exportKey('pkcs8', (await generateEcdsa()).privateKey)));
    const unsigned = await pushImage(repo, 'kyverno unsigned');
    const signed = await pushImage(repo, 'kyverno signed'); // pushed last: it holds the tag v1
    await signImage({ repository: repo, subject: await repo.resolve(signed), dockerReference: SCOPE, signer });
    const policy = policyFromObject({
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'cosign' },
      spec: {
        rules: [
          {
            name: 'verify',
            match: { any: [{ resources: { kinds: ['Pod'] } }] },
            verifyImages: [
              {
                imageReferences: [`${SCOPE}*`],
                failureAction: 'Enforce',
                attestors: [
                  { entries: [{ keys: { publicKeys: publicKeyToPem(signer.publicKey), rekor: { url: 'x', ignoreTlog: true } } }] },
                ],
              },
            ],
          },
        ],
      },
    });
    const engine = createKyvernoEngine({ policies: [policy], cosignVerifier: cosignImageVerifier({ repositoryFor: () => repo }) });
    const admit = async (image: string) =>
      (
        await handleAdmissionReview(
          {
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            request: {
              uid: image,
              kind: { group: '', version: 'v1', kind: 'Pod' },
              namespace: 'default',
              operation: 'CREATE',
              userInfo: { username: 'smoke' },
              object: {
                apiVersion: 'v1',
                kind: 'Pod',
                metadata: { name: 'p', namespace: 'default' },
                spec: { containers: [{ name: 'c', image }] },
              },
            },
          },
          engine,
        )
      ).response!;
    const ok = await admit(`${SCOPE}:v1`);
    check(ok.allowed === true, `signed Pod admitted (${ok.status?.message ?? ''})`);
    const patch = fromUtf8(fromBase64(ok.patch ?? ''));
    check(patch.includes(`${SCOPE}:v1@${signed}`), 'the tag pinned to the verified digest');
    const denied = await admit(`${SCOPE}@${unsigned}`);
    check(denied.allowed === false && /no signatures found/.test(denied.status?.message ?? ''), 'unsigned Pod denied: no signatures found');
  });
  return results;
}
