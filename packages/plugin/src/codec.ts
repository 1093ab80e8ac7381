import { VouchError } from '@vouch/core';
import { fromBase64, toBase64 } from '@vouch/core/internal';
import {
  CONTRACT_VERSION,
  isCapability,
  isHashAlgorithm,
  isKeySpec,
  isPluginErrorCode,
  isSigningAlgorithm,
  isVerifierCapability,
  PLUGIN_COMMANDS,
  PluginCommand,
} from './constants.js';
import { PluginError } from './errors.js';
import type {
  AttributeValue,
  CriticalAttributes,
  PluginErrorBody,
  PluginMetadata,
  RequestJsonMap,
  RequestMap,
  ResponseJsonMap,
  ResponseMap,
  VerificationResult,
} from './types.js';

/*
 * Strict runtime validation of everything that crosses the wire. Rules:
 *  - wrong JSON types, missing required fields, empty required strings, non-canonical
 *    base64, unknown key specs / algorithms / capabilities are errors;
 *  - unknown *fields* are ignored (the spec requires plugins to ignore them, so that minor
 *    contract versions can add fields) and dropped from the validated result;
 *  - `null` for an array a Go implementation may leave nil (unprocessedAttributes,
 *    trustedIdentities, processedAttributes) reads as an empty array.
 * Request problems raise PluginError VALIDATION_ERROR (what a plugin reports); response and
 * error-body problems raise VouchError ERR_PLUGIN_PROTOCOL (what a host reports).
 */

class ShapeError extends Error {}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new ShapeError(`${path} must be a JSON object, found ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? 'a string' : `"${v}"`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function str(o: Obj, key: string, path: string, nonEmpty = true): string {
  const v = o[key];
  if (typeof v !== 'string') throw new ShapeError(`${path}.${key} must be a string, found ${v === undefined ? 'nothing' : describe(v)}`);
  if (nonEmpty && v === '') throw new ShapeError(`${path}.${key} must not be empty`);
  return v;
}

function optStr(o: Obj, key: string, path: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, path, false);
}

function b64(o: Obj, key: string, path: string, nonEmpty = true): string {
  const s = str(o, key, path, nonEmpty);
  checkB64(s, `${path}.${key}`);
  return s;
}

function checkB64(s: string, where: string): void {
  try {
    fromBase64(s);
  } catch {
    throw new ShapeError(`${where} must be standard base64 (RFC 4648 §4, padded)`);
  }
}

function strArray(o: Obj, key: string, path: string, opts: { nonEmpty?: boolean; nullable?: boolean; items?: 'b64' } = {}): string[] {
  const v = o[key];
  if ((v === null || v === undefined) && opts.nullable) return [];
  if (!Array.isArray(v))
    throw new ShapeError(`${path}.${key} must be an array of strings, found ${v === undefined ? 'nothing' : describe(v)}`);
  if (opts.nonEmpty && v.length === 0) throw new ShapeError(`${path}.${key} must not be empty`);
  v.forEach((x, i) => {
    if (typeof x !== 'string') throw new ShapeError(`${path}.${key}[${i}] must be a string, found ${describe(x)}`);
    if (opts.items === 'b64') {
      if (x === '') throw new ShapeError(`${path}.${key}[${i}] must not be empty`);
      checkB64(x, `${path}.${key}[${i}]`);
    }
  });
  return [...(v as string[])];
}

function strMap(o: Obj, key: string, path: string): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const m = obj(v, `${path}.${key}`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(m)) {
    if (typeof x !== 'string') throw new ShapeError(`${path}.${key}["${k}"] must be a string, found ${describe(x)}`);
    out[k] = x;
  }
  return out;
}

function withConfig<T extends object>(target: T, o: Obj, path: string): T {
  const cfg = strMap(o, 'pluginConfig', path);
  if (cfg) (target as { pluginConfig?: Record<string, string> }).pluginConfig = cfg;
  return target;
}

const VERSION_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function contractVersion(o: Obj, path: string): string {
  const v = str(o, 'contractVersion', path);
  if (!VERSION_RE.test(v)) throw new ShapeError(`${path}.contractVersion must look like "1.0", found "${v}"`);
  return v;
}

function time(o: Obj, key: string, path: string): string | undefined {
  const v = optStr(o, key, path);
  if (v === undefined) return undefined;
  if (!RFC3339_RE.test(v) || Number.isNaN(Date.parse(v))) {
    throw new ShapeError(`${path}.${key} must be an RFC 3339 time, found "${v}"`);
  }
  return v;
}

// ------------------------------------------------------------ requests (wire)

function metadataRequest(v: unknown): RequestJsonMap['get-plugin-metadata'] {
  const o = v === undefined || v === null ? {} : obj(v, 'request');
  return withConfig({}, o, 'request');
}

function describeKeyRequest(v: unknown): RequestJsonMap['describe-key'] {
  const o = obj(v, 'request');
  return withConfig({ contractVersion: contractVersion(o, 'request'), keyId: str(o, 'keyId', 'request') }, o, 'request');
}

function generateSignatureRequest(v: unknown): RequestJsonMap['generate-signature'] {
  const o = obj(v, 'request');
  const out = withConfig({ contractVersion: contractVersion(o, 'request'), keyId: str(o, 'keyId', 'request') }, o, 'request');
  const keySpec = str(o, 'keySpec', 'request');
  if (!isKeySpec(keySpec))
    throw new ShapeError(`request.keySpec "${keySpec}" is not a key spec of the contract (RSA-2048|3072|4096, EC-256|384|521)`);
  const hashAlgorithm = str(o, 'hashAlgorithm', 'request');
  if (!isHashAlgorithm(hashAlgorithm)) throw new ShapeError(`request.hashAlgorithm "${hashAlgorithm}" is not SHA-256, SHA-384 or SHA-512`);
  return { ...out, keySpec, hashAlgorithm, payload: b64(o, 'payload', 'request') };
}

function generateEnvelopeRequest(v: unknown): RequestJsonMap['generate-envelope'] {
  const o = obj(v, 'request');
  const out: RequestJsonMap['generate-envelope'] = withConfig(
    {
      contractVersion: contractVersion(o, 'request'),
      keyId: str(o, 'keyId', 'request'),
      payload: b64(o, 'payload', 'request'),
      payloadType: str(o, 'payloadType', 'request'),
      signatureEnvelopeType: str(o, 'signatureEnvelopeType', 'request'),
    },
    o,
    'request',
  );
  const exp = o.expiryDurationInSeconds;
  if (exp !== undefined && exp !== null) {
    if (typeof exp !== 'number' || !Number.isSafeInteger(exp) || exp < 0) {
      throw new ShapeError(`request.expiryDurationInSeconds must be a non-negative whole number, found ${describe(exp)}`);
    }
    if (exp > 0) out.expiryDurationInSeconds = exp;
  }
  return out;
}

function verifySignatureRequest(v: unknown): RequestJsonMap['verify-signature'] {
  const o = obj(v, 'request');
  const sig = obj(o.signature, 'request.signature');
  const ca = obj(sig.criticalAttributes, 'request.signature.criticalAttributes');
  const p = 'request.signature.criticalAttributes';
  const crit: RequestJsonMap['verify-signature']['signature']['criticalAttributes'] = {
    contentType: str(ca, 'contentType', p),
    signingScheme: str(ca, 'signingScheme', p),
  };
  const expiry = time(ca, 'expiry', p);
  if (expiry !== undefined) crit.expiry = expiry;
  const ast = time(ca, 'authenticSigningTime', p);
  if (ast !== undefined) crit.authenticSigningTime = ast;
  const vp = optStr(ca, 'verificationPlugin', p);
  if (vp !== undefined) crit.verificationPlugin = vp;
  const vpm = optStr(ca, 'verificationPluginMinVersion', p);
  if (vpm !== undefined) crit.verificationPluginMinVersion = vpm;
  if (ca.extendedAttributes !== undefined && ca.extendedAttributes !== null) {
    const ext = obj(ca.extendedAttributes, `${p}.extendedAttributes`);
    const out: Record<string, AttributeValue> = {};
    for (const [k, x] of Object.entries(ext)) {
      if (x !== null && typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') {
        throw new ShapeError(
          `${p}.extendedAttributes["${k}"] must be a JSON primitive (string, number, boolean or null), found ${describe(x)}`,
        );
      }
      out[k] = x;
    }
    crit.extendedAttributes = out;
  }
  const tp = obj(o.trustPolicy, 'request.trustPolicy');
  const caps = strArray(tp, 'signatureVerification', 'request.trustPolicy', { nonEmpty: true });
  for (const c of caps) {
    if (!isVerifierCapability(c))
      throw new ShapeError(`request.trustPolicy.signatureVerification holds "${c}", which is not a verifier capability`);
  }
  return withConfig(
    {
      contractVersion: contractVersion(o, 'request'),
      signature: {
        criticalAttributes: crit,
        unprocessedAttributes: strArray(sig, 'unprocessedAttributes', 'request.signature', { nullable: true }),
        certificateChain: strArray(sig, 'certificateChain', 'request.signature', { nonEmpty: true, items: 'b64' }),
      },
      trustPolicy: {
        trustedIdentities: strArray(tp, 'trustedIdentities', 'request.trustPolicy', { nullable: true }),
        signatureVerification: caps as RequestJsonMap['verify-signature']['trustPolicy']['signatureVerification'],
      },
    },
    o,
    'request',
  );
}

// ------------------------------------------------------------ responses (wire)

function metadataResponse(v: unknown): PluginMetadata {
  const o = obj(v, 'response');
  const versions = strArray(o, 'supportedContractVersions', 'response', { nonEmpty: true });
  for (const ver of versions) {
    if (!VERSION_RE.test(ver))
      throw new ShapeError(`response.supportedContractVersions holds "${ver}", which is not a major.minor version`);
  }
  if (!versions.includes(CONTRACT_VERSION)) {
    throw new ShapeError(
      `response.supportedContractVersions [${versions.join(', ')}] does not include "${CONTRACT_VERSION}", the version vouch speaks`,
    );
  }
  const caps = strArray(o, 'capabilities', 'response', { nonEmpty: true });
  for (const c of caps) if (!isCapability(c)) throw new ShapeError(`response.capabilities holds unknown capability "${c}"`);
  return {
    name: str(o, 'name', 'response'),
    description: str(o, 'description', 'response'),
    version: str(o, 'version', 'response'),
    url: str(o, 'url', 'response'),
    supportedContractVersions: versions,
    capabilities: caps as PluginMetadata['capabilities'],
  };
}

function describeKeyResponse(v: unknown): ResponseJsonMap['describe-key'] {
  const o = obj(v, 'response');
  const keySpec = str(o, 'keySpec', 'response');
  if (!isKeySpec(keySpec)) throw new ShapeError(`response.keySpec "${keySpec}" is not a key spec of the contract`);
  return { keyId: str(o, 'keyId', 'response'), keySpec };
}

function generateSignatureResponse(v: unknown): ResponseJsonMap['generate-signature'] {
  const o = obj(v, 'response');
  const alg = str(o, 'signingAlgorithm', 'response');
  if (!isSigningAlgorithm(alg)) throw new ShapeError(`response.signingAlgorithm "${alg}" is not a signing algorithm of the contract`);
  return {
    keyId: str(o, 'keyId', 'response'),
    signature: b64(o, 'signature', 'response'),
    signingAlgorithm: alg,
    certificateChain: strArray(o, 'certificateChain', 'response', { nonEmpty: true, items: 'b64' }),
  };
}

function generateEnvelopeResponse(v: unknown): ResponseJsonMap['generate-envelope'] {
  const o = obj(v, 'response');
  const out: ResponseJsonMap['generate-envelope'] = {
    signatureEnvelope: b64(o, 'signatureEnvelope', 'response'),
    signatureEnvelopeType: str(o, 'signatureEnvelopeType', 'response'),
  };
  const ann = strMap(o, 'annotations', 'response');
  if (ann) out.annotations = ann;
  return out;
}

function verifySignatureResponse(v: unknown): ResponseJsonMap['verify-signature'] {
  const o = obj(v, 'response');
  const results = obj(o.verificationResults, 'response.verificationResults');
  const out: ResponseJsonMap['verify-signature']['verificationResults'] = {};
  for (const [k, x] of Object.entries(results)) {
    if (!isVerifierCapability(k)) throw new ShapeError(`response.verificationResults holds unknown capability "${k}"`);
    const r = obj(x, `response.verificationResults["${k}"]`);
    if (typeof r.success !== 'boolean')
      throw new ShapeError(`response.verificationResults["${k}"].success must be a boolean, found ${describe(r.success)}`);
    const res: VerificationResult = { success: r.success };
    const reason = optStr(r, 'reason', `response.verificationResults["${k}"]`);
    if (reason) res.reason = reason;
    if (!r.success && !reason) throw new ShapeError(`response.verificationResults["${k}"] failed without a reason; the spec requires one`);
    out[k] = res;
  }
  if (Object.keys(out).length === 0) throw new ShapeError('response.verificationResults must not be empty');
  return { verificationResults: out, processedAttributes: strArray(o, 'processedAttributes', 'response', { nullable: true }) };
}

function errorBody(v: unknown): PluginErrorBody {
  const o = obj(v, 'error body');
  const code = str(o, 'errorCode', 'error body');
  if (!isPluginErrorCode(code)) throw new ShapeError(`error body errorCode "${code}" is not an error code of the contract`);
  const out: PluginErrorBody = { errorCode: code, errorMessage: str(o, 'errorMessage', 'error body', false) };
  const meta = strMap(o, 'errorMetadata', 'error body');
  if (meta) out.errorMetadata = meta;
  return out;
}

const REQUEST_VALIDATORS: { [C in PluginCommand]: (v: unknown) => RequestJsonMap[C] } = {
  'get-plugin-metadata': metadataRequest,
  'describe-key': describeKeyRequest,
  'generate-signature': generateSignatureRequest,
  'generate-envelope': generateEnvelopeRequest,
  'verify-signature': verifySignatureRequest,
};

const RESPONSE_VALIDATORS: { [C in PluginCommand]: (v: unknown) => ResponseJsonMap[C] } = {
  'get-plugin-metadata': metadataResponse,
  'describe-key': describeKeyResponse,
  'generate-signature': generateSignatureResponse,
  'generate-envelope': generateEnvelopeResponse,
  'verify-signature': verifySignatureResponse,
};

/** True when `value` is a command name of the contract. */
export function isPluginCommand(value: unknown): value is PluginCommand {
  return typeof value === 'string' && (PLUGIN_COMMANDS as readonly string[]).includes(value);
}

function assertCommand(command: string): asserts command is PluginCommand {
  if (!isPluginCommand(command)) {
    throw new PluginError('VALIDATION_ERROR', `"${command}" is not a plugin command (expected one of ${PLUGIN_COMMANDS.join(', ')})`);
  }
}

/**
 * Validate a request JSON value (already parsed) for `command`. Unknown fields are dropped.
 * Throws {@link PluginError} `VALIDATION_ERROR` naming the offending field.
 */
export function validateRequest<C extends PluginCommand>(command: C, value: unknown): RequestJsonMap[C] {
  assertCommand(command);
  try {
    return REQUEST_VALIDATORS[command](value) as RequestJsonMap[C];
  } catch (e) {
    if (e instanceof ShapeError) throw new PluginError('VALIDATION_ERROR', `invalid ${command} request: ${e.message}`);
    throw e;
  }
}

/**
 * Validate a response JSON value (already parsed) for `command`. Unknown fields are dropped.
 * Throws VouchError `ERR_PLUGIN_PROTOCOL` naming the offending field.
 */
export function validateResponse<C extends PluginCommand>(command: C, value: unknown, plugin?: string): ResponseJsonMap[C] {
  if (!isPluginCommand(command)) throw new VouchError('ERR_INVALID_ARGUMENT', `"${command}" is not a plugin command`);
  try {
    return RESPONSE_VALIDATORS[command](value) as ResponseJsonMap[C];
  } catch (e) {
    if (e instanceof ShapeError) {
      throw new VouchError(
        'ERR_PLUGIN_PROTOCOL',
        `${plugin ? `plugin ${plugin}` : 'plugin'} sent an invalid ${command} response: ${e.message}`,
        {
          details: { command, ...(plugin ? { plugin } : {}) },
        },
      );
    }
    throw e;
  }
}

/** Validate a plugin error body. Throws VouchError `ERR_PLUGIN_PROTOCOL` when it breaks the contract. */
export function validateErrorBody(value: unknown, plugin?: string): PluginErrorBody {
  try {
    return errorBody(value);
  } catch (e) {
    if (e instanceof ShapeError) {
      throw new VouchError('ERR_PLUGIN_PROTOCOL', `${plugin ? `plugin ${plugin}` : 'plugin'} sent an invalid error body: ${e.message}`, {
        details: plugin ? { plugin } : {},
      });
    }
    throw e;
  }
}

/** Check a request's `contractVersion` against the versions a plugin supports (same major). */
export function checkContractVersion(request: unknown, supported: readonly string[]): void {
  if (!isObj(request) || typeof request.contractVersion !== 'string' || !VERSION_RE.test(request.contractVersion)) return;
  const major = request.contractVersion.split('.')[0];
  if (!supported.some((s) => s.split('.')[0] === major)) {
    throw new PluginError(
      'UNSUPPORTED_CONTRACT_VERSION',
      `contract version ${request.contractVersion} is not supported; this plugin supports ${supported.join(', ')}`,
    );
  }
}

// ------------------------------------------------------------ model <-> wire

function formatTime(d: Date, what: string): string {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new ShapeError(`${what} must be a valid Date`);
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

function parseTime(s: string | undefined): Date | undefined {
  if (s === undefined || /^0001-01-01T00:00:00(\.0+)?Z$/i.test(s)) return undefined; // Go's zero time means "none"
  return new Date(s);
}

function bytes(b: unknown, what: string): string {
  if (!(b instanceof Uint8Array)) throw new ShapeError(`${what} must be a Uint8Array`);
  return toBase64(b);
}

function toJson<C extends PluginCommand>(command: C, kind: 'request' | 'response', model: unknown): unknown {
  const m = obj(model, kind) as Record<string, unknown>;
  const cfg = (target: Obj): Obj => (m.pluginConfig === undefined ? target : { ...target, pluginConfig: m.pluginConfig });
  const cv = m.contractVersion ?? CONTRACT_VERSION;
  if (kind === 'request') {
    switch (command) {
      case PluginCommand.GET_PLUGIN_METADATA:
        return cfg({});
      case PluginCommand.DESCRIBE_KEY:
        return cfg({ contractVersion: cv, keyId: m.keyId });
      case PluginCommand.GENERATE_SIGNATURE:
        return cfg({
          contractVersion: cv,
          keyId: m.keyId,
          keySpec: m.keySpec,
          hashAlgorithm: m.hashAlgorithm,
          payload: bytes(m.payload, 'payload'),
        });
      case PluginCommand.GENERATE_ENVELOPE: {
        const out: Obj = {
          contractVersion: cv,
          keyId: m.keyId,
          payload: bytes(m.payload, 'payload'),
          payloadType: m.payloadType,
          signatureEnvelopeType: m.signatureEnvelopeType,
        };
        if (m.expiryDurationInSeconds) out.expiryDurationInSeconds = m.expiryDurationInSeconds;
        return cfg(out);
      }
      default: {
        const sig = obj(m.signature, 'signature');
        const ca = obj(sig.criticalAttributes, 'signature.criticalAttributes') as unknown as CriticalAttributes;
        const crit: Obj = { contentType: ca.contentType, signingScheme: ca.signingScheme };
        if (ca.expiry !== undefined) crit.expiry = formatTime(ca.expiry, 'expiry');
        if (ca.authenticSigningTime !== undefined) crit.authenticSigningTime = formatTime(ca.authenticSigningTime, 'authenticSigningTime');
        if (ca.verificationPlugin !== undefined) crit.verificationPlugin = ca.verificationPlugin;
        if (ca.verificationPluginMinVersion !== undefined) crit.verificationPluginMinVersion = ca.verificationPluginMinVersion;
        if (ca.extendedAttributes !== undefined) crit.extendedAttributes = ca.extendedAttributes;
        const chain = sig.certificateChain;
        if (!Array.isArray(chain)) throw new ShapeError('signature.certificateChain must be an array of Uint8Array');
        return cfg({
          contractVersion: cv,
          signature: {
            criticalAttributes: crit,
            unprocessedAttributes: sig.unprocessedAttributes ?? [],
            certificateChain: chain.map((c, i) => bytes(c, `signature.certificateChain[${i}]`)),
          },
          trustPolicy: m.trustPolicy,
        });
      }
    }
  }
  switch (command) {
    case PluginCommand.GENERATE_SIGNATURE: {
      const chain = m.certificateChain;
      if (!Array.isArray(chain)) throw new ShapeError('certificateChain must be an array of Uint8Array');
      return {
        keyId: m.keyId,
        signature: bytes(m.signature, 'signature'),
        signingAlgorithm: m.signingAlgorithm,
        certificateChain: chain.map((c, i) => bytes(c, `certificateChain[${i}]`)),
      };
    }
    case PluginCommand.GENERATE_ENVELOPE: {
      const out: Obj = {
        signatureEnvelope: bytes(m.signatureEnvelope, 'signatureEnvelope'),
        signatureEnvelopeType: m.signatureEnvelopeType,
      };
      if (m.annotations !== undefined) out.annotations = m.annotations;
      return out;
    }
    default:
      return m;
  }
}

function fromJson<C extends PluginCommand>(command: C, kind: 'request' | 'response', json: Obj): unknown {
  if (kind === 'request') {
    switch (command) {
      case PluginCommand.GENERATE_SIGNATURE:
      case PluginCommand.GENERATE_ENVELOPE:
        return { ...json, payload: fromBase64(json.payload as string) };
      case PluginCommand.VERIFY_SIGNATURE: {
        const sig = json.signature as RequestJsonMap['verify-signature']['signature'];
        const { expiry, authenticSigningTime, ...rest } = sig.criticalAttributes;
        const crit: CriticalAttributes = { ...rest };
        const e = parseTime(expiry);
        if (e) crit.expiry = e;
        const t = parseTime(authenticSigningTime);
        if (t) crit.authenticSigningTime = t;
        return {
          ...json,
          signature: { ...sig, criticalAttributes: crit, certificateChain: sig.certificateChain.map((c) => fromBase64(c)) },
        };
      }
      default:
        return json;
    }
  }
  switch (command) {
    case PluginCommand.GENERATE_SIGNATURE:
      return {
        ...json,
        signature: fromBase64(json.signature as string),
        certificateChain: (json.certificateChain as string[]).map((c) => fromBase64(c)),
      };
    case PluginCommand.GENERATE_ENVELOPE:
      return { ...json, signatureEnvelope: fromBase64(json.signatureEnvelope as string) };
    default:
      return json;
  }
}

/**
 * Encode a model request as the wire JSON object for `command` (fills `contractVersion`
 * "1.0" when absent) and validate it. A bad request is the caller's bug: VouchError
 * `ERR_INVALID_ARGUMENT`.
 */
export function encodeRequest<C extends PluginCommand>(command: C, request: RequestMap[C]): RequestJsonMap[C] {
  try {
    return validateRequest(command, toJson(command, 'request', request));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new VouchError('ERR_INVALID_ARGUMENT', `cannot send ${command} request: ${why}`, { cause: e });
  }
}

/** Validate a wire request JSON value and decode it to the model. Throws {@link PluginError} `VALIDATION_ERROR`. */
export function decodeRequest<C extends PluginCommand>(command: C, json: unknown): RequestMap[C] {
  const valid = validateRequest(command, json);
  return fromJson(command, 'request', valid as unknown as Obj) as RequestMap[C];
}

/** Encode a model response as validated wire JSON. A bad response is the plugin's bug: VouchError `ERR_PLUGIN_PROTOCOL`. */
export function encodeResponse<C extends PluginCommand>(command: C, response: ResponseMap[C], plugin?: string): ResponseJsonMap[C] {
  let json: unknown;
  try {
    json = toJson(command, 'response', response);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new VouchError(
      'ERR_PLUGIN_PROTOCOL',
      `${plugin ? `plugin ${plugin}` : 'plugin'} returned an invalid ${command} response: ${why}`,
      {
        cause: e,
        details: { command },
      },
    );
  }
  return validateResponse(command, json, plugin);
}

/** Validate a wire response JSON value and decode it to the model. Throws VouchError `ERR_PLUGIN_PROTOCOL`. */
export function decodeResponse<C extends PluginCommand>(command: C, json: unknown, plugin?: string): ResponseMap[C] {
  const valid = validateResponse(command, json, plugin);
  return fromJson(command, 'response', valid as unknown as Obj) as ResponseMap[C];
}
