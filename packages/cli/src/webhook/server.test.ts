import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VouchError } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';
import { type KyvernoPolicy, parsePolicies } from '@vouch/kyverno';
import { seedPolicyYaml } from '@vouch/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from '../run.js';
import {
  apiServerBudgetMs,
  distinctImages,
  reviewDeadlineMs,
  scanJson,
  startWebhookServer,
  type WebhookLogEntry,
  type WebhookServer,
} from './server.js';
import { call, DIGEST, fakeVerifier, pod, runVouch, until, webhookHarness } from './test/support.js';

const h = webhookHarness();
const BAD_POLICY =
  'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: x}\nspec: {validationFailureAction: Sometimes, rules: []}\n';
const start = h.start;
const policies = h.policies;

describe('startWebhookServer', () => {
  it('loads the policies before listening; a failed first load is thrown (nothing listens), with watch it serves not ready', async () => {
    const logs: WebhookLogEntry[] = [];
    const s = await start({}, logs);
    expect(logs.map((l) => l.msg).slice(0, 2)).toEqual(['policies loaded', 'listening']);
    expect(s.isReady()).toBe(true);
    expect((await call(s, '/readyz')).text).toBe('ok: 1 policy, set 1\n');
    await expect(start({ loadPolicies: async () => parsePolicies(BAD_POLICY) })).rejects.toMatchObject({
      code: 'ERR_KYVERNO_POLICY_INVALID',
    });
    const broken = async (): Promise<KyvernoPolicy[]> => {
      throw new VouchError('ERR_KYVERNO_POLICY_INVALID', 'policy.yaml:7:9: spec.rules must be a list');
    };
    const w = await start({ loadPolicies: broken, watch: true }, logs);
    expect(w.isReady()).toBe(false);
    const r = await call(w, '/readyz');
    expect(r.status).toBe(503);
    expect(r.text).toBe('not ready: policies are not loaded: policy.yaml:7:9: spec.rules must be a list\n');
    expect((await call(w, '/readyz?verbose')).json()).toMatchObject({
      ready: false,
      generation: 0,
      lastLoadError: 'policy.yaml:7:9: spec.rules must be a list',
    });
    expect((await call(w, '/healthz')).status).toBe(200);
    const denied = (await call(w, '/mutate', pod('registry.example.com/signed:v1'))).json().response!;
    expect(denied).toMatchObject({ uid: 'uid-1', allowed: false });
    expect(denied.status!.message).toBe(
      'vouch could not evaluate the request: no policy set is in use (policy.yaml:7:9: spec.rules must be a list) (failurePolicy Fail)',
    );
  });

  it('a policy with a construct vouch does not evaluate is a failed load: thrown, or not ready with the reason', async () => {
    const unsupported = structuredClone(h.policies()[0]!);
    // `keys` attestors under type Notary: Kyverno has no such form, vouch refuses it
    const entry = unsupported.spec.rules[0]!.verifyImages![0]!.attestors![0]!.entries![0] as Record<string, unknown>;
    entry.keys = { publicKeys: '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----' };
    await expect(start({ loadPolicies: async () => [unsupported] })).toRejectWithCode('ERR_UNSUPPORTED');
    const w = await start({ loadPolicies: async () => [unsupported], watch: true });
    const r = await call(w, '/readyz');
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/^not ready: policies are not loaded: .*`keys` attestors for type Notary/);
    expect((await call(w, '/mutate', pod('registry.example.com/unsigned:v1'))).json().response!.allowed).toBe(false);
  });

  it('refuses to serve an empty policy set: no ClusterPolicy or Policy means not ready, never "allow everything"', async () => {
    await expect(start({ loadPolicies: async () => [] })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('no ClusterPolicy or Policy was found in the policy source'),
    });
    const pdir = join(h.dir, 'empty-then-filled');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(pdir, 'not-a-policy.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    await expect(start({ loadPolicies: undefined, policyDir: pdir })).rejects.toThrow(`no ClusterPolicy or Policy was found in ${pdir}`);
    const s = await start({ loadPolicies: undefined, policyDir: pdir, watch: true });
    expect((await call(s, '/readyz')).status).toBe(503);
    expect((await call(s, '/mutate', pod('registry.example.com/unsigned:v1'))).json().response!.allowed).toBe(false);
    await writeFile(join(pdir, 'policy.yaml'), seedPolicyYaml({ certPem: h.certPem }));
    await s.ready;
    expect((await call(s, '/readyz')).status).toBe(200);
    expect((await call(s, '/mutate', pod('registry.example.com/unsigned:v1'))).json().response!.allowed).toBe(false);
    expect((await call(s, '/mutate', pod('registry.example.com/signed:v1'))).json().response!.allowed).toBe(true);
    // the programmatic escape hatch
    const empty = await start({ loadPolicies: async () => [], allowEmptyPolicies: true });
    expect(empty.isReady()).toBe(true);
  });

  it('/mutate allows a signed image with the digest patch, /validate answers without a patch, unsigned is denied', async () => {
    const logs: WebhookLogEntry[] = [];
    const s = await start({}, logs);
    await s.ready;
    const m = await call(s, '/mutate', pod('registry.example.com/signed:v1'));
    expect(m.status).toBe(200);
    const res = m.json().response!;
    expect(res).toMatchObject({ uid: 'uid-1', allowed: true, patchType: 'JSONPatch' });
    expect(JSON.parse(fromUtf8(fromBase64(res.patch!)))).toContainEqual({
      op: 'replace',
      path: '/spec/containers/0/image',
      value: `registry.example.com/signed:v1@${DIGEST}`,
    });
    const v = (await call(s, '/validate', pod('registry.example.com/signed:v1'))).json().response!;
    expect(v.allowed).toBe(true);
    expect(v.patch).toBeUndefined();
    const d = (await call(s, '/', pod('registry.example.com/unsigned:v1'))).json().response!;
    expect(d.allowed).toBe(false);
    expect(d.status!.message).toMatch(
      /^\n\nresource Pod\/default\/app was blocked due to the following policies \n\ncheck-image-signature:\n {2}verify-signature: /,
    );
    const decisions = logs.filter((l) => l.msg === 'admission decision');
    expect(decisions.map((l) => [l.path, l.allowed, l.kind])).toEqual([
      ['/mutate', true, 'Pod'],
      ['/validate', true, 'Pod'],
      ['/', false, 'Pod'],
    ]);
  });

  it('rejects bad requests: method, path, content type, malformed JSON, not a review, oversized body', async () => {
    const s = await start({ maxBodyBytes: 2048 });
    await s.ready;
    expect((await call(s, '/mutate')).status).toBe(405);
    expect((await call(s, '/nope', {})).status).toBe(404);
    expect((await call(s, '/mutate', '{}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await call(s, '/mutate', '{not json')).status).toBe(400);
    const notReview = await call(s, '/mutate', { kind: 'Pod' });
    expect(notReview.status).toBe(400);
    expect(notReview.json().error).toContain('AdmissionReview');
    const big = await call(s, '/mutate', JSON.stringify({ pad: 'x'.repeat(4096) }));
    expect(big.status).toBe(413);
    // still serving afterwards
    expect((await call(s, '/mutate', pod('registry.example.com/signed:v1'))).json().response!.allowed).toBe(true);
  });

  it('answers by the deadline with failurePolicy applied when verification does not finish', async () => {
    const logs: WebhookLogEntry[] = [];
    const fail = await start({ timeoutMs: 300 }, logs);
    await fail.ready;
    const denied = (await call(fail, '/mutate', pod('registry.example.com/hang:v1'))).json().response!;
    expect(denied.allowed).toBe(false);
    expect(denied.status!.message).toContain('deadline of 300 ms');
    expect(logs.find((l) => l.msg === 'admission decision')).toMatchObject({ timedOut: true, deadlineMs: 300 });
    const ignore = await start({ timeoutMs: 300, loadPolicies: async () => policies({ failurePolicy: 'Ignore' }) });
    await ignore.ready;
    const allowed = (await call(ignore, '/mutate', pod('registry.example.com/hang:v1'))).json().response!;
    expect(allowed.allowed).toBe(true);
    expect(allowed.warnings!.join('\n')).toContain('deadline of 300 ms');
  });

  it("aborts verification before the deadline so the engine answers with Kyverno's error message", async () => {
    const s = await start({ timeoutMs: 8000 });
    await s.ready;
    // the API server's own budget (?timeout=) shortens the deadline to 90% of it
    const r = (await call(s, '/mutate?timeout=200ms', pod('registry.example.com/slow:v1'))).json().response!;
    expect(r.allowed).toBe(false);
    expect(r.status!.message).toContain('failed to verify image registry.example.com/slow:v1');
  });

  it('graceful shutdown: stops accepting, finishes the in-flight review, then resolves', async () => {
    const s = await start();
    await s.ready;
    const pending = call(s, '/mutate', pod('registry.example.com/slow:v1'));
    while (s.inFlight() === 0) await new Promise((r) => setTimeout(r, 5));
    const closing = s.close();
    expect(s.isReady()).toBe(false);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.json().response!.allowed).toBe(true);
    await closing;
    await expect(call(s, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('reloads policies when the watched directory changes; a broken file keeps the previous policies', async () => {
    const pdir = join(h.dir, 'watched');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(pdir, 'a.yaml'), seedPolicyYaml({ certPem: h.certPem }));
    const logs: WebhookLogEntry[] = [];
    const s = await start({ loadPolicies: undefined, policyDir: pdir, watch: true }, logs);
    await s.ready;
    expect(s.policies().map((p) => p.metadata.name)).toEqual(['check-image-signature']);
    await writeFile(join(pdir, 'b.yaml'), seedPolicyYaml({ certPem: h.certPem, name: 'second' }));
    for (let i = 0; i < 200 && s.policies().length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(s.policies().map((p) => p.metadata.name)).toEqual(['check-image-signature', 'second']);
    await writeFile(join(pdir, 'c.yaml'), 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: bad\nspec:\n  rules: 3\n');
    for (let i = 0; i < 200 && !logs.some((l) => l.msg.startsWith('policy reload failed')); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(logs.some((l) => l.msg.startsWith('policy reload failed'))).toBe(true);
    expect(s.policies()).toHaveLength(2);
  });

  it('a new policy set keeps the verification cache: an image verified under the old set is not verified again', async () => {
    const verifier = fakeVerifier();
    const s = await start({ verifier });
    const review = () => call(s, '/mutate', pod('registry.example.com/signed:v1'));
    expect((await review()).json().response!.allowed).toBe(true);
    expect(verifier.calls).toBe(1);
    await s.reload();
    expect(s.status().generation).toBe(2);
    expect((await review()).json().response!.allowed).toBe(true);
    expect(verifier.calls).toBe(1);
  });

  it('refuses inconsistent options', async () => {
    await expect(startWebhookServer({ verifier: fakeVerifier(), tls: h.tls } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(
      startWebhookServer({ verifier: fakeVerifier(), tls: h.tls, policyDir: h.dir, loadPolicies: async () => [], timeoutMs: 1 } as never),
    ).toRejectWithCode('ERR_INVALID_ARGUMENT');
  });
});

describe('deadline helpers', () => {
  it('parses the API server timeout and keeps the deadline below it', () => {
    expect(apiServerBudgetMs('timeout=10s')).toBe(10_000);
    expect(apiServerBudgetMs('timeout=1m30s')).toBe(90_000);
    expect(apiServerBudgetMs('a=b&timeout=500ms')).toBe(500);
    expect(apiServerBudgetMs('timeout=10')).toBeUndefined();
    expect(apiServerBudgetMs('')).toBeUndefined();
    expect(apiServerBudgetMs('dryRun=All')).toBeUndefined();
    expect(apiServerBudgetMs('timeout=0s')).toBeUndefined();
    expect([apiServerBudgetMs('timeout=3s'), apiServerBudgetMs('timeout=3s'), apiServerBudgetMs('timeout=4s')]).toEqual([3000, 3000, 4000]);
    expect(reviewDeadlineMs(8000, undefined)).toBe(8000);
    expect(reviewDeadlineMs(8000, 10_000)).toBe(8000);
    expect(reviewDeadlineMs(8000, 5000)).toBe(4500);
  });
});

describe('input scan', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  it('measures nesting outside strings and counts "image" strings', () => {
    expect(scanJson(bytes('{"a":[[{"image":"x"}]],"b":"[[[[","image":"y","images":"z","imag":"w"}'), 4)).toEqual({
      tooDeep: false,
      imageStrings: 2,
    });
    expect(scanJson(bytes('{"a":[[{"x":1}]]}'), 3)).toEqual({ tooDeep: true, imageStrings: 0 });
    // `\"[[[[[` holds an escape and is short: counted as a string that might spell image (an upper bound)
    expect(scanJson(bytes('{"s":"\\"[[[[[","t":"\\\\","u":[]}'), 2)).toEqual({ tooDeep: false, imageStrings: 1 });
    expect(scanJson(bytes('"image"'), 1).imageStrings).toBe(1);
  });
  it('counts distinct image fields anywhere in an object', () => {
    expect(
      distinctImages({
        spec: { containers: [{ image: 'a' }, { image: 'b' }, { image: 'a' }], initContainers: [{ image: 'c' }] },
        image: 3,
      }),
    ).toBe(3);
    expect(distinctImages(null)).toBe(0);
  });
});

/** Runs `vouch webhook ARGS` in-process; `lines()` parses its JSON log so far. */
const runWebhook = (args: string[]) => runVouch(h.dir, ['webhook', ...args]);

describe('vouch webhook', () => {
  it('serves over HTTPS with metrics on their own port until SIGTERM, then exits 0', async () => {
    const pdir = join(h.dir, 'cli-policies');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(pdir, 'policy.yaml'), seedPolicyYaml({ certPem: h.certPem, imageReferences: ['127.0.0.1:9/*'] }));
    await writeFile(join(h.dir, 'tls.crt'), h.tls.cert);
    await writeFile(join(h.dir, 'tls.key'), h.tls.key);
    const run = runWebhook(
      ['--policies', pdir, '--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--port', '0', '--address', '127.0.0.1'].concat([
        '--timeout-ms',
        '3000',
        '--metrics-port',
        '0',
      ]),
    );
    await until(() => run.lines().some((l) => l.msg === 'metrics listening'), 10_000);
    // policies are loaded before the server listens
    expect(run.lines().map((l) => l.msg)).toEqual(['policies loaded', 'listening', 'metrics listening']);
    const listening = run.lines().find((l) => l.msg === 'listening')!;
    const port = Number(new URL(String(listening.address)).port);
    const handle = { address: { port } } as WebhookServer;
    expect((await call(handle, '/readyz')).status).toBe(200);
    // the registry is down (port 9 on loopback): failurePolicy Fail denies, saying why
    const r = (await call(handle, '/mutate', pod('127.0.0.1:9/app:v1'))).json().response!;
    expect(r.allowed).toBe(false);
    expect(r.status!.message).toContain('failed to verify image 127.0.0.1:9/app:v1');
    expect(r.status!.message).toMatch(/ECONNREFUSED|backed off/);
    const metricsUrl = String(run.lines().find((l) => l.msg === 'metrics listening')!.address);
    const scrape = await fetch(metricsUrl).then((x) => x.text());
    expect(scrape).toContain('vouch_webhook_ready 1');
    expect(scrape).toMatch(/vouch_webhook_registry_requests_total\{registry="127\.0\.0\.1:9",status="network_error"\} [1-9]/);
    expect(scrape).toMatch(/vouch_webhook_verifications_total\{kind="signature",result="error",cache="miss"\} 1/);
    process.emit('SIGTERM');
    expect(await run.done).toBe(0);
    expect(run.lines().some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
    expect(run.lines().at(-1)).toMatchObject({ msg: 'stopped', drained: true });
  });

  it('refuses to start, naming the files, when the certificate and key are swapped', async () => {
    await writeFile(join(h.dir, 'tls.crt'), h.tls.cert);
    await writeFile(join(h.dir, 'tls.key'), h.tls.key);
    const pdir = join(h.dir, 'cli-swapped');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(pdir, 'policy.yaml'), seedPolicyYaml({ certPem: h.certPem }));
    const run = runWebhook(['--policies', pdir, '--tls-cert', 'tls.key', '--tls-key', 'tls.crt', '--port', '0', '--address', '127.0.0.1']);
    expect(await run.done).toBe(1);
    expect(run.err()).toContain(
      `the TLS certificate ${join(h.dir, 'tls.key')} and key ${join(h.dir, 'tls.crt')} cannot be used: the two look swapped`,
    );
    expect(run.lines().some((l) => l.msg === 'listening')).toBe(false);
  });

  it('refuses to start with no policy (without --watch), instead of admitting everything', async () => {
    await writeFile(join(h.dir, 'tls.crt'), h.tls.cert);
    await writeFile(join(h.dir, 'tls.key'), h.tls.key);
    const pdir = join(h.dir, 'cli-empty');
    await mkdir(pdir, { recursive: true });
    const run = runWebhook(['--policies', pdir, '--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--port', '0', '--address', '127.0.0.1']);
    expect(await run.done).toBe(1);
    expect(run.err()).toContain(`no ClusterPolicy or Policy was found in ${pdir}`);
    expect(run.lines().some((l) => l.msg === 'listening')).toBe(false);
  });

  it('refuses to start without TLS material', async () => {
    let err = '';
    const code = await runCli(['webhook', '--policies', h.dir], {
      stderr: { write: (s: string) => (err += s) },
      stdout: { write: () => {} },
      cwd: h.dir,
    });
    expect(code).toBe(1);
    expect(err).toContain('tls-cert');
  });
});
