/**
 * `@vouch/notation/internal`: what `@vouch/node` shares with the notation signer — the check of
 * a plugin's `generate-signature` response against its certificate chain.
 *
 * For vouch's own packages: this subpath is not part of the public API and may change in any
 * release.
 *
 * @packageDocumentation
 */
export { type CheckPluginSignatureOptions, checkPluginSignature } from '../plugin-signer.js';
