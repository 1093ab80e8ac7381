import { type Descriptor, parseReference, VouchError } from '@vouch/core';
import type { RequestOptions, WritableRepository } from '../types.js';
import type { RegistryClient } from './client.js';
import { createRepoContext, type RemoteRepositoryOptions } from './context.js';
import { fetchBlob, fetchManifest, resolve } from './read.js';
import { recordReferrer, referrers } from './referrers.js';
import { listTags } from './tags.js';
import { blobExists, deleteManifest, pushBlob, pushManifest } from './upload.js';

export type { RemoteRepositoryOptions } from './context.js';

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

/**
 * A repository of a remote registry (`registry/repository`) as a {@link WritableRepository}.
 * Content fetched by digest is verified (digest and size) and cached in the client; identical
 * concurrent reads share one request.
 *
 * @example
 * ```ts
 * const client = createRegistryClient({ fetch: globalThis.fetch });
 * const repo = remoteRepository(client, 'registry.example/app');
 * const image = await repo.resolve('v1');
 * ```
 */
export function remoteRepository(client: RegistryClient, name: string, options: RemoteRepositoryOptions = {}): RemoteRepository {
  const ref = parseReference(name, { normalize: options.normalize });
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new VouchError('ERR_INVALID_REFERENCE', `"${name}" names an artifact; pass only <registry>/<repository>`);
  }
  const ctx = createRepoContext(client, ref.registry, ref.repository, options);
  return {
    registry: ctx.registry,
    repository: ctx.repository,
    resolve: (reference, opts) => resolve(ctx, reference, opts),
    fetchManifest: (target, opts) => fetchManifest(ctx, target, opts),
    fetchBlob: (descriptor, opts) => fetchBlob(ctx, descriptor, opts),
    referrers: (subject, opts) => referrers(ctx, subject, opts),
    pushBlob: (mediaType, bytes, opts) => pushBlob(ctx, mediaType, bytes, opts),
    async pushManifest(mediaType, bytes, opts) {
      const pushed = await pushManifest(ctx, mediaType, bytes, opts);
      await recordReferrer(ctx, pushed, opts);
      return pushed.descriptor;
    },
    blobExists: (descriptor, opts) => blobExists(ctx, descriptor, opts),
    deleteManifest: (digest, opts) => deleteManifest(ctx, digest, opts),
    listTags: (opts) => listTags(ctx, opts),
  };
}
