import { notYet } from '../stub.js';
import type { CosignSignature, SigstoreVerification, VerifyCosignSignatureOptions } from '../types.js';

/**
 * Verify a cosign signature in its legacy registry form (no v0.3 bundle needed).
 *
 * @example
 * ```ts
 * import { trustMaterialFromPem, verifyCosignSignature } from '@vouch/sigstore';
 * const trust = trustMaterialFromPem({ publicKeys: cosignPub, rekorPublicKeys: rekorPub });
 * await verifyCosignSignature(
 *   { content: { type: 'message', payload: simpleSigning, signature }, rekorBundle: bundleAnnotation },
 *   { trust },
 * );
 * ```
 */
export async function verifyCosignSignature(
  signature: CosignSignature,
  options: VerifyCosignSignatureOptions,
): Promise<SigstoreVerification> {
  void signature;
  void options;
  return notYet('verifyCosignSignature');
}
