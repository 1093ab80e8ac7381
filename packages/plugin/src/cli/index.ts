/**
 * `@vouch/plugin/cli` (Node only): run a plugin written with `definePlugin` as a
 * `notation-<name>` executable — {@link runPluginCli} reads the command from argv and the request
 * from stdin, and writes the response or the error body the way notation expects.
 *
 * @packageDocumentation
 */
import { Limits, type Logger } from '@vouch/core';
import { fromUtf8 } from '@vouch/core/internal';
import { PluginCommand } from '../constants.js';
import { type Plugin, servePluginRequest } from '../define.js';
import { PluginError, toErrorBody } from '../errors.js';
import type { PluginErrorBody } from '../types.js';

/** A writable text sink (`process.stdout`, a stream, or a test double). */
export interface TextSink {
  write(chunk: string, callback?: (error?: Error | null) => void): unknown;
}

/** Options of {@link runPluginCli}; every default is the real process. */
export interface RunPluginCliOptions {
  /** Full argv as Node gives it (`[node, script, command, …]`); default `process.argv`. */
  argv?: readonly string[];
  /** Request source; default `process.stdin`. */
  stdin?: AsyncIterable<Uint8Array | string>;
  /** Response sink; default `process.stdout`. */
  stdout?: TextSink;
  /** Error body sink; default `process.stderr`. */
  stderr?: TextSink;
  /** Called once with the exit code; default sets `process.exitCode` (no abrupt exit, output is flushed). */
  exit?: (code: number) => void;
  /** Handed to handlers; must not write to stdout. Default: no logging. */
  logger?: Logger;
  /** Largest request accepted on stdin (default 64 MiB). */
  maxInputBytes?: number;
  /** Cancels the running handler (e.g. wired to SIGTERM by the caller). */
  signal?: AbortSignal;
}

function write(sink: TextSink, text: string): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        resolve();
      }
    };
    try {
      sink.write(text, () => finish());
    } catch {
      finish();
    }
  });
}

async function readAll(stdin: AsyncIterable<Uint8Array | string>, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  const enc = new TextEncoder();
  for await (const chunk of stdin) {
    const b = typeof chunk === 'string' ? enc.encode(chunk) : chunk;
    n += b.length;
    if (n > max) throw new PluginError('VALIDATION_ERROR', `the request on stdin is larger than ${max} bytes`);
    parts.push(b);
  }
  return Buffer.concat(parts, n);
}

/**
 * Run `plugin` as the Notary plugin executable `notation-<name>`: the command is `argv[2]`,
 * the request JSON is read from stdin, the response JSON is written to stdout with exit code
 * 0; on failure the spec error body `{ errorCode, errorMessage, errorMetadata? }` is written to
 * stderr with exit code 1. Unknown commands, unreadable or invalid JSON and requests that
 * fail validation are answered with `VALIDATION_ERROR`. Also answers the non-spec command
 * `version` (human-readable, like notation-plugin-framework-go). Resolves with the exit code.
 *
 * ```js
 * #!/usr/bin/env node
 * import { runPluginCli } from '@vouch/plugin/cli';
 * import plugin from './plugin.js';
 * await runPluginCli(plugin);
 * ```
 *
 * Packaging note: the installed file is named `notation-<name>`, and a reverse-domain name
 * (`notation-com.example.kms`) looks like an unknown file extension to Node's ES module
 * loader. Ship either a CommonJS bundle under that name, or a small shell wrapper
 * `notation-<name>` that runs `node "$(dirname "$0")/plugin.mjs" "$@"` with `plugin.mjs`
 * beside it (a `.tar.gz` plugin archive may carry extra top-level files).
 */
export async function runPluginCli(plugin: Plugin, options: RunPluginCliOptions = {}): Promise<number> {
  const argv = options.argv ?? process.argv;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const exit =
    options.exit ??
    ((code: number) => {
      process.exitCode = code;
    });
  const max = options.maxInputBytes ?? Limits.MAX_PLUGIN_OUTPUT_BYTES;
  const command = argv[2];

  const fail = async (body: PluginErrorBody): Promise<number> => {
    await write(stderr, `${JSON.stringify(body)}\n`);
    exit(1);
    return 1;
  };

  if (command === undefined || command === '' || command === '--help' || command === '-h') {
    return fail({
      errorCode: 'VALIDATION_ERROR',
      errorMessage: `usage: notation-${plugin.metadata.name} <command> (request JSON on stdin); commands: ${Object.values(PluginCommand).join(', ')}, version`,
    });
  }
  if (command === 'version') {
    const md = plugin.metadata;
    await write(stdout, `${md.name} - ${md.description}\nVersion: ${md.version}\n`);
    exit(0);
    return 0;
  }

  let request: unknown;
  try {
    const useStdin = options.stdin ?? process.stdin;
    // `get-plugin-metadata` needs no input: do not block on an interactive terminal.
    const interactive = options.stdin === undefined && process.stdin.isTTY === true;
    const bytes = interactive && command === PluginCommand.GET_PLUGIN_METADATA ? new Uint8Array(0) : await readAll(useStdin, max);
    let text: string;
    try {
      text = fromUtf8(bytes);
    } catch {
      throw new PluginError('VALIDATION_ERROR', 'the request on stdin is not valid UTF-8');
    }
    if (text.trim() === '') {
      if (command !== PluginCommand.GET_PLUGIN_METADATA) {
        throw new PluginError('VALIDATION_ERROR', `the ${command} command expects a JSON request on stdin, got nothing`);
      }
      request = {};
    } else {
      try {
        request = JSON.parse(text);
      } catch (e) {
        throw new PluginError('VALIDATION_ERROR', `the request on stdin is not valid JSON: ${(e as Error).message}`);
      }
    }
  } catch (e) {
    return fail(toErrorBody(e));
  }

  const result = await servePluginRequest(plugin, command, request, {
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!result.ok) return fail(result.error);
  await write(stdout, JSON.stringify(result.response));
  exit(0);
  return 0;
}
