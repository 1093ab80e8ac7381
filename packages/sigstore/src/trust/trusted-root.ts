import { notYet } from '../stub.js';
import type { TrustMaterial } from '../types.js';

/** Read a Sigstore `trusted_root.json` (media type `application/vnd.dev.sigstore.trustedroot+json;version=0.1`). */
export function parseTrustedRoot(input: string | Uint8Array | object): TrustMaterial {
  void input;
  return notYet('parseTrustedRoot');
}
