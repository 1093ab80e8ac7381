import { readFileSync } from 'node:fs';
import { type Descriptor, MediaType, utf8 } from '@vouch/core';
import { fromUtf8 } from '@vouch/core/internal';
import { EMPTY_CONFIG_BYTES, type MemoryRepository, memoryRepository } from '@vouch/registry';
import { EMPTY_CONFIG } from '@vouch/registry/internal';
import { beforeEach, describe, expect, it } from 'vitest';
import { CosignAnnotation, CosignMediaType, cosignTag, findCosignSignatures, loadSigner, parseSimpleSigning, signImage } from './index.js';

const fixture = (name: string) => readFileSync(new URL(`./test/fixtures/${name}`, import.meta.url), 'utf8');

async function pushImage(repo: MemoryRepository, content: string): Promise<Descriptor> {
  const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(content));
  const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
  return repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: 'v1' });
}

async function pushReferrer(
  repo: MemoryRepository,
  subject: Descriptor,
  opts: {
    artifactType?: string;
    configMediaType?: string;
    layerType: string;
    layer: Uint8Array;
    annotations?: Record<string, string>;
    layerAnnotations?: Record<string, string>;
  },
): Promise<Descriptor> {
  const config =
    opts.configMediaType === undefined
      ? await repo.pushBlob(EMPTY_CONFIG.mediaType, EMPTY_CONFIG_BYTES)
      : await repo.pushBlob(opts.configMediaType, utf8('{}'));
  const layer = await repo.pushBlob(opts.layerType, opts.layer);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    ...(opts.artifactType ? { artifactType: opts.artifactType } : {}),
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: [{ ...layer, ...(opts.layerAnnotations ? { annotations: opts.layerAnnotations } : {}) }],
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  };
  return repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(manifest)));
}

describe('finding cosign signatures in a repository', () => {
  let repo: MemoryRepository;
  let image: Descriptor;
  beforeEach(async () => {
    repo = memoryRepository();
    image = await pushImage(repo, 'app');
  });

  it('nothing attached: an empty list', async () => {
    expect(await findCosignSignatures({ repository: repo, subject: image, kind: 'signature' })).toEqual([]);
    expect(await findCosignSignatures({ repository: repo, subject: image, kind: 'attestation' })).toEqual([]);
  });

  it('the .sig tag: one entry per simple-signing layer, with its signature and annotations; appending keeps earlier ones', async () => {
    const signer = await loadSigner(fixture('p384-pkcs8.pem'));
    await signImage({ repository: repo, subject: image, dockerReference: 'r.example/app', signer, format: 'legacy' });
    await signImage({
      repository: repo,
      subject: image,
      dockerReference: 'r.example/app',
      signer,
      format: 'legacy',
      annotations: { env: 'prod' },
    });
    expect(repo.tags.get(cosignTag(image.digest, 'sig'))).toBeDefined();
    const found = await findCosignSignatures({ repository: repo, subject: image, kind: 'signature' });
    expect(found).toHaveLength(2);
    for (const f of found) {
      expect(f.form).toBe('sig-tag');
      expect(f.kind).toBe('signature');
      expect(f.error).toBeUndefined();
      expect(f.signature?.length).toBeGreaterThan(60);
      expect(parseSimpleSigning(f.payload!).dockerManifestDigest).toBe(image.digest);
      expect(f.annotations[CosignAnnotation.SIGNATURE]).toBeDefined();
    }
    expect(parseSimpleSigning(found[1]!.payload!).optional).toEqual({ env: 'prod' });
    // the .sig tag holds no attestations
    expect(await findCosignSignatures({ repository: repo, subject: image, kind: 'attestation' })).toEqual([]);
  });

  it('bundle referrers are split by their predicate type annotation; other referrers (notation) are ignored', async () => {
    const bundle = utf8('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
    await pushReferrer(repo, image, {
      artifactType: CosignMediaType.BUNDLE_V03,
      layerType: CosignMediaType.BUNDLE_V03,
      layer: bundle,
      annotations: { [CosignAnnotation.BUNDLE_PREDICATE_TYPE]: 'https://sigstore.dev/cosign/sign/v1' },
    });
    await pushReferrer(repo, image, {
      artifactType: CosignMediaType.BUNDLE_V03,
      layerType: CosignMediaType.BUNDLE_V03,
      layer: utf8('{"x":1}'),
      annotations: { [CosignAnnotation.BUNDLE_PREDICATE_TYPE]: 'https://slsa.dev/provenance/v1' },
    });
    await pushReferrer(repo, image, { artifactType: MediaType.NOTARY_SIGNATURE, layerType: 'application/jose+json', layer: utf8('{}') });
    const sigs = await findCosignSignatures({ repository: repo, subject: image, kind: 'signature' });
    expect(sigs.map((s) => [s.form, s.kind])).toEqual([['bundle-referrer', 'signature']]);
    expect(fromUtf8(sigs[0]!.bundle!)).toBe(fromUtf8(bundle));
    const atts = await findCosignSignatures({ repository: repo, subject: image, kind: 'attestation' });
    expect(atts.map((s) => [s.form, s.kind])).toEqual([['bundle-referrer', 'attestation']]);
    // forms can be narrowed
    expect(await findCosignSignatures({ repository: repo, subject: image, kind: 'signature', forms: ['sig-tag'] })).toEqual([]);
  });

  it('a bundle referrer without the predicate annotation is returned undecided', async () => {
    await pushReferrer(repo, image, { artifactType: CosignMediaType.BUNDLE_V03, layerType: CosignMediaType.BUNDLE_V03, layer: utf8('{}') });
    const sigs = await findCosignSignatures({ repository: repo, subject: image, kind: 'signature' });
    expect(sigs).toHaveLength(1);
    expect(sigs[0]!.kind).toBeUndefined();
  });

  it("cosign 2's experimental OCI 1.1 signature referrer (config type artifact.sig) is read like a .sig layer", async () => {
    const payload = utf8(
      `{"critical":{"identity":{"docker-reference":"r/app"},"image":{"docker-manifest-digest":"${image.digest}"},"type":"cosign container image signature"},"optional":null}`,
    );
    await pushReferrer(repo, image, {
      configMediaType: CosignMediaType.OCI11_SIGNATURE,
      layerType: CosignMediaType.SIMPLE_SIGNING,
      layer: payload,
      layerAnnotations: { [CosignAnnotation.SIGNATURE]: 'MEUCIQ==' },
    });
    const sigs = await findCosignSignatures({ repository: repo, subject: image, kind: 'signature' });
    expect(sigs.map((s) => s.form)).toEqual(['oci11-referrer']);
    expect(sigs[0]!.signature).toEqual(new Uint8Array([0x30, 0x45, 0x02, 0x21]));
  });

  it('an unreadable signature layer is reported with its error, not dropped', async () => {
    const signer = await loadSigner(fixture('p384-pkcs8.pem'));
    const signed = await signImage({ repository: repo, subject: image, dockerReference: 'r/app', signer, format: 'legacy' });
    repo.corrupt(signed.layer.digest, utf8('tampered'));
    const found = await findCosignSignatures({ repository: repo, subject: image, kind: 'signature' });
    expect(found).toHaveLength(1);
    expect(found[0]!.error?.code).toBe('ERR_SIGNATURE_RETRIEVAL_FAILED');
  });

  it('more signatures than the limit fail closed', async () => {
    const signer = await loadSigner(fixture('p384-pkcs8.pem'));
    for (const env of ['a', 'b', 'c']) {
      await signImage({ repository: repo, subject: image, dockerReference: 'r/app', signer, format: 'legacy', annotations: { env } });
    }
    await expect(findCosignSignatures({ repository: repo, subject: image, kind: 'signature', maxSignatures: 2 })).rejects.toMatchObject({
      code: 'ERR_SIGNATURE_LIMIT_EXCEEDED',
    });
  });

  it('COSIGN_REPOSITORY: signatures are read from the signature repository', async () => {
    const sigRepo = memoryRepository();
    const signer = await loadSigner(fixture('p384-pkcs8.pem'));
    await signImage({ repository: sigRepo, subject: image, dockerReference: 'r/app', signer, format: 'legacy' });
    expect(await findCosignSignatures({ repository: repo, subject: image, kind: 'signature' })).toEqual([]);
    expect(await findCosignSignatures({ repository: repo, signatureRepository: sigRepo, subject: image, kind: 'signature' })).toHaveLength(
      1,
    );
  });
});
