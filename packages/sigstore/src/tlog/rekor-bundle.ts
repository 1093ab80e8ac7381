import { notYet } from '../stub.js';
import type { RekorBundle, TlogEntry } from '../types.js';

/** Read cosign's Rekor bundle annotation (`dev.sigstore.cosign/bundle`) as a transparency log entry with its SET. */
export function parseRekorBundle(input: string | RekorBundle): TlogEntry {
  void input;
  return notYet('parseRekorBundle');
}
