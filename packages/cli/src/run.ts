import { isVouchError } from '@vouch/core';
import { Command, CommanderError } from 'commander';
import { registerAuth } from './commands/auth.js';
import { registerCert } from './commands/cert.js';
import { registerInspect } from './commands/inspect.js';
import { registerKey } from './commands/key.js';
import { registerList } from './commands/list.js';
import { registerPolicy } from './commands/policy.js';
import { registerSign } from './commands/sign.js';
import { registerVerify } from './commands/verify.js';
import { CliContext, type CliIo, errorJson } from './context.js';

/** The version `vouch --version` prints. */
export const VERSION = '0.1.0';

function buildProgram(ctx: CliContext): Command {
  const program = new Command('vouch')
    .description('Sign and verify OCI artifacts with the Notary Project format (notation-compatible)')
    .version(VERSION, '--version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: () => {},
    })
    .option('--config-dir <dir>', 'notation configuration directory (default: $XDG_CONFIG_HOME/notation)')
    .option('-d, --debug', 'debug mode')
    .option('-v, --verbose', 'verbose mode')
    .option('-o, --output <format>', 'output format: text or json', 'text')
    .showSuggestionAfterError(true);
  registerSign(program, ctx);
  registerVerify(program, ctx);
  registerInspect(program, ctx);
  registerList(program, ctx);
  registerPolicy(program, ctx);
  registerCert(program, ctx);
  registerKey(program, ctx);
  registerAuth(program, ctx);
  return program;
}

/** Make commander's "error: unknown option '--x'" read like notation's "Error: unknown option '--x'". */
function usageMessage(e: CommanderError): string {
  return e.message.replace(/^error:\s*/i, '').replace(/^\w/, (c) => c.toLowerCase());
}

/**
 * Run the `vouch` CLI in-process with `argv` (the arguments after the program name) and
 * return the exit code: 0 only on success, 1 on any error (usage errors included).
 * Output goes to `io.stdout` / `io.stderr`; errors print as `Error: <message>` on stderr
 * and, with `--output json`, as `{"error":{"code","message","details"}}` on stdout.
 */
export async function runCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const ctx = new CliContext(io);
  const program = buildProgram(ctx);
  if (argv.length === 0) {
    ctx.stderr.write(program.helpInformation());
    return 1;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        return e.exitCode === 0 ? 0 : 1;
      }
      const jsonRequested = argv.includes('json') && argv.some((a) => a === '-o' || a === '--output' || a.startsWith('--output='));
      if (jsonRequested) {
        ctx.stdout.write(
          `${JSON.stringify({ error: { code: 'ERR_INVALID_ARGUMENT', message: usageMessage(e), details: { usage: true } } }, null, 2)}\n`,
        );
      }
      ctx.stderr.write(`Error: ${usageMessage(e)}\n`);
      ctx.stderr.write(`Run '${ctx.commandPath === 'vouch' ? guessCommand(argv) : ctx.commandPath} --help' for usage.\n`);
      return 1;
    }
    let json = false;
    try {
      json = ctx.json;
    } catch {
      json = false;
    }
    if (json) ctx.stdout.write(`${JSON.stringify(errorJson(e), null, 2)}\n`);
    const message = e instanceof Error ? e.message : String(e);
    ctx.stderr.write(`Error: ${message}\n`);
    if (isVouchError(e) && e.details?.usage === true) ctx.stderr.write(`Run '${ctx.commandPath} --help' for usage.\n`);
    if (ctx.globals.debug && e instanceof Error) {
      if (e.stack) ctx.stderr.write(`${e.stack}\n`);
      if (isVouchError(e) && e.details) ctx.stderr.write(`details: ${JSON.stringify(e.details, null, 2)}\n`);
    }
    return 1;
  }
}

function guessCommand(argv: readonly string[]): string {
  const words = ['vouch'];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
    if (words.length === 3) break;
  }
  return words.join(' ');
}
