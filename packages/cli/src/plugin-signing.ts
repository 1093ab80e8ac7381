import { isVouchError, VouchError } from '@vouch/core';
import { findPlugin, type PluginKeySuite, pluginExecutablePath } from '@vouch/node/config';
import { assertRunnable } from '@vouch/node/internal';
import { type EnvelopeSigner, type PluginResolver, pluginSigner } from '@vouch/notation';
import { createPluginClient, type PluginClient } from '@vouch/plugin';
import { parseKeyValues } from './command.js';
import type { CliContext } from './context.js';

/**
 * Where plugins live for this invocation: `$NOTATION_LIBEXEC/plugins` when set (notation's
 * override), else `<config dir>/plugins`. Returns the directory that holds `plugins/`.
 */
export function pluginRoot(ctx: CliContext): string {
  const libexec = ctx.env.NOTATION_LIBEXEC;
  return libexec ? ctx.resolvePath(libexec) : ctx.configDir();
}

/**
 * The environment a plugin runs with: the CLI's, minus registry credentials
 * (`NOTATION_USERNAME`, `NOTATION_PASSWORD`), which notation never hands to plugins.
 */
export function pluginEnv(ctx: CliContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.env)) {
    if (v === undefined || k === 'NOTATION_USERNAME' || k === 'NOTATION_PASSWORD') continue;
    out[k] = v;
  }
  return out;
}

export { assertRunnable } from '@vouch/node/internal';

/** Wrap a client so that, with `--debug`, every plugin request and response is printed to stderr. */
function withDebug(ctx: CliContext, client: PluginClient, name: string): PluginClient {
  if (!ctx.globals.debug) return client;
  return createPluginClient(
    async (command, request, opts) => {
      ctx.warn(`DEBUG: Plugin ${command} request: ${JSON.stringify(request)}`);
      try {
        const res = await client.call(command, request, opts);
        ctx.warn(`DEBUG: Plugin ${command} response: ${JSON.stringify(res)}`);
        return res;
      } catch (e) {
        ctx.warn(`DEBUG: Plugin ${command} failed: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      }
    },
    { name },
  );
}

/**
 * The installed plugin `name` as a {@link PluginClient}: found under {@link pluginRoot}, checked
 * (real directory and file, execute permission, a real executable), run without a shell, with
 * the CLI's environment minus registry credentials, and traced with `--debug`. Throws
 * ERR_PLUGIN_NOT_FOUND (wording includes "no such file or directory" for a missing file).
 */
export async function openPlugin(ctx: CliContext, name: string): Promise<PluginClient> {
  const configDir = pluginRoot(ctx);
  let client: PluginClient;
  try {
    client = await findPlugin(name, { configDir, env: pluginEnv(ctx), inheritEnv: false });
  } catch (e) {
    if (isVouchError(e) && e.code === 'ERR_PLUGIN_NOT_FOUND') {
      const path = pluginExecutablePath(name, { configDir });
      throw new VouchError(
        'ERR_PLUGIN_NOT_FOUND',
        /not installed/.test(e.message)
          ? `plugin executable file is either not found or inaccessible: stat ${path}: no such file or directory`
          : e.message,
        { cause: e, details: { plugin: name, path } },
      );
    }
    throw e;
  }
  await assertRunnable(pluginExecutablePath(name, { configDir }));
  return withDebug(ctx, client, name);
}

/** What the sign command knows about a plugin key. */
export interface PluginSigningInput {
  /** Plugin name (`--plugin`, or `pluginName` of a signingkeys.json entry). */
  plugin: string;
  /** Key id (`--id`, or `id` of the entry). */
  id: string;
  /** Stored plugin configuration (of the key entry). */
  pluginConfig?: Record<string, string>;
  /** `--plugin-config K=V` flags: they override stored entries. */
  pluginConfigFlags?: readonly string[];
}

/** Merge stored plugin configuration with `--plugin-config` flags (the flags win), as notation does. */
export function mergePluginConfig(
  stored: Record<string, string> | undefined,
  flags: readonly string[] | undefined,
): Record<string, string> | undefined {
  const fromFlags = parseKeyValues(flags, 'plugin-config');
  if (!stored && !fromFlags) return undefined;
  return { ...(stored ?? {}), ...(fromFlags ?? {}) };
}

/**
 * A signer for `vouch sign --plugin NAME --id KEY [--plugin-config K=V]…` or for a plugin key of
 * signingkeys.json: the installed plugin through {@link openPlugin}, driven by `pluginSigner`
 * (RAW preferred; ENVELOPE otherwise). Pass the result as `signer` to `sign()`.
 */
export async function pluginSignerFor(ctx: CliContext, input: PluginSigningInput): Promise<EnvelopeSigner> {
  const client = await openPlugin(ctx, input.plugin);
  const pluginConfig = mergePluginConfig(input.pluginConfig, input.pluginConfigFlags);
  return pluginSigner(client, { keyId: input.id, logger: ctx.logger(), ...(pluginConfig ? { pluginConfig } : {}) });
}

/** {@link pluginSignerFor} for a plugin key entry of signingkeys.json. */
export function pluginKeySigner(ctx: CliContext, key: PluginKeySuite, flags?: readonly string[]): Promise<EnvelopeSigner> {
  return pluginSignerFor(ctx, {
    plugin: key.pluginName,
    id: key.id,
    ...(key.pluginConfig ? { pluginConfig: key.pluginConfig } : {}),
    ...(flags ? { pluginConfigFlags: flags } : {}),
  });
}

/**
 * Verification plugins for `createNodeVerifier({ plugins })` / `createVerifier({ plugins })`:
 * a signature naming `io.cncf.notary.verificationPlugin` gets the installed plugin of that name.
 */
export function pluginResolver(ctx: CliContext): PluginResolver {
  return (name) => openPlugin(ctx, name);
}
