/**
 * vouch next to the other OCI tools: `oras attach`/`discover` beside `vouch list`, cosign 2.5
 * (`.sig` tags) and cosign 3.1 (Sigstore bundle referrers) signatures beside Notary ones, crane's
 * digests, the registry's scheme (plain HTTP for `localhost` only, as notation), and the demo's
 * files (docs/getting-started.md) used by notation itself.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectExit,
  type Image,
  PEER_VERSIONS,
  peersAvailable,
  peerVersion,
  pushImage,
  type Registries,
  signingWorkspace,
  startRegistries,
  type Workspace,
} from './harness.js';

const ready = peersAvailable(['notation', 'crane', 'oras', 'cosign', 'cosign2'], 'interop with oras, cosign and crane');
const SIG = 'application/vnd.cncf.notary.signature';

describe.skipIf(!ready)('vouch beside notation, oras, cosign and crane', () => {
  let regs: Registries;
  let ws: Workspace;

  beforeAll(async () => {
    regs = await startRegistries();
    ws = await signingWorkspace('tools', 'tools.example', { by: 'vouch' });
  });
  afterAll(async () => {
    await regs?.stop();
    await ws?.dispose();
  });

  it('the peers are the versions .ci/peers pins (notation 1.3.2, cosign 3.1.1 and 2.5.0, oras 1.3.3, crane 0.20.7)', async () => {
    for (const tool of Object.keys(PEER_VERSIONS) as (keyof typeof PEER_VERSIONS)[]) {
      const version = await peerVersion(tool);
      // notation and oras report their version; Debian's cosign and crane builds report none, and
      // their package changelog is known only in VOUCH_PEERS_DIR
      if (version !== undefined || tool === 'notation' || tool === 'oras')
        expect(`${tool} ${version}`).toBe(`${tool} ${PEER_VERSIONS[tool]}`);
    }
  });

  const signBoth = async (img: Image) => {
    expectExit(await ws.notation(['sign', '--insecure-registry', img.ref]), 0, 'notation sign');
    expectExit(await ws.vouch(['sign', '--insecure-registry', '--signature-format', 'cose', img.ref]), 0, 'vouch sign');
  };
  const listBoth = async (ref: string) => {
    const [n, v] = [await ws.notation(['list', '--insecure-registry', ref]), await ws.vouch(['list', '--insecure-registry', ref])];
    expectExit(n, 0, 'notation list');
    expect(v.stdout).toBe(n.stdout);
    return n.stdout;
  };

  for (const registry of ['distribution', 'referrers'] as const) {
    it(`oras attach and discover beside vouch list (${registry === 'distribution' ? 'tag schema' : 'Referrers API'})`, async () => {
      const img = await pushImage(ws, regs[registry]);
      await signBoth(img);
      const sbom = await ws.file(`sbom-${registry}.json`, '{"spdxVersion":"SPDX-2.3"}\n');
      const attach = await ws.peer('oras', [
        'attach',
        '--plain-http',
        '--artifact-type',
        'application/spdx+json',
        img.ref,
        `${sbom.split('/').pop()}`,
      ]);
      expectExit(attach, 0, 'oras attach');
      const discover = JSON.parse(
        expectExit(await ws.peer('oras', ['discover', '--plain-http', '--format', 'json', img.ref]), 0, 'oras discover').stdout,
      ) as {
        referrers: { digest: string; artifactType: string }[];
      };
      const mine = JSON.parse(
        expectExit(await ws.vouch(['list', '--insecure-registry', '-o', 'json', img.ref]), 0, 'vouch list -o json').stdout,
      ) as {
        signatures: { digest: string }[];
      };
      const notary = discover.referrers.filter((r) => r.artifactType === SIG).map((r) => r.digest);
      expect(notary.sort()).toEqual(mine.signatures.map((s) => s.digest).sort());
      expect(notary).toHaveLength(2);
      expect(discover.referrers.some((r) => r.artifactType === 'application/spdx+json')).toBe(true);
      const text = await listBoth(img.ref);
      expect(text).not.toContain('spdx');
      // the attachment does not disturb verification
      for (const tool of ['notation', 'vouch'] as const) {
        expectExit(
          await (tool === 'vouch' ? ws.vouch.bind(ws) : ws.notation.bind(ws))(['verify', '--insecure-registry', img.ref]),
          0,
          `${tool} verify`,
        );
      }
    });
  }

  it('crane digest: the digest vouch signs and lists for a tag, and for the image index of crane index append', async () => {
    const a = await pushImage(ws, regs.distribution, { tag: 'a' });
    const b = await pushImage(ws, regs.distribution, { repo: a.repo.split('/').slice(1).join('/'), tag: 'b', format: 'docker' });
    const craneDigest = async (ref: string) =>
      expectExit(await ws.peer('crane', ['digest', '--insecure', ref]), 0, 'crane digest').stdout.trim();
    const s = expectExit(await ws.vouch(['sign', '--insecure-registry', `${a.repo}:a`]), 0, 'vouch sign by tag');
    expect(s.stdout).toContain(`Successfully signed ${a.repo}@${await craneDigest(`${a.repo}:a`)}`);
    expectExit(
      await ws.peer('crane', ['index', 'append', '--insecure', '-m', a.ref, '-m', b.ref, '-t', `${a.repo}:index`]),
      0,
      'crane index append',
    );
    const indexDigest = await craneDigest(`${a.repo}:index`);
    const ls = JSON.parse(
      expectExit(await ws.vouch(['list', '--insecure-registry', '-o', 'json', `${a.repo}:index`]), 0, 'vouch list').stdout,
    ) as {
      artifact: { digest: string; mediaType: string };
    };
    expect(ls.artifact.digest).toBe(indexDigest);
    expect(ls.artifact.mediaType).toBe('application/vnd.oci.image.index.v1+json');
  });

  it('cosign 2.5 (.sig tag) and cosign 3.1 (bundle referrer) signatures beside Notary ones: list, verify and cosign verify all agree', async () => {
    const img = await pushImage(ws, regs.distribution);
    const cosignDir = await mkdtemp(join(ws.work, 'cosign-'));
    const env = { COSIGN_PASSWORD: '' };
    expectExit(await ws.peer('cosign2', ['generate-key-pair'], { env, cwd: cosignDir }), 0, 'cosign generate-key-pair');
    // no Sigstore services: no transparency log, a signing config without services and an empty
    // trusted root, so cosign never looks anything up beyond 127.0.0.1
    const signingConfig = join(cosignDir, 'signing-config.json');
    const trustedRoot = join(cosignDir, 'trusted-root.json');
    await writeFile(
      signingConfig,
      '{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","rekorTlogConfig":{},"tsaConfig":{}}',
    );
    await writeFile(trustedRoot, '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}');
    const key = join(cosignDir, 'cosign.key');
    expectExit(
      await ws.peer('cosign2', ['sign', '--key', key, '--tlog-upload=false', '--allow-http-registry', '--yes', img.ref], { env }),
      0,
      'cosign 2.5 sign',
    );
    expectExit(
      await ws.peer(
        'cosign',
        ['sign', '--key', key, '--signing-config', signingConfig, '--trusted-root', trustedRoot, '--allow-http-registry', '--yes', img.ref],
        { env },
      ),
      0,
      'cosign 3.1 sign',
    );
    expect(await listBoth(img.ref)).toBe(`${img.ref} has no associated signature\n`);
    await signBoth(img);
    const text = await listBoth(img.ref);
    expect(text.split('\n').filter((l) => /[├└]── sha256:/.test(l))).toHaveLength(2);
    expectExit(await ws.vouch(['verify', '--insecure-registry', img.ref]), 0, 'vouch verify');
    const pub = join(cosignDir, 'cosign.pub');
    expectExit(
      await ws.peer('cosign', [
        'verify',
        '--key',
        pub,
        '--trusted-root',
        trustedRoot,
        '--insecure-ignore-tlog',
        '--allow-http-registry',
        img.ref,
      ]),
      0,
      'cosign 3.1 verify',
    );
  });

  it('without --insecure-registry: localhost is plain HTTP for both tools', async () => {
    const img = await pushImage(ws, regs.distribution);
    expectExit(await ws.notation(['sign', '--insecure-registry', img.ref]), 0, 'notation sign');
    const local = img.ref.replace('127.0.0.1', 'localhost');
    const [n, v] = [await ws.notation(['verify', local]), await ws.vouch(['verify', local])];
    expectExit(n, 0, 'notation verify localhost');
    expectExit(v, 0, 'vouch verify localhost');
    expect(v.stdout).toBe(n.stdout);
  });

  it('without --insecure-registry: 127.0.0.1 is HTTPS for both tools (the plain-HTTP registry fails)', async () => {
    const img = await pushImage(ws, regs.distribution);
    expectExit(await ws.notation(['sign', '--insecure-registry', img.ref]), 0, 'notation sign');
    const [n, v] = [await ws.notation(['verify', img.ref]), await ws.vouch(['verify', img.ref])];
    expectExit(n, 1, 'notation verify 127.0.0.1');
    expectExit(v, 1, 'vouch verify 127.0.0.1');
  });

  describe("docs/getting-started.md: the demo's files work with notation itself", () => {
    let demo: string;
    let report: { images: Record<'signed' | 'unsigned' | 'tampered', { digest: string }> };

    beforeAll(async () => {
      demo = join(await mkdtemp(join(ws.work, 'demo-')), 'demo');
      const r = expectExit(await ws.vouch(['demo', '--dir', demo, '--output', 'json']), 0, 'vouch demo --dir');
      report = JSON.parse(r.stdout) as typeof report;
    });

    const withDemoConfig = { env: { NOTATION_CONFIG: '', NOTATION_EXPERIMENTAL: '1' } };
    const verifyArgs = (repo: string, digest: string) => [
      'verify',
      '--oci-layout',
      `${join(demo, 'layout', 'demo', repo)}@${digest}`,
      '--scope',
      `registry.example.com/demo/${repo}`,
    ];

    it('notation lists the signatures vouch wrote into the layout and verifies them with the demo config dir', async () => {
      const env = { ...withDemoConfig.env, NOTATION_CONFIG: join(demo, 'notation') };
      const signed = report.images.signed.digest;
      const ls = expectExit(
        await ws.notation(['list', '--oci-layout', `${join(demo, 'layout', 'demo', 'app')}@${signed}`], { env }),
        0,
        'notation list',
      );
      expect(ls.stdout.split('\n').filter((l) => /[├└]── sha256:/.test(l))).toHaveLength(2);
      const [n, v] = [await ws.notation(verifyArgs('app', signed), { env }), await ws.vouch(verifyArgs('app', signed), { env })];
      expectExit(n, 0, 'notation verify (demo)');
      expectExit(v, 0, 'vouch verify (demo)');
      expect(v.stdout).toBe(n.stdout);
      for (const [repo, digest] of [
        ['unsigned', report.images.unsigned.digest],
        ['tampered', report.images.tampered.digest],
      ] as const) {
        const [nf, vf] = [await ws.notation(verifyArgs(repo, digest), { env }), await ws.vouch(verifyArgs(repo, digest), { env })];
        expectExit(nf, 1, `notation verify ${repo}`);
        expectExit(vf, 1, `vouch verify ${repo}`);
        expect(vf.error).toBe(nf.error);
      }
    });

    it('the trust policy is where notation 1.3.2 reads it', async () => {
      const env = { NOTATION_CONFIG: join(demo, 'notation') };
      const show = expectExit(await ws.notation(['policy', 'show'], { env }), 0, 'notation policy show');
      expect(show.stdout).toBe(await readFile(join(demo, 'notation', 'trustpolicy.json'), 'utf8'));
    });
  });
});
