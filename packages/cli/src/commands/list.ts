import { MediaType } from '@vouch/core';
import type { Command } from 'commander';
import { act, addRegistryOptions, positiveInt, registryFlags, required, requireExperimental } from '../command.js';
import type { CliContext } from '../context.js';
import { openTarget } from '../deps.js';
import { add, node, renderTree } from '../format/tree.js';
import { listSignatureManifests } from '../signatures.js';

/** `vouch list` / `vouch ls`: the signatures associated with an artifact. */
export function registerList(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('list')
    .alias('ls')
    .description('List signatures of the signed artifact')
    .argument('<reference>', 'artifact reference (with --oci-layout: <path>@<digest> or <path>:<tag>)')
    .option('--oci-layout', 'the artifact is in an OCI image layout directory')
    .option('--max-signatures <n>', 'maximum number of signatures to list', '100');
  addRegistryOptions(cmd);
  act(cmd, ctx, async ([reference], opts) => {
    const ref = required(reference, 'reference');
    requireExperimental(ctx, opts.ociLayout ? ['oci-layout'] : []);
    const max = positiveInt(opts.maxSignatures, '--max-signatures') ?? 100;
    const target = openTarget(ctx, ref, { ociLayout: !!opts.ociLayout, registry: registryFlags(opts) });
    if (target.isTag) {
      ctx.warn(
        `Warning: Always list the artifact using digest(@sha256:...) rather than a tag(:${target.tag}) because resolved digest may not point to the same signed artifact, as tags are mutable.`,
      );
    }
    const artifact = await target.repository.resolve(target.reference);
    const display = `${target.display}@${artifact.digest}`;
    const sigs = await listSignatureManifests(ctx, target.repository, artifact, max);
    if (ctx.json) {
      ctx.result({
        reference: display,
        artifact: { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.size },
        signatures: sigs.map((s) => ({ digest: s.digest, mediaType: s.mediaType, size: s.size, artifactType: s.artifactType })),
      });
      return;
    }
    if (sigs.length === 0) {
      ctx.line(`${display} has no associated signatures`);
      return;
    }
    const root = node(display);
    const type = add(root, MediaType.NOTARY_SIGNATURE);
    for (const s of sigs) add(type, s.digest);
    ctx.out(renderTree(root));
  });
}
