import { checkPluginSignature } from '@vouch/notation/internal';
import type { GenerateSignatureRequest, GenerateSignatureResponse } from '@vouch/plugin';
import { jwsAlgorithmOf } from '@vouch/plugin/internal';
import type { Certificate } from '@vouch/x509';

/** Options of {@link checkRawSignatureResponse}. */
export interface CheckRawSignatureOptions {
  /**
   * Validate the returned chain against the Notary code-signing profile with every
   * certificate valid at this time (the signing time). Default: now. Pass `false` to skip
   * (the caller validates the chain itself).
   */
  signingTime?: Date | false;
}

/** What {@link checkRawSignatureResponse} established. */
export interface CheckedRawSignature {
  /** The parsed chain, leaf first. */
  certificates: Certificate[];
  /** JWS `alg` of the signature (PS256 … ES512), for the envelope header. */
  jwsAlgorithm: ReturnType<typeof jwsAlgorithmOf>;
}

/**
 * The caller-side checks the spec requires on a `generate-signature` (SIGNATURE_GENERATOR.RAW)
 * response, run by `sign()` before it builds an envelope:
 *  - `keyId` echoes the request;
 *  - `signingAlgorithm` is the one the requested key spec implies and uses the requested hash
 *    (notation-go ignores the field — GAP: vouch checks it);
 *  - every chain entry is a certificate, and the leaf's key has the requested key spec;
 *  - the signature verifies over the payload with the leaf's key (WebCrypto);
 *  - unless `signingTime: false`, the chain satisfies the Notary signing-certificate profile
 *    and is valid at the signing time.
 *
 * A lying plugin fails with ERR_PLUGIN_PROTOCOL (`details.check` names the check); a chain that
 * breaks the profile with @vouch/x509's ERR_CERT_CHAIN_INVALID / ERR_CERT_EXPIRED / ERR_CERT_INVALID.
 */
export async function checkRawSignatureResponse(
  request: GenerateSignatureRequest,
  response: GenerateSignatureResponse,
  options: CheckRawSignatureOptions = {},
): Promise<CheckedRawSignature> {
  // the checks sign() runs (one implementation, in @vouch/notation)
  const certificates = await checkPluginSignature(request, response, {
    signingTime: options.signingTime === false ? false : (options.signingTime ?? new Date()),
  });
  return { certificates, jwsAlgorithm: jwsAlgorithmOf(response.signingAlgorithm) };
}
