/**
 * `@vouch/envelope/internal`: envelope helpers the notation signer and verifier share — the
 * algorithm of a key, the hash of an algorithm, and the check that every critical attribute was
 * processed.
 *
 * For vouch's own packages: this subpath is not part of the public API and may change in any
 * release.
 *
 * @packageDocumentation
 */
export { algorithmForKey, hashForAlgorithm } from '../algorithms.js';
export { assertCriticalAttributesProcessed } from '../attributes.js';
