/** Verifying a Sigstore bundle: parse it, then run the one verification over it. */
import { VouchError } from '@vouch/core';
import { isParsedBundle, parseBundle } from '../bundle.js';
import type { Bundle, SigstoreVerification, VerifyBundleOptions } from '../types.js';
import { verifyEntity } from './engine.js';
import type { SignedEntity } from './entity.js';

/** The entity a parsed bundle describes, with the artifact bytes when the caller has them. */
export function bundleEntity(bundle: Bundle, artifact: Uint8Array | undefined): SignedEntity {
  const c = bundle.content;
  const content: SignedEntity['content'] =
    c.type === 'messageSignature'
      ? {
          type: 'message',
          signature: c.signature,
          ...(artifact ? { data: artifact } : {}),
          ...(c.messageDigest ? { claimedDigest: { hash: c.messageDigest.algorithm, value: c.messageDigest.digest } } : {}),
        }
      : { type: 'dsse', envelope: c.envelope };
  return {
    content,
    ...(bundle.certificate ? { certificate: bundle.certificate } : {}),
    intermediates: bundle.intermediates,
    ...(bundle.publicKeyHint !== undefined ? { keyHint: bundle.publicKeyHint } : {}),
    tlogEntries: bundle.tlogEntries,
    timestamps: bundle.rfc3161Timestamps,
    origin: `v${bundle.version} bundle`,
  };
}

/**
 * Verify a Sigstore bundle (v0.1–v0.3) against an artifact (or, for DSSE bundles, its digest)
 * and trust material. Checks, in order: the signature over the artifact (or the DSSE envelope,
 * whose in-toto subject must carry the artifact's digest); each transparency log entry (trusted
 * log, SET, inclusion proof with a signed checkpoint, a body naming this signature, signer and
 * digest); RFC 3161 timestamps; and for a certificate signer, the chain to a trusted CA at every
 * proven signing time, the code-signing EKU, embedded SCTs and the identity.
 *
 * @example
 * ```ts
 * import { parseTrustedRoot, verifyBundle } from '@vouch/sigstore';
 * const trust = parseTrustedRoot(trustedRootJson);
 * const result = await verifyBundle(bundleJson, {
 *   artifact: new TextEncoder().encode('hello'),
 *   trust,
 *   identity: { subject: 'me@example.com', issuer: 'https://accounts.google.com' },
 * });
 * console.log(result.signer.type, result.times[0]?.time);
 * ```
 * @throws VouchError — ERR_BUNDLE_INVALID, ERR_SIGNATURE_INTEGRITY, ERR_ARTIFACT_MISMATCH,
 *   ERR_TLOG_INVALID, ERR_TLOG_ENTRY_MISSING, ERR_TIMESTAMP_INVALID, ERR_CERT_UNTRUSTED,
 *   ERR_CERT_EXPIRED, ERR_CERT_CHAIN_INVALID, ERR_SCT_INVALID, ERR_IDENTITY_UNTRUSTED,
 *   ERR_TRUST_MATERIAL_MISSING (naming the field to set), ERR_INVALID_ARGUMENT.
 */
export async function verifyBundle(
  bundle: Bundle | string | Uint8Array | object,
  options: VerifyBundleOptions,
): Promise<SigstoreVerification> {
  if (!options || typeof options !== 'object')
    throw new VouchError('ERR_INVALID_ARGUMENT', 'verifyBundle needs options (trust, artifact or digest)');
  if (options.artifact !== undefined && !(options.artifact instanceof Uint8Array))
    throw new VouchError('ERR_INVALID_ARGUMENT', 'artifact must be a Uint8Array');
  const parsed = isParsedBundle(bundle) ? bundle : parseBundle(bundle);
  return verifyEntity(bundleEntity(parsed, options.artifact), options, { artifact: options.artifact, digest: options.digest });
}
