import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { Limits, VouchError } from '@vouch/core';
import { createPluginClient, type PluginClient, type PluginTransport } from '@vouch/plugin';
import { fromErrorBody, validateErrorBody } from '@vouch/plugin/internal';

/** Default time a plugin executable may run for one command before it is killed. */
export const DEFAULT_PLUGIN_TIMEOUT_MS = 120_000;

/** Options of {@link executablePlugin}. */
export interface ExecutablePluginOptions {
  /**
   * Kill the executable when one command runs longer (default 120 s; notation has no limit,
   * vouch bounds every wait). Failure: ERR_TIMEOUT.
   */
  timeoutMs?: number;
  /**
   * Extra environment for the executable, merged over the inherited one (plugins usually
   * need HOME, PATH and their cloud credentials, so the environment is inherited as notation does).
   */
  env?: Record<string, string>;
  /** Start from an empty environment instead of `process.env` (then only `env` is passed). */
  inheritEnv?: boolean;
  /** Cap on each of stdout and stderr (default 64 MiB, the spec's limit). Exceeding it: ERR_PLUGIN_PROTOCOL. */
  maxOutputBytes?: number;
  /**
   * Expected plugin name; `metadata()` fails with ERR_PLUGIN_PROTOCOL when the plugin reports
   * another. Default: `<name>` of an executable file called `notation-<name>`.
   */
  name?: string;
}

/** A {@link PluginClient} backed by an executable; `path` is the file it runs. */
export interface ExecutablePluginClient extends PluginClient {
  readonly path: string;
}

/** `notation-<name>` (optionally `.exe`) → `<name>`. */
export function pluginNameFromExecutable(path: string): string | undefined {
  const m = /^notation-(.+?)(\.exe)?$/i.exec(basename(path));
  return m?.[1];
}

function printable(bytes: Uint8Array, max = 512): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, max));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strip terminal control characters from plugin output
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?') + (bytes.length > max ? '…' : '');
}

function parseJson(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
}

/**
 * Drive a Notary plugin executable: each call runs `<path> <command>` directly (no shell),
 * writes the request JSON to stdin, and reads the response JSON from stdout (exit 0) or the
 * error body from stderr (non-zero exit). Every response is validated.
 *
 * Errors: ERR_PLUGIN_FAILED (`PluginError`, `details.pluginErrorCode`) for an error
 * body, or for a non-zero exit without one (code ERROR); ERR_PLUGIN_PROTOCOL for output that
 * is not JSON, an invalid response or error body, output over `maxOutputBytes`; ERR_TIMEOUT
 * when the command outlives `timeoutMs` (the process is killed); ERR_ABORTED on the call's
 * signal; ERR_PLUGIN_NOT_FOUND when the file does not exist; ERR_IO when it cannot be run.
 */
export function executablePlugin(path: string, options: ExecutablePluginOptions = {}): ExecutablePluginClient {
  if (typeof path !== 'string' || path === '')
    throw new VouchError('ERR_INVALID_ARGUMENT', 'executablePlugin needs the path of a plugin executable');
  const timeoutMs = options.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
  const maxOutput = options.maxOutputBytes ?? Limits.MAX_PLUGIN_OUTPUT_BYTES;
  if (!(timeoutMs > 0) || !(maxOutput > 0)) throw new VouchError('ERR_INVALID_ARGUMENT', 'timeoutMs and maxOutputBytes must be positive');
  const name = options.name ?? pluginNameFromExecutable(path);
  const label = name ?? path;
  const env = { ...(options.inheritEnv === false ? {} : process.env), ...(options.env ?? {}) };

  let runnable: Promise<void> | undefined;
  const transport: PluginTransport = async (command, request, callOptions) => {
    runnable ??= assertRunnable(path);
    await runnable;
    return spawnOnce(command, request, callOptions);
  };
  const spawnOnce: PluginTransport = (command, request, callOptions) =>
    new Promise<unknown>((resolve, reject) => {
      const signal = callOptions.signal;
      if (signal?.aborted) {
        reject(new VouchError('ERR_ABORTED', `call to plugin ${label} (${command}) was aborted before it started`));
        return;
      }
      let settled = false;
      const out: Uint8Array[] = [];
      const err: Uint8Array[] = [];
      let outN = 0;
      let errN = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;

      const child = spawn(path, [command], { shell: false, stdio: ['pipe', 'pipe', 'pipe'], env, windowsHide: true });

      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const kill = () => {
        try {
          child.kill('SIGKILL');
        } catch {
          // already gone
        }
        child.stdout?.destroy();
        child.stderr?.destroy();
        child.stdin?.destroy();
      };
      const failWith = (e: VouchError) => {
        finish(() => reject(e));
        kill();
      };
      const onAbort = () =>
        failWith(new VouchError('ERR_ABORTED', `call to plugin ${label} (${command}) was aborted; the process was killed`));
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(
        () =>
          failWith(
            new VouchError('ERR_TIMEOUT', `plugin ${label} did not answer ${command} within ${timeoutMs} ms; the process was killed`, {
              details: { plugin: label, command, timeoutMs },
            }),
          ),
        timeoutMs,
      );

      const collect = (which: 'stdout' | 'stderr') => (chunk: Uint8Array) => {
        if (which === 'stdout') {
          outN += chunk.length;
          if (outN <= maxOutput) out.push(chunk);
        } else {
          errN += chunk.length;
          if (errN <= maxOutput) err.push(chunk);
        }
        if (outN > maxOutput || errN > maxOutput) {
          failWith(
            new VouchError(
              'ERR_PLUGIN_PROTOCOL',
              `plugin ${label} wrote more than ${maxOutput} bytes to ${which} for ${command}; the process was killed`,
              {
                details: { plugin: label, command, stream: which, limit: maxOutput },
              },
            ),
          );
        }
      };
      child.stdout?.on('data', collect('stdout'));
      child.stderr?.on('data', collect('stderr'));

      child.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') {
          failWith(new VouchError('ERR_PLUGIN_NOT_FOUND', `plugin executable ${path} does not exist`, { cause: e, details: { path } }));
        } else {
          failWith(
            new VouchError('ERR_IO', `cannot run plugin executable ${path}: ${e.message}`, { cause: e, details: { path, errno: e.code } }),
          );
        }
      });
      // A plugin may exit without reading its input: ignore EPIPE on stdin.
      child.stdin?.on('error', () => {});
      child.stdin?.end(JSON.stringify(request ?? {}));

      child.on('close', (code, sig) => {
        if (settled) return;
        const stdout: Uint8Array = Buffer.concat(out, outN);
        const stderr: Uint8Array = Buffer.concat(err, errN);
        if (code === 0) {
          let json: unknown;
          try {
            json = parseJson(stdout);
          } catch (e) {
            finish(() =>
              reject(
                new VouchError(
                  'ERR_PLUGIN_PROTOCOL',
                  `plugin ${label} answered ${command} with output that is not JSON: ${printable(stdout, 200)}`,
                  {
                    cause: e,
                    details: { plugin: label, command },
                  },
                ),
              ),
            );
            return;
          }
          finish(() => resolve(json));
          return;
        }
        const how = code === null ? `was killed by ${sig}` : `exited with code ${code}`;
        if (stderr.length === 0 || new TextDecoder().decode(stderr).trim() === '') {
          finish(() =>
            reject(
              fromErrorBody({ errorCode: 'ERROR', errorMessage: `the executable ${how} for ${command} without an error body` }, label),
            ),
          );
          return;
        }
        let body: unknown;
        try {
          body = parseJson(stderr);
        } catch (e) {
          finish(() =>
            reject(
              new VouchError(
                'ERR_PLUGIN_PROTOCOL',
                `plugin ${label} ${how} for ${command} and its stderr is not a JSON error body: ${printable(stderr)}`,
                { cause: e, details: { plugin: label, command, exitCode: code } },
              ),
            ),
          );
          return;
        }
        try {
          const valid = validateErrorBody(body, label);
          finish(() => reject(fromErrorBody(valid, label)));
        } catch (e) {
          finish(() => reject(e));
        }
      });
    });

  const client = createPluginClient(transport, name === undefined ? {} : { name });
  return Object.freeze({ ...client, path });
}

const ELF = [0x7f, 0x45, 0x4c, 0x46];
const MACHO = [
  [0xfe, 0xed, 0xfa, 0xce],
  [0xfe, 0xed, 0xfa, 0xcf],
  [0xce, 0xfa, 0xed, 0xfe],
  [0xcf, 0xfa, 0xed, 0xfe],
  [0xca, 0xfe, 0xba, 0xbe],
];

/**
 * Refuse a plugin file that is neither a native executable nor a `#!` script: the OS would
 * reject it (exec format error), and Node's spawn would then run it with /bin/sh instead.
 */
export async function assertRunnable(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  let head: Uint8Array;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = new Uint8Array(4);
      const { bytesRead } = await fh.read(buf, 0, 4, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new VouchError('ERR_PLUGIN_NOT_FOUND', `cannot read plugin executable ${path}: ${(e as Error).message}`, { cause: e });
  }
  const starts = (m: readonly number[]) => m.every((b, i) => head[i] === b);
  if (head[0] === 0x23 && head[1] === 0x21) return; // #!
  if (starts(ELF) || MACHO.some(starts)) return;
  throw new VouchError(
    'ERR_PLUGIN_NOT_FOUND',
    `plugin executable file ${path} is not executable: it is neither a native executable nor a script starting with #! (exec format error)`,
    { details: { path } },
  );
}
