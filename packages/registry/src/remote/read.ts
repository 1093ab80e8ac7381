/**
 * The read path of a remote repository: resolving tags and digests (HEAD, else GET), fetching
 * manifests and blobs verified against digest and size, served from the client's content cache
 * and shared between identical concurrent callers; and reading a referrers tag-schema index.
 */
import { type Descriptor, isDigest, isVouchError, parseDigest, VouchError } from '@vouch/core';
import { digestAsync, readLimited, splitArtifactReference } from '@vouch/core/internal';
import { checkDeclaredSize, throwIfAborted, verifyContent } from '../content.js';
import { inferManifestMediaType, isManifestMediaType, MANIFEST_ACCEPT, parseJsonObject, summarizeManifest } from '../manifest.js';
import type { FetchOptions, RequestOptions } from '../types.js';
import { httpError } from './client.js';
import { cached, contentType, discardBody, type RepoContext, referenceName, remember, shared } from './context.js';

/** A reference within the repository: a tag, a digest, or a full reference naming this repository. */
export function referenceOf(ctx: RepoContext, reference: string): { tag?: string; digest?: string } {
  const { registry, repository } = ctx;
  const named = splitArtifactReference(reference, { normalize: ctx.normalize });
  if (named.reference && (named.reference.registry !== registry || named.reference.repository !== repository)) {
    throw new VouchError('ERR_INVALID_REFERENCE', `reference "${reference}" is not in ${registry}/${repository}`);
  }
  return named.digest ? { digest: named.digest } : { tag: named.target };
}

/**
 * GET a manifest by tag or digest, capped at `limit` bytes and verified against `expected.digest`
 * (else the `Docker-Content-Digest` header, else the computed digest) and `expected.size`.
 */
export async function getManifest(
  ctx: RepoContext,
  reference: string,
  expected: { digest?: string; size?: number },
  limit: number,
  signal: AbortSignal | undefined,
): Promise<{ descriptor: Descriptor; bytes: Uint8Array }> {
  const { registry, repository } = ctx;
  return ctx.client.request(
    {
      registry,
      method: 'GET',
      path: `${ctx.v2}/manifests/${reference}`,
      headers: { Accept: MANIFEST_ACCEPT },
      scopes: ctx.pull,
      signal,
    },
    async (res) => {
      if (res.status !== 200) throw await httpError(res, `fetching manifest ${registry}/${repository}@${reference}`);
      const bytes = await readLimited(res, limit, `manifest ${reference}`);
      const headerDigest = res.headers.get('docker-content-digest') ?? undefined;
      const digest = expected.digest ?? (headerDigest && isDigest(headerDigest) ? headerDigest : await digestAsync(bytes));
      await verifyContent(bytes, digest, expected.size, `manifest ${reference}`);
      const mediaType = contentType(res);
      const descriptor: Descriptor = {
        mediaType: mediaType && isManifestMediaType(mediaType) ? mediaType : inferManifestMediaType(bytes),
        digest,
        size: bytes.length,
      };
      return { descriptor, bytes };
    },
  );
}

/** Resolve a tag or digest to its manifest descriptor (HEAD; GET when the HEAD lacks digest, length or type). */
export async function resolve(ctx: RepoContext, reference: string, opts: RequestOptions = {}): Promise<Descriptor> {
  throwIfAborted(opts.signal);
  const r = referenceOf(ctx, reference);
  if (r.digest) {
    const c = cached(ctx, r.digest);
    if (c) return { mediaType: c.mediaType, digest: r.digest, size: c.size };
  }
  const target = r.digest ?? r.tag!;
  return shared(ctx, `resolve ${target}`, opts.signal, async () => {
    const head = await ctx.client.request(
      {
        registry: ctx.registry,
        method: 'HEAD',
        path: `${ctx.v2}/manifests/${target}`,
        headers: { Accept: MANIFEST_ACCEPT },
        scopes: ctx.pull,
      },
      async (res) => {
        if (res.status !== 200) throw await httpError(res, `resolving ${referenceName(ctx, target)}`);
        await discardBody(res);
        const digest = res.headers.get('docker-content-digest');
        const length = Number(res.headers.get('content-length'));
        const mediaType = contentType(res);
        if (!digest || !isDigest(digest) || !Number.isSafeInteger(length) || length <= 0 || !mediaType || !isManifestMediaType(mediaType)) {
          return undefined;
        }
        return { mediaType, digest, size: length } as Descriptor;
      },
    );
    // a HEAD without digest, length or type: GET and compute
    const descriptor =
      head ?? (await getManifest(ctx, target, r.digest ? { digest: r.digest } : {}, ctx.maxManifestBytes, undefined)).descriptor;
    if (r.digest && descriptor.digest !== r.digest) {
      throw new VouchError('ERR_DIGEST_MISMATCH', `user input digest ${r.digest} does not match the resolved digest ${descriptor.digest}`, {
        details: { expected: r.digest, actual: descriptor.digest },
      });
    }
    if (r.digest) remember(ctx, descriptor.digest, descriptor.mediaType, descriptor.size);
    return descriptor;
  });
}

/** Fetch a manifest by descriptor, digest or tag (by tag: always from the registry, never cached). */
export async function fetchManifest(
  ctx: RepoContext,
  target: Descriptor | string,
  opts: FetchOptions = {},
): Promise<{ descriptor: Descriptor; bytes: Uint8Array }> {
  throwIfAborted(opts.signal);
  const limit = opts.maxBytes ?? ctx.maxManifestBytes;
  let descriptor: Descriptor;
  if (typeof target === 'string') {
    const r = referenceOf(ctx, target);
    if (r.tag !== undefined) return getManifest(ctx, r.tag, {}, limit, opts.signal);
    descriptor = await resolve(ctx, r.digest!, opts);
  } else {
    descriptor = target;
  }
  checkDeclaredSize(descriptor, limit, 'manifest');
  const c = cached(ctx, descriptor.digest);
  if (c?.bytes && c.size === descriptor.size) return { descriptor, bytes: c.bytes.slice() };
  const got = await shared(ctx, `manifest ${descriptor.digest}`, opts.signal, async () => {
    const r = await getManifest(ctx, descriptor.digest, { digest: descriptor.digest, size: descriptor.size }, limit, undefined);
    remember(ctx, descriptor.digest, r.descriptor.mediaType, r.bytes.length, r.bytes);
    return r;
  });
  return { descriptor, bytes: got.bytes.slice() };
}

/** Fetch a blob, verified against the descriptor's digest and size. */
export async function fetchBlob(ctx: RepoContext, descriptor: Descriptor, opts: FetchOptions = {}): Promise<Uint8Array> {
  throwIfAborted(opts.signal);
  const limit = opts.maxBytes ?? ctx.maxBlobBytes;
  checkDeclaredSize(descriptor, limit, 'blob');
  parseDigest(descriptor.digest);
  const c = cached(ctx, descriptor.digest);
  if (c?.bytes && c.size === descriptor.size) return c.bytes.slice();
  const bytes = await shared(ctx, `blob ${descriptor.digest}`, opts.signal, () =>
    ctx.client.request(
      { registry: ctx.registry, method: 'GET', path: `${ctx.v2}/blobs/${descriptor.digest}`, scopes: ctx.pull },
      async (res) => {
        if (res.status !== 200) throw await httpError(res, `fetching blob ${ctx.registry}/${ctx.repository}@${descriptor.digest}`);
        const b = await readLimited(res, limit, `blob ${descriptor.digest}`);
        await verifyContent(b, descriptor.digest, descriptor.size, 'blob');
        remember(ctx, descriptor.digest, descriptor.mediaType, b.length, b);
        return b;
      },
    ),
  );
  return bytes.slice();
}

/** The `manifests` of an image index (a Referrers API page or a tag-schema index); none when absent. */
export function parseIndexDescriptors(bytes: Uint8Array, what: string): Descriptor[] {
  const doc = parseJsonObject(bytes, what);
  if (doc.manifests === undefined || doc.manifests === null) return [];
  if (!Array.isArray(doc.manifests)) throw new VouchError('ERR_MALFORMED_INPUT', `${what}: "manifests" is not an array`);
  const s = summarizeManifest(bytes, what);
  return s.manifests ?? [];
}

/** A referrers tag-schema index as stored under `tag` (its descriptor and entries); undefined when the tag does not exist. */
export async function readReferrersIndex(
  ctx: RepoContext,
  tag: string,
  signal?: AbortSignal,
): Promise<{ descriptor: Descriptor; manifests: Descriptor[] } | undefined> {
  try {
    const { descriptor, bytes } = await getManifest(ctx, tag, {}, ctx.maxManifestBytes, signal);
    return { descriptor, manifests: parseIndexDescriptors(bytes, `referrers index ${tag}`) };
  } catch (e) {
    if (isVouchError(e) && e.code === 'ERR_REGISTRY_NOT_FOUND') return undefined;
    throw e;
  }
}
