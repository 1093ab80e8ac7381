/**
 * Constants of the Notary Project plugin contract (spec "Plugin Extensibility", contract
 * version 1.0): commands, capabilities, key specs, algorithms and error codes, with the
 * exact strings that cross the wire.
 */
import type { HashAlgorithm, KeySpec, SignatureAlgorithm } from '@vouch/core';
import { keySpecInfo, signatureAlgorithmInfo } from '@vouch/core/internal';

/** The contract version vouch speaks (as a caller and as a plugin SDK). */
export const CONTRACT_VERSION = '1.0';

/** The commands of the plugin contract, as passed in `argv[1]` of `notation-<name>`. */
export const PluginCommand = {
  GET_PLUGIN_METADATA: 'get-plugin-metadata',
  DESCRIBE_KEY: 'describe-key',
  GENERATE_SIGNATURE: 'generate-signature',
  GENERATE_ENVELOPE: 'generate-envelope',
  VERIFY_SIGNATURE: 'verify-signature',
} as const;

/** One command name of the contract. */
export type PluginCommand = (typeof PluginCommand)[keyof typeof PluginCommand];

/** Every command name, in spec order. */
export const PLUGIN_COMMANDS: readonly PluginCommand[] = Object.freeze(Object.values(PluginCommand));

/** Capabilities a plugin advertises in `get-plugin-metadata`. */
export const Capability = {
  /** The plugin signs raw bytes (`describe-key` + `generate-signature`); the caller builds the envelope. */
  SIGNATURE_GENERATOR_RAW: 'SIGNATURE_GENERATOR.RAW',
  /** The plugin builds the whole envelope (`generate-envelope`). */
  SIGNATURE_GENERATOR_ENVELOPE: 'SIGNATURE_GENERATOR.ENVELOPE',
  /** Newest spec only: envelope generation for blobs (`describe-key` + `generate-envelope`). */
  SIGNATURE_GENERATOR_ENVELOPE_FOR_BLOB: 'SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB',
  /** The plugin decides whether the signing identity is trusted (`verify-signature`). */
  SIGNATURE_VERIFIER_TRUSTED_IDENTITY: 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY',
  /** The plugin checks revocation of the signing identity (`verify-signature`). */
  SIGNATURE_VERIFIER_REVOCATION_CHECK: 'SIGNATURE_VERIFIER.REVOCATION_CHECK',
} as const;

/** One capability string. */
export type Capability = (typeof Capability)[keyof typeof Capability];

/** The capabilities handled by `verify-signature`. */
export type VerifierCapability =
  | typeof Capability.SIGNATURE_VERIFIER_TRUSTED_IDENTITY
  | typeof Capability.SIGNATURE_VERIFIER_REVOCATION_CHECK;

/** Every known capability. Anything else in metadata is rejected. */
export const CAPABILITIES: readonly Capability[] = Object.freeze(Object.values(Capability));

/** The verifier capabilities (valid in `trustPolicy.signatureVerification` and `verificationResults`). */
export const VERIFIER_CAPABILITIES: readonly VerifierCapability[] = Object.freeze([
  Capability.SIGNATURE_VERIFIER_TRUSTED_IDENTITY,
  Capability.SIGNATURE_VERIFIER_REVOCATION_CHECK,
]);

// Key specs and hash algorithms of the contract are the Notary vocabulary of @vouch/core.
export { HASH_ALGORITHMS, type HashAlgorithm, isHashAlgorithm, isKeySpec, KEY_SPECS, type KeySpec } from '@vouch/core';
export { keySpecInfo } from '@vouch/core/internal';

/** Signing algorithms of the contract (PSS salt length = hash length; ECDSA signatures are r||s). */
export type SigningAlgorithm =
  | 'RSASSA-PSS-SHA-256'
  | 'RSASSA-PSS-SHA-384'
  | 'RSASSA-PSS-SHA-512'
  | 'ECDSA-SHA-256'
  | 'ECDSA-SHA-384'
  | 'ECDSA-SHA-512';
/** Every signing algorithm. */
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = Object.freeze([
  'RSASSA-PSS-SHA-256',
  'RSASSA-PSS-SHA-384',
  'RSASSA-PSS-SHA-512',
  'ECDSA-SHA-256',
  'ECDSA-SHA-384',
  'ECDSA-SHA-512',
]);

/** JWS `alg` names used by Notary JWS envelopes: the Notary {@link SignatureAlgorithm} names. */
export type JwsAlgorithm = SignatureAlgorithm;

/** Error codes a plugin may put in its error body. TIMEOUT and THROTTLED are retryable by the caller. */
export type PluginErrorCode = 'VALIDATION_ERROR' | 'UNSUPPORTED_CONTRACT_VERSION' | 'ACCESS_DENIED' | 'TIMEOUT' | 'THROTTLED' | 'ERROR';
/** Every plugin error code. */
export const PLUGIN_ERROR_CODES: readonly PluginErrorCode[] = Object.freeze([
  'VALIDATION_ERROR',
  'UNSUPPORTED_CONTRACT_VERSION',
  'ACCESS_DENIED',
  'TIMEOUT',
  'THROTTLED',
  'ERROR',
]);

/** Each contract signing algorithm and the Notary algorithm (JWS name) it is. */
const JWS_ALG: Readonly<Record<SigningAlgorithm, SignatureAlgorithm>> = {
  'RSASSA-PSS-SHA-256': 'PS256',
  'RSASSA-PSS-SHA-384': 'PS384',
  'RSASSA-PSS-SHA-512': 'PS512',
  'ECDSA-SHA-256': 'ES256',
  'ECDSA-SHA-384': 'ES384',
  'ECDSA-SHA-512': 'ES512',
};

/** True when `value` is one of the contract's signing algorithms. */
export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}

/** True when `value` is a known capability. */
export function isCapability(value: unknown): value is Capability {
  return typeof value === 'string' && (CAPABILITIES as readonly string[]).includes(value);
}

/** True when `value` is a capability handled by `verify-signature`. */
export function isVerifierCapability(value: unknown): value is VerifierCapability {
  return typeof value === 'string' && (VERIFIER_CAPABILITIES as readonly string[]).includes(value);
}

/** True when `value` is one of the spec's plugin error codes. */
export function isPluginErrorCode(value: unknown): value is PluginErrorCode {
  return typeof value === 'string' && (PLUGIN_ERROR_CODES as readonly string[]).includes(value);
}

/** The hash algorithm the spec pairs with a key spec (RSA-2048/EC-256 → SHA-256, …). */
export function hashAlgorithmForKeySpec(keySpec: KeySpec): HashAlgorithm {
  return keySpecInfo(keySpec).hash;
}

/** The signing algorithm the spec pairs with a key spec (RSA → RSASSA-PSS, EC → ECDSA, hash by size). */
export function signingAlgorithmForKeySpec(keySpec: KeySpec): SigningAlgorithm {
  return signingAlgorithmFromJws(keySpecInfo(keySpec).algorithm)!;
}

/** The hash algorithm inside a signing algorithm (`ECDSA-SHA-384` → `SHA-384`). */
export function hashAlgorithmOf(alg: SigningAlgorithm): HashAlgorithm {
  return signatureAlgorithmInfo(JWS_ALG[alg]).hash;
}

/** The JWS `alg` name of a signing algorithm (`RSASSA-PSS-SHA-256` → `PS256`, `ECDSA-SHA-512` → `ES512`). */
export function jwsAlgorithmOf(alg: SigningAlgorithm): JwsAlgorithm {
  return JWS_ALG[alg];
}

/** The signing algorithm of a JWS `alg` name, or `undefined` when Notary does not allow it. */
export function signingAlgorithmFromJws(jwsAlg: string): SigningAlgorithm | undefined {
  for (const [k, v] of Object.entries(JWS_ALG)) if (v === jwsAlg) return k as SigningAlgorithm;
  return undefined;
}

/** The COSE algorithm identifier of a signing algorithm (`RSASSA-PSS-SHA-256` → -37, `ECDSA-SHA-256` → -7). */
export function coseAlgorithmOf(alg: SigningAlgorithm): number {
  return signatureAlgorithmInfo(JWS_ALG[alg]).cose!;
}

/** The commands a plugin advertising `capability` must implement. */
export function commandsForCapability(capability: Capability): readonly PluginCommand[] {
  switch (capability) {
    case Capability.SIGNATURE_GENERATOR_RAW:
      return [PluginCommand.DESCRIBE_KEY, PluginCommand.GENERATE_SIGNATURE];
    case Capability.SIGNATURE_GENERATOR_ENVELOPE:
      return [PluginCommand.GENERATE_ENVELOPE];
    case Capability.SIGNATURE_GENERATOR_ENVELOPE_FOR_BLOB:
      return [PluginCommand.DESCRIBE_KEY, PluginCommand.GENERATE_ENVELOPE];
    default:
      return [PluginCommand.VERIFY_SIGNATURE];
  }
}
