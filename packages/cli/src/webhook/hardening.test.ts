/**
 * The webhook as a production server under bad conditions: oversized bodies, slow clients,
 * hostile AdmissionReviews, certificate rotation, shutdown with reviews in flight, overload,
 * policy reload failures, and what the metrics say about them.
 */
import { execFile } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { seedPolicyYaml, selfSignedTls } from '@vouch/testing';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, registerWebhookMetrics } from './metrics.js';
import { startWebhookServer, type WebhookLogEntry } from './server.js';
import { call, fakeVerifier, pod, until, webhookHarness } from './test/support.js';

const h = webhookHarness();

/** POST `total` bytes to /mutate in 64 KiB writes; resolves with the status the client received (or the client error). */
function postLarge(
  port: number,
  total: number,
  o: { expectContinue?: boolean; chunked?: boolean } = {},
): Promise<{ status?: number; text?: string; error?: string; continued: boolean; sent: number }> {
  return new Promise((resolve) => {
    let continued = false;
    let sent = 0;
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (!o.chunked) headers['content-length'] = total;
    if (o.expectContinue) headers.expect = '100-continue';
    const req = request(
      { host: '127.0.0.1', port, path: '/mutate', method: 'POST', rejectUnauthorized: false, agent: false, headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, text, continued, sent }));
      },
    );
    req.on('error', (e) => resolve({ error: e.message, continued, sent }));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    if (o.expectContinue)
      req.on('continue', () => {
        continued = true;
        pump();
      });
    else pump();
  });
}

/** A raw TLS connection that writes `parts` with `gapMs` between them; resolves with what came back and when the server closed it. */
function trickle(port: number, parts: string[], gapMs: number): Promise<{ text: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let text = '';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      let i = 0;
      const next = () => {
        if (i < parts.length && !s.destroyed) {
          s.write(parts[i++]!);
          timer = setTimeout(next, gapMs);
        }
      };
      next();
    });
    s.setEncoding('utf8');
    s.on('data', (c) => (text += c));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, ms: Date.now() - t0 });
    });
  });
}

describe('oversized bodies: the client receives the 413', () => {
  it('a body streamed past the limit, with and without Content-Length', async () => {
    const logs: WebhookLogEntry[] = [];
    const s = await h.start({ maxBodyBytes: 1024 * 1024 }, logs);
    for (const chunked of [false, true]) {
      const r = await postLarge(s.address.port, 3 * 1024 * 1024, { chunked });
      expect(r.error, `chunked=${chunked}`).toBeUndefined();
      expect(r.status).toBe(413);
      expect(JSON.parse(r.text!).error).toMatch(/exceeds the limit of 1048576 bytes/);
    }
    expect(logs.filter((l) => l.status === 413)).toHaveLength(2);
    expect((await call(s, '/mutate', pod('registry.example.com/signed:v1'))).json().response!.allowed).toBe(true);
  });

  it('Expect: 100-continue with a declared length over the limit: 413 instead of 100 Continue, and no body is sent', async () => {
    const s = await h.start({ maxBodyBytes: 1024 * 1024 });
    const r = await postLarge(s.address.port, 5 * 1024 * 1024, { expectContinue: true });
    expect(r).toMatchObject({ status: 413, continued: false, sent: 0 });
    // within the limit: 100 Continue, then the review is answered
    const ok = await new Promise<{ status?: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const body = JSON.stringify(pod('registry.example.com/signed:v1'));
      const req = request(
        {
          host: '127.0.0.1',
          port: s.address.port,
          path: '/mutate',
          method: 'POST',
          rejectUnauthorized: false,
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode, continued }));
        },
      );
      req.on('error', reject);
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
    });
    expect(ok).toEqual({ status: 200, continued: true });
  });

  it('curl (which sends Expect: 100-continue for large bodies) prints the 413', async (t) => {
    const curl = await promisify(execFile)('curl', ['--version']).catch(() => undefined);
    if (!curl) {
      console.warn('skipped: curl is not installed');
      t.skip();
      return;
    }
    const s = await h.start({ maxBodyBytes: 1024 * 1024 });
    const file = join(h.dir, 'big.json');
    await writeFile(file, Buffer.alloc(4 * 1024 * 1024, 0x20));
    for (const expectHeader of [[], ['-H', 'Expect:']]) {
      const { stdout } = await promisify(execFile)('curl', [
        '-sk',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        ...expectHeader,
        '-H',
        'content-type: application/json',
        '--data-binary',
        `@${file}`,
        `https://127.0.0.1:${s.address.port}/mutate`,
      ]);
      expect(stdout, `curl ${expectHeader.join(' ')}`).toBe('413');
    }
  });
});

describe('slow clients', () => {
  it('headers or a body that trickle in are cut at the read timeout (408), and the server keeps serving', async () => {
    const s = await h.start({ readTimeoutMs: 600 });
    const headers = await trickle(
      s.address.port,
      ['POST /mutate HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 1\r\n'].concat(Array(40).fill('X-C: 1\r\n')),
      100,
    );
    expect(headers.text).toMatch(/^HTTP\/1\.1 408/);
    expect(headers.ms).toBeLessThan(3000);
    const body = await trickle(
      s.address.port,
      ['POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n'].concat(Array(40).fill('{')),
      100,
    );
    expect(body.text).toMatch(/^HTTP\/1\.1 408/);
    expect(body.ms).toBeLessThan(3000);
    // a TCP connection that never starts the TLS handshake is closed too
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      const c = netConnect(s.address.port, '127.0.0.1');
      c.on('error', () => {});
      c.on('close', () => resolve());
    });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((await call(s, '/mutate', pod('registry.example.com/signed:v1'))).json().response!.allowed).toBe(true);
  });
});

describe('hostile AdmissionReviews: a clear answer in bounded time, the server stays up', () => {
  const review = (object: unknown, uid = 'uid-h') =>
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid, operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'default', object },
    });

  it('deep nesting, a huge uid and non-object objects are refused with 400 before evaluation', async () => {
    const s = await h.start();
    const deep = `${'['.repeat(500_000)}${']'.repeat(500_000)}`;
    const t0 = Date.now();
    const r = await call(s, '/mutate', review(undefined).replace('"object":undefined', '').replace('}}', `,"object":{"x":${deep}}}}`));
    expect(r.status).toBe(400);
    expect(r.json().error).toBe('malformed AdmissionReview: JSON nests deeper than 1000 levels');
    expect(Date.now() - t0).toBeLessThan(2000);
    const uid = await call(s, '/mutate', review({ kind: 'Pod' }, 'u'.repeat(100_000)));
    expect(uid.status).toBe(400);
    expect(uid.json().error).toContain('request.uid is longer than 256 characters');
    const notObject = await call(s, '/mutate', review([1, 2, 3]));
    expect(notObject.json().error).toContain('request.object must be an object');
    expect((await call(s, '/healthz')).status).toBe(200);
  });

  it('10,000 containers and megabyte strings are evaluated in bounded time', async () => {
    const verifier = fakeVerifier();
    const s = await h.start({ verifier, maxBodyBytes: 8 * 1024 * 1024 });
    const many = (image: (i: number) => string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'many', namespace: 'default' },
      spec: { containers: Array.from({ length: 10_000 }, (_, i) => ({ name: `c${i}`, image: image(i) })) },
    });
    let t0 = Date.now();
    const same = (await call(s, '/mutate', review(many(() => 'registry.example.com/signed:v1')))).json().response!;
    expect(same.allowed).toBe(true);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // distinct images: evaluation cost grows faster than their number, so more than the limit is denied unevaluated
    t0 = Date.now();
    const distinct = (await call(s, '/mutate', review(many((i) => `registry.example.com/signed:v${i}`)))).json().response!;
    expect(distinct).toMatchObject({ allowed: false, status: { code: 400 } });
    expect(distinct.status!.message).toBe(
      'vouch does not admit the request: the object lists 10000 distinct images; vouch evaluates at most 200 per request',
    );
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(verifier.calls).toBe(1);
    t0 = Date.now();
    const atLimit = (await call(s, '/mutate', review(many((i) => `registry.example.com/unsigned:v${i % 200}`)))).json().response!;
    expect(atLimit.allowed).toBe(false);
    expect(atLimit.status!.message).toContain('resource Pod/default/many was blocked');
    expect(Date.now() - t0).toBeLessThan(10_000);
    // a 4 MiB image name and a 3 MiB annotation
    t0 = Date.now();
    const huge = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'huge', namespace: 'default', annotations: { note: 'n'.repeat(3 * 1024 * 1024) } },
      spec: { containers: [{ name: 'c', image: `registry.example.com/${'a'.repeat(4 * 1024 * 1024)}:v1` }] },
    };
    const r = await call(s, '/mutate', review(huge));
    expect(r.status).toBe(200);
    expect(r.json().response!.allowed).toBe(false);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect((await call(s, '/mutate', pod('registry.example.com/signed:v1'))).json().response!.allowed).toBe(true);
  }, 60_000);
});

describe('TLS certificate rotation', () => {
  async function writeAtomic(path: string, text: string): Promise<void> {
    await writeFile(`${path}.tmp`, text);
    await rename(`${path}.tmp`, path);
  }
  const fingerprintOf = (port: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(s.getPeerCertificate().fingerprint256);
        s.end();
      });
      s.on('error', reject);
    });

  it('refuses a swapped or mismatched pair naming both files', async () => {
    const d = join(h.dir, 'bad-tls');
    await mkdir(d, { recursive: true });
    const other = await selfSignedTls();
    await writeFile(join(d, 'tls.crt'), h.tls.cert);
    await writeFile(join(d, 'tls.key'), h.tls.key);
    await writeFile(join(d, 'other.key'), other.key);
    const files = (cert: string, key: string) => ({ certFile: join(d, cert), keyFile: join(d, key) });
    await expect(h.start({ tls: files('tls.key', 'tls.crt') })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: `the TLS certificate ${join(d, 'tls.key')} and key ${join(d, 'tls.crt')} cannot be used: the two look swapped: ${join(d, 'tls.key')} holds a private key and ${join(d, 'tls.crt')} a certificate`,
    });
    await expect(h.start({ tls: files('tls.crt', 'other.key') })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining(
        `the private key in ${join(d, 'other.key')} does not belong to the certificate in ${join(d, 'tls.crt')}`,
      ),
    });
    await expect(h.start({ tls: files('tls.crt', 'missing.key') })).rejects.toMatchObject({
      code: 'ERR_IO',
      message: expect.stringContaining(`cannot read the TLS key ${join(d, 'missing.key')}`),
    });
  });

  it('new connections get the new pair without a restart; open connections finish; a bad pair is refused and the old one stays', async () => {
    const d = join(h.dir, 'rotating');
    await mkdir(d, { recursive: true });
    const certFile = join(d, 'tls.crt');
    const keyFile = join(d, 'tls.key');
    await writeFile(certFile, h.tls.cert);
    await writeFile(keyFile, h.tls.key);
    const logs: WebhookLogEntry[] = [];
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = registerWebhookMetrics(registry);
    const s = await h.start({ tls: { certFile, keyFile }, tlsReloadIntervalMs: 100, metrics }, logs);
    const before = await fingerprintOf(s.address.port);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await call(s, '/healthz', undefined, {}, { agent })).status).toBe(200);
    const next = await selfSignedTls();
    await writeAtomic(keyFile, next.key);
    await writeAtomic(certFile, next.cert);
    await until(() => logs.some((l) => l.msg === 'TLS certificate reloaded'));
    const after = await fingerprintOf(s.address.port);
    expect(after).not.toBe(before);
    // the kept-alive connection made before the rotation is still served
    const open = await new Promise<{ reused: boolean; fp: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: s.address.port, path: '/healthz', rejectUnauthorized: false, agent }, (res) => {
        const fp = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
        res.resume();
        res.on('end', () => resolve({ reused: req.reusedSocket, fp }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(open).toEqual({ reused: true, fp: before });
    agent.destroy();
    // a bad pair (the new certificate with the old key): refused, logged with both file names, old pair kept
    await writeAtomic(keyFile, h.tls.key);
    await until(() => logs.some((l) => l.msg.startsWith('TLS certificate reload failed')));
    const failed = logs.find((l) => l.msg.startsWith('TLS certificate reload failed'))!;
    expect(failed).toMatchObject({ level: 'error', certFile, keyFile });
    expect(String(failed.error)).toContain(`the private key in ${keyFile} does not belong to the certificate in ${certFile}`);
    expect(await fingerprintOf(s.address.port)).toBe(after);
    await expect(s.reloadTls()).toRejectWithCode('ERR_CONFIG_INVALID');
    expect((await call(s, '/mutate', pod('registry.example.com/signed:v1'))).json().response!.allowed).toBe(true);
    const text = await registry.metrics();
    expect(text).toMatch(/vouch_webhook_tls_reloads_total\{result="success"\} 1/);
    expect(text).toMatch(/vouch_webhook_tls_reloads_total\{result="error"\} 2/);
  });
});

describe('shutdown', () => {
  it('readiness turns false first, reviews keep being answered during the delay, hanging ones get failurePolicy answers at the bound; none is left unanswered', async () => {
    const logs: WebhookLogEntry[] = [];
    const s = await h.start({ shutdownDelayMs: 300, shutdownTimeoutMs: 400, timeoutMs: 60_000 }, logs);
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const pending = Array.from({ length: 10 }, (_, i) =>
      call(s, '/mutate', pod(i % 2 ? 'registry.example.com/hang:v1' : 'registry.example.com/slow:v1', `uid-${i}`), {}, { agent }),
    );
    await until(() => s.inFlight() === 10);
    const t0 = Date.now();
    const closing = s.close();
    expect(s.isReady()).toBe(false);
    const r = await call(s, '/readyz');
    expect(r.status).toBe(503);
    expect(r.text).toBe('not ready: shutting down\n');
    // still accepting during the delay
    const during = await call(s, '/mutate', pod('registry.example.com/signed:v1', 'uid-during'));
    expect(during.json().response).toMatchObject({ uid: 'uid-during', allowed: true });
    const answers = await Promise.all(pending);
    await closing;
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(300 + 400 + 1500);
    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(200);
      const res = a.json().response!;
      expect(res.uid).toBe(`uid-${i}`);
      if (i % 2) {
        expect(res.allowed).toBe(false);
        expect(res.status!.message).toMatch(
          /the webhook is shutting down and the review did not finish within 400 ms \(failurePolicy Fail\)/,
        );
        expect(a.headers.connection).toBe('close'); // answered after the listener closed
      } else expect(res.allowed).toBe(true);
    }
    expect(logs.at(-1)).toMatchObject({ msg: 'stopped', drained: false, answeredByFailurePolicy: 5 });
    await expect(call(s, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
  });
});

describe('overload and deadlines', () => {
  it('reviews beyond maxInFlight are answered by failurePolicy at once', async () => {
    const s = await h.start({ maxInFlight: 2, timeoutMs: 5000 });
    const slow = [
      call(s, '/mutate', pod('registry.example.com/hang:v1', 'a')),
      call(s, '/mutate', pod('registry.example.com/hang:v2', 'b')),
    ];
    await until(() => s.inFlight() === 2);
    const t0 = Date.now();
    const shed = (await call(s, '/mutate', pod('registry.example.com/signed:v1', 'c'))).json().response!;
    expect(Date.now() - t0).toBeLessThan(2000); // the two in flight wait 5 s for their deadline
    expect(shed).toMatchObject({ uid: 'c', allowed: false });
    expect(shed.status!.message).toBe(
      'vouch could not evaluate the request: 2 reviews are being evaluated, the limit of this replica (failurePolicy Fail)',
    );
    await Promise.all(slow);
  });

  it('a review whose deadline passes says so, not "the operation was aborted"; the shared verification goes on for a later review', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const s = await h.start({
      timeoutMs: 5000,
      verifier: {
        async verifyImage(req) {
          calls++;
          await gate;
          if (req.signal?.aborted) throw new Error('the operation was aborted');
          return { digest: `sha256:${'b'.repeat(64)}` };
        },
      },
    });
    // the first review, with a short API-server budget, times out while the verification hangs
    const first = call(s, '/mutate?timeout=300ms', pod('registry.example.com/signed:v1', 'early'));
    await until(() => calls === 1);
    const second = call(s, '/mutate', pod('registry.example.com/signed:v1', 'late'));
    const early = (await first).json().response!;
    expect(early.allowed).toBe(false);
    expect(early.status!.message).toContain(
      'failed to verify image registry.example.com/signed:v1: .attestors[0].entries[0]: the review deadline of 270 ms was reached before the signature of registry.example.com/signed:v1 was checked',
    );
    expect(early.status!.message).not.toMatch(/aborted/);
    release();
    const late = (await second).json().response!;
    expect(late).toMatchObject({ uid: 'late', allowed: true });
    expect(calls).toBe(1); // one verification served both reviews
  });
});

describe('deadline groups', () => {
  it('reviews waiting at once share deadline groups: each is answered at its own deadline, with no listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    try {
      const s = await h.start({
        timeoutMs: 5000,
        verifier: {
          async verifyImage() {
            await gate;
            return { digest: `sha256:${'b'.repeat(64)}` };
          },
        },
      });
      // connections opened first, so that the reviews arrive within a few milliseconds (a window or two)
      const agent = new Agent({ keepAlive: true, maxSockets: 60, rejectUnauthorized: false });
      await Promise.all(Array.from({ length: 60 }, () => call(s, '/healthz', undefined, {}, { agent })));
      const t0 = Date.now();
      // 60 reviews with the same short API-server budget: a group or two, dozens of waits on its signal
      const short = Array.from({ length: 60 }, (_, i) =>
        call(s, '/mutate?timeout=400ms', pod(`registry.example.com/signed:v${i}`, `s${i}`), {}, { agent }),
      );
      // a longer budget: a group of its own, not stopped with the short ones
      const long = call(s, '/mutate?timeout=3s', pod('registry.example.com/signed:v0', 'long'));
      const answers = await Promise.all(short);
      const shortMs = Date.now() - t0;
      release();
      const late = (await long).json().response!;
      for (const [i, a] of answers.entries()) {
        const r = a.json().response!;
        expect(r).toMatchObject({ uid: `s${i}`, allowed: false });
        expect(r.status!.message).toContain(
          `the review deadline of 360 ms was reached before the signature of registry.example.com/signed:v${i}`,
        );
      }
      expect(shortMs).toBeLessThan(2500);
      expect(late).toMatchObject({ uid: 'long', allowed: true });
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => /MaxListeners|memory leak/i.test(w))).toEqual([]);
      agent.destroy();
    } finally {
      process.off('warning', onWarning);
      release();
    }
  });
});

describe('policy reload failures are visible', () => {
  it('a bad file keeps the good set; readiness stays true and says why; metrics show the failed load', async () => {
    const pdir = join(h.dir, 'reload-visible');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(pdir, 'a.yaml'), seedPolicyYaml({ certPem: h.certPem }));
    const logs: WebhookLogEntry[] = [];
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = registerWebhookMetrics(registry);
    const s = await startWebhookServer({
      policyDir: pdir,
      watch: true,
      verifier: fakeVerifier(),
      tls: h.tls,
      port: 0,
      address: '127.0.0.1',
      metrics,
      log: (e) => logs.push(e),
    });
    try {
      await writeFile(
        join(pdir, 'b.yaml'),
        'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: b}\nspec: {validationFailureAction: Sometimes, rules: []}\n',
      );
      await until(() => logs.some((l) => l.msg === 'policy reload failed; keeping the previous policies'));
      const failed = logs.find((l) => l.msg === 'policy reload failed; keeping the previous policies')!;
      expect(failed).toMatchObject({ level: 'error', code: 'ERR_KYVERNO_POLICY_INVALID', policySet: 1 });
      expect(String(failed.error)).toMatch(/^b\.yaml:4:\d+: unsupported validationFailureAction "Sometimes"/);
      const r = await call(s, '/readyz');
      expect(r.status).toBe(200);
      expect(r.text).toMatch(
        /^ok: 1 policy, set 1 \(serving policy set 1; the last reload failed and was not applied: b\.yaml:4:\d+: unsupported/,
      );
      expect(s.status()).toMatchObject({ ready: true, generation: 1, lastLoadError: expect.stringContaining('b.yaml') });
      let text = await registry.metrics();
      expect(text).toContain('vouch_webhook_policy_last_load_success 0');
      expect(text).toContain('vouch_webhook_policy_set_generation 1');
      expect(text).toMatch(/vouch_webhook_policy_loads_total\{result="error"\} [1-9]/);
      await writeFile(join(pdir, 'b.yaml'), seedPolicyYaml({ certPem: h.certPem, name: 'b' }));
      await until(() => s.status().generation === 2);
      text = await registry.metrics();
      expect(text).toContain('vouch_webhook_policy_last_load_success 1');
      expect(text).toContain('vouch_webhook_policies 2');
      expect((await call(s, '/readyz')).text).toBe('ok: 2 policies, set 2\n');
    } finally {
      await s.close();
    }
  });
});
