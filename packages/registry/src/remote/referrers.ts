/**
 * Referrers of a subject: listed through the Referrers API (paged, filtered by `artifactType`
 * client-side unless the registry says `OCI-Filters-Applied`), else through the tag-schema index;
 * which of the two a registry has is learnt once per client. Listings are cached for the client's
 * `referrersCacheTtlMs`; pushing a referrer invalidates its subject's listings and keeps the
 * subject discoverable ({@link recordReferrer}).
 */
import { type Descriptor, isVouchError, MediaType, VouchError } from '@vouch/core';
import { readLimited } from '@vouch/core/internal';
import { referrersTag, throwIfAborted } from '../content.js';
import { isManifestMediaType, referrerDescriptor } from '../manifest.js';
import type { PushManifestOptions, ReferrersOptions } from '../types.js';
import { httpError } from './client.js';
import { cacheKey, discardBody, type RepoContext, shared } from './context.js';
import { paginate } from './paginate.js';
import { parseIndexDescriptors, readReferrersIndex } from './read.js';
import { addToReferrersIndex } from './referrers-index.js';
import type { PushedManifest } from './upload.js';

const REFERRERS_FILTER_HEADER = 'oci-filters-applied';

function filterPage(list: Descriptor[], artifactType: string | undefined): Descriptor[] {
  return list.filter((d) => isManifestMediaType(d.mediaType) && (artifactType === undefined || d.artifactType === artifactType));
}

/** Every page of referrers of `subject`: from the Referrers API, or the tag-schema index when the registry lacks the API. */
async function listReferrers(ctx: RepoContext, subject: Descriptor, artifactType: string | undefined): Promise<Descriptor[][]> {
  const { internals, registry } = ctx;
  const pages: Descriptor[][] = [];
  if (internals.referrersApi.get(registry) !== false) {
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const what = `listing referrers of ${subject.digest}`;
    let supported = true;
    await paginate(
      ctx,
      `${ctx.v2}/referrers/${subject.digest}${query}`,
      { what, headers: { Accept: MediaType.OCI_INDEX } },
      async (res, index) => {
        if (res.status === 404 && index === 0) {
          await discardBody(res);
          supported = false;
          return false;
        }
        if (res.status !== 200) throw await httpError(res, what);
        const list = parseIndexDescriptors(await readLimited(res, ctx.maxManifestBytes, 'referrers page'), 'referrers response');
        const filtered = (res.headers.get(REFERRERS_FILTER_HEADER) ?? '')
          .toLowerCase()
          .split(',')
          .map((s) => s.trim())
          .includes('artifacttype');
        pages.push(filterPage(list, filtered ? undefined : artifactType));
        return true;
      },
    );
    if (supported) {
      internals.referrersApi.set(registry, true);
      return pages;
    }
    internals.referrersApi.set(registry, false);
    internals.logger.debug('registry has no Referrers API; using the referrers tag schema', { registry });
  }
  const index = await readReferrersIndex(ctx, referrersTag(subject.digest));
  if (index) pages.push(filterPage(index.manifests, artifactType));
  return pages;
}

/** Referrers of `subject`, page by page (cached per client, shared between identical concurrent listings). */
export async function* referrers(ctx: RepoContext, subject: Descriptor, opts: ReferrersOptions = {}): AsyncIterable<Descriptor[]> {
  throwIfAborted(opts.signal);
  const { internals } = ctx;
  const key = `${cacheKey(ctx, subject.digest)} ${opts.artifactType ?? ''}`;
  const hit = internals.referrersCache.get(key);
  let pages: Descriptor[][];
  if (hit && hit.expires > internals.now()) {
    internals.stats.cacheHits++;
    pages = hit.pages;
  } else {
    pages = await shared(ctx, `referrers ${subject.digest} ${opts.artifactType ?? ''}`, opts.signal, () =>
      listReferrers(ctx, subject, opts.artifactType),
    );
    if (internals.referrersTtlMs > 0) {
      internals.referrersCache.set(key, { expires: internals.now() + internals.referrersTtlMs, pages });
      if (internals.referrersCache.size > 4096) internals.referrersCache.delete(internals.referrersCache.keys().next().value!);
    }
  }
  for (const page of pages) if (page.length > 0) yield page.map((d) => ({ ...d }));
}

/**
 * After pushing a manifest with a `subject`: drop the subject's cached listings and, unless the
 * registry indexed it itself (`OCI-Subject`) and the tag schema is not forced, add it to the
 * subject's tag-schema index. A failure there is ERR_PUSH_SIGNATURE_FAILED.
 */
export async function recordReferrer(ctx: RepoContext, pushed: PushedManifest, opts: PushManifestOptions = {}): Promise<void> {
  const subject = pushed.summary.subject;
  if (!subject) return;
  const { internals } = ctx;
  const prefix = `${cacheKey(ctx, subject.digest)} `;
  for (const key of internals.referrersCache.keys()) if (key.startsWith(prefix)) internals.referrersCache.delete(key);
  if (pushed.subjectHeader) internals.referrersApi.set(ctx.registry, true);
  const force = opts.forceReferrersTag ?? ctx.forceReferrersTag;
  if (pushed.subjectHeader && !force) return;
  try {
    await addToReferrersIndex(ctx, subject, referrerDescriptor(pushed.descriptor, pushed.summary), opts.signal);
  } catch (e) {
    throw isVouchError(e) && e.code === 'ERR_PUSH_SIGNATURE_FAILED'
      ? e
      : new VouchError('ERR_PUSH_SIGNATURE_FAILED', `updating the referrers index of ${subject.digest} failed: ${(e as Error).message}`, {
          cause: e,
        });
  }
}
