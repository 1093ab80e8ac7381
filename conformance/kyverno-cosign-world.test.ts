/**
 * The world behind the re-created Kyverno Cosign cases (kyverno/cosign-world.ts) does what the
 * cases rely on: the substituted keys verify the local signatures and the upstream ones do not,
 * digests and keys are rewritten in place, unknown images fail without a network call.
 */
import { describe, expect, it } from 'vitest';
import { createCosignWorld, UPSTREAM_DIGESTS, UPSTREAM_KEYS } from './kyverno/cosign-world.js';

const world = await createCosignWorld();

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

  it('an image that is not re-created fails (no network)', async () => {
    await expect(world.verifier().resolveDigest('ghcr.io/kyverno/kyverno:latest')).rejects.toThrow(/not among the re-created images/);
  });
});
