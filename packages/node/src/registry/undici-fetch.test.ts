/**
 * undiciFetch as a transport, through a fault-injecting proxy in front of the in-repo fake
 * registry: it never follows a redirect itself (the registry client does, dropping credentials on
 * another host), and a body cut short is an error the registry client maps to ERR_NETWORK and
 * retries.
 */
import { type Descriptor, utf8 } from '@vouch/core';
import { readLimited } from '@vouch/core/internal';
import { createRegistryClient, remoteRepository } from '@vouch/registry';
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

async function proxy(rules: Parameters<typeof startFaultProxy>[1]) {
  const p = await startFaultProxy(fake.url, rules);
  cleanups.push(() => p.stop());
  return p;
}

describe('undiciFetch', () => {
  it('hands a redirect to the caller instead of following it, headers included', async () => {
    const front = await proxy([{ method: 'GET', path: /\/blobs\//, action: { redirectTo: 'http://127.0.0.1:9' } }]);
    const path = `/v2/faults/app/blobs/${envelope.digest}`;
    const res = await http(`${front.url}${path}`, { method: 'GET', redirect: 'manual' });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe(`http://127.0.0.1:9${path}`);
    await res.body?.cancel();
  });

  it('fails reading a body cut short, which the registry client retries, then reports as ERR_NETWORK', async () => {
    const cut = await proxy([{ method: 'GET', path: /\/blobs\//, times: 2, action: { truncate: true } }]);
    const res = await http(`${cut.url}/v2/faults/app/blobs/${envelope.digest}`, { method: 'GET' });
    expect(res.status).toBe(200);
    await expect(readLimited(res, 1024, 'blob')).rejects.toThrow();
    // the second cut goes to the client, which retries and gets the whole body
    const client = createRegistryClient({ fetch: http, cache: false, retry: { minDelayMs: 1, maxDelayMs: 5 } });
    expect(await remoteRepository(client, `${cut.host}/faults/app`).fetchBlob(envelope)).toEqual(utf8('fault envelope'));
    expect(cut.log.filter((l) => l.path.includes('/blobs/'))).toHaveLength(3);
    const always = await proxy([{ method: 'GET', path: /\/blobs\//, times: Number.POSITIVE_INFINITY, action: { truncate: true } }]);
    const repo = remoteRepository(
      createRegistryClient({ fetch: http, cache: false, retry: { minDelayMs: 1, maxDelayMs: 5 } }),
      `${always.host}/faults/app`,
    );
    await expect(repo.fetchBlob(envelope)).toRejectWithCode('ERR_NETWORK');
  });
});
