/** Tag listing of a remote repository (`/tags/list`, every page). */
import { readLimited } from '@vouch/core/internal';
import { parseJsonObject } from '../manifest.js';
import type { RequestOptions } from '../types.js';
import { httpError } from './client.js';
import type { RepoContext } from './context.js';
import { paginate } from './paginate.js';

/** The repository's tags, in the registry's order, across every `Link` page. */
export async function listTags(ctx: RepoContext, opts: RequestOptions = {}): Promise<string[]> {
  const out: string[] = [];
  const what = `listing tags of ${ctx.registry}/${ctx.repository}`;
  await paginate(ctx, `${ctx.v2}/tags/list`, { what, signal: opts.signal }, async (res) => {
    if (res.status !== 200) throw await httpError(res, what);
    const doc = parseJsonObject(await readLimited(res, ctx.maxManifestBytes, 'tag list'), 'tag list');
    if (Array.isArray(doc.tags)) for (const t of doc.tags) if (typeof t === 'string') out.push(t);
    return true;
  });
  return out;
}
