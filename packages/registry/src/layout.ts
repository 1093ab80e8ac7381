import {
  Annotation,
  type Descriptor,
  digestAsync,
  isDigest,
  isVouchError,
  type Logger,
  noopLogger,
  parseDigest,
  utf8,
  VouchError,
} from '@vouch/core';
import {
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
}

/** Options of {@link ociLayoutRepository}. */
export interface OciLayoutOptions {
  /** Default manifest cap (4 MiB). */
  maxManifestBytes?: number;
  /** Default blob cap (32 MiB). */
  maxBlobBytes?: number;
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

  async function io<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isVouchError(e)) throw e;
      throw new VouchError('ERR_IO', `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
  }

  async function readIndex(): Promise<IndexDoc> {
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

  async function readBlobFile(d: { digest: string; size?: number }, limit: number, what: string) {
    const path = blobPath(d.digest);
    const bytes = await io(`reading ${what} ${d.digest}`, () => fs.readFile(path, { maxBytes: limit }));
    if (bytes === undefined) throw notFound(`${what} ${d.digest} in the OCI layout`, { digest: d.digest });
    if (bytes.length > limit) {
      throw new VouchError('ERR_SIZE_LIMIT_EXCEEDED', `${what} ${d.digest} is ${bytes.length} bytes, over the ${limit}-byte limit`, {
        details: { digest: d.digest, limit },
      });
    }
    return verifyContent(bytes, d.digest, d.size, what);
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
    const queue: Descriptor[] = index.manifests.map(plain);
    const seen = new Set<string>();
    const found: Descriptor[] = [];
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
      if (!s) continue;
      if (s.manifests) queue.push(...s.manifests);
      const why = acceptReferrer(d, s, subject, opts.artifactType, maxManifest);
      if (why === 'notary-non-empty-config') {
        logger.warn('OCI layout: Notary signature manifest with artifactType but a non-empty config, skipped', { digest: d.digest });
      }
      if (why === undefined) found.push(referrerDescriptor(d, s));
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
        const index = await readIndex();
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
          manifests = [...manifests, { ...descriptor }];
        }
        const raw = { ...index.raw };
        if (raw.schemaVersion === undefined) raw.schemaVersion = 2;
        // keep every entry of the original list, including ones we could not parse
        const original = Array.isArray(index.raw.manifests) ? (index.raw.manifests as unknown[]).filter((e) => !validEntry(e)) : [];
        raw.manifests = [...original, ...manifests];
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
  // a Windows drive letter (`C:`) is not a tag separator
  if (colon > sep && !(colon === 1 && /^[A-Za-z]$/.test(input[0]!))) {
    const reference = input.slice(colon + 1);
    if (!TAG_RE.test(reference)) throw new VouchError('ERR_INVALID_REFERENCE', `invalid tag "${reference}" in "${input}"`);
    return { path: input.slice(0, colon), reference };
  }
  throw new VouchError('ERR_INVALID_REFERENCE', `OCI layout reference "${input}" needs a tag (<path>:<tag>) or a digest (<path>@<digest>)`);
}
