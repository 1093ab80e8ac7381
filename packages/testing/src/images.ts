import { Annotation, type Descriptor, MediaType, utf8 } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { sign } from '@vouch/notation';
import { buildSignatureManifest, type WritableRepository } from '@vouch/registry';
import type { TestPki } from '@vouch/x509';

/** Push a minimal image (an OCI config and one layer, both from `salt`) tagged `tag`; resolves its manifest descriptor. */
export async function pushTestImage(repo: WritableRepository, tag: string, salt: string = tag): Promise<Descriptor> {
  const config = await repo.pushBlob(MediaType.OCI_CONFIG, utf8(JSON.stringify({ architecture: 'amd64', os: 'linux', salt })));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR_GZIP, utf8(`layer ${salt}`));
  const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config, layers: [layer] }));
  return repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag });
}

/**
 * Push a Notary signature of `subject` laid out as notation does (the empty config, the envelope
 * as the one layer, a thumbprint annotation), with `envelope` as the envelope's bytes — not a
 * real signature: for registry tests, which move signatures without verifying them.
 */
export async function pushTestSignature(
  repo: WritableRepository,
  subject: Descriptor,
  envelope: string,
): Promise<{ manifest: Descriptor; envelope: Descriptor }> {
  const env = await repo.pushBlob(MediaType.JWS, utf8(envelope));
  await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const built = buildSignatureManifest({ subject, envelopeDescriptor: env, annotations: { [Annotation.THUMBPRINT_S256]: '[]' } });
  return { manifest: await repo.pushManifest(MediaType.OCI_MANIFEST, built.bytes), envelope: env };
}

/** Sign `digest` in `repo` with the PKI's leaf: a real Notary signature (JWS or COSE), as `vouch sign` writes it. */
export async function signTestImage(repo: WritableRepository, digest: string, pki: TestPki, format: 'jws' | 'cose'): Promise<void> {
  await sign(digest, { repository: repo, signer: localRawSigner(pki.leaf.privateKey, pki.chain), envelope: format === 'jws' ? jws : cose });
}

/** Every descriptor of a paged listing (`Repository.referrers`), in order. */
export async function collectPages(pages: AsyncIterable<Descriptor[]>): Promise<Descriptor[]> {
  const out: Descriptor[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}
