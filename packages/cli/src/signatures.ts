import { type Descriptor, MediaType } from '@vouch/core';
import type { Repository } from '@vouch/registry';
import { type Opts, positionalArgument, positiveInt, registryFlags } from './command.js';
import type { CliContext } from './context.js';
import { openTarget } from './deps.js';

/**
 * The signature manifests of `subject`, at most `max` of them (notation's
 * `--max-signatures`); when there are more, a warning is printed and listing stops.
 */
export async function listSignatureManifests(
  ctx: CliContext,
  repository: Repository,
  subject: Descriptor,
  max: number,
): Promise<Descriptor[]> {
  const out: Descriptor[] = [];
  for await (const page of repository.referrers(subject, { artifactType: MediaType.NOTARY_SIGNATURE })) {
    for (const d of page) {
      if (out.length >= max) {
        ctx.warn(`Warning: exceeded configured limit of max signatures ${max} to examine`);
        return out;
      }
      out.push(d);
    }
  }
  return out;
}

/**
 * The common start of `inspect` and `list`: open the artifact named on the command line (warning
 * when it is named by tag), resolve it, and list its signature manifests (`--max-signatures`).
 */
export async function artifactSignatures(
  ctx: CliContext,
  reference: unknown,
  opts: Opts,
  verb: 'inspect' | 'list',
): Promise<{ target: ReturnType<typeof openTarget>; artifact: Descriptor; display: string; signatures: Descriptor[] }> {
  const ref = positionalArgument(ctx, reference);
  const max = positiveInt(opts.maxSignatures, 'max-signatures') ?? 100;
  const target = openTarget(ctx, ref, { ociLayout: !!opts.ociLayout, registry: registryFlags(opts) });
  if (target.isTag) {
    ctx.warn(
      `Warning: Always ${verb} the artifact using digest(@sha256:...) rather than a tag(:${target.tag}) because resolved digest may not point to the same signed artifact, as tags are mutable.`,
    );
  }
  const artifact = await target.repository.resolve(target.reference);
  const display = `${target.display}@${artifact.digest}`;
  return { target, artifact, display, signatures: await listSignatureManifests(ctx, target.repository, artifact, max) };
}
