/** The attacker's move in the `vouch demo` story (the `tamper` step). */
import { type Descriptor, utf8 } from '@vouch/core';
import { fromBase64Url, fromUtf8, toBase64Url } from '@vouch/core/internal';

/**
 * Rewrite a JWS envelope's payload to name `target` instead of the signed artifact, keeping
 * the signature: what an attacker does to reuse a signature for other content.
 */
export function retargetJwsEnvelope(envelope: Uint8Array, target: Descriptor): Uint8Array {
  const env = JSON.parse(fromUtf8(envelope)) as { payload: string; [k: string]: unknown };
  const payload = JSON.parse(fromUtf8(fromBase64Url(env.payload))) as { targetArtifact: Descriptor };
  payload.targetArtifact = { ...payload.targetArtifact, mediaType: target.mediaType, digest: target.digest, size: target.size };
  return utf8(JSON.stringify({ ...env, payload: toBase64Url(utf8(JSON.stringify(payload))) }));
}
