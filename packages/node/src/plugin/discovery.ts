import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isVouchError, VouchError } from '@vouch/core';
import type { PluginMetadata } from '@vouch/plugin';
import { isValidPluginName } from '@vouch/plugin/internal';
import { ConfigPaths, notationConfigDir } from '../config/dirs.js';
import { type ExecutablePluginClient, type ExecutablePluginOptions, executablePlugin } from './executable.js';

/** Where plugins live: `<configDir>/plugins`. */
export interface PluginDirOptions {
  /** The notation configuration directory (default: `notationConfigDir()`, i.e. `$XDG_CONFIG_HOME/notation`). */
  configDir?: string;
  /** Platform whose executable naming to use (`.exe` on win32); default `process.platform`. */
  platform?: string;
}

/** The plugin directory, `<configDir>/plugins`. */
export function pluginDirectory(options: PluginDirOptions = {}): string {
  return join(notationConfigDir(options.configDir ? { configDir: options.configDir } : {}), ConfigPaths.PLUGINS);
}

/** The executable path of plugin `name`: `<configDir>/plugins/<name>/notation-<name>` (`.exe` on Windows). */
export function pluginExecutablePath(name: string, options: PluginDirOptions = {}): string {
  assertPluginName(name);
  const exe = (options.platform ?? process.platform) === 'win32' ? '.exe' : '';
  return join(pluginDirectory(options), name, `notation-${name}${exe}`);
}

/** Throws ERR_INVALID_ARGUMENT unless `name` can name a plugin directory. */
export function assertPluginName(name: string): void {
  if (typeof name !== 'string' || !isValidPluginName(name)) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      `"${String(name)}" is not a valid plugin name: use letters, digits, ".", "_" and "-" (e.g. com.example.kms)`,
    );
  }
}

async function checkCandidate(path: string, name: string): Promise<void> {
  const notFound = (why: string) =>
    new VouchError('ERR_PLUGIN_NOT_FOUND', `plugin ${name} ${why}; install it with \`vouch plugin install\``, {
      details: { plugin: name, path },
    });
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw notFound(`is not installed (no executable at ${path})`);
    throw new VouchError('ERR_IO', `cannot read plugin executable ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (st.isSymbolicLink()) throw notFound(`is not a valid plugin: ${path} is a symbolic link, which the plugin specification forbids`);
  if (!st.isFile()) throw notFound(`is not a valid plugin: ${path} is not a regular file`);
  if (process.platform !== 'win32' && (st.mode & 0o111) === 0)
    throw notFound(`is not a valid plugin: ${path} is not executable (chmod +x)`);
}

/** Options of {@link findPlugin}. */
export interface FindPluginOptions extends PluginDirOptions, Omit<ExecutablePluginOptions, 'name'> {}

/**
 * The installed plugin `name` as a `PluginClient`, after checking the candidate rules of
 * the spec: the plugin directory and `notation-<name>` must be real (no symbolic links), the
 * executable a regular file with execute permission. The plugin's metadata name is checked
 * against `name` on every `metadata()` call. Throws ERR_PLUGIN_NOT_FOUND naming the problem.
 */
export async function findPlugin(name: string, options: FindPluginOptions = {}): Promise<ExecutablePluginClient> {
  const path = pluginExecutablePath(name, options);
  const dir = join(pluginDirectory(options), name);
  try {
    const st = await lstat(dir);
    if (st.isSymbolicLink() || !st.isDirectory()) {
      throw new VouchError('ERR_PLUGIN_NOT_FOUND', `plugin ${name} is not a valid plugin: ${dir} is not a real directory`, {
        details: { plugin: name },
      });
    }
  } catch (e) {
    if (isVouchError(e)) throw e;
    // missing directory: reported by checkCandidate with the executable path
  }
  await checkCandidate(path, name);
  const { configDir: _c, platform: _p, ...exec } = options;
  return executablePlugin(path, { ...exec, name });
}

/** One entry of {@link listPlugins}. */
export interface InstalledPlugin {
  name: string;
  path: string;
  /** Metadata reported by the plugin, when it answered correctly. */
  metadata?: PluginMetadata;
  /** Why the plugin is unusable (bad layout, failing or lying `get-plugin-metadata`). */
  error?: VouchError;
}

/**
 * List the plugins under `<configDir>/plugins`, sorted by name. Only real directories are
 * candidates (files, symbolic links and names starting with "." are skipped, as notation
 * does); each candidate's `get-plugin-metadata` is run and validated. A broken plugin is
 * listed with `error` instead of failing the whole listing.
 */
export async function listPlugins(options: FindPluginOptions = {}): Promise<InstalledPlugin[]> {
  const root = pluginDirectory(options);
  let names: string[];
  try {
    const entries = await readdir(root, { withFileTypes: true });
    names = entries.filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new VouchError('ERR_IO', `cannot read the plugin directory ${root}: ${(e as Error).message}`, { cause: e });
  }
  names.sort();
  const out: InstalledPlugin[] = [];
  for (const name of names) {
    if (!isValidPluginName(name)) continue;
    const path = pluginExecutablePath(name, options);
    try {
      const client = await findPlugin(name, options);
      out.push({ name, path, metadata: await client.metadata() });
    } catch (e) {
      out.push({ name, path, error: isVouchError(e) ? e : new VouchError('ERR_INTERNAL', String(e), { cause: e }) });
    }
  }
  return out;
}
