import type { FetchInit, FetchResponse } from '@vouch/core';
import { describe, expect, it } from 'vitest';
import { createRegistryGuard, type RegistryRequestEvent } from './registry-guard.js';

function response(status: number, body = 'ok', headers: Record<string, string> = {}): FetchResponse {
  const bytes = new TextEncoder().encode(body);
  const h = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    status,
    headers: { get: (n: string) => h.get(n.toLowerCase()) ?? null },
    get body() {
      return new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(bytes);
          c.close();
        },
      });
    },
    arrayBuffer: async () => bytes.buffer.slice(0) as ArrayBuffer,
    text: async () => body,
  };
}

/** A transport whose answers are released by the test; counts what reached it. */
function controlled() {
  const pending: { url: string; init?: FetchInit; answer(r: FetchResponse | Error): void }[] = [];
  let calls = 0;
  const fetch = (url: string, init?: FetchInit) =>
    new Promise<FetchResponse>((resolve, reject) => {
      calls++;
      pending.push({ url, init, answer: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
    });
  return { fetch, pending, calls: () => calls };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('createRegistryGuard', () => {
  it('keeps at most maxConcurrent requests in flight per registry until their bodies are read, and refuses beyond the queue', async () => {
    const t = controlled();
    const events: RegistryRequestEvent[] = [];
    const g = createRegistryGuard({ fetch: t.fetch, maxConcurrent: 2, maxQueued: 2, observe: (e) => events.push(e) });
    const started = [1, 2, 3, 4].map(() => g.fetch('https://r.example/v2/a'));
    const other = g.fetch('https://other.example/v2/a'); // another origin has its own slots
    await tick();
    expect(t.pending.map((p) => p.url)).toEqual(['https://r.example/v2/a', 'https://r.example/v2/a', 'https://other.example/v2/a']);
    // two waiting: a fifth is refused without reaching the transport
    await expect(g.fetch('https://r.example/v2/a')).rejects.toMatchObject({ code: 'ERR_REGISTRY_HTTP', message: /2 waiting, the limit/ });
    expect(events.filter((e) => e.status === 'queue_full')).toHaveLength(1);
    t.pending[0]!.answer(response(200, 'one'));
    const first = await started[0]!;
    await tick();
    expect(t.calls()).toBe(3); // headers arrived, body not read: the slot is still held
    expect(await first.text()).toBe('one');
    await tick();
    expect(t.calls()).toBe(4);
    expect(g.stats().find((s) => s.registry === 'r.example')).toMatchObject({ inFlight: 2, peakInFlight: 2, queued: 1 });
    // a cancelled body frees the slot too
    t.pending[1]!.answer(response(200));
    await (await started[1]!).body!.cancel();
    await tick();
    expect(t.calls()).toBe(5);
    t.pending[2]!.answer(response(200));
    t.pending[3]!.answer(response(200));
    t.pending[4]!.answer(response(200));
    await Promise.all([started[2], started[3], other]);
  });

  it('a waiting request leaves the queue when its signal aborts', async () => {
    const t = controlled();
    const g = createRegistryGuard({ fetch: t.fetch, maxConcurrent: 1 });
    const a = g.fetch('https://r.example/v2/a');
    const ac = new AbortController();
    const b = g.fetch('https://r.example/v2/b', { signal: ac.signal });
    await tick();
    ac.abort();
    await expect(b).toRejectWithCode('ERR_ABORTED');
    expect(g.stats()[0]!.queued).toBe(0);
    t.pending[0]!.answer(response(200));
    await (await a).text();
    expect(g.stats()[0]!.inFlight).toBe(0);
  });

  it('opens the circuit after consecutive network failures: requests fail at once, then one probe goes through', async () => {
    let clock = 1_000_000;
    let reached = 0;
    let down = true;
    const g = createRegistryGuard({
      fetch: async () => {
        reached++;
        if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:9');
        return response(200);
      },
      failureThreshold: 3,
      initialBackoffMs: 1000,
      now: () => clock,
    });
    for (let i = 0; i < 3; i++) await expect(g.fetch('https://r.example/v2/')).rejects.toThrow(/ECONNREFUSED/);
    expect(reached).toBe(3);
    // open: 50 requests, none reaches the registry
    const refused = await Promise.allSettled(Array.from({ length: 50 }, () => g.fetch('https://r.example/v2/')));
    expect(reached).toBe(3);
    expect(refused.every((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'ERR_NETWORK')).toBe(true);
    expect(String((refused[0] as PromiseRejectedResult).reason.message)).toMatch(
      /registry r\.example is backed off after 3 failed requests \(last: connect ECONNREFUSED 127\.0\.0\.1:9\); not sent, next attempt in 1 s/,
    );
    expect(g.stats()[0]).toMatchObject({ open: true, failures: 3, refused: 50 });
    // back-off over: one probe; it fails, so the next period is twice as long
    clock += 1000;
    await expect(g.fetch('https://r.example/v2/')).rejects.toThrow(/ECONNREFUSED/);
    expect(reached).toBe(4);
    clock += 1100;
    await expect(g.fetch('https://r.example/v2/')).rejects.toThrow(/backed off/);
    expect(reached).toBe(4);
    // registry back: the probe closes the circuit
    down = false;
    clock += 1000;
    await (await g.fetch('https://r.example/v2/')).text();
    await (await g.fetch('https://r.example/v2/')).text();
    expect(reached).toBe(6);
    expect(g.stats()[0]).toMatchObject({ open: false, failures: 0 });
  });

  it('half-open: while the probe is out, other requests are refused', async () => {
    let clock = 0;
    const t = controlled();
    const g = createRegistryGuard({ fetch: t.fetch, failureThreshold: 1, initialBackoffMs: 100, now: () => clock });
    const first = g.fetch('https://r.example/v2/');
    await tick();
    t.pending[0]!.answer(response(503, 'down'));
    await (await first).text();
    clock += 100;
    const probe = g.fetch('https://r.example/v2/');
    await expect(g.fetch('https://r.example/v2/')).rejects.toMatchObject({ code: 'ERR_REGISTRY_HTTP', message: /HTTP 503/ });
    await tick();
    expect(t.calls()).toBe(2);
    t.pending[1]!.answer(response(200));
    await (await probe).text();
    const after = g.fetch('https://r.example/v2/');
    await tick();
    expect(t.calls()).toBe(3);
    t.pending[2]!.answer(response(200));
    await (await after).text();
  });

  it("honours a 429's Retry-After for every request to that registry", async () => {
    let clock = 0;
    let reached = 0;
    const g = createRegistryGuard({
      fetch: async () => {
        reached++;
        return reached === 1 ? response(429, 'slow down', { 'Retry-After': '5' }) : response(200);
      },
      now: () => clock,
    });
    const limited = await g.fetch('https://r.example/v2/');
    expect(limited.status).toBe(429); // the caller (registry client) sees the 429 and its Retry-After
    await limited.text();
    await expect(g.fetch('https://r.example/v2/')).rejects.toMatchObject({
      code: 'ERR_REGISTRY_HTTP',
      message: /backed off after 1 failed request \(last: HTTP 429\); not sent, next attempt in 5 s/,
    });
    clock += 4999;
    await expect(g.fetch('https://r.example/v2/')).rejects.toThrow(/backed off/);
    expect(reached).toBe(1);
    clock += 1;
    expect((await g.fetch('https://r.example/v2/')).status).toBe(200);
    expect(reached).toBe(2);
  });

  it('aborted requests do not count as registry failures', async () => {
    const g = createRegistryGuard({
      fetch: (_u, init) =>
        new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('This operation was aborted')))),
      failureThreshold: 1,
    });
    const ac = new AbortController();
    const p = g.fetch('https://r.example/v2/', { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toThrow(/aborted/);
    expect(g.stats()[0]).toMatchObject({ failures: 0, open: false, inFlight: 0 });
  });
});
