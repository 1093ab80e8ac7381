import { type Descriptor, isVouchError, utf8, VouchError } from '@vouch/core';
import { assertDescriptor, fromUtf8 } from '@vouch/core/internal';
import { encodeGoJson, isJsonObject, parseStrictJson } from './json.js';
import type { NotaryPayload } from './model.js';

/**
 * Parse and validate Notary payload bytes: a JSON object (duplicate member names rejected)
 * whose `targetArtifact` is an OCI descriptor (mediaType, digest, size; optional string-valued
 * annotations and artifactType). Other top-level members are ignored, as notation does.
 * Throws ERR_ENVELOPE_MALFORMED.
 */
export function parsePayload(bytes: Uint8Array): NotaryPayload {
  let value: unknown;
  try {
    value = parseStrictJson(fromUtf8(bytes), 'ERR_ENVELOPE_MALFORMED', 'the signed payload');
  } catch (e) {
    if (isVouchError(e) && e.code === 'ERR_ENVELOPE_MALFORMED') throw e;
    throw new VouchError('ERR_ENVELOPE_MALFORMED', 'the signed payload is not UTF-8 JSON', { cause: e });
  }
  if (!isJsonObject(value)) throw new VouchError('ERR_ENVELOPE_MALFORMED', 'the signed payload must be a JSON object');
  const target = value.targetArtifact;
  if (target === undefined) throw new VouchError('ERR_ENVELOPE_MALFORMED', 'the signed payload has no targetArtifact');
  try {
    assertDescriptor(target, 'payload.targetArtifact');
  } catch (e) {
    throw new VouchError('ERR_ENVELOPE_MALFORMED', `the signed payload is not a Notary payload: ${(e as Error).message}`, { cause: e });
  }
  return { targetArtifact: target };
}

/**
 * The descriptor notation signs: `{mediaType, digest, size, annotations}` only (artifactType,
 * urls, platform and data are dropped), annotations omitted when empty.
 */
export function sanitizeTargetArtifact(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.annotations && Object.keys(d.annotations).length > 0) out.annotations = { ...d.annotations };
  return out;
}

/**
 * Encode a payload the way notation does.
 * - `'struct'` (COSE, and notation's own payload bytes): Go struct order
 *   `{"targetArtifact":{"mediaType","digest","size","annotations"}}`, annotations sorted.
 * - `'sorted'` (JWS: notation-core-go round-trips the payload through a map): every object's
 *   keys sorted.
 * The descriptor is sanitised first (`sanitizeTargetArtifact`).
 * Throws ERR_INVALID_ARGUMENT for an invalid descriptor.
 */
export function encodePayload(payload: NotaryPayload, style: 'struct' | 'sorted'): Uint8Array {
  try {
    assertDescriptor(payload?.targetArtifact, 'payload.targetArtifact');
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `cannot sign: ${(e as Error).message}`, { cause: e });
  }
  const d = sanitizeTargetArtifact(payload.targetArtifact);
  if (style === 'sorted') return utf8(encodeGoJson({ targetArtifact: d }, true));
  // Built by hand: a JS object would reorder integer-like keys, Go struct order must be kept.
  let body = `"mediaType":${encodeGoJson(d.mediaType)},"digest":${encodeGoJson(d.digest)},"size":${encodeGoJson(d.size)}`;
  if (d.annotations) body += `,"annotations":${encodeGoJson(d.annotations, true)}`;
  return utf8(`{"targetArtifact":{${body}}}`);
}
