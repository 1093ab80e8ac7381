import { VouchError } from '@vouch/core';
import type { Command } from 'commander';
import { type CliContext, UsageError } from './context.js';
import type { RegistryFlags } from './registry.js';
import { MISSING_ARGUMENT } from './usage-errors.js';

/** Options as commander hands them over. */
export type Opts = Record<string, unknown>;

/** Body of a verb: positional arguments (as declared) and the verb's own options. */
export type VerbBody = (args: unknown[], opts: Opts, cmd: Command) => Promise<void>;

/** Attach `body` as the action of `cmd`, exposing the global options through `ctx.globals`. */
export function act(cmd: Command, ctx: CliContext, body: VerbBody): Command {
  return cmd.action(async (...a: unknown[]) => {
    const self = a[a.length - 1] as Command;
    ctx.globals = self.optsWithGlobals();
    ctx.commandPath = commandPath(self);
    void ctx.format; // validate --output early
    await body(self.processedArgs, self.opts(), self);
  });
}

/** `vouch cert add` for a command. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Commander collector for repeatable options (`-m a=b -m c=d`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Parse `KEY=VALUE` pairs as notation 1.3 parses `--user-metadata` and `--plugin-config`: split at
 * the first `=`, key and value non-empty and taken as written (no trimming), and a key given twice
 * keeps its last value. `flag` is the long name without dashes (`user-metadata`), as notation
 * names it in the error.
 */
export function parseKeyValues(pairs: readonly string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) {
      throw new UsageError(`could not parse flag ${flag}: key-value pair requires "=" as separator`);
    }
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * Parse a positive integer flag value with notation's messages: `flag` as notation names it in
 * the range error (`max-signatures`), `display` as pflag names it in the syntax error
 * (`--max-signatures`, `-b, --bits`).
 */
export function positiveInt(value: unknown, flag: string, display = `--${flag.replace(/^-+/, '')}`): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^[+-]?\d+$/.test(text)) {
    throw new UsageError(
      `invalid argument ${JSON.stringify(text)} for ${JSON.stringify(display)} flag: strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`,
    );
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} value ${text} must be a positive number`);
  return n;
}

/**
 * A positional argument of the running verb. Missing or empty: notation's message for the verb
 * (`missing reference to the artifact: …`, `missing certificate file name` …), or `empty` for an
 * empty value when notation words that case apart.
 */
export function positionalArgument(ctx: CliContext, value: unknown, empty?: string): string {
  if (typeof value === 'string' && value !== '') return value;
  const key = ctx.commandPath.split(' ').slice(1).join(' ');
  const message = (value === '' ? empty : undefined) ?? MISSING_ARGUMENT[key]?.(ctx.programName) ?? 'missing argument';
  throw new VouchError('ERR_INVALID_ARGUMENT', message, { details: { usage: true } });
}

/** Throw when a required option is missing. */
export function required(value: unknown, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`required flag(s) "${flag}" not set`);
  return value;
}

/** A port flag: an integer 0-65535 (0 picks a free port). */
export function portNumber(value: unknown, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n > 65535) throw new UsageError(`${flag} value ${String(value)} must be a port number (0-65535)`);
  return n;
}

/**
 * For long-running verbs: `stopped` resolves with the signal's name at the first SIGTERM or SIGINT
 * (listened for at once, so a signal during startup still shuts down cleanly); `dispose` stops listening.
 */
export function terminationSignal(): { stopped: Promise<string>; dispose(): void } {
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => {
    stop = resolve;
  });
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  return {
    stopped,
    dispose() {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    },
  };
}

/** The feature exists in notation but is not wired in this build. */
export function unsupported(what: string): never {
  throw new VouchError('ERR_UNSUPPORTED', `${what} is not yet supported by this build of vouch`);
}

/** Add the signer flags `sign` and `blob sign` share: a plugin key (`--id`, `--plugin`, `--plugin-config`) and an RFC 3161 TSA. */
export function addSignerOptions(cmd: Command): Command {
  return cmd
    .option('--id <id>', 'key id (with --plugin)')
    .option('--plugin <name>', 'signing plugin')
    .option('--plugin-config <key=value>', 'plugin configuration (repeatable)', collect)
    .option('--timestamp-url <url>', 'RFC 3161 timestamping authority URL')
    .option('--timestamp-root-cert <file>', 'root certificate of the timestamping authority');
}

/** Add notation's registry flags: `--insecure-registry`, `-u/--username`, `-p/--password`, `--password-stdin`. */
export function addRegistryOptions(cmd: Command): Command {
  return cmd
    .option('--insecure-registry', 'use HTTP protocol while connecting to registries (testing only)')
    .option('-u, --username <username>', 'username for registry operations (default: NOTATION_USERNAME)')
    .option('-p, --password <password>', 'password for registry operations (default: NOTATION_PASSWORD)')
    .option('--password-stdin', 'take the registry password from stdin');
}

/** The registry flags of a verb's options. */
export function registryFlags(opts: Opts): RegistryFlags {
  const f: RegistryFlags = {};
  if (opts.insecureRegistry) f.insecureRegistry = true;
  if (typeof opts.forceReferrersTag === 'boolean') f.forceReferrersTag = opts.forceReferrersTag;
  if (typeof opts.username === 'string') f.username = opts.username;
  if (typeof opts.password === 'string') f.password = opts.password;
  if (opts.passwordStdin) f.passwordStdin = true;
  return f;
}
