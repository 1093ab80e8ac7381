import { request } from 'node:http';
import { controllerMetrics } from '@vouch/node/controller';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, registerWebhookMetrics, startMetricsServer } from './metrics.js';
import { call, pod, until, webhookHarness } from './test/support.js';

const h = webhookHarness();

function get(url: string, method = 'GET'): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one sample line (`name{labels} value`) of a Prometheus text exposition. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('webhook metrics', () => {
  it('a shared registry: the webhook and the background scanner register on it, one endpoint serves both', async () => {
    const registry = createMetricsRegistry();
    registerWebhookMetrics(registry);
    // the scanner (startController({ metricsRegistry })) adds its instruments to the same registry
    controllerMetrics(registry).resourcesScanned.inc({ trigger: 'schedule' }, 3);
    const m = await startMetricsServer({ registry, port: 0, address: '127.0.0.1' });
    try {
      const r = await get(m.address.url);
      expect(r.status).toBe(200);
      expect(r.type).toContain('text/plain');
      expect(sample(r.text, 'vouch_controller_resources_scanned_total', { trigger: 'schedule' })).toBe(3);
      // the process metrics once, whatever registers on the registry
      expect(r.text.match(/^# TYPE process_resident_memory_bytes /gm)).toHaveLength(1);
      expect((await get(m.address.url.replace('/metrics', '/readyz'))).status).toBe(404);
      expect(r.text).toContain('# TYPE vouch_webhook_review_duration_seconds histogram');
      expect(r.text).toContain('# TYPE process_cpu_user_seconds_total counter');
      expect(sample(r.text, 'vouch_webhook_policy_set_generation')).toBe(0);
      expect((await get(m.address.url.replace('/metrics', '/other'))).status).toBe(404);
      expect((await get(m.address.url, 'POST')).status).toBe(405);
      expect(() => registerWebhookMetrics(registry)).toThrow(/already been registered/);
    } finally {
      await m.close();
    }
  });

  it('with health: /healthz while the process runs, /readyz as health() says (vouch controller)', async () => {
    let ready = false;
    const m = await startMetricsServer({
      registry: createMetricsRegistry({ defaultMetrics: false }),
      port: 0,
      address: '127.0.0.1',
      health: () => (ready ? { ready: true } : { ready: false, reason: 'policies not loaded' }),
    });
    try {
      const at = (path: string, method?: string) => get(m.address.url.replace('/metrics', path), method);
      expect(await at('/healthz')).toMatchObject({ status: 200, text: 'ok\n' });
      expect(await at('/readyz')).toMatchObject({ status: 503, text: 'not ready: policies not loaded\n' });
      ready = true;
      expect(await at('/readyz')).toMatchObject({ status: 200, text: 'ok\n' });
      expect((await at('/readyz', 'POST')).status).toBe(405);
      expect((await at('/metrics')).status).toBe(200);
    } finally {
      await m.close();
    }
  });

  it('reviews, verifications with cache use, failurePolicy answers, HTTP codes and policy generation are counted', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = registerWebhookMetrics(registry);
    const s = await h.start({ metrics, timeoutMs: 300 });
    expect(await registry.getSingleMetricAsString('vouch_webhook_ready')).toContain('vouch_webhook_ready 1');
    await call(s, '/mutate', pod('registry.example.com/signed:v1', 'a')); // miss
    await call(s, '/validate', pod('registry.example.com/signed:v1', 'b')); // hit
    await call(s, '/mutate', pod('registry.example.com/unsigned:v1', 'c')); // failed
    await call(s, '/mutate', pod('registry.example.com/hang:v1', 'd')); // deadline → failurePolicy
    await call(s, '/mutate', '{not json');
    await call(s, '/readyz');
    const text = await registry.metrics();
    const v = (labels: Record<string, string>) => sample(text, 'vouch_webhook_verifications_total', labels);
    expect(v({ kind: 'signature', result: 'verified', cache: 'miss' })).toBe(1);
    expect(v({ kind: 'signature', result: 'verified', cache: 'hit' })).toBe(1);
    expect(v({ kind: 'signature', result: 'failed', cache: 'miss' })).toBe(1);
    expect(
      sample(text, 'vouch_webhook_review_duration_seconds_count', { webhook: '/mutate', operation: 'CREATE', outcome: 'allowed' }),
    ).toBe(1);
    expect(
      sample(text, 'vouch_webhook_review_duration_seconds_count', { webhook: '/validate', operation: 'CREATE', outcome: 'allowed' }),
    ).toBe(1);
    expect(
      sample(text, 'vouch_webhook_review_duration_seconds_count', { webhook: '/mutate', operation: 'CREATE', outcome: 'denied' }),
    ).toBe(2);
    expect(sample(text, 'vouch_webhook_review_duration_seconds_count', { outcome: 'rejected_input' })).toBe(1);
    // the hanging review: the engine answered at deadline − grace with the policy's failurePolicy
    // (a rule error under Fail), so it counts as denied, with the verification counted as an error
    expect(v({ kind: 'signature', result: 'error', cache: 'miss' })).toBeUndefined(); // still running in the background
    expect(sample(text, 'vouch_webhook_http_requests_total', { path: '/mutate', code: '200' })).toBe(3);
    expect(sample(text, 'vouch_webhook_http_requests_total', { path: '/mutate', code: '400' })).toBe(1);
    expect(sample(text, 'vouch_webhook_http_requests_total', { path: '/readyz', code: '200' })).toBe(1);
    expect(sample(text, 'vouch_webhook_policy_set_generation')).toBe(1);
    expect(sample(text, 'vouch_webhook_policies')).toBe(1);
    expect(sample(text, 'vouch_webhook_reviews_in_flight')).toBe(0);
    // a review answered by failurePolicy at the webhook (overload)
    const registry2 = createMetricsRegistry({ defaultMetrics: false });
    const o = await h.start({ metrics: registerWebhookMetrics(registry2), maxInFlight: 1, timeoutMs: 300 });
    const hanging = call(o, '/mutate', pod('registry.example.com/hang:v1', 'e'));
    await until(() => o.inFlight() === 1);
    expect((await call(o, '/mutate', pod('registry.example.com/signed:v1', 'f'))).json().response!.allowed).toBe(false);
    await hanging;
    const text2 = await registry2.metrics();
    expect(sample(text2, 'vouch_webhook_failure_policy_decisions_total', { failure_policy: 'Fail', reason: 'overloaded' })).toBe(1);
    expect(sample(text2, 'vouch_webhook_review_duration_seconds_count', { outcome: 'failure_policy_denied' })).toBe(1);
  });
});
