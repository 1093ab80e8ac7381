// vouch drives a plugin executable written from the plugin specification alone (not with the
// vouch SDK: ./test/spec-plugin.cjs) in both capabilities, end to end
// through sign() and verify() over a memory repository, and rejects malformed, oversized, slow
// and lying responses with typed errors.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodePem, isVouchError, MediaType, utf8 } from '@vouch/core';
import { toBase64 } from '@vouch/core/internal';
import { localRawSigner } from '@vouch/envelope';
import { jws } from '@vouch/envelope/jws';
import { createVerifier, pluginSigner, sign } from '@vouch/notation';
import { buildSignatureManifest, type MemoryRepository, memoryRepository } from '@vouch/registry';
import { memoryTrustStore } from '@vouch/trust-policy';
import { type GeneratedCertificate, generateTestCertificate, importPrivateKey } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPlugin } from './discovery.js';
import { type ExecutablePluginOptions, executablePlugin } from './executable.js';

const NAME = 'io.vouch.test.spec';
const specSource = resolve(import.meta.dirname, 'test', 'spec-plugin.cjs');

// A wrapper around the spec plugin that breaks its answers on demand (LIE=<mode>).
const LIAR = `
const { spawnSync } = require('node:child_process');
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const cmd = process.argv[2];
  const lie = process.env.LIE || '';
  const target = process.env.LIE_COMMAND || 'generate-signature';
  if (cmd === target && lie === 'slow') { setTimeout(() => {}, 60000); return; }
  if (cmd === target && lie === 'malformed') { process.stdout.write('certainly not JSON'); return; }
  if (cmd === target && lie === 'oversized') { process.stdout.write('{"x":"' + 'a'.repeat(2 * 1024 * 1024) + '"}'); return; }
  const r = spawnSync(process.execPath, [process.env.SPEC_PLUGIN_PATH, cmd], { input: Buffer.concat(chunks), env: process.env });
  if (r.status !== 0) { process.stderr.write(r.stderr); process.exitCode = r.status || 1; return; }
  const res = JSON.parse(String(r.stdout));
  if (cmd === target && lie === 'wrong-algorithm') res.signingAlgorithm = 'ECDSA-SHA-384';
  if (cmd === target && lie === 'other-certificate') res.certificateChain = [process.env.FAKE_OTHER_CERT_B64];
  if (cmd === target && lie === 'extra-result') res.verificationResults['SIGNATURE_VERIFIER.SOMETHING'] = { success: true };
  if (cmd === target && lie === 'missing-result') delete res.verificationResults['SIGNATURE_VERIFIER.REVOCATION_CHECK'];
  process.stdout.write(JSON.stringify(res));
});
`;

let tmp: string;
let key: GeneratedCertificate;
let other: GeneratedCertificate;
let env: Record<string, string>;
let liarPath: string;

function place(path: string, source: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `#!${process.execPath}\n${source.replace(/^#!.*\n/, '')}`, { mode: 0o755 });
  return path;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'vouch-spec-plugin-'));
  [key, other] = await Promise.all([
    generateTestCertificate('spec plugin signer', { keySpec: 'EC-256' }),
    generateTestCertificate('someone else', { keySpec: 'EC-256' }),
  ]);
  const specPath = place(join(tmp, 'plugins', NAME, `notation-${NAME}`), readFileSync(specSource, 'utf8'));
  liarPath = place(join(tmp, 'liar', `notation-${NAME}`), LIAR);
  env = {
    SPEC_PLUGIN_KEY_PEM: encodePem('PRIVATE KEY', key.pkcs8),
    SPEC_PLUGIN_CERT_B64: toBase64(key.certificate.der),
    SPEC_PLUGIN_KEY_SPEC: 'EC-256',
    SPEC_PLUGIN_PATH: specPath,
    FAKE_OTHER_CERT_B64: toBase64(other.certificate.der),
  };
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function pushImage(repo: MemoryRepository): Promise<string> {
  const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8('hello'));
  const m = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
  return (await repo.pushManifest(MediaType.OCI_MANIFEST, m, { tag: 'v1' })).digest;
}

function verifier(identities = ['*'], builtInRevocation = false) {
  return createVerifier({
    trustPolicy: {
      version: '1.0',
      trustPolicies: [
        {
          name: 'spec',
          registryScopes: ['example.com/app'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:spec'],
          trustedIdentities: identities,
        },
      ],
    },
    trustStore: memoryTrustStore({ ca: { spec: [key.certificate] } }),
    envelopes: [jws],
    revocation: builtInRevocation
      ? async () => ({ result: 'ok' as const })
      : async () => {
          throw new Error('the plugin covers revocation: the built-in check must not run');
        },
    plugins: (name) => findPlugin(name, { configDir: tmp, env }),
  });
}

/** Outcome error code of the first signature of a failed verify(). */
async function verifyCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'verified';
  } catch (e) {
    const o = isVouchError(e) ? (e.details?.outcomes as { error?: { code: string } }[] | undefined) : undefined;
    return o?.[0]?.error?.code ?? (isVouchError(e) ? e.code : String(e));
  }
}

describe('a plugin executable written from the spec alone', () => {
  it('SIGNATURE_GENERATOR.RAW: sign() through the executable, verify() with vouch', async () => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    const client = await findPlugin(NAME, { configDir: tmp, env });
    const signed = await sign(`@${digest}`, { repository: repo, signer: pluginSigner(client, { keyId: 'spec-key' }), envelope: jws });
    expect(jws.parse(signed.envelope).certificateChain[0]!.sha256Fingerprint).toBe(key.certificate.sha256Fingerprint);
    const r = await verifier(['*'], true).verify(`@${digest}`, { repository: repo, scope: 'example.com/app' });
    expect(r.signature?.checks.find((c) => c.type === 'authenticity')?.result).toBe('passed');
  });

  /** A signature naming the spec plugin as its verification plugin, pushed next to the artifact. */
  async function signatureNamingThePlugin(extra: { key: string; value: string }[] = []) {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    const artifact = await repo.resolve(digest);
    const envelope = await jws.sign({
      payload: { targetArtifact: { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.size } },
      signingScheme: 'notary.x509',
      signingTime: new Date(Math.floor(Date.now() / 1000) * 1000),
      extendedAttributes: [
        { key: 'io.cncf.notary.verificationPlugin', value: NAME, critical: true },
        ...extra.map((a) => ({ ...a, critical: true })),
      ],
      signer: localRawSigner(await importPrivateKey(encodePem('PRIVATE KEY', key.pkcs8)), [key.certificate]),
    });
    const envelopeDescriptor = await repo.pushBlob(jws.mediaType, envelope);
    const { bytes } = buildSignatureManifest({ subject: artifact, envelopeDescriptor, annotations: {} });
    await repo.pushManifest(MediaType.OCI_MANIFEST, bytes);
    return { repo, digest };
  }

  it('SIGNATURE_VERIFIER.*: verify() calls verify-signature, which replaces identity and revocation checks', async () => {
    const { repo, digest } = await signatureNamingThePlugin([{ key: 'com.example.ticket', value: 'T-1' }]);
    // the policy's own identities do not match: the plugin's TRUSTED_IDENTITY decides
    const r = await verifier(['x509.subject: CN=nobody,O=none,ST=WA,C=US']).verify(`@${digest}`, {
      repository: repo,
      scope: 'example.com/app',
    });
    expect(r.signature?.checks.find((c) => c.type === 'trustedIdentity')?.result).toBe('passed');
    expect(r.signature?.checks.find((c) => c.type === 'revocation')?.result).toBe('passed');
    const revoked = verifier().verify(`@${digest}`, { repository: repo, scope: 'example.com/app', pluginConfig: { revoked: 'true' } });
    expect(await verifyCode(revoked)).toBe('ERR_CERT_REVOKED');
  });

  const liar = (lie: string, command = 'generate-signature', opts: ExecutablePluginOptions = {}) =>
    executablePlugin(liarPath, { ...opts, env: { ...env, LIE: lie, LIE_COMMAND: command } });

  const signWith = async (client: ReturnType<typeof liar>) => {
    const repo = memoryRepository();
    const digest = await pushImage(repo);
    return sign(`@${digest}`, { repository: repo, signer: pluginSigner(client, { keyId: 'spec-key' }), envelope: jws });
  };

  it('rejects malformed, oversized and slow responses', { timeout: 30_000 }, async () => {
    await expect(signWith(liar('malformed'))).toRejectWithCode('ERR_PLUGIN_PROTOCOL');
    await expect(signWith(liar('oversized', 'generate-signature', { maxOutputBytes: 1024 * 1024 }))).toRejectWithCode(
      'ERR_PLUGIN_PROTOCOL',
    );
    await expect(signWith(liar('slow', 'generate-signature', { timeoutMs: 1500 }))).toRejectWithCode('ERR_TIMEOUT');
    await expect(signWith(liar('malformed', 'describe-key'))).toRejectWithCode('ERR_PLUGIN_PROTOCOL');
  });

  it('rejects lying RAW responses: wrong algorithm, a certificate that does not match the signature', async () => {
    await expect(signWith(liar('wrong-algorithm'))).toRejectWithCode('ERR_PLUGIN_PROTOCOL');
    await expect(signWith(liar('other-certificate'))).toRejectWithCode('ERR_PLUGIN_PROTOCOL');
    await expect(signWith(liar('none'))).resolves.toBeDefined();
  });

  it('a verification plugin that breaks the contract leaves the signature inconclusive', async () => {
    const { repo, digest } = await signatureNamingThePlugin();
    for (const lie of ['missing-result', 'extra-result', 'malformed']) {
      const v = createVerifier({
        trustPolicy: {
          version: '1.0',
          trustPolicies: [
            {
              name: 'spec',
              registryScopes: ['example.com/app'],
              signatureVerification: { level: 'audit' },
              trustStores: ['ca:spec'],
              trustedIdentities: ['*'],
            },
          ],
        },
        trustStore: memoryTrustStore({ ca: { spec: [key.certificate] } }),
        envelopes: [jws],
        plugins: () => liar(lie, 'verify-signature'),
      });
      expect(await verifyCode(v.verify(`@${digest}`, { repository: repo, scope: 'example.com/app' }))).toBe(
        'ERR_VERIFICATION_INCONCLUSIVE',
      );
    }
  });
});
