/**
 * What `./tsp` and `./revocation` use from the rest of @vouch/x509: the one certificate parts
 * view, the one OID table, certificate parsing and chain profiles, signature checks and the
 * fetch deadline. They import this module, never each other's internals.
 */
export { certificatePartsOf, parseCertificate } from '../certificate.js';
export { validateSigningChain, validateTimestampingChain } from '../chain.js';
export type { Certificate } from '../types.js';
export { type CertificateParts, readExtensions } from './cert-parts.js';
export { fetchWithDeadline } from './http.js';
export { OID } from './oids.js';
export { digest, signedBy, verifyCertificateSignature } from './verify.js';
