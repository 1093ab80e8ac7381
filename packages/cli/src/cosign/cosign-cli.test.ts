/**
 * `vouch cosign` end to end without a registry or peer tools: sign into an OCI image layout and
 * verify from it, blobs, offline-first failures, exit codes and flag handling. The real cosign
 * is the judge in conformance/interop/cosign.test.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptCosignKey, publicKeyFromSpki, publicKeyToPem } from '@vouch/cosign';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutWithImage } from '../test/layout.js';
import { type CliRun, runVouch } from '../test/run-cli.js';

/** A key pair as cosign generate-key-pair writes it (small scrypt cost), and the public key PEM. */
async function keyPair(dir: string, name: string, password: string): Promise<{ key: string; pub: string }> {
  const pair = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const pkcs8 = new Uint8Array(await globalThis.crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const spki = new Uint8Array(await globalThis.crypto.subtle.exportKey('spki', pair.publicKey));
  const key = join(dir, `${name}.key`);
  const pub = join(dir, `${name}.pub`);
  await writeFile(key, await encryptCosignKey(pkcs8, password, { N: 1024 }));
  await writeFile(pub, publicKeyToPem(publicKeyFromSpki(spki)));
  return { key, pub };
}

describe('vouch cosign (OCI layout, no registry)', () => {
  let dir: string;
  let layout: string;
  let digest: string;
  let keys: { key: string; pub: string };
  let otherPub: string;
  const env = { COSIGN_PASSWORD: 'vouch-test' };

  const vouch = (args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> =>
    runVouch(['cosign', ...args], { env: { ...env, ...extraEnv, XDG_CONFIG_HOME: join(dir, 'xdg') }, cwd: dir });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vouch-cosign-cli-'));
    layout = join(dir, 'layout');
    digest = await layoutWithImage(layout, 'v1', 'cosign cli test');
    keys = await keyPair(dir, 'cosign', 'vouch-test');
    otherPub = (await keyPair(dir, 'other', 'x')).pub;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const key = () => keys.key;
  const pub = () => keys.pub;
  const ref = () => `${layout}@${digest}`;

  it('signs (bundle referrer and .sig tag) and verifies; text output is cosign’s claim list', async () => {
    const s1 = await vouch(['sign', '--key', key(), '--yes', '--oci-layout', '-a', 'env=prod', ref()]);
    expect(s1.code, s1.err).toBe(0);
    expect(s1.err).toContain(`Pushing signature to: ${layout}`);
    const s2 = await vouch(['sign', '--key', key(), '--yes', '--oci-layout', '--new-bundle-format=false', ref()]);
    expect(s2.code, s2.err).toBe(0);
    const v = await vouch(['verify', '--key', pub(), '--insecure-ignore-tlog', '--oci-layout', ref()]);
    expect(v.code, v.err).toBe(0);
    expect(v.err).toMatch(/^WARNING: Skipping tlog verification/);
    expect(v.err).toContain('  - The signatures were verified against the specified public key');
    const claims = JSON.parse(v.out) as { critical: { image: Record<string, string>; type: string }; optional: unknown }[];
    expect(claims.map((c) => c.critical.type).sort()).toEqual(['cosign container image signature', 'https://sigstore.dev/cosign/sign/v1']);
    for (const c of claims) expect(c.critical.image['docker-manifest-digest']).toBe(digest);
  });

  it('--output json lists every signature with its form and outcome; -a filters', async () => {
    const v = await vouch(['verify', '--key', pub(), '--insecure-ignore-tlog', '--oci-layout', '-o', 'json', '-a', 'env=prod', ref()]);
    expect(v.code, v.err).toBe(0);
    const j = JSON.parse(v.out) as {
      verified: boolean;
      subject: { digest: string };
      signatures: { form: string; verified: boolean; error?: { code: string } }[];
    };
    expect(j.verified).toBe(true);
    expect(j.subject.digest).toBe(digest);
    const byForm = Object.fromEntries(j.signatures.map((s) => [s.form, s]));
    expect(byForm['bundle-referrer']?.verified).toBe(true);
    expect(byForm['sig-tag']?.verified).toBe(false);
    expect(byForm['sig-tag']?.error?.code).toBe('ERR_USER_METADATA_MISMATCH');
  });

  it('fails closed: wrong key (exit 12), no tlog entry without --insecure-ignore-tlog (names the flag), unsigned (exit 10)', async () => {
    const wrong = await vouch(['verify', '--key', otherPub, '--insecure-ignore-tlog', '--oci-layout', ref()]);
    expect(wrong.code).toBe(12);
    expect(wrong.out).toBe('');
    expect(wrong.err).toMatch(/^Error: no matching signatures: /m);
    const tlog = await vouch(['verify', '--key', pub(), '--oci-layout', ref()]);
    expect(tlog.code).toBe(12);
    expect(tlog.err).toContain('--insecure-ignore-tlog');
    const other = await layoutWithImage(join(dir, 'unsigned'), 'v1', 'unsigned');
    const none = await vouch(['verify', '--key', pub(), '--insecure-ignore-tlog', '--oci-layout', `${join(dir, 'unsigned')}@${other}`]);
    expect(none.code).toBe(10);
    expect(none.err).toContain('Error: no signatures found');
  });

  it('refuses what it cannot do offline or at all, before verifying anything', async () => {
    const kms = await vouch(['verify', '--key', 'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k', '--oci-layout', ref()]);
    expect(kms.code).toBe(1);
    expect(kms.err).toMatch(/not available offline/);
    const keyless = await vouch(['sign', '--yes', '--oci-layout', ref()]);
    expect(keyless.code).toBe(1);
    expect(keyless.err).toMatch(/keyless signing .* is not supported/);
    const noId = await vouch(['verify', '--certificate-chain', otherPub, '--oci-layout', ref()]);
    expect(noId.code).toBe(1);
    expect(noId.err).toMatch(/--certificate-identity or --certificate-identity-regexp is required/);
    const policy = await vouch(['verify-attestation', '--key', pub(), '--policy', 'p.cue', '--oci-layout', ref()]);
    expect(policy.code).toBe(1);
    expect(policy.err).toMatch(/--policy .* not supported/);
    const wrongPassword = await vouch(['sign', '--key', key(), '--yes', '--oci-layout', ref()], { COSIGN_PASSWORD: 'nope' });
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.err).toMatch(/^Error: decrypt failed/m);
    // cosign ignores these; vouch refuses rather than drop a check or read other signatures
    const keyAndIdentity = await vouch(['verify', '--key', pub(), '--certificate-identity', 'me@example.com', '--oci-layout', ref()]);
    expect(keyAndIdentity.code).toBe(1);
    expect(keyAndIdentity.err).toMatch(/--certificate-identity cannot be checked with --key/);
    const detached = await vouch(['verify', '--key', pub(), '--signature', 'x.sig', '--oci-layout', ref()]);
    expect(detached.code).toBe(1);
    expect(detached.err).toMatch(/--signature .* is not supported/);
  });

  it('sign-blob and verify-blob: bundle and bare signature; a changed blob fails', async () => {
    const blob = join(dir, 'blob.txt');
    await writeFile(blob, 'hello blob\n');
    const s = await vouch(['sign-blob', '--key', key(), '--yes', '--bundle', 'blob.bundle', blob]);
    expect(s.code, s.err).toBe(0);
    expect(s.err).toContain('Wrote bundle to file blob.bundle');
    const bare = await vouch(['sign-blob', '--key', key(), '--yes', blob]);
    expect(bare.code).toBe(0);
    await writeFile(join(dir, 'blob.sig'), bare.out);
    const bundle = JSON.parse(await readFile(join(dir, 'blob.bundle'), 'utf8')) as { mediaType: string; messageSignature: unknown };
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    for (const input of [
      ['--bundle', 'blob.bundle'],
      ['--signature', 'blob.sig'],
    ]) {
      const v = await vouch(['verify-blob', '--key', pub(), '--insecure-ignore-tlog', ...input, blob]);
      expect(v.code, v.err).toBe(0);
      expect(v.err).toContain('Verified OK');
    }
    await writeFile(join(dir, 'changed.txt'), 'hello blob!\n');
    expect((await vouch(['verify-blob', '--key', pub(), '--insecure-ignore-tlog', '--bundle', 'blob.bundle', 'changed.txt'])).code).toBe(1);
    const noInput = await vouch(['verify-blob', '--key', pub(), blob]);
    expect(noInput.code).toBe(1);
    expect(noInput.err).toMatch(/--bundle or --signature/);
    const both = await vouch(['verify-blob', '--key', pub(), '--bundle', 'blob.bundle', '--signature', 'blob.sig', blob]);
    expect(both.code).toBe(1);
    expect(both.err).toMatch(/--bundle and --signature cannot be used together/);
  });
});
