/**
 * The write path of a remote repository: blob upload (existence check, cross-repository mount,
 * monolithic or chunked upload), manifest PUT and DELETE, each checking the digest the registry
 * says it stored.
 */
import { type Descriptor, type FetchResponse, isVouchError, parseDigest, VouchError } from '@vouch/core';
import { digestAsync } from '@vouch/core/internal';
import { TAG_RE, throwIfAborted } from '../content.js';
import { isManifestMediaType, type ManifestSummary, summarizeManifest } from '../manifest.js';
import type { PushBlobOptions, PushManifestOptions, RequestOptions } from '../types.js';
import { repositoryScope } from './auth.js';
import { httpError } from './client.js';
import { cacheKey, discardBody, type RepoContext, referenceName, remember } from './context.js';

/** True when the repository holds the blob (HEAD; 404 → false). */
export async function blobExists(
  ctx: RepoContext,
  descriptor: Descriptor,
  opts: RequestOptions & { scopes?: readonly string[] } = {},
): Promise<boolean> {
  return ctx.client.request(
    {
      registry: ctx.registry,
      method: 'HEAD',
      path: `${ctx.v2}/blobs/${descriptor.digest}`,
      scopes: opts.scopes ?? ctx.pull,
      signal: opts.signal,
    },
    async (res) => {
      await discardBody(res);
      if (res.status === 200) return true;
      if (res.status === 404) return false;
      throw await httpError(res, `checking blob ${descriptor.digest}`);
    },
  );
}

function withDigest(location: string, digest: string): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}

function locationOf(res: FetchResponse, base: string, what: string): string {
  const loc = res.headers.get('location');
  if (!loc) throw new VouchError('ERR_REGISTRY_HTTP', `${what}: the registry sent no Location`);
  return new URL(loc, base).toString();
}

/** Throws ERR_DIGEST_MISMATCH when the registry says it stored other content than `digest`. */
function checkStoredDigest(res: FetchResponse, digest: string, what: string): void {
  const got = res.headers.get('docker-content-digest');
  if (got && got !== digest) {
    throw new VouchError('ERR_DIGEST_MISMATCH', `${what}: the registry stored ${got}, expected ${digest}`, {
      details: { expected: digest, actual: got },
    });
  }
}

/** POST an upload session (or a mount from `mountFrom`): its Location, or undefined when the mount succeeded. */
async function startUpload(
  ctx: RepoContext,
  digest: string,
  mountFrom: string | undefined,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const scopes = mountFrom ? [...ctx.push, repositoryScope(mountFrom, ['pull'])] : ctx.push;
  const query = mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : '';
  return ctx.client.request(
    { registry: ctx.registry, method: 'POST', path: `${ctx.v2}/blobs/uploads/${query}`, scopes, signal },
    async (res, url) => {
      await discardBody(res);
      if (res.status === 201 && mountFrom) {
        checkStoredDigest(res, digest, 'blob mount');
        return undefined;
      }
      if (res.status !== 202) throw await httpError(res, `starting a blob upload to ${ctx.registry}/${ctx.repository}`);
      return locationOf(res, url, 'blob upload');
    },
  );
}

/** Send the bytes to an upload session: one PUT, or PATCH chunks then a closing PUT above the chunk threshold. */
async function upload(ctx: RepoContext, bytes: Uint8Array, digest: string, location: string, signal?: AbortSignal): Promise<void> {
  const { registry, push } = ctx;
  let loc = location;
  if (bytes.length > ctx.chunkThresholdBytes) {
    for (let off = 0; off < bytes.length; off += ctx.chunkSizeBytes) {
      const chunk = bytes.subarray(off, Math.min(bytes.length, off + ctx.chunkSizeBytes));
      loc = await ctx.client.request(
        {
          registry,
          method: 'PATCH',
          path: loc,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${off}-${off + chunk.length - 1}` },
          body: chunk,
          scopes: push,
          signal,
        },
        async (res, url) => {
          await discardBody(res);
          if (res.status !== 202) throw await httpError(res, 'uploading a blob chunk');
          return locationOf(res, url, 'blob chunk upload');
        },
      );
    }
    await ctx.client.request(
      { registry, method: 'PUT', path: withDigest(loc, digest), scopes: push, signal, retry: false },
      async (res) => {
        await discardBody(res);
        if (res.status !== 201) throw await httpError(res, 'completing a chunked blob upload');
        checkStoredDigest(res, digest, 'blob upload');
      },
    );
    return;
  }
  await ctx.client.request(
    {
      registry,
      method: 'PUT',
      path: withDigest(loc, digest),
      headers: { 'Content-Type': 'application/octet-stream' },
      body: bytes,
      scopes: push,
      signal,
      // the upload session is consumed by the first attempt
      retry: false,
    },
    async (res) => {
      await discardBody(res);
      if (res.status !== 201) throw await httpError(res, 'uploading a blob');
      checkStoredDigest(res, digest, 'blob upload');
    },
  );
}

/**
 * Store a blob unless the repository has it: mount it from `mountFrom` (or from another
 * repository of this registry the client saw holding it), falling back to an upload when the
 * registry refuses the mount.
 */
export async function pushBlob(ctx: RepoContext, mediaType: string, bytes: Uint8Array, opts: PushBlobOptions = {}): Promise<Descriptor> {
  throwIfAborted(opts.signal);
  const digest = await digestAsync(bytes);
  const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
  if (await blobExists(ctx, descriptor, { signal: opts.signal, scopes: ctx.push })) {
    remember(ctx, digest, mediaType, bytes.length);
    return descriptor;
  }
  let mountFrom = opts.mountFrom;
  if (mountFrom === undefined) {
    const homes = ctx.internals.blobHomes.get(`${ctx.registry} ${digest}`);
    mountFrom = homes ? [...homes].find((r) => r !== ctx.repository) : undefined;
  }
  let location: string | undefined;
  try {
    location = await startUpload(ctx, digest, mountFrom, opts.signal);
  } catch (e) {
    if (!mountFrom || (isVouchError(e) && e.code === 'ERR_ABORTED')) throw e;
    ctx.internals.logger.debug('cross-repository mount refused; uploading', { from: mountFrom, digest });
    location = await startUpload(ctx, digest, undefined, opts.signal);
  }
  if (location !== undefined) await upload(ctx, bytes, digest, location, opts.signal);
  remember(ctx, digest, mediaType, bytes.length);
  return descriptor;
}

/** PUT manifest bytes under a tag or digest; resolves the registry's `OCI-Subject` answer (null when absent). */
export async function putManifest(
  ctx: RepoContext,
  reference: string,
  mediaType: string,
  bytes: Uint8Array,
  digest: string,
  signal?: AbortSignal,
): Promise<{ subjectHeader: string | null }> {
  return ctx.client.request(
    {
      registry: ctx.registry,
      method: 'PUT',
      path: `${ctx.v2}/manifests/${reference}`,
      headers: { 'Content-Type': mediaType },
      body: bytes,
      scopes: ctx.push,
      signal,
    },
    async (res) => {
      await discardBody(res);
      if (res.status !== 201 && res.status !== 200) throw await httpError(res, `pushing manifest ${referenceName(ctx, reference)}`);
      checkStoredDigest(res, digest, 'manifest push');
      return { subjectHeader: res.headers.get('oci-subject') };
    },
  );
}

/** DELETE a manifest by digest and forget it from the content cache. */
export async function deleteManifest(ctx: RepoContext, digest: string, opts: RequestOptions = {}): Promise<void> {
  parseDigest(digest);
  await ctx.client.request(
    {
      registry: ctx.registry,
      method: 'DELETE',
      path: `${ctx.v2}/manifests/${digest}`,
      scopes: [repositoryScope(ctx.repository, ['delete'])],
      signal: opts.signal,
    },
    async (res) => {
      await discardBody(res);
      if (res.status !== 202 && res.status !== 200 && res.status !== 204) throw await httpError(res, `deleting manifest ${digest}`);
    },
  );
  ctx.internals.cache?.delete(cacheKey(ctx, digest));
}

/** A manifest as pushed by {@link pushManifest}. */
export interface PushedManifest {
  descriptor: Descriptor;
  summary: ManifestSummary;
  /** The registry's `OCI-Subject` answer: it indexed the subject itself (Referrers API). */
  subjectHeader: string | null;
}

/**
 * Check and PUT a manifest (by digest, or under `opts.tag`) and cache it. Keeping the subject's
 * referrers discoverable is the caller's next step (`recordReferrer`).
 */
export async function pushManifest(
  ctx: RepoContext,
  mediaType: string,
  bytes: Uint8Array,
  opts: PushManifestOptions = {},
): Promise<PushedManifest> {
  throwIfAborted(opts.signal);
  if (!isManifestMediaType(mediaType)) throw new VouchError('ERR_INVALID_ARGUMENT', `"${mediaType}" is not a manifest media type`);
  if (opts.tag !== undefined && !TAG_RE.test(opts.tag)) throw new VouchError('ERR_INVALID_ARGUMENT', `invalid tag "${opts.tag}"`);
  if (bytes.length > ctx.maxManifestBytes) {
    throw new VouchError('ERR_SIZE_LIMIT_EXCEEDED', `manifest is ${bytes.length} bytes, over the ${ctx.maxManifestBytes}-byte limit`);
  }
  const summary = summarizeManifest(bytes);
  if (summary.mediaType !== undefined && summary.mediaType !== mediaType) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `manifest declares media type "${summary.mediaType}" but is pushed as "${mediaType}"`);
  }
  const digest = await digestAsync(bytes);
  const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
  const { subjectHeader } = await putManifest(ctx, opts.tag ?? digest, mediaType, bytes, digest, opts.signal);
  remember(ctx, digest, mediaType, bytes.length, bytes);
  return { descriptor, summary, subjectHeader };
}
