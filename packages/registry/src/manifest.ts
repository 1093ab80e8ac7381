import {
  Annotation,
  type Descriptor,
  digestOf,
  type EnvelopeMediaType,
  type ImageIndex,
  type ImageManifest,
  MediaType,
  utf8,
  VouchError,
} from '@vouch/core';
import { assertDescriptor, EMPTY_JSON, fromUtf8, hashBytes, toHex } from '@vouch/core/internal';

/** The empty config descriptor of the current signature-manifest form (`{}`, inlined as `data`). */
export const EMPTY_CONFIG: Descriptor = {
  mediaType: MediaType.OCI_EMPTY,
  digest: EMPTY_JSON.digest,
  size: EMPTY_JSON.size,
  data: EMPTY_JSON.data,
};

/** The 2 bytes `{}` behind `EMPTY_CONFIG`. */
export const EMPTY_CONFIG_BYTES: Uint8Array = utf8('{}');

const MANIFEST_TYPES: ReadonlySet<string> = new Set([
  MediaType.OCI_MANIFEST,
  MediaType.OCI_INDEX,
  MediaType.OCI_ARTIFACT_MANIFEST,
  MediaType.DOCKER_MANIFEST,
  MediaType.DOCKER_MANIFEST_LIST,
]);

/** True for the manifest and index media types vouch reads (OCI, OCI artifact, Docker v2). */
export function isManifestMediaType(mediaType: string): boolean {
  return MANIFEST_TYPES.has(mediaType);
}

/** `Accept` list for manifest requests: OCI and Docker manifests and indexes (and the old artifact manifest). */
export const MANIFEST_ACCEPT: string = [
  MediaType.OCI_MANIFEST,
  MediaType.OCI_INDEX,
  MediaType.DOCKER_MANIFEST,
  MediaType.DOCKER_MANIFEST_LIST,
  MediaType.OCI_ARTIFACT_MANIFEST,
].join(', ');

function sortedStrings(record: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(record).sort()) out[k] = record[k]!;
  return out;
}

/**
 * A descriptor rebuilt with fields in the order Go's `ocispec.Descriptor` marshals them
 * (mediaType, digest, size, urls, annotations with sorted keys, data, platform, artifactType),
 * so that manifests we write are byte-identical to notation's.
 */
export function orderedDescriptor(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.urls !== undefined && d.urls.length > 0) out.urls = [...d.urls];
  if (d.annotations !== undefined && Object.keys(d.annotations).length > 0) out.annotations = sortedStrings(d.annotations);
  if (d.data !== undefined && d.data !== '') out.data = d.data;
  if (d.platform !== undefined) out.platform = d.platform;
  if (d.artifactType !== undefined && d.artifactType !== '') out.artifactType = d.artifactType;
  return out;
}

/**
 * `JSON.stringify` with Go's `encoding/json` HTML escaping (`<`, `>`, `&`, U+2028, U+2029), so
 * digests of what we write match notation's for the same content.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Parse JSON bytes into an object; ERR_MALFORMED_INPUT naming `what` otherwise. */
export function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch (e) {
    throw new VouchError('ERR_MALFORMED_INPUT', `${what} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VouchError('ERR_MALFORMED_INPUT', `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Options of {@link buildSignatureManifest}. */
export interface BuildSignatureManifestOptions {
  /** The signed artifact's manifest descriptor; written as `{mediaType, digest, size}`. */
  subject: Descriptor;
  /** The pushed envelope blob (media type `application/jose+json` or `application/cose`). */
  envelopeDescriptor: Descriptor;
  /** Manifest annotations (thumbprints, created, plugin annotations); written with sorted keys. */
  annotations: Record<string, string>;
  /**
   * `current` (default): `artifactType` + the empty config (OCI image-spec 1.1 artifact guidance).
   * `legacy`: no `artifactType`, config media type `application/vnd.cncf.notary.signature`: what
   * notation 1.3 writes everywhere (registries and OCI layouts), and the only form notation-go's
   * OCI layout reader lists. `@vouch/notation`'s `sign` writes this form by default.
   */
  form?: 'current' | 'legacy';
}

/** A signature manifest ready to push. */
export interface BuiltSignatureManifest {
  manifest: ImageManifest;
  /** The exact bytes to push (compact JSON in notation's field order). */
  bytes: Uint8Array;
  /** `{mediaType, digest, size, artifactType, annotations}`: the form a referrers listing shows. */
  descriptor: Descriptor;
}

function assertEnvelopeType(mediaType: string, where: string): asserts mediaType is EnvelopeMediaType {
  if (mediaType !== MediaType.JWS && mediaType !== MediaType.COSE) {
    throw new VouchError(
      'ERR_ENVELOPE_UNSUPPORTED',
      `${where} has media type "${mediaType}"; a Notary signature envelope must be ${MediaType.JWS} or ${MediaType.COSE}`,
      { details: { mediaType } },
    );
  }
}

/**
 * Build a Notary signature manifest (an OCI image manifest with `subject`, one envelope layer
 * and the given annotations), as compact JSON in notation's field order. The `legacy` form is
 * byte-identical to the manifest notation 1.3 writes for the same envelope, subject and
 * annotations (the interop suite checks it against the real notation).
 */
export function buildSignatureManifest(options: BuildSignatureManifestOptions): BuiltSignatureManifest {
  const { subject, envelopeDescriptor, annotations } = options;
  assertDescriptor(subject, 'subject');
  assertDescriptor(envelopeDescriptor, 'envelopeDescriptor');
  assertEnvelopeType(envelopeDescriptor.mediaType, 'envelopeDescriptor');
  if (typeof annotations !== 'object' || annotations === null) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'annotations must be an object of strings');
  }
  for (const [k, v] of Object.entries(annotations)) {
    if (typeof v !== 'string') throw new VouchError('ERR_INVALID_ARGUMENT', `annotation "${k}" must be a string`);
  }
  const legacy = options.form === 'legacy';
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST } as ImageManifest;
  if (!legacy) manifest.artifactType = MediaType.NOTARY_SIGNATURE;
  manifest.config = legacy
    ? { mediaType: MediaType.NOTARY_SIGNATURE, digest: EMPTY_JSON.digest, size: EMPTY_JSON.size }
    : { ...EMPTY_CONFIG };
  manifest.layers = [orderedDescriptor({ ...envelopeDescriptor, artifactType: undefined, platform: undefined })];
  manifest.subject = { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
  if (Object.keys(annotations).length > 0) manifest.annotations = sortedStrings(annotations);
  const bytes = utf8(goJson(manifest));
  const descriptor: Descriptor = {
    mediaType: MediaType.OCI_MANIFEST,
    digest: digestOf(bytes),
    size: bytes.length,
    artifactType: MediaType.NOTARY_SIGNATURE,
  };
  if (manifest.annotations) descriptor.annotations = { ...manifest.annotations };
  return { manifest, bytes, descriptor };
}

/** What {@link parseSignatureManifest} found. */
export interface ParsedSignatureManifest {
  /** The envelope blob descriptor (the one layer / blob). */
  envelope: Descriptor & { mediaType: EnvelopeMediaType };
  /** Which encoding: `current` (artifactType + empty config), `legacy` (config media type), `artifact` (old artifact manifest). */
  form: 'current' | 'legacy' | 'artifact';
  subject?: Descriptor;
  annotations: Record<string, string>;
}

/**
 * Parse and validate a Notary signature manifest: an OCI image manifest in the current form
 * (`artifactType` = notary signature with the empty config) or the legacy form (no
 * `artifactType`, config media type = notary signature), or the old OCI artifact manifest
 * (`blobs`). Exactly one layer/blob, of type JWS or COSE. Throws ERR_MALFORMED_INPUT (not a
 * signature manifest) or ERR_ENVELOPE_UNSUPPORTED (unknown envelope type).
 *
 * `expectedMediaType` is the media type of the descriptor the bytes were fetched by; when the
 * body declares another one, it is rejected.
 */
export function parseSignatureManifest(bytes: Uint8Array, expectedMediaType?: string): ParsedSignatureManifest {
  const m = parseJsonObject(bytes, 'signature manifest');
  const declared = m.mediaType;
  if (declared !== undefined && typeof declared !== 'string') {
    throw new VouchError('ERR_MALFORMED_INPUT', 'signature manifest mediaType must be a string');
  }
  const mediaType = (declared as string | undefined) ?? expectedMediaType ?? MediaType.OCI_MANIFEST;
  if (expectedMediaType !== undefined && declared !== undefined && declared !== expectedMediaType) {
    throw new VouchError(
      'ERR_MALFORMED_INPUT',
      `signature manifest declares media type "${declared}" but was referenced as "${expectedMediaType}"`,
    );
  }
  if (m.schemaVersion !== 2 && mediaType !== MediaType.OCI_ARTIFACT_MANIFEST) {
    throw new VouchError('ERR_MALFORMED_INPUT', 'signature manifest schemaVersion must be 2');
  }
  if (m.artifactType !== undefined && typeof m.artifactType !== 'string') {
    throw new VouchError('ERR_MALFORMED_INPUT', 'signature manifest artifactType must be a string');
  }
  const annotations = readAnnotations(m.annotations);
  let subject: Descriptor | undefined;
  if (m.subject !== undefined) {
    assertDescriptor(m.subject, 'signature manifest subject');
    subject = m.subject;
  }
  let form: ParsedSignatureManifest['form'];
  let layers: unknown;
  if (mediaType === MediaType.OCI_MANIFEST) {
    assertDescriptor(m.config, 'signature manifest config');
    const config = m.config as Descriptor;
    if (m.artifactType !== undefined && m.artifactType !== '') {
      if (m.artifactType !== MediaType.NOTARY_SIGNATURE) {
        throw new VouchError('ERR_MALFORMED_INPUT', `manifest artifactType "${m.artifactType}" is not a Notary signature`);
      }
      if (config.mediaType !== MediaType.OCI_EMPTY) {
        throw new VouchError(
          'ERR_MALFORMED_INPUT',
          `Notary signature manifest with artifactType must have an empty config (${MediaType.OCI_EMPTY}), found "${config.mediaType}"`,
        );
      }
      form = 'current';
    } else {
      if (config.mediaType !== MediaType.NOTARY_SIGNATURE) {
        throw new VouchError(
          'ERR_MALFORMED_INPUT',
          `manifest is not a Notary signature: no artifactType and config media type "${config.mediaType}"`,
        );
      }
      form = 'legacy';
    }
    layers = m.layers;
  } else if (mediaType === MediaType.OCI_ARTIFACT_MANIFEST) {
    if (m.artifactType !== MediaType.NOTARY_SIGNATURE) {
      throw new VouchError('ERR_MALFORMED_INPUT', `artifact manifest artifactType "${String(m.artifactType)}" is not a Notary signature`);
    }
    form = 'artifact';
    layers = m.blobs;
  } else {
    throw new VouchError('ERR_MALFORMED_INPUT', `media type "${mediaType}" is not a signature manifest type`);
  }
  if (!Array.isArray(layers) || layers.length !== 1) {
    throw new VouchError(
      'ERR_MALFORMED_INPUT',
      `a Notary signature manifest must have exactly one ${form === 'artifact' ? 'blob' : 'layer'}, found ${Array.isArray(layers) ? layers.length : 'none'}`,
    );
  }
  const envelope = layers[0] as unknown;
  assertDescriptor(envelope, 'signature manifest layer');
  assertEnvelopeType(envelope.mediaType, 'signature manifest layer');
  const out: ParsedSignatureManifest = { envelope: envelope as ParsedSignatureManifest['envelope'], form, annotations };
  if (subject) out.subject = subject;
  return out;
}

function readAnnotations(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new VouchError('ERR_MALFORMED_INPUT', 'manifest annotations must be an object of strings');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new VouchError('ERR_MALFORMED_INPUT', `manifest annotation "${k}" must be a string`);
    out[k] = v;
  }
  return out;
}

/**
 * The value of the `io.cncf.notary.x509chain.thumbprint#S256` annotation: a JSON array (as a
 * string) of the lowercase hex SHA-256 of each certificate (DER), in chain order.
 */
export function thumbprintAnnotation(certs: readonly Uint8Array[]): string {
  return JSON.stringify(certs.map((der) => toHex(hashBytes(der))));
}

/**
 * Read a thumbprint annotation value back: lowercase hex strings, or `undefined` when it is not
 * a JSON array of 64-hex-digit strings. Compare case-insensitively (the spec's examples are uppercase).
 */
export function parseThumbprintAnnotation(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  try {
    const arr: unknown = JSON.parse(value);
    if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'string' && /^[0-9a-fA-F]{64}$/.test(x))) return undefined;
    return (arr as string[]).map((x) => x.toLowerCase());
  } catch {
    return undefined;
  }
}

/** The annotation key of {@link thumbprintAnnotation}. */
export const THUMBPRINT_ANNOTATION: string = Annotation.THUMBPRINT_S256;

/** A manifest or index parsed just enough for referrers discovery. */
export interface ManifestSummary {
  mediaType?: string;
  artifactType?: string;
  configMediaType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
  /** Child descriptors of an index. */
  manifests?: Descriptor[];
}

/**
 * Parse the fields of a manifest/index needed for discovery, tolerating anything else.
 * Throws ERR_MALFORMED_INPUT when the bytes are not a JSON object.
 */
export function summarizeManifest(bytes: Uint8Array, what = 'manifest'): ManifestSummary {
  const m = parseJsonObject(bytes, what);
  const out: ManifestSummary = {};
  if (typeof m.mediaType === 'string') out.mediaType = m.mediaType;
  if (typeof m.artifactType === 'string' && m.artifactType !== '') out.artifactType = m.artifactType;
  const config = m.config as Record<string, unknown> | undefined;
  if (config && typeof config === 'object' && typeof config.mediaType === 'string') out.configMediaType = config.mediaType;
  if (m.subject !== undefined) {
    try {
      assertDescriptor(m.subject, `${what} subject`);
      out.subject = m.subject;
    } catch {
      // a malformed subject refers to nothing
    }
  }
  try {
    out.annotations = readAnnotations(m.annotations);
  } catch {
    out.annotations = {};
  }
  if (Array.isArray(m.manifests)) {
    out.manifests = [];
    for (const d of m.manifests) {
      try {
        assertDescriptor(d, `${what} manifests[]`);
        out.manifests.push(d);
      } catch {
        // skip malformed entries
      }
    }
  }
  return out;
}

/** The media type of a manifest given only its body (declared `mediaType`, else inferred from its fields). */
export function inferManifestMediaType(bytes: Uint8Array): string {
  const m = parseJsonObject(bytes, 'manifest');
  if (typeof m.mediaType === 'string' && m.mediaType !== '') return m.mediaType;
  if (Array.isArray(m.manifests)) return MediaType.OCI_INDEX;
  if (Array.isArray(m.blobs)) return MediaType.OCI_ARTIFACT_MANIFEST;
  if (m.config !== undefined) return MediaType.OCI_MANIFEST;
  throw new VouchError('ERR_MALFORMED_INPUT', 'cannot tell the media type of the manifest: no mediaType, config or manifests field');
}

/**
 * The referrers-listing descriptor of a manifest whose `subject` is the target: artifactType is the
 * manifest's `artifactType`, else its config media type (Distribution spec).
 */
export function referrerDescriptor(descriptor: Descriptor, summary: ManifestSummary): Descriptor {
  const out: Descriptor = {
    mediaType: summary.mediaType ?? descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
  };
  const artifactType = summary.artifactType ?? summary.configMediaType;
  if (artifactType !== undefined) out.artifactType = artifactType;
  if (summary.annotations && Object.keys(summary.annotations).length > 0) out.annotations = { ...summary.annotations };
  return out;
}

/** Why {@link acceptReferrer} dropped a candidate, or undefined when kept. */
export type ReferrerRejection = 'too-large' | 'subject-mismatch' | 'artifact-type' | 'notary-non-empty-config';

/**
 * The filter notation applies when it lists signatures by walking a store (notes §1.3):
 * manifest ≤ `maxManifestBytes`, `subject` equal to the target (mediaType, digest, size), the
 * requested artifactType (manifest artifactType, else config media type), and when Notary
 * signatures are requested, the form rules (artifactType + empty config, or no artifactType +
 * notary config).
 */
export function acceptReferrer(
  descriptor: Descriptor,
  summary: ManifestSummary,
  target: Descriptor,
  artifactType: string | undefined,
  maxManifestBytes: number,
): ReferrerRejection | undefined {
  if (descriptor.size > maxManifestBytes) return 'too-large';
  const s = summary.subject;
  if (!s || s.digest !== target.digest || s.size !== target.size || s.mediaType !== target.mediaType) return 'subject-mismatch';
  const effective = summary.artifactType ?? summary.configMediaType;
  if (artifactType !== undefined && effective !== artifactType) return 'artifact-type';
  if (artifactType === MediaType.NOTARY_SIGNATURE && summary.mediaType !== MediaType.OCI_ARTIFACT_MANIFEST) {
    if (summary.artifactType !== undefined && summary.configMediaType !== MediaType.OCI_EMPTY) return 'notary-non-empty-config';
  }
  return undefined;
}

/** Build an OCI image index (compact JSON) listing `manifests`, e.g. a referrers tag-schema index. */
export function buildIndex(manifests: readonly Descriptor[], extra: Partial<ImageIndex> = {}): Uint8Array {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_INDEX,
    ...extra,
    manifests: manifests.map(orderedDescriptor),
  } as ImageIndex;
  return utf8(goJson(index));
}
