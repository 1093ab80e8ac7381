/**
 * Helpers shared by the webhook tests (not exported from @vouch/cli): a fake verifier, an HTTPS
 * client that reports what the server answered, and a harness that starts servers and stops
 * them after each test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VouchError } from '@vouch/core';
import { type AdmissionReview, type KyvernoPolicy, type NotaryImageVerifier, parsePolicies } from '@vouch/kyverno';
import { certificatesToPem, createTestPki } from '@vouch/x509';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { admissionReviewFor, seedPolicyYaml, selfSignedTls, workloads } from '../../kyverno/testing.js';
import { runCli } from '../../run.js';
import { startWebhookServer, type WebhookLogEntry, type WebhookServer, type WebhookServerOptions } from '../server.js';

export const DIGEST = `sha256:${'a'.repeat(64)}`;

/** Images under registry.example.com/signed verify; /slow waits 300 ms (honouring abort); /hang never answers. */
export function fakeVerifier(): NotaryImageVerifier & { calls: number } {
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

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): AdmissionReview & { error?: string };
}

/** One HTTPS request to `port` (no certificate check); resolves with whatever the server answered. */
export function call(
  target: { address: { port: number } } | number,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  o: { method?: string; agent?: Agent } = {},
): Promise<Reply> {
  const port = typeof target === 'number' ? target : target.address.port;
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: o.method ?? (payload === undefined ? 'GET' : 'POST'),
        rejectUnauthorized: false,
        agent: o.agent ?? false,
        headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Runs `vouch ARGS` in-process in `dir` (also its HOME); `lines()` parses its JSON log so far. */
export function runVouch(dir: string, args: string[]) {
  let out = '';
  let err = '';
  const done = runCli(args, {
    stdout: { write: (x: string) => (out += x) },
    stderr: { write: (x: string) => (err += x) },
    cwd: dir,
    env: { HOME: dir },
  });
  const lines = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as WebhookLogEntry);
  return { done, lines, err: () => err };
}

/** An AdmissionReview of a Pod running `image`. */
export const pod = (image: string, uid = 'uid-1') => admissionReviewFor(workloads(image)[0]!, uid);

/** Poll `cond` every 25 ms for up to `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Test state and a `start` that defaults to the fake verifier and a seed policy; servers stop after each test. */
export interface Harness {
  tls: { cert: string; key: string };
  certPem: string;
  dir: string;
  policies(o?: { failurePolicy?: 'Fail' | 'Ignore' }): KyvernoPolicy[];
  start(o?: Partial<WebhookServerOptions>, logs?: WebhookLogEntry[]): Promise<WebhookServer>;
}

/** Registers the hooks of a webhook test file and returns its harness. */
export function webhookHarness(): Harness {
  const servers: WebhookServer[] = [];
  const h: Harness = {
    tls: { cert: '', key: '' },
    certPem: '',
    dir: '',
    policies: (o = {}) => parsePolicies(seedPolicyYaml({ certPem: h.certPem, ...o })),
    async start(o = {}, logs = []) {
      const s = await startWebhookServer({
        loadPolicies: async () => h.policies(),
        verifier: fakeVerifier(),
        tls: h.tls,
        port: 0,
        address: '127.0.0.1',
        log: (e) => logs.push(e),
        ...o,
      });
      servers.push(s);
      return s;
    },
  };
  beforeAll(async () => {
    h.tls = await selfSignedTls();
    const pki = await createTestPki({ keySpec: 'EC-256' });
    h.certPem = certificatesToPem([pki.root.certificate]);
    h.dir = await mkdtemp(join(tmpdir(), 'vouch-webhook-'));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await rm(h.dir, { recursive: true, force: true });
  });
  return h;
}
