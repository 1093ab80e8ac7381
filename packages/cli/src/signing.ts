import { readFile } from 'node:fs/promises';
import { isVouchError, VouchError } from '@vouch/core';
import { localRawSigner, type RawSigner } from '@vouch/envelope';
import { isPluginKey, loadSigningKeys } from '@vouch/node';
import type { EnvelopeSigner } from '@vouch/notation';
import { importPrivateKey, parseCertificates } from '@vouch/x509';
import type { CliContext } from './context.js';
import { pluginKeySigner } from './plugin-signing.js';

/**
 * The key of signingkeys.json named `--key` (or the default key): a local key as a {@link RawSigner},
 * a plugin key as the plugin's {@link EnvelopeSigner} (`--plugin-config` flags override its stored
 * configuration).
 */
export async function keySigner(
  ctx: CliContext,
  name: string | undefined,
  pluginConfigFlags?: readonly string[],
): Promise<{ name: string; signer: RawSigner | EnvelopeSigner }> {
  const keys = await loadSigningKeys(ctx.configDir());
  const keyName = name ?? keys.default;
  if (!keyName) {
    throw new VouchError(
      'ERR_KEY_NOT_FOUND',
      'no signing key was specified and no default signing key is configured; use --key or `vouch key update --default <name>`',
    );
  }
  const key = keys.keys.find((k) => k.name === keyName);
  if (!key) throw new VouchError('ERR_KEY_NOT_FOUND', `signing key ${keyName} not found`, { details: { name: keyName } });
  if (isPluginKey(key)) return { name: keyName, signer: await pluginKeySigner(ctx, key, pluginConfigFlags) };
  const [keyPem, certBytes] = await Promise.all([
    readFile(key.keyPath, 'utf8').catch((e: Error) => {
      throw new VouchError('ERR_KEY_NOT_FOUND', `cannot read key file ${key.keyPath}: ${e.message}`, { cause: e });
    }),
    readFile(key.certPath).catch((e: Error) => {
      throw new VouchError('ERR_KEY_NOT_FOUND', `cannot read certificate file ${key.certPath}: ${e.message}`, { cause: e });
    }),
  ]);
  const chain = parseCertificates(new Uint8Array(certBytes));
  return { name: keyName, signer: localRawSigner(await importPrivateKey(keyPem), chain) };
}

/** `timestamp: Post "<url>": …`, notation's wording for a TSA that could not be reached or answered badly. */
export function timestampError(e: unknown, url: string): unknown {
  if (!isVouchError(e) || e.code !== 'ERR_TIMESTAMP_INVALID' || e.details?.step !== 'request') return e;
  const cause = e.cause instanceof Error ? e.cause.message : e.message;
  return new VouchError('ERR_TIMESTAMP_INVALID', `timestamp: Post "${url}": ${cause}`, {
    cause: e,
    ...(e.details ? { details: e.details } : {}),
  });
}
