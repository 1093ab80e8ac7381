import { type Descriptor, isDigest, parseDigest, VouchError } from '@vouch/core';
import { digestAsync } from '@vouch/core/internal';
import {
  checkDeclaredSize,
  DEFAULT_MAX_BLOB_BYTES,
  DEFAULT_MAX_MANIFEST_BYTES,
  notFound,
  TAG_RE,
  throwIfAborted,
  verifyContent,
} from './content.js';
import { acceptReferrer, isManifestMediaType, parseJsonObject, referrerDescriptor, summarizeManifest } from './manifest.js';
import type { FetchOptions, PushManifestOptions, ReferrersOptions, RequestOptions, WritableRepository } from './types.js';

/** Options of {@link memoryRepository}. */
export interface MemoryRepositoryOptions {
  maxManifestBytes?: number;
  maxBlobBytes?: number;
}

/** An in-memory repository; also exposes its content for tests. */
export interface MemoryRepository extends WritableRepository {
  /** Tag → manifest digest. */
  readonly tags: ReadonlyMap<string, string>;
  /** Number of stored manifests and blobs. */
  stats(): { manifests: number; blobs: number };
  /** Replace stored bytes without updating the digest (tests of tamper detection). */
  corrupt(digest: string, bytes: Uint8Array): void;
  /** Remove a manifest or blob. */
  delete(digest: string): boolean;
}

interface Stored {
  mediaType: string;
  bytes: Uint8Array;
}

/**
 * A {@link WritableRepository} held in memory: for tests, browser conformance and demos.
 * Same checks as the other repositories (digest and size verification, caps, notation's
 * referrer filter); referrers are found by scanning stored manifests for `subject`, in push order.
 * @example
 * ```ts
 * import { memoryRepository } from '@vouch/registry';
 *
 * const repository = memoryRepository();
 * const config = await repository.pushBlob('application/vnd.oci.empty.v1+json', new TextEncoder().encode('{}'));
 * console.log(config.digest, repository.stats()); // { manifests: 0, blobs: 1 }
 * ```
 */
export function memoryRepository(options: MemoryRepositoryOptions = {}): MemoryRepository {
  const maxManifest = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const maxBlob = options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
  const manifests = new Map<string, Stored>();
  const blobs = new Map<string, Stored>();
  const tags = new Map<string, string>();

  function descriptorOf(digest: string): Descriptor {
    const m = manifests.get(digest);
    if (!m) throw notFound(`manifest ${digest}`, { digest });
    return { mediaType: m.mediaType, digest, size: m.bytes.length };
  }

  async function resolve(reference: string, opts: RequestOptions = {}): Promise<Descriptor> {
    throwIfAborted(opts.signal);
    if (typeof reference === 'string' && reference.includes(':')) {
      parseDigest(reference);
      return descriptorOf(reference);
    }
    if (typeof reference !== 'string' || !TAG_RE.test(reference)) {
      throw new VouchError('ERR_INVALID_REFERENCE', `invalid tag or digest "${String(reference)}"`);
    }
    const digest = tags.get(reference);
    if (!digest) throw notFound(`tag "${reference}"`, { tag: reference });
    return descriptorOf(digest);
  }

  async function fetchManifest(target: Descriptor | string, opts: FetchOptions = {}) {
    throwIfAborted(opts.signal);
    const limit = opts.maxBytes ?? maxManifest;
    const descriptor = typeof target === 'string' ? await resolve(target, opts) : target;
    checkDeclaredSize(descriptor, limit, 'manifest');
    const m = manifests.get(descriptor.digest);
    if (!m) throw notFound(`manifest ${descriptor.digest}`, { digest: descriptor.digest });
    const bytes = await verifyContent(m.bytes.slice(), descriptor.digest, descriptor.size, 'manifest');
    return { descriptor, bytes };
  }

  async function fetchBlob(descriptor: Descriptor, opts: FetchOptions = {}) {
    throwIfAborted(opts.signal);
    const limit = opts.maxBytes ?? maxBlob;
    checkDeclaredSize(descriptor, limit, 'blob');
    const b = blobs.get(descriptor.digest) ?? manifests.get(descriptor.digest);
    if (!b) throw notFound(`blob ${descriptor.digest}`, { digest: descriptor.digest });
    return verifyContent(b.bytes.slice(), descriptor.digest, descriptor.size, 'blob');
  }

  async function* referrers(subject: Descriptor, opts: ReferrersOptions = {}): AsyncIterable<Descriptor[]> {
    throwIfAborted(opts.signal);
    const found: Descriptor[] = [];
    for (const [digest, m] of manifests) {
      const d = { mediaType: m.mediaType, digest, size: m.bytes.length };
      if (d.size > maxManifest) continue;
      let s: ReturnType<typeof summarizeManifest>;
      try {
        s = summarizeManifest(m.bytes);
      } catch {
        continue;
      }
      if (acceptReferrer(d, s, subject, opts.artifactType, maxManifest) === undefined) found.push(referrerDescriptor(d, s));
    }
    if (found.length > 0) yield found;
  }

  async function pushBlob(mediaType: string, bytes: Uint8Array, opts: RequestOptions = {}): Promise<Descriptor> {
    throwIfAborted(opts.signal);
    const digest = await digestAsync(bytes);
    blobs.set(digest, { mediaType, bytes: bytes.slice() });
    return { mediaType, digest, size: bytes.length };
  }

  async function pushManifest(mediaType: string, bytes: Uint8Array, opts: PushManifestOptions = {}): Promise<Descriptor> {
    throwIfAborted(opts.signal);
    if (!isManifestMediaType(mediaType)) throw new VouchError('ERR_INVALID_ARGUMENT', `"${mediaType}" is not a manifest media type`);
    if (opts.tag !== undefined && !TAG_RE.test(opts.tag)) throw new VouchError('ERR_INVALID_ARGUMENT', `invalid tag "${opts.tag}"`);
    const body = parseJsonObject(bytes, 'manifest');
    if (typeof body.mediaType === 'string' && body.mediaType !== mediaType) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `manifest declares media type "${body.mediaType}" but is pushed as "${mediaType}"`);
    }
    const digest = await digestAsync(bytes);
    manifests.set(digest, { mediaType, bytes: bytes.slice() });
    if (opts.tag !== undefined) tags.set(opts.tag, digest);
    return { mediaType, digest, size: bytes.length };
  }

  return {
    resolve,
    fetchManifest,
    fetchBlob,
    referrers,
    pushBlob,
    pushManifest,
    tags,
    stats: () => ({ manifests: manifests.size, blobs: blobs.size }),
    corrupt(digest, bytes) {
      const s = manifests.get(digest) ?? blobs.get(digest);
      if (s) s.bytes = bytes.slice();
    },
    delete(digest) {
      if (!isDigest(digest)) return false;
      for (const [t, d] of tags) if (d === digest) tags.delete(t);
      return manifests.delete(digest) || blobs.delete(digest);
    },
  };
}
