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
  pushBlob(mediaType: string, bytes: Uint8Array, options?: RequestOptions): Promise<Descriptor>;
  pushManifest(mediaType: string, bytes: Uint8Array, options?: RequestOptions & { tag?: string }): Promise<Descriptor>;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface FetchOptions extends RequestOptions {
  maxBytes?: number;
}

export interface ReferrersOptions extends RequestOptions {
  artifactType?: string;
}
