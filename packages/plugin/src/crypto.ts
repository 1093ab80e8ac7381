import { type KeySpec, type KeyType, type NamedCurve, VouchError } from '@vouch/core';
import { decode, expectTag, seq, TAG } from '@vouch/core/asn1';
import { describePublicKey, keySpecOfKey, verifySignature } from '@vouch/core/internal';
import { hashAlgorithmOf, jwsAlgorithmOf, keySpecInfo, type SigningAlgorithm, signingAlgorithmForKeySpec } from './constants.js';
import type { GenerateSignatureRequest, GenerateSignatureResponse } from './types.js';

/*
 * The public key of a plugin's certificate is found with @vouch/core's ASN.1 and
 * SubjectPublicKeyInfo readers, and raw signatures are checked with @vouch/core's one
 * verification function: this L1 package cannot depend on @vouch/x509 (same layer), and needs
 * no more than that. Full certificate parsing and chain validation are @vouch/x509's.
 */

/** The public key of a certificate, as far as the plugin contract cares. */
export interface CertificateKey {
  type: KeyType;
  /** RSA modulus bits, or the EC field size (256, 384, 521). */
  bits: number;
  curve?: NamedCurve;
  /** DER SubjectPublicKeyInfo, importable with WebCrypto `importKey('spki', …)`. */
  spki: Uint8Array;
}

/**
 * Find the SubjectPublicKeyInfo of a DER X.509 certificate and describe the key (RSA or EC
 * P-256/384/521). Throws VouchError `ERR_CERT_INVALID` when the bytes are not a certificate
 * or the key type is not one the Notary specification allows.
 */
export function certificateKey(der: Uint8Array): CertificateKey {
  try {
    const [tbs] = seq(decode(der), 'Certificate');
    const fields = seq(tbs, 'TBSCertificate');
    const i = fields[0]?.tag === 0xa0 ? 1 : 0; // optional [0] version
    const key = describePublicKey(expectTag(fields[i + 5], TAG.SEQUENCE, 'subjectPublicKeyInfo'));
    if (key.type === 'EC' && !key.curve) throw new Error(`EC key on a curve other than P-256, P-384 or P-521 (${key.curveOid})`);
    const out: CertificateKey = { type: key.type, bits: key.bits, spki: key.spki.slice() };
    if (key.curve) out.curve = key.curve;
    return out;
  } catch (e) {
    throw new VouchError('ERR_CERT_INVALID', `cannot read the public key of the certificate: ${(e as Error).message}`, { cause: e });
  }
}

/** The key spec of a certificate's key (`RSA-3072`, `EC-256`, …), or undefined when the contract has none for it. */
export function keySpecOfCertificate(der: Uint8Array): KeySpec | undefined {
  return keySpecOfKey(certificateKey(der));
}

/**
 * Verify a raw signature (RSASSA-PSS with salt = hash length, or ECDSA `r||s`) over `payload`
 * with the public key of a DER certificate, using WebCrypto. Resolves false when it does not
 * verify; throws `ERR_CERT_INVALID` when the key cannot be used with `signingAlgorithm` (the
 * key must have the key spec the algorithm pairs with, e.g. RSA-3072 for RSASSA-PSS-SHA-384).
 */
export async function verifyRawSignature(input: {
  payload: Uint8Array;
  signature: Uint8Array;
  signingAlgorithm: SigningAlgorithm;
  certificate: Uint8Array;
}): Promise<boolean> {
  const key = certificateKey(input.certificate);
  try {
    return await verifySignature({
      key,
      algorithm: jwsAlgorithmOf(input.signingAlgorithm),
      data: input.payload,
      signature: input.signature,
    });
  } catch (e) {
    throw new VouchError(
      'ERR_CERT_INVALID',
      `a ${key.type} key cannot verify a ${input.signingAlgorithm} signature: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

function lie(message: string, check: string): VouchError {
  return new VouchError('ERR_PLUGIN_PROTOCOL', message, { details: { check } });
}

/**
 * The checks the spec puts on the caller of `generate-signature` (RAW), except certificate
 * chain validation (the caller does that with @vouch/x509 and the signing time):
 *  - `keyId` echoes the request;
 *  - `signingAlgorithm` is the one the requested key spec implies (RSA-3072 → RSASSA-PSS-SHA-384 …)
 *    and uses the requested `hashAlgorithm`;
 *  - the leaf certificate's key has the requested key spec;
 *  - the signature verifies over the payload with the leaf's key.
 * Throws VouchError `ERR_PLUGIN_PROTOCOL` with `details.check` naming the failed check
 * (`keyId`, `signingAlgorithm`, `hashAlgorithm`, `keySpec`, `certificate`, `signature`).
 */
export async function verifyGenerateSignatureResponse(
  request: GenerateSignatureRequest,
  response: GenerateSignatureResponse,
): Promise<void> {
  if (response.keyId !== request.keyId) {
    throw lie(`the plugin signed with key "${response.keyId}" but "${request.keyId}" was requested`, 'keyId');
  }
  const expected = signingAlgorithmForKeySpec(request.keySpec);
  if (response.signingAlgorithm !== expected) {
    throw lie(
      `the plugin reports signing algorithm ${response.signingAlgorithm}, but key spec ${request.keySpec} requires ${expected}`,
      'signingAlgorithm',
    );
  }
  if (hashAlgorithmOf(response.signingAlgorithm) !== request.hashAlgorithm) {
    throw lie(`the plugin signed with ${response.signingAlgorithm} but hash ${request.hashAlgorithm} was requested`, 'hashAlgorithm');
  }
  const leaf = response.certificateChain[0];
  if (!leaf) throw lie('the plugin returned an empty certificate chain', 'certificate');
  let leafKey: CertificateKey;
  try {
    leafKey = certificateKey(leaf);
  } catch (e) {
    throw new VouchError('ERR_PLUGIN_PROTOCOL', `the plugin's leaf certificate is unusable: ${(e as Error).message}`, {
      cause: e,
      details: { check: 'certificate' },
    });
  }
  const want = keySpecInfo(request.keySpec);
  if (leafKey.type !== want.type || leafKey.bits !== want.bits) {
    throw lie(
      `the plugin's leaf certificate holds a ${leafKey.type}-${leafKey.bits} key, but key spec ${request.keySpec} was requested`,
      'keySpec',
    );
  }
  const ok = await verifyRawSignature({
    payload: request.payload,
    signature: response.signature,
    signingAlgorithm: response.signingAlgorithm,
    certificate: leaf,
  });
  if (!ok) {
    throw lie(
      `the signature returned by the plugin does not verify over the payload with the key of its leaf certificate (${response.signingAlgorithm}); the certificate does not belong to the signing key`,
      'signature',
    );
  }
}
