import { VouchError } from '@vouch/core';
import type { EnvelopeCodec } from './model.js';

/**
 * Pick the codec for an envelope media type from the codecs the caller passed in (no global
 * registry). Throws ERR_ENVELOPE_UNSUPPORTED for any other media type, with notation's wording.
 */
export function codecForMediaType(mediaType: string, codecs: readonly EnvelopeCodec[]): EnvelopeCodec {
  const c = codecs.find((x) => x.mediaType === mediaType);
  if (!c) {
    throw new VouchError(
      'ERR_ENVELOPE_UNSUPPORTED',
      `signature envelope format with media type ${JSON.stringify(mediaType)} is not supported`,
      {
        details: { mediaType, supported: codecs.map((x) => x.mediaType) },
      },
    );
  }
  return c;
}
