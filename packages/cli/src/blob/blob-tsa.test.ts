/**
 * `vouch blob sign --timestamp-url … --timestamp-root-cert …` against a real RFC 3161 TSA
 * (`openssl ts` behind an HTTP wrapper on 127.0.0.1, from @vouch/node's test services), then
 * `blob verify` with a `tsa:` trust store and `blob inspect` of the countersignature.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestPki } from '../../../node/src/testing/pki.js';
import { type PkiHttpServer, requireOpenssl, startPkiServer } from '../../../node/src/testing/services.js';
import type { CliIo } from '../index.js';
import { runVouch } from '../testing/run-cli.js';

const ok = await requireOpenssl('vouch blob timestamping tests');

describe.skipIf(!ok)('vouch blob with a real TSA (openssl ts on 127.0.0.1)', () => {
  let server: PkiHttpServer;
  let rsa: TestPki;
  let ec: TestPki;
  let root: string;
  let cfg: string;
  let work: string;

  const vouch = (args: string[], extra: Partial<CliIo> = {}) =>
    runVouch(['--config-dir', cfg, ...args], {
      env: { HOME: join(root, 'home'), NOTATION_CACHE: join(root, 'cache') },
      cwd: work,
      ...extra,
    });
  /** `blob sign` with an RFC 3161 timestamp from `url`, its token checked against `rootCert`. */
  const signStamped = (url: string, rootCert: string, file: string, ...rest: string[]) =>
    vouch(['blob', 'sign', '--timestamp-url', url, '--timestamp-root-cert', rootCert, file, ...rest]);

  beforeAll(async () => {
    server = await startPkiServer();
    [rsa, ec] = await Promise.all([server.addPki('rsa', 'rsa2048'), server.addPki('ec', 'p256')]);
    root = await mkdtemp(join(tmpdir(), 'vouch-blob-tsa-'));
    cfg = join(root, 'config');
    work = join(root, 'work');
    await mkdir(work, { recursive: true });
    // the certificate must predate the timestamp's lower bound (genTime − accuracy)
    expect((await vouch(['cert', 'generate-test', 'signer', '--default'], { now: () => new Date(Date.now() - 60_000) })).code).toBe(0);
    expect((await vouch(['cert', 'add', '--type', 'tsa', '--store', 'tsa', join(rsa.dir, 'root.crt')])).code).toBe(0);
    const policy = {
      version: '1.0',
      trustPolicies: [
        {
          name: 'timestamped',
          signatureVerification: { level: 'strict', verifyTimestamp: 'always' },
          trustStores: ['ca:signer', 'tsa:tsa'],
          trustedIdentities: ['*'],
        },
        {
          name: 'no-tsa-store',
          globalPolicy: true,
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:signer'],
          trustedIdentities: ['*'],
        },
      ],
    };
    await writeFile(join(work, 'policy.json'), JSON.stringify(policy));
    expect((await vouch(['blob', 'policy', 'import', 'policy.json'])).code).toBe(0);
    await writeFile(join(work, 'data.bin'), 'timestamped blob');
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('signs with a verified timestamp, verifies it, and inspect shows it', async () => {
    const s = await signStamped(`${server.url}/rsa/tsa`, join(rsa.dir, 'root.crt'), 'data.bin');
    expect(s.err).toBe('');
    expect(s.code).toBe(0);
    expect(s.out).toContain('Signature file written to');
    expect(server.log.some((r) => r.path === '/rsa/tsa' && r.contentType === 'application/timestamp-query')).toBe(true);

    const v = await vouch(['blob', 'verify', '-d', '--policy-name', 'timestamped', '-s', 'data.bin.jws.sig', 'data.bin']);
    expect(v.code).toBe(0);
    expect(v.out).toBe('Successfully verified signature for data.bin\n');
    expect(v.err).toContain('Timestamp verification: Success');

    const t = await vouch(['blob', 'inspect', 'data.bin.jws.sig']);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/│ {3}└── timestamp signature\n│ {7}├── timestamp: \[.+, .+\]\n│ {7}└── certificates\n/);
    const j = await vouch(['blob', 'inspect', '-o', 'json', 'data.bin.jws.sig']);
    expect(j.json().unsignedAttributes.timestampSignature.certificates.length).toBeGreaterThan(0);
  });

  it('after the signing certificate expired, the timestamp keeps the signature valid; without it, it fails', async () => {
    await writeFile(join(work, 'late.bin'), 'late blob');
    expect((await vouch(['blob', 'sign', '--signature-format', 'cose', 'late.bin'])).code).toBe(0);
    const later = () => new Date(Date.now() + 3 * 86_400_000);
    const stamped = await vouch(['blob', 'verify', '--policy-name', 'timestamped', '-s', 'data.bin.jws.sig', 'data.bin'], { now: later });
    expect(stamped.err).toBe('');
    expect(stamped.code).toBe(0);
    const plain = await vouch(['blob', 'verify', '-s', 'late.bin.cose.sig', 'late.bin', '-o', 'json'], { now: later });
    expect(plain.code).toBe(1);
    expect(plain.json().error.code).toBe('ERR_CERT_EXPIRED');
  });

  it('refuses a token that does not chain to --timestamp-root-cert, and an unreachable TSA', async () => {
    await writeFile(join(work, 'other.bin'), 'other');
    const wrongRoot = await signStamped(`${server.url}/rsa/tsa`, join(ec.dir, 'root.crt'), 'other.bin', '-o', 'json');
    expect(wrongRoot.code).toBe(1);
    expect(wrongRoot.json().error.code).toBe('ERR_TIMESTAMP_INVALID');
    const closed = await signStamped(`${server.closedUrl}/tsa`, join(rsa.dir, 'root.crt'), 'other.bin');
    expect(closed.code).toBe(1);
    expect(closed.err).toContain(`Error: timestamp: Post "${server.closedUrl}/tsa"`);
    const notRoot = await signStamped(`${server.url}/rsa/tsa`, join(rsa.dir, 'int.crt'), 'other.bin');
    expect(notRoot.code).toBe(1);
    expect(notRoot.err).toContain('failed to check root certificate with error');
  });
});
