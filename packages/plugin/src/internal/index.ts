/**
 * `@vouch/plugin/internal`: plugin-contract helpers vouch's own packages share — the notation
 * verifier's check of a `generate-signature` response, the algorithm mapping of JWS headers, the
 * error-body codec of the executable transport and plugin name rules of `@vouch/node`.
 *
 * For vouch's own packages: this subpath is not part of the public API and may change in any
 * release.
 *
 * @packageDocumentation
 */

export { validateErrorBody } from '../codec.js';
export { isVerifierCapability, jwsAlgorithmOf } from '../constants.js';
export { verifyGenerateSignatureResponse } from '../crypto.js';
export { isValidPluginName } from '../define.js';
export { fromErrorBody } from '../errors.js';
