/**
 * Paged listings of the distribution spec (`/tags/list`, `/referrers/<digest>`): the next page is
 * the `Link: <url>; rel="next"` of the previous answer, resolved against the URL that answered.
 */
import { type FetchResponse, VouchError } from '@vouch/core';
import type { RepoContext } from './context.js';

/** Pages followed at most; a registry that links more fails with ERR_REGISTRY_HTTP. */
export const MAX_PAGES = 1000;

/** Options of {@link paginate}. */
export interface PaginateOptions {
  /** What is listed, for messages (`listing tags of reg.io/app`). */
  what: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * GET `path` and each page its `Link` header leads to, handing every response to `onPage`
 * (`index` counts from 0) inside the request's deadline. Stops after the last page, or when
 * `onPage` returns false. More than {@link MAX_PAGES} pages fail with ERR_REGISTRY_HTTP.
 */
export async function paginate(
  ctx: RepoContext,
  path: string,
  options: PaginateOptions,
  onPage: (res: FetchResponse, index: number) => Promise<boolean>,
): Promise<void> {
  let url: string | undefined = path;
  for (let index = 0; url !== undefined; index++) {
    if (index >= MAX_PAGES) throw new VouchError('ERR_REGISTRY_HTTP', `${options.what}: the registry linked more than ${MAX_PAGES} pages`);
    const current: string = url;
    url = await ctx.client.request(
      { registry: ctx.registry, method: 'GET', path: current, headers: options.headers, scopes: ctx.pull, signal: options.signal },
      async (res, finalUrl) => ((await onPage(res, index)) ? nextLink(res.headers.get('link'), finalUrl) : undefined),
    );
  }
}

/** The `rel="next"` target of a `Link` header, resolved against `base`. */
export function nextLink(link: string | null, base: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (m && /rel\s*=\s*"?next"?/i.test(m[2]!)) return new URL(m[1]!, base).toString();
  }
  return undefined;
}
