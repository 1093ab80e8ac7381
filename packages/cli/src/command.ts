import { VouchError } from '@vouch/core';
import type { Command } from 'commander';
import { type CliContext, UsageError } from './context.js';
import type { RegistryFlags } from './registry.js';

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

/** Parse `KEY=VALUE` pairs (both non-empty, keys unique) as notation's `--user-metadata`/`--plugin-config`. */
export function parseKeyValues(pairs: readonly string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (eq < 0 || key === '' || value === '') {
      throw new UsageError(`could not parse flag ${flag}: "${pair}" is not a KEY=VALUE pair with a non-empty key and value`);
    }
    if (key in out) throw new UsageError(`could not parse flag ${flag}: duplicate key "${key}"`);
    out[key] = value;
  }
  return out;
}

/** Parse a positive integer flag value. */
export function positiveInt(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0 || !/^\d+$/.test(String(value))) {
    throw new UsageError(`${flag} value ${String(value)} must be a positive number`);
  }
  return n;
}

/** Throw when a required option is missing. */
export function required(value: unknown, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`required flag(s) "${flag}" not set`);
  return value;
}

/** The feature exists in notation but is not wired in this build. */
export function unsupported(what: string): never {
  throw new VouchError('ERR_UNSUPPORTED', `${what} is not yet supported by this build of vouch`);
}

/**
 * notation gates experimental flags behind `NOTATION_EXPERIMENTAL=1`: without it the command
 * fails; with it a warning is printed. `flags` are the experimental flags the user set.
 */
export function requireExperimental(ctx: CliContext, flags: readonly string[]): void {
  if (flags.length === 0) return;
  if (ctx.env.NOTATION_EXPERIMENTAL !== '1') {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      `flag(s) ${flags.map((f) => `--${f}`).join(',')} in "${ctx.displayPath()}" is experimental and not enabled by default. To use, please set NOTATION_EXPERIMENTAL=1 environment variable`,
      { details: { flags } },
    );
  }
  const where = ctx.programName === 'notation' ? '"https://github/notaryproject/notation"' : 'the vouch project';
  ctx.warn(
    `Warning: This feature is experimental and may not be fully tested or completed and may be deprecated. Report any issues to ${where}`,
  );
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
