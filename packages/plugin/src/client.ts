import { type Logger, VouchError } from '@vouch/core';
import { decodeResponse, encodeRequest, validateErrorBody } from './codec.js';
import { PluginCommand } from './constants.js';
import { type Plugin, servePluginRequest } from './define.js';
import { fromErrorBody } from './errors.js';
import type {
  DescribeKeyRequest,
  DescribeKeyResponse,
  GenerateEnvelopeRequest,
  GenerateEnvelopeResponse,
  GenerateSignatureRequest,
  GenerateSignatureResponse,
  GetPluginMetadataRequest,
  PluginCallOptions,
  PluginMetadata,
  VerifySignatureRequest,
  VerifySignatureResponse,
} from './types.js';

/**
 * Moves one request to a plugin and back. Resolves with the parsed (not yet validated)
 * response JSON; rejects with {@link PluginError} when the plugin answered with an error body,
 * or with VouchError `ERR_PLUGIN_PROTOCOL` / `ERR_TIMEOUT` / `ERR_ABORTED` / … when the
 * transport failed. Implemented by `inProcessPlugin` here and `executablePlugin` in @vouch/node.
 */
export type PluginTransport = (command: string, request: unknown, options: PluginCallOptions) => Promise<unknown>;

/**
 * The one interface through which `sign()` / `verify()` drive a plugin, in-process or as an
 * executable. Every method encodes and validates the request, sends it, and validates the
 * response (shape, plus: echoed `keyId`, envelope type and verification result keys match
 * the request). Errors: {@link PluginError} (`ERR_PLUGIN_FAILED`) for the plugin's own error
 * body; `ERR_PLUGIN_PROTOCOL` for a contract violation; `ERR_INVALID_ARGUMENT` for a bad request.
 */
export interface PluginClient {
  /** The plugin name this client expects `metadata().name` to be, when known. */
  readonly name?: string;
  /** `get-plugin-metadata`. */
  metadata(request?: GetPluginMetadataRequest, options?: PluginCallOptions): Promise<PluginMetadata>;
  /** `describe-key`. */
  describeKey(request: DescribeKeyRequest, options?: PluginCallOptions): Promise<DescribeKeyResponse>;
  /** `generate-signature`. Callers must still check the signature (see `verifyGenerateSignatureResponse`). */
  generateSignature(request: GenerateSignatureRequest, options?: PluginCallOptions): Promise<GenerateSignatureResponse>;
  /** `generate-envelope`. Callers must still verify the envelope before using it. */
  generateEnvelope(request: GenerateEnvelopeRequest, options?: PluginCallOptions): Promise<GenerateEnvelopeResponse>;
  /** `verify-signature`. */
  verifySignature(request: VerifySignatureRequest, options?: PluginCallOptions): Promise<VerifySignatureResponse>;
  /**
   * Send arbitrary JSON for any command string and return the unvalidated response JSON.
   * For conformance testing; production code uses the typed methods.
   */
  call(command: string, request: unknown, options?: PluginCallOptions): Promise<unknown>;
}

/** Options of {@link createPluginClient}. */
export interface PluginClientOptions {
  /** Expected plugin name: `metadata()` fails with ERR_PLUGIN_PROTOCOL when the plugin reports another. */
  name?: string;
}

function protocol(plugin: string | undefined, message: string, details: Record<string, unknown>): VouchError {
  return new VouchError('ERR_PLUGIN_PROTOCOL', `${plugin ? `plugin ${plugin}` : 'plugin'} ${message}`, {
    details: plugin ? { plugin, ...details } : details,
  });
}

/** Build a {@link PluginClient} on a transport. */
export function createPluginClient(transport: PluginTransport, options: PluginClientOptions = {}): PluginClient {
  const name = options.name;
  const send = async <C extends PluginCommand>(command: C, request: Parameters<typeof encodeRequest<C>>[1], opts?: PluginCallOptions) => {
    const json = encodeRequest(command, request);
    const res = await transport(command, json, opts ?? {});
    return decodeResponse(command, res, name);
  };
  const client: PluginClient = {
    async metadata(request = {}, opts) {
      const md = await send(PluginCommand.GET_PLUGIN_METADATA, request, opts);
      if (name !== undefined && md.name !== name) {
        throw protocol(name, `reports its name as "${md.name}"; the executable must be named notation-${md.name}`, {
          reportedName: md.name,
        });
      }
      return md;
    },
    async describeKey(request, opts) {
      const res = await send(PluginCommand.DESCRIBE_KEY, request, opts);
      if (res.keyId !== request.keyId) {
        throw protocol(name, `answered describe-key for key "${res.keyId}" but "${request.keyId}" was requested`, { keyId: request.keyId });
      }
      return res;
    },
    async generateSignature(request, opts) {
      const res = await send(PluginCommand.GENERATE_SIGNATURE, request, opts);
      if (res.keyId !== request.keyId) {
        throw protocol(name, `signed with key "${res.keyId}" but "${request.keyId}" was requested`, { keyId: request.keyId });
      }
      return res;
    },
    async generateEnvelope(request, opts) {
      const res = await send(PluginCommand.GENERATE_ENVELOPE, request, opts);
      if (res.signatureEnvelopeType !== request.signatureEnvelopeType) {
        throw protocol(name, `returned a ${res.signatureEnvelopeType} envelope but ${request.signatureEnvelopeType} was requested`, {
          requested: request.signatureEnvelopeType,
          returned: res.signatureEnvelopeType,
        });
      }
      return res;
    },
    async verifySignature(request, opts) {
      const res = await send(PluginCommand.VERIFY_SIGNATURE, request, opts);
      const asked = new Set<string>(request.trustPolicy.signatureVerification);
      const got = Object.keys(res.verificationResults);
      const missing = [...asked].filter((c) => !got.includes(c));
      const extra = got.filter((c) => !asked.has(c));
      if (missing.length || extra.length) {
        throw protocol(
          name,
          `answered verify-signature with results for [${got.join(', ')}] but [${[...asked].join(', ')}] were requested (the spec requires exactly the requested capabilities)`,
          { missing, extra },
        );
      }
      return res;
    },
    call(command, request, opts) {
      return transport(command, request, opts ?? {});
    },
  };
  if (name !== undefined) Object.defineProperty(client, 'name', { value: name, enumerable: true });
  return Object.freeze(client);
}

/** Options of {@link inProcessPlugin}. */
export interface InProcessPluginOptions {
  /** Logger passed to the plugin's handlers. */
  logger?: Logger;
}

function roundTrip(value: unknown, what: string): unknown {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : JSON.parse(text);
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `${what} is not JSON-serialisable: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Drive a {@link definePlugin} plugin in-process through the same path as an executable:
 * the request is serialised to JSON, validated by the plugin side, handled, and the
 * response is serialised and validated by the client side. Error bodies become
 * {@link PluginError}, exactly as with `executablePlugin`.
 * @example
 * ```ts
 * import { inProcessPlugin, pluginConformance } from '@vouch/plugin';
 *
 * const client = inProcessPlugin(plugin);
 * const metadata = await client.metadata();
 * const checks = await pluginConformance(client, { keyId: 'my-key' });
 * console.log(metadata.name, checks.filter((c) => c.status === 'failed'));
 * ```
 */
export function inProcessPlugin(plugin: Plugin, options: InProcessPluginOptions = {}): PluginClient {
  const name = plugin.metadata.name;
  const transport: PluginTransport = async (command, request, opts) => {
    if (opts.signal?.aborted) throw new VouchError('ERR_ABORTED', `call to plugin ${name} (${command}) was aborted`);
    const result = await servePluginRequest(plugin, command, roundTrip(request, `${command} request`), {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    if (result.ok) return roundTrip(result.response, `${command} response`);
    throw fromErrorBody(validateErrorBody(roundTrip(result.error, 'error body'), name), name);
  };
  return createPluginClient(transport, { name });
}
