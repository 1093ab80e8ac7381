import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBase64, fromUtf8, VouchError } from '@vouch/core';
import { type AdmissionReview, type KyvernoPolicy, type NotaryImageVerifier, parsePolicies } from '@vouch/kyverno';
import { certificatesToPem, createTestPki } from '@vouch/x509';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { admissionReviewFor, seedPolicyYaml, selfSignedTls, workloads } from '../kyverno/testing.js';
import { runCli } from '../run.js';
import { parseGoDuration, reviewDeadlineMs, startWebhookServer, type WebhookLogEntry, type WebhookServer } from './server.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
let tls: { cert: string; key: string };
let certPem: string;
let dir: string;
const servers: WebhookServer[] = [];

/** Images under registry.example.com/signed verify; /slow waits 300 ms (honouring abort); /hang never answers. */
function fakeVerifier(): NotaryImageVerifier & { calls: number } {
  const v = {
    calls: 0,
    async verifyImage(req: { image: string; signal?: AbortSignal }) {
      v.calls++;
      if (req.image.includes('/hang')) return new Promise<{ digest: string }>(() => {});
      if (req.image.includes('/slow')) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, 300);
          req.signal?.addEventListener('abort', () => {
            clearTimeout(t);
            reject(new VouchError('ERR_ABORTED', 'verification aborted'));
          });
        });
      }
      if (req.image.includes('/signed') || req.image.includes('/slow')) return { digest: DIGEST };
      throw new VouchError(
        'ERR_SIGNATURE_NOT_FOUND',
        `no signature is associated with "${req.image}", make sure the artifact was signed successfully`,
      );
    },
    async resolveDigest() {
      return DIGEST;
    },
  };
  return v;
}

function policies(o: { failurePolicy?: 'Fail' | 'Ignore' } = {}): KyvernoPolicy[] {
  return parsePolicies(seedPolicyYaml({ certPem, ...o }));
}

interface Reply {
  status: number;
  text: string;
  json(): AdmissionReview & { error?: string };
}

function call(server: WebhookServer, path: string, body?: unknown, headers: Record<string, string> = {}, method?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port: server.address.port,
        path,
        method: method ?? (payload === undefined ? 'GET' : 'POST'),
        rejectUnauthorized: false,
        agent: false,
        headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function start(o: Partial<Parameters<typeof startWebhookServer>[0]> = {}, logs: WebhookLogEntry[] = []): Promise<WebhookServer> {
  const s = await startWebhookServer({
    loadPolicies: async () => policies(),
    verifier: fakeVerifier(),
    tls,
    port: 0,
    address: '127.0.0.1',
    log: (e) => logs.push(e),
    ...o,
  });
  servers.push(s);
  return s;
}

const pod = (image: string) => admissionReviewFor(workloads(image)[0]!);

beforeAll(async () => {
  tls = await selfSignedTls();
  const pki = await createTestPki({ keySpec: 'EC-256' });
  certPem = certificatesToPem([pki.root.certificate]);
  dir = await mkdtemp(join(tmpdir(), 'vouch-webhook-'));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('startWebhookServer', () => {
  it('healthz answers at once; readyz only once policies are loaded; reviews before that follow failurePolicy Fail', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const s = await start({
      loadPolicies: async () => {
        await gate;
        return policies();
      },
    });
    expect((await call(s, '/healthz')).status).toBe(200);
    expect((await call(s, '/readyz')).status).toBe(503);
    const early = (await call(s, '/mutate', pod('registry.example.com/signed:v1'))).json();
    expect(early.response).toMatchObject({ uid: 'uid-1', allowed: false });
    release();
    await s.ready;
    expect((await call(s, '/readyz')).status).toBe(200);
    expect(s.isReady()).toBe(true);
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
    const pdir = join(dir, 'watched');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(pdir, 'a.yaml'), seedPolicyYaml({ certPem }));
    const logs: WebhookLogEntry[] = [];
    const s = await start({ loadPolicies: undefined, policyDir: pdir, watch: true }, logs);
    await s.ready;
    expect(s.policies().map((p) => p.metadata.name)).toEqual(['check-image-signature']);
    await writeFile(join(pdir, 'b.yaml'), seedPolicyYaml({ certPem, name: 'second' }));
    for (let i = 0; i < 200 && s.policies().length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(s.policies().map((p) => p.metadata.name)).toEqual(['check-image-signature', 'second']);
    await writeFile(join(pdir, 'c.yaml'), 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: bad\nspec:\n  rules: 3\n');
    for (let i = 0; i < 200 && !logs.some((l) => l.msg.startsWith('policy reload failed')); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(logs.some((l) => l.msg.startsWith('policy reload failed'))).toBe(true);
    expect(s.policies()).toHaveLength(2);
  });

  it('refuses inconsistent options', async () => {
    await expect(startWebhookServer({ verifier: fakeVerifier(), tls } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(
      startWebhookServer({ verifier: fakeVerifier(), tls, policyDir: dir, loadPolicies: async () => [], timeoutMs: 1 } as never),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('deadline helpers', () => {
  it('parses the API server timeout and keeps the deadline below it', () => {
    expect(parseGoDuration('10s')).toBe(10_000);
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('500ms')).toBe(500);
    expect(parseGoDuration('10')).toBeUndefined();
    expect(parseGoDuration(null)).toBeUndefined();
    expect(reviewDeadlineMs(8000, undefined)).toBe(8000);
    expect(reviewDeadlineMs(8000, 10_000)).toBe(8000);
    expect(reviewDeadlineMs(8000, 5000)).toBe(4500);
  });
});

describe('vouch webhook', () => {
  it('serves over HTTPS until SIGTERM, then exits 0', async () => {
    const pdir = join(dir, 'cli-policies');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(pdir, 'policy.yaml'), seedPolicyYaml({ certPem, imageReferences: ['127.0.0.1:9/*'] }));
    await writeFile(join(dir, 'tls.crt'), tls.cert);
    await writeFile(join(dir, 'tls.key'), tls.key);
    let out = '';
    let err = '';
    const done = runCli(
      [
        'webhook',
        '--policies',
        pdir,
        '--tls-cert',
        'tls.crt',
        '--tls-key',
        'tls.key',
        '--port',
        '0',
        '--address',
        '127.0.0.1',
        '--timeout-ms',
        '3000',
      ],
      { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, cwd: dir, env: { HOME: dir } },
    );
    const lines = () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as WebhookLogEntry);
    for (let i = 0; i < 400 && !lines().some((l) => l.msg === 'policies loaded'); i++) await new Promise((r) => setTimeout(r, 25));
    const listening = lines().find((l) => l.msg === 'listening');
    expect(listening, err).toBeDefined();
    const port = Number(new URL(String(listening!.address)).port);
    const handle = { address: { port } } as WebhookServer;
    expect((await call(handle, '/readyz')).status).toBe(200);
    // the registry is down (port 9 on loopback): failurePolicy Fail denies
    const r = (await call(handle, '/mutate', pod('127.0.0.1:9/app:v1'))).json().response!;
    expect(r.allowed).toBe(false);
    expect(r.status!.message).toContain('failed to verify image 127.0.0.1:9/app:v1');
    process.emit('SIGTERM');
    expect(await done).toBe(0);
    expect(lines().some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
  });

  it('refuses to start without TLS material', async () => {
    let err = '';
    const code = await runCli(['webhook', '--policies', dir], {
      stderr: { write: (s: string) => (err += s) },
      stdout: { write: () => {} },
      cwd: dir,
    });
    expect(code).toBe(1);
    expect(err).toContain('tls-cert');
  });
});
