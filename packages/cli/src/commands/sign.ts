import { VouchError } from '@vouch/core';
import { loadNotationConfig } from '@vouch/node/config';
import { ocspCrlRevocation, sign, type TimestampAuthority } from '@vouch/notation';
import { type Command, Option } from 'commander';
import { unsupportedFormat } from '../blob/flags.js';
import { loadTsaRootCertificate } from '../blob/tsa.js';
import { act, addRegistryOptions, addSignerOptions, collect, parseKeyValues, positionalArgument, registryFlags } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { codecFor, openTarget } from '../deps.js';
import { parseExpiry } from '../duration.js';
import { pluginSignerFor } from '../plugin-signing.js';
import { cliFetch } from '../registry.js';
import { keySigner, timestampError } from '../signing.js';

/** `vouch sign`: sign an artifact (remote registry, or `--oci-layout`) with a key from signingkeys.json. */
export function registerSign(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('sign')
    .description('Sign artifacts')
    .argument(
      '<reference>',
      'artifact reference: <registry>/<repository>(:<tag>|@<digest>); with --oci-layout: <path>@<digest> or <path>:<tag>',
    )
    .option('-k, --key <name>', 'signing key name in signingkeys.json (default: the default key)')
    .option('--signature-format <format>', 'signature envelope format: jws or cose (default "jws", or signatureFormat of config.json)')
    .option(
      '-e, --expiry <duration>',
      'how long the signature is valid, in hours, minutes and seconds: 24h, 30m, 1h30m (default: no expiry)',
    )
    .option('-m, --user-metadata <key=value>', 'user defined metadata (repeatable)', collect);
  addSignerOptions(cmd)
    .option('--oci-layout', 'the artifact is in an OCI image layout directory')
    .option(
      '--force-referrers-tag',
      'force to store signatures using the referrers tag schema, also where the registry has the Referrers API (=false: the Referrers API, else the tag schema)',
      true,
    )
    // notation's `--force-referrers-tag=false`, rewritten to this by runCli
    .addOption(new Option('--no-force-referrers-tag').hideHelp());
  addRegistryOptions(cmd);
  act(cmd, ctx, async ([reference], opts) => {
    const ref = positionalArgument(ctx, reference);
    if ((opts.plugin && !opts.id) || (!opts.plugin && opts.id)) {
      throw new UsageError(
        `if any flags in the group [id plugin] are set they must all be set; missing [${opts.plugin ? 'id' : 'plugin'}]`,
      );
    }
    if (opts.plugin && opts.key) throw new UsageError('--key cannot be used with --plugin and --id');
    if ((opts.timestampUrl === undefined) !== (opts.timestampRootCert === undefined)) {
      const missing = opts.timestampUrl === undefined ? 'timestamp-url' : 'timestamp-root-cert';
      throw new UsageError(
        `if any flags in the group [timestamp-url timestamp-root-cert] are set they must all be set; missing [${missing}]`,
      );
    }
    const userMetadata = parseKeyValues(opts.userMetadata as string[] | undefined, 'user-metadata');
    const expirySeconds = opts.expiry ? parseExpiry(opts.expiry as string) : undefined;
    const configDir = ctx.configDir();
    const config = await loadNotationConfig(configDir);
    const format = String(opts.signatureFormat ?? config.signatureFormat ?? 'jws').toLowerCase();
    if (format !== 'jws' && format !== 'cose') throw unsupportedFormat(String(opts.signatureFormat ?? config.signatureFormat));
    const codec = codecFor(format === 'jws' ? 'application/jose+json' : 'application/cose');
    if (!codec) throw new VouchError('ERR_UNSUPPORTED', `the ${format} envelope format is not available in this build`);
    // notation checks the TSA flags and loads the TSA root certificate before anything else
    let timestamper: TimestampAuthority | undefined;
    if (opts.timestampUrl !== undefined) {
      if (opts.timestampUrl === '') throw new UsageError('timestamping: tsa url cannot be empty');
      if (opts.timestampRootCert === '') throw new UsageError('timestamping: tsa root certificate path cannot be empty');
      const rootPath = String(opts.timestampRootCert);
      const root = await loadTsaRootCertificate(ctx.resolvePath(rootPath), rootPath);
      const fetch = cliFetch(ctx);
      timestamper = { url: String(opts.timestampUrl), rootCertificates: [root], fetch, revocation: ocspCrlRevocation({ fetch }) };
    }

    let keyName: string | undefined;
    const signer = opts.plugin
      ? await pluginSignerFor(ctx, {
          plugin: opts.plugin as string,
          id: opts.id as string,
          ...(opts.pluginConfig ? { pluginConfigFlags: opts.pluginConfig as string[] } : {}),
        })
      : await keySigner(ctx, opts.key as string | undefined, opts.pluginConfig as string[] | undefined).then((k) => {
          keyName = k.name;
          return k.signer;
        });

    const target = openTarget(ctx, ref, { ociLayout: !!opts.ociLayout, writable: true, registry: registryFlags(opts) });
    const repository = target.repository as Parameters<typeof sign>[1]['repository'];
    const result = await sign(target.reference, {
      repository,
      signer,
      envelope: codec,
      ...(expirySeconds ? { expirySeconds } : {}),
      ...(userMetadata ? { userMetadata } : {}),
      ...(timestamper ? { timestamper } : {}),
      ...(ctx.io.now ? { now: ctx.io.now } : {}),
    }).catch((e: unknown) => {
      throw timestampError(e, String(opts.timestampUrl));
    });
    for (const w of result.warnings) ctx.warn(`Warning: ${w.message}`);
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
      warnings: result.warnings.map((w) => w.message),
    });
  });
}
