import {
  type Descriptor,
  digestAsync,
  type FetchResponse,
  isDigest,
  isVouchError,
  MediaType,
  parseDigest,
  parseReference,
  readLimited,
  VouchError,
} from '@vouch/core';
import {
  checkDeclaredSize,
  DEFAULT_MAX_BLOB_BYTES,
  DEFAULT_MAX_MANIFEST_BYTES,
  referrersTag,
  TAG_RE,
  throwIfAborted,
  verifyContent,
} from '../content.js';
import {
  buildIndex,
  inferManifestMediaType,
  isManifestMediaType,
  MANIFEST_ACCEPT,
  parseJsonObject,
  referrerDescriptor,
  summarizeManifest,
} from '../manifest.js';
import type { FetchOptions, PushBlobOptions, PushManifestOptions, ReferrersOptions, RequestOptions, WritableRepository } from '../types.js';
import { repositoryScope } from './auth.js';
import { type ClientInternals, httpError, INTERNAL, type RegistryClient } from './client.js';

/** Options of {@link remoteRepository}. */
export interface RemoteRepositoryOptions {
  /** Default manifest cap (4 MiB). */
  maxManifestBytes?: number;
  /** Default blob cap (32 MiB). */
  maxBlobBytes?: number;
  /**
   * Always maintain the referrers tag-schema index when pushing a manifest with `subject`, even
   * when the registry supports the Referrers API (notation v1's `--force-referrers-tag`, default
   * false: the index is written only when the registry does not answer `OCI-Subject`).
   */
  forceReferrersTag?: boolean;
  /** Blobs larger than this are uploaded in chunks (default 16 MiB). */
  chunkThresholdBytes?: number;
  /** Chunk size of chunked uploads (default 8 MiB). */
  chunkSizeBytes?: number;
  /** Read-modify-write attempts for the tag-schema index (default 6). */
  referrersIndexAttempts?: number;
  /** Pause before the second read-back of a written tag-schema index, in ms (default 150, jittered). */
  referrersIndexSettleMs?: number;
  /** Apply Docker normalization to the repository name (`nginx` → `docker.io/library/nginx`). */
  normalize?: boolean;
}

/** A repository in a remote registry. */
export interface RemoteRepository extends WritableRepository {
  /** Registry host (`docker.io`, `localhost:5000`). */
  readonly registry: string;
  /** Repository path (`library/nginx`). */
  readonly repository: string;
  /** True when the blob exists in the repository (HEAD). */
  blobExists(descriptor: Descriptor, options?: RequestOptions): Promise<boolean>;
  /** Delete a manifest by digest (needs `delete` rights; the registry may refuse with ERR_REGISTRY_HTTP). */
  deleteManifest(digest: string, options?: RequestOptions): Promise<void>;
  /** Tags of the repository (`/tags/list`, following `Link` pages). */
  listTags(options?: RequestOptions): Promise<string[]>;
}

const REFERRERS_FILTER_HEADER = 'oci-filters-applied';

function parseLinkNext(link: string | null, base: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (m && /rel\s*=\s*"?next"?/i.test(m[2]!)) return new URL(m[1]!, base).toString();
  }
  return undefined;
}

function parseIndexDescriptors(bytes: Uint8Array, what: string): Descriptor[] {
  const doc = parseJsonObject(bytes, what);
  if (doc.manifests === undefined || doc.manifests === null) return [];
  if (!Array.isArray(doc.manifests)) throw new VouchError('ERR_MALFORMED_INPUT', `${what}: "manifests" is not an array`);
  const s = summarizeManifest(bytes, what);
  return s.manifests ?? [];
}

function contentType(res: FetchResponse): string | undefined {
  const ct = res.headers.get('content-type');
  if (!ct) return undefined;
  const t = ct.split(';')[0]!.trim();
  return t === '' ? undefined : t;
}

/**
 * A repository of a remote registry (`registry/repository`) as a {@link WritableRepository}.
 * Content fetched by digest is verified (digest and size) and cached in the client; identical
 * concurrent reads share one request.
 */
export function remoteRepository(client: RegistryClient, name: string, options: RemoteRepositoryOptions = {}): RemoteRepository {
  const ref = parseReference(name, { normalize: options.normalize });
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new VouchError('ERR_INVALID_REFERENCE', `"${name}" names an artifact; pass only <registry>/<repository>`);
  }
  const { registry, repository } = ref;
  const internals: ClientInternals = client[INTERNAL];
  const maxManifest = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const maxBlob = options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
  const chunkThreshold = options.chunkThresholdBytes ?? 16 * 1024 * 1024;
  const chunkSize = Math.max(1, options.chunkSizeBytes ?? 8 * 1024 * 1024);
  const indexAttempts = options.referrersIndexAttempts ?? 6;
  const settleMs = options.referrersIndexSettleMs ?? 150;
  const pull = [repositoryScope(repository, ['pull'])];
  const push = [repositoryScope(repository, ['pull', 'push'])];
  const v2 = `/v2/${repository}`;
  const cacheKey = (digest: string) => `${registry}/${repository}@${digest}`;

  function cached(digest: string) {
    const c = internals.cache?.get(cacheKey(digest));
    if (c) internals.stats.cacheHits++;
    return c;
  }

  function remember(digest: string, mediaType: string, size: number, bytes?: Uint8Array) {
    internals.cache?.set(cacheKey(digest), { mediaType, size, bytes }, bytes ? bytes.length : 0);
    const homes = internals.blobHomes.get(`${registry} ${digest}`) ?? new Set<string>();
    homes.add(repository);
    if (homes.size > 16) homes.delete(homes.values().next().value!);
    internals.blobHomes.set(`${registry} ${digest}`, homes);
  }

  /** Share one in-flight operation between identical callers; each caller keeps its own abort signal. */
  async function shared<T>(key: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    throwIfAborted(signal);
    const p = internals.flight(`${registry}/${repository} ${key}`, fn);
    if (!signal) return p;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new VouchError('ERR_ABORTED', 'the operation was aborted', { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  function referenceOf(reference: string): { tag?: string; digest?: string } {
    if (typeof reference !== 'string' || reference === '') throw new VouchError('ERR_INVALID_REFERENCE', 'empty reference');
    if (reference.includes('/')) {
      const r = parseReference(reference, { normalize: options.normalize });
      if (r.registry !== registry || r.repository !== repository) {
        throw new VouchError('ERR_INVALID_REFERENCE', `reference "${reference}" is not in ${registry}/${repository}`);
      }
      if (r.digest) return { digest: r.digest };
      if (r.tag) return { tag: r.tag };
      throw new VouchError('ERR_INVALID_REFERENCE', `reference "${reference}" has neither tag nor digest`);
    }
    if (reference.includes(':') && isDigest(reference)) return { digest: reference };
    if (reference.includes(':')) parseDigest(reference);
    if (!TAG_RE.test(reference)) throw new VouchError('ERR_INVALID_REFERENCE', `invalid tag "${reference}"`);
    return { tag: reference };
  }

  async function getManifest(
    reference: string,
    expected: { digest?: string; size?: number },
    limit: number,
    signal: AbortSignal | undefined,
  ): Promise<{ descriptor: Descriptor; bytes: Uint8Array }> {
    return client.request(
      { registry, method: 'GET', path: `${v2}/manifests/${reference}`, headers: { Accept: MANIFEST_ACCEPT }, scopes: pull, signal },
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

  async function resolve(reference: string, opts: RequestOptions = {}): Promise<Descriptor> {
    throwIfAborted(opts.signal);
    const r = referenceOf(reference);
    if (r.digest) {
      const c = cached(r.digest);
      if (c) return { mediaType: c.mediaType, digest: r.digest, size: c.size };
    }
    const target = r.digest ?? r.tag!;
    return shared(`resolve ${target}`, opts.signal, async () => {
      const head = await client.request(
        { registry, method: 'HEAD', path: `${v2}/manifests/${target}`, headers: { Accept: MANIFEST_ACCEPT }, scopes: pull },
        async (res) => {
          if (res.status !== 200) throw await httpError(res, `resolving ${registry}/${repository}${r.digest ? '@' : ':'}${target}`);
          await res.body?.cancel().catch(() => {});
          const digest = res.headers.get('docker-content-digest');
          const length = Number(res.headers.get('content-length'));
          const mediaType = contentType(res);
          if (
            !digest ||
            !isDigest(digest) ||
            !Number.isSafeInteger(length) ||
            length <= 0 ||
            !mediaType ||
            !isManifestMediaType(mediaType)
          ) {
            return undefined;
          }
          return { mediaType, digest, size: length } as Descriptor;
        },
      );
      // a HEAD without digest, length or type: GET and compute
      const descriptor = head ?? (await getManifest(target, r.digest ? { digest: r.digest } : {}, maxManifest, undefined)).descriptor;
      if (r.digest && descriptor.digest !== r.digest) {
        throw new VouchError(
          'ERR_DIGEST_MISMATCH',
          `user input digest ${r.digest} does not match the resolved digest ${descriptor.digest}`,
          {
            details: { expected: r.digest, actual: descriptor.digest },
          },
        );
      }
      if (r.digest) remember(descriptor.digest, descriptor.mediaType, descriptor.size);
      return descriptor;
    });
  }

  async function fetchManifest(target: Descriptor | string, opts: FetchOptions = {}) {
    throwIfAborted(opts.signal);
    const limit = opts.maxBytes ?? maxManifest;
    let descriptor: Descriptor;
    if (typeof target === 'string') {
      const r = referenceOf(target);
      if (r.tag !== undefined) {
        const got = await getManifest(r.tag, {}, limit, opts.signal);
        return got;
      }
      descriptor = await resolve(r.digest!, opts);
    } else {
      descriptor = target;
    }
    checkDeclaredSize(descriptor, limit, 'manifest');
    const c = cached(descriptor.digest);
    if (c?.bytes && c.size === descriptor.size) return { descriptor, bytes: c.bytes.slice() };
    const got = await shared(`manifest ${descriptor.digest}`, opts.signal, async () => {
      const r = await getManifest(descriptor.digest, { digest: descriptor.digest, size: descriptor.size }, limit, undefined);
      remember(descriptor.digest, r.descriptor.mediaType, r.bytes.length, r.bytes);
      return r;
    });
    return { descriptor, bytes: got.bytes.slice() };
  }

  async function fetchBlob(descriptor: Descriptor, opts: FetchOptions = {}): Promise<Uint8Array> {
    throwIfAborted(opts.signal);
    const limit = opts.maxBytes ?? maxBlob;
    checkDeclaredSize(descriptor, limit, 'blob');
    parseDigest(descriptor.digest);
    const c = cached(descriptor.digest);
    if (c?.bytes && c.size === descriptor.size) return c.bytes.slice();
    const bytes = await shared(`blob ${descriptor.digest}`, opts.signal, () =>
      client.request({ registry, method: 'GET', path: `${v2}/blobs/${descriptor.digest}`, scopes: pull }, async (res) => {
        if (res.status !== 200) throw await httpError(res, `fetching blob ${registry}/${repository}@${descriptor.digest}`);
        const b = await readLimited(res, limit, `blob ${descriptor.digest}`);
        await verifyContent(b, descriptor.digest, descriptor.size, 'blob');
        remember(descriptor.digest, descriptor.mediaType, b.length, b);
        return b;
      }),
    );
    return bytes.slice();
  }

  async function readTagIndex(tag: string, signal?: AbortSignal): Promise<{ descriptor: Descriptor; manifests: Descriptor[] } | undefined> {
    try {
      const { descriptor, bytes } = await getManifest(tag, {}, maxManifest, signal);
      return { descriptor, manifests: parseIndexDescriptors(bytes, `referrers index ${tag}`) };
    } catch (e) {
      if (isVouchError(e) && e.code === 'ERR_REGISTRY_NOT_FOUND') return undefined;
      throw e;
    }
  }

  function filterPage(list: Descriptor[], artifactType: string | undefined): Descriptor[] {
    return list.filter((d) => isManifestMediaType(d.mediaType) && (artifactType === undefined || d.artifactType === artifactType));
  }

  async function listReferrers(subject: Descriptor, artifactType: string | undefined, signal?: AbortSignal): Promise<Descriptor[][]> {
    const pages: Descriptor[][] = [];
    if (internals.referrersApi.get(registry) !== false) {
      let url: string | undefined =
        `${v2}/referrers/${subject.digest}${artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : ''}`;
      let supported = true;
      let count = 0;
      while (url && supported) {
        if (++count > 1000) throw new VouchError('ERR_REGISTRY_HTTP', 'referrers listing has more than 1000 pages');
        const current: string = url;
        url = await client.request(
          { registry, method: 'GET', path: current, headers: { Accept: MediaType.OCI_INDEX }, scopes: pull, signal },
          async (res, finalUrl) => {
            if (res.status === 404 && count === 1) {
              await res.body?.cancel().catch(() => {});
              supported = false;
              return undefined;
            }
            if (res.status !== 200) throw await httpError(res, `listing referrers of ${subject.digest}`);
            const bytes = await readLimited(res, maxManifest, 'referrers page');
            const list = parseIndexDescriptors(bytes, 'referrers response');
            const filtered = (res.headers.get(REFERRERS_FILTER_HEADER) ?? '')
              .toLowerCase()
              .split(',')
              .map((s) => s.trim())
              .includes('artifacttype');
            const page = filterPage(list, filtered ? undefined : artifactType);
            pages.push(page);
            return parseLinkNext(res.headers.get('link'), finalUrl);
          },
        );
      }
      if (supported) {
        internals.referrersApi.set(registry, true);
        return pages;
      }
      internals.referrersApi.set(registry, false);
      internals.logger.debug('registry has no Referrers API; using the referrers tag schema', { registry });
    }
    const index = await readTagIndex(referrersTag(subject.digest), signal);
    if (index) pages.push(filterPage(index.manifests, artifactType));
    return pages;
  }

  async function* referrers(subject: Descriptor, opts: ReferrersOptions = {}): AsyncIterable<Descriptor[]> {
    throwIfAborted(opts.signal);
    const key = `${cacheKey(subject.digest)} ${opts.artifactType ?? ''}`;
    const hit = internals.referrersCache.get(key);
    let pages: Descriptor[][];
    if (hit && hit.expires > internals.now()) {
      internals.stats.cacheHits++;
      pages = hit.pages;
    } else {
      pages = await shared(`referrers ${subject.digest} ${opts.artifactType ?? ''}`, opts.signal, () =>
        listReferrers(subject, opts.artifactType),
      );
      if (internals.referrersTtlMs > 0) {
        internals.referrersCache.set(key, { expires: internals.now() + internals.referrersTtlMs, pages });
        if (internals.referrersCache.size > 4096) internals.referrersCache.delete(internals.referrersCache.keys().next().value!);
      }
    }
    for (const page of pages) if (page.length > 0) yield page.map((d) => ({ ...d }));
  }

  async function blobExists(descriptor: Descriptor, opts: RequestOptions & { scopes?: string[] } = {}): Promise<boolean> {
    return client.request(
      { registry, method: 'HEAD', path: `${v2}/blobs/${descriptor.digest}`, scopes: opts.scopes ?? pull, signal: opts.signal },
      async (res) => {
        await res.body?.cancel().catch(() => {});
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

  function checkStoredDigest(res: FetchResponse, digest: string, what: string): void {
    const got = res.headers.get('docker-content-digest');
    if (got && got !== digest) {
      throw new VouchError('ERR_DIGEST_MISMATCH', `${what}: the registry stored ${got}, expected ${digest}`, {
        details: { expected: digest, actual: got },
      });
    }
  }

  async function startUpload(digest: string, mountFrom: string | undefined, signal?: AbortSignal): Promise<string | undefined> {
    const scopes = mountFrom ? [...push, repositoryScope(mountFrom, ['pull'])] : push;
    const query = mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : '';
    return client.request({ registry, method: 'POST', path: `${v2}/blobs/uploads/${query}`, scopes, signal }, async (res, url) => {
      await res.body?.cancel().catch(() => {});
      if (res.status === 201 && mountFrom) {
        checkStoredDigest(res, digest, 'blob mount');
        return undefined;
      }
      if (res.status !== 202) throw await httpError(res, `starting a blob upload to ${registry}/${repository}`);
      return locationOf(res, url, 'blob upload');
    });
  }

  async function upload(bytes: Uint8Array, digest: string, location: string, signal?: AbortSignal): Promise<void> {
    let loc = location;
    if (bytes.length > chunkThreshold) {
      for (let off = 0; off < bytes.length; off += chunkSize) {
        const chunk = bytes.subarray(off, Math.min(bytes.length, off + chunkSize));
        loc = await client.request(
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
            await res.body?.cancel().catch(() => {});
            if (res.status !== 202) throw await httpError(res, 'uploading a blob chunk');
            return locationOf(res, url, 'blob chunk upload');
          },
        );
      }
      await client.request({ registry, method: 'PUT', path: withDigest(loc, digest), scopes: push, signal, retry: false }, async (res) => {
        await res.body?.cancel().catch(() => {});
        if (res.status !== 201) throw await httpError(res, 'completing a chunked blob upload');
        checkStoredDigest(res, digest, 'blob upload');
      });
      return;
    }
    await client.request(
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
        await res.body?.cancel().catch(() => {});
        if (res.status !== 201) throw await httpError(res, 'uploading a blob');
        checkStoredDigest(res, digest, 'blob upload');
      },
    );
  }

  async function pushBlob(mediaType: string, bytes: Uint8Array, opts: PushBlobOptions = {}): Promise<Descriptor> {
    throwIfAborted(opts.signal);
    const digest = await digestAsync(bytes);
    const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
    if (await blobExists(descriptor, { signal: opts.signal, scopes: push })) {
      remember(digest, mediaType, bytes.length);
      return descriptor;
    }
    let mountFrom = opts.mountFrom;
    if (mountFrom === undefined) {
      const homes = internals.blobHomes.get(`${registry} ${digest}`);
      mountFrom = homes ? [...homes].find((r) => r !== repository) : undefined;
    }
    let location: string | undefined;
    try {
      location = await startUpload(digest, mountFrom, opts.signal);
    } catch (e) {
      if (!mountFrom || (isVouchError(e) && e.code === 'ERR_ABORTED')) throw e;
      internals.logger.debug('cross-repository mount refused; uploading', { from: mountFrom, digest });
      location = await startUpload(digest, undefined, opts.signal);
    }
    if (location !== undefined) await upload(bytes, digest, location, opts.signal);
    remember(digest, mediaType, bytes.length);
    return descriptor;
  }

  async function putManifest(reference: string, mediaType: string, bytes: Uint8Array, digest: string, signal?: AbortSignal) {
    return client.request(
      {
        registry,
        method: 'PUT',
        path: `${v2}/manifests/${reference}`,
        headers: { 'Content-Type': mediaType },
        body: bytes,
        scopes: push,
        signal,
      },
      async (res) => {
        await res.body?.cancel().catch(() => {});
        if (res.status !== 201 && res.status !== 200)
          throw await httpError(res, `pushing manifest ${registry}/${repository}${reference.includes(':') ? '@' : ':'}${reference}`);
        checkStoredDigest(res, digest, 'manifest push');
        return { subjectHeader: res.headers.get('oci-subject') };
      },
    );
  }

  async function deleteManifest(digest: string, opts: RequestOptions = {}): Promise<void> {
    parseDigest(digest);
    await client.request(
      {
        registry,
        method: 'DELETE',
        path: `${v2}/manifests/${digest}`,
        scopes: [repositoryScope(repository, ['delete'])],
        signal: opts.signal,
      },
      async (res) => {
        await res.body?.cancel().catch(() => {});
        if (res.status !== 202 && res.status !== 200 && res.status !== 204) throw await httpError(res, `deleting manifest ${digest}`);
      },
    );
    internals.cache?.delete(cacheKey(digest));
  }

  /**
   * Add `entry` to the tag-schema index of `subject` by read-modify-write. The registry may not
   * offer compare-and-swap, so after writing, the index is read back (at once and after a short
   * pause): when a concurrent writer replaced it without our entry, we merge again.
   */
  async function addToReferrersIndex(subject: Descriptor, entry: Descriptor, signal?: AbortSignal): Promise<void> {
    const tag = referrersTag(subject.digest);
    const superseded = new Set<string>();
    for (let attempt = 0; attempt < indexAttempts; attempt++) {
      const current = await readTagIndex(tag, signal);
      const list = current?.manifests ?? [];
      if (!list.some((d) => d.digest === entry.digest)) {
        const merged = [...list, entry];
        const bytes = buildIndex(merged);
        const digest = await digestAsync(bytes);
        await putManifest(tag, MediaType.OCI_INDEX, bytes, digest, signal);
        if (current) superseded.add(current.descriptor.digest);
      }
      // read back twice: at once, and after concurrent writers had time to land their PUT
      let ok = true;
      for (const pause of [0, settleMs * (0.5 + Math.random())]) {
        if (pause > 0) await internals.sleep(pause, signal);
        const check = await readTagIndex(tag, signal);
        if (!check?.manifests.some((d) => d.digest === entry.digest)) {
          ok = false;
          break;
        }
      }
      if (ok) {
        const final = await readTagIndex(tag, signal);
        for (const old of superseded) {
          if (old === final?.descriptor.digest) continue;
          try {
            await deleteManifest(old, { signal });
          } catch (e) {
            internals.logger.warn(
              `the superseded referrers index ${registry}/${repository}@${old} could not be deleted; garbage collection may be required`,
              { error: (e as Error).message },
            );
          }
        }
        return;
      }
      internals.logger.debug('referrers index lost our entry to a concurrent writer; merging again', { tag, attempt });
      await internals.sleep(settleMs * Math.random(), signal);
    }
    throw new VouchError(
      'ERR_PUSH_SIGNATURE_FAILED',
      `could not add ${entry.digest} to the referrers index ${tag} after ${indexAttempts} attempts (concurrent writers); retry the push`,
    );
  }

  async function pushManifest(mediaType: string, bytes: Uint8Array, opts: PushManifestOptions = {}): Promise<Descriptor> {
    throwIfAborted(opts.signal);
    if (!isManifestMediaType(mediaType)) throw new VouchError('ERR_INVALID_ARGUMENT', `"${mediaType}" is not a manifest media type`);
    if (opts.tag !== undefined && !TAG_RE.test(opts.tag)) throw new VouchError('ERR_INVALID_ARGUMENT', `invalid tag "${opts.tag}"`);
    if (bytes.length > maxManifest) {
      throw new VouchError('ERR_SIZE_LIMIT_EXCEEDED', `manifest is ${bytes.length} bytes, over the ${maxManifest}-byte limit`);
    }
    const summary = summarizeManifest(bytes);
    if (summary.mediaType !== undefined && summary.mediaType !== mediaType) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `manifest declares media type "${summary.mediaType}" but is pushed as "${mediaType}"`);
    }
    const digest = await digestAsync(bytes);
    const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
    const { subjectHeader } = await putManifest(opts.tag ?? digest, mediaType, bytes, digest, opts.signal);
    remember(digest, mediaType, bytes.length, bytes);
    const subject = summary.subject;
    if (subject) {
      for (const key of internals.referrersCache.keys()) {
        if (key.startsWith(`${cacheKey(subject.digest)} `)) internals.referrersCache.delete(key);
      }
      if (subjectHeader) internals.referrersApi.set(registry, true);
      const force = opts.forceReferrersTag ?? options.forceReferrersTag ?? false;
      if (!subjectHeader || force) {
        try {
          await addToReferrersIndex(subject, referrerDescriptor(descriptor, summary), opts.signal);
        } catch (e) {
          throw isVouchError(e) && e.code === 'ERR_PUSH_SIGNATURE_FAILED'
            ? e
            : new VouchError(
                'ERR_PUSH_SIGNATURE_FAILED',
                `updating the referrers index of ${subject.digest} failed: ${(e as Error).message}`,
                {
                  cause: e,
                },
              );
        }
      }
    }
    return descriptor;
  }

  async function listTags(opts: RequestOptions = {}): Promise<string[]> {
    const out: string[] = [];
    let url: string | undefined = `${v2}/tags/list`;
    let pages = 0;
    while (url) {
      if (++pages > 1000) break;
      const current: string = url;
      url = await client.request({ registry, method: 'GET', path: current, scopes: pull, signal: opts.signal }, async (res, finalUrl) => {
        if (res.status !== 200) throw await httpError(res, `listing tags of ${registry}/${repository}`);
        const doc = parseJsonObject(await readLimited(res, maxManifest, 'tag list'), 'tag list');
        if (Array.isArray(doc.tags)) for (const t of doc.tags) if (typeof t === 'string') out.push(t);
        return parseLinkNext(res.headers.get('link'), finalUrl);
      });
    }
    return out;
  }

  return {
    registry,
    repository,
    resolve,
    fetchManifest,
    fetchBlob,
    referrers,
    pushBlob,
    pushManifest,
    blobExists: (d, o) => blobExists(d, o),
    deleteManifest,
    listTags,
  };
}
