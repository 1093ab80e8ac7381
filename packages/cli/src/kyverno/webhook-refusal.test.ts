import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVouchError, VouchError } from '@vouch/core';
import type { NotaryImageVerifier } from '@vouch/kyverno';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../run.js';
import { startWebhookServer, type WebhookLogEntry } from '../webhook/server.js';
import { loadPolicyDir } from './load.js';
import { admissionReviewFor, selfSignedTls, workloads } from './testing.js';

// issue 11 defect 1: the admission webhook never runs a policy it cannot evaluate; it does not become ready.

const COSIGN = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: cosign
spec:
  validationFailureAction: Enforce
  webhookConfiguration:
    failurePolicy: Ignore
  rules:
    - name: verify
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - imageReferences: ["ghcr.io/*"]
          attestors:
            - entries:
                - keys:
                    publicKeys: PEM
                    signatureAlgorithm: sha512
`;

let dir: string;

const verifier: NotaryImageVerifier = {
  async verifyImage() {
    throw new VouchError('ERR_SIGNATURE_NOT_FOUND', 'unsigned');
  },
};

function get(port: number, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' };
    const method = body === undefined ? 'GET' : 'POST';
    const req = request({ host: '127.0.0.1', port, path, method, headers, rejectUnauthorized: false, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-refusal-'));
  await mkdir(join(dir, 'policies'), { recursive: true });
  await writeFile(join(dir, 'policies', 'cosign.yaml'), COSIGN);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the webhook refuses policies it cannot evaluate', () => {
  it('loadPolicyDir: ERR_UNSUPPORTED naming the file, line and construct', async () => {
    let err: unknown;
    try {
      await loadPolicyDir(join(dir, 'policies'));
    } catch (e) {
      err = e;
    }
    expect(isVouchError(err) && err.code).toBe('ERR_UNSUPPORTED');
    expect((err as Error).message).toMatch(/^cosign\.yaml:\d+:\d+: vouch cannot evaluate a Cosign `signatureAlgorithm` other than sha256/);
  });

  it('startWebhookServer: refuses to start (nothing listens); with watch it serves not ready, readyz 503 with the reason, reviews denied', async () => {
    const logs: WebhookLogEntry[] = [];
    const options = {
      policyDir: join(dir, 'policies'),
      verifier,
      tls: await selfSignedTls(),
      port: 0,
      address: '127.0.0.1',
      log: (e: WebhookLogEntry) => logs.push(e),
    };
    await expect(startWebhookServer(options)).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED' });
    expect(logs.some((l) => l.msg === 'listening')).toBe(false);
    const s = await startWebhookServer({ ...options, watch: true });
    try {
      const readyz = await get(s.address.port, '/readyz');
      expect(readyz.status).toBe(503);
      expect(readyz.text).toContain('vouch cannot evaluate a Cosign `signatureAlgorithm` other than sha256');
      expect(s.isReady()).toBe(false);
      const review = admissionReviewFor(workloads('ghcr.io/org/unsigned:v1')[0]!);
      const answer = JSON.parse((await get(s.address.port, '/mutate', review)).text);
      expect(answer.response).toMatchObject({ uid: 'uid-1', allowed: false });
      expect(logs.some((l) => l.msg.startsWith('policies could not be loaded') && String(l.error).includes('vouch cannot evaluate'))).toBe(
        true,
      );
    } finally {
      await s.close();
    }
  });

  it('vouch webhook exits 1 with the reason instead of serving', async () => {
    const tls = await selfSignedTls();
    await writeFile(join(dir, 'tls.crt'), tls.cert);
    await writeFile(join(dir, 'tls.key'), tls.key);
    let out = '';
    let err = '';
    const code = await runCli(
      ['webhook', '--policies', 'policies', '--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--port', '0', '--address', '127.0.0.1'],
      { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, cwd: dir, env: { HOME: dir } },
    );
    expect(code).toBe(1);
    expect(err).toMatch(/^Error: cosign\.yaml:\d+:\d+: vouch cannot evaluate a Cosign `signatureAlgorithm` other than sha256/);
    expect(out).toContain('policies could not be loaded');
  });
});
