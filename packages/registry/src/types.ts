import type { Descriptor } from '@vouch/core';

/**
 * Read access to one repository, whether an OCI image layout on disk, a remote registry or
 * an in-memory fake. Everything returned is verified against its digest (and size) before it
 * is returned. (Contract shared by @vouch/notation and @vouch/kyverno: extend by adding
 * optional members; do not rename.)
 */
export interface Repository {
  /** Resolve a tag or digest to the manifest descriptor (mediaType, digest, size). */
  resolve(reference: string, options?: RequestOptions): Promise<Descriptor>;
  /** Fetch manifest bytes by descriptor or digest; verified against the digest, capped by `maxBytes` (default 4 MiB). */
  fetchManifest(target: Descriptor | string, options?: FetchOptions): Promise<{ descriptor: Descriptor; bytes: Uint8Array }>;
  /** Fetch blob bytes; verified against digest and size, capped by `maxBytes`. */
  fetchBlob(descriptor: Descriptor, options?: FetchOptions): Promise<Uint8Array>;
  /**
   * Referrers of `subject` (descriptors of manifests whose `subject` is it), filtered by
   * `artifactType` when given. Pages are yielded as they arrive.
   */
  referrers(subject: Descriptor, options?: ReferrersOptions): AsyncIterable<Descriptor[]>;
}

/** A Repository that can also store content (OCI layout, remote registry, memory). */
export interface WritableRepository extends Repository {
  /** Store a blob (skipped when already present); resolves its descriptor. */
  pushBlob(mediaType: string, bytes: Uint8Array, options?: PushBlobOptions): Promise<Descriptor>;
  /**
   * Store a manifest (by digest, or under `tag`); resolves its descriptor. A manifest with a
   * `subject` becomes discoverable through `referrers(subject)` (remote: Referrers API, else
   * the tag-schema index).
   */
  pushManifest(mediaType: string, bytes: Uint8Array, options?: PushManifestOptions): Promise<Descriptor>;
}

/** Options of {@link WritableRepository.pushBlob}. */
export interface PushBlobOptions extends RequestOptions {
  /** Remote only: try a cross-repository mount from this repository of the same registry first. */
  mountFrom?: string;
}

/** Options of {@link WritableRepository.pushManifest}. */
export interface PushManifestOptions extends RequestOptions {
  tag?: string;
  /** Remote only: also maintain the referrers tag-schema index when the registry has the Referrers API (notation `--force-referrers-tag`). */
  forceReferrersTag?: boolean;
}

/** Options every repository call takes. */
export interface RequestOptions {
  /** Cancels the call (ERR_ABORTED). */
  signal?: AbortSignal;
}

/** Options of fetches. */
export interface FetchOptions extends RequestOptions {
  /** Cap in bytes (manifest default 4 MiB, blob default 32 MiB); larger content fails with ERR_SIZE_LIMIT_EXCEEDED. */
  maxBytes?: number;
}

/** Options of {@link Repository.referrers}. */
export interface ReferrersOptions extends RequestOptions {
  /** Keep only referrers of this artifact type (e.g. `application/vnd.cncf.notary.signature`). */
  artifactType?: string;
}
