import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isVouchError, VouchError } from '@vouch/core';
import { compareSemver } from '@vouch/core/internal';
import type { PluginMetadata } from '@vouch/plugin';
import { assertPluginName, type FindPluginOptions, pluginDirectory } from './discovery.js';
import { executablePlugin, pluginNameFromExecutable } from './executable.js';
import { readTar } from './tar.js';

/** The largest plugin file or unpacked archive accepted (the spec's install size bound). */
export const MAX_PLUGIN_INSTALL_BYTES = 256 * 1024 * 1024;

/** Options of {@link installPlugin}. */
export interface InstallPluginOptions extends FindPluginOptions {
  /** Expected SHA-256 of the file or archive (hex, as published by the vendor). Mismatch: ERR_DIGEST_MISMATCH. */
  sha256?: string;
  /** Replace an installed plugin of the same or a newer version. */
  force?: boolean;
}

/** Result of {@link installPlugin}. */
export interface InstallPluginResult {
  name: string;
  version: string;
  /** Path of the installed executable. */
  path: string;
  metadata: PluginMetadata;
  /** Version of the plugin that was replaced, if any. */
  previousVersion?: string;
}

interface StagedFile {
  name: string;
  data: Uint8Array;
  executable: boolean;
}

function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && (b[3] === 4 || b[3] === 6);
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function filesFromArchive(bytes: Uint8Array, source: string): StagedFile[] {
  let tar: Uint8Array;
  try {
    tar = new Uint8Array(gunzipSync(bytes, { maxOutputLength: MAX_PLUGIN_INSTALL_BYTES }));
  } catch (e) {
    if (e instanceof RangeError || (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new VouchError('ERR_SIZE_LIMIT_EXCEEDED', `${source} unpacks to more than ${MAX_PLUGIN_INSTALL_BYTES} bytes`, { cause: e });
    }
    throw new VouchError('ERR_MALFORMED_INPUT', `${source} is not a valid gzip file: ${(e as Error).message}`, { cause: e });
  }
  // Only the top directory of the archive is used, as notation does.
  const top = readTar(tar).filter((e) => e.type === 'file' && !e.path.includes('/') && e.path !== '' && e.path !== '.' && e.path !== '..');
  const exes = top.filter((e) => pluginNameFromExecutable(e.path) !== undefined);
  if (exes.length !== 1) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      exes.length === 0
        ? `${source} holds no plugin executable notation-<name> at its top level`
        : `${source} holds ${exes.length} plugin executables (${exes.map((e) => e.path).join(', ')}); a plugin archive must hold exactly one`,
    );
  }
  // A later entry with the same name replaces an earlier one, as when extracting.
  const byName = new Map(top.map((e) => [e.path, e] as const));
  return [...byName.values()].map((e) => ({ name: e.path, data: e.data, executable: e === exes[0] }));
}

/**
 * Install a plugin from a single executable file named `notation-<name>` or from a `.tar.gz`
 * archive holding exactly one `notation-<name>` executable at its top level (other top-level
 * files such as LICENSE are installed beside it). `.zip` archives are not supported yet
 * (ERR_UNSUPPORTED). The checksum is checked first; the plugin is then staged in the plugin
 * directory, its `get-plugin-metadata` must succeed and report `<name>`, and it replaces any
 * installed version atomically. Installing the same version again, or an older one, needs
 * `force` (ERR_INVALID_ARGUMENT otherwise).
 */
export async function installPlugin(source: string, options: InstallPluginOptions = {}): Promise<InstallPluginResult> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(source);
  } catch (e) {
    throw new VouchError('ERR_IO', `cannot read plugin file ${source}: ${(e as Error).message}`, { cause: e });
  }
  if (!st.isFile()) throw new VouchError('ERR_INVALID_ARGUMENT', `${source} is not a regular file`);
  if (st.size > MAX_PLUGIN_INSTALL_BYTES) {
    throw new VouchError('ERR_SIZE_LIMIT_EXCEEDED', `${source} is larger than ${MAX_PLUGIN_INSTALL_BYTES} bytes`);
  }
  const bytes = new Uint8Array(await readFile(source));
  if (options.sha256 !== undefined) {
    const want = options.sha256
      .trim()
      .toLowerCase()
      .replace(/^sha256:/, '');
    if (!/^[0-9a-f]{64}$/.test(want))
      throw new VouchError('ERR_INVALID_ARGUMENT', `"${options.sha256}" is not a SHA-256 checksum (64 hex digits)`);
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== want) {
      throw new VouchError(
        'ERR_DIGEST_MISMATCH',
        `${source} has SHA-256 ${got}, but ${want} was expected; the file is not the one the vendor published`,
        {
          details: { expected: want, actual: got },
        },
      );
    }
  }

  let files: StagedFile[];
  if (isZip(bytes)) {
    throw new VouchError(
      'ERR_UNSUPPORTED',
      `${source} is a .zip archive; vouch installs single executables and .tar.gz archives (unpack it and install notation-<name>)`,
    );
  } else if (isGzip(bytes)) {
    files = filesFromArchive(bytes, source);
  } else {
    if (pluginNameFromExecutable(source) === undefined) {
      throw new VouchError(
        'ERR_INVALID_ARGUMENT',
        `${basename(source)} is not named notation-<plugin name>; rename it to the executable name the vendor documents`,
      );
    }
    files = [{ name: basename(source), data: bytes, executable: true }];
  }
  const exe = files.find((f) => f.executable)!;
  const name = pluginNameFromExecutable(exe.name)!;
  assertPluginName(name);
  const exeName = (options.platform ?? process.platform) === 'win32' ? `notation-${name}.exe` : `notation-${name}`;

  const root = pluginDirectory(options);
  try {
    await mkdir(root, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new VouchError('ERR_IO', `cannot create the plugin directory ${root}: ${(e as Error).message}`, { cause: e });
  }
  const staging = await mkdtemp(join(root, '.install-'));
  const exec = { ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), ...(options.env ? { env: options.env } : {}) };
  try {
    for (const f of files) {
      const target = join(staging, f.executable ? exeName : f.name);
      await writeFile(target, f.data, { mode: f.executable ? 0o755 : 0o644, flag: 'wx' });
      if (f.executable) await chmod(target, 0o755);
    }
    const metadata = await executablePlugin(join(staging, exeName), { ...exec, name }).metadata();

    const finalDir = join(root, name);
    let previousVersion: string | undefined;
    let exists = false;
    try {
      await lstat(finalDir);
      exists = true;
    } catch {
      exists = false;
    }
    if (exists) {
      try {
        previousVersion = (await executablePlugin(join(finalDir, exeName), { ...exec, name }).metadata()).version;
      } catch {
        previousVersion = undefined; // a broken installation may be replaced
      }
      if (previousVersion !== undefined && !options.force) {
        const cmp = compareSemver(metadata.version, previousVersion);
        if (metadata.version === previousVersion || cmp === 0) {
          throw new VouchError(
            'ERR_INVALID_ARGUMENT',
            `plugin ${name} ${previousVersion} is already installed; use force to reinstall it`,
            {
              details: { plugin: name, installed: previousVersion },
            },
          );
        }
        if (cmp !== undefined && cmp < 0) {
          throw new VouchError(
            'ERR_INVALID_ARGUMENT',
            `plugin ${name} ${previousVersion} is installed and ${metadata.version} is older; use force to downgrade`,
            { details: { plugin: name, installed: previousVersion, candidate: metadata.version } },
          );
        }
      }
      const old = join(root, `.old-${name}-${randomBytes(4).toString('hex')}`);
      await rename(finalDir, old);
      try {
        await rename(staging, finalDir);
      } catch (e) {
        await rename(old, finalDir).catch(() => {});
        throw e;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(staging, finalDir);
    }
    return {
      name,
      version: metadata.version,
      path: join(finalDir, exeName),
      metadata,
      ...(previousVersion !== undefined ? { previousVersion } : {}),
    };
  } catch (e) {
    if (isVouchError(e)) throw e;
    throw new VouchError('ERR_IO', `cannot install plugin ${name}: ${(e as Error).message}`, { cause: e });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Remove plugin `name` (its whole directory). Throws ERR_PLUGIN_NOT_FOUND when it is not installed. */
export async function uninstallPlugin(name: string, options: FindPluginOptions = {}): Promise<void> {
  assertPluginName(name);
  const dir = join(pluginDirectory(options), name);
  try {
    const st = await lstat(dir);
    if (!st.isDirectory() && !st.isSymbolicLink()) throw new Error('not a directory');
  } catch {
    throw new VouchError('ERR_PLUGIN_NOT_FOUND', `plugin ${name} is not installed (no directory ${dir})`, { details: { plugin: name } });
  }
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (e) {
    throw new VouchError('ERR_IO', `cannot remove plugin ${name}: ${(e as Error).message}`, { cause: e });
  }
}
