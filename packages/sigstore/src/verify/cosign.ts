/**
 * Verifying a cosign signature in its legacy registry form (cosign's `.sig` and `.att` tags):
 * the signature or DSSE envelope, the certificate and chain annotations, the Rekor bundle (SET)
 * and RFC 3161 timestamp annotations, mapped onto the one verification.
 */

import { isVouchError, VouchError } from '@vouch/core';
import { fromBase64 } from '@vouch/core/internal';
import { type Certificate, parseCertificate, parseCertificates } from '@vouch/x509';
import { parseDsseEnvelope } from '../dsse.js';
import { JsonReader, parseJsonInput } from '../internal/json.js';
import { parseRekorBundle } from '../tlog/rekor-bundle.js';
import type { CosignSignature, SigstoreVerification, VerifyCosignSignatureOptions } from '../types.js';
import { verifyEntity } from './engine.js';
import type { SignedEntity } from './entity.js';

function certificateOf(input: string | Uint8Array | Certificate): Certificate {
  if (typeof input === 'string') {
    const certs = parseCertificates(input);
    if (certs.length !== 1)
      throw new VouchError('ERR_CERT_INVALID', `the certificate annotation holds ${certs.length} certificates, expected one`);
    return certs[0]!;
  }
  if (input instanceof Uint8Array) return parseCertificate(input);
  if (typeof input === 'object' && input !== null && input.der instanceof Uint8Array) return input;
  throw new VouchError('ERR_INVALID_ARGUMENT', 'certificate: expected PEM, DER bytes or a parsed certificate');
}

/** cosign's RFC 3161 annotation `{"SignedRFC3161Timestamp":"<base64>"}`, or the DER token. */
function timestampOf(input: string | Uint8Array): Uint8Array {
  if (input instanceof Uint8Array) return input;
  try {
    return new JsonReader(
      parseJsonInput(input, 'RFC 3161 timestamp annotation', 'ERR_TIMESTAMP_INVALID'),
      'rfc3161Timestamp',
      'ERR_TIMESTAMP_INVALID',
    ).bytes('SignedRFC3161Timestamp');
  } catch (e) {
    if (isVouchError(e)) throw e;
    return fromBase64(input);
  }
}

/** The entity a cosign signature describes. */
export function cosignEntity(sig: CosignSignature): SignedEntity {
  if (!sig || typeof sig !== 'object' || !sig.content)
    throw new VouchError('ERR_INVALID_ARGUMENT', 'verifyCosignSignature expects { content, … }');
  const c = sig.content;
  let content: SignedEntity['content'];
  if (c.type === 'message') {
    if (!(c.payload instanceof Uint8Array) || !(c.signature instanceof Uint8Array)) {
      throw new VouchError('ERR_INVALID_ARGUMENT', 'a message signature needs payload and signature bytes');
    }
    content = { type: 'message', data: c.payload, signature: c.signature };
  } else if (c.type === 'dsse') {
    const envelope = typeof c.envelope === 'string' || c.envelope instanceof Uint8Array ? parseDsseEnvelope(c.envelope) : c.envelope;
    content = { type: 'dsse', envelope };
  } else throw new VouchError('ERR_INVALID_ARGUMENT', `unknown content type ${JSON.stringify((c as { type?: unknown }).type)}`);
  const certificate = sig.certificate !== undefined ? certificateOf(sig.certificate) : undefined;
  const chain = sig.chain === undefined ? [] : typeof sig.chain === 'string' ? parseCertificates(sig.chain) : [...sig.chain];
  return {
    content,
    ...(certificate ? { certificate } : {}),
    // the chain annotation ends with its root; roots only ever come from the trust material
    intermediates: chain.filter((c) => !c.selfSigned),
    tlogEntries: sig.rekorBundle !== undefined ? [parseRekorBundle(sig.rekorBundle)] : [],
    timestamps: sig.rfc3161Timestamp !== undefined ? [timestampOf(sig.rfc3161Timestamp)] : [],
    origin: 'cosign signature',
  };
}

/**
 * Verify a cosign signature in its legacy registry form (no v0.3 bundle needed): a message
 * signature over a payload (a `.sig` layer's simple-signing JSON, or a blob) or a DSSE envelope
 * (an `.att` layer), with the optional certificate and chain, Rekor bundle (SET) and RFC 3161
 * timestamp annotations. The checks are those of {@link verifyBundle}. For a message, the
 * caller checks what the payload claims (the simple-signing `docker-manifest-digest`); for a
 * DSSE envelope, `digest` must be carried by an in-toto subject.
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
 * @throws VouchError — as {@link verifyBundle}.
 */
export async function verifyCosignSignature(
  signature: CosignSignature,
  options: VerifyCosignSignatureOptions,
): Promise<SigstoreVerification> {
  if (!options || typeof options !== 'object') throw new VouchError('ERR_INVALID_ARGUMENT', 'verifyCosignSignature needs options (trust)');
  return verifyEntity(cosignEntity(signature), options, { digest: options.digest });
}
