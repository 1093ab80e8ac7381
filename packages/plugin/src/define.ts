import { isVouchError, type Logger, VouchError } from '@vouch/core';
import { noopLogger } from '@vouch/core/internal';
import { checkContractVersion, decodeRequest, encodeResponse, isPluginCommand, validateResponse } from './codec.js';
import { Capability, commandsForCapability, PLUGIN_COMMANDS, PluginCommand, VERIFIER_CAPABILITIES } from './constants.js';
import { PluginError, toErrorBody } from './errors.js';
import type {
  DescribeKeyRequest,
  DescribeKeyResponse,
  GenerateEnvelopeRequest,
  GenerateEnvelopeResponse,
  GenerateSignatureRequest,
  GenerateSignatureResponse,
  PluginContext,
  PluginErrorBody,
  PluginMetadata,
  VerifySignatureRequest,
  VerifySignatureResponse,
} from './types.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * A plugin written with the SDK: static metadata plus one handler per command it implements.
 * Handlers receive decoded, validated requests (bytes as `Uint8Array`, times as `Date`) and
 * return model responses; the SDK does the JSON. Throw {@link PluginError} to report a
 * spec error code; anything else is reported as `ERROR`.
 */
export interface PluginDefinition {
  /** Returned by `get-plugin-metadata`; must be static and must not need the network. */
  metadata: PluginMetadata;
  /** Required by SIGNATURE_GENERATOR.RAW (and ENVELOPE_FOR_BLOB). */
  describeKey?(request: DescribeKeyRequest, ctx: PluginContext): MaybePromise<DescribeKeyResponse>;
  /** Required by SIGNATURE_GENERATOR.RAW. */
  generateSignature?(request: GenerateSignatureRequest, ctx: PluginContext): MaybePromise<GenerateSignatureResponse>;
  /** Required by SIGNATURE_GENERATOR.ENVELOPE. */
  generateEnvelope?(request: GenerateEnvelopeRequest, ctx: PluginContext): MaybePromise<GenerateEnvelopeResponse>;
  /** Required by SIGNATURE_VERIFIER.TRUSTED_IDENTITY / REVOCATION_CHECK. */
  verifySignature?(request: VerifySignatureRequest, ctx: PluginContext): MaybePromise<VerifySignatureResponse>;
}

/** A validated, frozen plugin returned by {@link definePlugin}. */
export type Plugin = Readonly<PluginDefinition> & { readonly metadata: Readonly<PluginMetadata> };

const HANDLER_OF: Record<Exclude<PluginCommand, 'get-plugin-metadata'>, keyof PluginDefinition> = {
  'describe-key': 'describeKey',
  'generate-signature': 'generateSignature',
  'generate-envelope': 'generateEnvelope',
  'verify-signature': 'verifySignature',
};

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * True when `name` can name a plugin on disk (`plugins/<name>/notation-<name>`): letters,
 * digits, `.`, `_`, `-`, starting with a letter or digit (reverse domain names qualify).
 */
export function isValidPluginName(name: string): boolean {
  return NAME_RE.test(name) && name.length <= 200;
}

/**
 * Validate and freeze a plugin. Checks that the metadata is a valid `get-plugin-metadata`
 * response, that the name is usable as `notation-<name>`, that every advertised capability
 * has its handlers, and that no handler is present whose capability is not advertised.
 * Throws VouchError `ERR_INVALID_ARGUMENT` naming the problem.
 * @example
 * ```ts
 * import { definePlugin } from '@vouch/plugin';
 *
 * export default definePlugin({
 *   metadata: {
 *     name: 'com.example.kms',
 *     description: 'Signs with Example KMS',
 *     version: '1.0.0',
 *     url: 'https://example.com/kms-plugin',
 *     supportedContractVersions: ['1.0'],
 *     capabilities: ['SIGNATURE_GENERATOR.RAW'],
 *   },
 *   async describeKey({ keyId }) {
 *     return { keyId, keySpec: 'EC-256' };
 *   },
 *   async generateSignature({ keyId, payload }) {
 *     const { signature, chain } = await kms.sign(keyId, payload); // ECDSA r||s, DER certificates leaf first
 *     return { keyId, signature, signingAlgorithm: 'ECDSA-SHA-256', certificateChain: chain };
 *   },
 * });
 * ```
 */
export function definePlugin<P extends PluginDefinition>(definition: P): Plugin & Readonly<P> {
  if (typeof definition !== 'object' || definition === null) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'definePlugin expects an object { metadata, describeKey?, generateSignature?, … }');
  }
  let metadata: PluginMetadata;
  try {
    metadata = validateResponse(PluginCommand.GET_PLUGIN_METADATA, definition.metadata);
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `definePlugin: invalid metadata: ${(e as Error).message}`, { cause: e });
  }
  if (!isValidPluginName(metadata.name)) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      `definePlugin: plugin name "${metadata.name}" cannot name an executable notation-<name>; use letters, digits, ".", "_" and "-" (e.g. com.example.kms)`,
    );
  }
  for (const [command, key] of Object.entries(HANDLER_OF)) {
    const h = definition[key];
    if (h !== undefined && typeof h !== 'function') {
      throw new VouchError('ERR_INVALID_ARGUMENT', `definePlugin: ${key} (the ${command} handler) must be a function`);
    }
  }
  const required = new Set<string>();
  for (const cap of metadata.capabilities) {
    for (const cmd of commandsForCapability(cap)) {
      if (cmd === PluginCommand.GET_PLUGIN_METADATA) continue;
      const key = HANDLER_OF[cmd];
      required.add(key);
      if (typeof definition[key] !== 'function') {
        throw new VouchError('ERR_INVALID_ARGUMENT', `definePlugin: capability ${cap} requires the ${cmd} handler ${key}()`);
      }
    }
  }
  const caps = new Set<string>(metadata.capabilities);
  const advertisedFor: Record<string, string> = {
    generateSignature: Capability.SIGNATURE_GENERATOR_RAW,
    generateEnvelope: `${Capability.SIGNATURE_GENERATOR_ENVELOPE} or ${Capability.SIGNATURE_GENERATOR_ENVELOPE_FOR_BLOB}`,
    verifySignature: VERIFIER_CAPABILITIES.join(' or '),
  };
  for (const key of ['generateSignature', 'generateEnvelope', 'verifySignature'] as const) {
    if (definition[key] !== undefined && !required.has(key)) {
      throw new VouchError(
        'ERR_INVALID_ARGUMENT',
        `definePlugin: ${key}() is implemented but metadata.capabilities ${JSON.stringify([...caps])} does not advertise ${advertisedFor[key]}; advertise it or remove the handler`,
      );
    }
  }
  const frozenMeta = Object.freeze({
    ...metadata,
    supportedContractVersions: Object.freeze([...metadata.supportedContractVersions]),
    capabilities: Object.freeze([...metadata.capabilities]),
  }) as unknown as PluginMetadata;
  return Object.freeze({ ...definition, metadata: frozenMeta }) as Plugin & Readonly<P>;
}

/** Options of {@link servePluginRequest}. */
export interface ServeOptions {
  signal?: AbortSignal;
  logger?: Logger;
}

/** Outcome of {@link servePluginRequest}: the wire response, or the error body to report. */
export type ServeResult = { ok: true; response: unknown } | { ok: false; error: PluginErrorBody };

/**
 * Serve one request the way an executable does, for any transport: validate the command and
 * the request JSON (unknown command, bad shape → VALIDATION_ERROR; other major contract
 * version → UNSUPPORTED_CONTRACT_VERSION), call the handler, validate and encode its
 * response. Never throws: failures come back as an error body.
 */
export async function servePluginRequest(
  plugin: Plugin,
  command: string,
  request: unknown,
  options: ServeOptions = {},
): Promise<ServeResult> {
  try {
    if (!isPluginCommand(command)) {
      throw new PluginError('VALIDATION_ERROR', `unknown command "${command}"; supported commands: ${PLUGIN_COMMANDS.join(', ')}`);
    }
    const ctx: PluginContext = { logger: options.logger ?? noopLogger, command };
    if (options.signal) ctx.signal = options.signal;
    if (command === PluginCommand.GET_PLUGIN_METADATA) {
      decodeRequest(command, request);
      return { ok: true, response: encodeResponse(command, plugin.metadata, plugin.metadata.name) };
    }
    const key = HANDLER_OF[command];
    const handler = plugin[key] as ((req: unknown, ctx: PluginContext) => MaybePromise<unknown>) | undefined;
    if (typeof handler !== 'function') {
      throw new PluginError(
        'VALIDATION_ERROR',
        `plugin ${plugin.metadata.name} does not implement ${command} (capabilities: ${plugin.metadata.capabilities.join(', ')})`,
      );
    }
    checkContractVersion(request, plugin.metadata.supportedContractVersions);
    const req = decodeRequest(command, request);
    const res = await handler.call(plugin, req, ctx);
    try {
      // biome-ignore lint/suspicious/noExplicitAny: the handler map is indexed by command
      return { ok: true, response: encodeResponse(command, res as any, plugin.metadata.name) };
    } catch (e) {
      if (isVouchError(e) && e.code === 'ERR_PLUGIN_PROTOCOL') {
        throw new PluginError('ERROR', `the plugin's ${command} handler returned an invalid response: ${e.message}`);
      }
      throw e;
    }
  } catch (e) {
    return { ok: false, error: toErrorBody(e) };
  }
}
