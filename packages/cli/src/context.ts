import { type FetchLike, isVouchError, type Logger, VouchError, type VouchErrorCode } from '@vouch/core';
import { notationConfigDir } from '@vouch/node';
import { processSink } from './stdio.js';

/** A stream the CLI writes text to (process.stdout, or a buffer in tests). */
export interface TextSink {
  write(chunk: string): unknown;
}

/** Where `runCli` reads and writes; everything defaults to the real process. */
export interface CliIo {
  stdout?: TextSink;
  stderr?: TextSink;
  /** Environment (`XDG_CONFIG_HOME`, `NOTATION_CONFIG`, `DOCKER_CONFIG`, credentials …); default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Answers for confirmation prompts and `--password-stdin`; absent: prompts are refused. */
  stdin?: AsyncIterable<string | Uint8Array>;
  /** Working directory for relative paths; default `process.cwd()`. */
  cwd?: string;
  /** HTTP transport for registry calls (login); default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Clock used for verification and certificate generation; default the system clock. */
  now?: () => Date;
  /**
   * Name the CLI presents itself under in usage hints and messages that name a command
   * (default `vouch`). `bin.ts` passes `notation` when vouch is installed as a drop-in
   * `notation` executable, so that scripts reading notation's wording keep working.
   */
  programName?: string;
}

/** The version `vouch --version` prints. */
export const VERSION = '0.1.0';

/** Options every verb accepts. */
export interface GlobalOptions {
  configDir?: string;
  debug?: boolean;
  verbose?: boolean;
  output?: string;
}

/** A usage error: exit 1 with a hint to `--help`. */
export class UsageError extends VouchError {
  constructor(
    message: string,
    readonly command = '',
  ) {
    super('ERR_INVALID_ARGUMENT', message, { details: { usage: true } });
  }
}

/** Per-invocation state handed to each verb. */
export class CliContext {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
  readonly io: CliIo;
  globals: GlobalOptions = {};
  /** `vouch verify`: the verb being run (for usage hints). */
  commandPath = 'vouch';
  /** Exit code to use when the verb reported an error itself but returned normally. */
  exitCode = 0;
  /** `vouch`, or `notation` in drop-in mode (see {@link CliIo.programName}). */
  readonly programName: string;
  readonly version = VERSION;
  /** The registry of the command's remote reference and whether credentials were found for it. */
  remote?: { registry: string; credentials: { found(): boolean }; plainHttp: boolean };
  private readonly closers: (() => Promise<unknown>)[] = [];

  constructor(io: CliIo) {
    this.io = io;
    this.stdout = io.stdout ?? processSink(process.stdout);
    this.stderr = io.stderr ?? processSink(process.stderr);
    this.env = io.env ?? process.env;
    this.cwd = io.cwd ?? process.cwd();
    this.programName = io.programName ?? 'vouch';
  }

  /** Run `fn` when the command ends (close connection pools …). */
  onClose(fn: () => Promise<unknown>): void {
    this.closers.push(fn);
  }

  /** Release what the command opened. Never throws. */
  async close(): Promise<void> {
    for (const fn of this.closers.splice(0).reverse()) await fn().catch(() => {});
  }

  /** `vouch sign` as the user typed it (`notation sign` in drop-in mode). */
  displayPath(): string {
    return this.commandPath.replace(/^vouch\b/, this.programName);
  }

  /** `json` when `--output json`, else `text` (`tree` is accepted as text). */
  get format(): 'text' | 'json' {
    const f = (this.globals.output ?? 'text').toLowerCase();
    if (f === 'json') return 'json';
    if (f === 'text' || f === 'tree') return 'text';
    throw new UsageError(`unrecognized output format "${this.globals.output}": use text or json`);
  }

  get json(): boolean {
    return this.format === 'json';
  }

  now(): Date {
    return this.io.now ? this.io.now() : new Date();
  }

  /** The notation config dir (`--config-dir`, `NOTATION_CONFIG`, XDG). */
  configDir(): string {
    const configDir = this.globals.configDir;
    return notationConfigDir({ ...(configDir ? { configDir: this.resolvePath(configDir) } : {}), env: this.env });
  }

  resolvePath(p: string): string {
    return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) ? p : `${this.cwd.replace(/\/+$/, '')}/${p}`;
  }

  /** Write text to stdout (only in text mode). */
  out(text: string): void {
    if (!this.json) this.stdout.write(text);
  }

  /** Write a line to stdout (only in text mode). */
  line(text = ''): void {
    this.out(`${text}\n`);
  }

  /** Write a line to stderr (warnings; printed in every mode). */
  warn(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** Print the verb's machine-readable result (only in json mode). */
  result(value: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Logger printing debug/info lines to stderr when `--debug` / `--verbose` is set. */
  logger(): Logger {
    const debug = !!this.globals.debug;
    const verbose = debug || !!this.globals.verbose;
    const emit = (level: string, message: string, fields?: Record<string, unknown>): void => {
      this.stderr.write(`${level}: ${message}${fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}\n`);
    };
    return {
      debug: (m, f) => debug && emit('DEBUG', m, f),
      info: (m, f) => verbose && emit('INFO', m, f),
      warn: (m, f) => emit('WARN', m, f),
      error: (m, f) => emit('ERROR', m, f),
    };
  }

  /**
   * Ask a yes/no question, on stdout as notation does (stderr under `--output json`); `assumeYes`
   * skips it. Without stdin it fails, pointing at `--yes`.
   */
  async confirm(prompt: string, assumeYes: boolean | undefined): Promise<boolean> {
    if (assumeYes) return true;
    if (!this.io.stdin) {
      throw new VouchError(
        'ERR_INVALID_ARGUMENT',
        `${prompt} Confirmation is required and no input is available: pass --yes (or --force) to proceed`,
      );
    }
    (this.json ? this.stderr : this.stdout).write(`${prompt} [y/N] `);
    const answer = (await readLine(this.io.stdin)).trim().toLowerCase();
    return answer === 'y' || answer === 'yes';
  }

  /** Read all of stdin (for `--password-stdin`). */
  async readStdin(): Promise<string> {
    if (!this.io.stdin) throw new UsageError('--password-stdin needs input on stdin');
    let s = '';
    const dec = new TextDecoder();
    for await (const chunk of this.io.stdin) s += typeof chunk === 'string' ? chunk : dec.decode(chunk, { stream: true });
    return s;
  }
}

async function readLine(input: AsyncIterable<string | Uint8Array>): Promise<string> {
  let s = '';
  const dec = new TextDecoder();
  for await (const chunk of input) {
    s += typeof chunk === 'string' ? chunk : dec.decode(chunk, { stream: true });
    const nl = s.indexOf('\n');
    if (nl >= 0) return s.slice(0, nl);
  }
  return s;
}

/** JSON shape of an error under `--output json`. */
export function errorJson(e: unknown): { error: { code: VouchErrorCode; message: string; details?: unknown } } {
  if (isVouchError(e)) {
    const out: { code: VouchErrorCode; message: string; details?: unknown } = { code: e.code, message: e.message };
    if (e.details) out.details = e.details;
    return { error: out };
  }
  return { error: { code: 'ERR_INTERNAL', message: e instanceof Error ? e.message : String(e) } };
}
