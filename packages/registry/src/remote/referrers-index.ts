/**
 * The referrers tag-schema index (distribution spec, "Referrers Tag Schema"): an image index
 * tagged `<alg>-<hex>` of the subject digest, listing the subject's referrers, for registries
 * without the Referrers API (and, with `forceReferrersTag`, also for those with it, as notation
 * does by default).
 *
 * The registry offers no compare-and-swap, so adding an entry is a read-modify-write that can
 * lose to a concurrent writer (two CI jobs signing one image): both read the index, both PUT
 * their merge, the last PUT wins and the other's entry is gone. {@link addToReferrersIndex}
 * therefore reads the index back after writing — at once, and again after a jittered pause in
 * which a concurrent PUT can land — and merges again when its entry is missing. Once the entry
 * stays, the indexes it replaced are deleted (as notation does), except one that is current again.
 */
import { type Descriptor, MediaType, VouchError } from '@vouch/core';
import { digestAsync } from '@vouch/core/internal';
import { referrersTag } from '../content.js';
import { buildIndex } from '../manifest.js';
import type { RepoContext } from './context.js';
import { readReferrersIndex } from './read.js';
import { deleteManifest, putManifest } from './upload.js';

/**
 * Add `entry` to the tag-schema index of `subject` (a no-op write when it is listed already),
 * retrying the read-modify-write up to `ctx.referrersIndexAttempts` times while concurrent
 * writers drop it; then delete the superseded indexes (a failed delete is logged, not thrown:
 * the registry may need garbage collection). Throws ERR_PUSH_SIGNATURE_FAILED when the entry
 * never stays.
 */
export async function addToReferrersIndex(ctx: RepoContext, subject: Descriptor, entry: Descriptor, signal?: AbortSignal): Promise<void> {
  const { internals } = ctx;
  const tag = referrersTag(subject.digest);
  const attempts = ctx.referrersIndexAttempts;
  const settleMs = ctx.referrersIndexSettleMs;
  const superseded = new Set<string>();
  const listed = (index: { manifests: Descriptor[] } | undefined) => index?.manifests.some((d) => d.digest === entry.digest) === true;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await readReferrersIndex(ctx, tag, signal);
    if (!listed(current)) {
      const bytes = buildIndex([...(current?.manifests ?? []), entry]);
      await putManifest(ctx, tag, MediaType.OCI_INDEX, bytes, await digestAsync(bytes), signal);
      if (current) superseded.add(current.descriptor.digest);
    }
    // read back twice: at once, and after concurrent writers had time to land their PUT
    let kept = true;
    for (const pause of [0, settleMs * (0.5 + Math.random())]) {
      if (pause > 0) await internals.sleep(pause, signal);
      if (!listed(await readReferrersIndex(ctx, tag, signal))) {
        kept = false;
        break;
      }
    }
    if (kept) {
      await deleteSuperseded(ctx, tag, superseded, signal);
      return;
    }
    internals.logger.debug('referrers index lost our entry to a concurrent writer; merging again', { tag, attempt });
    await internals.sleep(settleMs * Math.random(), signal);
  }
  throw new VouchError(
    'ERR_PUSH_SIGNATURE_FAILED',
    `could not add ${entry.digest} to the referrers index ${tag} after ${attempts} attempts (concurrent writers); retry the push`,
  );
}

/** Delete the indexes this writer replaced, except the one `tag` names now. */
async function deleteSuperseded(
  ctx: RepoContext,
  tag: string,
  superseded: ReadonlySet<string>,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (superseded.size === 0) return;
  const final = await readReferrersIndex(ctx, tag, signal);
  for (const old of superseded) {
    if (old === final?.descriptor.digest) continue;
    try {
      await deleteManifest(ctx, old, { signal });
    } catch (e) {
      ctx.internals.logger.warn(
        `the superseded referrers index ${ctx.registry}/${ctx.repository}@${old} could not be deleted; garbage collection may be required`,
        { error: (e as Error).message },
      );
    }
  }
}
