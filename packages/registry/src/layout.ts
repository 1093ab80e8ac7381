import { Annotation, type Descriptor, isDigest, isVouchError, type Logger, parseDigest, utf8, VouchError } from '@vouch/core';
import { digestAsync, noopLogger } from '@vouch/core/internal';
import {
  checkContentSize,
  checkDeclaredSize,
  createMutex,
  DEFAULT_MAX_BLOB_BYTES,
  DEFAULT_MAX_MANIFEST_BYTES,
  notFound,
  TAG_RE,
  throwIfAborted,
  verifyContent,
} from './content.js';
import {
  acceptReferrer,
  goJson,
  inferManifestMediaType,
  isManifestMediaType,
  type ManifestSummary,
  orderedDescriptor,
  parseJsonObject,
  referrerDescriptor,
  summarizeManifest,
} from './manifest.js';
import type { FetchOptions, PushManifestOptions, ReferrersOptions, RequestOptions, WritableRepository } from './types.js';

/**
 * The file operations an OCI image layout needs, so that @vouch/registry runs anywhere.
 * Paths are relative, `/`-separated (`index.json`, `blobs/sha256/<hex>`). `@vouch/node`
 * provides `nodeLayoutFs(dir)`.
 */
export interface LayoutFs {
  /**
   * Read a whole file. Resolves `undefined` when it does not exist. When `maxBytes` is given and
   * the file is larger, reject with ERR_SIZE_LIMIT_EXCEEDED without reading it.
   */
  readFile(path: string, options?: { maxBytes?: number }): Promise<Uint8Array | undefined>;
  /** Create or replace a file atomically (readers see the old or the new content, never a mix); creates parent directories. */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** True when the file exists. */
  exists(path: string): Promise<boolean>;
  /**
   * Optional: an opaque token that changes whenever the file may have changed (e.g. device,
   * inode, size, modification and change times), or `undefined` when the file does not exist.
   * With it, the repository re-reads and re-parses index.json only when its token changes.
   * May answer synchronously (a local `stat` is cheaper than a round trip to a thread pool).
   */
  version?(path: string): string | undefined | Promise<string | undefined>;
}

/** Options of {@link ociLayoutRepository}. */
export interface OciLayoutOptions {
  /** Default manifest cap (4 MiB). */
  maxManifestBytes?: number;
  /** Default blob cap (32 MiB). */
  maxBlobBytes?: number;
  /**
   * Bytes of verified content (manifests, signature envelopes, small blobs) kept in memory by
   * digest, so repeated reads skip the file and the digest check: content addressed by digest
   * never changes. Items over 1/8 of it are not kept. Default 8 MiB; 0 turns it off.
   */
  contentCacheBytes?: number;
  logger?: Logger;
}

/** An OCI image layout as a repository; `tags()` lists the `org.opencontainers.image.ref.name` tags. */
export interface OciLayoutRepository extends WritableRepository {
  /** Tags in index.json, in file order. */
  tags(): Promise<string[]>;
}

interface IndexDoc {
  raw: Record<string, unknown>;
  manifests: Record<string, unknown>[];
}

const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';

function blobPath(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

function refName(entry: Record<string, unknown>): string | undefined {
  const a = entry.annotations as Record<string, unknown> | undefined;
  const v = a && typeof a === 'object' ? a[Annotation.REF_NAME] : undefined;
  return typeof v === 'string' ? v : undefined;
}

function untag(entry: Record<string, unknown>): Record<string, unknown> {
  const annotations = { ...(entry.annotations as Record<string, string>) };
  delete annotations[Annotation.REF_NAME];
  const copy = { ...entry };
  if (Object.keys(annotations).length > 0) copy.annotations = annotations;
  else delete copy.annotations;
  return copy;
}

/** Drop untagged entries naming a manifest that another (tagged or earlier) entry already names. */
function dedupe(list: Record<string, unknown>[]): Record<string, unknown>[] {
  const tagged = new Set(list.filter((m) => refName(m) !== undefined).map((m) => m.digest));
  const seen = new Set<unknown>();
  return list.filter((m) => {
    if (refName(m) !== undefined) return true;
    if (tagged.has(m.digest) || seen.has(m.digest)) return false;
    seen.add(m.digest);
    return true;
  });
}

/** Default of {@link OciLayoutOptions.contentCacheBytes}. */
const DEFAULT_CONTENT_CACHE_BYTES = 8 * 1024 * 1024;

function overLimit(what: string, digest: string, size: number, limit: number): VouchError {
  return new VouchError('ERR_SIZE_LIMIT_EXCEEDED', `${what} ${digest} is ${size} bytes, over the ${limit}-byte limit`, {
    details: { digest, limit },
  });
}

function copyDescriptor(d: Descriptor): Descriptor {
  const out = { ...d };
  if (d.annotations) out.annotations = { ...d.annotations };
  return out;
}

function plain(d: Record<string, unknown>): Descriptor {
  return { mediaType: String(d.mediaType), digest: String(d.digest), size: Number(d.size) };
}

function validEntry(e: unknown): e is Record<string, unknown> {
  if (typeof e !== 'object' || e === null) return false;
  const d = e as Record<string, unknown>;
  return typeof d.mediaType === 'string' && typeof d.digest === 'string' && isDigest(d.digest) && Number.isSafeInteger(d.size);
}

/**
 * An OCI image layout (the directory `notation --oci-layout` uses) as a {@link WritableRepository}.
 *
 * - `resolve(tag)` looks up `org.opencontainers.image.ref.name` in index.json; `resolve(digest)`
 *   finds the manifest in index.json or reads the blob.
 * - Reads verify digest and size and are capped (manifest 4 MiB, blob 32 MiB by default).
 * - `referrers()` walks index.json (and nested indexes) for manifests whose `subject` is the
 *   target, with notation's filter (size, subject, artifactType and the two Notary forms).
 * - Pushes write blobs by digest and add manifests to index.json (atomically, keeping existing
 *   entries); a tag moves from any older entry. Writes from one instance are serialized;
 *   concurrent writers in other processes are not coordinated.
 */
export function ociLayoutRepository(fs: LayoutFs, options: OciLayoutOptions = {}): OciLayoutRepository {
  const maxManifest = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const maxBlob = options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
  const logger = options.logger ?? noopLogger;
  const lock = createMutex();
  const summaries = new Map<string, ManifestSummary>();
  // Verified content by digest (immutable), least recently used evicted first.
  const contentMax = options.contentCacheBytes ?? DEFAULT_CONTENT_CACHE_BYTES;
  const content = new Map<string, Uint8Array>();
  let contentBytes = 0;
  // index.json parsed at a file version; referrer lists computed from that parse.
  let indexCache: { version: string; doc: IndexDoc } | undefined;
  const referrerCache = new WeakMap<IndexDoc, Map<string, Descriptor[]>>();

  async function io<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isVouchError(e)) throw e;
      throw new VouchError('ERR_IO', `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
  }

  function cachedContent(digest: string): Uint8Array | undefined {
    const hit = content.get(digest);
    if (hit) {
      content.delete(digest);
      content.set(digest, hit);
    }
    return hit;
  }

  function keepContent(digest: string, bytes: Uint8Array): void {
    if (contentMax <= 0 || bytes.length > contentMax / 8 || content.has(digest)) return;
    content.set(digest, bytes.slice());
    contentBytes += bytes.length;
    for (const [d, b] of content) {
      if (contentBytes <= contentMax) break;
      content.delete(d);
      contentBytes -= b.length;
    }
  }

  /**
   * index.json, re-read only when the file's version token changed (when the LayoutFs has
   * `version`). Writers pass `fresh` to always read the file.
   */
  async function readIndex(fresh = false): Promise<IndexDoc> {
    const versionOf = fs.version;
    if (fresh || !versionOf) return readIndexFile();
    const version = await io('reading index.json of the OCI layout', async () => versionOf.call(fs, INDEX_FILE));
    if (version !== undefined && indexCache?.version === version) return indexCache.doc;
    // The version is taken before the read: a change during the read gives a newer version,
    // so the next call reads again.
    const doc = await readIndexFile();
    if (version !== undefined) indexCache = { version, doc };
    return doc;
  }

  async function readIndexFile(): Promise<IndexDoc> {
    const bytes = await io('reading index.json of the OCI layout', () => fs.readFile(INDEX_FILE, { maxBytes: maxManifest * 16 }));
    if (bytes === undefined) {
      const isLayout = await io('reading the OCI layout', () => fs.exists(LAYOUT_FILE));
      if (!isLayout) {
        throw new VouchError('ERR_IO', 'not an OCI image layout: neither oci-layout nor index.json exists in the directory');
      }
      return { raw: { schemaVersion: 2, manifests: [] }, manifests: [] };
    }
    const raw = parseJsonObject(bytes, 'index.json of the OCI layout');
    const list = raw.manifests;
    if (list !== undefined && !Array.isArray(list)) throw new VouchError('ERR_MALFORMED_INPUT', 'index.json "manifests" must be an array');
    const manifests = ((list as unknown[] | undefined) ?? []).filter(validEntry);
    return { raw, manifests };
  }

  async function readBlobFile(d: { digest: string; size?: number }, limit: number, what: string): Promise<Uint8Array> {
    const hit = cachedContent(d.digest);
    if (hit) {
      if (hit.length > limit) throw overLimit(what, d.digest, hit.length, limit);
      checkContentSize(hit, d.digest, d.size, what);
      return hit.slice();
    }
    const path = blobPath(d.digest);
    const bytes = await io(`reading ${what} ${d.digest}`, () => fs.readFile(path, { maxBytes: limit }));
    if (bytes === undefined) throw notFound(`${what} ${d.digest} in the OCI layout`, { digest: d.digest });
    if (bytes.length > limit) throw overLimit(what, d.digest, bytes.length, limit);
    await verifyContent(bytes, d.digest, d.size, what);
    keepContent(d.digest, bytes);
    return bytes;
  }

  async function resolve(reference: string, opts: RequestOptions = {}): Promise<Descriptor> {
    throwIfAborted(opts.signal);
    if (typeof reference !== 'string' || reference === '') throw new VouchError('ERR_INVALID_REFERENCE', 'empty reference');
    const index = await readIndex();
    if (reference.includes(':')) {
      parseDigest(reference);
      const entry = index.manifests.find((m) => m.digest === reference);
      if (entry) return plain(entry);
      const bytes = await readBlobFile({ digest: reference }, maxManifest, 'manifest');
      return { mediaType: inferManifestMediaType(bytes), digest: reference, size: bytes.length };
    }
    if (!TAG_RE.test(reference)) throw new VouchError('ERR_INVALID_REFERENCE', `invalid tag "${reference}"`);
    const tagged = index.manifests.filter((m) => refName(m) === reference);
    if (tagged.length === 0) throw notFound(`tag "${reference}" in the OCI layout`, { tag: reference });
    return plain(tagged[tagged.length - 1]!);
  }

  async function fetchManifest(target: Descriptor | string, opts: FetchOptions = {}) {
    throwIfAborted(opts.signal);
    const limit = opts.maxBytes ?? maxManifest;
    const descriptor = typeof target === 'string' ? await resolve(target, opts) : target;
    checkDeclaredSize(descriptor, limit, 'manifest');
    const bytes = await readBlobFile(descriptor, limit, 'manifest');
    return { descriptor, bytes };
  }

  async function fetchBlob(descriptor: Descriptor, opts: FetchOptions = {}) {
    throwIfAborted(opts.signal);
    const limit = opts.maxBytes ?? maxBlob;
    checkDeclaredSize(descriptor, limit, 'blob');
    return readBlobFile(descriptor, limit, 'blob');
  }

  async function summary(d: Descriptor): Promise<ManifestSummary | undefined> {
    const cached = summaries.get(d.digest);
    if (cached) return cached;
    let bytes: Uint8Array;
    try {
      bytes = await readBlobFile(d, maxManifest, 'manifest');
    } catch (e) {
      if (isVouchError(e) && e.code === 'ERR_REGISTRY_NOT_FOUND') {
        logger.warn('OCI layout: manifest listed but missing', { digest: d.digest });
        return undefined;
      }
      throw e;
    }
    let s: ManifestSummary;
    try {
      s = summarizeManifest(bytes);
    } catch {
      logger.warn('OCI layout: manifest is not JSON, skipped', { digest: d.digest });
      return undefined;
    }
    if (summaries.size > 10_000) summaries.clear();
    summaries.set(d.digest, s);
    return s;
  }

  async function* referrers(subject: Descriptor, opts: ReferrersOptions = {}): AsyncIterable<Descriptor[]> {
    throwIfAborted(opts.signal);
    const index = await readIndex();
    // The answer is a function of index.json and manifests (immutable by digest): reuse it
    // while index.json is unchanged and every listed manifest could be read.
    const key = `${subject.mediaType}\n${subject.digest}\n${subject.size}\n${opts.artifactType ?? ''}`;
    const known = indexCache?.doc === index ? referrerCache.get(index)?.get(key) : undefined;
    if (known) {
      if (known.length > 0) yield known.map(copyDescriptor);
      return;
    }
    const queue: Descriptor[] = index.manifests.map(plain);
    const seen = new Set<string>();
    const found: Descriptor[] = [];
    let complete = true;
    while (queue.length > 0) {
      throwIfAborted(opts.signal);
      const d = queue.shift()!;
      if (seen.has(d.digest) || !isManifestMediaType(d.mediaType)) continue;
      seen.add(d.digest);
      if (d.size > maxManifest) {
        logger.debug('OCI layout: manifest over the size limit, skipped', { digest: d.digest, size: d.size });
        continue;
      }
      const s = await summary(d);
      if (!s) {
        complete = false;
        continue;
      }
      if (s.manifests) queue.push(...s.manifests);
      const why = acceptReferrer(d, s, subject, opts.artifactType, maxManifest);
      if (why === 'notary-non-empty-config') {
        logger.warn('OCI layout: Notary signature manifest with artifactType but a non-empty config, skipped', { digest: d.digest });
      }
      if (why === undefined) found.push(referrerDescriptor(d, s));
    }
    if (complete && indexCache?.doc === index) {
      let byKey = referrerCache.get(index);
      if (!byKey) {
        byKey = new Map();
        referrerCache.set(index, byKey);
      }
      if (byKey.size < 1_000) byKey.set(key, found.map(copyDescriptor));
    }
    if (found.length > 0) yield found;
  }

  async function ensureLayoutFile(): Promise<void> {
    if (!(await fs.exists(LAYOUT_FILE))) await fs.writeFile(LAYOUT_FILE, utf8('{"imageLayoutVersion":"1.0.0"}'));
  }

  async function writeBlob(bytes: Uint8Array, digest: string): Promise<void> {
    const path = blobPath(digest);
    if (!(await fs.exists(path))) await fs.writeFile(path, bytes);
  }

  async function pushBlob(mediaType: string, bytes: Uint8Array, opts: RequestOptions = {}): Promise<Descriptor> {
    throwIfAborted(opts.signal);
    const digest = await digestAsync(bytes);
    await io('writing a blob to the OCI layout', async () => {
      await ensureLayoutFile();
      await writeBlob(bytes, digest);
    });
    return { mediaType, digest, size: bytes.length };
  }

  /**
   * The index.json entry of an untagged manifest. A referrer (a manifest with `subject`, e.g. a
   * signature) carries its artifactType and annotations there, as notation and oras write it.
   */
  function indexEntry(descriptor: Descriptor, body: Record<string, unknown>): Record<string, unknown> {
    if (body.subject === undefined) return { ...descriptor };
    const entry: Descriptor = { ...descriptor };
    const annotations = body.annotations as Record<string, string> | undefined;
    if (annotations && typeof annotations === 'object' && !Array.isArray(annotations)) entry.annotations = { ...annotations };
    if (typeof body.artifactType === 'string') entry.artifactType = body.artifactType;
    return { ...orderedDescriptor(entry) };
  }

  async function pushManifest(mediaType: string, bytes: Uint8Array, opts: PushManifestOptions = {}): Promise<Descriptor> {
    throwIfAborted(opts.signal);
    if (!isManifestMediaType(mediaType)) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `"${mediaType}" is not a manifest media type`);
    }
    if (opts.tag !== undefined && !TAG_RE.test(opts.tag)) throw new VouchError('ERR_INVALID_ARGUMENT', `invalid tag "${opts.tag}"`);
    const body = parseJsonObject(bytes, 'manifest');
    if (typeof body.mediaType === 'string' && body.mediaType !== mediaType) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `manifest declares media type "${body.mediaType}" but is pushed as "${mediaType}"`);
    }
    const digest = await digestAsync(bytes);
    const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
    await lock(() =>
      io('writing a manifest to the OCI layout', async () => {
        await ensureLayoutFile();
        await writeBlob(bytes, digest);
        const index = await readIndex(true);
        const tag = opts.tag;
        let manifests = index.manifests;
        if (tag !== undefined) {
          manifests = dedupe(manifests.map((m) => (refName(m) === tag && m.digest !== digest ? untag(m) : m)));
          if (!manifests.some((m) => m.digest === digest && refName(m) === tag)) {
            const untagged = manifests.findIndex((m) => m.digest === digest && refName(m) === undefined);
            if (untagged >= 0) {
              const prev = manifests[untagged]!;
              const annotations = { ...(prev.annotations as Record<string, string> | undefined), [Annotation.REF_NAME]: tag };
              manifests = manifests.map((m, i) => (i === untagged ? { ...prev, annotations } : m));
            } else {
              manifests = [...manifests, { ...descriptor, annotations: { [Annotation.REF_NAME]: tag } }];
            }
          }
        } else if (!manifests.some((m) => m.digest === digest)) {
          manifests = [...manifests, indexEntry(descriptor, body)];
        }
        const raw = { ...index.raw };
        if (raw.schemaVersion === undefined) raw.schemaVersion = 2;
        // keep every entry of the original list, including ones we could not parse
        const original = Array.isArray(index.raw.manifests) ? (index.raw.manifests as unknown[]).filter((e) => !validEntry(e)) : [];
        raw.manifests = [...original, ...manifests];
        indexCache = undefined;
        await fs.writeFile(INDEX_FILE, utf8(goJson(raw)));
      }),
    );
    return descriptor;
  }

  async function tags(): Promise<string[]> {
    const index = await readIndex();
    const out: string[] = [];
    for (const m of index.manifests) {
      const t = refName(m);
      if (t !== undefined && !out.includes(t)) out.push(t);
    }
    return out;
  }

  return { resolve, fetchManifest, fetchBlob, referrers, pushBlob, pushManifest, tags };
}

/** Decode an OCI layout reference `<path>@<digest>` or `<path>:<tag>` (last `@`, else last `:` after the last path separator). */
export function parseLayoutReference(input: string): { path: string; reference: string } {
  const at = input.lastIndexOf('@');
  if (at > 0) {
    const reference = input.slice(at + 1);
    parseDigest(reference);
    return { path: input.slice(0, at), reference };
  }
  const sep = Math.max(input.lastIndexOf('/'), input.lastIndexOf('\\'));
  const colon = input.lastIndexOf(':');
  // a colon after the last separator is the tag's: `L:v1` is layout `L`, tag `v1` (as notation
  // reads it); a Windows drive (`C:\dir\layout`) has separators after its colon
  if (colon > sep) {
    const reference = input.slice(colon + 1);
    if (!TAG_RE.test(reference)) throw new VouchError('ERR_INVALID_REFERENCE', `invalid tag "${reference}" in "${input}"`);
    return { path: input.slice(0, colon), reference };
  }
  throw new VouchError('ERR_INVALID_REFERENCE', `OCI layout reference "${input}" needs a tag (<path>:<tag>) or a digest (<path>@<digest>)`);
}
