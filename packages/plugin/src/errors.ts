import { isVouchError, VouchError } from '@vouch/core';
import { isPluginErrorCode, type PluginErrorCode } from './constants.js';
import type { PluginErrorBody } from './types.js';

/** Options of {@link PluginError}. */
export interface PluginErrorOptions {
  /** String metadata sent as `errorMetadata` in the error body. */
  metadata?: Record<string, string>;
  cause?: unknown;
  /** Name of the plugin that reported the error (host side). */
  plugin?: string;
}

/**
 * An error reported by a plugin, with one of the spec's error codes. Plugin authors throw it
 * from handlers (`throw new PluginError('ACCESS_DENIED', 'key vault denied access to key k1')`);
 * hosts throw it when a plugin answers with an error body. It is a {@link VouchError} with code
 * `ERR_PLUGIN_FAILED` and `details.pluginErrorCode` / `details.pluginErrorMetadata`.
 */
export class PluginError extends VouchError {
  /** The spec error code (`VALIDATION_ERROR`, `ACCESS_DENIED`, …). */
  readonly pluginErrorCode: PluginErrorCode;
  /** The `errorMetadata` of the error body, if any. */
  readonly pluginErrorMetadata?: Readonly<Record<string, string>>;

  constructor(pluginErrorCode: PluginErrorCode, message: string, options: PluginErrorOptions = {}) {
    const details: Record<string, unknown> = { pluginErrorCode };
    if (options.metadata) details.pluginErrorMetadata = { ...options.metadata };
    if (options.plugin) details.plugin = options.plugin;
    super('ERR_PLUGIN_FAILED', message, { cause: options.cause, details });
    this.name = 'PluginError';
    this.pluginErrorCode = pluginErrorCode;
    if (options.metadata) this.pluginErrorMetadata = Object.freeze({ ...options.metadata });
  }

  /** True when the spec says the caller may retry (TIMEOUT, THROTTLED). */
  get retryable(): boolean {
    return this.pluginErrorCode === 'TIMEOUT' || this.pluginErrorCode === 'THROTTLED';
  }

  /** The spec error body for this error. */
  toErrorBody(): PluginErrorBody {
    const body: PluginErrorBody = { errorCode: this.pluginErrorCode, errorMessage: this.message };
    if (this.pluginErrorMetadata) body.errorMetadata = { ...this.pluginErrorMetadata };
    return body;
  }
}

/** True for a {@link PluginError}, also across copies of this package. */
export function isPluginError(e: unknown): e is PluginError {
  return isVouchError(e) && e.code === 'ERR_PLUGIN_FAILED' && isPluginErrorCode((e as { pluginErrorCode?: unknown }).pluginErrorCode);
}

/**
 * The error body a plugin reports for `e`: a {@link PluginError} keeps its code; a VouchError
 * `ERR_TIMEOUT` becomes TIMEOUT, `ERR_INVALID_ARGUMENT` VALIDATION_ERROR; anything else ERROR.
 */
export function toErrorBody(e: unknown): PluginErrorBody {
  if (isPluginError(e)) return e.toErrorBody();
  if (isVouchError(e)) {
    const code: PluginErrorCode = e.code === 'ERR_TIMEOUT' ? 'TIMEOUT' : e.code === 'ERR_INVALID_ARGUMENT' ? 'VALIDATION_ERROR' : 'ERROR';
    return { errorCode: code, errorMessage: e.message };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { errorCode: 'ERROR', errorMessage: message || 'plugin failed' };
}

/** The {@link PluginError} a host raises for a validated error body. */
export function fromErrorBody(body: PluginErrorBody, plugin?: string): PluginError {
  const prefix = plugin ? `plugin ${plugin} failed` : 'plugin failed';
  return new PluginError(body.errorCode, `${prefix} (${body.errorCode}): ${body.errorMessage}`, {
    ...(body.errorMetadata ? { metadata: body.errorMetadata } : {}),
    ...(plugin ? { plugin } : {}),
  });
}
