import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type FetchLike, isVouchError, VouchError } from '@vouch/core';
import { type InstallPluginResult, installPlugin, listPlugins, MAX_PLUGIN_INSTALL_BYTES, uninstallPlugin } from '@vouch/node/config';
import type { Command } from 'commander';
import { act, positionalArgument, required } from '../command.js';
import type { CliContext } from '../context.js';
import { renderTable } from '../format/table.js';
import { assertRunnable, pluginEnv, pluginRoot } from '../plugin-signing.js';
import { extractZipPlugin, isZip } from '../zip-plugin.js';

/** notation prints these argument errors without a usage hint. */
function argError(message: string): VouchError {
  return new VouchError('ERR_INVALID_ARGUMENT', message);
}

function installFailed(e: unknown): unknown {
  if (!isVouchError(e)) return e;
  const d = e.details ?? {};
  let why = e.message;
  if (e.code === 'ERR_SIZE_LIMIT_EXCEEDED') why = `total file size reached the ${MAX_PLUGIN_INSTALL_BYTES / 1024 / 1024} MiB size limit`;
  else if (e.code === 'ERR_DIGEST_MISMATCH')
    why = `plugin SHA-256 checksum does not match user input. Expecting ${String(d.userInput ?? d.expected)}`;
  else if (e.code === 'ERR_INVALID_ARGUMENT' && typeof d.installed === 'string' && d.candidate === undefined) {
    why = `plugin ${String(d.plugin)} with version ${d.installed} already exists`;
  } else if (e.code === 'ERR_INVALID_ARGUMENT' && typeof d.installed === 'string' && typeof d.candidate === 'string') {
    why = `failed to install plugin ${String(d.plugin)}. The installing plugin version ${d.candidate} is lower than the existing plugin version ${d.installed}.\nIt is not recommended to install an older version. To force the installation, use the "--force" option`;
  }
  return new VouchError(e.code, `plugin installation failed: ${why}`, { cause: e, details: d });
}

async function download(ctx: CliContext, url: string, dir: string): Promise<string> {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `failed to download plugin from URL: "${url}" is not a URL`, { cause: e });
  }
  if (u.protocol !== 'https:') {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      `failed to download plugin from URL: only the HTTPS scheme is supported, but got ${u.protocol.replace(/:$/, '')}`,
    );
  }
  const fetchFn: FetchLike = ctx.io.fetch ?? (globalThis.fetch.bind(globalThis) as unknown as FetchLike);
  let bytes: Uint8Array;
  try {
    const res = await fetchFn(url, { redirect: 'follow', signal: AbortSignal.timeout(120_000) });
    if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
    const len = Number(res.headers.get('content-length') ?? '0');
    if (len > MAX_PLUGIN_INSTALL_BYTES) throw new VouchError('ERR_SIZE_LIMIT_EXCEEDED', 'the plugin is too large');
    bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > MAX_PLUGIN_INSTALL_BYTES) throw new VouchError('ERR_SIZE_LIMIT_EXCEEDED', 'the plugin is too large');
  } catch (e) {
    if (isVouchError(e) && e.code === 'ERR_SIZE_LIMIT_EXCEEDED') throw installFailed(e);
    throw new VouchError('ERR_NETWORK', `failed to download plugin from URL ${url}: ${(e as Error).message}`, { cause: e });
  }
  const name = basename(u.pathname) || 'plugin-download';
  const file = join(dir, name);
  await writeFile(file, bytes, { mode: 0o600 });
  return file;
}

function capabilitiesText(caps: readonly string[]): string {
  return `[${caps.join(' ')}]`;
}

/** `vouch plugin list|install|uninstall`: manage plugins in `<config dir>/plugins` (or `$NOTATION_LIBEXEC/plugins`). */
export function registerPlugin(program: Command, ctx: CliContext): void {
  const plugin = program.command('plugin').description('Manage plugins');

  const listCmd = plugin.command('list').alias('ls').description('List installed plugins');
  act(listCmd, ctx, async () => {
    const configDir = pluginRoot(ctx);
    const found = await listPlugins({ configDir, env: pluginEnv(ctx), inheritEnv: false });
    const rows: string[][] = [];
    const json: unknown[] = [];
    for (const p of found) {
      let error = p.error;
      if (!error) {
        try {
          await assertRunnable(p.path);
        } catch (e) {
          error = e as VouchError;
        }
      }
      if (error && /is not installed/.test(error.message)) {
        error = new VouchError(error.code, `plugin executable file is either not found or inaccessible: ${p.path}: not found`);
      }
      const md = error ? undefined : p.metadata;
      rows.push([
        p.name,
        md?.description ?? '',
        md?.version ?? '',
        md ? capabilitiesText(md.capabilities) : '[]',
        error ? error.message.replace(/\n/g, ' ') : '<nil>',
      ]);
      json.push({ name: p.name, path: p.path, ...(md ? { metadata: md } : {}), ...(error ? { error: error.toJSON() } : {}) });
    }
    ctx.out(renderTable([['NAME', 'DESCRIPTION', 'VERSION', 'CAPABILITIES', 'ERROR'], ...rows]));
    ctx.result({ plugins: json });
  });

  const installCmd = plugin
    .command('install')
    .alias('add')
    .description('Install a plugin from a file (executable, .tar.gz or .zip) or an HTTPS URL')
    .argument('[source]', 'plugin source: a file path (with --file) or an HTTPS URL (with --url)')
    .option('--file', 'install from a local file')
    .option('--url', 'install from an HTTPS URL')
    .option('--sha256sum <checksum>', 'SHA-256 checksum of the plugin source')
    .option('--force', 'replace an installed plugin of the same or a newer version');
  act(installCmd, ctx, async ([source], opts) => {
    if (opts.file && opts.url) {
      throw argError('if any flags in the group [file url] are set none of the others can be; [file url] were all set');
    }
    if (!source) {
      if (opts.file) throw argError('missing plugin file path');
      if (opts.url) throw argError('missing plugin URL');
      throw argError('missing plugin source location');
    }
    if (!opts.file && !opts.url) throw argError('at least one of the flags in the group [file url] is required');
    const sha = opts.sha256sum as string | undefined;
    if (opts.url && !sha) {
      throw argError('installing from URL requires non-empty SHA256 checksum of the plugin source');
    }
    const tmp = await mkdtemp(join(tmpdir(), 'vouch-plugin-'));
    let result: InstallPluginResult;
    try {
      let file = opts.url ? await download(ctx, source as string, tmp) : ctx.resolvePath(required(source, 'source'));
      const common = { configDir: pluginRoot(ctx), env: pluginEnv(ctx), ...(opts.force ? { force: true } : {}) };
      try {
        if (sha !== undefined) {
          const want = sha.trim().toLowerCase();
          if (!/^[0-9a-f]{64}$/.test(want)) {
            throw new VouchError('ERR_DIGEST_MISMATCH', `"${sha}" is not a SHA-256 checksum`, { details: { userInput: sha } });
          }
        }
        if (await isZip(file)) {
          // The checksum covers the archive as published: check it before unpacking.
          file = await extractZipPlugin(file, tmp, sha);
          result = await installPlugin(file, common);
        } else {
          result = await installPlugin(file, { ...common, ...(sha !== undefined ? { sha256: sha } : {}) });
        }
      } catch (e) {
        if (isVouchError(e) && e.code === 'ERR_DIGEST_MISMATCH') {
          throw installFailed(new VouchError(e.code, e.message, { cause: e, details: { ...(e.details ?? {}), userInput: sha } }));
        }
        throw installFailed(e);
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    if (result.previousVersion !== undefined) {
      ctx.line(`Successfully updated plugin ${result.name} from version ${result.previousVersion} to ${result.version}`);
    } else {
      ctx.line(`Successfully installed plugin ${result.name}, version ${result.version}`);
    }
    ctx.result({
      name: result.name,
      version: result.version,
      path: result.path,
      ...(result.previousVersion !== undefined ? { previousVersion: result.previousVersion } : {}),
    });
  });

  const uninstallCmd = plugin
    .command('uninstall')
    .aliases(['remove', 'rm'])
    .description('Uninstall a plugin')
    .argument('<name>', 'plugin name')
    .option('-y, --yes', 'do not prompt for confirmation');
  act(uninstallCmd, ctx, async ([name], opts) => {
    const n = positionalArgument(ctx, name);
    const missing = () =>
      new VouchError(
        'ERR_PLUGIN_NOT_FOUND',
        `unable to find plugin ${n}.\nTo view a list of installed plugins, use \`${ctx.programName} plugin list\``,
        { details: { plugin: n } },
      );
    const installed = await listPlugins({ configDir: pluginRoot(ctx), env: pluginEnv(ctx), inheritEnv: false }).catch(() => []);
    if (!installed.some((p) => p.name === n)) throw missing();
    if (!(await ctx.confirm(`Are you sure you want to uninstall plugin "${n}"?`, !!opts.yes))) {
      ctx.line('Operation cancelled.');
      return;
    }
    try {
      await uninstallPlugin(n, { configDir: pluginRoot(ctx) });
    } catch (e) {
      if (isVouchError(e) && e.code === 'ERR_PLUGIN_NOT_FOUND') throw missing();
      throw new VouchError(isVouchError(e) ? e.code : 'ERR_IO', `failed to uninstall ${n}: ${(e as Error).message}`, { cause: e });
    }
    ctx.line(`Successfully uninstalled plugin ${n}`);
    ctx.result({ uninstalled: n });
  });
}
