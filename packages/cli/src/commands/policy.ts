import { readFile } from 'node:fs/promises';
import { fromUtf8, hasCode, isVouchError, VouchError } from '@vouch/core';
import { importOciTrustPolicy, loadOciTrustPolicy, readOciTrustPolicyFile } from '@vouch/node';
import type { Command } from 'commander';
import { act, required } from '../command.js';
import type { CliContext } from '../context.js';

async function readInput(ctx: CliContext, file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(ctx.resolvePath(file)));
  } catch (e) {
    throw new VouchError('ERR_IO', `failed to read OCI trust policy file: ${(e as Error).message}`, { cause: e });
  }
}

/** `vouch policy import|show`: manage the OCI trust policy of the config dir. */
export function registerPolicy(program: Command, ctx: CliContext): void {
  const policy = program.command('policy').description('Manage trust policy configuration for signature verification');

  const imp = policy
    .command('import')
    .description('Import OCI trust policy configuration from a JSON file')
    .argument('<file>', 'path of the trust policy JSON file')
    .option('--force', 'override the existing OCI trust policy configuration without prompt');
  act(imp, ctx, async ([file], opts) => {
    const path = required(file, 'file');
    const bytes = await readInput(ctx, path);
    const configDir = ctx.configDir();
    let result: Awaited<ReturnType<typeof importOciTrustPolicy>>;
    if (opts.force) {
      ctx.warn('Warning: existing OCI trust policy file will be overwritten');
      result = await importOciTrustPolicy(configDir, bytes, { overwrite: true, source: path });
    } else {
      try {
        result = await importOciTrustPolicy(configDir, bytes, { source: path });
      } catch (e) {
        if (!(hasCode(e, 'ERR_INVALID_ARGUMENT') && e.details?.exists === true)) throw e;
        const ok = await ctx.confirm('The OCI trust policy file already exists, do you want to overwrite it?', false);
        if (!ok) {
          ctx.result({ imported: false, reason: 'not confirmed' });
          return;
        }
        result = await importOciTrustPolicy(configDir, bytes, { overwrite: true, source: path });
      }
    }
    if (result.removedLegacy) ctx.line('Cleaned old trust policy file.');
    ctx.line('Successfully imported OCI trust policy file.');
    ctx.result({ imported: true, path: result.path, removedLegacy: result.removedLegacy });
  });

  const show = policy.command('show').description('Show the OCI trust policy configuration');
  act(show, ctx, async () => {
    const configDir = ctx.configDir();
    const file = await readOciTrustPolicyFile(configDir);
    if (!file) {
      throw new VouchError(
        'ERR_CONFIG_INVALID',
        'failed to show trust policy as the trust policy file does not exist.\nYou can import one using `vouch policy import <path-to-policy.json>`',
        { details: { configDir } },
      );
    }
    let error: unknown;
    try {
      await loadOciTrustPolicy(configDir);
    } catch (e) {
      error = e;
    }
    const text = fromUtf8(file.bytes);
    if (ctx.json) {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
      ctx.result({
        path: file.path,
        valid: error === undefined,
        policy: parsed,
        ...(error
          ? { error: isVouchError(error) ? { code: error.code, message: error.message } : { code: 'ERR_INTERNAL', message: String(error) } }
          : {}),
      });
    } else {
      if (error) {
        ctx.warn(`Error: ${error instanceof Error ? error.message : String(error)}`);
        ctx.warn(
          'Existing OCI trust policy configuration is invalid, you may update or create a new one via `vouch policy import <path-to-policy.json>`',
        );
      }
      ctx.out(text);
    }
    if (error) ctx.exitCode = 1;
  });
}
