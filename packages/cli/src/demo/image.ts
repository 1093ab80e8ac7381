/**
 * The demo's images: a tiny tar layer and an image config per platform, pushed as an OCI
 * image index into any {@link WritableRepository} (an OCI layout on disk or a registry).
 */
import { type Descriptor, digestOf, MediaType, utf8 } from '@vouch/core';
import type { WritableRepository } from '@vouch/registry';
import { buildIndex } from '@vouch/registry/internal';

/** One platform of a demo image. */
export interface DemoPlatform {
  os: string;
  architecture: string;
}

/** What {@link pushDemoImage} pushed. */
export interface DemoImage {
  /** The image index (what the tag points to and what gets signed). */
  index: Descriptor;
  /** One manifest per platform, in the order given. */
  manifests: { platform: DemoPlatform; descriptor: Descriptor; layer: Descriptor }[];
}

const BLOCK = 512;

function writeField(header: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = utf8(value);
  header.set(bytes.subarray(0, length), offset);
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/**
 * A POSIX ustar archive holding `files` (regular files, mode 0644, owner 0:0, fixed mtime), so
 * the same input always gives the same bytes and digest.
 */
export function tarArchive(files: readonly { name: string; content: Uint8Array }[], mtime = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of files) {
    const header = new Uint8Array(BLOCK);
    writeField(header, 0, 100, f.name);
    writeField(header, 100, 8, octal(0o644, 8));
    writeField(header, 108, 8, octal(0, 8));
    writeField(header, 116, 8, octal(0, 8));
    writeField(header, 124, 12, octal(f.content.length, 12));
    writeField(header, 136, 12, octal(mtime, 12));
    writeField(header, 148, 8, '        ');
    writeField(header, 156, 1, '0');
    writeField(header, 257, 6, 'ustar\0');
    writeField(header, 263, 2, '00');
    let sum = 0;
    for (const b of header) sum += b;
    writeField(header, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    parts.push(header, f.content);
    const pad = (BLOCK - (f.content.length % BLOCK)) % BLOCK;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Push a small image index to `repository` under `tag`: per platform a one-file tar layer
 * (`/hello.txt` saying `message`), an OCI image config and a manifest. `runId` goes into the
 * configs' labels, so every demo run produces new digests.
 */
export async function pushDemoImage(
  repository: WritableRepository,
  options: { tag: string; message: string; runId: string; platforms: readonly DemoPlatform[]; signal?: AbortSignal },
): Promise<DemoImage> {
  const req = options.signal ? { signal: options.signal } : undefined;
  const manifests: DemoImage['manifests'] = [];
  for (const platform of options.platforms) {
    const tar = tarArchive([{ name: 'hello.txt', content: utf8(`${options.message} (${platform.os}/${platform.architecture})\n`) }]);
    const layer = await repository.pushBlob(MediaType.OCI_LAYER_TAR, tar, req);
    const config = {
      architecture: platform.architecture,
      os: platform.os,
      config: { Cmd: ['/bin/cat', '/hello.txt'], Labels: { 'dev.vouch.demo.run': options.runId } },
      rootfs: { type: 'layers', diff_ids: [digestOf(tar)] },
    };
    const configDesc = await repository.pushBlob(MediaType.OCI_CONFIG, utf8(JSON.stringify(config)), req);
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      config: { mediaType: configDesc.mediaType, digest: configDesc.digest, size: configDesc.size },
      layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    };
    const descriptor = await repository.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(manifest)), req);
    manifests.push({ platform, descriptor: plain(descriptor), layer: plain(layer) });
  }
  const indexBytes = buildIndex(
    manifests.map((m) => ({ ...m.descriptor, platform: { architecture: m.platform.architecture, os: m.platform.os } })),
  );
  const index = await repository.pushManifest(MediaType.OCI_INDEX, indexBytes, { tag: options.tag, ...(req ?? {}) });
  return { index: plain(index), manifests };
}

function plain(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}
