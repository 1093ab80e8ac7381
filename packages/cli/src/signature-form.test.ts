/**
 * What `vouch sign` writes, as notation 1.3.2 writes it (issue 11, defects 3 and 6; the interop
 * suite checks the same against the real notation):
 * - the signature manifest is an image manifest whose config media type is
 *   `application/vnd.cncf.notary.signature` (no artifactType), in registries and OCI layouts
 *   (notation-go's layout reader lists only this form), and the layout's index.json entry carries
 *   the manifest's annotations;
 * - `--force-referrers-tag` defaults to true: on a registry with the Referrers API the tag-schema
 *   index is written too; `--force-referrers-tag=false` uses the API alone.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaType, utf8 } from '@vouch/core';
import { nodeOciLayout } from '@vouch/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningFakeRegistry, startFakeRegistry } from '../../node/src/registry/testing/fake-registry.js';
import { runCli } from './index.js';

let root: string;
let cfg: string;
let fake: RunningFakeRegistry;

async function vouch(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['--config-dir', cfg, ...args], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), NOTATION_EXPERIMENTAL: '1' },
    cwd: root,
  });
  return { code, out, err };
}

async function pushImage(repo: ReturnType<typeof nodeOciLayout>, salt: string): Promise<string> {
  const config = await repo.pushBlob(MediaType.OCI_CONFIG, utf8('{}'));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(salt));
  const manifest = { schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config, layers: [layer] };
  return (await repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(manifest)), { tag: 'v1' })).digest;
}

/** Push a small image to the fake registry over HTTP; returns its digest. */
async function pushRemote(repo: string, salt: string): Promise<string> {
  const blob = async (bytes: Uint8Array) => {
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const start = await fetch(`${fake.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    await fetch(`${fake.url}${start.headers.get('location')}?digest=${digest}`, { method: 'PUT', body: Buffer.from(bytes) });
    return { digest, size: bytes.length };
  };
  const config = { mediaType: MediaType.OCI_CONFIG, ...(await blob(utf8('{}'))) };
  const layer = { mediaType: MediaType.OCI_LAYER_TAR, ...(await blob(utf8(salt))) };
  const res = await fetch(`${fake.url}/v2/${repo}/manifests/v1`, {
    method: 'PUT',
    headers: { 'content-type': MediaType.OCI_MANIFEST },
    body: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config, layers: [layer] }),
  });
  return res.headers.get('docker-content-digest')!;
}

const tagOf = (digest: string) => digest.replace(':', '-');

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-sigform-'));
  cfg = join(root, 'config');
  fake = await startFakeRegistry({ referrersApi: true });
  expect((await vouch(['cert', 'generate-test', '--default', 'form.example'])).code).toBe(0);
});
afterAll(async () => {
  await fake?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('the signature manifest vouch writes (notation 1.3.2 form)', () => {
  it('in an OCI layout: config media type = signature, no artifactType; the index.json entry carries its annotations', async () => {
    const dir = join(root, 'layout');
    const digest = await pushImage(nodeOciLayout(dir), 'layout');
    const s = await vouch(['sign', '--oci-layout', `${dir}@${digest}`]);
    expect(s.code).toBe(0);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Record<string, unknown>[] };
    const entry = index.manifests.find((m) => m.digest !== digest)!;
    expect(Object.keys(entry)).toEqual(['mediaType', 'digest', 'size', 'annotations']);
    const manifest = JSON.parse(await readFile(join(dir, 'blobs', ...(entry.digest as string).split(':')), 'utf8'));
    expect(Object.keys(manifest)).toEqual(['schemaVersion', 'mediaType', 'config', 'layers', 'subject', 'annotations']);
    expect(manifest.artifactType).toBeUndefined();
    expect(manifest.config).toEqual({ mediaType: MediaType.NOTARY_SIGNATURE, digest: expect.any(String), size: 2 });
    expect(entry.annotations).toEqual(manifest.annotations);
    expect(Object.keys(entry.annotations as object)).toEqual([
      'io.cncf.notary.x509chain.thumbprint#S256',
      'org.opencontainers.image.created',
    ]);
    // and vouch reads it back
    const ls = await vouch(['list', '--oci-layout', `${dir}@${digest}`]);
    expect(ls.out).toContain(`└── ${entry.digest}`);
  });

  it('on a registry with the Referrers API: the tag-schema index is written by default (--force-referrers-tag defaults to true)', async () => {
    const digest = await pushRemote('app', 'default');
    const s = await vouch(['sign', '--insecure-registry', `${fake.host}/app@${digest}`]);
    expect(s.code).toBe(0);
    const tags = (await (await fetch(`${fake.url}/v2/app/tags/list`)).json()) as { tags: string[] };
    expect(tags.tags).toContain(tagOf(digest));
    const index = (await (await fetch(`${fake.url}/v2/app/manifests/${tagOf(digest)}`)).json()) as { manifests: Record<string, unknown>[] };
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]!.artifactType).toBe(MediaType.NOTARY_SIGNATURE);
    const manifest = (await (await fetch(`${fake.url}/v2/app/manifests/${index.manifests[0]!.digest}`)).json()) as Record<string, unknown>;
    expect(manifest.artifactType).toBeUndefined();
    expect((manifest.config as { mediaType: string }).mediaType).toBe(MediaType.NOTARY_SIGNATURE);
  });

  it('--force-referrers-tag=false: the Referrers API alone; --force-referrers-tag=true and the bare flag as the default', async () => {
    const off = await pushRemote('off', 'off');
    expect((await vouch(['sign', '--insecure-registry', '--force-referrers-tag=false', `${fake.host}/off@${off}`])).code).toBe(0);
    const offTags = (await (await fetch(`${fake.url}/v2/off/tags/list`)).json()) as { tags: string[] };
    expect(offTags.tags).not.toContain(tagOf(off));
    const referrers = (await (await fetch(`${fake.url}/v2/off/referrers/${off}`)).json()) as { manifests: unknown[] };
    expect(referrers.manifests).toHaveLength(1);
    for (const flag of ['--force-referrers-tag=true', '--force-referrers-tag']) {
      const repo = flag.endsWith('true') ? 'on' : 'bare';
      const d = await pushRemote(repo, repo);
      expect((await vouch(['sign', '--insecure-registry', flag, `${fake.host}/${repo}@${d}`])).code).toBe(0);
      const tags = (await (await fetch(`${fake.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] };
      expect(tags.tags).toContain(tagOf(d));
    }
  });

  it('sign --help shows the default', async () => {
    const h = await vouch(['sign', '--help']);
    expect(h.out).toMatch(/--force-referrers-tag\s[^-]*\(default: true\)/);
    expect(h.out).not.toContain('--no-force-referrers-tag');
  });
});
