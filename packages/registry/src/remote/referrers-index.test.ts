/**
 * The referrers tag-schema index read-modify-write (addToReferrersIndex) and when a push maintains
 * it (forceReferrersTag), over HTTP against the in-repo fake registry. Concurrent writers are
 * staged deterministically by a transport that lands a rival PUT at a chosen moment; the last
 * test runs real parallel writers.
 */
import {
  Annotation,
  type Descriptor,
  digestOf,
  type FetchInit,
  type FetchLike,
  type FetchResponse,
  fetchLike,
  type Logger,
  MediaType,
  utf8,
} from '@vouch/core';
import { collectPages, pushTestImage } from '@vouch/testing';
import { type RunningFakeRegistry, startFakeRegistry } from '@vouch/testing/registry';
import { afterAll, describe, expect, it } from 'vitest';
import { referrersTag } from '../content.js';
import { buildIndex, buildSignatureManifest } from '../manifest.js';
import type { WritableRepository } from '../types.js';
import { createRegistryClient, type RegistryClientOptions } from './client.js';
import { createRepoContext, type RemoteRepositoryOptions, type RepoContext } from './context.js';
import { readReferrersIndex } from './read.js';
import { addToReferrersIndex } from './referrers-index.js';
import { remoteRepository } from './remote.js';

const http: FetchLike = fetchLike();
const fakes: RunningFakeRegistry[] = [];
afterAll(async () => {
  for (const f of fakes) await f.stop();
});

async function fakeRegistry(options: Parameters<typeof startFakeRegistry>[0] = {}): Promise<RunningFakeRegistry> {
  const f = await startFakeRegistry(options);
  fakes.push(f);
  return f;
}

/** A referrer descriptor (the index does not need the manifest to exist). */
function referrer(name: string): Descriptor {
  const bytes = utf8(`referrer ${name}`);
  return { mediaType: MediaType.OCI_MANIFEST, digest: digestOf(bytes), size: bytes.length, artifactType: MediaType.NOTARY_SIGNATURE };
}

const subject = referrer('subject');
const tag = referrersTag(subject.digest);

/** Records log lines by level. */
function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => {
    lines.push({ level, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

interface Exchange {
  method: string;
  path: string;
}

/**
 * A transport that records every exchange and lets a test act around one: `before` runs before
 * the request is sent and may answer it instead; `after` runs once the answer arrived.
 */
function staged(hooks: {
  before?: (x: Exchange, n: number) => Promise<FetchResponse | undefined> | FetchResponse | undefined;
  after?: (x: Exchange, n: number) => Promise<void> | void;
}): { fetch: FetchLike; log: Exchange[] } {
  const log: Exchange[] = [];
  const f = async (url: string, init: FetchInit = {}) => {
    const x = { method: init.method ?? 'GET', path: decodeURIComponent(new URL(url).pathname) };
    log.push(x);
    const n = log.filter((y) => y.method === x.method && y.path === x.path).length;
    const answered = await hooks.before?.(x, n);
    if (answered) return answered;
    const res = await http(url, init);
    await hooks.after?.(x, n);
    return res;
  };
  return { fetch: f, log };
}

/** A repository context over `fetch` (fast retries, short settle pause). */
function context(
  fake: RunningFakeRegistry,
  fetch: FetchLike,
  extra: Partial<RegistryClientOptions> = {},
  settings: RemoteRepositoryOptions = {},
): RepoContext {
  const client = createRegistryClient({ fetch, retry: { minDelayMs: 1, maxDelayMs: 5 }, ...extra });
  return createRepoContext(client, fake.host, 'idx/app', { referrersIndexSettleMs: 5, ...settings });
}

/** Another writer: PUT an index listing `entries` under the subject's tag; resolves its digest. */
async function rivalWrite(fake: RunningFakeRegistry, entries: Descriptor[]): Promise<string> {
  const bytes = buildIndex(entries);
  const res = await http(`${fake.url}/v2/idx/app/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'content-type': MediaType.OCI_INDEX },
    body: bytes,
  });
  expect(res.status).toBe(201);
  return digestOf(bytes);
}

async function listed(fake: RunningFakeRegistry): Promise<string[]> {
  const index = await readReferrersIndex(context(fake, http), tag);
  return (index?.manifests ?? []).map((d) => d.digest);
}

const tagPath = `/v2/idx/app/manifests/${tag}`;
const isTagPut = (x: Exchange) => x.method === 'PUT' && x.path === tagPath;

describe('addToReferrersIndex', () => {
  it('creates the index, and writes nothing when the entry is listed already', async () => {
    const fake = await fakeRegistry();
    const a = referrer('a');
    const first = staged({});
    await addToReferrersIndex(context(fake, first.fetch), subject, a);
    expect(await listed(fake)).toEqual([a.digest]);
    expect(first.log.filter(isTagPut)).toHaveLength(1);
    // nothing was superseded: nothing is deleted
    expect(first.log.some((x) => x.method === 'DELETE')).toBe(false);
    const again = staged({});
    await addToReferrersIndex(context(fake, again.fetch), subject, a);
    expect(again.log.filter((x) => x.method === 'PUT' || x.method === 'DELETE')).toEqual([]);
  });

  it('appends to the entries present and deletes the index it replaced', async () => {
    const fake = await fakeRegistry();
    const x = referrer('x');
    const a = referrer('a');
    const old = await rivalWrite(fake, [x]);
    const { fetch, log } = staged({});
    await addToReferrersIndex(context(fake, fetch), subject, a);
    expect(await listed(fake)).toEqual([x.digest, a.digest]);
    expect(log.filter((e) => e.method === 'DELETE')).toEqual([{ method: 'DELETE', path: `/v2/idx/app/manifests/${old}` }]);
    expect((await http(`${fake.url}/v2/idx/app/manifests/${old}`, { method: 'GET' })).status).toBe(404);
  });

  it('merges again when a concurrent writer replaced the index without the entry (seen at once)', async () => {
    const fake = await fakeRegistry();
    const a = referrer('a');
    const r = referrer('rival');
    let rivalIndex = '';
    // the rival read the empty index too, and its PUT lands just after ours
    const { fetch, log } = staged({
      after: async (x, n) => {
        if (isTagPut(x) && n === 1) rivalIndex = await rivalWrite(fake, [r]);
      },
    });
    const logger = recordingLogger();
    await addToReferrersIndex(context(fake, fetch, { logger }), subject, a);
    expect(await listed(fake)).toEqual([r.digest, a.digest]);
    expect(log.filter(isTagPut)).toHaveLength(2);
    expect(logger.lines).toContainEqual({ level: 'debug', message: expect.stringContaining('lost our entry') });
    // the rival's index is superseded by the merge and deleted
    expect(log.filter((e) => e.method === 'DELETE')).toEqual([{ method: 'DELETE', path: `/v2/idx/app/manifests/${rivalIndex}` }]);
  });

  it('merges again when the rival write lands during the pause before the second read-back', async () => {
    const fake = await fakeRegistry();
    const a = referrer('a');
    const r = referrer('late rival');
    let pauses = 0;
    const { fetch, log } = staged({});
    const ctx = context(fake, fetch, {
      sleep: async () => {
        // the first pause is the settle pause after a read-back that still listed the entry
        if (++pauses === 1) await rivalWrite(fake, [r]);
      },
    });
    await addToReferrersIndex(ctx, subject, a);
    expect(await listed(fake)).toEqual([r.digest, a.digest]);
    expect(log.filter(isTagPut)).toHaveLength(2);
    // read-backs: after the first PUT (twice, the second one losing), after the second PUT (twice)
    expect(log.filter((x) => x.method === 'GET' && x.path === tagPath).length).toBeGreaterThanOrEqual(5);
  });

  it('gives up with ERR_PUSH_SIGNATURE_FAILED after referrersIndexAttempts when every write is lost', async () => {
    const fake = await fakeRegistry();
    const a = referrer('a');
    let rivals = 0;
    const { fetch, log } = staged({
      after: async (x) => {
        if (isTagPut(x)) await rivalWrite(fake, [referrer(`rival ${rivals++}`)]);
      },
    });
    const ctx = context(fake, fetch, {}, { referrersIndexAttempts: 3 });
    const err = await addToReferrersIndex(ctx, subject, a).catch((e: unknown) => e);
    expect(err).toBeVouchError('ERR_PUSH_SIGNATURE_FAILED');
    expect((err as Error).message).toMatch(/after 3 attempts \(concurrent writers\); retry the push/);
    // one PUT per attempt, and nothing deleted when the entry never stayed
    expect(log.filter(isTagPut)).toHaveLength(3);
    expect(log.filter((x) => x.method === 'DELETE')).toEqual([]);
  });

  it('does not delete a superseded index that the tag names again (that would delete the tag)', async () => {
    const fake = await fakeRegistry();
    const x = referrer('x');
    const a = referrer('a');
    const old = await rivalWrite(fake, [x]);
    // GETs of the tag: the read, two read-backs, then the final read before deleting; a rival
    // restores the old index just before that last one
    const { fetch, log } = staged({
      before: async (e, n) => {
        if (e.method === 'GET' && e.path === tagPath && n === 4) await rivalWrite(fake, [x]);
        return undefined;
      },
    });
    await addToReferrersIndex(context(fake, fetch), subject, a);
    expect(log.filter((e) => e.method === 'DELETE')).toEqual([]);
    expect((await readReferrersIndex(context(fake, http), tag))?.descriptor.digest).toBe(old);
  });

  it('only warns when the registry refuses to delete the superseded index', async () => {
    const fake = await fakeRegistry();
    const a = referrer('a');
    const old = await rivalWrite(fake, [referrer('x')]);
    const { fetch } = staged({
      before: (e) => (e.method === 'DELETE' ? new Response(null, { status: 405 }) : undefined),
    });
    const logger = recordingLogger();
    await addToReferrersIndex(context(fake, fetch, { logger, retry: { retries: 0 } }), subject, a);
    expect(await listed(fake)).toContain(a.digest);
    expect(logger.lines).toContainEqual({
      level: 'warn',
      message: `the superseded referrers index ${fake.host}/idx/app@${old} could not be deleted; garbage collection may be required`,
    });
  });

  it('keeps every entry when writers with their own clients add to one index in parallel', async () => {
    const fake = await fakeRegistry();
    for (let round = 0; round < 3; round++) {
      const entries = [0, 1, 2, 3].map((i) => referrer(`round ${round} writer ${i}`));
      // separate clients: no shared caches or single-flight, like parallel CI jobs
      await Promise.all(entries.map((e) => addToReferrersIndex(context(fake, http, {}, { referrersIndexSettleMs: 40 }), subject, e)));
      const now = await listed(fake);
      for (const e of entries) expect(now).toContain(e.digest);
    }
  });
});

/** Push the blobs of a signature of `image` and resolve its manifest bytes (not pushed). */
async function signatureManifest(repo: WritableRepository, image: Descriptor, text: string): Promise<Uint8Array> {
  const envelope = await repo.pushBlob(MediaType.JWS, utf8(text));
  await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  return buildSignatureManifest({ subject: image, envelopeDescriptor: envelope, annotations: { [Annotation.THUMBPRINT_S256]: '[]' } })
    .bytes;
}

describe('pushManifest and the tag-schema index (forceReferrersTag)', () => {
  const indexRequests = (fake: RunningFakeRegistry, image: Descriptor) =>
    fake.requests.filter((r) => r.includes(`/manifests/${referrersTag(image.digest)}`));

  it('on a registry with the Referrers API: the index only when forced, per repository or per push', async () => {
    const fake = await fakeRegistry();
    const plain = remoteRepository(createRegistryClient({ fetch: http }), `${fake.host}/force/app`, { referrersIndexSettleMs: 1 });
    const image = await pushTestImage(plain, 'v1');
    // OCI-Subject answered and not forced: no index
    const first = await plain.pushManifest(MediaType.OCI_MANIFEST, await signatureManifest(plain, image, 'one'));
    expect(indexRequests(fake, image)).toEqual([]);
    // forced for this push
    const second = await plain.pushManifest(MediaType.OCI_MANIFEST, await signatureManifest(plain, image, 'two'), {
      forceReferrersTag: true,
    });
    expect(indexRequests(fake, image).some((r) => r.startsWith('PUT '))).toBe(true);
    const forcedRepo = remoteRepository(createRegistryClient({ fetch: http }), `${fake.host}/force/app`, {
      forceReferrersTag: true,
      referrersIndexSettleMs: 1,
    });
    const third = await forcedRepo.pushManifest(MediaType.OCI_MANIFEST, await signatureManifest(forcedRepo, image, 'three'));
    // the per-push option wins over the repository's
    const before = indexRequests(fake, image).length;
    await forcedRepo.pushManifest(MediaType.OCI_MANIFEST, await signatureManifest(forcedRepo, image, 'four'), { forceReferrersTag: false });
    expect(indexRequests(fake, image)).toHaveLength(before);
    const index = await forcedRepo.fetchManifest(referrersTag(image.digest));
    const inIndex = JSON.parse(new TextDecoder().decode(index.bytes)).manifests.map((d: Descriptor) => d.digest);
    expect(inIndex).toEqual([second.digest, third.digest]);
    expect(inIndex).not.toContain(first.digest);
  });

  it('on a registry without the Referrers API: the index always, and the signature is found through it', async () => {
    const fake = await fakeRegistry({ referrersApi: false });
    const repo = remoteRepository(createRegistryClient({ fetch: http, referrersCacheTtlMs: 0 }), `${fake.host}/noapi/app`, {
      referrersIndexSettleMs: 1,
    });
    const image = await pushTestImage(repo, 'v1');
    const sig = await repo.pushManifest(MediaType.OCI_MANIFEST, await signatureManifest(repo, image, 'fallback'), {
      forceReferrersTag: false,
    });
    expect((await collectPages(repo.referrers(image))).map((d) => d.digest)).toEqual([sig.digest]);
    expect(indexRequests(fake, image).some((r) => r.startsWith('PUT '))).toBe(true);
  });

  it('reports a failed index update as ERR_PUSH_SIGNATURE_FAILED with the cause', async () => {
    const fake = await fakeRegistry({ referrersApi: false });
    const { fetch } = staged({
      before: (e) =>
        e.method === 'PUT' && e.path.includes('/manifests/sha256-')
          ? new Response('{"errors":[{"code":"DENIED"}]}', { status: 403 })
          : undefined,
    });
    const repo = remoteRepository(createRegistryClient({ fetch, retry: { retries: 0 } }), `${fake.host}/denied/app`);
    const image = await pushTestImage(repo, 'v1');
    const err = await repo.pushManifest(MediaType.OCI_MANIFEST, await signatureManifest(repo, image, 'denied')).catch((e: unknown) => e);
    expect(err).toBeVouchError('ERR_PUSH_SIGNATURE_FAILED');
    expect((err as Error).message).toMatch(new RegExp(`^updating the referrers index of ${image.digest} failed: `));
    expect((err as Error).cause).toBeVouchError('ERR_REGISTRY_UNAUTHORIZED');
    await expect(repo.fetchManifest(referrersTag(image.digest))).toRejectWithCode('ERR_REGISTRY_NOT_FOUND');
  });
});
