import { notYet } from '../stub.js';
import type { Bundle, SigstoreVerification, VerifyBundleOptions } from '../types.js';

/**
 * Verify a Sigstore bundle against an artifact (or its digest) and trust material.
 *
 * @example
 * ```ts
 * import { parseTrustedRoot, verifyBundle } from '@vouch/sigstore';
 * const trust = parseTrustedRoot(await (await fetch('/trusted_root.json')).text());
 * const result = await verifyBundle(bundleJson, {
 *   artifact: new TextEncoder().encode('hello'),
 *   trust,
 *   identity: { subject: 'me@example.com', issuer: 'https://accounts.google.com' },
 * });
 * console.log(result.signer.type, result.times[0]?.time);
 * ```
 */
export async function verifyBundle(
  bundle: Bundle | string | Uint8Array | object,
  options: VerifyBundleOptions,
): Promise<SigstoreVerification> {
  void bundle;
  void options;
  return notYet('verifyBundle');
}
