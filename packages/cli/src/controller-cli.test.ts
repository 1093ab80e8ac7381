/**
 * `vouch controller` end to end: the built binary against the fake API server (HTTPS, kubeconfig) and
 * an in-memory OCI registry over HTTP holding a signed and an unsigned image.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaType, utf8 } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { jws } from '@vouch/envelope/jws';
import { undiciFetch } from '@vouch/node';
import { sign } from '@vouch/notation';
import { createRegistryClient, remoteRepository } from '@vouch/registry';
import { waitFor } from '@vouch/testing';
import { type FakeApiServer, startFakeApiServer } from '@vouch/testing/kube';
import { freePort, type RunningFakeRegistry, startFakeRegistry } from '@vouch/testing/registry';
import { certificatesToPem, createTestPki } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = new URL('../bin/vouch.mjs', import.meta.url).pathname;
const BUILT = existsSync(new URL('../dist/bin.js', import.meta.url));
if (!BUILT) {
  if (process.env.CI === 'true') throw new Error('packages/cli/dist is missing under CI=true: run pnpm build first');
  console.warn('NOTICE: packages/cli/dist is missing (run pnpm build); skipping the vouch controller end-to-end test');
}

describe.skipIf(!BUILT)('vouch controller', () => {
  let api: FakeApiServer;
  let registry: RunningFakeRegistry;
  let dir: string;
  const http = undiciFetch();
  beforeAll(async () => {
    api = await startFakeApiServer();
    registry = await startFakeRegistry();
    dir = mkdtempSync(join(tmpdir(), 'vouch-controller-cli-'));
    writeFileSync(join(dir, 'kubeconfig'), api.kubeconfig());
  });
  afterAll(async () => {
    await api?.close();
    await registry?.stop();
    await http.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes reports for the running pods, serves metrics, and gives the Lease up on SIGTERM', async () => {
    const pki = await createTestPki({ keySpec: 'EC-256' });
    const client = createRegistryClient({ fetch: http, insecureRegistries: [registry.host] });
    const push = async (name: string, signed: boolean) => {
      const repo = remoteRepository(client, `${registry.host}/${name}`);
      const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
      const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(name));
      const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
      const digest = (await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: 'v1' })).digest;
      if (signed) await sign(digest, { repository: repo, signer: localRawSigner(pki.leaf.privateKey, pki.chain), envelope: jws });
    };
    await push('signed', true);
    await push('unsigned', false);
    api.create({
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'check-images' },
      spec: {
        validationFailureAction: 'Audit',
        background: true,
        rules: [
          {
            name: 'verify',
            match: { any: [{ resources: { kinds: ['Pod'] } }] },
            verifyImages: [
              {
                type: 'Notary',
                mutateDigest: false,
                imageReferences: [`${registry.host}/*`],
                attestors: [{ entries: [{ certificates: { cert: certificatesToPem([pki.root.certificate]) } }] }],
              },
            ],
          },
        ],
      },
    });
    api.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        containers: [
          { name: 'ok', image: `${registry.host}/signed:v1` },
          { name: 'bad', image: `${registry.host}/unsigned:v1` },
        ],
      },
    });
    const metricsPort = await freePort();
    const out: string[] = [];
    const child: ChildProcess = spawn(
      process.execPath,
      [
        BIN,
        'controller',
        '--kubeconfig',
        join(dir, 'kubeconfig'),
        '--namespace',
        'vouch-system',
        '--identity',
        'cli-replica',
        '--insecure-registry',
        registry.host,
        '--metrics-port',
        String(metricsPort),
        '--metrics-address',
        '127.0.0.1',
      ],
      { env: { ...process.env, XDG_CONFIG_HOME: dir, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const report = await waitFor('the report of pod web', () => api.list('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'shop')[0], {
        timeoutMs: 30_000,
      });
      const results = (report as { results: { result: string; properties: Record<string, string> }[] }).results;
      expect(results.map((r) => [r.properties.container, r.result])).toEqual([
        ['containers/bad', 'fail'],
        ['containers/ok', 'pass'],
      ]);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/vouch_controller_leader 1/);
      expect(metrics).toMatch(/vouch_controller_results\{status="pass"\} 1/);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status).toBe(200);
      expect(api.get('coordination.k8s.io/v1', 'Lease', 'vouch-system', 'vouch-controller')?.spec).toMatchObject({
        holderIdentity: 'cli-replica',
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const released = api.get('coordination.k8s.io/v1', 'Lease', 'vouch-system', 'vouch-controller');
      expect((released?.spec as { holderIdentity?: string } | undefined)?.holderIdentity).toBeUndefined();
      expect(released).toBeDefined();
      const lines = out
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { msg: string });
      expect(lines.map((l) => l.msg)).toContain('started leading: this replica is the active scanner');
      expect(lines.at(-1)!.msg).toBe('stopped leading');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
