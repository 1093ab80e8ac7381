import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isVouchError, VouchError } from '@vouch/core';
import { localRawSigner, type RawSigner } from '@vouch/envelope';
import { isPluginKey, loadSigningKeys } from '@vouch/node/config';
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
    throw new VouchError('ERR_KEY_NOT_FOUND', 'default signing key not set. Please set default signing key or specify a key name', {
      details: {
        configuration: true,
        hint: `name a key with --key, or make one the default: ${ctx.programName} key update --default <name> (${ctx.programName} key list shows them)`,
      },
    });
  }
  const key = keys.keys.find((k) => k.name === keyName);
  if (!key) {
    throw new VouchError('ERR_KEY_NOT_FOUND', `signing key ${keyName} not found`, {
      details: {
        name: keyName,
        configuration: true,
        hint: `${ctx.programName} key list shows the keys of signingkeys.json; add one with ${ctx.programName} key add or ${ctx.programName} cert generate-test`,
      },
    });
  }
  if (isPluginKey(key)) return { name: keyName, signer: await pluginKeySigner(ctx, key, pluginConfigFlags) };
  // signingkeys.json names files that may have moved or been replaced: say which key and file
  const hint = `fix the paths of "${keyName}" in signingkeys.json, or replace the key: ${ctx.programName} key delete ${keyName}, then ${ctx.programName} key add ${keyName} --key-path <key file> --cert-path <certificate file>`;
  const details = { name: keyName, keyPath: key.keyPath, certPath: key.certPath, configuration: true, hint };
  const [keyPem, certBytes] = await Promise.all([
    readFile(key.keyPath, 'utf8').catch((e: Error) => {
      throw new VouchError('ERR_KEY_NOT_FOUND', `cannot read the key file ${key.keyPath} of signing key ${keyName}: ${e.message}`, {
        cause: e,
        details,
      });
    }),
    readFile(key.certPath).catch((e: Error) => {
      throw new VouchError(
        'ERR_KEY_NOT_FOUND',
        `cannot read the certificate file ${key.certPath} of signing key ${keyName}: ${e.message}`,
        { cause: e, details },
      );
    }),
  ]);
  let chain: ReturnType<typeof parseCertificates>;
  try {
    chain = parseCertificates(new Uint8Array(certBytes));
    if (chain.length === 0) throw new Error('no certificate found');
  } catch (e) {
    throw new VouchError(
      'ERR_CERT_INVALID',
      `the certificate file ${key.certPath} of signing key ${keyName} holds no usable certificate: ${(e as Error).message}`,
      { cause: e, details },
    );
  }
  let privateKey: Awaited<ReturnType<typeof importPrivateKey>>;
  try {
    privateKey = await importPrivateKey(keyPem);
  } catch (e) {
    if (!isVouchError(e) || e.code !== 'ERR_MALFORMED_INPUT') throw e;
    throw new VouchError('ERR_MALFORMED_INPUT', `the key file ${key.keyPath} of signing key ${keyName} is not usable: ${e.message}`, {
      cause: e,
      details,
    });
  }
  if (!keyMatchesCertificate(keyPem, chain[0]!.publicKey.spki)) {
    throw new VouchError(
      'ERR_CONFIG_INVALID',
      `the key file ${key.keyPath} and the certificate file ${key.certPath} of signing key ${keyName} do not match: the private key is not the certificate's key`,
      { details },
    );
  }
  return { name: keyName, signer: localRawSigner(privateKey, chain) };
}

/** Whether the PEM private key belongs to the certificate's public key (compared as JWK: the key's numbers, not their encoding). */
export function keyMatchesCertificate(keyPem: string, spki: Uint8Array): boolean {
  let mine: JsonWebKey;
  let theirs: JsonWebKey;
  try {
    mine = createPublicKey(keyPem).export({ format: 'jwk' });
    theirs = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' });
  } catch {
    return true; // not comparable here: signing checks the signature against the certificate anyway
  }
  return (
    mine.kty === theirs.kty &&
    mine.n === theirs.n &&
    mine.e === theirs.e &&
    mine.crv === theirs.crv &&
    mine.x === theirs.x &&
    mine.y === theirs.y
  );
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
