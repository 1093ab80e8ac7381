import { isVouchError } from '@vouch/core';
import { type Command, CommanderError } from 'commander';
import { registerAuth } from './commands/auth.js';
import { registerBlob } from './commands/blob.js';
import { registerCert } from './commands/cert.js';
import { registerController } from './commands/controller.js';
import { registerCosign } from './commands/cosign.js';
import { registerDemo } from './commands/demo.js';
import { registerInspect } from './commands/inspect.js';
import { registerKey } from './commands/key.js';
import { registerKyverno, rewriteKyvernoArgv } from './commands/kyverno.js';
import { registerList } from './commands/list.js';
import { registerPlugin } from './commands/plugin.js';
import { registerPolicy } from './commands/policy.js';
import { registerSign } from './commands/sign.js';
import { registerVerify } from './commands/verify.js';
import { registerVersion } from './commands/version.js';
import { registerWebhook } from './commands/webhook.js';
import { CliContext, type CliIo, errorJson, VERSION } from './context.js';
import { formatHelp } from './help.js';
import { protocolHint } from './registry.js';
import { usageError, VouchCommand } from './usage-errors.js';

export { VERSION };

function buildProgram(ctx: CliContext): Command {
  const program = new VouchCommand('vouch')
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
    .showSuggestionAfterError(true)
    .helpCommand('help [command]', 'Help about any command')
    .configureHelp({ formatHelp: (cmd, helper) => formatHelp(cmd, helper, ctx.programName) });
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
  registerCosign(program, ctx);
  registerWebhook(program, ctx);
  registerController(program, ctx);
  registerDemo(program, ctx);
  registerVersion(program, ctx);
  helpForGroups(program, ctx);
  return program;
}

/** A command group run without one of its commands prints its help on stdout and exits 0, as notation's do. */
function helpForGroups(cmd: Command, ctx: CliContext): void {
  for (const c of cmd.commands) {
    if (c.commands.length === 0) continue;
    c.action(() => {
      ctx.stdout.write(c.helpInformation());
    });
    helpForGroups(c, ctx);
  }
}

/**
 * Run the `vouch` CLI in-process with `argv` (the arguments after the program name) and
 * return the exit code: 0 only on success, 1 on any error (usage errors included).
 * Output goes to `io.stdout` / `io.stderr`; errors print as `Error: <message>` on stderr
 * and, with `--output json`, as `{"error":{"code","message","details"}}` on stdout.
 * @example
 * ```ts
 * import { runCli } from '@vouch/cli';
 *
 * let out = '';
 * const code = await runCli(['verify', 'registry.example.com/app@sha256:…', '--output', 'json'], {
 *   stdout: { write: (chunk: string) => (out += chunk) },
 *   env: { ...process.env, NOTATION_CONFIG: '/etc/notation' },
 * });
 * if (code !== 0) console.error(JSON.parse(out).error);
 * ```
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
    // notation: the help, on stdout, exit 0
    ctx.stdout.write(program.helpInformation());
    return 0;
  }
  // `help cert add` is the help of `cert add` (commander's help command would stop at `cert`)
  const withHelp = rawArgv[0] === 'help' ? [...rawArgv.slice(1), '--help'] : rawArgv;
  // `kyverno apply -o PATH` is Kyverno's mutated-resources path, not vouch's output format
  const argv = rewriteKyvernoArgv(normalizeBooleanFlags(program, withHelp));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        return e.exitCode === 0 ? 0 : 1;
      }
      const { message, helpFor } = usageError(e, argv, ctx.programName);
      const jsonRequested = argv.includes('json') && argv.some((a) => a === '-o' || a === '--output' || a.startsWith('--output='));
      if (jsonRequested) {
        ctx.stdout.write(`${JSON.stringify({ error: { code: 'ERR_INVALID_ARGUMENT', message, details: { usage: true } } }, null, 2)}\n`);
      }
      ctx.stderr.write(`Error: ${message}\n`);
      ctx.stderr.write(`Run '${helpFor} --help' for usage.\n`);
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
    ctx.stderr.write(`Error: ${message}${credentialHint(ctx, e)}${ctx.remote ? protocolHint(e, ctx.remote.plainHttp) : ''}\n`);
    if (isVouchError(e) && e.details?.usage === true) ctx.stderr.write(`Run '${ctx.displayPath()} --help' for usage.\n`);
    if (isVouchError(e) && typeof e.details?.hint === 'string') ctx.stderr.write(`Hint: ${e.details.hint}\n`);
    // notation prints only the Error line, even with --debug (scripts compare stderr); set
    // VOUCH_STACK_TRACE=1 to also get the stack and the error details.
    if (ctx.env.VOUCH_STACK_TRACE === '1' && e instanceof Error) {
      if (e.stack) ctx.stderr.write(`${e.stack}\n`);
      if (isVouchError(e) && e.details) ctx.stderr.write(`details: ${JSON.stringify(e.details, null, 2)}\n`);
    }
    return ctx.errorExitCode?.(e) ?? 1;
  }
}

/** When the registry refused us and no credentials were found, say so (notation: "credential required for basic auth"). */
function credentialHint(ctx: CliContext, e: unknown): string {
  if (!isVouchError(e) || e.code !== 'ERR_REGISTRY_UNAUTHORIZED' || !ctx.remote || ctx.remote.credentials.found()) return '';
  return `; no credentials were found for ${ctx.remote.registry} (credential required for basic auth): log in with \`${ctx.programName} login\`, pass -u/-p or set NOTATION_USERNAME and NOTATION_PASSWORD`;
}
