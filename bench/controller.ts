/**
 * Cluster-mode benchmarks (reports, not tests):
 * - scan-10k-pods-peak-rss-mib: peak RSS of the controller while it scans 10,000 Pods running 500
 *   distinct images (5% of them unsigned) from the fake API server, which runs in a child process so
 *   that only the controller's memory is measured. Also printed: the initial scan, a full re-scan
 *   (verifications per distinct digest, report writes: none expected), and a re-scan after signatures of
 *   5 images were removed (writes only for the pods running them).
 * - scan-10k-pods-rescan-s: the full re-scan's duration, with its ratio to a bare paginated list of
 *   the same pods (the API's own cost) measured in the same run.
 * - controller-registry-requests-per-verification: registry HTTP requests of one cold verification of a
 *   tag, with the Referrers API and with the tag-schema fallback (in-memory registry over HTTP).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MediaType, utf8 } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { notationImageVerifier } from '@vouch/kyverno';
import { undiciFetch } from '@vouch/node';
import { kubeClient, listPaged, loadKubeConfig, startController } from '@vouch/node/controller';
import { sign } from '@vouch/notation';
import { createRegistryClient, remoteRepository } from '@vouch/registry';
import { podObject, policyObject, REGISTRY, signedImages } from '@vouch/testing/controller';
import { startFakeApiServer } from '@vouch/testing/kube';
import { startFakeRegistry } from '@vouch/testing/registry';
import { certificatesToPem, createTestPki } from '@vouch/x509';
import { emit } from './util.js';

const PODS = Number(process.env.BENCH_PODS ?? 10_000);
const IMAGES = 500;
const NAMESPACES = 50;

/** The child process: the fake API server, seeded with the pods and the policy. */
export async function apiServerRole(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  const first = await new Promise<string>((resolve) => lines.once('line', resolve));
  const { certPem, pods } = JSON.parse(first) as { certPem: string; pods: number };
  const server = await startFakeApiServer({ bookmarkIntervalMs: 30_000, maxHistory: 1_000_000 });
  server.create(policyObject({ name: 'check-images', certPem, refs: [`${REGISTRY}/*`] }));
  for (let i = 0; i < pods; i++) {
    server.create(podObject(`pod-${i}`, `ns-${i % NAMESPACES}`, { app: `${REGISTRY}/app-${i % IMAGES}:v1` }));
  }
  process.stdout.write(`${JSON.stringify({ kubeconfig: server.kubeconfig() })}\n`);
  lines.on('close', () => void server.close().then(() => process.exit(0)));
}

function startApiChild(certPem: string): Promise<{ child: ChildProcess; kubeconfig: string }> {
  const child = spawn(process.execPath, [process.argv[1]!], {
    env: { ...process.env, VOUCH_BENCH_ROLE: 'apiserver' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin!.write(`${JSON.stringify({ certPem, pods: PODS })}\n`);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the API server child exited (${code})`)));
    createInterface({ input: child.stdout! }).once('line', (l) =>
      resolve({ child, kubeconfig: (JSON.parse(l) as { kubeconfig: string }).kubeconfig }),
    );
  });
}

const mib = (kb: number) => kb / 1024;

/** scan-10k-pods-peak-rss-mib and scan-10k-pods-rescan-s */
export async function benchScan10k(): Promise<void> {
  const images = await signedImages();
  const digests: string[] = [];
  for (let i = 0; i < IMAGES; i++) digests.push(await images.push(`app-${i}`, 'v1', i % 20 !== 0));
  const { child, kubeconfig } = await startApiChild(images.certPem);
  try {
    const dir = mkdtempSync(join(tmpdir(), 'vouch-bench-kube-'));
    writeFileSync(join(dir, 'config'), kubeconfig);
    const kube = kubeClient(loadKubeConfig({ kubeconfig: join(dir, 'config') }));
    rmSync(dir, { recursive: true, force: true });
    // baseline: a bare paginated list of the pods (what the API costs without any evaluation)
    const tl = performance.now();
    let listed = 0;
    await listPaged(kube, { apiVersion: 'v1', kind: 'Pod', pageSize: 500 }, async (items) => {
      listed += items.length;
    });
    const listMs = performance.now() - tl;
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage().rss;
    const controller = startController({
      kube,
      verifier: images.verifier,
      namespace: 'vouch-system',
      scanIntervalMs: 0,
      reportWritesPerSecond: 100_000,
      concurrency: 32,
    });
    try {
      const t0 = performance.now();
      const initial = await controller.initialScan();
      const initialMs = performance.now() - t0;
      const v0 = images.verified.length;
      const rescan = await controller.scanNow();
      const rescanVerifications = images.verified.length - v0;
      for (let i = 1; i <= 5; i++) await images.unsign(`app-${i}`, digests[i]!);
      const v1 = images.verified.length;
      const changed = await controller.scanNow();
      const changedVerifications = images.verified.length - v1;
      const peak = mib(process.resourceUsage().maxRSS);
      const s = controller.stats();
      emit(
        'scan-10k-pods-peak-rss-mib',
        peak,
        `${PODS} Pods (listed ${listed}) in ${NAMESPACES} namespaces, ${IMAGES} distinct images (5% unsigned); RSS before the controller ${(rssBefore / 1048576).toFixed(1)} MiB; ` +
          `initial scan ${(initialMs / 1000).toFixed(1)} s (${initial.resources} evaluated, ${initial.writes} reports created, ${v0} verifications); ` +
          `re-scan ${(rescan.durationMs / 1000).toFixed(1)} s (${rescan.resources} evaluated, ${rescanVerifications} verifications, ${rescan.writes} writes); ` +
          `after removing 5 images' signatures ${(changed.durationMs / 1000).toFixed(1)} s (${changedVerifications} verifications, ${changed.writes} writes); ` +
          `state held for ${s.tracked} workloads`,
      );
      emit(
        'scan-10k-pods-rescan-s',
        rescan.durationMs / 1000,
        `full re-scan of ${PODS} Pods / ${IMAGES} digests: ${(rescan.durationMs / listMs).toFixed(2)}x a bare paginated list of them (${(listMs / 1000).toFixed(2)} s); ${rescanVerifications} verifications (target ${IMAGES}: one per distinct digest), ${rescan.writes} report writes (target 0: nothing changed)`,
      );
      if (rescanVerifications !== IMAGES || rescan.writes !== 0 || changed.writes !== (5 * PODS) / IMAGES) {
        console.error(
          `bench scan-10k-pods: expected ${IMAGES} verifications and 0 writes on the re-scan, ${(5 * PODS) / IMAGES} writes after the change; got ${rescanVerifications}, ${rescan.writes}, ${changed.writes}`,
        );
        process.exitCode = 1;
      }
    } finally {
      await controller.close({ release: false });
    }
  } finally {
    child.stdin!.end();
    await new Promise((r) => child.once('exit', r));
  }
}

/** controller-registry-requests-per-verification */
export async function benchRegistryRequests(): Promise<void> {
  const http = undiciFetch();
  const out: string[] = [];
  let withApi = 0;
  for (const referrersApi of [true, false]) {
    const registry = await startFakeRegistry({ referrersApi });
    try {
      const pki = await createTestPki({ keySpec: 'EC-256' });
      const client = createRegistryClient({ fetch: http, insecureRegistries: [registry.host] });
      const repo = remoteRepository(client, `${registry.host}/app`);
      const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
      const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8('app'));
      const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
      const digest = (await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: 'v1' })).digest;
      await sign(digest, { repository: repo, signer: localRawSigner(pki.leaf.privateKey, pki.chain), envelope: jws });
      // a fresh client (no cached token or manifest), as a new scan run meets a registry
      const fresh = createRegistryClient({ fetch: http, insecureRegistries: [registry.host] });
      const verifier = notationImageVerifier({
        repositoryFor: (ref) => remoteRepository(fresh, `${ref.registry}/${ref.repository}`),
        envelopes: [jws, cose],
        revocation: false,
      });
      const n0 = registry.requests.length;
      await verifier.verifyImage({
        image: `${registry.host}/app:v1`,
        attestor: { certificates: certificatesToPem([pki.root.certificate]) },
      });
      const n = registry.requests.length - n0;
      if (referrersApi) withApi = n;
      out.push(`${referrersApi ? 'Referrers API' : 'tag-schema fallback'}: ${n} (${registry.requests.slice(n0).join(', ')})`);
    } finally {
      await registry.stop();
    }
  }
  await http.close();
  emit(
    'controller-registry-requests-per-verification',
    withApi,
    `registry HTTP requests of one cold verification of a tag; ${out.join('; ')}`,
  );
}
