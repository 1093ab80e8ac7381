/**
 * The webhook with the real Notary verifier behind the CLI's guarded transport, against an
 * in-memory registry behind the fault proxy: registry down, slow, rate limiting with
 * Retry-After, and garbage. Every review gets an answer within its deadline that follows
 * failurePolicy, requests wait in bounded queues, and the registry is not hammered.
 */

import { parsePolicies } from '@vouch/kyverno';
import { undiciFetch } from '@vouch/node';
import { createRegistryClient, remoteRepository } from '@vouch/registry';
import { pushTestImage, seedPolicyYaml, signTestImage } from '@vouch/testing';
import { freePort, type RunningFakeRegistry, startFakeRegistry, startFaultProxy } from '@vouch/testing/registry';
import { certificatesToPem, createTestPki, type TestPki } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliContext } from '../context.js';
import { cliImageVerifier } from '../kyverno/images.js';
import { createMetricsRegistry, registerWebhookMetrics } from './metrics.js';
import type { WebhookServer } from './server.js';
import { call, pod, webhookHarness } from './test/support.js';
import { webhookTransport } from './transport.js';

const h = webhookHarness();
const IMAGES = 24;
const CONCURRENCY = 4;
let registry: RunningFakeRegistry;
let pki: TestPki;
const http = undiciFetch();

beforeAll(async () => {
  registry = await startFakeRegistry();
  pki = await createTestPki({ keySpec: 'EC-256' });
  const client = createRegistryClient({ fetch: http, retry: { retries: 0 } });
  for (let i = 0; i < IMAGES; i++) {
    const repo = remoteRepository(client, `${registry.host}/app${i}`);
    const digest = (await pushTestImage(repo, 'v1', `image ${i}`)).digest;
    await signTestImage(repo, digest, pki, 'jws');
  }
});

afterAll(async () => {
  await registry?.stop();
  await http.close();
});

interface Setup {
  server: WebhookServer;
  metrics: () => Promise<string>;
  close(): Promise<void>;
}

/** A webhook over `host` (through the guard, CONCURRENCY requests per registry) with one policy of `failurePolicy`. */
async function webhookFor(host: string, failurePolicy: 'Fail' | 'Ignore', timeoutMs: number): Promise<Setup> {
  const ctx = new CliContext({ env: { HOME: h.dir }, cwd: h.dir, stdout: { write: () => {} }, stderr: { write: () => {} } });
  const reg = createMetricsRegistry({ defaultMetrics: false });
  const metrics = registerWebhookMetrics(reg);
  const transport = webhookTransport(ctx, { maxConcurrent: CONCURRENCY, metrics });
  const verifier = cliImageVerifier(ctx, {
    fetch: transport.fetch,
    registryTimeoutMs: timeoutMs,
    retry: { retries: 2, maxRetryAfterMs: Math.floor(timeoutMs / 4) },
  });
  const certPem = certificatesToPem([pki.root.certificate]);
  const server = await h.start({
    verifier,
    timeoutMs,
    metrics,
    loadPolicies: async () => parsePolicies(seedPolicyYaml({ certPem, failurePolicy, imageReferences: [`${host}/*`] })),
  });
  return {
    server,
    metrics: () => reg.metrics(),
    close: async () => {
      await server.close();
      await ctx.close();
    },
  };
}

/** Sends one review per image, all at once; returns the answers with their latency. */
async function burst(s: WebhookServer, host: string, n = IMAGES) {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const t0 = Date.now();
      const r = await call(s, '/mutate', pod(`${host}/app${i % IMAGES}:v1`, `uid-${i}`));
      return { ms: Date.now() - t0, status: r.status, response: r.json().response! };
    }),
  );
}

const count = (text: string, re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);

describe('registry faults: failurePolicy for every review, bounded queues, no hammering', () => {
  it('healthy, through the fault proxy: every review allowed; one verification per image across concurrent reviews', async () => {
    const proxy = await startFaultProxy(registry.url);
    const w = await webhookFor(proxy.host, 'Fail', 5000);
    try {
      const answers = await burst(w.server, proxy.host, IMAGES * 3);
      for (const a of answers) expect(a.response, JSON.stringify(a.response)).toMatchObject({ allowed: true });
      const text = await w.metrics();
      expect(count(text, /vouch_webhook_verifications_total\{kind="signature",result="verified",cache="miss"\} (\d+)/g)).toBe(IMAGES);
      expect(proxy.inFlight().peak).toBeLessThanOrEqual(CONCURRENCY);
    } finally {
      await w.close();
      await proxy.stop();
    }
  });

  for (const failurePolicy of ['Fail', 'Ignore'] as const) {
    it(`registry down (connection refused), failurePolicy ${failurePolicy}: fast answers, the circuit stops the requests`, async () => {
      const host = `127.0.0.1:${await freePort()}`;
      const w = await webhookFor(host, failurePolicy, 3000);
      try {
        const answers = [...(await burst(w.server, host)), ...(await burst(w.server, host))];
        for (const a of answers) {
          expect(a.status).toBe(200);
          expect(a.ms).toBeLessThan(3000);
          if (failurePolicy === 'Fail') {
            expect(a.response.allowed).toBe(false);
            expect(a.response.status!.message).toMatch(/failed to verify image 127\.0\.0\.1:\d+\/app\d+:v1/);
          } else {
            expect(a.response.allowed).toBe(true);
            expect(a.response.warnings!.join('\n')).toMatch(/failed to verify image/);
          }
        }
        const text = await w.metrics();
        const sent = count(text, /vouch_webhook_registry_requests_total\{registry="[^"]+",status="network_error"\} (\d+)/g);
        const refused = count(text, /vouch_webhook_registry_requests_total\{registry="[^"]+",status="circuit_open"\} (\d+)/g);
        // 2 × 24 reviews, each verification trying up to 3 times: without the circuit, 144 connection attempts
        expect(sent).toBeLessThanOrEqual(CONCURRENCY + 3);
        expect(refused).toBeGreaterThan(0);
      } finally {
        await w.close();
      }
    });
  }

  it('slow registry (2 s per request, deadline 600 ms): every review answered by its deadline per failurePolicy; registry concurrency bounded', async () => {
    const proxy = await startFaultProxy(registry.url, [{ path: /./, times: Number.POSITIVE_INFINITY, action: { delayMs: 2000 } }]);
    const fail = await webhookFor(proxy.host, 'Fail', 600);
    const ignore = await webhookFor(proxy.host, 'Ignore', 600);
    try {
      for (const [w, allowed] of [
        [fail, false],
        [ignore, true],
      ] as const) {
        const answers = await burst(w.server, proxy.host);
        for (const a of answers) {
          expect(a.status).toBe(200);
          // the deadline plus a new TLS connection per review on a loaded machine
          expect(a.ms).toBeLessThan(600 + 1500);
          expect(a.response.allowed).toBe(allowed);
          const text = allowed ? a.response.warnings!.join('\n') : a.response.status!.message;
          expect(text).toMatch(/the review deadline of 600 ms was reached before the (signature|digest) of/);
          expect(text).not.toMatch(/operation was aborted/);
        }
      }
      // two webhooks, CONCURRENCY each
      expect(proxy.inFlight().peak).toBeLessThanOrEqual(2 * CONCURRENCY);
    } finally {
      await fail.close();
      await ignore.close();
      await proxy.stop();
    }
  });

  it('429 with Retry-After: answered at once by failurePolicy; the registry sees no request until the pause is over', async () => {
    const proxy = await startFaultProxy(registry.url, [
      { path: /./, times: Number.POSITIVE_INFINITY, action: { status: 429, headers: { 'Retry-After': '30' }, body: 'slow down' } },
    ]);
    const w = await webhookFor(proxy.host, 'Fail', 4000);
    try {
      const answers = [...(await burst(w.server, proxy.host)), ...(await burst(w.server, proxy.host))];
      for (const a of answers) {
        expect(a.ms).toBeLessThan(2000);
        expect(a.response.allowed).toBe(false);
        expect(a.response.status!.message).toMatch(/429|backed off/);
      }
      // the requests in flight when the first 429 came back, and nothing after
      expect(proxy.log.length).toBeLessThanOrEqual(CONCURRENCY);
      const text = await w.metrics();
      expect(count(text, /status="circuit_open"\} (\d+)/g)).toBeGreaterThan(0);
    } finally {
      await w.close();
      await proxy.stop();
    }
  });

  it('garbage manifests: every review answered and denied, under Ignore too (a decision: no signature for that content), the server stays up', async () => {
    const proxy = await startFaultProxy(registry.url, [
      {
        path: /\/manifests\//,
        times: Number.POSITIVE_INFINITY,
        action: { status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: '{"garbage": [1,' },
      },
    ]);
    for (const failurePolicy of ['Fail', 'Ignore'] as const) {
      const w = await webhookFor(proxy.host, failurePolicy, 3000);
      try {
        const answers = await burst(w.server, proxy.host);
        for (const a of answers) {
          expect(a.status).toBe(200);
          expect(a.response.allowed).toBe(false);
          expect(a.response.status!.message).toMatch(/failed to verify image .*no signature is associated with/s);
        }
        expect((await call(w.server, '/healthz')).status).toBe(200);
      } finally {
        await w.close();
      }
    }
    await proxy.stop();
  });
});
