/**
 * What every operation on one remote repository shares: the client and its internals, the
 * repository's name, scopes and limits, and the content-cache and single-flight helpers. Built
 * once by `remoteRepository`; every module of `remote/` takes it as its first argument.
 */
import { type FetchResponse, VouchError } from '@vouch/core';
import { DEFAULT_MAX_BLOB_BYTES, DEFAULT_MAX_MANIFEST_BYTES, throwIfAborted } from '../content.js';
import { repositoryScope } from './auth.js';
import { type ClientInternals, INTERNAL, type RegistryClient } from './client.js';

/** One remote repository's shared state (see `remoteRepository`). */
export interface RepoContext {
  readonly client: RegistryClient;
  readonly internals: ClientInternals;
  /** Registry host as in references (`docker.io`, `localhost:5000`). */
  readonly registry: string;
  /** Repository path (`library/nginx`). */
  readonly repository: string;
  /** `/v2/<repository>`. */
  readonly v2: string;
  /** Token scopes of reads and of writes. */
  readonly pull: readonly string[];
  readonly push: readonly string[];
  /** Docker normalization of references naming this repository. */
  readonly normalize: boolean | undefined;
  readonly maxManifestBytes: number;
  readonly maxBlobBytes: number;
  /** Blobs larger than this are uploaded in chunks of `chunkSizeBytes`. */
  readonly chunkThresholdBytes: number;
  readonly chunkSizeBytes: number;
  /** Read-modify-write attempts of the tag-schema index, and the pause before its second read-back. */
  readonly referrersIndexAttempts: number;
  readonly referrersIndexSettleMs: number;
  /** Maintain the tag-schema index even where the registry answers `OCI-Subject`. */
  readonly forceReferrersTag: boolean;
}

/** Options of `remoteRepository`. */
export interface RemoteRepositoryOptions {
  /** Default manifest cap (4 MiB). */
  maxManifestBytes?: number;
  /** Default blob cap (32 MiB). */
  maxBlobBytes?: number;
  /**
   * Always maintain the referrers tag-schema index when pushing a manifest with `subject`, even
   * when the registry supports the Referrers API (notation's `--force-referrers-tag`). Default
   * false here: the index is written only when the registry does not answer `OCI-Subject`. The
   * `vouch` CLI passes notation 1.3's default, true.
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

/** A context for `registry/repository` with the defaults applied. */
export function createRepoContext(
  client: RegistryClient,
  registry: string,
  repository: string,
  settings: RemoteRepositoryOptions,
): RepoContext {
  return {
    client,
    internals: client[INTERNAL],
    registry,
    repository,
    v2: `/v2/${repository}`,
    pull: [repositoryScope(repository, ['pull'])],
    push: [repositoryScope(repository, ['pull', 'push'])],
    normalize: settings.normalize,
    maxManifestBytes: settings.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES,
    maxBlobBytes: settings.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES,
    chunkThresholdBytes: settings.chunkThresholdBytes ?? 16 * 1024 * 1024,
    chunkSizeBytes: Math.max(1, settings.chunkSizeBytes ?? 8 * 1024 * 1024),
    referrersIndexAttempts: settings.referrersIndexAttempts ?? 6,
    referrersIndexSettleMs: settings.referrersIndexSettleMs ?? 150,
    forceReferrersTag: settings.forceReferrersTag ?? false,
  };
}

/** Key of `digest` in the client's content cache (and prefix of its referrers listings). */
export function cacheKey(ctx: RepoContext, digest: string): string {
  return `${ctx.registry}/${ctx.repository}@${digest}`;
}

/** The cached entry of `digest` in this repository, counting a hit. */
export function cached(ctx: RepoContext, digest: string): { bytes?: Uint8Array; mediaType: string; size: number } | undefined {
  const c = ctx.internals.cache?.get(cacheKey(ctx, digest));
  if (c) ctx.internals.stats.cacheHits++;
  return c;
}

/**
 * Remember verified content (or only its descriptor when `bytes` is absent), and that this
 * repository holds `digest` (a source for cross-repository mounts).
 */
export function remember(ctx: RepoContext, digest: string, mediaType: string, size: number, bytes?: Uint8Array): void {
  const { internals, registry, repository } = ctx;
  internals.cache?.set(cacheKey(ctx, digest), { mediaType, size, bytes }, bytes ? bytes.length : 0);
  const homes = internals.blobHomes.get(`${registry} ${digest}`) ?? new Set<string>();
  homes.add(repository);
  if (homes.size > 16) homes.delete(homes.values().next().value!);
  internals.blobHomes.set(`${registry} ${digest}`, homes);
}

/** Share one in-flight operation between identical callers; each caller keeps its own abort signal. */
export async function shared<T>(ctx: RepoContext, key: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  throwIfAborted(signal);
  const p = ctx.internals.flight(`${ctx.registry}/${ctx.repository} ${key}`, fn);
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

/** Drop a response body the caller does not read (frees the connection). */
export async function discardBody(res: FetchResponse): Promise<void> {
  await res.body?.cancel().catch(() => {});
}

/** The media type of a response's `Content-Type`, without parameters. */
export function contentType(res: FetchResponse): string | undefined {
  const ct = res.headers.get('content-type');
  if (!ct) return undefined;
  const t = ct.split(';')[0]!.trim();
  return t === '' ? undefined : t;
}

/** `registry/repository@digest` or `registry/repository:tag`, as references are written. */
export function referenceName(ctx: RepoContext, reference: string): string {
  return `${ctx.registry}/${ctx.repository}${reference.includes(':') ? '@' : ':'}${reference}`;
}
