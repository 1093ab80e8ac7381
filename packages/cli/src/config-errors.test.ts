/**
 * Configuration errors are reported as such — a typed code, a message naming the store, file or
 * key, and the command that fixes it (`details.hint`, printed as `Hint:`) — in text and with
 * `--output json`, without `-v`. The first lines quoted here are what notation 1.3.2 prints for
 * the same configuration (program name substituted).
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePem } from '@vouch/core';
import { generateTestCertificate } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from './index.js';
import { layoutWithImage } from './testing/layout.js';
import { type CliRun, runVouch } from './testing/run-cli.js';

let root: string;
let base: string;
let digest: string;
let n = 0;

async function vouch(cfg: string, args: string[], extra: Partial<CliIo> = {}): Promise<CliRun> {
  return runVouch(['--config-dir', cfg, ...args], { env: { HOME: join(root, 'home') }, cwd: root, ...extra });
}

/** A copy of the base config dir (key, store `t.example`, signed layout policy) with `trustStores` and a change. */
async function configWith(trustStores: string[], change?: (cfg: string) => Promise<void>): Promise<string> {
  const cfg = join(root, `cfg-${++n}`);
  await cp(base, cfg, { recursive: true });
  const keys = (await readFile(join(base, 'signingkeys.json'), 'utf8')).replaceAll(base, cfg);
  await writeFile(join(cfg, 'signingkeys.json'), keys);
  const policy = {
    version: '1.0',
    trustPolicies: [
      { name: 'p', registryScopes: ['local/app'], signatureVerification: { level: 'strict' }, trustStores, trustedIdentities: ['*'] },
    ],
  };
  await writeFile(join(cfg, 'trustpolicy.oci.json'), JSON.stringify(policy));
  await change?.(cfg);
  return cfg;
}

const verifyArgs = () => ['verify', '--oci-layout', `layout@${digest}`, '--scope', 'local/app'];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-config-errors-'));
  base = join(root, 'base');
  digest = await layoutWithImage(join(root, 'layout'), 'v1', 'config errors');
  expect((await vouch(base, ['cert', 'generate-test', '--default', 't.example'])).code).toBe(0);
  expect((await vouch(base, ['sign', '--oci-layout', `layout@${digest}`])).code).toBe(0);
  const ok = await vouch(await configWith(['ca:t.example']), verifyArgs());
  expect(ok.code).toBe(0);
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('verify: trust store and policy mistakes are configuration errors, not "verification failed"', () => {
  it('a trust store that does not exist: notation first line, the fix, typed code in JSON', async () => {
    const cfg = await configWith(['ca:missing-store']);
    const t = await vouch(cfg, verifyArgs());
    expect(t.code).toBe(1);
    expect(t.err).toBe(
      `Error: the trust store "missing-store" of type "ca" does not exist. Use command 'vouch cert add' to create and add trusted certificates to the trust store\n` +
        'Hint: vouch cert add --type ca --store missing-store <certificate file>\n',
    );
    const j = await vouch(cfg, [...verifyArgs(), '-o', 'json']);
    expect(j.code).toBe(1);
    expect(j.json().error).toMatchObject({
      code: 'ERR_TRUST_STORE_NOT_FOUND',
      details: {
        type: 'ca',
        name: 'missing-store',
        configuration: true,
        hint: 'vouch cert add --type ca --store missing-store <certificate file>',
      },
    });
    expect(j.json().error.details.outcomes).toHaveLength(1);
    // drop-in: notation's exact line
    const dropIn = await vouch(cfg, verifyArgs(), { programName: 'notation' });
    expect(dropIn.err.split('\n')[0]).toBe(
      `Error: the trust store "missing-store" of type "ca" does not exist. Use command 'notation cert add' to create and add trusted certificates to the trust store`,
    );
  });

  it('an empty trust store', async () => {
    const cfg = await configWith(['ca:empty'], async (c) => {
      await mkdir(join(c, 'truststore', 'x509', 'ca', 'empty'), { recursive: true });
    });
    const t = await vouch(cfg, [...verifyArgs(), '-o', 'json']);
    expect(t.code).toBe(1);
    expect(t.err.split('\n')[0]).toBe(
      `Error: no x509 certificates were found in trust store "empty" of type "ca". Use command 'vouch cert add' to create and add trusted certificates to the trust store`,
    );
    expect(t.json().error.code).toBe('ERR_TRUST_STORE_NOT_FOUND');
  });

  it('a file in the trust store that is not a certificate', async () => {
    const cfg = await configWith(['ca:t.example'], (c) => writeFile(join(c, 'truststore', 'x509', 'ca', 't.example', 'junk.crt'), 'junk'));
    const t = await vouch(cfg, [...verifyArgs(), '-o', 'json']);
    expect(t.code).toBe(1);
    expect(t.err).toMatch(/^Error: failed to read the trusted certificate junk\.crt in trust store t\.example of type ca/);
    expect(t.err).toContain('Hint: replace or remove the file: vouch cert delete --type ca --store t.example junk.crt\n');
    expect(t.json().error).toMatchObject({ code: 'ERR_TRUST_STORE_INVALID', details: { file: 'junk.crt', configuration: true } });
  });

  it('a policy that lists no store of the type the signature needs', async () => {
    const cfg = await configWith(['tsa:t.example']);
    const t = await vouch(cfg, [...verifyArgs(), '-o', 'json']);
    expect(t.code).toBe(1);
    expect(t.err.split('\n')[0]).toBe('Error: trust policy "p" lists no "ca" trust store, which signatures with this signing scheme need');
    expect(t.err).toContain('Hint: add a "ca:<store>" entry to trustStores of trust policy "p"');
    expect(t.json().error).toMatchObject({ code: 'ERR_CERT_UNTRUSTED', details: { configuration: true, policy: 'p', storeType: 'ca' } });
  });

  it('missing, malformed and invalid trust policies', async () => {
    const none = await vouch(await configWith(['ca:t.example'], (c) => rm(join(c, 'trustpolicy.oci.json'))), [
      ...verifyArgs(),
      '-o',
      'json',
    ]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(
      /^Error: trust policy is not present\. To create a trust policy, see: https:\/\/notaryproject\.dev\/docs\/quickstart\/#create-a-trust-policy\nHint: neither .* exists; import one with `vouch policy import <path-to-policy\.json>`\n$/,
    );
    expect(none.json().error.code).toBe('ERR_CONFIG_INVALID');
    const bad = await vouch(await configWith(['ca:t.example'], (c) => writeFile(join(c, 'trustpolicy.oci.json'), '{bad')), [
      ...verifyArgs(),
      '-o',
      'json',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(
      /^Error: malformed trust policy\. To create a trust policy, see: https:\/\/notaryproject\.dev\/docs\/quickstart\/#create-a-trust-policy\nHint: malformed trust policy file .*trustpolicy\.oci\.json: /,
    );
    expect(bad.json().error.code).toBe('ERR_TRUST_POLICY_INVALID');
    const level = await vouch(
      await configWith(['ca:t.example'], async (c) => {
        const p = join(c, 'trustpolicy.oci.json');
        await writeFile(p, (await readFile(p, 'utf8')).replace('strict', 'bogus'));
      }),
      verifyArgs(),
    );
    expect(level.code).toBe(1);
    expect(level.err).toBe(
      'Error: trust policy statement "p" has invalid signatureVerification: invalid signature verification level "bogus"\n',
    );
  });

  it('a real verdict on the signature still reads "signature verification failed"', async () => {
    const other = await generateTestCertificate('other.example');
    const cfg = await configWith(['ca:other'], async (c) => {
      const dir = join(c, 'truststore', 'x509', 'ca', 'other');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'other.crt'), encodePem('CERTIFICATE', other.certificate.der));
    });
    const t = await vouch(cfg, [...verifyArgs(), '-o', 'json']);
    expect(t.code).toBe(1);
    expect(t.err).toBe(`Error: signature verification failed for all the signatures associated with layout@${digest}\n`);
    expect(t.json().error.code).toBe('ERR_VERIFICATION_FAILED');
  });
});

describe('sign: signing key mistakes name the key, the file and the fix', () => {
  const signArgs = () => ['sign', '--oci-layout', `layout@${digest}`, '-o', 'json'];
  const keyFile = (cfg: string, ext: string) => join(cfg, 'localkeys', `t.example.${ext}`);

  it.each([
    [
      'the key file is missing',
      (c: string) => rm(keyFile(c, 'key')),
      'ERR_KEY_NOT_FOUND',
      /^Error: cannot read the key file .*t\.example\.key of signing key t\.example: /,
    ],
    [
      'the certificate file is missing',
      (c: string) => rm(keyFile(c, 'crt')),
      'ERR_KEY_NOT_FOUND',
      /^Error: cannot read the certificate file .*t\.example\.crt of signing key t\.example: /,
    ],
    [
      'the certificate file is not a certificate',
      (c: string) => writeFile(keyFile(c, 'crt'), 'junk'),
      'ERR_CERT_INVALID',
      /^Error: the certificate file .*t\.example\.crt of signing key t\.example holds no usable certificate: /,
    ],
    [
      'the key file is not a key',
      (c: string) => writeFile(keyFile(c, 'key'), 'junk'),
      'ERR_MALFORMED_INPUT',
      /^Error: the key file .*t\.example\.key of signing key t\.example is not usable: /,
    ],
    [
      'the key is not the certificate key',
      async (c: string) => {
        const other = await generateTestCertificate('other.example');
        await writeFile(keyFile(c, 'crt'), encodePem('CERTIFICATE', other.certificate.der));
      },
      'ERR_CONFIG_INVALID',
      /^Error: the key file .*t\.example\.key and the certificate file .*t\.example\.crt of signing key t\.example do not match/,
    ],
  ])('%s', async (_what, change, code, first) => {
    const cfg = await configWith(['ca:t.example'], change);
    const r = await vouch(cfg, signArgs());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(first);
    expect(r.err).toContain('Hint: fix the paths of "t.example" in signingkeys.json, or replace the key: vouch key delete t.example');
    expect(r.json().error).toMatchObject({ code, details: { name: 't.example', configuration: true } });
  });

  it('an unknown key and no default key', async () => {
    const cfg = await configWith(['ca:t.example']);
    const unknown = await vouch(cfg, [...signArgs(), '--key', 'nope']);
    expect(unknown.err.split('\n')[0]).toBe('Error: signing key nope not found');
    expect(unknown.json().error).toMatchObject({ code: 'ERR_KEY_NOT_FOUND', details: { name: 'nope', configuration: true } });
    await writeFile(join(cfg, 'signingkeys.json'), JSON.stringify({ keys: [] }));
    const none = await vouch(cfg, signArgs());
    expect(none.err.split('\n')[0]).toBe('Error: default signing key not set. Please set default signing key or specify a key name');
    expect(none.json().error.code).toBe('ERR_KEY_NOT_FOUND');
  });
});
