/**
 * `@vouch/x509/internal`: what vouch's own packages and suites share beyond the public API —
 * the OID table, the parts of the chain profiles the conformance suite checks one by one, and
 * the trusted-identity (distinguished name) rules of trust policies.
 *
 * For vouch's own packages: this subpath is not part of the public API and may change in any
 * release.
 *
 * @packageDocumentation
 */

// Object identifiers
export { OID } from './oids.js';

// Chain profile checks, one by one
export { validateCaCertificate, validateSigningLeaf, validateSigningTime, validateTimestampingLeaf } from '../chain.js';

// Trusted identities (trust policies)
export { isAttributeSubset, parseTrustedIdentity, subjectAttributes, type TrustedIdentity, trustedIdentitiesOverlap } from '../dn.js';
