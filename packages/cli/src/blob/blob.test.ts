/**
 * `vouch blob sign|verify|inspect|policy` in-process through runCli: round trips in both
 * envelope formats, the blob trust policy (named and global statements, skip), blob binding
 * (content, media type, user metadata), inspect output, policy import/show/init and the
 * overwrite rules of signature files.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../index.js';
import { type CliRun, type Json, runVouch } from '../testing/run-cli.js';

let root: string;
let cfg: string;
let work: string;
const KEY = 'blob.example';

async function vouch(args: string[], extra: Partial<CliIo> = {}): Promise<CliRun> {
  return runVouch(['--config-dir', cfg, ...args], {
    env: { HOME: join(root, 'home'), NOTATION_CACHE: join(root, 'cache') },
    cwd: work,
    ...extra,
  });
}

function stdin(text: string): AsyncIterable<string> {
  return (async function* () {
    if (text) yield text;
  })();
}

const statement = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  signatureVerification: { level: 'strict' },
  trustStores: [`ca:${KEY}`],
  trustedIdentities: ['*'],
  ...extra,
});

const POLICY = {
  version: '1.0',
  trustPolicies: [
    statement('named'),
    statement('global', { globalPolicy: true }),
    { name: 'skipped', signatureVerification: { level: 'skip' } },
    statement('other-store', { trustStores: ['ca:nobody'] }),
  ],
};

const BLOB = 'some blob content\n';
const sha256 = (s: string | Buffer) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-blob-cli-'));
  cfg = join(root, 'config');
  work = join(root, 'work');
  await mkdir(work, { recursive: true });
  const g = await vouch(['cert', 'generate-test', KEY, '--default']);
  expect(g.code).toBe(0);
  await writeFile(join(work, 'policy.json'), JSON.stringify(POLICY, null, 2));
  const imp = await vouch(['blob', 'policy', 'import', 'policy.json']);
  expect(imp.err).toBe('');
  expect(imp.code).toBe(0);
}, 60_000);
afterAll(() => rm(root, { recursive: true, force: true }));

describe('vouch blob sign + verify', () => {
  it('JWS round trip: default key and format, signature next to the working directory, global policy', async () => {
    await writeFile(join(work, 'app.bin'), BLOB);
    const s = await vouch(['blob', 'sign', 'app.bin']);
    expect(s.err).toBe('');
    expect(s.code).toBe(0);
    const sigPath = join(work, 'app.bin.jws.sig');
    expect(s.out).toBe(`Successfully signed app.bin\nSignature file written to ${sigPath}\n`);
    expect(JSON.parse(readFileSync(sigPath, 'utf8'))).toHaveProperty('protected');

    const v = await vouch(['blob', 'verify', '--signature', 'app.bin.jws.sig', 'app.bin']);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
    expect(v.out).toBe('Successfully verified signature for app.bin\n');

    const j = await vouch(['blob', 'verify', '-s', sigPath, join(work, 'app.bin'), '-o', 'json']);
    expect(j.code).toBe(0);
    expect(j.json()).toMatchObject({
      verified: true,
      skipped: false,
      policy: { name: 'global', level: 'strict' },
      artifact: { mediaType: 'application/octet-stream', digest: sha256(BLOB), size: BLOB.length },
    });
  });

  it('COSE round trip, with --signature-format before or after `sign`, and --signature-directory', async () => {
    await writeFile(join(work, 'c.txt'), BLOB);
    await mkdir(join(work, 'sigs'));
    const a = await vouch(['blob', '--signature-format', 'cose', 'sign', '--signature-directory', 'sigs', 'c.txt']);
    expect(a.code).toBe(0);
    expect(a.out).toContain(`Signature file written to ${join(work, 'sigs', 'c.txt.cose.sig')}`);
    const b = await vouch(['blob', 'sign', '--signature-format', 'COSE', 'c.txt', '-o', 'json']);
    expect(b.code).toBe(0);
    expect(b.json()).toMatchObject({ signed: true, envelopeMediaType: 'application/cose', signatureFile: join(work, 'c.txt.cose.sig') });
    for (const sig of ['sigs/c.txt.cose.sig', 'c.txt.cose.sig']) {
      const v = await vouch(['blob', 'verify', '-d', '--signature', sig, '--policy-name', 'named', 'c.txt']);
      expect(v.code).toBe(0);
      expect(v.out).toBe('Successfully verified signature for c.txt\n');
      expect(v.err).toContain('Verify signature of media type application/cose');
      expect(v.err).toContain('Name:named ');
    }
    const bad = await vouch(['blob', 'sign', '--signature-format', 'pgp', 'c.txt']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('signature format "pgp" not supported');
  });

  it('a changed blob, an unknown policy name, an untrusted store and a missing global policy fail', async () => {
    await writeFile(join(work, 'w.bin'), BLOB);
    expect((await vouch(['blob', 'sign', 'w.bin'])).code).toBe(0);
    await writeFile(join(work, 'w.bin'), `${BLOB}!`);
    const changed = await vouch(['blob', 'verify', '-s', 'w.bin.jws.sig', 'w.bin', '-o', 'json']);
    expect(changed.code).toBe(1);
    expect(changed.json().error.code).toBe('ERR_ARTIFACT_MISMATCH');
    const text = await vouch(['blob', 'verify', '-s', 'w.bin.jws.sig', 'w.bin']);
    expect(text.err).toContain('provided signature verification failed against blob w.bin');
    expect(text.err).toContain('integrity check failed. signature does not match the given blob');
    await writeFile(join(work, 'w.bin'), BLOB);

    const unknown = await vouch(['blob', 'verify', '-s', 'w.bin.jws.sig', '--policy-name', 'nope', 'w.bin', '-o', 'json']);
    expect(unknown.code).toBe(1);
    expect(unknown.json().error.code).toBe('ERR_NO_APPLICABLE_TRUST_POLICY');
    const untrusted = await vouch(['blob', 'verify', '-s', 'w.bin.jws.sig', '--policy-name', 'other-store', 'w.bin', '-o', 'json']);
    expect(untrusted.code).toBe(1);
    expect(untrusted.json().error.code).not.toBe('ERR_INTERNAL');
    const skipped = await vouch(['blob', 'verify', '-s', 'w.bin.jws.sig', '--policy-name', 'skipped', 'w.bin']);
    expect(skipped.code).toBe(0);
    expect(skipped.out).toBe('Trust policy is configured to skip signature verification for w.bin\n');

    const noGlobal = await mkdtemp(join(root, 'cfg-'));
    await writeFile(join(noGlobal, 'trustpolicy.blob.json'), JSON.stringify({ version: '1.0', trustPolicies: [statement('only')] }));
    const r = await vouch(['--config-dir', noGlobal, 'blob', 'verify', '-s', 'w.bin.jws.sig', 'w.bin', '-o', 'json']);
    expect(r.code).toBe(1);
    expect(r.json().error.code).toBe('ERR_NO_APPLICABLE_TRUST_POLICY');
    const none = await vouch(['--config-dir', join(root, 'empty-cfg'), 'blob', 'verify', '-s', 'w.bin.jws.sig', 'w.bin']);
    expect(none.code).toBe(1);
    expect(none.err).toContain('trust policy is not present. To create a trust policy, see:');
  });

  it('media type: signed and checked only when --media-type is given', async () => {
    await writeFile(join(work, 'pic.jpg'), BLOB);
    expect((await vouch(['blob', 'sign', '--media-type', 'image/jpeg', 'pic.jpg'])).code).toBe(0);
    expect((await vouch(['blob', 'verify', '-s', 'pic.jpg.jws.sig', 'pic.jpg'])).code).toBe(0);
    expect((await vouch(['blob', 'verify', '--media-type', 'image/jpeg', '-s', 'pic.jpg.jws.sig', 'pic.jpg'])).code).toBe(0);
    const wrong = await vouch(['blob', 'verify', '--media-type', 'image/png', '-s', 'pic.jpg.jws.sig', 'pic.jpg', '-o', 'json']);
    expect(wrong.code).toBe(1);
    expect(wrong.json().error.code).toBe('ERR_ARTIFACT_MISMATCH');
    const empty = await vouch(['blob', 'verify', '--media-type', '', '-s', 'pic.jpg.jws.sig', 'pic.jpg']);
    expect(empty.code).toBe(1);
    expect(empty.err).toContain('--media-type is set but with empty value');
  });

  it('user metadata is signed, required on verify, and printed', async () => {
    await writeFile(join(work, 'meta.bin'), BLOB);
    const s = await vouch(['blob', 'sign', '-m', 'build=42', '--user-metadata', 'team=core', 'meta.bin']);
    expect(s.code).toBe(0);
    const v = await vouch(['blob', 'verify', '-m', 'build=42', '-s', 'meta.bin.jws.sig', 'meta.bin']);
    expect(v.code).toBe(0);
    expect(v.out).toContain('Successfully verified signature for meta.bin\n\nThe artifact was signed with the following user metadata.\n');
    expect(v.out).toMatch(/KEY {3,}VALUE/);
    expect(v.out).toMatch(/build {3,}42/);
    const wrong = await vouch(['blob', 'verify', '-m', 'build=43', '-s', 'meta.bin.jws.sig', 'meta.bin', '-o', 'json']);
    expect(wrong.code).toBe(1);
    expect(wrong.json().error.code).toBe('ERR_USER_METADATA_MISMATCH');
    const malformed = await vouch(['blob', 'sign', '-m', 'novalue', 'meta.bin']);
    expect(malformed.code).toBe(1);
    expect(malformed.err).toContain('could not parse flag user-metadata: key-value pair requires "=" as separator');
    const reserved = await vouch(['blob', 'sign', '--force', '-m', 'io.cncf.notary.x=1', 'meta.bin', '-o', 'json']);
    expect(reserved.code).toBe(1);
    expect(reserved.json().error.code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('an existing signature file is replaced only with --force or after confirmation', async () => {
    await writeFile(join(work, 'o.bin'), BLOB);
    const sigPath = join(work, 'o.bin.jws.sig');
    expect((await vouch(['blob', 'sign', 'o.bin'])).code).toBe(0);
    const first = await readFile(sigPath);

    const noInput = await vouch(['blob', 'sign', 'o.bin', '-o', 'json']);
    expect(noInput.code).toBe(1);
    expect(noInput.json().error.code).toBe('ERR_INVALID_ARGUMENT');
    const declined = await vouch(['blob', 'sign', 'o.bin'], { stdin: stdin('n\n') });
    expect(declined.code).toBe(0);
    expect(declined.out).toBe('The signature file already exists, do you want to overwrite it? [y/N] ');
    const eof = await vouch(['blob', 'sign', 'o.bin'], { stdin: stdin('') });
    expect(eof.code).toBe(0);
    expect(await readFile(sigPath)).toEqual(first);

    const later = () => new Date(Date.now() + 5_000);
    const confirmed = await vouch(['blob', 'sign', 'o.bin'], { stdin: stdin('y\n'), now: later });
    expect(confirmed.code).toBe(0);
    expect(confirmed.out).toContain('Successfully signed o.bin');
    const second = await readFile(sigPath);
    expect(second).not.toEqual(first);
    const forced = await vouch(['blob', 'sign', '--force', 'o.bin'], { now: () => new Date(Date.now() + 10_000) });
    expect(forced.code).toBe(0);
    expect(forced.err).toBe('Warning: existing signature file will be overwritten\n');
    expect(await readFile(sigPath)).not.toEqual(second);
    expect((await vouch(['blob', 'verify', '-s', 'o.bin.jws.sig', 'o.bin'])).code).toBe(0);
  });

  it("argument errors use notation's wording", async () => {
    const cases: [string[], string][] = [
      [['blob', 'sign'], 'missing file path to the blob artifact'],
      [['blob', 'sign', ''], 'blob path cannot be empty'],
      [['blob', 'sign', 'x', '--signature-directory', ''], 'signature directory cannot be empty'],
      [['blob', 'sign', '--key', 'nope', 'x'], 'signing key nope not found'],
      [['blob', 'sign', '--timestamp-url', 'http://127.0.0.1:9', 'x'], 'missing [timestamp-root-cert]'],
      [['blob', 'sign', '--timestamp-url', '', '--timestamp-root-cert', 'r.crt', 'x'], 'timestamping: tsa url cannot be empty'],
      [['blob', 'sign', '--plugin-config', 'x', 'x'], 'could not parse flag plugin-config: key-value pair requires "=" as separator'],
      [['blob', 'sign', 'missing.bin'], 'open missing.bin: no such file or directory'],
      [['blob', 'verify', 'x'], 'filepath of the signature cannot be empty'],
      [['blob', 'verify', '-s', 'x.jws.txt', 'x'], 'invalid signature filename x.jws.txt. The file extension must be .sig'],
      [['blob', 'verify', '-s', 'x.sig', 'x'], 'A valid signature file name must contain signature format and .sig file extension'],
      [['blob', 'verify', '-s', 'x.pgp.sig', 'x'], 'Supported signature envelope formats are "jws" and "cose"'],
      [['blob', 'inspect'], 'missing signature path'],
      [['blob', 'inspect', 'nope.sig'], 'invalid signature filename'],
      [['blob', 'inspect', 'missing.jws.sig'], 'failed to read signature file'],
      [['blob', 'policy', 'import'], 'requires 1 argument but received 0'],
      [['blob', 'policy', 'import', 'a', 'b'], 'requires 1 argument but received 2'],
      [['blob', 'policy', 'init', '--name', 'n'], 'required flag(s) "trust-store", "trusted-identity" not set'],
    ];
    for (const [args, text] of cases) {
      const r = await vouch(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toContain(text);
    }
    await writeFile(join(work, 'bad.jws.sig'), 'not a jws');
    const malformed = await vouch(['blob', 'inspect', 'bad.jws.sig', '-o', 'json']);
    expect(malformed.code).toBe(1);
    expect(malformed.json().error.message).toMatch(/^failed to parse signature: /);
    expect((await vouch(['blob', 'inspect', '-o', 'yaml', 'bad.jws.sig'])).err).toContain('unrecognized output format');
  });
});

describe('vouch blob inspect', () => {
  it('shows a signature made by vouch as a tree and as JSON', async () => {
    await writeFile(join(work, 'i.bin'), BLOB);
    expect((await vouch(['blob', 'sign', '-m', 'k=v', '--expiry', '24h', 'i.bin'])).code).toBe(0);
    const t = await vouch(['blob', 'inspect', 'i.bin.jws.sig']);
    expect(t.code).toBe(0);
    const lines = t.out.split('\n');
    expect(lines[0]).toBe('i.bin.jws.sig');
    expect(lines[1]).toBe('├── signature algorithm: RSASSA-PSS-SHA-256');
    expect(lines[2]).toBe('├── signature envelope type: application/jose+json');
    expect(t.out).toContain('│   ├── signing scheme: notary.x509\n');
    expect(t.out).toContain('├── user defined attributes\n│   └── k: v\n');
    expect(t.out).toMatch(/│ {3}└── expiry: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n/);
    expect(t.out).toContain(`│       ├── issued to: CN=${KEY},O=Notary,L=Seattle,ST=WA,C=US\n`);
    expect(t.out).toContain(
      `└── signed artifact\n    ├── media type: application/octet-stream\n    ├── digest: ${sha256(BLOB)}\n    └── size: ${BLOB.length}\n`,
    );
    const j = await vouch(['blob', 'inspect', '--output', 'json', 'i.bin.jws.sig']);
    expect(j.code).toBe(0);
    const doc = j.json();
    expect(Object.keys(doc)).toEqual([
      'signatureAlgorithm',
      'signatureEnvelopeType',
      'signedAttributes',
      'userDefinedAttributes',
      'unsignedAttributes',
      'certificates',
      'signedArtifact',
    ]);
    expect(Object.keys(doc.signedAttributes)).toEqual(['contentType', 'expiry', 'signingScheme', 'signingTime']);
    expect(doc.userDefinedAttributes).toEqual({ k: 'v' });
    expect(doc.signedArtifact).toEqual({ mediaType: 'application/octet-stream', digest: sha256(BLOB), size: BLOB.length });
    expect(doc.certificates[0].issuedTo).toBe(`CN=${KEY},O=Notary,L=Seattle,ST=WA,C=US`);
  });

  it("reproduces notation's output for upstream's timestamped signatures", async () => {
    const shared = process.env.VOUCH_SHARED_DIR ?? join(import.meta.dirname, '..', '..', '..', '..', '..', 'shared');
    const dir = join(shared, 'vectors', 'notation-e2e');
    if (!existsSync(join(dir, 'scenarios.json'))) {
      if (process.env.CI === 'true') throw new Error(`${dir} is missing (required under CI=true)`);
      console.warn(`NOTICE: ${dir} not found (set VOUCH_SHARED_DIR); upstream blob inspect outputs not compared`);
      return;
    }
    const testdata = join(dir, 'testdata');
    const scenarios = JSON.parse(readFileSync(join(dir, 'scenarios.json'), 'utf8')) as Json[];
    const ids = [
      'command/blob/inspect/with-timestamping',
      'command/blob/inspect/with-timestamping-and-output-as-json',
      'command/blob/inspect/with-cose-signature',
      'command/blob/inspect/with-cose-signature-and-output-as-json',
    ];
    for (const id of ids) {
      const step = scenarios.find((s) => s.id === id)!.steps[0];
      const fill = (s: string) => s.replaceAll('{TESTDATA}', testdata);
      const r = await vouch(step.args.map(fill));
      expect(r.err, id).toBe('');
      expect(r.code, id).toBe(0);
      expect(r.out, id).toBe(fill(step.expect.stdout_equals));
    }
  });
});

describe('vouch blob policy', () => {
  it('show prints the file as is; import refuses invalid documents; init writes one statement', async () => {
    const show = await vouch(['blob', 'policy', 'show']);
    expect(show.code).toBe(0);
    expect(show.out).toBe(JSON.stringify(POLICY, null, 2));
    expect((await vouch(['blob', 'policy', 'show', '-o', 'json'])).json()).toMatchObject({ valid: true, policy: POLICY });

    const dir = await mkdtemp(join(root, 'pol-'));
    const v = (args: string[], extra: Partial<CliIo> = {}) => vouch(['--config-dir', dir, ...args], extra);
    const missing = await v(['blob', 'policy', 'show']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('failed to show blob trust policy as the trust policy file does not exist');

    const twoGlobals = { version: '1.0', trustPolicies: [statement('a', { globalPolicy: true }), statement('b', { globalPolicy: true })] };
    const skipGlobal = { version: '1.0', trustPolicies: [{ name: 'g', globalPolicy: true, signatureVerification: { level: 'skip' } }] };
    for (const [name, content] of [
      ['two-globals.json', JSON.stringify(twoGlobals)],
      ['skip-global.json', JSON.stringify(skipGlobal)],
      ['broken.json', '{"version": "1.0", "trustPolicies": [ }'],
    ] as const) {
      await writeFile(join(work, name), content);
      const r = await v(['blob', 'policy', 'import', name, '-o', 'json']);
      expect(r.code, name).toBe(1);
      expect(r.json().error.code, name).toBe('ERR_TRUST_POLICY_INVALID');
      expect(existsSync(join(dir, 'trustpolicy.blob.json')), name).toBe(false);
    }

    const imp = await v(['blob', 'policy', 'import', 'policy.json']);
    expect(imp.code).toBe(0);
    expect(imp.out).toBe(`Successfully imported blob trust policy configuration to ${join(dir, 'trustpolicy.blob.json')}.\n`);
    const again = await v(['blob', 'policy', 'import', 'policy.json'], { stdin: stdin('N\n') });
    expect(again.code).toBe(0);
    expect(again.out).toBe('The blob trust policy configuration already exists, do you want to overwrite it? [y/N] ');

    const init = await v([
      'blob',
      'policy',
      'init',
      '--name',
      'p',
      '--trust-store',
      'ca:s1',
      '--trust-store',
      'ca:s2',
      '--trusted-identity',
      'x509.subject: C=US, ST=WA, O=a&b',
      '--global',
      '--force',
    ]);
    expect(init.err).toBe('Warning: existing blob trust policy configuration will be overwritten\n');
    expect(init.code).toBe(0);
    expect(init.out).toBe(`Successfully initialized blob trust policy file to ${join(dir, 'trustpolicy.blob.json')}.\n`);
    const shown = await v(['blob', 'policy', 'show']);
    expect(shown.out).toBe(
      '{\n  "version": "1.0",\n  "trustPolicies": [\n    {\n      "name": "p",\n      "signatureVerification": {\n        "level": "strict"\n      },\n      "trustStores": [\n        "ca:s1",\n        "ca:s2"\n      ],\n      "trustedIdentities": [\n        "x509.subject: C=US, ST=WA, O=a\\u0026b"\n      ],\n      "globalPolicy": true\n    }\n  ]\n}',
    );
    const badInit = await v(['blob', 'policy', 'init', '--name', 'q', '--trust-store', 'ca:s', '--trusted-identity', 'invalid']);
    expect(badInit.code).toBe(1);
    expect(badInit.err).toContain('invalid blob policy');

    // an invalid policy on disk is shown (exit 1) and replaced without a prompt
    await writeFile(join(dir, 'trustpolicy.blob.json'), JSON.stringify(twoGlobals));
    const invalid = await v(['blob', 'policy', 'show']);
    expect(invalid.code).toBe(1);
    expect(invalid.out).toBe(JSON.stringify(twoGlobals));
    expect(invalid.err).toContain('Existing blob trust policy configuration is invalid');
    const replaced = await v(['blob', 'policy', 'import', 'policy.json']);
    expect(replaced.code).toBe(0);
    expect(replaced.out).toContain('Successfully imported blob trust policy configuration');
  });
});
