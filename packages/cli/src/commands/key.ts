import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VouchError } from '@vouch/core';
import {
  addSigningKey,
  ConfigPaths,
  isPluginKey,
  type KeySuite,
  loadSigningKeys,
  removeSigningKeys,
  setDefaultSigningKey,
} from '@vouch/node/config';
import { type Certificate, parseCertificates } from '@vouch/x509';
import type { Command } from 'commander';
import { act, collect, parseKeyValues, positionalArgument } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { renderTable } from '../format/table.js';
import { keyMatchesCertificate } from '../signing.js';

async function assertPluginInstalled(ctx: CliContext, configDir: string, plugin: string): Promise<void> {
  const libexec = ctx.env.NOTATION_LIBEXEC ? ctx.resolvePath(ctx.env.NOTATION_LIBEXEC) : configDir;
  const exe = join(libexec, ConfigPaths.PLUGINS, plugin, `notation-${plugin}`);
  const st = await lstat(exe).catch(() => undefined);
  if (!st?.isFile()) {
    throw new VouchError(
      'ERR_PLUGIN_NOT_FOUND',
      `plugin "${plugin}" is not installed (expected ${exe}); install it with \`vouch plugin install\``,
      {
        details: { plugin, path: exe },
      },
    );
  }
}

async function assertLocalKeyPair(keyPath: string, certPath: string): Promise<void> {
  let certs: Certificate[];
  try {
    certs = parseCertificates(new Uint8Array(await readFile(certPath)));
  } catch (e) {
    throw new VouchError('ERR_CERT_INVALID', `cannot read certificate file ${certPath}: ${(e as Error).message}`, { cause: e });
  }
  if (certs.length === 0) throw new VouchError('ERR_CERT_INVALID', `no certificate found in ${certPath}`);
  const key = await readFile(keyPath, 'utf8').catch((e: Error) => {
    throw new VouchError('ERR_KEY_NOT_FOUND', `cannot read key file ${keyPath}: ${e.message}`, { cause: e });
  });
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(key)) {
    throw new VouchError('ERR_KEY_NOT_FOUND', `key file ${keyPath} holds no PEM private key`);
  }
  if (!keyMatchesCertificate(key, certs[0]!.publicKey.spki)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `the private key in ${keyPath} is not the key of the certificate in ${certPath}`);
  }
}

/** `vouch key add|list|update|delete`: manage signing keys in signingkeys.json. */
export function registerKey(program: Command, ctx: CliContext): void {
  const key = program.command('key').description('Manage keys used for signing');

  const addCmd = key
    .command('add')
    .description('Add key to signing key list')
    .argument('<name>', 'key name')
    .option('--plugin <name>', 'signing plugin name')
    .option('--id <id>', 'key id (required with --plugin)')
    .option('--plugin-config <key=value>', 'plugin configuration (repeatable)', collect)
    .option('--key-path <path>', 'private key file (PEM) of a local key')
    .option('--cert-path <path>', 'certificate chain file of a local key')
    .option('--default', 'mark as default');
  act(addCmd, ctx, async ([name], opts) => {
    const n = positionalArgument(ctx, name, 'key name cannot be empty');
    const configDir = ctx.configDir();
    let entry: KeySuite;
    if (opts.plugin) {
      if (opts.keyPath || opts.certPath) throw new UsageError('--plugin cannot be used with --key-path or --cert-path');
      if (!opts.id) throw new UsageError('missing key id: --id is required with --plugin');
      await assertPluginInstalled(ctx, configDir, opts.plugin as string);
      const pluginConfig = parseKeyValues(opts.pluginConfig as string[] | undefined, 'plugin-config');
      entry = { name: n, id: opts.id as string, pluginName: opts.plugin as string, ...(pluginConfig ? { pluginConfig } : {}) };
    } else if (opts.keyPath || opts.certPath) {
      if (!opts.keyPath || !opts.certPath) throw new UsageError('--key-path and --cert-path must be given together');
      const keyPath = ctx.resolvePath(opts.keyPath as string);
      const certPath = ctx.resolvePath(opts.certPath as string);
      await assertLocalKeyPair(keyPath, certPath);
      entry = { name: n, keyPath, certPath };
    } else {
      throw new UsageError('either --plugin and --id, or --key-path and --cert-path are required');
    }
    await addSigningKey(configDir, entry, { makeDefault: !!opts.default });
    ctx.line(opts.default ? `${n}: marked as default` : n);
    ctx.result({ added: entry, default: !!opts.default });
  });

  const listCmd = key.command('list').alias('ls').description('List keys used for signing');
  act(listCmd, ctx, async () => {
    const doc = await loadSigningKeys(ctx.configDir());
    ctx.result({ default: doc.default ?? null, keys: doc.keys });
    const rows = doc.keys.map((k) => [
      k.name === doc.default ? `* ${k.name}` : k.name,
      isPluginKey(k) ? '' : k.keyPath,
      isPluginKey(k) ? '' : k.certPath,
      isPluginKey(k) ? k.id : '',
      isPluginKey(k) ? k.pluginName : '',
    ]);
    ctx.out(renderTable([['NAME', 'KEY PATH', 'CERTIFICATE PATH', 'ID', 'PLUGIN NAME'], ...rows]));
  });

  const updateCmd = key
    .command('update')
    .alias('set')
    .description('Update key in signing key list')
    .argument('<name>', 'key name')
    .option('--default', 'mark as default');
  act(updateCmd, ctx, async ([name], opts) => {
    const n = positionalArgument(ctx, name, 'key name cannot be empty');
    const configDir = ctx.configDir();
    if (!opts.default) {
      const doc = await loadSigningKeys(configDir);
      if (!doc.keys.some((k) => k.name === n))
        throw new VouchError('ERR_KEY_NOT_FOUND', `signing key ${n} not found`, { details: { name: n } });
      ctx.result({ name: n, default: doc.default === n });
      return;
    }
    await setDefaultSigningKey(configDir, n);
    ctx.line(`${n}: marked as default`);
    ctx.result({ name: n, default: true });
  });

  const delCmd = key
    .command('delete')
    .aliases(['remove', 'rm'])
    .description('Remove keys from signing key list')
    .argument('<names...>', 'key names');
  act(delCmd, ctx, async ([names]) => {
    const list = names as string[];
    const { removed, removedDefault } = await removeSigningKeys(ctx.configDir(), list);
    for (const n of removed) ctx.line(n === removedDefault ? `${n}: unmarked as default` : n);
    ctx.result({ removed, unmarkedDefault: removedDefault ?? null });
  });
}
