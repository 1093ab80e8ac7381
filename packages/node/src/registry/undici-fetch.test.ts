/**
 * undiciFetch as the registry client's transport, through a fault-injecting proxy in front of the
 * in-repo fake registry: redirects reach the client (which drops credentials on another host),
 * a cut body is a network error the client retries, and 429 Retry-After is honoured.
 */
import { type Descriptor, hasCode, utf8 } from '@vouch/core';
import { createRegistryClient, type RegistryClientOptions, remoteRepository, staticCredentials } from '@vouch/registry';
import { pushTestImage, pushTestSignature } from '@vouch/testing';
import { type RunningFakeRegistry, startFakeRegistry, startFaultProxy } from '@vouch/testing/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { undiciFetch } from './undici-fetch.js';

const http = undiciFetch();
const cleanups: (() => Promise<unknown>)[] = [];
let fake: RunningFakeRegistry;
let envelope: Descriptor;

beforeAll(async () => {
  fake = await startFakeRegistry();
  cleanups.push(() => fake.stop());
  const repo = remoteRepository(createRegistryClient({ fetch: http }), `${fake.host}/faults/app`);
  const image = await pushTestImage(repo, 'v1');
  envelope = (await pushTestSignature(repo, image, 'fault envelope')).envelope;
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await http.close();
});

function client(extra: Partial<RegistryClientOptions> = {}) {
  return createRegistryClient({ fetch: http, cache: false, retry: { minDelayMs: 1, maxDelayMs: 5 }, timeoutMs: 10_000, ...extra });
}

async function proxy(rules: Parameters<typeof startFaultProxy>[1]) {
  const p = await startFaultProxy(fake.url, rules);
  cleanups.push(() => p.stop());
  return p;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return hasCode(e, (e as { code: never }).code) ? (e as { code: string }).code : `not-a-vouch-error: ${e}`;
  }
  return undefined;
}

describe('undiciFetch under the registry client', () => {
  it('hands redirects to the client, which follows them to another host without the credentials', async () => {
    const other = await proxy([]);
    const front = await proxy([{ method: 'GET', path: /\/blobs\//, times: Number.POSITIVE_INFINITY, action: { redirectTo: other.url } }]);
    const repo = remoteRepository(
      client({ credentials: staticCredentials({ [front.host]: { registryToken: 'super-secret-token' } }) }),
      `${front.host}/faults/app`,
    );
    expect(await repo.fetchBlob(envelope)).toEqual(utf8('fault envelope'));
    expect(front.log.some((l) => l.authorization === 'Bearer super-secret-token')).toBe(true);
    expect(other.log.filter((l) => l.path.includes('/blobs/'))).toHaveLength(1);
    expect(other.log.every((l) => l.authorization === undefined)).toBe(true);
  });

  it('reports a cut body as a network error: retried, and ERR_NETWORK when it never completes', async () => {
    const once = await proxy([{ method: 'GET', path: /\/blobs\//, action: { truncate: true } }]);
    expect(await remoteRepository(client(), `${once.host}/faults/app`).fetchBlob(envelope)).toEqual(utf8('fault envelope'));
    expect(once.log.filter((l) => l.path.includes('/blobs/'))).toHaveLength(2);
    const always = await proxy([{ method: 'GET', path: /\/blobs\//, times: Number.POSITIVE_INFINITY, action: { truncate: true } }]);
    expect(await codeOf(remoteRepository(client(), `${always.host}/faults/app`).fetchBlob(envelope))).toBe('ERR_NETWORK');
  });

  it('passes Retry-After through to the client', async () => {
    const waits: number[] = [];
    const p = await proxy([{ path: /\/blobs\//, action: { status: 429, headers: { 'retry-after': '2' } } }]);
    const repo = remoteRepository(
      client({
        sleep: async (ms) => {
          waits.push(ms);
        },
      }),
      `${p.host}/faults/app`,
    );
    expect(await repo.fetchBlob(envelope)).toEqual(utf8('fault envelope'));
    expect(waits).toEqual([2000]);
  });
});
