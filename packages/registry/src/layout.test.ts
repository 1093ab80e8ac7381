import { Annotation, digestOf, MediaType, utf8 } from '@vouch/core';
import { fromUtf8 } from '@vouch/core/internal';
import { describe, expect, it } from 'vitest';
import { type LayoutFs, ociLayoutRepository, parseLayoutReference } from './layout.js';
import { buildSignatureManifest } from './manifest.js';
import { memoryRepository } from './memory.js';
import type { Repository, WritableRepository } from './types.js';

function memFs(initial: Record<string, string | Uint8Array> = {}): LayoutFs & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(initial)) files.set(k, typeof v === 'string' ? utf8(v) : v);
  return {
    files,
    async readFile(p, o) {
      const f = files.get(p);
      if (f && o?.maxBytes !== undefined && f.length > o.maxBytes) throw Object.assign(new Error('too big'), {});
      return f?.slice();
    },
    async writeFile(p, d) {
      files.set(p, d.slice());
    },
    async exists(p) {
      return files.has(p);
    },
  };
}

async function collect(it: AsyncIterable<unknown[]>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const page of it) out.push(...page);
  return out;
}

const image = utf8(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    config: { mediaType: MediaType.OCI_CONFIG, digest: digestOf(utf8('{"a":1}')), size: 7 },
    layers: [],
  }),
);
const imageDesc = { mediaType: MediaType.OCI_MANIFEST, digest: digestOf(image), size: image.length };

async function seed(repo: WritableRepository): Promise<void> {
  await repo.pushBlob(MediaType.OCI_CONFIG, utf8('{"a":1}'));
  await repo.pushManifest(MediaType.OCI_MANIFEST, image, { tag: 'v1' });
}

async function sign(repo: WritableRepository, envelope: string, form: 'current' | 'legacy' = 'current') {
  const env = await repo.pushBlob(MediaType.JWS, utf8(envelope));
  await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const built = buildSignatureManifest({
    subject: imageDesc,
    envelopeDescriptor: env,
    annotations: { [Annotation.THUMBPRINT_S256]: '[]' },
    form,
  });
  await repo.pushManifest(MediaType.OCI_MANIFEST, built.bytes);
  return built;
}

const kinds: [string, () => { repo: WritableRepository; tamper(digest: string): void }][] = [
  [
    'ociLayoutRepository',
    () => {
      const fs = memFs({ 'oci-layout': '{"imageLayoutVersion":"1.0.0"}' });
      return {
        repo: ociLayoutRepository(fs),
        tamper: (d) => fs.files.set(`blobs/sha256/${d.slice(7)}`, utf8('tampered')),
      };
    },
  ],
  [
    'memoryRepository',
    () => {
      const repo = memoryRepository();
      return { repo, tamper: (d) => repo.corrupt(d, utf8('tampered')) };
    },
  ],
];

describe.each(kinds)('%s', (_name, make) => {
  it('resolves a tag and a digest, fetches verified content', async () => {
    const { repo } = make();
    await seed(repo);
    expect(await repo.resolve('v1')).toEqual(imageDesc);
    expect(await repo.resolve(imageDesc.digest)).toEqual(imageDesc);
    const { bytes } = await repo.fetchManifest('v1');
    expect(fromUtf8(bytes)).toBe(fromUtf8(image));
    await expect(repo.resolve('nope')).toRejectWithCode('ERR_REGISTRY_NOT_FOUND');
    await expect(repo.resolve('sha256:zz')).toRejectWithCode('ERR_INVALID_DIGEST');
  });

  it('rejects tampered or truncated content and oversized descriptors', async () => {
    const { repo, tamper } = make();
    await seed(repo);
    const env = await repo.pushBlob(MediaType.JWS, utf8('envelope-bytes'));
    tamper(env.digest);
    await expect(repo.fetchBlob(env)).toRejectWithCode('ERR_DIGEST_MISMATCH');
    await expect(repo.fetchManifest({ ...imageDesc, size: imageDesc.size - 1 })).toRejectWithCode('ERR_DIGEST_MISMATCH');
    await expect(repo.fetchBlob({ ...env, size: 100 }, { maxBytes: 10 })).toRejectWithCode('ERR_SIZE_LIMIT_EXCEEDED');
    await expect(repo.fetchManifest({ ...imageDesc, size: 5 * 1024 * 1024 })).toRejectWithCode('ERR_SIZE_LIMIT_EXCEEDED');
  });

  it('lists referrers: both Notary forms, filtered by artifactType and subject', async () => {
    const { repo } = make();
    await seed(repo);
    const a = await sign(repo, 'env-a');
    const b = await sign(repo, 'env-b', 'legacy');
    // another artifact type, and a Notary artifactType with a non-empty config: both skipped for Notary
    const sbom = await repo.pushBlob('application/json', utf8('{}'));
    const other = utf8(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OCI_MANIFEST,
        artifactType: 'application/vnd.example.sbom',
        config: { mediaType: MediaType.OCI_EMPTY, digest: sbom.digest, size: 2 },
        layers: [sbom],
        subject: imageDesc,
      }),
    );
    await repo.pushManifest(MediaType.OCI_MANIFEST, other);
    const bad = utf8(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OCI_MANIFEST,
        artifactType: MediaType.NOTARY_SIGNATURE,
        config: { mediaType: MediaType.OCI_CONFIG, digest: sbom.digest, size: 2 },
        layers: [sbom],
        subject: imageDesc,
      }),
    );
    await repo.pushManifest(MediaType.OCI_MANIFEST, bad);
    const sigs = (await collect(repo.referrers(imageDesc, { artifactType: MediaType.NOTARY_SIGNATURE }))) as {
      digest: string;
      artifactType: string;
    }[];
    expect(sigs.map((s) => s.digest).sort()).toEqual([a.descriptor.digest, b.descriptor.digest].sort());
    expect(sigs.every((s) => s.artifactType === MediaType.NOTARY_SIGNATURE)).toBe(true);
    const all = await collect(repo.referrers(imageDesc));
    expect(all).toHaveLength(4);
    expect(await collect(repo.referrers({ ...imageDesc, digest: digestOf(utf8('x')) }))).toHaveLength(0);
  });

  it('honours an aborted signal', async () => {
    const { repo } = make();
    await seed(repo);
    const ac = new AbortController();
    ac.abort();
    await expect(repo.resolve('v1', { signal: ac.signal })).toRejectWithCode('ERR_ABORTED');
  });
});

describe('ociLayoutRepository specifics', () => {
  it('keeps existing index.json entries and moves a tag', async () => {
    const fs = memFs({ 'oci-layout': '{"imageLayoutVersion":"1.0.0"}' });
    const repo = ociLayoutRepository(fs);
    await seed(repo);
    const img2 = utf8(fromUtf8(image).replace('"layers":[]', '"layers":[],"annotations":{"n":"2"}'));
    const d2 = await repo.pushManifest(MediaType.OCI_MANIFEST, img2, { tag: 'v1' });
    await repo.pushManifest(MediaType.OCI_MANIFEST, img2, { tag: 'v2' });
    await repo.pushManifest(MediaType.OCI_MANIFEST, img2);
    expect((await repo.resolve('v1')).digest).toBe(d2.digest);
    expect(await repo.tags()).toEqual(['v1', 'v2']);
    const index = JSON.parse(fromUtf8(fs.files.get('index.json')!));
    // the old v1 manifest stays as an untagged entry
    expect(index.manifests.map((m: { digest: string }) => m.digest)).toContain(imageDesc.digest);
    expect(index.manifests).toHaveLength(3);
  });

  it('finds referrers of manifests nested in an index', async () => {
    const fs = memFs({ 'oci-layout': '{"imageLayoutVersion":"1.0.0"}' });
    const repo = ociLayoutRepository(fs);
    await repo.pushBlob(MediaType.OCI_CONFIG, utf8('{"a":1}'));
    // store the image only inside an index; the signature only inside another index
    await fs.writeFile(`blobs/sha256/${imageDesc.digest.slice(7)}`, image);
    const env = await repo.pushBlob(MediaType.JWS, utf8('env'));
    const sig = buildSignatureManifest({ subject: imageDesc, envelopeDescriptor: env, annotations: {} });
    await fs.writeFile(`blobs/sha256/${sig.descriptor.digest.slice(7)}`, sig.bytes);
    const inner = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [imageDesc, sig.descriptor] }));
    await repo.pushManifest(MediaType.OCI_INDEX, inner, { tag: 'multi' });
    const found = (await collect(repo.referrers(imageDesc))) as { digest: string }[];
    expect(found.map((f) => f.digest)).toEqual([sig.descriptor.digest]);
  });

  it('fails with ERR_IO when the directory is not an OCI layout', async () => {
    await expect(ociLayoutRepository(memFs()).resolve('v1')).toRejectWithCode('ERR_IO');
  });

  it('parses layout references like notation', () => {
    expect(parseLayoutReference('/tmp/a:b/layout:v1')).toEqual({ path: '/tmp/a:b/layout', reference: 'v1' });
    expect(parseLayoutReference(`C:\\x\\layout@${imageDesc.digest}`)).toEqual({ path: 'C:\\x\\layout', reference: imageDesc.digest });
    expect(() => parseLayoutReference('C:\\x\\layout')).toThrow();
    // a one-letter directory is a directory, not a Windows drive
    expect(parseLayoutReference('L:v1')).toEqual({ path: 'L', reference: 'v1' });
    expect(parseLayoutReference(`L@${imageDesc.digest}`)).toEqual({ path: 'L', reference: imageDesc.digest });
    expect(parseLayoutReference('C:\\x\\layout:v1')).toEqual({ path: 'C:\\x\\layout', reference: 'v1' });
    expect(() => parseLayoutReference('layout')).toThrow();
  });
});

// keep the type-only import used
export type _R = Repository;

/** memFs with `version` (bumped on every write, also by `touch`) and read counts per path. */
function versionedFs(): LayoutFs & { files: Map<string, Uint8Array>; reads: Map<string, number>; touch(p: string): void } {
  const base = memFs({ 'oci-layout': '{"imageLayoutVersion":"1.0.0"}' });
  const versions = new Map<string, number>();
  const reads = new Map<string, number>();
  const touch = (p: string) => versions.set(p, (versions.get(p) ?? 0) + 1);
  return {
    files: base.files,
    reads,
    touch,
    async readFile(p, o) {
      reads.set(p, (reads.get(p) ?? 0) + 1);
      return base.readFile(p, o);
    },
    async writeFile(p, d) {
      touch(p);
      return base.writeFile(p, d);
    },
    exists: base.exists,
    version: (p) => (base.files.has(p) ? String(versions.get(p) ?? 0) : undefined),
  };
}

describe('ociLayoutRepository caches', () => {
  it('re-reads index.json only when its version changes', async () => {
    const fs = versionedFs();
    const repo = ociLayoutRepository(fs);
    await seed(repo);
    const before = fs.reads.get('index.json') ?? 0;
    await repo.resolve('v1');
    await repo.resolve('v1');
    await collect(repo.referrers(imageDesc));
    expect(fs.reads.get('index.json')).toBe(before + 1);
    // changed behind the repository's back: seen as soon as the version moves
    const index = JSON.parse(fromUtf8(fs.files.get('index.json')!));
    index.manifests[0].annotations[Annotation.REF_NAME] = 'v9';
    fs.files.set('index.json', utf8(JSON.stringify(index)));
    expect((await repo.resolve('v1')).digest).toBe(imageDesc.digest);
    fs.touch('index.json');
    await expect(repo.resolve('v1')).toRejectWithCode('ERR_REGISTRY_NOT_FOUND');
    expect(await repo.resolve('v9')).toEqual(imageDesc);
  });

  it('reads index.json on every call when the LayoutFs has no version', async () => {
    const fs = memFs({ 'oci-layout': '{"imageLayoutVersion":"1.0.0"}' });
    const repo = ociLayoutRepository(fs);
    await seed(repo);
    const index = JSON.parse(fromUtf8(fs.files.get('index.json')!));
    index.manifests[0].annotations[Annotation.REF_NAME] = 'v9';
    fs.files.set('index.json', utf8(JSON.stringify(index)));
    expect(await repo.resolve('v9')).toEqual(imageDesc);
  });

  it('recomputes referrers when index.json changes and hands out copies', async () => {
    const fs = versionedFs();
    const repo = ociLayoutRepository(fs);
    await seed(repo);
    const a = await sign(repo, 'env-a');
    const first = (await collect(repo.referrers(imageDesc))) as { digest: string; annotations?: Record<string, string> }[];
    expect(first.map((d) => d.digest)).toEqual([a.descriptor.digest]);
    first[0]!.digest = 'sha256:changed';
    first[0]!.annotations![Annotation.THUMBPRINT_S256] = 'changed';
    const again = (await collect(repo.referrers(imageDesc))) as { digest: string; annotations?: Record<string, string> }[];
    expect(again[0]!.digest).toBe(a.descriptor.digest);
    expect(again[0]!.annotations![Annotation.THUMBPRINT_S256]).toBe('[]');
    const b = await sign(repo, 'env-b');
    const after = (await collect(repo.referrers(imageDesc))) as { digest: string }[];
    expect(after.map((d) => d.digest).sort()).toEqual([a.descriptor.digest, b.descriptor.digest].sort());
  });

  it('keeps verified content by digest and hands out copies; contentCacheBytes: 0 reads every time', async () => {
    for (const contentCacheBytes of [undefined, 0]) {
      const fs = versionedFs();
      const repo = ociLayoutRepository(fs, contentCacheBytes === undefined ? {} : { contentCacheBytes });
      const d = await repo.pushBlob(MediaType.JWS, utf8('envelope-bytes'));
      const got = await repo.fetchBlob(d);
      got[0] = 0;
      fs.files.set(`blobs/sha256/${d.digest.slice(7)}`, utf8('tampered'));
      if (contentCacheBytes === 0) {
        await expect(repo.fetchBlob(d)).toRejectWithCode('ERR_DIGEST_MISMATCH');
      } else {
        // the verified bytes of that digest, not the caller's modified copy nor the file's new content
        expect(fromUtf8(await repo.fetchBlob(d))).toBe('envelope-bytes');
        expect(fs.reads.get(`blobs/sha256/${d.digest.slice(7)}`)).toBe(1);
        // limits and declared sizes still apply to cached content
        await expect(repo.fetchBlob(d, { maxBytes: 4 })).toRejectWithCode('ERR_SIZE_LIMIT_EXCEEDED');
        await expect(repo.fetchBlob({ ...d, size: d.size + 1 })).toRejectWithCode('ERR_DIGEST_MISMATCH');
      }
    }
  });
});
