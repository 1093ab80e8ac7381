import { digestOf, type FetchInit, MediaType, utf8 } from '@vouch/core';
import { describe, expect, it } from 'vitest';
import { createRegistryClient } from './client.js';
import { MAX_PAGES, nextLink } from './paginate.js';
import { remoteRepository } from './remote.js';

/** A transport answering from `route` (path and query → status, headers, JSON body), recording the URLs asked for. */
function serve(route: (url: URL) => { status?: number; headers?: Record<string, string>; body?: unknown }) {
  const urls: string[] = [];
  const fetch = async (url: string, _init: FetchInit = {}) => {
    urls.push(url);
    const r = route(new URL(url));
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status ?? 200, headers: r.headers });
  };
  return { fetch, urls };
}

const subject = { mediaType: MediaType.OCI_MANIFEST, digest: digestOf(utf8('subject')), size: 7 };

describe('nextLink', () => {
  it('finds rel="next" among several links, quoted or not, resolved against the answering URL', () => {
    const base = 'https://reg.io/v2/a/tags/list?n=2';
    expect(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"', base)).toBe('https://reg.io/v2/a/tags/list?n=2&last=b');
    expect(nextLink('<https://cdn.io/p1>; rel="prev", <https://cdn.io/p3>; rel=next', base)).toBe('https://cdn.io/p3');
    expect(nextLink('<?last=c>; REL="next"', base)).toBe('https://reg.io/v2/a/tags/list?last=c');
    expect(nextLink('</v2/a/tags/list?last=b>; rel="prev"', base)).toBeUndefined();
    expect(nextLink(null, base)).toBeUndefined();
  });
});

describe('paginate (tags and referrers)', () => {
  it('lists tags across Link pages, in order', async () => {
    const pages: Record<string, { tags: string[]; next?: string }> = {
      '': { tags: ['a', 'b'], next: '/v2/app/tags/list?last=b' },
      b: { tags: ['c', 'd'], next: '/v2/app/tags/list?last=d' },
      d: { tags: ['e'] },
    };
    const { fetch, urls } = serve((u) => {
      const p = pages[u.searchParams.get('last') ?? '']!;
      return { body: { name: 'app', tags: p.tags }, headers: p.next ? { link: `<${p.next}>; rel="next"` } : undefined };
    });
    const repo = remoteRepository(createRegistryClient({ fetch }), 'reg.io/app');
    expect(await repo.listTags()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(urls).toEqual([
      'https://reg.io/v2/app/tags/list',
      'https://reg.io/v2/app/tags/list?last=b',
      'https://reg.io/v2/app/tags/list?last=d',
    ]);
  });

  it(`fails with ERR_REGISTRY_HTTP when a registry links more than ${MAX_PAGES} pages, for tags and referrers alike`, async () => {
    const { fetch, urls } = serve((u) => ({
      headers: {
        link: `<${u.pathname}?page=${Number(u.searchParams.get('page') ?? 0) + 1}>; rel="next"`,
        'content-type': MediaType.OCI_INDEX,
      },
      body: u.pathname.endsWith('/tags/list') ? { tags: ['t'] } : { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] },
    }));
    const repo = remoteRepository(createRegistryClient({ fetch, referrersCacheTtlMs: 0 }), 'reg.io/app');
    const tags = await repo.listTags().catch((e: unknown) => e);
    expect(tags).toBeVouchError('ERR_REGISTRY_HTTP');
    expect((tags as Error).message).toBe(`listing tags of reg.io/app: the registry linked more than ${MAX_PAGES} pages`);
    expect(urls).toHaveLength(MAX_PAGES);
    urls.length = 0;
    const listing = async () => {
      for await (const _ of repo.referrers(subject)) {
        // drain
      }
    };
    const referrers = await listing().catch((e: unknown) => e);
    expect(referrers).toBeVouchError('ERR_REGISTRY_HTTP');
    expect((referrers as Error).message).toBe(`listing referrers of ${subject.digest}: the registry linked more than ${MAX_PAGES} pages`);
    expect(urls).toHaveLength(MAX_PAGES);
  });

  it('treats a 404 on the first referrers page as "no Referrers API" and a later 404 as an error', async () => {
    const { fetch } = serve((u) =>
      u.searchParams.has('page')
        ? { status: 404, body: { errors: [{ code: 'NAME_UNKNOWN' }] } }
        : {
            headers: { link: `<${u.pathname}?page=1>; rel="next"`, 'content-type': MediaType.OCI_INDEX },
            body: { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] },
          },
    );
    const repo = remoteRepository(createRegistryClient({ fetch, referrersCacheTtlMs: 0 }), 'reg.io/app');
    const err = await (async () => {
      for await (const _ of repo.referrers(subject)) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(err).toBeVouchError('ERR_REGISTRY_NOT_FOUND');
  });
});
