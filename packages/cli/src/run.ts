import { isVouchError } from '@vouch/core';
import { Command, CommanderError } from 'commander';
import { registerAuth } from './commands/auth.js';
import { registerBlob } from './commands/blob.js';
import { registerCert } from './commands/cert.js';
import { registerDemo } from './commands/demo.js';
import { registerInspect } from './commands/inspect.js';
import { registerKey } from './commands/key.js';
import { registerKyverno } from './commands/kyverno.js';
import { registerList } from './commands/list.js';
import { registerPlugin } from './commands/plugin.js';
import { registerPolicy } from './commands/policy.js';
import { registerSign } from './commands/sign.js';
import { registerVerify } from './commands/verify.js';
import { registerWebhook } from './commands/webhook.js';
import { CliContext, type CliIo, errorJson, VERSION } from './context.js';

export { VERSION };

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
  registerBlob(program, ctx);
  registerPlugin(program, ctx);
  registerKyverno(program, ctx);
  registerWebhook(program, ctx);
  registerDemo(program, ctx);
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
  try {
    return await runProgram(ctx, argv);
  } finally {
    await ctx.close();
  }
}

/** Long names of the boolean flags of every verb (`force-referrers-tag`, `insecure-registry` …). */
function booleanFlags(cmd: Command, out = new Set<string>()): Set<string> {
  for (const o of cmd.options) if (!o.required && !o.optional && o.long) out.add(o.long.replace(/^--/, ''));
  for (const c of cmd.commands) booleanFlags(c, out);
  return out;
}

/**
 * notation (Go pflag) accepts `--flag=true` and `--flag=false` for boolean flags; commander does
 * not. Rewrite them: `=true` is the bare flag; `=false` is the flag's hidden `--no-flag` when it
 * has one (a flag that defaults to true, such as `--force-referrers-tag`), else dropped.
 */
function normalizeBooleanFlags(program: Command, argv: readonly string[]): string[] {
  const bools = booleanFlags(program);
  const out: string[] = [];
  for (const a of argv) {
    if (a === '--') {
      out.push(...argv.slice(argv.indexOf(a)));
      break;
    }
    const m = /^--([A-Za-z0-9-]+)=(true|false|1|0|t|f|TRUE|FALSE|True|False)$/.exec(a);
    if (m && bools.has(m[1]!)) {
      if (/^(true|1|t)$/i.test(m[2]!)) out.push(`--${m[1]}`);
      else if (bools.has(`no-${m[1]}`)) out.push(`--no-${m[1]}`);
      continue;
    }
    out.push(a);
  }
  return out;
}

async function runProgram(ctx: CliContext, rawArgv: readonly string[]): Promise<number> {
  const program = buildProgram(ctx);
  if (rawArgv.length === 0) {
    ctx.stderr.write(program.helpInformation());
    return 1;
  }
  const argv = normalizeBooleanFlags(program, rawArgv);
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
      ctx.stderr.write(
        `Run '${ctx.commandPath === 'vouch' ? guessCommand(ctx.programName, argv) : ctx.displayPath()} --help' for usage.\n`,
      );
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
    ctx.stderr.write(`Error: ${message}${credentialHint(ctx, e)}\n`);
    if (isVouchError(e) && e.details?.usage === true) ctx.stderr.write(`Run '${ctx.displayPath()} --help' for usage.\n`);
    // notation prints only the Error line, even with --debug (scripts compare stderr); set
    // VOUCH_STACK_TRACE=1 to also get the stack and the error details.
    if (ctx.env.VOUCH_STACK_TRACE === '1' && e instanceof Error) {
      if (e.stack) ctx.stderr.write(`${e.stack}\n`);
      if (isVouchError(e) && e.details) ctx.stderr.write(`details: ${JSON.stringify(e.details, null, 2)}\n`);
    }
    return 1;
  }
}

/** When the registry refused us and no credentials were found, say so (notation: "credential required for basic auth"). */
function credentialHint(ctx: CliContext, e: unknown): string {
  if (!isVouchError(e) || e.code !== 'ERR_REGISTRY_UNAUTHORIZED' || !ctx.remote || ctx.remote.credentials.found()) return '';
  return `; no credentials were found for ${ctx.remote.registry} (credential required for basic auth): log in with \`${ctx.programName} login\`, pass -u/-p or set NOTATION_USERNAME and NOTATION_PASSWORD`;
}

function guessCommand(programName: string, argv: readonly string[]): string {
  const words = [programName];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
    if (words.length === 3) break;
  }
  return words.join(' ');
}
