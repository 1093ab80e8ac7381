/**
 * cosign's simple-signing payload (media type `application/vnd.dev.cosign.simplesigning.v1+json`),
 * the signed claim of a `.sig` tag or an OCI 1.1 signature referrer:
 *
 *   {"critical":{"identity":{"docker-reference":"<repo>"},
 *                "image":{"docker-manifest-digest":"sha256:<hex>"},
 *                "type":"cosign container image signature"},
 *    "optional":{…}|null}
 *
 * Claims: `critical.image.docker-manifest-digest` must equal the digest of the image verified;
 * `optional` must carry every annotation the caller lists. GAP: cosign checks neither the
 * `type` nor unknown `critical` fields; vouch follows the containers/image signature format,
 * whose consumers must reject both (a payload that means something else is never taken as a
 * cosign signature).
 */

import { isDigest, utf8, VouchError } from '@vouch/core';
import { fromUtf8 } from '@vouch/core/internal';

/** Media type of the simple-signing payload layer. */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** `critical.type` cosign writes. */
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

/** A parsed simple-signing payload. */
export interface SimpleSigningPayload {
  /** `critical.identity.docker-reference` (cosign writes the repository, without tag or digest). */
  dockerReference: string;
  /** `critical.image.docker-manifest-digest`. */
  dockerManifestDigest: string;
  /** `critical.type`. */
  type: string;
  /** `optional` (annotations given at signing; null when absent). Values are as written (cosign writes strings). */
  optional: Record<string, unknown> | null;
}

function bad(message: string): VouchError {
  return new VouchError('ERR_ENVELOPE_MALFORMED', `simple-signing payload: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw bad(`unknown field "${k}" in ${where}`);
}

/** Largest payload accepted (cosign's are a few hundred bytes): 1 MiB. */
export const MAX_SIMPLE_SIGNING_BYTES = 1024 * 1024;

/**
 * Parse a simple-signing payload. Throws ERR_ENVELOPE_MALFORMED when it is not JSON, lacks a
 * `critical` section, identity, digest or type, has a `type` other than
 * `COSIGN_SIGNATURE_TYPE`, or has unknown fields in `critical`.
 */
export function parseSimpleSigning(bytes: Uint8Array): SimpleSigningPayload {
  if (bytes.length > MAX_SIMPLE_SIGNING_BYTES) throw bad(`${bytes.length} bytes is over the ${MAX_SIMPLE_SIGNING_BYTES}-byte limit`);
  let doc: unknown;
  try {
    doc = JSON.parse(fromUtf8(bytes));
  } catch (e) {
    throw new VouchError('ERR_ENVELOPE_MALFORMED', `simple-signing payload is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isObject(doc)) throw bad('not a JSON object');
  const { critical, optional } = doc;
  if (!isObject(critical)) throw bad('"critical" is missing or not an object');
  onlyKeys(critical, ['identity', 'image', 'type'], '"critical"');
  const { identity, image, type } = critical;
  if (!isObject(identity)) throw bad('"critical.identity" is missing or not an object');
  onlyKeys(identity, ['docker-reference'], '"critical.identity"');
  const dockerReference = identity['docker-reference'];
  if (typeof dockerReference !== 'string') throw bad('"critical.identity.docker-reference" is missing or not a string');
  if (!isObject(image)) throw bad('"critical.image" is missing or not an object');
  onlyKeys(image, ['docker-manifest-digest'], '"critical.image"');
  const dockerManifestDigest = image['docker-manifest-digest'];
  if (typeof dockerManifestDigest !== 'string' || !isDigest(dockerManifestDigest)) {
    throw bad('"critical.image.docker-manifest-digest" is missing or not a digest');
  }
  if (typeof type !== 'string') throw bad('"critical.type" is missing or not a string');
  if (type !== COSIGN_SIGNATURE_TYPE) throw bad(`"critical.type" is "${type}", expected "${COSIGN_SIGNATURE_TYPE}"`);
  if (optional !== undefined && optional !== null && !isObject(optional)) throw bad('"optional" is not an object');
  return { dockerReference, dockerManifestDigest, type, optional: (optional as Record<string, unknown> | undefined) ?? null };
}

/** Options of {@link buildSimpleSigning}. */
export interface BuildSimpleSigningOptions {
  /** The repository, as cosign writes it (`registry/repository`, no tag or digest). */
  dockerReference: string;
  /** The image manifest digest signed. */
  digest: string;
  /** Annotations (`cosign sign -a k=v`); omitted: `"optional":null`, as cosign writes. */
  annotations?: Readonly<Record<string, string>>;
}

/** The payload bytes cosign writes for an image signature (same field order, compact JSON). */
export function buildSimpleSigning(options: BuildSimpleSigningOptions): Uint8Array {
  if (!isDigest(options.digest)) throw new VouchError('ERR_INVALID_DIGEST', `"${options.digest}" is not a digest`);
  const optional = options.annotations && Object.keys(options.annotations).length > 0 ? sortedObject(options.annotations) : null;
  return utf8(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': options.dockerReference },
        image: { 'docker-manifest-digest': options.digest },
        type: COSIGN_SIGNATURE_TYPE,
      },
      optional,
    }),
  );
}

/** Go's encoding/json writes map keys sorted. */
function sortedObject(o: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

/**
 * Annotations `required` that `actual` lacks or holds with another value, as `key=value` strings
 * (empty: all present). Values are compared as strings, the way cosign compares them (`-a k=v`).
 */
export function missingAnnotations(
  actual: Readonly<Record<string, unknown>> | null | undefined,
  required: Readonly<Record<string, string>> | undefined,
): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(required ?? {})) {
    const got = actual?.[k];
    if (got === undefined || (typeof got === 'string' ? got : JSON.stringify(got)) !== v) out.push(`${k}=${v}`);
  }
  return out;
}

/**
 * Check a payload's claims against the image: the digest must match (ERR_ARTIFACT_MISMATCH) and
 * every required annotation be present (ERR_USER_METADATA_MISMATCH).
 */
export function checkSimpleSigningClaims(
  payload: SimpleSigningPayload,
  expected: { digest: string; annotations?: Readonly<Record<string, string>> },
): void {
  if (payload.dockerManifestDigest !== expected.digest) {
    throw new VouchError(
      'ERR_ARTIFACT_MISMATCH',
      `invalid or missing digest in claim: the signature is for ${payload.dockerManifestDigest}, not ${expected.digest}`,
      { details: { expected: expected.digest, actual: payload.dockerManifestDigest } },
    );
  }
  const missing = missingAnnotations(payload.optional, expected.annotations);
  if (missing.length > 0) {
    throw new VouchError('ERR_USER_METADATA_MISMATCH', `missing or incorrect annotation: ${missing.join(', ')}`, { details: { missing } });
  }
}
