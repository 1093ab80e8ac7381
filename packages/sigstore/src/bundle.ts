import { notYet } from './stub.js';
import type { Bundle, BundleMediaType } from './types.js';

/** Every bundle media type vouch reads. */
export const BUNDLE_MEDIA_TYPES: readonly BundleMediaType[] = Object.freeze([
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
]);

/** Parse a Sigstore bundle (JSON text, bytes, or the parsed JSON object) and check the rules of its version. */
export function parseBundle(input: string | Uint8Array | object): Bundle {
  void input;
  return notYet('parseBundle');
}
