import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isVouchError, VouchError } from '@vouch/core';
import { localRawSigner, type RawSigner } from '@vouch/envelope';
import { fileStream, isPluginKey, loadNotationConfig, loadSigningKeys, nodeHasher, writeSignatureFile } from '@vouch/node';
import {
  type EnvelopeSigner,
  ocspCrlRevocation,
  SIGNATURE_FORMAT_MEDIA_TYPES,
  signatureFileName,
  signBlob,
  type TimestampAuthority,
} from '@vouch/notation';
import { importPrivateKey, parseCertificates } from '@vouch/x509';
import type { Command } from 'commander';
import { parseExpiry } from '../commands/sign.js';
import { type CliContext, UsageError } from '../context.js';
import { crlCacheOption } from '../crl-cache.js';
import { codecFor } from '../deps.js';
import { pluginKeySigner, pluginSignerFor } from '../plugin-signing.js';
import { cliFetch } from '../registry.js';
import { askConfirmation, type BlobOpts, checkFormat, inheritedOption, nonEmpty, parseFlagMap, positional } from './flags.js';
import { checkReadableFile, pathExists } from './io.js';
import { loadTsaRootCertificate } from './tsa.js';

/**
 * The key of signingkeys.json named `--key` (or the default key): a local key as a {@link RawSigner},
 * a plugin key as the plugin's {@link EnvelopeSigner} (`--plugin-config` flags override its stored
 * configuration).
 */
export async function blobKeySigner(
  ctx: CliContext,
  configDir: string,
  name: string | undefined,
  pluginConfigFlags?: readonly string[],
): Promise<{ name: string; signer: RawSigner | EnvelopeSigner }> {
  const keys = await loadSigningKeys(configDir);
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
function timestampError(e: unknown, url: string): unknown {
  if (!isVouchError(e) || e.code !== 'ERR_TIMESTAMP_INVALID' || e.details?.step !== 'request') return e;
  const cause = e.cause instanceof Error ? e.cause.message : e.message;
  return new VouchError('ERR_TIMESTAMP_INVALID', `timestamp: Post "${url}": ${cause}`, {
    cause: e,
    ...(e.details ? { details: e.details } : {}),
  });
}

/**
 * `vouch blob sign`: stream the blob through the digest the key implies, sign it, and write
 * `<signature directory>/<blob file name>.<jws|cose>.sig` atomically. An existing signature
 * file is replaced only with `--force` or after confirmation.
 */
export async function runBlobSign(ctx: CliContext, blobArg: unknown, opts: BlobOpts, cmd: Command): Promise<void> {
  const blobPath = positional(
    blobArg,
    `missing file path to the blob artifact: use \`${ctx.programName} blob sign --help\` to see what parameters are required`,
    'blob path cannot be empty',
  );
  const sigDirFlag = nonEmpty(opts.signatureDirectory, 'signature directory cannot be empty');
  if ((opts.timestampUrl === undefined) !== (opts.timestampRootCert === undefined)) {
    const missing = opts.timestampUrl === undefined ? 'timestamp-url' : 'timestamp-root-cert';
    throw new UsageError(
      `if any flags in the group [timestamp-url timestamp-root-cert] are set they must all be set; missing [${missing}]`,
    );
  }
  if (opts.timestampUrl !== undefined) {
    if (opts.timestampUrl === '') throw new UsageError('timestamping: tsa url cannot be empty');
    if (opts.timestampRootCert === '') throw new UsageError('timestamping: tsa root certificate path cannot be empty');
  }
  if ((opts.plugin !== undefined) !== (opts.id !== undefined)) {
    throw new UsageError(`if any flags in the group [id plugin] are set they must all be set; missing [${opts.plugin ? 'id' : 'plugin'}]`);
  }
  if (opts.plugin !== undefined && opts.key !== undefined) {
    throw new UsageError('if any flags in the group [key plugin] are set none of the others can be; [key plugin] were all set');
  }
  const mediaType = (opts.mediaType as string | undefined) ?? 'application/octet-stream';
  if (mediaType === '') throw new UsageError('--media-type is set but with empty value');

  const configDir = ctx.configDir();
  // notation: the flags are checked first, then the signer, then the signing options, then the blob
  parseFlagMap(opts.pluginConfig as string[] | undefined, 'plugin-config');
  const pluginConfigFlags = opts.pluginConfig as string[] | undefined;
  let keyName: string | undefined;
  let signer: RawSigner | EnvelopeSigner;
  if (opts.plugin !== undefined) {
    // on-demand plugin key (`--plugin NAME --id KEY`), as for `vouch sign`
    signer = await pluginSignerFor(ctx, {
      plugin: String(opts.plugin),
      id: String(opts.id),
      ...(pluginConfigFlags ? { pluginConfigFlags } : {}),
    });
  } else {
    ({ name: keyName, signer } = await blobKeySigner(ctx, configDir, opts.key as string | undefined, pluginConfigFlags));
  }
  const config = await loadNotationConfig(configDir);
  const format = checkFormat(String(inheritedOption(cmd, 'signatureFormat') ?? config.signatureFormat ?? 'jws'));
  const codec = codecFor(SIGNATURE_FORMAT_MEDIA_TYPES[format]);
  if (!codec) throw new VouchError('ERR_UNSUPPORTED', `the ${format} envelope format is not available in this build`);
  const userMetadata = parseFlagMap(opts.userMetadata as string[] | undefined, 'user-metadata');
  const expirySeconds = opts.expiry !== undefined ? parseExpiry(String(opts.expiry)) : undefined;

  let timestamper: TimestampAuthority | undefined;
  const fetch = opts.timestampUrl !== undefined ? cliFetch(ctx) : undefined;
  if (fetch) {
    const rootPath = String(opts.timestampRootCert);
    const root = await loadTsaRootCertificate(ctx.resolvePath(rootPath), rootPath);
    ctx.logger().info(`Configured to timestamp with TSA "${String(opts.timestampUrl)}"`);
    timestamper = {
      url: String(opts.timestampUrl),
      rootCertificates: [root],
      fetch,
      timeoutMs: 15_000,
      revocation: ocspCrlRevocation({ fetch, ...crlCacheOption(ctx) }),
    };
  }

  const blobFile = ctx.resolvePath(blobPath);
  await checkReadableFile(blobFile, blobPath);
  const sigDir = sigDirFlag !== undefined ? ctx.resolvePath(sigDirFlag) : ctx.cwd;
  const signaturePath = resolve(sigDir, signatureFileName(blobFile, format));

  // an existing signature is replaced only with --force or after confirmation (notation's rule)
  let overwrite = false;
  const exists = await pathExists(signaturePath);
  if (exists) {
    if (opts.force) {
      ctx.warn('Warning: existing signature file will be overwritten');
      overwrite = true;
    } else {
      overwrite = await askConfirmation(ctx, 'The signature file already exists, do you want to overwrite it?');
      if (!overwrite) {
        ctx.result({
          signed: false,
          blob: blobPath,
          signatureFile: signaturePath,
          reason: 'the signature file exists; overwrite declined',
        });
        return;
      }
    }
  }

  let result: Awaited<ReturnType<typeof signBlob>>;
  try {
    result = await signBlob(fileStream(blobFile), {
      signer,
      envelope: codec,
      mediaType,
      hasher: nodeHasher,
      ...(expirySeconds ? { expirySeconds } : {}),
      ...(userMetadata ? { userMetadata } : {}),
      ...(timestamper ? { timestamper } : {}),
      ...(ctx.io.now ? { now: ctx.io.now } : {}),
    });
  } catch (e) {
    throw timestampError(e, String(opts.timestampUrl));
  }
  ctx.logger().info(`Writing signature to file ${signaturePath}`);
  try {
    await writeSignatureFile(signaturePath, result.envelope, { overwrite });
  } catch (e) {
    if (isVouchError(e))
      throw new VouchError(e.code, `failed to write signature to file: ${e.message}`, {
        cause: e,
        ...(e.details ? { details: e.details } : {}),
      });
    throw e;
  }
  ctx.line(`Successfully signed ${blobPath}`);
  ctx.line(`Signature file written to ${signaturePath}`);
  ctx.result({
    signed: true,
    blob: blobPath,
    signatureFile: signaturePath,
    envelopeMediaType: result.envelopeMediaType,
    descriptor: result.descriptor,
    ...(keyName !== undefined ? { key: keyName } : { plugin: String(opts.plugin), id: String(opts.id) }),
    timestamped: !!timestamper,
  });
}
