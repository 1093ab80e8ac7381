/**
 * Conformance handlers for kind `oci-layout`: the notation-go OCI layout fixture is copied to a
 * temporary directory (the shared data is read-only), then resolved, signed into and listed
 * through @vouch/registry's public API over @vouch/node's layout file system.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Annotation, MediaType } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';
import { nodeOciLayout } from '@vouch/node';
import { buildSignatureManifest, parseSignatureManifest } from '@vouch/registry';
import { thumbprintAnnotation } from '@vouch/registry/internal';
import type { CaseOutcome, Handlers, VectorCase } from './types.js';

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}

function same(a: Desc, b: Desc): boolean {
  return a.mediaType === b.mediaType && a.digest === b.digest && a.size === b.size;
}

function show(d: Desc): string {
  return `${d.mediaType} ${d.digest} ${d.size}`;
}

async function resolveAndPush(c: VectorCase, ctx: Parameters<Handlers[string]>[1]): Promise<CaseOutcome> {
  const layoutFile = c.files.find((f) => f.endsWith('/oci-layout'));
  const sigFile = c.files.find((f) => f.endsWith('.sig'));
  if (!layoutFile || !sigFile) return { status: 'failed', reason: 'case lists no oci-layout or .sig file' };
  const expect = c.expect as unknown as {
    resolvedDescriptor: Desc;
    signatureBlobDescriptor: Desc;
    signatureManifestDescriptor: Desc;
    signatureManifestBytes: string;
  };
  const tmp = await mkdtemp(join(tmpdir(), 'vouch-conf-layout-'));
  try {
    const dir = join(tmp, 'layout');
    await cp(dirname(ctx.path(layoutFile)), dir, { recursive: true });
    const repo = nodeOciLayout(dir);
    const resolved = await repo.resolve('v2');
    if (!same(resolved, expect.resolvedDescriptor)) {
      return { status: 'failed', reason: `resolved ${show(resolved)}, expected ${show(expect.resolvedDescriptor)}` };
    }
    const envelope = await ctx.readFile(sigFile);
    const envDesc = await repo.pushBlob(MediaType.JWS, envelope);
    if (!same(envDesc, expect.signatureBlobDescriptor)) {
      return { status: 'failed', reason: `envelope blob ${show(envDesc)}, expected ${show(expect.signatureBlobDescriptor)}` };
    }
    const jws = JSON.parse(fromUtf8(envelope)) as { header?: { x5c?: string[] } };
    const certs = (jws.header?.x5c ?? []).map((b) => fromBase64(b));
    const built = buildSignatureManifest({
      subject: resolved,
      envelopeDescriptor: envDesc,
      annotations: { [Annotation.THUMBPRINT_S256]: thumbprintAnnotation(certs), [Annotation.CREATED]: '2023-03-14T08:10:02Z' },
    });
    await repo.pushBlob(MediaType.OCI_EMPTY, new TextEncoder().encode('{}'));
    const sigDesc = await repo.pushManifest(MediaType.OCI_MANIFEST, built.bytes);
    if (!same(sigDesc, expect.signatureManifestDescriptor)) {
      return { status: 'failed', reason: `signature manifest ${show(sigDesc)}, expected ${show(expect.signatureManifestDescriptor)}` };
    }
    if (fromUtf8(built.bytes) !== expect.signatureManifestBytes) return { status: 'failed', reason: 'signature manifest bytes differ' };
    const listed: Desc[] = [];
    for await (const page of repo.referrers(resolved, { artifactType: MediaType.NOTARY_SIGNATURE })) listed.push(...page);
    if (listed.length !== 1 || listed[0]!.digest !== sigDesc.digest) {
      return { status: 'failed', reason: `referrers listed ${listed.map(show).join(', ') || 'nothing'}` };
    }
    const { bytes } = await repo.fetchManifest(listed[0]!);
    const parsed = parseSignatureManifest(bytes, listed[0]!.mediaType);
    const fetched = await repo.fetchBlob(parsed.envelope);
    if (fromUtf8(fetched) !== fromUtf8(envelope)) return { status: 'failed', reason: 'fetched envelope differs from the pushed one' };
    // a second instance over the same directory sees the same signature (index.json was written)
    const again = nodeOciLayout(dir);
    let count = 0;
    for await (const page of again.referrers(resolved, { artifactType: MediaType.NOTARY_SIGNATURE })) count += page.length;
    if (count !== 1) return { status: 'failed', reason: `reopened layout lists ${count} signatures` };
    return { status: 'passed' };
  } catch (e) {
    return { status: 'failed', reason: `threw ${(e as { code?: string }).code ?? ''} ${(e as Error).message}` };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export const handlers: Handlers = {
  'oci-layout': async (c, ctx) => {
    if (
      c.id === 'notation-go/oci-layout/resolve-and-push-signature' ||
      (c.files.some((f) => f.endsWith('.sig')) && c.expect.resolvedDescriptor)
    ) {
      return resolveAndPush(c, ctx);
    }
    return { status: 'skipped', reason: `oci-layout case ${c.id} has an operation this handler does not know` };
  },
};
