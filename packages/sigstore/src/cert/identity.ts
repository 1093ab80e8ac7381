import type { Certificate } from '@vouch/x509';
import { notYet } from '../stub.js';
import type { FulcioExtensions } from '../types.js';

/** The identity a signing certificate carries: every subject alternative name value and the Fulcio extensions. */
export function signingCertificateIdentity(certificate: Certificate): { subjectAlternativeNames: string[]; extensions: FulcioExtensions } {
  void certificate;
  return notYet('signingCertificateIdentity');
}
