/**
 * Signatures made by one tool, verified by the other (notation 1.3.2 and vouch, both directions):
 * JWS and COSE; a registry without the Referrers API (docker-registry: referrers tag schema)
 * and one with it (the in-repo fake), with and without `--force-referrers-tag`; user metadata;
 * expiry; RFC 3161 timestamps (openssl TSA); tag references and digests; OCI image layouts;
 * image indexes (`crane index append`). Both tools share one notation config dir.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { Descriptor } from '@vouch/core';
import { buildSignatureManifest } from '@vouch/registry';
import { type OpensslPki, type PkiHttpServer, requireOpenssl, startPkiServer } from '@vouch/testing/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIRECTIONS,
  expectExit,
  type Image,
  manifestOf,
  peersAvailable,
  pushImage,
  type Registries,
  referrersTagOf,
  runTool,
  signingWorkspace,
  startRegistries,
  type Tool,
  tagsOf,
  unorderedTable,
  type Workspace,
} from './harness.js';

const ready = peersAvailable(['notation', 'crane', 'oras'], 'interop signatures') && (await requireOpenssl('interop timestamp tests'));
const EXPERIMENTAL = { NOTATION_EXPERIMENTAL: '1' };
const SIG = 'application/vnd.cncf.notary.signature';

describe.skipIf(!ready)('signatures across notation 1.3.2 and vouch', () => {
  let regs: Registries;
  let ws: Workspace;

  beforeAll(async () => {
    regs = await startRegistries();
    ws = await signingWorkspace('sig', 'interop.example');
  });
  afterAll(async () => {
    await regs?.stop();
    await ws?.dispose();
  });

  const sign = (tool: Tool, args: string[]) => runTool(ws, tool, ['sign', '--insecure-registry', ...args]);
  const verify = (tool: Tool, args: string[]) => runTool(ws, tool, ['verify', '--insecure-registry', ...args]);

  /** Verify with both tools: both must give `code`, and print the same stdout and the same first error line. */
  async function verifyBoth(args: string[], code: number): Promise<void> {
    const [n, v] = [await verify('notation', args), await verify('vouch', args)];
    expectExit(n, code, `notation verify ${args.join(' ')}`);
    expectExit(v, code, `vouch verify ${args.join(' ')}`);
    expect(unorderedTable(v.stdout)).toBe(unorderedTable(n.stdout));
    expect(v.error).toBe(n.error);
  }

  for (const registry of ['distribution', 'referrers'] as const) {
    for (const format of ['jws', 'cose'] as const) {
      for (const { signer, verifier } of DIRECTIONS) {
        it(`${signer} signs (${format.toUpperCase()}, ${registry === 'distribution' ? 'tag schema registry' : 'Referrers API registry'}), ${verifier} verifies`, async () => {
          const img = await pushImage(ws, regs[registry]);
          const s = expectExit(await sign(signer, ['--signature-format', format, img.ref]), 0, `${signer} sign`);
          // docs/compatibility.md I8: vouch adds notation 2's "Pushed the signature to" line
          expect(s.stdout).toMatch(
            signer === 'vouch'
              ? new RegExp(`^Successfully signed ${img.ref}\nPushed the signature to ${img.repo}@sha256:[0-9a-f]{64}\n$`)
              : new RegExp(`^Successfully signed ${img.ref}\n$`),
          );
          const v = expectExit(await verify(verifier, [img.ref]), 0, `${verifier} verify`);
          expect(v.stdout).toBe(`Successfully verified signature for ${img.ref}\n`);
          await verifyBoth([img.ref], 0);
        });
      }
    }
  }

  /** A signature manifest with what changes from one signature to the next (envelope digest and size, creation time) blanked. */
  function shape(m: Record<string, unknown>): Record<string, unknown> {
    const copy = JSON.parse(JSON.stringify(m)) as Record<string, unknown> & {
      layers: { digest: string; size: number }[];
      annotations?: Record<string, string>;
    };
    for (const l of copy.layers) {
      l.digest = '<envelope>';
      l.size = 0;
    }
    if (copy.annotations?.['org.opencontainers.image.created']) copy.annotations['org.opencontainers.image.created'] = '<created>';
    return copy;
  }

  async function signatureManifests(img: Image, viaTag: boolean): Promise<Record<string, unknown>[]> {
    const digests: string[] = [];
    if (viaTag) {
      const index = (await manifestOf(ws, `${img.repo}:${referrersTagOf(img.digest)}`)) as { manifests: { digest: string }[] };
      digests.push(...index.manifests.map((d) => d.digest));
    } else {
      const res = await fetch(`http://${regs.referrers}/v2/${img.repo.slice(regs.referrers.length + 1)}/referrers/${img.digest}`);
      const index = (await res.json()) as { manifests: { digest: string }[] };
      digests.push(...index.manifests.map((d) => d.digest));
    }
    return Promise.all(digests.map((d) => manifestOf(ws, `${img.repo}@${d}`)));
  }

  // notation 1.3.2's --force-referrers-tag defaults to true: the tag-schema index is written even
  // where the registry has the Referrers API, and the manifest is an image manifest whose config
  // media type is the signature type (no artifactType). vouch writes the same.
  it('default --force-referrers-tag: both tools write the referrers tag index on a registry with the Referrers API, with the same manifest form', async () => {
    const imgs = { notation: await pushImage(ws, regs.referrers), vouch: await pushImage(ws, regs.referrers) };
    for (const tool of ['notation', 'vouch'] as const) {
      expectExit(await sign(tool, [imgs[tool].ref]), 0, `${tool} sign`);
      expect(await tagsOf(ws, imgs[tool].repo)).toContain(referrersTagOf(imgs[tool].digest));
    }
    const [n] = await signatureManifests(imgs.notation, true);
    const [v] = await signatureManifests(imgs.vouch, true);
    expect(n!.artifactType).toBeUndefined();
    expect((n!.config as { mediaType: string }).mediaType).toBe(SIG);
    const subjectless = (m: Record<string, unknown>) => ({ ...shape(m), subject: '<subject>' });
    expect(subjectless(v!)).toEqual(subjectless(n!));
    // the tag index entries have the same shape too
    const entry = async (img: Image) => {
      const index = (await manifestOf(ws, `${img.repo}:${referrersTagOf(img.digest)}`)) as { manifests: Record<string, unknown>[] };
      const e = { ...index.manifests[0]! };
      e.digest = '<manifest>';
      e.annotations = { ...(e.annotations as Record<string, string>), 'org.opencontainers.image.created': '<created>' };
      return e;
    };
    expect(await entry(imgs.vouch)).toEqual(await entry(imgs.notation));
  });

  // docs/compatibility.md: "the manifest is byte-identical to notation 1.3.2's for the same envelope, subject and annotations"
  it("vouch's signature manifest is byte-identical to notation's for the same envelope, subject and annotations", async () => {
    const img = await pushImage(ws, regs.distribution, { format: 'docker' });
    expectExit(await sign('notation', ['--signature-format', 'cose', img.ref]), 0, 'notation sign');
    const [digest] = (
      (await manifestOf(ws, `${img.repo}:${referrersTagOf(img.digest)}`)) as { manifests: { digest: string }[] }
    ).manifests.map((d) => d.digest);
    const repo = img.repo.slice(regs.distribution.length + 1);
    const res = await fetch(`http://${regs.distribution}/v2/${repo}/manifests/${digest}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const theirs = JSON.parse(new TextDecoder().decode(bytes)) as {
      subject: Descriptor;
      layers: Descriptor[];
      annotations: Record<string, string>;
    };
    const built = buildSignatureManifest({
      subject: theirs.subject,
      envelopeDescriptor: theirs.layers[0]!,
      annotations: theirs.annotations,
      form: 'legacy',
    });
    expect(new TextDecoder().decode(built.bytes)).toBe(new TextDecoder().decode(bytes));
    expect(built.descriptor.digest).toBe(digest);
  });

  for (const { signer, verifier } of DIRECTIONS) {
    it(`--force-referrers-tag=false on a Referrers API registry: ${signer} pushes through the API only, ${verifier} finds it`, async () => {
      const img = await pushImage(ws, regs.referrers);
      expectExit(await sign(signer, ['--force-referrers-tag=false', img.ref]), 0, `${signer} sign`);
      expect(await tagsOf(ws, img.repo)).not.toContain(referrersTagOf(img.digest));
      const listed = await signatureManifests(img, false);
      expect(listed).toHaveLength(1);
      expectExit(await verify(verifier, [img.ref]), 0, `${verifier} verify`);
      await verifyBoth([img.ref], 0);
    });

    it(`--force-referrers-tag=false on a registry without the API: ${signer} falls back to the tag schema, ${verifier} verifies`, async () => {
      const img = await pushImage(ws, regs.distribution);
      expectExit(await sign(signer, ['--force-referrers-tag=false', img.ref]), 0, `${signer} sign`);
      expect(await tagsOf(ws, img.repo)).toContain(referrersTagOf(img.digest));
      expectExit(await verify(verifier, [img.ref]), 0, `${verifier} verify`);
    });

    it(`user metadata: ${signer} signs with -m, ${verifier} verifies a match and rejects a mismatch`, async () => {
      const img = await pushImage(ws, regs.distribution);
      expectExit(await sign(signer, ['-m', 'team=payments', '-m', 'build=42', img.ref]), 0, `${signer} sign`);
      const ok = expectExit(await verify(verifier, ['-m', 'team=payments', img.ref]), 0, `${verifier} verify -m match`);
      expect(ok.stdout).toContain('The artifact was signed with the following user metadata.');
      // docs/compatibility.md I9: vouch's table is sorted by key (notation's order is random)
      const table = (await verify('vouch', [img.ref])).stdout.split('\n').filter((l) => /^(team|build) /.test(l));
      expect(table.map((l) => l.split(' ')[0])).toEqual(['build', 'team']);
      await verifyBoth(['-m', 'team=payments', img.ref], 0);
      await verifyBoth(['-m', 'build=42', '-m', 'team=payments', img.ref], 0);
      const bad = expectExit(await verify(verifier, ['-m', 'team=billing', img.ref]), 1, `${verifier} verify -m mismatch`);
      expect(bad.error).toBe(`Error: signature verification failed for all the signatures associated with ${img.ref}`);
      await verifyBoth(['-m', 'team=billing', img.ref], 1);
      await verifyBoth(['-m', 'owner=nobody', img.ref], 1);
    });

    it(`expiry: ${signer} signs with --expiry, ${verifier} verifies before and rejects after`, async () => {
      const img = await pushImage(ws, regs.distribution);
      // long enough for the first verify on a loaded machine; then wait out the expiry from when sign returned
      expectExit(await sign(signer, ['--expiry', '6s', img.ref]), 0, `${signer} sign`);
      const signed = Date.now();
      expectExit(await verify(verifier, [img.ref]), 0, `${verifier} verify before expiry`);
      await new Promise((r) => setTimeout(r, Math.max(0, signed + 7000 - Date.now())));
      const late = expectExit(await verify(verifier, [img.ref]), 1, `${verifier} verify after expiry`);
      expect(late.error).toBe(`Error: signature verification failed for all the signatures associated with ${img.ref}`);
      await verifyBoth([img.ref], 1);
    });

    it(`tag reference: ${signer} signs by tag, ${verifier} verifies by tag and by digest (the digest crane reports)`, async () => {
      const img = await pushImage(ws, regs.distribution, { tag: 'release' });
      const craneDigest = expectExit(await ws.peer('crane', ['digest', '--insecure', img.tagRef]), 0, 'crane digest').stdout.trim();
      expect(craneDigest).toBe(img.digest);
      const s = expectExit(await sign(signer, [img.tagRef]), 0, `${signer} sign by tag`);
      expect(s.stderr).toContain(
        'Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:release) because tags are mutable and a tag reference can point to a different artifact than the one signed.',
      );
      expect(s.stdout).toContain(`Successfully signed ${img.ref}`);
      const v = expectExit(await verify(verifier, [img.tagRef]), 0, `${verifier} verify by tag`);
      expect(v.stderr).toContain(
        'Warning: Always verify the artifact using digest(@sha256:...) rather than a tag(:release) because resolved digest may not point to the same signed artifact, as tags are mutable.',
      );
      expect(v.stdout).toBe(`Successfully verified signature for ${img.ref}\n`);
      await verifyBoth([img.tagRef], 0);
      await verifyBoth([img.ref], 0);
    });

    it(`OCI image layout: ${signer} signs in a layout (by digest and by tag), ${verifier} lists and verifies it`, async () => {
      const img = await pushImage(ws, regs.distribution);
      const layout = join(await mkdtemp(join(ws.work, 'layout-')), 'app');
      expectExit(await ws.peer('oras', ['cp', '--from-plain-http', img.tagRef, '--to-oci-layout', `${layout}:v1`]), 0, 'oras cp');
      const env = EXPERIMENTAL;
      expectExit(await runTool(ws, signer, ['sign', '--oci-layout', `${layout}@${img.digest}`], { env }), 0, `${signer} sign --oci-layout`);
      expectExit(await runTool(ws, signer, ['sign', '--oci-layout', `${layout}:v1`], { env }), 0, `${signer} sign --oci-layout :tag`);
      const list = expectExit(
        await runTool(ws, verifier, ['list', '--oci-layout', `${layout}@${img.digest}`], { env }),
        0,
        `${verifier} list`,
      );
      expect(list.stdout.split('\n').filter((l) => /^\s+[├└]── sha256:[0-9a-f]{64}$/.test(l))).toHaveLength(2);
      const scope = ['--scope', 'interop.example/app'];
      const v = expectExit(
        await runTool(ws, verifier, ['verify', '--oci-layout', ...scope, `${layout}@${img.digest}`], { env }),
        0,
        `${verifier} verify --oci-layout`,
      );
      expect(v.stdout).toBe(`Successfully verified signature for ${layout}@${img.digest}\n`);
      const both = async (ref: string) => {
        const [n, w] = [
          await ws.notation(['verify', '--oci-layout', ...scope, ref], { env }),
          await ws.vouch(['verify', '--oci-layout', ...scope, ref], { env }),
        ];
        expectExit(n, 0, `notation verify ${ref}`);
        expectExit(w, 0, `vouch verify ${ref}`);
        expect(w.stdout).toBe(n.stdout);
      };
      await both(`${layout}@${img.digest}`);
      await both(`${layout}:v1`);
      // docs/compatibility.md I11: inspect --oci-layout is notation 2's addition, not in 1.3.2
      const inspect = ['inspect', '--oci-layout', `${layout}@${img.digest}`];
      expect((await ws.notation(inspect, { env })).error).toBe('Error: unknown flag: --oci-layout');
      expect(expectExit(await ws.vouch(inspect, { env }), 0, 'vouch inspect --oci-layout').stdout).toContain(
        '└── application/vnd.cncf.notary.signature',
      );
    });

    it(`multi-arch: an image index made by crane index append, signed by ${signer}, verified by ${verifier}`, async () => {
      const amd = await pushImage(ws, regs.distribution, { tag: 'amd64' });
      const arm = await pushImage(ws, regs.distribution, { repo: amd.repo.split('/').slice(1).join('/'), tag: 'arm64' });
      const indexTag = `${amd.repo}:multi`;
      expectExit(
        await ws.peer('crane', ['index', 'append', '--insecure', '-m', amd.ref, '-m', arm.ref, '-t', indexTag]),
        0,
        'crane index append',
      );
      const indexDigest = expectExit(await ws.peer('crane', ['digest', '--insecure', indexTag]), 0, 'crane digest').stdout.trim();
      const index = await manifestOf(ws, indexTag);
      expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      const ref = `${amd.repo}@${indexDigest}`;
      expectExit(await sign(signer, [ref]), 0, `${signer} sign index`);
      expectExit(await verify(verifier, [ref]), 0, `${verifier} verify index`);
      await verifyBoth([ref], 0);
      // the index's signature does not sign its platform manifests
      await verifyBoth([amd.ref], 1);
      const [sig] = (await manifestOf(ws, `${amd.repo}:${referrersTagOf(indexDigest)}`)).manifests as { digest: string }[];
      const sm = await manifestOf(ws, `${amd.repo}@${sig!.digest}`);
      expect(sm.subject).toEqual({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: indexDigest, size: expect.any(Number) });
    });
  }

  describe('RFC 3161 timestamps (openssl ts on 127.0.0.1)', () => {
    let pki: PkiHttpServer;
    let tsa: OpensslPki;
    let tsws: Workspace;

    beforeAll(async () => {
      pki = await startPkiServer();
      tsa = await pki.addPki('tsa', 'rsa2048');
      // the signing certificate must be valid at the timestamp's lower bound (genTime − accuracy):
      // vouch generates it with a clock a minute back; notation signs with it too
      tsws = await signingWorkspace('tsa', 'stamped.example', {
        by: 'vouch',
        now: earlier,
        stores: ['tsa:tsa'],
        verifyTimestamp: 'always',
      });
      expectExit(await tsws.notation(['cert', 'add', '--type', 'tsa', '--store', 'tsa', join(tsa.dir, 'root.crt')]), 0, 'cert add tsa');
    }, 120_000);
    afterAll(async () => {
      await pki?.stop();
      await tsws?.dispose();
    });
    const earlier = () => new Date(Date.now() - 60_000);
    const stamping = () => [
      'sign',
      '--insecure-registry',
      '--timestamp-url',
      `${pki.url}/tsa/tsa`,
      '--timestamp-root-cert',
      join(tsa.dir, 'root.crt'),
    ];

    for (const { signer, verifier } of DIRECTIONS) {
      it(`${signer} signs with --timestamp-url, ${verifier} verifies the countersignature`, async () => {
        const img = await pushImage(tsws, regs.distribution);
        expectExit(await runTool(tsws, signer, [...stamping(), img.ref]), 0, `${signer} sign --timestamp-url`);
        expectExit(await runTool(tsws, verifier, ['verify', '--insecure-registry', img.ref]), 0, `${verifier} verify`);
        const [n, v] = [
          await tsws.notation(['inspect', '--insecure-registry', '-o', 'json', img.ref]),
          await tsws.vouch(['inspect', '--insecure-registry', '-o', 'json', img.ref]),
        ];
        const doc = JSON.parse(expectExit(n, 0, 'notation inspect').stdout) as {
          Signatures: { unsignedAttributes: Record<string, unknown> }[];
        };
        expect(doc.Signatures[0]!.unsignedAttributes.timestampSignature).toBeDefined();
        expect(JSON.parse(expectExit(v, 0, 'vouch inspect').stdout)).toEqual(doc);
      });
    }

    it('a timestamp the policy requires but no tsa store trusts: both tools reject', async () => {
      const img = await pushImage(tsws, regs.distribution);
      const other = await pki.addPki('other', 'p256');
      const noTsa = await signingWorkspace('tsa-untrusted', 'stamped.example', {
        by: 'vouch',
        now: earlier,
        stores: ['tsa:tsa'],
        verifyTimestamp: 'always',
      });
      try {
        expectExit(await noTsa.notation(['cert', 'add', '--type', 'tsa', '--store', 'tsa', join(other.dir, 'root.crt')]), 0, 'cert add');
        expectExit(await noTsa.notation([...stamping(), img.ref]), 0, 'notation sign');
        const [n, v] = [
          await noTsa.notation(['verify', '--insecure-registry', img.ref]),
          await noTsa.vouch(['verify', '--insecure-registry', img.ref]),
        ];
        expectExit(n, 1, 'notation verify');
        expectExit(v, 1, 'vouch verify');
        expect(v.error).toBe(n.error);
      } finally {
        await noTsa.dispose();
      }
    });
  });
});
