/**
 * `@vouch/plugin`: the Notary Project plugin contract (v1.0) for plugin authors and hosts, in
 * any JavaScript runtime.
 *
 * - Write a plugin once ({@link definePlugin}) and serve it in-process ({@link inProcessPlugin}),
 *   as a `notation-<name>` executable (`@vouch/plugin/cli`) or over your own transport
 *   ({@link servePluginRequest}).
 * - Call a plugin over any transport ({@link createPluginClient}); every request and response is
 *   validated strictly against the contract.
 * - Check a plugin against the contract ({@link pluginConformance}).
 *
 * Helpers vouch's own packages share live in `@vouch/plugin/internal`, which is not part of the
 * public API.
 *
 * @packageDocumentation
 */

// Writing a plugin
export { definePlugin, type Plugin, type PluginDefinition, type ServeOptions, type ServeResult, servePluginRequest } from './define.js';
export { isPluginError, PluginError, type PluginErrorOptions } from './errors.js';

// Calling a plugin
export {
  createPluginClient,
  type InProcessPluginOptions,
  inProcessPlugin,
  type PluginClient,
  type PluginClientOptions,
  type PluginTransport,
} from './client.js';

// Checking a plugin against the contract
export { type ConformanceCheck, type ConformanceOptions, pluginConformance } from './conformance.js';

// The contract: commands, capabilities, algorithms, requests and responses
export {
  Capability,
  CONTRACT_VERSION,
  type HashAlgorithm,
  hashAlgorithmForKeySpec,
  type KeySpec,
  PluginCommand,
  type PluginErrorCode,
  type SigningAlgorithm,
  signingAlgorithmForKeySpec,
  type VerifierCapability,
} from './constants.js';
export type {
  AttributeValue,
  CriticalAttributes,
  DescribeKeyRequest,
  DescribeKeyResponse,
  GenerateEnvelopeRequest,
  GenerateEnvelopeResponse,
  GenerateSignatureRequest,
  GenerateSignatureResponse,
  GetPluginMetadataRequest,
  PluginCallOptions,
  PluginConfig,
  PluginContext,
  PluginErrorBody,
  PluginMetadata,
  RequestMap,
  ResponseMap,
  VerificationResult,
  VerifySignatureRequest,
  VerifySignatureResponse,
} from './types.js';
