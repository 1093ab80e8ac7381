import { MediaType } from '@vouch/core';
import type { Command } from 'commander';
import { act, addRegistryOptions } from '../command.js';
import type { CliContext } from '../context.js';
import { add, node, renderTree } from '../format/tree.js';
import { artifactSignatures } from '../signatures.js';

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
    const { artifact, display, signatures: sigs } = await artifactSignatures(ctx, reference, opts, 'list');
    if (ctx.json) {
      ctx.result({
        reference: display,
        artifact: { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.size },
        signatures: sigs.map((s) => ({ digest: s.digest, mediaType: s.mediaType, size: s.size, artifactType: s.artifactType })),
      });
      return;
    }
    if (sigs.length === 0) {
      ctx.line(`${display} has no associated signature`);
      return;
    }
    const root = node(display);
    const type = add(root, MediaType.NOTARY_SIGNATURE);
    for (const s of sigs) add(type, s.digest);
    ctx.out(renderTree(root));
  });
}
