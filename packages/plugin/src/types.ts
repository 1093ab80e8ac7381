import type { Logger } from '@vouch/core';
import type {
  Capability,
  HashAlgorithm,
  KeySpec,
  PluginCommand,
  PluginErrorCode,
  SigningAlgorithm,
  VerifierCapability,
} from './constants.js';

/*
 * Two views of every message:
 *  - the model (`DescribeKeyRequest`, …): what plugin handlers receive and `PluginClient`
 *    methods take and return; bytes are `Uint8Array`, times are `Date`;
 *  - the wire (`DescribeKeyRequestJson`, …): the exact JSON of the spec; bytes are standard
 *    base64 strings, times RFC 3339 strings.
 * `encode*` / `decode*` in ./codec.ts convert between them and validate strictly.
 */

/** String-to-string plugin configuration, passed verbatim in every request. */
export type PluginConfig = Record<string, string>;

// ---------------------------------------------------------------- model

/** `get-plugin-metadata` response. */
export interface PluginMetadata {
  /** Plugin name, reverse domain notation (`com.example.kms`); the executable is `notation-<name>`. */
  name: string;
  description: string;
  version: string;
  url: string;
  /** Contract versions the plugin implements; must include `"1.0"`. */
  supportedContractVersions: string[];
  capabilities: Capability[];
}

/** `get-plugin-metadata` request. */
export interface GetPluginMetadataRequest {
  pluginConfig?: PluginConfig;
}

/** `describe-key` request. `contractVersion` is filled with "1.0" when a caller omits it. */
export interface DescribeKeyRequest {
  contractVersion?: string;
  keyId: string;
  pluginConfig?: PluginConfig;
}

/** `describe-key` response. */
export interface DescribeKeyResponse {
  /** Must echo the request's key id. */
  keyId: string;
  keySpec: KeySpec;
}

/** `generate-signature` request: sign `payload` (the exact signing input) with `hashAlgorithm`. */
export interface GenerateSignatureRequest {
  contractVersion?: string;
  keyId: string;
  pluginConfig?: PluginConfig;
  keySpec: KeySpec;
  hashAlgorithm: HashAlgorithm;
  /** JWS: ASCII `b64url(protected).b64url(payload)`; COSE: the CBOR `Sig_structure`. */
  payload: Uint8Array;
}

/** `generate-signature` response. */
export interface GenerateSignatureResponse {
  keyId: string;
  /** Raw signature: RSASSA-PSS (salt = hash length) or ECDSA `r||s`. */
  signature: Uint8Array;
  signingAlgorithm: SigningAlgorithm;
  /** DER certificates, leaf first. */
  certificateChain: Uint8Array[];
}

/** `generate-envelope` request. */
export interface GenerateEnvelopeRequest {
  contractVersion?: string;
  keyId: string;
  pluginConfig?: PluginConfig;
  /** Whole seconds; omitted (or 0) for no expiry. */
  expiryDurationInSeconds?: number;
  /** The Notary payload JSON bytes. */
  payload: Uint8Array;
  payloadType: string;
  /** `application/jose+json` or `application/cose`. */
  signatureEnvelopeType: string;
}

/** `generate-envelope` response. */
export interface GenerateEnvelopeResponse {
  signatureEnvelope: Uint8Array;
  signatureEnvelopeType: string;
  /** Annotations to add to the signature manifest. */
  annotations?: Record<string, string>;
}

/** A JSON primitive: the allowed type of an extended critical attribute value. */
export type AttributeValue = string | number | boolean | null;

/** Critical signed attributes passed to `verify-signature`. */
export interface CriticalAttributes {
  contentType: string;
  signingScheme: string;
  expiry?: Date;
  authenticSigningTime?: Date;
  verificationPlugin?: string;
  verificationPluginMinVersion?: string;
  extendedAttributes?: Record<string, AttributeValue>;
}

/** `verify-signature` request. */
export interface VerifySignatureRequest {
  contractVersion?: string;
  signature: {
    criticalAttributes: CriticalAttributes;
    /** Names of extended critical attributes the caller did not process. */
    unprocessedAttributes: string[];
    /** DER certificates, leaf first. */
    certificateChain: Uint8Array[];
  };
  trustPolicy: {
    trustedIdentities: string[];
    signatureVerification: VerifierCapability[];
  };
  pluginConfig?: PluginConfig;
}

/** One capability's result in a `verify-signature` response. */
export interface VerificationResult {
  success: boolean;
  /** Required when `success` is false. */
  reason?: string;
}

/** `verify-signature` response. */
export interface VerifySignatureResponse {
  verificationResults: Partial<Record<VerifierCapability, VerificationResult>>;
  /** The unprocessed attributes the plugin processed. */
  processedAttributes: string[];
}

/** The plugin error body written to stderr on failure. */
export interface PluginErrorBody {
  errorCode: PluginErrorCode;
  errorMessage: string;
  errorMetadata?: Record<string, string>;
}

/** Model request type per command. */
export interface RequestMap {
  'get-plugin-metadata': GetPluginMetadataRequest;
  'describe-key': DescribeKeyRequest;
  'generate-signature': GenerateSignatureRequest;
  'generate-envelope': GenerateEnvelopeRequest;
  'verify-signature': VerifySignatureRequest;
}

/** Model response type per command. */
export interface ResponseMap {
  'get-plugin-metadata': PluginMetadata;
  'describe-key': DescribeKeyResponse;
  'generate-signature': GenerateSignatureResponse;
  'generate-envelope': GenerateEnvelopeResponse;
  'verify-signature': VerifySignatureResponse;
}

// ---------------------------------------------------------------- wire

/** `describe-key` request JSON. */
export interface DescribeKeyRequestJson {
  contractVersion: string;
  keyId: string;
  pluginConfig?: PluginConfig;
}

/** `generate-signature` request JSON (`payload` is standard base64). */
export interface GenerateSignatureRequestJson {
  contractVersion: string;
  keyId: string;
  pluginConfig?: PluginConfig;
  keySpec: KeySpec;
  hashAlgorithm: HashAlgorithm;
  payload: string;
}

/** `generate-signature` response JSON (`signature` and chain entries are standard base64). */
export interface GenerateSignatureResponseJson {
  keyId: string;
  signature: string;
  signingAlgorithm: SigningAlgorithm;
  certificateChain: string[];
}

/** `generate-envelope` request JSON. */
export interface GenerateEnvelopeRequestJson {
  contractVersion: string;
  keyId: string;
  pluginConfig?: PluginConfig;
  expiryDurationInSeconds?: number;
  payload: string;
  payloadType: string;
  signatureEnvelopeType: string;
}

/** `generate-envelope` response JSON. */
export interface GenerateEnvelopeResponseJson {
  signatureEnvelope: string;
  signatureEnvelopeType: string;
  annotations?: Record<string, string>;
}

/** `verify-signature` request JSON (times RFC 3339, chain standard base64). */
export interface VerifySignatureRequestJson {
  contractVersion: string;
  signature: {
    criticalAttributes: {
      contentType: string;
      signingScheme: string;
      expiry?: string;
      authenticSigningTime?: string;
      verificationPlugin?: string;
      verificationPluginMinVersion?: string;
      extendedAttributes?: Record<string, AttributeValue>;
    };
    unprocessedAttributes: string[];
    certificateChain: string[];
  };
  trustPolicy: {
    trustedIdentities: string[];
    signatureVerification: VerifierCapability[];
  };
  pluginConfig?: PluginConfig;
}

/** `verify-signature` response JSON. */
export interface VerifySignatureResponseJson {
  verificationResults: Partial<Record<VerifierCapability, VerificationResult>>;
  processedAttributes: string[];
}

/** Wire request type per command. */
export interface RequestJsonMap {
  'get-plugin-metadata': GetPluginMetadataRequest;
  'describe-key': DescribeKeyRequestJson;
  'generate-signature': GenerateSignatureRequestJson;
  'generate-envelope': GenerateEnvelopeRequestJson;
  'verify-signature': VerifySignatureRequestJson;
}

/** Wire response type per command. */
export interface ResponseJsonMap {
  'get-plugin-metadata': PluginMetadata;
  'describe-key': DescribeKeyResponse;
  'generate-signature': GenerateSignatureResponseJson;
  'generate-envelope': GenerateEnvelopeResponseJson;
  'verify-signature': VerifySignatureResponseJson;
}

/** Options of one plugin call. */
export interface PluginCallOptions {
  /** Cancels the call (an executable is killed). */
  signal?: AbortSignal;
}

/** Passed to plugin handlers. */
export interface PluginContext {
  /** Aborted when the caller gives up. */
  signal?: AbortSignal;
  /** Diagnostic logger; never writes to the executable's stdout. */
  logger: Logger;
  /** The command being served. */
  command: PluginCommand;
}
