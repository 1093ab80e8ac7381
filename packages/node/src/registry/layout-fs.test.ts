import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaType, utf8 } from '@vouch/core';
import { createRegistryClient, remoteRepository } from '@vouch/registry';
import { collectPages, pushTestImage, pushTestSignature } from '@vouch/testing';
import { requireTool, skopeoCopy, startRegistry } from '@vouch/testing/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeLayoutFs, nodeOciLayout } from './layout-fs.js';
import { undiciFetch } from './undici-fetch.js';

const hasSkopeo =
  requireTool('docker-registry', 'the skopeo interop test needs CNCF distribution') &&
  requireTool('skopeo', 'the skopeo interop test needs skopeo');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-layoutfs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('nodeLayoutFs', () => {
  it('writes atomically (no temp files left), creates parents, reads back', async () => {
    const fs = nodeLayoutFs(dir);
    await fs.writeFile('blobs/sha256/abc', utf8('one'));
    await fs.writeFile('blobs/sha256/abc', utf8('two'));
    expect(new TextDecoder().decode(await fs.readFile('blobs/sha256/abc'))).toBe('two');
    expect(await readdir(join(dir, 'blobs/sha256'))).toEqual(['abc']);
    expect(await fs.exists('blobs/sha256/abc')).toBe(true);
    expect(await fs.exists('blobs/sha256/nope')).toBe(false);
    expect(await fs.readFile('nope')).toBeUndefined();
  });

  it('gives a version that changes when a file is replaced or rewritten in place', async () => {
    const fs = nodeLayoutFs(dir);
    expect(await fs.version!('versioned.json')).toBeUndefined();
    await fs.writeFile('versioned.json', utf8('{"a":1}'));
    const v1 = await fs.version!('versioned.json');
    expect(v1).toEqual(expect.any(String));
    expect(await fs.version!('versioned.json')).toBe(v1);
    await fs.writeFile('versioned.json', utf8('{"a":2}'));
    const v2 = await fs.version!('versioned.json');
    expect(v2).not.toBe(v1);
    await writeFile(join(dir, 'versioned.json'), '{"a":3,"b":4}');
    expect(await fs.version!('versioned.json')).not.toBe(v2);
    expect(() => fs.version!('../etc/passwd')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('refuses paths outside the layout and files over the cap', async () => {
    const fs = nodeLayoutFs(dir);
    await expect(fs.readFile('../etc/passwd')).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(fs.writeFile('/abs', utf8('x'))).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await writeFile(join(dir, 'big'), new Uint8Array(100));
    await expect(fs.readFile('big', { maxBytes: 10 })).toRejectWithCode('ERR_SIZE_LIMIT_EXCEEDED');
  });

  it('creates a layout on first push and reopens it', async () => {
    const sub = join(dir, 'new-layout');
    const repo = nodeOciLayout(sub);
    const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] }));
    const d = await repo.pushManifest(MediaType.OCI_INDEX, manifest, { tag: 'empty' });
    expect(JSON.parse(await readFile(join(sub, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(await nodeOciLayout(sub).resolve('empty')).toEqual(d);
  });
});

describe.skipIf(!hasSkopeo)('nodeOciLayout with skopeo', () => {
  it('writes a layout skopeo copies to a registry, where vouch reads the image and signs it', async () => {
    const reg = await startRegistry();
    const http = undiciFetch();
    try {
      const layoutDir = join(dir, 'skopeo-layout');
      const image = await pushTestImage(nodeOciLayout(layoutDir), 'v1', 'skopeo');
      await skopeoCopy(`oci:${layoutDir}:v1`, `docker://${reg.host}/seeded/app:v1`);
      const repo = remoteRepository(createRegistryClient({ fetch: http }), `${reg.host}/seeded/app`);
      expect(await repo.resolve('v1')).toEqual(image);
      const { manifest } = await pushTestSignature(repo, image, 'skopeo-seeded');
      const sigs = await collectPages(repo.referrers(image, { artifactType: MediaType.NOTARY_SIGNATURE }));
      expect(sigs.map((d) => d.digest)).toEqual([manifest.digest]);
    } finally {
      await http.close();
      await reg.stop();
    }
  });
});
