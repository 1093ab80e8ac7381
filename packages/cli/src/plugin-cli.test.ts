// `vouch plugin …`, `vouch sign --plugin` / plugin keys and `vouch verify` with a verification
// plugin, driven end to end through the real e2e plugin executable (conformance/e2e-plugin,
// vouch's equivalent of notation's `notation-e2e-plugin`) over an OCI layout.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodePem, MediaType, utf8 } from '@vouch/core';
import { nodeOciLayout } from '@vouch/node';
import { certificatesToPem, createTestPki, exportPrivateKeyPkcs8 } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runVouch } from './testing/run-cli.js';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const shared = resolve(process.env.VOUCH_SHARED_DIR ?? join(repo, '..', 'shared'));
const malicious = join(shared, 'vectors', 'notation-e2e', 'testdata', 'malicious-plugin');
const haveEsbuild = existsSync(join(repo, 'node_modules', 'esbuild', 'package.json'));

let root: string;
let xdg: string;
let notationDir: string;
let layout: string;
let bin: string;
let tarGz: string;

async function vouch(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(root, 'home'), XDG_CONFIG_HOME: xdg, NOTATION_EXPERIMENTAL: '1' };
  return runVouch(args, { env: { ...base, ...env }, cwd: root });
}

async function makeImage(tag: string): Promise<string> {
  const r = nodeOciLayout(layout);
  const config = await r.pushBlob(MediaType.OCI_CONFIG, utf8('{}'));
  const layer = await r.pushBlob(MediaType.OCI_LAYER_TAR, utf8(`content ${tag}`));
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
  };
  return (await r.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(manifest)), { tag })).digest;
}

if (!haveEsbuild) console.warn('NOTICE: esbuild (a root devDependency) is not installed; the plugin CLI tests are skipped');

beforeAll(async () => {
  if (!haveEsbuild) return;
  root = await mkdtemp(join(tmpdir(), 'vouch-plugin-cli-'));
  xdg = join(root, 'xdg');
  notationDir = join(xdg, 'notation');
  layout = join(root, 'layout');
  await mkdir(join(notationDir, 'localkeys'), { recursive: true });
  await mkdir(layout, { recursive: true });
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] }));
  // plain .mjs build script without types: a non-literal specifier keeps it out of the type program
  const script = new URL('../../../conformance/e2e-plugin/build.mjs', import.meta.url).href;
  const { buildE2ePlugin } = (await import(script)) as { buildE2ePlugin: (dir: string) => unknown };
  ({ bin, tarGz } = buildE2ePlugin(join(root, 'bin')) as { bin: string; tarGz: string });

  const pki = await createTestPki({ keySpec: 'RSA-2048', name: 'e2e' });
  const keyPath = join(notationDir, 'localkeys', 'e2e.key');
  const certPath = join(notationDir, 'localkeys', 'e2e.crt');
  await writeFile(keyPath, encodePem('PRIVATE KEY', await exportPrivateKeyPkcs8(pki.leaf.privateKey)));
  await writeFile(certPath, certificatesToPem(pki.chain));
  await writeFile(
    join(notationDir, 'pluginkeys.json'),
    JSON.stringify({ default: '', keys: [{ name: 'e2e-plugin', keyPath, certPath, id: 'key1', pluginName: 'e2e-plugin' }] }),
  );
  await mkdir(join(notationDir, 'truststore', 'x509', 'ca', 'e2e'), { recursive: true });
  await writeFile(join(notationDir, 'truststore', 'x509', 'ca', 'e2e', 'root.crt'), certificatesToPem([pki.root.certificate]));
  await writeFile(
    join(notationDir, 'trustpolicy.oci.json'),
    JSON.stringify({
      version: '1.0',
      trustPolicies: [
        {
          name: 'e2e',
          registryScopes: ['local.io/app'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:e2e'],
          trustedIdentities: ['*'],
        },
      ],
    }),
  );
}, 120_000);
afterAll(() => (root ? rm(root, { recursive: true, force: true }) : undefined));

const CREDS = { NOTATION_USERNAME: 'testuser', NOTATION_PASSWORD: 'testpassword' };

/** `--plugin e2e-plugin --id key1` and one `--plugin-config` flag per entry. */
const onDemand = (...pluginConfig: string[]) => [
  '--plugin',
  'e2e-plugin',
  '--id',
  'key1',
  ...pluginConfig.flatMap((c) => ['--plugin-config', c]),
];

describe.skipIf(!haveEsbuild)('vouch plugin / sign --plugin / verify with plugins (e2e plugin executable)', () => {
  it('plugin install (tar.gz, executable), already installed, --force, list', async () => {
    expect(await vouch(['plugin', 'list'])).toMatchObject({ code: 0, out: 'NAME   DESCRIPTION   VERSION   CAPABILITIES   ERROR   \n' });
    expect(await vouch(['plugin', 'install', '--file', tarGz])).toMatchObject({
      code: 0,
      out: 'Successfully installed plugin e2e-plugin, version 1.0.0\n',
    });
    expect(await vouch(['plugin', 'install', '--file', tarGz])).toMatchObject({
      code: 1,
      err: 'Error: plugin installation failed: plugin e2e-plugin with version 1.0.0 already exists\n',
    });
    expect(await vouch(['plugin', 'install', '--file', bin, '--force'])).toMatchObject({
      code: 0,
      out: 'Successfully updated plugin e2e-plugin from version 1.0.0 to 1.0.0\n',
    });
    const list = await vouch(['plugin', 'list']);
    expect(list.code).toBe(0);
    for (const s of ['e2e-plugin', 'The e2e-plugin is a Notation compatible plugin for Notation E2E test', '1.0.0', '<nil>']) {
      expect(list.out).toContain(s);
    }
    expect(list.out).toContain('[SIGNATURE_VERIFIER.TRUSTED_IDENTITY SIGNATURE_VERIFIER.REVOCATION_CHECK]');
  });

  it('plugin install: flag rules and checksum', async () => {
    expect((await vouch(['plugin', 'install'])).err).toBe('Error: missing plugin source location\n');
    expect((await vouch(['plugin', 'install', '.'])).err).toBe('Error: at least one of the flags in the group [file url] is required\n');
    expect((await vouch(['plugin', 'install', '--file', '--url', '.'])).err).toBe(
      'Error: if any flags in the group [file url] are set none of the others can be; [file url] were all set\n',
    );
    expect((await vouch(['plugin', 'install', '--url', 'https://example.invalid/p.tar.gz'])).err).toBe(
      'Error: installing from URL requires non-empty SHA256 checksum of the plugin source\n',
    );
    expect((await vouch(['plugin', 'install', '--url', 'http://localhost', '--sha256sum', 'abcd'])).err).toBe(
      'Error: failed to download plugin from URL: only the HTTPS scheme is supported, but got http\n',
    );
    const bad = await vouch(['plugin', 'install', '--file', tarGz, '--force', '--sha256sum', '0'.repeat(64)]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('plugin installation failed: plugin SHA-256 checksum does not match user input');
  });

  it('plugin install rejects zip slip and oversized archives (notation testdata)', async (t) => {
    if (!existsSync(malicious)) {
      console.warn(`NOTICE: ${malicious} not found (set VOUCH_SHARED_DIR); malicious plugin archives not tested`);
      if (process.env.CI === 'true') throw new Error('shared testdata missing under CI');
      t.skip();
      return;
    }
    expect((await vouch(['plugin', 'install', '--file', join(malicious, 'zip_slip.zip')])).err).toBe(
      'Error: plugin installation failed: file name in zip cannot contain \'..\', but found "../../../../../../../../tmp/evil.txt"\n',
    );
    for (const f of ['large_file_zip.zip', 'large_file_tarGz.tar.gz']) {
      expect((await vouch(['plugin', 'install', '--file', join(malicious, f)])).err).toBe(
        'Error: plugin installation failed: total file size reached the 256 MiB size limit\n',
      );
    }
    const bomb = join(root, 'zip_bomb.zip');
    await writeFile(bomb, Buffer.from(await readFile(join(malicious, 'zip_bomb.zip.base64'), 'utf8'), 'base64'));
    expect((await vouch(['plugin', 'install', '--file', bomb])).err).toBe(
      'Error: plugin installation failed: total file size reached the 256 MiB size limit\n',
    );
  });

  it('RAW plugin key: key add, sign -d (credentials stripped from the plugin env), verify', async () => {
    const digest = await makeImage('raw');
    expect(
      (
        await vouch([
          'key',
          'add',
          'plugin-key',
          '--id',
          'key1',
          '--plugin',
          'e2e-plugin',
          '--plugin-config',
          'SIGNATURE_GENERATOR.RAW=true',
        ])
      ).code,
    ).toBe(0);
    for (const format of ['jws', 'cose']) {
      const s = await vouch(['sign', '--oci-layout', `layout@${digest}`, '--key', 'plugin-key', '--signature-format', format, '-d'], CREDS);
      expect(s.err).not.toContain('Error');
      expect(s.code).toBe(0);
      expect(s.out).toContain('Successfully signed');
      for (const w of ['Plugin get-plugin-metadata request', 'Plugin describe-key request', 'Plugin generate-signature request']) {
        expect(s.err).toContain(w);
      }
    }
    const v = await vouch(['verify', '--oci-layout', `layout@${digest}`, '--scope', 'local.io/app']);
    expect(v).toMatchObject({ code: 0 });
    expect(v.out).toContain('Successfully verified');
  });

  it('on-demand --plugin --id signing; lying responses fail with notation wording', async () => {
    const digest = await makeImage('ondemand');
    const s = await vouch(['sign', '--oci-layout', `layout@${digest}`, ...onDemand('SIGNATURE_GENERATOR.RAW=true')]);
    expect(s.code).toBe(0);
    const lie = (cfg: string) => vouch(['sign', '--oci-layout', `layout@${digest}`, ...onDemand('SIGNATURE_GENERATOR.RAW=true', cfg)]);
    const keyId = await lie('TAMPER_KEY_ID=key10');
    expect(keyId.code).toBe(1);
    expect(keyId.err).toContain('keyID in generateSignature response "key10" does not match request "key1"');
    const sig = await lie('TAMPER_SIGNATURE=invalid_sig');
    expect(sig.code).toBe(1);
    expect(sig.err).toContain('generated signature failed verification');
    const chain = await lie('TAMPER_CERTIFICATE_CHAIN=invalid_cert_chain');
    expect(chain.code).toBe(1);
    expect(chain.err).toContain('x509: malformed certificate');
    expect((await lie('TAMPER_SIGNATURE_ALGORITHM=invalid_alg')).code).toBe(1);
    const libexec = await vouch(['sign', '--oci-layout', `layout@${digest}`, ...onDemand('SIGNATURE_GENERATOR.RAW=true')], {
      NOTATION_LIBEXEC: '/not/exist',
    });
    expect(libexec.code).toBe(1);
    expect(libexec.err).toContain('no such file or directory');
  });

  it('ENVELOPE plugin key naming a verification plugin: verify calls verify-signature', async () => {
    const digest = await makeImage('envelope');
    const add = await vouch([
      'key',
      'add',
      'env-key',
      '--id',
      'key1',
      '--plugin',
      'e2e-plugin',
      '--plugin-config',
      'SIGNATURE_GENERATOR.ENVELOPE=true',
      '--plugin-config',
      'io.cncf.notary.verificationPlugin=e2e-plugin',
    ]);
    expect(add.code).toBe(0);
    const s = await vouch(['sign', '--oci-layout', `layout@${digest}`, '--key', 'env-key', '-d'], CREDS);
    expect(s.code).toBe(0);
    expect(s.err).toContain('Plugin generate-envelope request');
    expect(s.err).toContain('Verifying signature envelope generated by the plugin');
    const v = await vouch(['verify', '--oci-layout', `layout@${digest}`, '--scope', 'local.io/app', '-d'], CREDS);
    expect(v.code).toBe(0);
    expect(v.err).toContain('Plugin verify-signature request');
    expect(v.err).toContain(
      '{"verificationResults":{"SIGNATURE_VERIFIER.REVOCATION_CHECK":{"success":true},"SIGNATURE_VERIFIER.TRUSTED_IDENTITY":{"success":true}},"processedAttributes":null}',
    );
    const verifyFailing = (check: string) =>
      vouch(['verify', '--oci-layout', `layout@${digest}`, '--scope', 'local.io/app', '-v', '--plugin-config', `${check}=failed`]);
    const revoked = await verifyFailing('SIGNATURE_VERIFIER.REVOCATION_CHECK');
    expect(revoked.code).toBe(1);
    expect(revoked.err).toContain('revocation check by verification plugin "e2e-plugin" failed with reason "revocation check failed"');
    const identity = await verifyFailing('SIGNATURE_VERIFIER.TRUSTED_IDENTITY');
    expect(identity.code).toBe(1);
    expect(identity.err).toContain(
      'trusted identify verification by plugin "e2e-plugin" failed with reason "trusted identity check failed"',
    );
  });

  it('ENVELOPE plugin: tampered envelope and envelope type are rejected before pushing', async () => {
    const digest = await makeImage('tamper');
    const sign = (cfg: string) =>
      vouch(['sign', '--oci-layout', `layout@${digest}`, ...onDemand('SIGNATURE_GENERATOR.ENVELOPE=true', cfg)]);
    const env = await sign('TAMPER_SIGNATURE_ENVELOPE={}');
    expect(env.code).toBe(1);
    expect(env.err).toContain('generated signature failed verification');
    const type = await sign('TAMPER_SIGNATURE_ENVELOPE_TYPE=application/cose');
    expect(type.code).toBe(1);
    expect(type.err).toContain(
      'signatureEnvelopeType in generateEnvelope response "application/cose" does not match request "application/jose+json"',
    );
    const ls = await vouch(['ls', '--oci-layout', `layout@${digest}`]);
    expect(ls.out).not.toContain('application/vnd.cncf.notary.signature');
  });

  it('blob sign through a plugin (plugin key, --plugin --id; RAW and ENVELOPE_FOR_BLOB) and blob verify', async () => {
    const blob = join(root, 'release.tar');
    await writeFile(blob, 'release bits');
    await writeFile(
      join(notationDir, 'trustpolicy.blob.json'),
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          {
            name: 'e2e',
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:e2e'],
            trustedIdentities: ['*'],
            globalPolicy: true,
          },
        ],
      }),
    );
    const verify = (format: string) => vouch(['blob', 'verify', '--signature', join(root, `release.tar.${format}.sig`), blob]);
    // a RAW plugin key of signingkeys.json (added by the RAW test above), both formats, debug trace
    for (const format of ['jws', 'cose']) {
      const s = await vouch(['blob', 'sign', '--key', 'plugin-key', '--signature-format', format, '--force', '-d', '-o', 'json', blob]);
      expect(s.err).not.toContain('Error');
      expect(s.code).toBe(0);
      expect(JSON.parse(s.out)).toMatchObject({
        signed: true,
        key: 'plugin-key',
        descriptor: { digest: expect.stringMatching(/^sha256:/) },
      });
      for (const w of ['Plugin describe-key request', 'Plugin generate-signature request']) expect(s.err).toContain(w);
      const v = await verify(format);
      expect(v.code).toBe(0);
      expect(v.out).toContain('Successfully verified signature');
    }
    // on-demand ENVELOPE_FOR_BLOB plugin: the plugin builds the envelope around vouch's blob descriptor
    const envelopeSign = (...cfg: string[]) => vouch(['blob', 'sign', ...onDemand(...cfg), '--force', '-d', blob]);
    const e = await envelopeSign('SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB=true');
    expect(e.code).toBe(0);
    expect(e.err).toContain('Plugin describe-key request');
    expect(e.err).toContain('Plugin generate-envelope request');
    // plain ENVELOPE is for OCI artifacts (the spec's blob capability is ENVELOPE_FOR_BLOB)
    const ociOnly = await envelopeSign('SIGNATURE_GENERATOR.ENVELOPE=true');
    expect(ociOnly.code).toBe(1);
    expect(ociOnly.err).toContain('plugin e2e-plugin cannot sign blobs');
    // describe-key must echo the key id, and the key that signs must be the key described
    const otherId = await envelopeSign('SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB=true', 'TAMPER_DESCRIBE_KEY_ID=key9');
    expect(otherId.code).toBe(1);
    expect(otherId.err).toContain('keyID in describeKey response "key9" does not match request "key1"');
    const otherSpec = await envelopeSign('SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB=true', 'TAMPER_KEY_SPEC=EC-384');
    expect(otherSpec.code).toBe(1);
    expect(otherSpec.err).toContain('the signer described a ES384 key but signed with a PS256 key');
    expect((await envelopeSign('SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB=true')).code).toBe(0);
    // a CRL cache directory that cannot be created: a warning, and verification goes on without the cache
    await writeFile(join(root, 'not-a-dir'), '');
    const noCache = await vouch(['blob', 'verify', '--signature', join(root, 'release.tar.jws.sig'), blob], {
      NOTATION_CACHE: join(root, 'not-a-dir', 'cache'),
    });
    expect(noCache.code).toBe(0);
    expect(noCache.err).toMatch(/^Warning: failed to create crl file cache: mkdir .*not-a-dir\/cache\/crl: not a directory$/m);
    expect((await verify('jws')).code).toBe(0);
    // the blob changed after signing: the plugin-made signature no longer matches it
    await writeFile(blob, 'tampered bits');
    const bad = await verify('jws');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('integrity check failed');
    // a lying plugin is caught before the signature file is written
    const lie = await vouch([
      'blob',
      'sign',
      ...onDemand('SIGNATURE_GENERATOR.RAW=true', 'TAMPER_SIGNATURE=invalid_sig'),
      '--signature-directory',
      join(root, 'lie'),
      blob,
    ]);
    expect(lie.code).toBe(1);
    expect(lie.err).toContain('generated signature failed verification');
    expect(existsSync(join(root, 'lie', 'release.tar.jws.sig'))).toBe(false);
  });

  it('plugin uninstall', async () => {
    expect(await vouch(['plugin', 'uninstall', '--yes', 'non-exist'])).toMatchObject({
      code: 1,
      err: 'Error: unable to find plugin non-exist.\nTo view a list of installed plugins, use `vouch plugin list`\n',
    });
    expect(await vouch(['plugin', 'uninstall', '--yes', 'e2e-plugin'])).toMatchObject({
      code: 0,
      out: 'Successfully uninstalled plugin e2e-plugin\n',
    });
    expect(existsSync(join(notationDir, 'plugins', 'e2e-plugin'))).toBe(false);
  });
});
