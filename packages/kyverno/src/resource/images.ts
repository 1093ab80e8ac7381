import { VouchError } from '@vouch/core';

/** Kyverno's normalized view of one image reference (`ImageInfo`). */
export interface ImageInfo {
  /** Registry host (e.g. `docker.io`, `ghcr.io`, `localhost:5000`); empty when default-registry mutation is off. */
  registry: string;
  /** Last path segment. */
  name: string;
  /** Repository path without the registry (no `library/` is ever inserted). */
  path: string;
  /** Tag (`latest` when neither tag nor digest was given). */
  tag: string;
  /** Digest, when the reference carries one. */
  digest: string;
  /** `registry/path@digest` when a digest is present, else `registry/path:tag` (= {@link imageInfoString}). */
  reference: string;
  /** `registry/path:tag`, even when a digest is present (tag may be empty). */
  referenceWithTag: string;
  /** JSON pointer of the image field in the resource, when extracted from one. */
  jsonPointer?: string;
  /** Names of `imagePullSecrets` found along the extraction path. */
  imagePullSecrets?: string[];
}

/** Configuration of image normalization (Kyverno ConfigMap `defaultRegistry`, `enableDefaultRegistryMutation`). */
export interface ImageConfig {
  defaultRegistry?: string;
  enableDefaultRegistryMutation?: boolean;
}

const DEFAULT_REGISTRY = 'docker.io';

// distribution/reference grammar (non-normalizing `Parse`).
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const HOST = `(?:${DOMAIN_NAME}|${IPV6})`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)$`);

/**
 * Prefixes the default registry the way Kyverno does: when the reference has no `/`, or its first
 * segment contains no `.` and no `:`, is not `localhost` and is all lowercase.
 */
export function addDefaultRegistry(image: string, config: ImageConfig = {}): string {
  const registry = config.defaultRegistry ?? DEFAULT_REGISTRY;
  const i = image.indexOf('/');
  if (i === -1) return `${registry}/${image}`;
  const first = image.slice(0, i);
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost' && first.toLowerCase() === first) {
    return `${registry}/${image}`;
  }
  return image;
}

function parseDistributionReference(s: string): { domain: string; path: string; tag: string; digest: string } {
  if (s === '') throw new Error('repository name must have at least one component');
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    const lower = REFERENCE_RE.exec(s.toLowerCase());
    if (lower) throw new Error('repository name must be lowercase');
    throw new Error('invalid reference format');
  }
  const name = m[1]!;
  if (name.length > 255) throw new Error('repository name must not be more than 255 characters');
  const nm = ANCHORED_NAME_RE.exec(name);
  if (!nm) throw new Error('invalid reference format');
  return { domain: nm[1] ?? '', path: nm[2]!, tag: m[2] ?? '', digest: m[3] ?? '' };
}

/** `ImageInfo.String()`: `registry/path@digest` when a digest is present (tag dropped), else `registry/path:tag`. */
export function imageInfoString(info: Pick<ImageInfo, 'registry' | 'path' | 'digest' | 'tag'>): string {
  const image = info.registry !== '' ? `${info.registry}/${info.path}` : info.path;
  return info.digest !== '' ? `${image}@${info.digest}` : `${image}:${info.tag}`;
}

/**
 * Kyverno `GetImageInfo`: normalizes an image string. Throws VouchError ERR_INVALID_REFERENCE with
 * Kyverno's message (`bad image: …, defaultRegistry: …, enableDefaultRegistryMutation: …: <err>`).
 */
export function getImageInfo(image: string, config: ImageConfig = {}): ImageInfo {
  const full = addDefaultRegistry(image, config);
  let parsed: ReturnType<typeof parseDistributionReference>;
  try {
    parsed = parseDistributionReference(full);
  } catch (e) {
    throw new VouchError(
      'ERR_INVALID_REFERENCE',
      `bad image: ${full}, defaultRegistry: ${config.defaultRegistry ?? DEFAULT_REGISTRY}, enableDefaultRegistryMutation: ${config.enableDefaultRegistryMutation ?? true}: ${(e as Error).message}`,
      { details: { image } },
    );
  }
  let registry = parsed.domain;
  const path = parsed.path;
  const name = path.slice(path.lastIndexOf('/') + 1);
  let tag = parsed.tag;
  const digest = parsed.digest;
  if (digest === '' && tag === '') tag = 'latest';
  if (full !== image && config.enableDefaultRegistryMutation === false) registry = '';
  const info: ImageInfo = { registry, name, path, tag, digest, reference: '', referenceWithTag: '' };
  info.reference = imageInfoString(info);
  info.referenceWithTag = `${registry !== '' ? `${registry}/` : ''}${path}:${tag}`;
  return info;
}

/** A custom image extractor (`rules[].imageExtractors[kind][]`). */
export interface ImageExtractorConfig {
  path: string;
  value?: string;
  key?: string;
  name?: string;
  jmesPath?: string;
}

/** Extracted images: `images[extractorName][key] = ImageInfo` (Kyverno's `images` context variable). */
export type ExtractedImages = Record<string, Record<string, ImageInfo>>;

const POD_FIELDS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

function builtinExtractors(kind: string): ImageExtractorConfig[] | undefined {
  let prefix: string;
  switch (kind) {
    case 'Pod':
      prefix = '/spec';
      break;
    case 'DaemonSet':
    case 'Deployment':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'StatefulSet':
    case 'Job':
      prefix = '/spec/template/spec';
      break;
    case 'CronJob':
      prefix = '/spec/jobTemplate/spec/template/spec';
      break;
    default:
      return undefined;
  }
  return POD_FIELDS.map((f) => ({ name: f, path: `${prefix}/${f}/*`, value: 'image', key: 'name' }));
}

function escapePointer(s: string): string {
  if (!s.includes('~') && !s.includes('/')) return s;
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

interface CompiledExtractor {
  name: string;
  segments: string[];
  valueField: string;
  key?: string;
  jmesPath?: string;
}

function compileExtractor(cfg: ImageExtractorConfig): CompiledExtractor {
  const name = cfg.name && cfg.name !== '' ? cfg.name : 'custom';
  const segments = cfg.path.split('/').filter((s, i) => !(i === 0 && s === ''));
  let valueField = cfg.value ?? '';
  if (valueField === '' && segments.length > 0) valueField = segments.pop() as string;
  return { name, segments, valueField, key: cfg.key, jmesPath: cfg.jmesPath };
}

// Built-in extractors compiled once per kind (they are constants).
const builtinCompiled = new Map<string, CompiledExtractor[] | undefined>();

function builtinCompiledFor(kind: string): CompiledExtractor[] | undefined {
  if (builtinCompiled.has(kind)) return builtinCompiled.get(kind);
  const list = builtinExtractors(kind)?.map(compileExtractor);
  if (builtinCompiled.size < 64) builtinCompiled.set(kind, list);
  return list;
}

/**
 * Kyverno `ExtractImagesFromResource`: built-in extractors for pods and pod controllers, replaced per
 * kind by custom `imageExtractors`. Blank images are skipped; unparsable ones throw
 * ERR_INVALID_REFERENCE (`invalid image '<v>' (<err>)`). `jmesSearch` evaluates extractor `jmesPath`.
 * `infoCache` (optional, for one `config` only) keeps parsed references by image string across calls.
 */
export function extractImages(
  resource: Record<string, unknown>,
  extractors: Record<string, ImageExtractorConfig[]> | undefined,
  config: ImageConfig = {},
  jmesSearch?: (expression: string, value: unknown) => unknown,
  infoCache?: Map<string, ImageInfo>,
): ExtractedImages {
  const kind = typeof resource.kind === 'string' ? resource.kind : '';
  const custom = extractors?.[kind];
  const configs = custom ? custom.map(compileExtractor) : builtinCompiledFor(kind);
  const out: ExtractedImages = {};
  if (!configs) return out;
  for (const cfg of configs) {
    const visit = (obj: unknown, pointer: string, secrets: readonly string[]) => {
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return;
      const rec = obj as Record<string, unknown>;
      let value = rec[cfg.valueField];
      if (typeof value !== 'string') return;
      if (cfg.jmesPath && jmesSearch) {
        const r = jmesSearch(cfg.jmesPath, value);
        if (typeof r !== 'string') {
          throw new VouchError('ERR_INVALID_ARGUMENT', `jmesPath ${cfg.jmesPath} must produce a string, got ${JSON.stringify(r)}`);
        }
        value = r;
      }
      if ((value as string).trim() === '') return;
      const ptr = `${pointer}/${escapePointer(cfg.valueField)}`;
      let base: ImageInfo;
      try {
        const cached = infoCache?.get(value as string);
        if (cached) base = cached;
        else {
          base = getImageInfo(value as string, config);
          if (infoCache) {
            if (infoCache.size >= 1024) infoCache.clear();
            infoCache.set(value as string, base);
          }
        }
      } catch (e) {
        throw new VouchError('ERR_INVALID_REFERENCE', `invalid image '${value}' (${(e as Error).message})`, { cause: e });
      }
      const key = cfg.key ? rec[cfg.key] : undefined;
      const k = typeof key === 'string' ? key : ptr;
      (out[cfg.name] ??= {})[k] = withPointer(base, ptr, secrets.slice());
    };
    walk(resource, cfg.segments, 0, '', EMPTY, visit);
  }
  return out;
}

/** A copy of `info` located at `jsonPointer` (one fixed shape for every extracted image). */
export function withPointer(info: ImageInfo, jsonPointer: string | undefined, imagePullSecrets: string[] | undefined): ImageInfo {
  const out: ImageInfo = {
    registry: info.registry,
    name: info.name,
    path: info.path,
    tag: info.tag,
    digest: info.digest,
    reference: info.reference,
    referenceWithTag: info.referenceWithTag,
    jsonPointer,
    imagePullSecrets,
  };
  if (jsonPointer === undefined) delete out.jsonPointer;
  if (imagePullSecrets === undefined) delete out.imagePullSecrets;
  return out;
}

const EMPTY: readonly string[] = Object.freeze([]);

function collectSecrets(obj: unknown, acc: readonly string[]): readonly string[] {
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    const ips = (obj as Record<string, unknown>).imagePullSecrets;
    if (Array.isArray(ips)) {
      const next = acc.slice();
      for (const s of ips) {
        const n = s && typeof s === 'object' ? (s as Record<string, unknown>).name : undefined;
        if (typeof n === 'string') next.push(n);
      }
      return next;
    }
  }
  return acc;
}

function walk(
  obj: unknown,
  segments: readonly string[],
  at: number,
  pointer: string,
  secrets: readonly string[],
  visit: (obj: unknown, pointer: string, secrets: readonly string[]) => void,
): void {
  const sec = collectSecrets(obj, secrets);
  if (at === segments.length) {
    visit(obj, pointer, sec);
    return;
  }
  const head = segments[at]!;
  if (obj === null || typeof obj !== 'object') return;
  if (head === '*') {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) walk(obj[i], segments, at + 1, `${pointer}/${i}`, sec, visit);
    } else {
      for (const k of Object.keys(obj))
        walk((obj as Record<string, unknown>)[k], segments, at + 1, `${pointer}/${escapePointer(k)}`, sec, visit);
    }
    return;
  }
  if (Array.isArray(obj)) {
    const idx = Number(head);
    if (Number.isInteger(idx)) walk(obj[idx], segments, at + 1, `${pointer}/${head}`, sec, visit);
    return;
  }
  walk((obj as Record<string, unknown>)[head], segments, at + 1, `${pointer}/${escapePointer(head)}`, sec, visit);
}

/** Every extracted image as a flat list (extractor name, key, info), in extraction order. */
export function listImages(images: ExtractedImages): { extractor: string; key: string; info: ImageInfo }[] {
  const out: { extractor: string; key: string; info: ImageInfo }[] = [];
  for (const [extractor, m] of Object.entries(images)) {
    for (const [key, info] of Object.entries(m)) out.push({ extractor, key, info });
  }
  return out;
}
