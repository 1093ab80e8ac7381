import { readFile } from 'node:fs/promises';
import { VouchError } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { isPluginKey, loadNotationConfig, loadSigningKeys } from '@vouch/node';
import { sign } from '@vouch/notation';
import { importPrivateKey, parseCertificates } from '@vouch/x509';
import type { Command } from 'commander';
import { act, collect, parseKeyValues, required, unsupported } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { codecFor, openTarget } from '../deps.js';

/** Parse a Go-style duration made of h/m/s parts (`24h`, `1h30m`, `90s`) into whole seconds. */
export function parseExpiry(value: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value.trim());
  if (!m || value.trim() === '' || (!m[1] && !m[2] && !m[3])) {
    throw new UsageError(`invalid --expiry "${value}": use a duration such as 24h, 30m or 1h30m`);
  }
  const seconds = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  if (seconds <= 0) throw new UsageError(`--expiry must be positive, got "${value}"`);
  return seconds;
}

/** `vouch sign`: sign an artifact with a key from signingkeys.json (OCI layouts in this build). */
export function registerSign(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('sign')
    .description('Sign artifacts')
    .argument('<reference>', 'artifact reference (with --oci-layout: <path>@<digest> or <path>:<tag>)')
    .option('-k, --key <name>', 'signing key name in signingkeys.json (default: the default key)')
    .option('--signature-format <format>', 'signature envelope format: jws or cose')
    .option('-e, --expiry <duration>', 'signature validity, e.g. 24h')
    .option('-m, --user-metadata <key=value>', 'user defined metadata (repeatable)', collect)
    .option('--id <id>', 'key id (with --plugin)')
    .option('--plugin <name>', 'signing plugin')
    .option('--plugin-config <key=value>', 'plugin configuration (repeatable)', collect)
    .option('--timestamp-url <url>', 'RFC 3161 timestamping authority URL')
    .option('--timestamp-root-cert <file>', 'root certificate of the timestamping authority')
    .option('--oci-layout', 'the artifact is in an OCI image layout directory')
    .option('--force-referrers-tag', 'store the signature with the referrers tag schema')
    .option('--insecure-registry', 'use HTTP for the registry');
  act(cmd, ctx, async ([reference], opts) => {
    const ref = required(reference, 'reference');
    if ((opts.plugin && !opts.id) || (!opts.plugin && opts.id)) {
      throw new UsageError('if any flags in the group [id plugin] are set they must all be set');
    }
    if (opts.plugin && opts.key) throw new UsageError('--key cannot be used with --plugin and --id');
    if (!!opts.timestampUrl !== !!opts.timestampRootCert) {
      throw new UsageError('if any flags in the group [timestamp-url timestamp-root-cert] are set they must all be set');
    }
    const userMetadata = parseKeyValues(opts.userMetadata as string[] | undefined, '--user-metadata');
    const expirySeconds = opts.expiry ? parseExpiry(opts.expiry as string) : undefined;
    const configDir = ctx.configDir();
    const config = await loadNotationConfig(configDir);
    const format = String(opts.signatureFormat ?? config.signatureFormat ?? 'jws').toLowerCase();
    if (format !== 'jws' && format !== 'cose') throw new UsageError(`signature format "${format}" is not supported (jws, cose)`);
    const codec = codecFor(format === 'jws' ? 'application/jose+json' : 'application/cose');
    if (!codec) throw new VouchError('ERR_UNSUPPORTED', `the ${format} envelope format is not available in this build`);
    if (opts.plugin) unsupported('signing with a plugin (--plugin)');
    if (opts.timestampUrl) unsupported('RFC 3161 timestamping (--timestamp-url)');
    if (!opts.ociLayout) unsupported('signing artifacts in a remote registry (use --oci-layout)');

    const keys = await loadSigningKeys(configDir);
    const keyName = (opts.key as string | undefined) ?? keys.default;
    if (!keyName) {
      throw new VouchError(
        'ERR_KEY_NOT_FOUND',
        'no signing key was specified and no default signing key is configured; use --key or `vouch key update --default <name>`',
      );
    }
    const key = keys.keys.find((k) => k.name === keyName);
    if (!key) throw new VouchError('ERR_KEY_NOT_FOUND', `signing key ${keyName} not found`, { details: { name: keyName } });
    if (isPluginKey(key)) unsupported(`signing with the plugin key ${key.name}`);
    const local = key as { keyPath: string; certPath: string };
    const [keyPem, certBytes] = await Promise.all([
      readFile(local.keyPath, 'utf8').catch((e: Error) => {
        throw new VouchError('ERR_KEY_NOT_FOUND', `cannot read key file ${local.keyPath}: ${e.message}`, { cause: e });
      }),
      readFile(local.certPath).catch((e: Error) => {
        throw new VouchError('ERR_KEY_NOT_FOUND', `cannot read certificate file ${local.certPath}: ${e.message}`, { cause: e });
      }),
    ]);
    const chain = parseCertificates(new Uint8Array(certBytes));
    const signer = localRawSigner(await importPrivateKey(keyPem), chain);

    const target = openTarget(ctx, ref, { ociLayout: true, writable: true });
    const result = await sign(target.reference, {
      repository: target.repository as Parameters<typeof sign>[1]['repository'],
      signer,
      envelope: codec,
      ...(expirySeconds ? { expirySeconds } : {}),
      ...(userMetadata ? { userMetadata } : {}),
      ...(ctx.io.now ? { now: ctx.io.now } : {}),
    });
    for (const w of result.warnings) ctx.warn(`Warning: ${w}`);
    const signed = `${target.display}@${result.artifact.digest}`;
    ctx.line(`Successfully signed ${signed}`);
    ctx.line(`Pushed the signature to ${target.display}@${result.signatureManifest.digest}`);
    ctx.result({
      reference: signed,
      artifact: result.artifact,
      signature: {
        digest: result.signatureManifest.digest,
        mediaType: result.signatureManifest.mediaType,
        envelopeMediaType: codec.mediaType,
      },
      key: keyName,
      warnings: result.warnings,
    });
  });
}
