import { digestOf, type FetchInit, type FetchResponse, MediaType, utf8 } from '@vouch/core';
import { describe, expect, it } from 'vitest';
import { mergeScopes, parseWwwAuthenticate, staticCredentials } from './auth.js';
import { BoundedCache } from './cache.js';
import { createRegistryClient } from './client.js';
import { remoteRepository } from './remote.js';

function response(status: number, headers: Record<string, string> = {}, body: string | Uint8Array = ''): FetchResponse {
  const bytes = typeof body === 'string' ? utf8(body) : body;
  const h = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  if (!h.has('content-length')) h.set('content-length', String(bytes.length));
  return {
    status,
    headers: { get: (n) => h.get(n.toLowerCase()) ?? null },
    body: new ReadableStream({
      start(c) {
        if (bytes.length) c.enqueue(bytes);
        c.close();
      },
    }),
    arrayBuffer: async () => bytes.slice().buffer,
    text: async () => new TextDecoder().decode(bytes),
  };
}

type Call = { url: string; init: FetchInit };
function fakeFetch(handler: (url: string, init: FetchInit, calls: Call[]) => FetchResponse | Promise<FetchResponse>) {
  const calls: Call[] = [];
  const f = async (url: string, init: FetchInit = {}) => {
    calls.push({ url, init });
    return handler(url, init, calls);
  };
  return { f, calls };
}

const manifest = utf8(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    config: { mediaType: 'a', digest: digestOf(utf8('x')), size: 1 },
    layers: [],
  }),
);
const mdigest = digestOf(manifest);

describe('auth helpers', () => {
  it('parses challenges with quoted commas and several schemes', () => {
    const c = parseWwwAuthenticate(
      'Bearer realm="https://auth.io/token",service="reg.io",scope="repository:a/b:pull,push", Basic realm="x"',
    );
    expect(c).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.io/token', service: 'reg.io', scope: 'repository:a/b:pull,push' } },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });
  it('merges scopes per resource', () => {
    expect(mergeScopes(['repository:a:pull', 'repository:a:push,pull', 'repository:b:pull'])).toEqual([
      'repository:a:pull,push',
      'repository:b:pull',
    ]);
  });
  it('bounds the cache by entries and weight', () => {
    const c = new BoundedCache<string>(2, 100);
    c.set('a', 'a', 10);
    c.set('b', 'b', 10);
    c.get('a');
    c.set('c', 'c', 10);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe('a');
    c.set('big', 'x', 60);
    expect(c.get('big')).toBeUndefined();
    expect(c.weight).toBeLessThanOrEqual(100);
  });
});

describe('createRegistryClient', () => {
  it('uses https unless the registry is marked insecure or loopback', async () => {
    const { f, calls } = fakeFetch(() => response(404));
    const c = createRegistryClient({ fetch: f, insecureRegistries: ['insecure.io'], retry: { retries: 0 } });
    // each resolve fails (404): only the URLs it asked for matter
    for (const name of ['secure.io/a', 'insecure.io/a', 'localhost:5000/a', 'docker.io/library/a']) {
      await expect(remoteRepository(c, name).resolve('v1')).rejects.toThrow();
    }
    expect(calls.map((x) => new URL(x.url).origin)).toEqual([
      'https://secure.io',
      'http://insecure.io',
      'http://localhost:5000',
      'https://registry-1.docker.io',
    ]);
  });

  it('sends the manifest Accept list on HEAD and verifies a digest-resolved manifest', async () => {
    const { f, calls } = fakeFetch((_url, init) => {
      if (init.method === 'HEAD') {
        return response(200, {
          'docker-content-digest': mdigest,
          'content-type': MediaType.OCI_MANIFEST,
          'content-length': String(manifest.length),
        });
      }
      return response(200, { 'content-type': MediaType.OCI_MANIFEST }, manifest);
    });
    const repo = remoteRepository(createRegistryClient({ fetch: f }), 'reg.io/a');
    const d = await repo.resolve('v1');
    expect(d).toEqual({ mediaType: MediaType.OCI_MANIFEST, digest: mdigest, size: manifest.length });
    const accept = calls[0]!.init.headers!.Accept!;
    for (const t of [MediaType.OCI_MANIFEST, MediaType.OCI_INDEX, MediaType.DOCKER_MANIFEST, MediaType.DOCKER_MANIFEST_LIST])
      expect(accept).toContain(t);
    expect((await repo.fetchManifest(d)).bytes).toEqual(manifest);
  });

  it('gets a bearer token on challenge, reuses it, and refreshes it after a 401', async () => {
    let tokenN = 0;
    let rejectToken = '';
    const { f, calls } = fakeFetch((url, init) => {
      const u = new URL(url);
      if (u.host === 'auth.io') {
        tokenN++;
        expect(init.headers!.Authorization).toBe(`Basic ${btoa('u:p')}`);
        expect(u.searchParams.get('service')).toBe('reg.io');
        expect(u.searchParams.getAll('scope')).toEqual(['repository:a:pull']);
        return response(200, {}, JSON.stringify({ token: `t${tokenN}`, expires_in: 300 }));
      }
      const auth = init.headers!.Authorization;
      if (!auth || auth === rejectToken) {
        return response(401, { 'www-authenticate': 'Bearer realm="https://auth.io/token",service="reg.io",scope="repository:a:pull"' });
      }
      return response(200, {
        'docker-content-digest': mdigest,
        'content-type': MediaType.OCI_MANIFEST,
        'content-length': String(manifest.length),
      });
    });
    const c = createRegistryClient({ fetch: f, credentials: staticCredentials({ 'reg.io': { username: 'u', password: 'p' } }) });
    const repo = remoteRepository(c, 'reg.io/a');
    await repo.resolve('v1');
    await repo.resolve('v2');
    expect(tokenN).toBe(1);
    rejectToken = 'Bearer t1';
    await repo.resolve('v3');
    expect(tokenN).toBe(2);
    expect(calls.filter((x) => x.url.includes('auth.io'))).toHaveLength(2);
  });

  it('uses the refresh-token grant for identity tokens and refuses an http realm for a secure registry', async () => {
    const { f, calls } = fakeFetch((url, init) => {
      if (url.startsWith('https://auth.io')) return response(200, {}, JSON.stringify({ access_token: 'at' }));
      if (url.startsWith('http://evil.io')) return response(200, {}, JSON.stringify({ token: 'x' }));
      if (init.headers!.Authorization === 'Bearer at') return response(404);
      const realm = url.includes('/evil/') ? 'http://evil.io/token' : 'https://auth.io/token';
      return response(401, { 'www-authenticate': `Bearer realm="${realm}",service="reg.io"` });
    });
    const c = createRegistryClient({ fetch: f, credentials: staticCredentials({ 'reg.io': { identityToken: 'refresh-me' } }) });
    await expect(remoteRepository(c, 'reg.io/a').resolve('v1')).toRejectWithCode('ERR_REGISTRY_NOT_FOUND');
    const tokenCall = calls.find((x) => x.url.startsWith('https://auth.io'))!;
    expect(tokenCall.init.method).toBe('POST');
    expect(String(tokenCall.init.body)).toContain('grant_type=refresh_token');
    expect(String(tokenCall.init.body)).toContain('refresh_token=refresh-me');
    const c2 = createRegistryClient({ fetch: f, credentials: staticCredentials({ 'reg.io': { username: 'u', password: 'p' } }) });
    await expect(remoteRepository(c2, 'reg.io/evil/a').resolve('v1')).toRejectWithCode('ERR_REGISTRY_HTTP');
    expect(calls.some((x) => x.url.startsWith('http://evil.io'))).toBe(false);
  });

  it('times out a request that never answers (ERR_TIMEOUT) and maps transport failures to ERR_NETWORK', async () => {
    const hang = (_u: string, init: FetchInit = {}) =>
      new Promise<FetchResponse>((_, reject) => init.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    const c = createRegistryClient({ fetch: hang, timeoutMs: 50, retry: { retries: 0 } });
    await expect(remoteRepository(c, 'reg.io/a').resolve('v1')).toRejectWithCode('ERR_TIMEOUT');
    const broken = createRegistryClient({
      fetch: async () => Promise.reject(new TypeError('connect ECONNREFUSED')),
      retry: { retries: 1, minDelayMs: 1 },
    });
    await expect(remoteRepository(broken, 'reg.io/a').resolve('v1')).toRejectWithCode('ERR_NETWORK');
  });

  it('rejects a digest the registry resolves differently from the one asked for', async () => {
    const other = digestOf(utf8('other'));
    const { f } = fakeFetch(() =>
      response(200, { 'docker-content-digest': other, 'content-type': MediaType.OCI_MANIFEST, 'content-length': '10' }),
    );
    const repo = remoteRepository(createRegistryClient({ fetch: f }), 'reg.io/a');
    await expect(repo.resolve(mdigest)).toRejectWithCode('ERR_DIGEST_MISMATCH');
  });
});

describe('error messages name references as written', () => {
  async function messageOf(p: Promise<unknown>): Promise<string> {
    try {
      await p;
    } catch (e) {
      return (e as Error).message;
    }
    return '';
  }

  it('repo@sha256:… for a digest, repo:tag for a tag (resolve and manifest push)', async () => {
    const { f } = fakeFetch(() => response(404));
    const repo = remoteRepository(createRegistryClient({ fetch: f, retry: { retries: 0 } }), 'reg.io/a');
    expect(await messageOf(repo.resolve(mdigest))).toMatch(new RegExp(`^resolving reg\\.io/a@${mdigest}: not found`));
    expect(await messageOf(repo.resolve('v1'))).toMatch(/^resolving reg\.io\/a:v1: not found/);
    const { f: put } = fakeFetch(() => response(400));
    const target = remoteRepository(createRegistryClient({ fetch: put, retry: { retries: 0 } }), 'reg.io/a');
    expect(await messageOf(target.pushManifest(MediaType.OCI_MANIFEST, manifest))).toMatch(
      new RegExp(`^pushing manifest reg\\.io/a@${mdigest}: unexpected HTTP 400`),
    );
    expect(await messageOf(target.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: 'v2' }))).toMatch(
      /^pushing manifest reg\.io\/a:v2: unexpected HTTP 400/,
    );
  });
});
