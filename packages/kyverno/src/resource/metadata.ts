import { VouchError } from '@vouch/core';
import type { KubeObject } from '../types.js';

/** Image verification outcome recorded in the annotations. */
export type ImageVerificationStatus = 'pass' | 'fail' | 'skip';

/** Legacy flat annotation (all policies merged). */
export const VERIFY_IMAGES_ANNOTATION = 'kyverno.io/verify-images';
/** Scoped annotation: `{version:1, policies:{"<ns>/<name>":{"<rule>":{"<img>":"pass"}}}}`. */
export const VERIFY_IMAGES_SCOPED_ANNOTATION = 'kyverno.io/verify-images-scoped';

/** Kyverno's `ImageVerificationMetadata`. */
export interface ImageVerificationMetadata {
  /** Flat map image → status. */
  data: Record<string, ImageVerificationStatus> | null;
  /** Scoped map `"<policyNamespace>/<policyName>"` → rule → image → status. */
  policies?: Record<string, Record<string, Record<string, ImageVerificationStatus>>>;
}

/** A JSON patch operation (RFC 6902). */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** Creates empty metadata. */
export function newImageVerificationMetadata(): ImageVerificationMetadata {
  return { data: {} };
}

/** Records an outcome in both the flat and the scoped map. */
export function addImageVerification(
  ivm: ImageVerificationMetadata,
  policyKey: string,
  rule: string,
  image: string,
  status: ImageVerificationStatus,
): void {
  ivm.data ??= {};
  ivm.data[image] = status;
  ivm.policies ??= {};
  ((ivm.policies[policyKey] ??= {})[rule] ??= {})[image] = status;
}

/** Per-key overwrite merge (`Merge`). */
export function mergeImageVerification(base: ImageVerificationMetadata, other: ImageVerificationMetadata): ImageVerificationMetadata {
  const data = { ...(base.data ?? {}), ...(other.data ?? {}) };
  const out: ImageVerificationMetadata = { data };
  if (base.policies || other.policies) {
    out.policies = JSON.parse(JSON.stringify(base.policies ?? {}));
    for (const [p, rules] of Object.entries(other.policies ?? {})) {
      for (const [r, imgs] of Object.entries(rules)) Object.assign(((out.policies![p] ??= {})[r] ??= {}), imgs);
    }
  }
  return out;
}

/** Parses an annotation value: the scoped form when `version == 1` and `policies` is set, else a flat map. */
export function parseImageMetadata(value: string): ImageVerificationMetadata {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch (e) {
    throw new VouchError('ERR_MALFORMED_INPUT', `failed to parse image metadata: ${(e as Error).message}`, { cause: e });
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (o.version === 1 && o.policies && typeof o.policies === 'object') {
      return { data: {}, policies: o.policies as ImageVerificationMetadata['policies'] };
    }
    for (const s of Object.values(o)) {
      if (typeof s !== 'string') throw new VouchError('ERR_MALFORMED_INPUT', 'failed to parse image metadata: values must be strings');
    }
    return { data: o as Record<string, ImageVerificationStatus> };
  }
  if (v === null) return { data: null };
  throw new VouchError('ERR_MALFORMED_INPUT', 'failed to parse image metadata: expected a JSON object');
}

/** JSON with object keys sorted (Go's encoding of maps), written into one parts list and joined once. */
function sortedStringify(v: unknown): string {
  const parts: string[] = [];
  writeSorted(v, parts);
  return parts.join('');
}

function writeSorted(v: unknown, parts: string[]): void {
  if (v === null || typeof v !== 'object') {
    parts.push(JSON.stringify(v));
    return;
  }
  if (Array.isArray(v)) {
    parts.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) parts.push(',');
      writeSorted(v[i], parts);
    }
    parts.push(']');
    return;
  }
  const keys = Object.keys(v as object).sort();
  parts.push('{');
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    parts.push(i > 0 ? ',' : '', JSON.stringify(k), ':');
    writeSorted((v as Record<string, unknown>)[k], parts);
  }
  parts.push('}');
}

/**
 * The annotation JSON patch Kyverno writes: `add /metadata/annotations` (when the resource has none),
 * the flat `kyverno.io/verify-images` value, then `kyverno.io/verify-images-scoped` when scoped data exists.
 */
export function imageMetadataPatches(ivm: ImageVerificationMetadata, hasAnnotations: boolean): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  if (!hasAnnotations) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
  ops.push({
    op: 'add',
    path: '/metadata/annotations/kyverno.io~1verify-images',
    value: ivm.data === null ? 'null' : sortedStringify(ivm.data),
  });
  if (ivm.policies && Object.keys(ivm.policies).length > 0) {
    ops.push({
      op: 'add',
      path: '/metadata/annotations/kyverno.io~1verify-images-scoped',
      value: `{"version":1,"policies":${sortedStringify(ivm.policies)}}`,
    });
  }
  return ops;
}

/**
 * `IsImageVerifiedForPolicy`: reads only the scoped annotation; missing → `fail`.
 * Throws ERR_MALFORMED_INPUT when the annotation cannot be parsed.
 */
export function isImageVerifiedForPolicy(
  annotations: Record<string, string> | undefined,
  policyNamespace: string,
  policyName: string,
  rule: string,
  image: string,
): ImageVerificationStatus {
  const raw = annotations?.[VERIFY_IMAGES_SCOPED_ANNOTATION];
  if (raw === undefined) return 'fail';
  const ivm = parseImageMetadata(raw);
  return ivm.policies?.[`${policyNamespace}/${policyName}`]?.[rule]?.[image] ?? 'fail';
}

/** Legacy `IsImageVerified` over the flat annotation. Throws like Kyverno when the annotation is absent. */
export function isImageVerified(
  resource: { metadata?: { annotations?: Record<string, string> } } | null,
  image: string,
): ImageVerificationStatus {
  if (!resource) throw new VouchError('ERR_INVALID_ARGUMENT', 'nil resource');
  const ann = resource.metadata?.annotations ?? {};
  if (Object.keys(ann).length === 0) return 'fail';
  const raw = ann[VERIFY_IMAGES_ANNOTATION];
  if (raw === undefined) throw new VouchError('ERR_VERIFICATION_FAILED', 'image is not verified');
  const ivm = parseImageMetadata(raw);
  return ivm.data?.[image] ?? 'fail';
}

/** Parses the scoped annotation of a resource (helper for callers and tests). */
export function scopedAnnotation(resource: KubeObject): ImageVerificationMetadata | undefined {
  const raw = resource.metadata?.annotations?.[VERIFY_IMAGES_SCOPED_ANNOTATION];
  return raw === undefined ? undefined : parseImageMetadata(raw);
}
