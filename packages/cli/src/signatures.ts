import { type Descriptor, MediaType } from '@vouch/core';
import type { Repository } from '@vouch/registry';
import type { CliContext } from './context.js';

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
