/**
 * remoteRepository over real HTTP: a real CNCF distribution registry (Debian `docker-registry`,
 * no Referrers API) with basic and token auth, the in-repo fake registry with the Referrers API,
 * and a fault-injecting proxy. The transport is the runtime's own `fetch`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotation, type Descriptor, digestOf, type FetchLike, fetchLike, MediaType, utf8 } from '@vouch/core';
import { referenceScope } from '@vouch/core/internal';
import { collectPages as collect, pushTestSignature, pushTestImage as seedImage } from '@vouch/testing';
import {
  type RunningRegistry,
  requireTool,
  startFakeRegistry,
  startFaultProxy,
  startRegistry,
  startTokenServer,
} from '@vouch/testing/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referrersTag } from '../content.js';
import type { WritableRepository } from '../types.js';
import { staticCredentials } from './auth.js';
import { createRegistryClient, type RegistryClientOptions } from './client.js';
import { remoteRepository } from './remote.js';

const hasRegistry = requireTool('docker-registry', 'the real-registry tests need CNCF distribution');
const hasHtpasswd = hasRegistry && requireTool('htpasswd', 'the basic-auth registry test needs htpasswd');
const hasOpenssl = hasRegistry && requireTool('openssl', 'the token-auth registry test needs openssl');

const http: FetchLike = fetchLike();
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

function client(extra: Partial<RegistryClientOptions> = {}) {
  return createRegistryClient({ fetch: http, retry: { minDelayMs: 1, maxDelayMs: 5 }, timeoutMs: 10_000, ...extra });
}

/** Push a signature (fake envelope bytes) for `subject`, as notation lays it out. */
async function pushSignature(repo: WritableRepository, subject: Descriptor, envelope: string) {
  const { manifest, envelope: env } = await pushTestSignature(repo, subject, envelope);
  return { desc: manifest, env };
}

describe.skipIf(!hasRegistry)('remote repository against CNCF distribution (docker-registry)', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
    cleanups.push(() => reg.stop());
  });

  it('pushes and fetches: resolve by tag and digest, manifests and blobs verified', async () => {
    const c = client();
    const repo = remoteRepository(c, `${reg.host}/demo/app`);
    const image = await seedImage(repo, 'v1');
    expect(await repo.resolve('v1')).toEqual(image);
    expect(await repo.resolve(`${reg.host}/demo/app:v1`)).toEqual(image);
    const { bytes } = await repo.fetchManifest(image);
    expect(digestOf(bytes)).toBe(image.digest);
    const manifest = JSON.parse(new TextDecoder().decode(bytes));
    expect(new TextDecoder().decode(await repo.fetchBlob(manifest.layers[0]))).toBe('layer v1');
    await expect(repo.resolve('missing')).toRejectWithCode('ERR_REGISTRY_NOT_FOUND');
    expect(await repo.listTags()).toEqual(['v1']);
  });

  it('writes and reads the referrers tag schema, cleaning up the superseded index', async () => {
    const c = client({ referrersCacheTtlMs: 0 });
    const repo = remoteRepository(c, `${reg.host}/demo/signed`);
    const image = await seedImage(repo, 'v1');
    const a = await pushSignature(repo, image, 'envelope-a');
    const firstIndex = await repo.resolve(referrersTag(image.digest));
    const b = await pushSignature(repo, image, 'envelope-b');
    // the index lives under the sha256-<hex> tag and lists both, in push order
    const index = await repo.fetchManifest(referrersTag(image.digest));
    const listed = JSON.parse(new TextDecoder().decode(index.bytes)).manifests.map((d: Descriptor) => d.digest);
    expect(listed).toEqual([a.desc.digest, b.desc.digest]);
    // the superseded index (only a) was deleted, as notation does
    expect(firstIndex.digest).not.toBe(index.descriptor.digest);
    await expect(remoteRepository(client({ cache: false }), `${reg.host}/demo/signed`).fetchManifest(firstIndex)).toRejectWithCode(
      'ERR_REGISTRY_NOT_FOUND',
    );
    // a fresh client (no caches) lists both through the fallback
    const fresh = remoteRepository(client(), `${reg.host}/demo/signed`);
    const sigs = await collect(fresh.referrers(image, { artifactType: MediaType.NOTARY_SIGNATURE }));
    expect(sigs.map((s) => s.digest)).toEqual([a.desc.digest, b.desc.digest]);
    expect(sigs[0]!.artifactType).toBe(MediaType.NOTARY_SIGNATURE);
    expect(sigs[0]!.annotations?.[Annotation.THUMBPRINT_S256]).toBe('[]');
    expect(await collect(fresh.referrers(image, { artifactType: 'application/vnd.example' }))).toEqual([]);
    // pushing the same signature again leaves the index as it is
    await repo.pushManifest(MediaType.OCI_MANIFEST, (await repo.fetchManifest(b.desc)).bytes);
    expect((await repo.resolve(referrersTag(image.digest))).digest).toBe(index.descriptor.digest);
  });

  it('keeps both signatures when two writers sign one image in parallel', async () => {
    const repoName = `${reg.host}/demo/race`;
    const seedRepo = remoteRepository(client(), repoName);
    const image = await seedImage(seedRepo, 'v1');
    for (let round = 0; round < 3; round++) {
      // separate clients: no shared caches or locks, like two CI jobs
      const writers = [0, 1, 2].map(() => remoteRepository(client({ referrersCacheTtlMs: 0 }), repoName, { referrersIndexSettleMs: 100 }));
      const pushed = await Promise.all(writers.map((w, i) => pushSignature(w, image, `round ${round} writer ${i}`)));
      const reader = remoteRepository(client(), repoName);
      const sigs = await collect(reader.referrers(image, { artifactType: MediaType.NOTARY_SIGNATURE }));
      for (const p of pushed) expect(sigs.map((s) => s.digest)).toContain(p.desc.digest);
    }
  });

  it('serves a second verification of the same digest from the cache (zero requests)', async () => {
    const c = client();
    const repo = remoteRepository(c, `${reg.host}/demo/cache`);
    const image = await seedImage(repo, 'v1');
    const { env } = await pushSignature(repo, image, 'cached-envelope');
    const verifyLike = async () => {
      const d = await repo.resolve(image.digest);
      const sigs = await collect(repo.referrers(d, { artifactType: MediaType.NOTARY_SIGNATURE }));
      const { bytes } = await repo.fetchManifest(sigs[0]!);
      expect(digestOf(bytes)).toBe(sigs[0]!.digest);
      return repo.fetchBlob(env);
    };
    await verifyLike();
    const before = c.stats().requests;
    await verifyLike();
    expect(c.stats().requests).toBe(before);
  });

  it('shares one request between identical concurrent reads (single-flight)', async () => {
    const c = client({ cache: false });
    const repo = remoteRepository(c, `${reg.host}/demo/flight`);
    const image = await seedImage(repo, 'v1');
    const before = c.stats().requests;
    const results = await Promise.all(Array.from({ length: 8 }, () => repo.fetchManifest(image)));
    expect(c.stats().requests - before).toBe(1);
    expect(new Set(results.map((r) => digestOf(r.bytes)))).toEqual(new Set([image.digest]));
  });

  it('mounts a blob from another repository of the same registry', async () => {
    const c = client();
    const a = remoteRepository(c, `${reg.host}/demo/mount-a`);
    const b = remoteRepository(c, `${reg.host}/demo/mount-b`);
    const blob = await a.pushBlob('application/octet-stream', utf8('shared blob'));
    expect(await b.blobExists(blob)).toBe(false);
    await b.pushBlob('application/octet-stream', utf8('shared blob'));
    expect(await b.blobExists(blob)).toBe(true);
  });

  it('uploads large blobs in chunks', async () => {
    const repo = remoteRepository(client(), `${reg.host}/demo/chunks`, { chunkThresholdBytes: 1000, chunkSizeBytes: 700 });
    const big = new Uint8Array(5000).map((_, i) => i % 251);
    const d = await repo.pushBlob('application/octet-stream', big);
    const fresh = remoteRepository(client(), `${reg.host}/demo/chunks`);
    expect(await fresh.fetchBlob(d)).toEqual(big);
  });

  it('honours an AbortSignal', async () => {
    const repo = remoteRepository(client(), `${reg.host}/demo/app`);
    const ac = new AbortController();
    ac.abort();
    await expect(repo.resolve('v1', { signal: ac.signal })).toRejectWithCode('ERR_ABORTED');
  });
});

describe.skipIf(!hasHtpasswd)('basic auth (htpasswd)', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ htpasswd: { user: 'testuser', password: 'testpassword' } });
    cleanups.push(() => reg.stop());
  });

  it('pushes and pulls with credentials, and fails typed without or with wrong ones', async () => {
    const good = remoteRepository(
      client({ credentials: staticCredentials({ [reg.host]: { username: 'testuser', password: 'testpassword' } }) }),
      `${reg.host}/private/app`,
    );
    const image = await seedImage(good, 'v1');
    expect((await good.resolve('v1')).digest).toBe(image.digest);
    const anon = remoteRepository(client(), `${reg.host}/private/app`);
    await expect(anon.resolve('v1')).toRejectWithCode('ERR_REGISTRY_UNAUTHORIZED');
    const wrong = remoteRepository(
      client({ credentials: staticCredentials({ [reg.host]: { username: 'testuser', password: 'nope' } }) }),
      `${reg.host}/private/app`,
    );
    await expect(wrong.resolve('v1')).toRejectWithCode('ERR_REGISTRY_UNAUTHORIZED');
  });
});

describe.skipIf(!hasOpenssl)('token auth (Bearer)', () => {
  it('gets tokens per scope, reuses them, and pushes/pulls', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vouch-token-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const tokens = await startTokenServer({ dir, users: { testuser: 'testpassword' } });
    cleanups.push(() => tokens.stop());
    const reg = await startRegistry({
      token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certPath },
    });
    cleanups.push(() => reg.stop());
    const c = client({ credentials: staticCredentials({ [reg.host]: { username: 'testuser', password: 'testpassword' } }) });
    const repo = remoteRepository(c, `${reg.host}/tok/app`);
    const image = await seedImage(repo, 'v1');
    await pushSignature(repo, image, 'token envelope');
    const tokenRequestsAfterPush = c.stats().tokenRequests;
    expect(tokenRequestsAfterPush).toBeGreaterThan(0);
    // reads reuse the pull token
    await repo.resolve('v1');
    await repo.resolve('v1');
    const pulls = tokens.requests.filter((r) => r.scopes.join(' ') === 'repository:tok/app:pull').length;
    expect(pulls).toBeLessThanOrEqual(1);
    // anonymous users get pull-only tokens: a push fails typed
    const anon = remoteRepository(client(), `${reg.host}/tok/app`);
    expect((await anon.resolve('v1')).digest).toBe(image.digest);
    await expect(anon.pushBlob('application/octet-stream', utf8('nope'))).toRejectWithCode('ERR_REGISTRY_UNAUTHORIZED');
    expect(referenceScope({ registry: reg.host, repository: 'tok/app' })).toBe(`${reg.host}/tok/app`);
  });
});

describe('Referrers API (in-memory registry following the distribution spec)', () => {
  it('lists with pagination, filters client-side unless OCI-Filters-Applied, and skips the tag schema on OCI-Subject', async () => {
    for (const applyFilters of [false, true]) {
      const fake = await startFakeRegistry({ pageSize: 2, applyFilters });
      cleanups.push(() => fake.stop());
      const repo = remoteRepository(client({ referrersCacheTtlMs: 0 }), `${fake.host}/api/app`);
      const image = await seedImage(repo, 'v1');
      const sigs = [];
      for (let i = 0; i < 5; i++) sigs.push((await pushSignature(repo, image, `env ${i}`)).desc.digest);
      // another artifact type referring to the image
      const sbom = utf8(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OCI_MANIFEST,
          artifactType: 'application/vnd.example.sbom',
          config: { mediaType: MediaType.OCI_EMPTY, digest: digestOf(utf8('{}')), size: 2 },
          layers: [],
          subject: image,
        }),
      );
      await repo.pushManifest(MediaType.OCI_MANIFEST, sbom);
      // OCI-Subject was answered: no tag-schema index was written
      expect(fake.requests.some((r) => r.includes(referrersTag(image.digest)))).toBe(false);
      const pages: Descriptor[][] = [];
      for await (const p of repo.referrers(image, { artifactType: MediaType.NOTARY_SIGNATURE })) pages.push(p);
      expect(pages.flat().map((d) => d.digest)).toEqual(sigs);
      expect(pages.length).toBeGreaterThan(1);
      expect(await collect(repo.referrers(image))).toHaveLength(6);
      expect(fake.requests.filter((r) => r.startsWith('GET /v2/api/app/referrers/')).length).toBeGreaterThanOrEqual(3);
    }
  });

  it('falls back to the tag schema when the API answers 404 (and remembers it)', async () => {
    const fake = await startFakeRegistry({ referrersApi: false });
    cleanups.push(() => fake.stop());
    const c = client({ referrersCacheTtlMs: 0 });
    const repo = remoteRepository(c, `${fake.host}/fb/app`);
    const image = await seedImage(repo, 'v1');
    const { desc } = await pushSignature(repo, image, 'fallback env');
    expect((await collect(repo.referrers(image))).map((d) => d.digest)).toEqual([desc.digest]);
    expect((await collect(repo.referrers(image))).map((d) => d.digest)).toEqual([desc.digest]);
    expect(fake.requests.filter((r) => r.includes('/referrers/')).length).toBe(1);
  });

  it('writes the tag schema too when forced (notation --force-referrers-tag)', async () => {
    const fake = await startFakeRegistry();
    cleanups.push(() => fake.stop());
    const repo = remoteRepository(client(), `${fake.host}/force/app`, { forceReferrersTag: true, referrersIndexSettleMs: 1 });
    const image = await seedImage(repo, 'v1');
    const { desc } = await pushSignature(repo, image, 'forced');
    const index = await repo.fetchManifest(referrersTag(image.digest));
    expect(new TextDecoder().decode(index.bytes)).toContain(desc.digest);
  });
});

describe.skipIf(!hasRegistry)('fault injection (proxy in front of the real registry)', () => {
  let reg: RunningRegistry;
  let image: Descriptor;
  let envelope: Descriptor;
  beforeAll(async () => {
    reg = await startRegistry();
    cleanups.push(() => reg.stop());
    const repo = remoteRepository(client(), `${reg.host}/faults/app`);
    image = await seedImage(repo, 'v1');
    envelope = (await pushSignature(repo, image, 'fault envelope')).env;
  });

  async function viaProxy(rules: Parameters<typeof startFaultProxy>[1], extra: Partial<RegistryClientOptions> = {}) {
    const proxy = await startFaultProxy(reg.url, rules);
    cleanups.push(() => proxy.stop());
    const c = client({ cache: false, ...extra });
    return { proxy, c, repo: remoteRepository(c, `${proxy.host}/faults/app`) };
  }

  it('retries 5xx then succeeds', async () => {
    const { repo, proxy } = await viaProxy([{ path: /\/manifests\//, times: 2, action: { status: 503 } }]);
    expect((await repo.fetchManifest(image)).descriptor).toEqual(image);
    expect(proxy.log.filter((l) => l.fault === 'status')).toHaveLength(2);
  });

  it('gives up with ERR_REGISTRY_HTTP after the retries', async () => {
    const { repo } = await viaProxy([{ path: /\/manifests\//, times: Number.POSITIVE_INFINITY, action: { status: 500 } }]);
    await expect(repo.fetchManifest(image)).toRejectWithCode('ERR_REGISTRY_HTTP');
  });

  it('honours 429 Retry-After', async () => {
    const waits: number[] = [];
    const { repo } = await viaProxy([{ path: /\/blobs\//, action: { status: 429, headers: { 'retry-after': '2' } } }], {
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(await repo.fetchBlob(envelope)).toEqual(utf8('fault envelope'));
    expect(waits).toEqual([2000]);
    const { repo: r2 } = await viaProxy([{ path: /\/blobs\//, action: { status: 429, headers: { 'retry-after': '3600' } } }]);
    await expect(r2.fetchBlob(envelope)).toRejectWithCode('ERR_REGISTRY_HTTP');
  });

  it('recovers from a truncated body by retrying, never using the partial bytes', async () => {
    const { repo, proxy } = await viaProxy([{ method: 'GET', path: /\/blobs\//, action: { truncate: true } }]);
    expect(await repo.fetchBlob(envelope)).toEqual(utf8('fault envelope'));
    expect(proxy.log.filter((l) => l.path.includes('/blobs/')).length).toBe(2);
    const { repo: always } = await viaProxy([
      { method: 'GET', path: /\/blobs\//, times: Number.POSITIVE_INFINITY, action: { truncate: true } },
    ]);
    await expect(always.fetchBlob(envelope)).toRejectWithCode('ERR_NETWORK');
  });

  it('rejects blob bytes that do not match the digest', async () => {
    const { repo } = await viaProxy([{ method: 'GET', path: /\/blobs\//, action: { corrupt: true } }]);
    await expect(repo.fetchBlob(envelope)).toRejectWithCode('ERR_DIGEST_MISMATCH');
    const { repo: m } = await viaProxy([{ method: 'GET', path: /\/manifests\/sha256:/, action: { corrupt: true } }]);
    await expect(m.fetchManifest(image)).toRejectWithCode('ERR_DIGEST_MISMATCH');
  });

  it('stops reading an oversized manifest (declared or streamed)', async () => {
    const { repo } = await viaProxy([{ method: 'GET', path: /\/manifests\/v1/, action: { oversize: 5 * 1024 * 1024 } }]);
    await expect(repo.fetchManifest('v1')).toRejectWithCode('ERR_SIZE_LIMIT_EXCEEDED');
    const { repo: r2 } = await viaProxy([
      { method: 'GET', path: /\/manifests\/v1/, action: { oversize: 5 * 1024 * 1024, contentLength: false } },
    ]);
    await expect(r2.fetchManifest('v1')).toRejectWithCode('ERR_SIZE_LIMIT_EXCEEDED');
  });

  it('follows a redirect to another host without the credentials', async () => {
    const other = await startFaultProxy(reg.url);
    cleanups.push(() => other.stop());
    const proxy = await startFaultProxy(reg.url, [
      { method: 'GET', path: /\/blobs\//, times: Number.POSITIVE_INFINITY, action: { redirectTo: other.url } },
    ]);
    cleanups.push(() => proxy.stop());
    const repo = remoteRepository(
      client({ cache: false, credentials: staticCredentials({ [proxy.host]: { registryToken: 'super-secret-token' } }) }),
      `${proxy.host}/faults/app`,
    );
    expect(await repo.fetchBlob(envelope)).toEqual(utf8('fault envelope'));
    expect(proxy.log.some((l) => l.authorization === 'Bearer super-secret-token')).toBe(true);
    expect(other.log.filter((l) => l.path.includes('/blobs/'))).toHaveLength(1);
    expect(other.log.every((l) => l.authorization === undefined)).toBe(true);
  });

  it('refuses a redirect from https-less hosts to a non-insecure http host', async () => {
    const proxy = await startFaultProxy(reg.url, [
      { method: 'GET', path: /\/blobs\//, action: { redirectTo: 'http://registry.example.invalid' } },
    ]);
    cleanups.push(() => proxy.stop());
    const repo = remoteRepository(client({ cache: false, retry: { retries: 0 } }), `${proxy.host}/faults/app`);
    await expect(repo.fetchBlob(envelope)).toRejectWithCode('ERR_REGISTRY_HTTP');
  });
});
