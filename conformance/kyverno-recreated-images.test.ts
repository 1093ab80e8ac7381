/**
 * The world behind the re-created Kyverno registry cases (kyverno/recreated-images.ts) does what the
 * cases rely on: the substituted keys verify the local signatures and the upstream ones do not,
 * digests and keys are rewritten in place, unknown images fail without a network call.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKyvernoEngine, parsePolicies } from '@vouch/kyverno';
import { evaluateResource } from '@vouch/kyverno/internal';
import { describe, expect, it } from 'vitest';
import { createCaseWorld, UPSTREAM_DIGESTS, UPSTREAM_KEYS, UPSTREAM_NOTARY_CERT } from './kyverno/recreated-images.js';

const world = await createCaseWorld();

/** The first verifyImages rule response for a Pod in `namespace` running the signed test image. */
async function firstImageRule(engine: ReturnType<typeof createKyvernoEngine>, namespace: string) {
  const r = await evaluateResource(engine, {
    resource: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'test', namespace },
      spec: { containers: [{ name: 'test', image: 'ghcr.io/kyverno/test-verify-image:signed' }] },
    },
  });
  return r.verifyImages.responses[0]!.rules[0]!;
}

const keyed = (key: string, split = true) => ({
  form: 'keys' as const,
  sigstoreBundle: false,
  publicKeys: `-----BEGIN PUBLIC KEY-----\n${split ? `${key.slice(0, 64)}\n${key.slice(64)}` : key}\n-----END PUBLIC KEY-----`,
  ignoreTlog: true,
  ignoreSct: true,
});

describe('the re-created Cosign world', () => {
  it('rewrites every upstream key (block scalar lines keep their indentation) and digest, and nothing else', () => {
    const k = UPSTREAM_KEYS.testVerifyImage;
    const text = `publicKeys: |-\n    -----BEGIN PUBLIC KEY-----\n    ${k.slice(0, 64)}\n    ${k.slice(64)}\n    -----END PUBLIC KEY-----\nimage: x@sha256:${UPSTREAM_DIGESTS['ghcr.io/kyverno/zulu:v0.0.14']}\nother: MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOUD2uzRHLnx1oH6XAnF+8haL73BF\n`;
    const out = world.rewrite(text);
    expect(out).not.toContain(k.slice(0, 64));
    expect(out).toMatch(/\n {4}MFkw[A-Za-z0-9+/]{60}\n {4}[A-Za-z0-9+/]{58}==\n {4}-----END/);
    expect(out).toContain(`image: x@${world.digestOf('ghcr.io/kyverno/zulu:v0.0.14')}`);
    expect(out).toContain('other: MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOUD2uzRHLnx1oH6XAnF+8haL73BF');
  });

  it('the substituted key verifies ghcr.io/kyverno/test-verify-image:signed; the upstream key and the unsigned tag do not', async () => {
    const v = world.verifier();
    const image = 'ghcr.io/kyverno/test-verify-image:signed';
    const local = world.rewrite(keyed(UPSTREAM_KEYS.testVerifyImage).publicKeys);
    const r = await v.verifyImage({ image, attestor: { ...keyed(UPSTREAM_KEYS.testVerifyImage), publicKeys: local } });
    expect(r.digest).toBe(world.digestOf(image));
    await expect(v.verifyImage({ image, attestor: keyed(UPSTREAM_KEYS.testVerifyImage) })).rejects.toThrow(/no matching signatures/);
    await expect(
      v.verifyImage({
        image: 'ghcr.io/kyverno/test-verify-image:unsigned',
        attestor: { ...keyed(UPSTREAM_KEYS.testVerifyImage), publicKeys: local },
      }),
    ).rejects.toThrow(/no signatures found/);
  });

  const notaryCase = join(
    process.env.VOUCH_SHARED_DIR ?? join(import.meta.dirname, '../../shared'),
    'kyverno-cases/test/conformance/chainsaw/verify-images/clusterpolicy/standard/notary-image-verification/policy.yaml',
  );
  if (!existsSync(notaryCase)) {
    if (process.env.CI === 'true')
      it('the kyverno-cases data is present', () => expect.fail(`missing ${notaryCase} (set VOUCH_SHARED_DIR)`));
    else console.warn(`NOTICE: ${notaryCase} not found; the Notary world check is skipped (set VOUCH_SHARED_DIR)`);
  }
  it.runIf(existsSync(notaryCase))(
    "Notary: the signed image verifies with the local CA in place of notation's test certificate, and not with that certificate",
    async () => {
      const text = readFileSync(notaryCase, 'utf8');
      expect(text).toContain(UPSTREAM_NOTARY_CERT);
      // the case's policy reads the certificate from a ConfigMap; put it inline for the engine alone
      const cert = (t: string) => /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(t)![0].replace(/\n\s+/g, '\n');
      const run = async (pem: string) => {
        const policy = parsePolicies(text, { ignoreOtherKinds: true })[0]!;
        const entry = policy.spec.rules[0]!.verifyImages![0]!.attestors![0]!.entries![0]!;
        entry.certificates = { cert: pem };
        delete (policy.spec.rules[0] as { context?: unknown }).context;
        return firstImageRule(createKyvernoEngine({ policies: [policy], verifier: world.notaryVerifier(), cache: false }), 'default');
      };
      expect((await run(cert(world.rewrite(text)))).status).toBe('pass');
      const upstream = await run(cert(text));
      expect(upstream.status).toBe('fail');
    },
  );

  // the Notary attestation cases: each passes, or fails by its own validate.deny, not by a signature check
  const standard = join(
    process.env.VOUCH_SHARED_DIR ?? join(import.meta.dirname, '../../shared'),
    'kyverno-cases/test/conformance/chainsaw/verify-images/clusterpolicy/standard',
  );
  const attestationCases: [string, 'pass' | 'fail', RegExp][] = [
    ['notary-attestation-verification', 'pass', /^verified image attestations for /],
    ['multiple-image-verification-attestations-pass', 'pass', /^verifyImages validation is passed in verify-attestation-notary rule$/],
    [
      'multiple-image-verification-attestations-fail',
      'fail',
      /^validation in verifyImages failed: .*scan report should be created after sbom/,
    ],
    ['multiple-image-verification-attestations-trivy-vex-pass', 'pass', /^verifyImages validation is passed in /],
    [
      'multiple-image-verification-attestations-trivy-vex-fail',
      'fail',
      /^validation in verifyImages failed: All vulnerabilities in trivy and vex should be same/,
    ],
  ];
  const evaluatePod = async (policyText: string) => {
    // the policies read the certificate from a ConfigMap in the same file
    const pem = /certificate: \|-\n([\s\S]*?-----END CERTIFICATE-----)/.exec(policyText)![1]!.replace(/^ +/gm, '');
    const engine = createKyvernoEngine({
      policies: parsePolicies(policyText, { ignoreOtherKinds: true }),
      verifier: world.notaryVerifier(),
      cache: false,
      contextLoader: { configMap: () => ({ data: { certificate: pem } }) },
    });
    return firstImageRule(engine, 'notary-verify-attestation');
  };
  for (const [name, status, message] of attestationCases) {
    const file = join(standard, name, 'policy.yaml');
    it.runIf(existsSync(file))(
      `Notary attestations, ${name}: ${status} by the policy's own checks; the upstream certificate verifies none`,
      async () => {
        const text = readFileSync(file, 'utf8');
        const local = await evaluatePod(world.rewrite(text));
        expect([local.status, local.message]).toEqual([status, expect.stringMatching(message)]);
        const upstream = await evaluatePod(text);
        expect(upstream.status).toBe('fail');
        expect(upstream.message).toMatch(/^image attestations verification failed, .*signature is not produced by a trusted signer/);
      },
    );
  }

  // Kyverno's engine rows of the same policies compare time_after's bool with the strings "True" and
  // "False": a bool equals only a bool, so neither denies and upstream asserts pass for both (with the
  // ConfigMap the policies declare supplied: compatibility K22)
  const engineTable = join(
    process.env.VOUCH_SHARED_DIR ?? join(import.meta.dirname, '../../shared'),
    'kyverno-cases/engine-tables/image_verify_engine.json',
  );
  for (const id of ['Test_MultipleImageVerificationAttestationPass', 'Test_MultipleImageVerificationAttestationFail']) {
    it.runIf(existsSync(engineTable))(`engine row ${id}: pass, as upstream asserts`, async () => {
      const row = (
        JSON.parse(readFileSync(engineTable, 'utf8')) as { cases: { id: string; policy: unknown; resource: unknown }[] }
      ).cases.find((c) => c.id === id)!;
      const policy = parsePolicies(JSON.stringify(world.rewriteValue(row.policy)))[0]!;
      const engine = createKyvernoEngine({
        policies: [policy],
        verifier: world.notaryVerifier(),
        cache: false,
        contextLoader: { configMap: (namespace, name) => ({ metadata: { namespace, name }, data: {} }) },
      });
      const r = await evaluateResource(engine, { resource: row.resource as Record<string, unknown> });
      const rule = r.verifyImages.responses[0]!.rules[0]!;
      expect([rule.status, rule.message]).toEqual(['pass', 'verifyImages validation is passed in verify-attestation-notary rule']);
    });
  }

  it('an image that is not re-created fails (no network)', async () => {
    await expect(world.verifier().resolveDigest('ghcr.io/kyverno/kyverno:latest')).rejects.toThrow(/not among the re-created images/);
  });
});
