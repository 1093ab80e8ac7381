import type { Command } from 'commander';
import { act } from '../command.js';
import type { CliContext } from '../context.js';

/** `vouch version`: the version, as notation prints its own (`--output json` too). */
export function registerVersion(program: Command, ctx: CliContext): void {
  const cmd = program.command('version').description(`Show the ${ctx.programName} version information`);
  act(cmd, ctx, async () => {
    const node = process.version;
    ctx.result({ version: ctx.version, nodeVersion: node });
    ctx.line('vouch - a tool to sign and verify artifacts.');
    ctx.line('');
    ctx.line(`Version:       ${ctx.version}`);
    ctx.line(`Node version:  ${node}`);
  });
}
