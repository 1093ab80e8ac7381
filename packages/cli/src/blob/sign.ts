import { resolve } from 'node:path';
import { isVouchError, VouchError } from '@vouch/core';
import type { RawSigner } from '@vouch/envelope';
import { fileStream, nodeHasher, writeSignatureFile } from '@vouch/node';
import { loadNotationConfig } from '@vouch/node/config';
import {
  type EnvelopeSigner,
  ocspCrlRevocation,
  SIGNATURE_FORMAT_MEDIA_TYPES,
  signatureFileName,
  signBlob,
  type TimestampAuthority,
} from '@vouch/notation';
import type { Command } from 'commander';
import { type CliContext, UsageError } from '../context.js';
import { crlCacheOption } from '../crl-cache.js';
import { codecFor } from '../deps.js';
import { parseExpiry } from '../duration.js';
import { pluginSignerFor } from '../plugin-signing.js';
import { cliFetch } from '../registry.js';
import { keySigner, timestampError } from '../signing.js';
import { askConfirmation, type BlobOpts, checkFormat, inheritedOption, nonEmpty, parseFlagMap, positional } from './flags.js';
import { checkReadableFile, pathExists } from './io.js';
import { loadTsaRootCertificate } from './tsa.js';

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
    ({ name: keyName, signer } = await keySigner(ctx, opts.key as string | undefined, pluginConfigFlags));
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
