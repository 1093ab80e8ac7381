import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { hasCode, isVouchError, VouchError } from '@vouch/core';
import { fromUtf8 } from '@vouch/core/internal';
import { loadOciTrustPolicy } from '@vouch/node';
import { importOciTrustPolicy, readOciTrustPolicyFile } from '@vouch/node/config';
import type { Command } from 'commander';
import { act } from '../command.js';
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
    .argument('[file...]', 'path of the trust policy JSON file')
    .option('--force', 'override the existing OCI trust policy configuration without prompt');
  act(imp, ctx, async ([files], opts) => {
    const list = (files as string[] | undefined) ?? [];
    if (list.length !== 1) {
      throw new VouchError(
        'ERR_INVALID_ARGUMENT',
        `requires 1 argument but received ${list.length}.\nUsage: ${ctx.programName} policy import <path-to-policy.json>\nPlease specify a trust policy file location as the argument`,
        { details: { usage: true } },
      );
    }
    const path = list[0]!;
    const bytes = await readInput(ctx, path);
    const configDir = ctx.configDir();
    const importing = (overwrite: boolean) =>
      importOciTrustPolicy(configDir, bytes, { overwrite, source: path }).catch((e: unknown) => {
        if (hasCode(e, 'ERR_TRUST_POLICY_INVALID') || hasCode(e, 'ERR_CONFIG_INVALID') || hasCode(e, 'ERR_MALFORMED_INPUT')) {
          throw new VouchError(e.code, `failed to parse OCI trust policy configuration: ${e.message}`, { cause: e, details: e.details });
        }
        if (hasCode(e, 'ERR_IO'))
          throw new VouchError('ERR_IO', `failed to write OCI trust policy configuration: ${e.message}`, { cause: e });
        throw e;
      });
    let result: Awaited<ReturnType<typeof importOciTrustPolicy>>;
    if (opts.force) {
      ctx.warn('Warning: existing OCI trust policy configuration will be overwritten');
      result = await importing(true);
    } else {
      // an existing policy that does not load (or cannot be read) is replaced without asking, as notation does
      const existing = await readOciTrustPolicyFile(configDir).catch(() => undefined);
      const valid = existing
        ? await loadOciTrustPolicy(configDir).then(
            () => true,
            () => false,
          )
        : false;
      if (valid) {
        await importing(false).catch((e: unknown) => {
          if (!(hasCode(e, 'ERR_INVALID_ARGUMENT') && e.details?.exists === true)) throw e;
        });
        const ok = await ctx.confirm('The OCI trust policy configuration already exists, do you want to overwrite it?', false);
        if (!ok) {
          ctx.result({ imported: false, reason: 'not confirmed' });
          return;
        }
      }
      result = await importing(true);
    }
    ctx.line(`Successfully imported OCI trust policy configuration to ${result.path}`);
    ctx.result({ imported: true, path: result.path, written: result.written });
  });

  const show = policy.command('show').description('Show the OCI trust policy configuration');
  act(show, ctx, async () => {
    const configDir = ctx.configDir();
    const file = await readOciTrustPolicyFile(configDir).catch((e: unknown) => {
      const why = e instanceof Error ? e.message : String(e);
      throw new VouchError(isVouchError(e) ? e.code : 'ERR_IO', `failed to show OCI trust policy configuration: ${why}`, { cause: e });
    });
    if (!file) {
      throw new VouchError(
        'ERR_CONFIG_INVALID',
        `failed to show OCI trust policy configuration as the trust policy file does not exist.\nYou can import one using \`${ctx.programName} policy import <path-to-policy.json>\``,
        { details: { configDir } },
      );
    }
    // trustpolicy.json is in force (notation 1.3 reads only it); say when notation 2 would read another policy, or notation 1.3 none
    if (file.notation?.reason === 'differs') {
      ctx.warn(
        `Warning: ${file.notation.disagreeing} differs from ${file.path}: notation 1.3 and ${ctx.programName} use ${basename(file.path)}, notation 2 uses ${basename(file.notation.disagreeing)}. Run \`${ctx.programName} policy import\` to write both.`,
      );
    } else if (file.notation?.reason === 'missing') {
      ctx.warn(
        `Warning: only ${basename(file.path)} exists, which notation 1.3 does not read (it reads ${basename(file.notation.disagreeing)}). Run \`${ctx.programName} policy import\` to write both.`,
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
        ...(file.notation ? { notation: file.notation } : {}),
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
          `Existing OCI trust policy configuration is invalid, you may update or create a new one via \`${ctx.programName} policy import <path-to-policy.json>\``,
        );
      }
      ctx.out(text);
    }
    if (error) ctx.exitCode = 1;
  });
}
