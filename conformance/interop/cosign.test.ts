/**
 * `vouch cosign` against the real cosign 3.1.1 and 2.5.0, both ways, offline: cosign signs images
 * (cosign 3's bundle referrers, cosign 2's `.sig` tags, the experimental OCI 1.1 referrers),
 * attestations and blobs, with keys and with a certificate from a test CA; vouch verifies each and
 * rejects the tampered, wrong-key, wrong-identity and wrong-digest variants. vouch signs; cosign
 * verifies with `--insecure-ignore-tlog`. Registries: CNCF distribution (the referrers tag
 * schema) and the in-repo fake with the Referrers API. cosign never reaches beyond 127.0.0.1
 * (see `cosignSetup`).
 */
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchLike, MediaType, utf8 } from '@vouch/core';
import { createRegistryClient, type RemoteRepository, remoteRepository } from '@vouch/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CosignSetup,
  cosignSetup,
  exec,
  expectExit,
  type Image,
  peersAvailable,
  pushImage,
  type Registries,
  type Run,
  startRegistries,
  Workspace,
} from './harness.js';

const ready = peersAvailable(['cosign', 'cosign2', 'crane', 'oras'], 'interop with cosign (vouch cosign)');

/** A test CA: root → intermediate → code-signing leaf with an email SAN and Fulcio's issuer extensions. */
interface TestCa {
  dir: string;
  chain: string;
  leaf: string;
  /** A self-signed root that issued nothing here. */
  otherRoot: string;
  /** The leaf's key as cosign's key file (imported with cosign 3). */
  leafKey: string;
  /** A trusted_root.json naming the CA (for cosign 3 and `--trusted-root`). */
  trustedRoot: string;
  identity: string;
  issuer: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  expectExit(await exec('openssl', args, { cwd }), 0, `openssl ${args[0]}`);
}

async function makeCa(ws: Workspace, cos: CosignSetup): Promise<TestCa> {
  const dir = join(ws.work, 'ca');
  await mkdir(dir, { recursive: true });
  const identity = 'signer@example.com';
  const issuer = 'https://issuer.example.com';
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'root.key'], dir);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'root.key',
      '-subj',
      '/CN=vouch test root/O=vouch',
      '-days',
      '3650',
      '-out',
      'root.pem',
      '-addext',
      'basicConstraints=critical,CA:true',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'other.key'], dir);
  await openssl(
    ['req', '-x509', '-new', '-key', 'other.key', '-subj', '/CN=another root/O=vouch', '-days', '3650', '-out', 'other-root.pem'],
    dir,
  );
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'inter.key'], dir);
  await openssl(['req', '-new', '-key', 'inter.key', '-subj', '/CN=vouch test intermediate/O=vouch', '-out', 'inter.csr'], dir);
  await writeFile(
    join(dir, 'inter.ext'),
    'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nextendedKeyUsage=codeSigning\n',
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'inter.csr',
      '-CA',
      'root.pem',
      '-CAkey',
      'root.key',
      '-CAcreateserial',
      '-days',
      '3650',
      '-out',
      'inter.pem',
      '-extfile',
      'inter.ext',
    ],
    dir,
  );
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'leaf.p8'], dir);
  await openssl(['req', '-new', '-key', 'leaf.p8', '-subj', '/O=vouch', '-out', 'leaf.csr'], dir);
  const rawIssuer = [...utf8(issuer)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  await writeFile(
    join(dir, 'leaf.ext'),
    `keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=critical,email:${identity}\n1.3.6.1.4.1.57264.1.1=DER:${rawIssuer}\n1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:${issuer}\n`,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'inter.pem',
      '-CAkey',
      'inter.key',
      '-CAcreateserial',
      '-days',
      '365',
      '-out',
      'leaf.pem',
      '-extfile',
      'leaf.ext',
    ],
    dir,
  );
  await writeFile(
    join(dir, 'chain.pem'),
    `${await readFile(join(dir, 'inter.pem'), 'utf8')}${await readFile(join(dir, 'root.pem'), 'utf8')}`,
  );
  expectExit(
    await ws.peer('cosign', ['import-key-pair', '--key', 'leaf.p8', '--output-key-prefix', 'leaf'], { env: cos.env, cwd: dir }),
    0,
    'cosign import-key-pair',
  );
  const b64 = async (pem: string) => (await readFile(join(dir, pem), 'utf8')).replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const trustedRoot = join(dir, 'trusted-root.json');
  await writeFile(
    trustedRoot,
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      certificateAuthorities: [
        {
          subject: { organization: 'vouch', commonName: 'vouch test intermediate' },
          uri: 'https://ca.example.com',
          certChain: { certificates: [{ rawBytes: await b64('inter.pem') }, { rawBytes: await b64('root.pem') }] },
          validFor: { start: '2020-01-01T00:00:00Z' },
        },
      ],
    }),
  );
  return {
    dir,
    chain: join(dir, 'chain.pem'),
    otherRoot: join(dir, 'other-root.pem'),
    leaf: join(dir, 'leaf.pem'),
    leafKey: join(dir, 'leaf.key'),
    trustedRoot,
    identity,
    issuer,
  };
}

/** A repository handle on the test registry, for tampering with what cosign wrote. */
function repoOf(image: Image): RemoteRepository {
  const client = createRegistryClient({ fetch: fetchLike(globalThis.fetch), plainHttp: true });
  return remoteRepository(client, image.repo);
}

async function manifestJson(repo: RemoteRepository, ref: string): Promise<Record<string, unknown>> {
  const { bytes } = await repo.fetchManifest(ref);
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

describe.skipIf(!ready)('vouch cosign and the real cosign 3.1.1 / 2.5.0', () => {
  let regs: Registries;
  let ws: Workspace;
  let cos: CosignSetup;
  let ca: TestCa;
  let other: string;

  beforeAll(async () => {
    regs = await startRegistries();
    ws = await Workspace.create('cosign');
    cos = await cosignSetup(ws);
    ca = await makeCa(ws, cos);
    const otherDir = join(ws.work, 'other');
    await mkdir(otherDir);
    expectExit(await ws.peer('cosign2', ['generate-key-pair'], { env: cos.env, cwd: otherDir }), 0, 'cosign generate-key-pair (other)');
    other = join(otherDir, 'cosign.pub');
  }, 120_000);

  afterAll(async () => {
    await regs?.stop();
    await ws?.dispose();
  });

  /** cosign 2.5 / 3.1 with the offline setup. */
  const cosign2 = (args: string[]) => ws.peer('cosign2', args, { env: cos.env });
  const cosign3 = (args: string[]) => ws.peer('cosign', args, { env: cos.env });
  const sign2 = (ref: string, extra: string[] = [], key = cos.key) =>
    cosign2(['sign', '--key', key, '--tlog-upload=false', '--allow-http-registry', '--yes', ...extra, ref]);
  const sign3 = (ref: string, extra: string[] = [], key = cos.key, trustedRoot = cos.trustedRoot) =>
    cosign3(['sign', '--key', key, ...offline3(trustedRoot), ...extra, ref]);
  /** cosign 3 signing flags for no services (a signing config without any, an empty or the test CA's trusted root). */
  const noServices3 = (trustedRoot = cos.trustedRoot) => ['--signing-config', cos.signingConfig, '--trusted-root', trustedRoot];
  const offline3 = (trustedRoot = cos.trustedRoot) => [...noServices3(trustedRoot), '--allow-http-registry', '--yes'];
  /** cosign's verify verbs with nothing to look up online: no log entry required, cosign 3 with the empty trusted root. */
  const verify3 = (verb: string, args: string[]) => cosign3([verb, '--trusted-root', cos.trustedRoot, '--insecure-ignore-tlog', ...args]);
  const verify2 = (verb: string, args: string[]) => cosign2([verb, '--insecure-ignore-tlog', ...args]);
  const vouch = (args: string[], env: Record<string, string> = {}) =>
    ws.vouch(['cosign', ...args], { env: { COSIGN_PASSWORD: cos.password, ...env } });
  const vverify = (ref: string, extra: string[] = []) =>
    vouch(['verify', '--key', cos.pub, '--insecure-ignore-tlog', '--allow-http-registry', ...extra, ref]);

  const expectRejected = (r: Run, what: string, code = 12) => {
    expect(r.code, `${what}\n${r.stderr}`).toBe(code);
    expect(r.stdout).toBe('');
  };

  for (const registry of ['distribution', 'referrers'] as const) {
    describe(`registry: ${registry === 'distribution' ? 'CNCF distribution (referrers tag schema)' : 'fake with the Referrers API'}`, () => {
      const host = () => regs[registry];

      it('cosign 2.5 signs (.sig tag): vouch verifies it, prints the claim as cosign does, and rejects the wrong key', async () => {
        const img = await pushImage(ws, host());
        expectExit(await sign2(img.ref, ['-a', 'env=prod']), 0, 'cosign 2.5 sign');
        const v = expectExit(await vverify(img.ref), 0, 'vouch cosign verify');
        const c = expectExit(await verify2('verify', ['--key', cos.pub, '--allow-http-registry', img.ref]), 0, 'cosign verify');
        expect(JSON.parse(v.stdout)).toEqual(JSON.parse(c.stdout));
        expect(v.stderr).toContain(`Verification for ${img.ref} --`);
        expectExit(await vverify(img.ref, ['-a', 'env=prod']), 0, 'vouch cosign verify -a');
        expectRejected(await vverify(img.ref, ['-a', 'env=dev']), 'wrong annotation');
        const wrong = await vouch(['verify', '--key', other, '--insecure-ignore-tlog', '--allow-http-registry', img.ref]);
        const cwrong = await verify2('verify', ['--key', other, '--allow-http-registry', img.ref]);
        expectRejected(wrong, 'wrong key');
        expect(cwrong.code).toBe(12);
        expect(wrong.error).toMatch(/^Error: no matching signatures: /);
        expect(cwrong.error).toMatch(/^Error: no matching signatures: /);
      });

      it('cosign 3.1 signs (bundle referrer): vouch verifies it; JSON output has the per-signature outcome', async () => {
        const img = await pushImage(ws, host());
        expectExit(await sign3(img.ref, ['-a', 'team=a']), 0, 'cosign 3.1 sign');
        const v = expectExit(await vverify(img.ref), 0, 'vouch cosign verify');
        const c = expectExit(await verify3('verify', ['--key', cos.pub, '--allow-http-registry', img.ref]), 0, 'cosign 3.1 verify');
        expect(JSON.parse(v.stdout)).toEqual(JSON.parse(c.stdout));
        expectExit(await vverify(img.ref, ['-a', 'team=a']), 0, 'vouch cosign verify -a');
        const j = JSON.parse(expectExit(await vverify(img.ref, ['--output', 'json']), 0, 'json').stdout) as {
          verified: boolean;
          signatures: { form: string; verified: boolean; signer: { type: string } }[];
        };
        expect(j.verified).toBe(true);
        expect(j.signatures.map((s) => [s.form, s.verified, s.signer.type])).toEqual([['bundle-referrer', true, 'key']]);
        expectRejected(await vouch(['verify', '--key', other, '--insecure-ignore-tlog', '--allow-http-registry', img.ref]), 'wrong key');
      });

      it('wrong digest: a valid signature of another image, moved onto this one, is rejected (legacy and bundle)', async () => {
        const a = await pushImage(ws, host());
        const b = await pushImage(ws, host(), { repo: a.repo.split('/').slice(1).join('/'), tag: 'b' });
        expectExit(await sign2(a.ref), 0, 'cosign 2.5 sign a');
        expectExit(await sign3(a.ref), 0, 'cosign 3.1 sign a');
        const repo = repoOf(a);
        // the .sig manifest of a, tagged for b
        const sigA = await repo.fetchManifest(`${a.digest.replace(':', '-')}.sig`);
        await repo.pushManifest(sigA.descriptor.mediaType, sigA.bytes, { tag: `${b.digest.replace(':', '-')}.sig` });
        // the bundle referrer of a, re-parented to b
        let moved = false;
        for await (const page of repo.referrers({ mediaType: MediaType.OCI_MANIFEST, digest: a.digest, size: 0 })) {
          for (const d of page) {
            const m = await manifestJson(repo, d.digest);
            if (m.artifactType !== 'application/vnd.dev.sigstore.bundle.v0.3+json') continue;
            const bDesc = await repo.resolve(b.digest);
            m.subject = { mediaType: bDesc.mediaType, digest: bDesc.digest, size: bDesc.size };
            await repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(m)));
            moved = true;
          }
        }
        expect(moved).toBe(true);
        const r = await vverify(b.ref);
        expectRejected(r, 'wrong digest');
        const j = JSON.parse((await vverify(b.ref, ['--output', 'json'])).stdout) as {
          error: { details: { outcomes: { form: string; error: { code: string } }[] } };
        };
        const codes = Object.fromEntries(j.error.details.outcomes.map((o) => [o.form, o.error.code]));
        expect(codes['sig-tag']).toBe('ERR_ARTIFACT_MISMATCH');
        expect(codes['bundle-referrer']).toBe('ERR_ARTIFACT_MISMATCH');
        // cosign agrees for the legacy form
        expect((await verify2('verify', ['--key', cos.pub, '--allow-http-registry', b.ref])).code).not.toBe(0);
      });

      it('tampered: a changed signature annotation is rejected', async () => {
        const img = await pushImage(ws, host());
        expectExit(await sign2(img.ref), 0, 'cosign 2.5 sign');
        const repo = repoOf(img);
        const tag = `${img.digest.replace(':', '-')}.sig`;
        const m = await manifestJson(repo, tag);
        const layer = (m.layers as { annotations: Record<string, string> }[])[0]!;
        const sig = layer.annotations['dev.cosignproject.cosign/signature']!;
        layer.annotations['dev.cosignproject.cosign/signature'] = `${sig.slice(0, 20)}${sig[20] === 'A' ? 'B' : 'A'}${sig.slice(21)}`;
        await repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(m)), { tag });
        expectRejected(await vverify(img.ref), 'tampered');
      });

      it('no signature: exit 10 and "no signatures found", as cosign', async () => {
        const img = await pushImage(ws, host());
        const [v, c] = [await vverify(img.ref), await verify2('verify', ['--key', cos.pub, '--allow-http-registry', img.ref])];
        expect([v.code, c.code]).toEqual([10, 10]);
        expect(v.error).toBe(c.error);
      });

      it('attestations: cosign 2.5 (.att) and 3.1 (bundle) attest; vouch verify-attestation --type selects them', async () => {
        const img = await pushImage(ws, host());
        const pred = await ws.file('predicate.json', '{"buildType":"x","builder":{"id":"https://example.com/builder"}}');
        expectExit(
          await cosign2([
            'attest',
            '--key',
            cos.key,
            '--tlog-upload=false',
            '--allow-http-registry',
            '--yes',
            '--predicate',
            pred,
            '--type',
            'slsaprovenance',
            img.ref,
          ]),
          0,
          'cosign 2.5 attest',
        );
        expectExit(
          await cosign3(['attest', '--key', cos.key, ...offline3(), '--predicate', pred, '--type', 'slsaprovenance1', img.ref]),
          0,
          'cosign 3.1 attest',
        );
        const base = ['verify-attestation', '--key', cos.pub, '--insecure-ignore-tlog', '--allow-http-registry'];
        const v02 = expectExit(await vouch([...base, '--type', 'slsaprovenance', img.ref]), 0, 'vouch verify-attestation slsaprovenance');
        const c02 = expectExit(await cosign2([...base, '--type', 'slsaprovenance', img.ref]), 0, 'cosign verify-attestation');
        const statementOf = (line: string) =>
          JSON.parse(Buffer.from((JSON.parse(line) as { payload: string }).payload, 'base64').toString('utf8')) as {
            predicateType: string;
          };
        expect(
          v02.stdout
            .trim()
            .split('\n')
            .map((l) => statementOf(l).predicateType),
        ).toEqual(['https://slsa.dev/provenance/v0.2']);
        expect(
          c02.stdout
            .trim()
            .split('\n')
            .map((l) => statementOf(l).predicateType),
        ).toEqual(['https://slsa.dev/provenance/v0.2']);
        const v1 = expectExit(await vouch([...base, '--type', 'slsaprovenance1', img.ref]), 0, 'vouch verify-attestation slsaprovenance1');
        expect(
          v1.stdout
            .trim()
            .split('\n')
            .map((l) => statementOf(l).predicateType),
        ).toEqual(['https://slsa.dev/provenance/v1']);
        const none = await vouch([...base, img.ref]);
        expect(none.code).toBe(1);
        expect(none.error).toMatch(/^Error: none of the attestations matched the predicate type: custom, found: /);
        expect(
          (
            await vouch([
              'verify-attestation',
              '--key',
              other,
              '--insecure-ignore-tlog',
              '--allow-http-registry',
              '--type',
              'slsaprovenance',
              img.ref,
            ])
          ).code,
        ).toBe(1);
      });

      it('certificates from a test CA: cosign 2.5 (--certificate --certificate-chain) and 3.1 (bundle); identity checked', async () => {
        const img = await pushImage(ws, host());
        const img3 = await pushImage(ws, host());
        expectExit(
          await sign2(img.ref, ['--certificate', ca.leaf, '--certificate-chain', ca.chain], ca.leafKey),
          0,
          'cosign 2.5 sign --certificate',
        );
        expectExit(
          await sign3(img3.ref, ['--certificate', ca.leaf, '--certificate-chain', ca.chain], ca.leafKey, ca.trustedRoot),
          0,
          'cosign 3.1 sign --certificate',
        );
        const id = [
          '--certificate-identity',
          ca.identity,
          '--certificate-oidc-issuer',
          ca.issuer,
          '--insecure-ignore-sct',
          '--insecure-ignore-tlog',
          '--allow-http-registry',
        ];
        const v = expectExit(
          await vouch(['verify', '--certificate-chain', ca.chain, ...id, img.ref]),
          0,
          'vouch verify --certificate-chain',
        );
        const c = expectExit(
          await cosign2(['verify', '--certificate-chain', ca.chain, ...id, img.ref]),
          0,
          'cosign verify --certificate-chain',
        );
        expect(JSON.parse(v.stdout)).toEqual(JSON.parse(c.stdout));
        expect(v.stderr).toContain('The code-signing certificate was verified using trusted certificate authority certificates');
        expectExit(await vouch(['verify', '--trusted-root', ca.trustedRoot, ...id, img3.ref]), 0, 'vouch verify --trusted-root (bundle)');
        expectExit(
          await vouch(['verify', '--certificate-chain', ca.chain, ...id, img3.ref]),
          0,
          'vouch verify --certificate-chain (bundle)',
        );
        // wrong identity, wrong issuer, regexps
        const wrongId = [
          '--certificate-identity',
          'other@example.com',
          '--certificate-oidc-issuer',
          ca.issuer,
          '--insecure-ignore-sct',
          '--insecure-ignore-tlog',
          '--allow-http-registry',
        ];
        expectRejected(await vouch(['verify', '--certificate-chain', ca.chain, ...wrongId, img.ref]), 'wrong identity');
        expectRejected(await vouch(['verify', '--trusted-root', ca.trustedRoot, ...wrongId, img3.ref]), 'wrong identity (bundle)');
        const rx = [
          '--certificate-identity-regexp',
          '^signer@',
          '--certificate-oidc-issuer-regexp',
          'issuer\\.example',
          '--insecure-ignore-sct',
          '--insecure-ignore-tlog',
          '--allow-http-registry',
        ];
        expectExit(await vouch(['verify', '--certificate-chain', ca.chain, ...rx, img.ref]), 0, 'vouch verify regexps');
        // a chain that does not reach the signer's CA
        // a root that did not issue the signer's certificate
        expectRejected(await vouch(['verify', '--certificate-chain', ca.otherRoot, ...id, img.ref]), 'untrusted chain');
        // no identity flags: a usage error, as cosign
        const noId = await vouch(['verify', '--certificate-chain', ca.chain, '--insecure-ignore-tlog', '--allow-http-registry', img.ref]);
        expect(noId.code).toBe(1);
        expect(noId.error).toMatch(/--certificate-identity or --certificate-identity-regexp is required/);
      });
    });
  }

  it("cosign 2.5's experimental OCI 1.1 signature referrer is found and verified (Referrers API)", async () => {
    const img = await pushImage(ws, regs.referrers);
    const r = await ws.peer(
      'cosign2',
      ['sign', '--key', cos.key, '--tlog-upload=false', '--allow-http-registry', '--yes', '--registry-referrers-mode=oci-1-1', img.ref],
      {
        env: { ...cos.env, COSIGN_EXPERIMENTAL: '1' },
      },
    );
    expectExit(r, 0, 'cosign 2.5 sign oci-1-1');
    const j = JSON.parse(expectExit(await vverify(img.ref, ['--output', 'json']), 0, 'vouch cosign verify').stdout) as {
      signatures: { form: string }[];
    };
    expect(j.signatures.map((s) => s.form)).toEqual(['oci11-referrer']);
  });

  it('offline first: without --insecure-ignore-tlog a signature without a log entry fails with the reason and the flag', async () => {
    const img = await pushImage(ws, regs.distribution);
    expectExit(await sign2(img.ref), 0, 'cosign 2.5 sign');
    const r = await vouch(['verify', '--key', cos.pub, '--allow-http-registry', img.ref]);
    expect(r.code).toBe(12);
    expect(r.stderr).toMatch(/--insecure-ignore-tlog/);
    const j = JSON.parse((await vouch(['verify', '--key', cos.pub, '--allow-http-registry', '--output', 'json', img.ref])).stdout) as {
      error: { details: { outcomes: { error: { code: string } }[] } };
    };
    expect(j.error.details.outcomes[0]!.error.code).toBe('ERR_TLOG_ENTRY_MISSING');
  });

  describe('blobs', () => {
    it('cosign 2.5 (signature, cosign bundle) and 3.1 (Sigstore bundle) sign-blob: vouch verify-blob accepts; a changed blob or wrong key is refused', async () => {
      const blob = await ws.file('blob.txt', 'blob content\n');
      const sig = join(ws.work, 'blob.sig');
      const oldBundle = join(ws.work, 'blob.cosign.bundle');
      const bundle = join(ws.work, 'blob.sigstore.json');
      expectExit(
        await cosign2([
          'sign-blob',
          '--key',
          cos.key,
          '--tlog-upload=false',
          '--yes',
          '--bundle',
          oldBundle,
          '--output-signature',
          sig,
          blob,
        ]),
        0,
        'cosign 2.5 sign-blob',
      );
      expectExit(
        await cosign3(['sign-blob', '--key', cos.key, ...noServices3(), '--yes', '--bundle', bundle, blob]),
        0,
        'cosign 3.1 sign-blob',
      );
      const base = ['verify-blob', '--key', cos.pub, '--insecure-ignore-tlog'];
      for (const input of [
        ['--signature', sig],
        ['--bundle', oldBundle],
        ['--bundle', bundle],
      ]) {
        const v = expectExit(await vouch([...base, ...input, blob]), 0, `vouch verify-blob ${input.join(' ')}`);
        expect(v.stderr).toContain('Verified OK');
      }
      const changed = await ws.file('changed.txt', 'blob content!\n');
      for (const input of [
        ['--signature', sig],
        ['--bundle', bundle],
      ]) {
        expect((await vouch([...base, ...input, changed])).code).toBe(1);
        expect((await vouch(['verify-blob', '--key', other, '--insecure-ignore-tlog', ...input, blob])).code).toBe(1);
      }
    });

    it('an RSA key under 2048 bits: cosign 3.1 and 2.5 verify a blob signature with it, vouch refuses the key (compatibility CS15)', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const blob = await ws.file('rsa1024.txt', 'signed with a short RSA key\n');
      const pub = await ws.file('rsa1024.pub', publicKey.export({ type: 'spki', format: 'pem' }).toString());
      const sig = await ws.file('rsa1024.sig', nodeSign('sha256', await readFile(blob), privateKey).toString('base64'));
      const args = ['verify-blob', '--key', pub, '--signature', sig, '--insecure-ignore-tlog=true', blob];
      expect(expectExit(await cosign3(args), 0, 'cosign 3.1 verify-blob').stderr).toContain('Verified OK');
      expect(expectExit(await cosign2(args), 0, 'cosign 2.5 verify-blob').stderr).toContain('Verified OK');
      const v = await vouch(args);
      expect(v.code).toBe(1);
      expect(v.stderr).toContain('is a 1024-bit RSA key; at least 2048 bits are required');
    });

    it('vouch sign-blob: cosign 3.1 and 2.5 verify-blob accept the bundle and the signature', async () => {
      const blob = await ws.file('vouch-blob.txt', 'signed by vouch\n');
      const bundle = join(ws.work, 'vouch-blob.sigstore.json');
      const sig = join(ws.work, 'vouch-blob.sig');
      expectExit(
        await vouch(['sign-blob', '--key', cos.key, '--yes', '--bundle', bundle, '--output-signature', sig, blob]),
        0,
        'vouch cosign sign-blob',
      );
      expectExit(await verify3('verify-blob', ['--key', cos.pub, '--bundle', bundle, blob]), 0, 'cosign 3.1 verify-blob --bundle');
      expectExit(
        await verify2('verify-blob', ['--key', cos.pub, '--trusted-root', cos.trustedRoot, '--bundle', bundle, blob]),
        0,
        'cosign 2.5 verify-blob --bundle',
      );
      expectExit(await verify2('verify-blob', ['--key', cos.pub, '--signature', sig, blob]), 0, 'cosign 2.5 verify-blob --signature');
      expectExit(
        await vouch(['verify-blob', '--key', cos.pub, '--insecure-ignore-tlog', '--bundle', bundle, blob]),
        0,
        'vouch verify-blob',
      );
    });
  });

  describe('vouch signs, cosign verifies', () => {
    for (const registry of ['distribution', 'referrers'] as const) {
      it(`bundle referrer (default) and .sig tag (--new-bundle-format=false) on ${registry}: cosign 3.1 and 2.5 accept`, async () => {
        const img = await pushImage(ws, regs[registry]);
        const legacy = await pushImage(ws, regs[registry]);
        expectExit(
          await vouch(['sign', '--key', cos.key, '--allow-http-registry', '--yes', '-a', 'by=vouch', img.ref]),
          0,
          'vouch cosign sign',
        );
        expectExit(
          await vouch([
            'sign',
            '--key',
            cos.key,
            '--allow-http-registry',
            '--yes',
            '--new-bundle-format=false',
            '-a',
            'by=vouch',
            legacy.ref,
          ]),
          0,
          'vouch cosign sign (legacy)',
        );
        const c3 = (ref: string) => verify3('verify', ['--key', cos.pub, '--allow-http-registry', '-a', 'by=vouch', ref]);
        expectExit(await c3(img.ref), 0, 'cosign 3.1 verify (vouch bundle)');
        expectExit(await c3(legacy.ref), 0, 'cosign 3.1 verify (vouch .sig)');
        expectExit(
          await verify2('verify', ['--key', cos.pub, '--allow-http-registry', '-a', 'by=vouch', legacy.ref]),
          0,
          'cosign 2.5 verify (vouch .sig)',
        );
        // and vouch reads its own output
        expectExit(await vverify(img.ref, ['-a', 'by=vouch']), 0, 'vouch verify (bundle)');
        expectExit(await vverify(legacy.ref, ['-a', 'by=vouch']), 0, 'vouch verify (.sig)');
        expectRejected(await vouch(['verify', '--key', other, '--insecure-ignore-tlog', '--allow-http-registry', img.ref]), 'wrong key');
      });
    }

    it("P-384: vouch signs both forms from a PEM key; cosign verifies the .sig form; vouch verifies both and cosign 3.1's own P-384 bundle", async () => {
      const dir = join(ws.work, 'p384');
      await mkdir(dir);
      await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', 'key.pem'], dir);
      await openssl(['pkey', '-in', 'key.pem', '-pubout', '-out', 'key.pub'], dir);
      expectExit(
        await ws.peer('cosign', ['import-key-pair', '--key', 'key.pem', '--output-key-prefix', 'p384'], { env: cos.env, cwd: dir }),
        0,
        'import',
      );
      const img = await pushImage(ws, regs.distribution);
      const legacy = await pushImage(ws, regs.distribution);
      const byCosign = await pushImage(ws, regs.distribution);
      const pub = join(dir, 'key.pub');
      expectExit(await vouch(['sign', '--key', join(dir, 'key.pem'), '--allow-http-registry', '--yes', img.ref]), 0, 'vouch sign P-384');
      expectExit(
        await vouch(['sign', '--key', join(dir, 'p384.key'), '--allow-http-registry', '--yes', '--new-bundle-format=false', legacy.ref]),
        0,
        'vouch sign P-384 legacy',
      );
      expectExit(await cosign3(['sign', '--key', join(dir, 'p384.key'), ...offline3(), byCosign.ref]), 0, 'cosign 3.1 sign P-384');
      // the legacy form hashes with SHA-256 whatever the curve: both cosigns verify it
      expectExit(await verify3('verify', ['--key', pub, '--allow-http-registry', legacy.ref]), 0, 'cosign 3.1 verify legacy P-384');
      expectExit(await verify2('verify', ['--key', pub, '--allow-http-registry', legacy.ref]), 0, 'cosign 2.5 verify legacy P-384');
      // bundles use the curve's hash (SHA-384), as cosign 3.1 signs them; cosign 3.1 checks a --key
      // bundle with SHA-256 and so rejects even its own P-384 bundles (docs/compatibility.md)
      const own = await verify3('verify', ['--key', pub, '--allow-http-registry', byCosign.ref]);
      expect(own.code).not.toBe(0);
      for (const ref of [img.ref, legacy.ref, byCosign.ref]) {
        expectExit(
          await vouch(['verify', '--key', pub, '--insecure-ignore-tlog', '--allow-http-registry', ref]),
          0,
          `vouch verify P-384 ${ref}`,
        );
      }
    });

    it('OCI layout: a vouch-signed layout copied to the registry with oras verifies with cosign; a cosign 3.1 bundle copied into a layout verifies with vouch', async () => {
      // registry → layout
      const img = await pushImage(ws, regs.referrers);
      expectExit(await sign3(img.ref), 0, 'cosign 3.1 sign');
      const layout = join(ws.work, 'layout');
      expectExit(
        await ws.peer('oras', ['cp', '-r', '--from-plain-http', '--to-oci-layout', img.ref, `${layout}:v1`]),
        0,
        'oras cp -r to layout',
      );
      expectExit(
        await vouch(['verify', '--key', cos.pub, '--insecure-ignore-tlog', '--oci-layout', `${layout}@${img.digest}`]),
        0,
        'vouch verify --oci-layout',
      );
      expectRejected(
        await vouch(['verify', '--key', other, '--insecure-ignore-tlog', '--oci-layout', `${layout}@${img.digest}`]),
        'wrong key (layout)',
      );
      // layout → registry
      const src = await pushImage(ws, regs.referrers);
      const layout2 = join(ws.work, 'layout2');
      expectExit(await ws.peer('oras', ['cp', '--from-plain-http', '--to-oci-layout', src.ref, `${layout2}:v1`]), 0, 'oras cp to layout2');
      expectExit(
        await vouch(['sign', '--key', cos.key, '--yes', '--oci-layout', `${layout2}@${src.digest}`]),
        0,
        'vouch sign --oci-layout',
      );
      const dest = `${regs.referrers}/interop/layout-copy-${process.pid}:v1`;
      expectExit(
        await ws.peer('oras', ['cp', '-r', '--from-oci-layout', '--to-plain-http', `${layout2}:v1`, dest]),
        0,
        'oras cp -r from layout',
      );
      expectExit(
        await verify3('verify', ['--key', cos.pub, '--allow-http-registry', `${dest.replace(/:v1$/, '')}@${src.digest}`]),
        0,
        'cosign 3.1 verify (copied from a vouch-signed layout)',
      );
    });
  });
});
