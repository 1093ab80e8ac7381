/**
 * Webhook under load (reports, not tests). The real `vouch webhook` (bundled from source, its own
 * process) serves HTTPS on 127.0.0.1 with 20 ClusterPolicies of Notary rules over images in a
 * real registry (Debian `docker-registry`), and Debian's `wrk` drives it with realistic
 * AdmissionReviews (Pods with 1–8 containers, Deployments, CronJobs). The baseline is a bare Node
 * HTTPS server in its own process that parses the same bodies and answers a fixed allowed review.
 * On a 2-core machine the load generator competes with the server: each server is pinned to
 * core 1 and wrk (one thread) to core 0 with `taskset`, and the two servers are measured in
 * alternating rounds so that load from elsewhere hits both alike.
 *
 * - webhook-throughput-vs-bare-https: reviews/s of vouch ÷ reviews/s of the bare server, 64
 *   connections, same bodies (median of the per-round ratios). Target ≥ 0.5.
 * - webhook-p99-ms: p99 latency of vouch at 64 connections (median over rounds), with reviews/s
 *   and reviews per CPU-second (per core). Target < 10.
 * - webhook-rss-growth-mib: RSS after 200,000 more warm reviews minus RSS after warm-up. Target < 20.
 * - webhook-cold-distinct-images: a fresh process, 200 distinct signed images behind the fault
 *   proxy answering every request after 50 ms, 400 concurrent reviews naming them: every review
 *   answered allowed within its deadline, registry verifications per distinct digest (value,
 *   target 1) and the peak of concurrent registry requests against the configured limit.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaType, utf8 } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { notationImageVerifier, parsePolicies } from '@vouch/kyverno';
import { undiciFetch } from '@vouch/node';
import { sign } from '@vouch/notation';
import { createRegistryClient, memoryRepository, remoteRepository } from '@vouch/registry';
import { admissionReviewFor, pushTestImage, seedPolicyYaml, selfSignedTls, signTestImage } from '@vouch/testing';
import { registryBinary, startFaultProxy, startRegistry } from '@vouch/testing/registry';
import { certificatesToPem, createTestPki, type TestPki } from '@vouch/x509';
import { createMetricsRegistry, registerWebhookMetrics } from '../packages/cli/src/webhook/metrics.js';
import { startWebhookServer } from '../packages/cli/src/webhook/server.js';
import { emit, median, pool } from './util.js';

const POLICIES = 20;
const WARM_IMAGES = 16;
const COLD_IMAGES = 200;
const COLD_REVIEWS = 400;
const CONNECTIONS = 64;
const RSS_REVIEWS = Number(process.env.BENCH_RSS_REVIEWS ?? 200_000);
const HEAP_REVIEWS = Number(process.env.BENCH_HEAP_REVIEWS ?? 100_000);
// throughput: five alternating rounds (the machine's speed drifts between rounds; the ratio's median holds); latency: three
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LATENCY_ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const COLD_LIMIT = 16;
const CLK_TCK = 100;

/**
 * wrk script: cycles through the bodies (one per line of args[1]); with args[2] = mean gap in ms,
 * each connection waits a random 0.5–1.5 × gap after each answer (a fixed offered load instead of
 * as fast as possible). Prints one JSON summary line.
 */
const WRK_SCRIPT = `
local bodies = {}
local i = 0
local gap = 0
init = function(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  gap = tonumber(args[2] or "0")
  math.randomseed(os.time())
end
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[i])
end
delay = function()
  if gap > 0 then return gap * (0.5 + math.random()) end
  return 0
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;

const BARE_SERVER = `
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
const [cert, key] = [readFileSync(process.argv[2], 'utf8'), readFileSync(process.argv[3], 'utf8')];
const server = createServer({ cert, key, minVersion: 'TLSv1.2', keepAliveTimeout: 30000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'listening', address: 'https://127.0.0.1:' + server.address().port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

interface WrkResult {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

const hasTaskset = process.env.BENCH_PIN !== '0' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const pinned = (core: number, cmd: string, args: string[]): [string, string[]] =>
  hasTaskset ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];

/** A realistic Pod template spec with `n` containers running `images`. */
function podSpec(images: readonly string[], name: string): Record<string, unknown> {
  return {
    serviceAccountName: 'default',
    securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } },
    containers: images.map((image, i) => ({
      name: `${name}-${i}`,
      image,
      imagePullPolicy: 'IfNotPresent',
      ports: [{ name: 'http', containerPort: 8080 + i, protocol: 'TCP' }],
      env: [
        { name: 'LOG_LEVEL', value: 'info' },
        { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
        { name: 'CONFIG', valueFrom: { configMapKeyRef: { name: `${name}-config`, key: 'config.yaml' } } },
      ],
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
      readinessProbe: { httpGet: { path: '/ready', port: 'http', scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 1 },
      livenessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1 },
      volumeMounts: [
        { name: 'config', mountPath: '/etc/app', readOnly: true },
        { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
      ],
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
    })),
    volumes: [
      { name: 'config', configMap: { name: `${name}-config`, defaultMode: 420 } },
      {
        name: 'kube-api-access',
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          ],
        },
      },
    ],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
  };
}

function metadata(name: string, kind: string): Record<string, unknown> {
  return {
    name,
    namespace: 'team-a',
    labels: { app: name, 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'shop', tier: 'backend' },
    annotations: { 'deployment.kubernetes.io/revision': '3', 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' },
    managedFields: [
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        apiVersion: kind === 'Pod' ? 'v1' : kind === 'CronJob' ? 'batch/v1' : 'apps/v1',
        time: '2026-01-12T09:30:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:template': {} } },
      },
    ],
  };
}

/** Pods with 1–8 containers, Deployments and CronJobs over `images`, as AdmissionReview JSON lines. */
export function reviewBodies(images: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < 48; i++) {
    const n = 1 + (i % 8);
    const imgs = Array.from({ length: n }, (_, j) => images[(i * 3 + j) % images.length]!);
    const name = `svc-${i}`;
    let object: Record<string, unknown>;
    if (i % 3 === 0) object = { apiVersion: 'v1', kind: 'Pod', metadata: metadata(name, 'Pod'), spec: podSpec(imgs, name) };
    else if (i % 3 === 1)
      object = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: metadata(name, 'Deployment'),
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: name } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
          template: { metadata: { labels: { app: name } }, spec: podSpec(imgs, name) },
        },
      };
    else
      object = {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: metadata(name, 'CronJob'),
        spec: {
          schedule: '*/15 * * * *',
          concurrencyPolicy: 'Forbid',
          jobTemplate: { spec: { backoffLimit: 2, template: { spec: { ...podSpec(imgs, name), restartPolicy: 'OnFailure' } } } },
        },
      };
    const review = admissionReviewFor(object, `0b6a7f3e-${String(i).padStart(4, '0')}-4c1e-9d55-6f3a2b1c0d9e`);
    (review.request as Record<string, unknown>).namespace = 'team-a';
    out.push(JSON.stringify(review));
  }
  return out;
}

/** Push and sign `names` (`repo:v1` each) in the registry at `host`. */
async function pushSigned(host: string, names: readonly string[], pki: TestPki): Promise<void> {
  const transport = undiciFetch({ connections: 16 });
  try {
    const client = createRegistryClient({ fetch: transport });
    const signer = localRawSigner(pki.leaf.privateKey, pki.chain);
    await pool(names, 16, async (name) => {
      const repo = remoteRepository(client, `${host}/${name}`);
      const config = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
      const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(`layer of ${name}`));
      const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config, layers: [layer] }));
      const d = await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: 'v1' });
      await sign(`${host}/${name}@${d.digest}`, { repository: repo, signer, envelope: jws });
    });
  } finally {
    await transport.close();
  }
}

interface Server {
  child: ChildProcess;
  port: number;
  metricsUrl?: string;
  log: string;
  stop(): Promise<number | null>;
}

/**
 * Starts `node ARGS` (pinned to core 1 unless `pin` is false), its stdout/stderr going to a file;
 * waits for its "listening" line.
 */
async function startServer(dir: string, name: string, nodeArgs: string[], pin = true): Promise<Server> {
  const log = join(dir, `${name}.log`);
  const fd = openSync(log, 'w');
  const [cmd, args] = pin ? pinned(1, process.execPath, nodeArgs) : [process.execPath, nodeArgs];
  const child = spawn(cmd, args, {
    stdio: ['ignore', fd, fd],
    cwd: dir,
    env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir },
  });
  closeSync(fd);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const lines = readFileSync(log, 'utf8').split('\n');
    const listening = lines.find((l) => l.includes('"msg":"listening"'));
    const metrics = lines.find((l) => l.includes('"msg":"metrics listening"'));
    if (listening && (metrics || !nodeArgs.includes('--metrics-port'))) {
      return {
        child,
        port: Number(new URL(JSON.parse(listening).address).port),
        ...(metrics ? { metricsUrl: JSON.parse(metrics).address as string } : {}),
        log,
        stop: async () => {
          if (child.exitCode !== null) return child.exitCode;
          const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
          const code = await exited;
          clearTimeout(t);
          return code;
        },
      };
    }
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${name} did not start:\n${readFileSync(log, 'utf8').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function procStat(pid: number): { cpuSeconds: number; sysSeconds: number; rssMiB: number; hwmMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { cpuSeconds, sysSeconds: Number(fields[12]) / CLK_TCK, rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

async function wrk(dir: string, port: number, seconds: number, path: string, gapMs = 0): Promise<WrkResult> {
  const [cmd, args] = pinned(0, 'wrk', [
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '-s',
    join(dir, 'bodies.lua'),
    `https://127.0.0.1:${port}${path}`,
    '--',
    join(dir, 'bodies.txt'),
    String(gapMs),
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  await new Promise((r) => child.once('exit', r));
  const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${out}`);
  return JSON.parse(line.slice(8)) as WrkResult;
}

function post(
  port: number,
  path: string,
  body: string,
  agent: Agent,
): Promise<{ status: number; json: { response?: { allowed?: boolean; warnings?: string[] } }; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        rejectUnauthorized: false,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text), ms: performance.now() - t0 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const sum = (text: string, re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
const errorsOf = (r: WrkResult) => r.connect + r.read + r.write + r.status + r.timeout;

function bundleCli(dir: string): string {
  const require = createRequire(realpathSync(join(process.cwd(), 'node_modules', 'tsup', 'package.json')));
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = join(dir, 'vouch.mjs');
  esbuild.buildSync({
    entryPoints: [join(process.cwd(), 'packages/cli/src/bin.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    tsconfig: join(process.cwd(), 'tsconfig.base.json'),
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return out;
}

/**
 * The in-process setup: WARM_IMAGES images signed (JWS, P-256 chain) in an in-memory repository,
 * POLICIES seed policies over them, and the real Notary verifier reading that repository.
 */
export async function memorySetup() {
  const pki = await createTestPki({ keySpec: 'EC-256' });
  const repo = memoryRepository();
  const images: string[] = [];
  for (let i = 0; i < WARM_IMAGES; i++) {
    await signTestImage(repo, (await pushTestImage(repo, `v${i}`, `image ${i}`)).digest, pki, 'jws');
    images.push(`bench.example/app:v${i}`);
  }
  const certPem = certificatesToPem([pki.root.certificate]);
  const policies = Array.from({ length: POLICIES }, (_, i) =>
    parsePolicies(seedPolicyYaml({ certPem, name: `verify-${i}`, imageReferences: ['bench.example/*'] })),
  ).flat();
  const verifier = notationImageVerifier({ repositoryFor: () => repo, envelopes: [jws, cose], revocation: false });
  return { images, policies, verifier };
}

/**
 * webhook-heap-growth-after-gc-mib: the webhook server in this process (same code, the real Notary
 * verifier over an in-memory repository, metrics on), driven by wrk; V8's heap used after a
 * forced full collection, after warm-up and after HEAP_REVIEWS more reviews. RSS moves by tens of
 * MiB as V8 sizes its heap; the heap that survives a collection is what a leak would grow.
 */
async function benchHeapAfterGc(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('bench webhook-heap-growth-after-gc-mib: skipped (run through tools/bench.mjs: node --expose-gc)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vouch-bench-heap-'));
  const { images, policies, verifier } = await memorySetup();
  writeFileSync(join(dir, 'bodies.txt'), `${reviewBodies(images).join('\n')}\n`);
  writeFileSync(join(dir, 'bodies.lua'), WRK_SCRIPT);
  const server = await startWebhookServer({
    loadPolicies: async () => policies,
    verifier,
    tls: await selfSignedTls(),
    port: 0,
    address: '127.0.0.1',
    metrics: registerWebhookMetrics(createMetricsRegistry()),
    log: () => {},
  });
  try {
    const heap = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed / 2 ** 20;
    };
    await wrk(dir, server.address.port, 5, '/mutate');
    const before = heap();
    const samples = [before];
    let n = 0;
    while (n < HEAP_REVIEWS) {
      const w = await wrk(dir, server.address.port, 10, '/mutate');
      if (errorsOf(w) > 0) throw new Error(`wrk errors during the heap run: ${JSON.stringify(w)}`);
      n += w.requests;
      samples.push(heap());
    }
    emit(
      'webhook-heap-growth-after-gc-mib',
      samples.at(-1)! - before,
      `V8 heap used after a forced full GC: ${before.toFixed(1)} MiB after warm-up → ${samples.at(-1)!.toFixed(1)} MiB after ${n} more warm reviews (samples ${samples.map((x) => x.toFixed(1)).join(' ')} MiB); in-process server, same code as vouch webhook (real Notary verifier over an in-memory repository, metrics on, logs off), wrk 64 connections, unpinned`,
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchWebhook(only: readonly string[]): Promise<void> {
  const names = [
    'webhook-throughput-vs-bare-https',
    'webhook-p99-ms',
    'webhook-rss-growth-mib',
    'webhook-heap-growth-after-gc-mib',
    'webhook-cold-distinct-images',
  ];
  if (only.length && !names.some((n) => only.includes(n))) return;
  const want = (n: string) => !only.length || only.includes(n);
  if (spawnSync('wrk', ['--version']).error) {
    console.log('bench webhook-*: skipped (wrk is not installed: apt-get install wrk)');
    return;
  }
  if (want('webhook-heap-growth-after-gc-mib')) await benchHeapAfterGc();
  if (!names.some((n) => n !== 'webhook-heap-growth-after-gc-mib' && want(n))) return;
  if (!registryBinary()) {
    console.log('bench webhook-*: skipped (docker-registry is not installed)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vouch-bench-webhook-'));
  const registry = await startRegistry();
  const servers: Server[] = [];
  try {
    const vouch = bundleCli(dir);
    const pki = await createTestPki({ keySpec: 'EC-256' });
    const certPem = certificatesToPem([pki.root.certificate]);
    const tls = await selfSignedTls();
    writeFileSync(join(dir, 'tls.crt'), tls.cert);
    writeFileSync(join(dir, 'tls.key'), tls.key);
    writeFileSync(join(dir, 'bodies.lua'), WRK_SCRIPT);
    writeFileSync(join(dir, 'bare.mjs'), BARE_SERVER);
    const policiesFor = (host: string, sub: string) => {
      const pdir = join(dir, sub);
      spawnSync('mkdir', ['-p', pdir]);
      for (let i = 0; i < POLICIES; i++) {
        writeFileSync(
          join(pdir, `verify-${i}.yaml`),
          seedPolicyYaml({ certPem, name: `verify-${i}`, imageReferences: [`${host}/bench/*`] }),
        );
      }
      return pdir;
    };
    const webhookArgs = (pdir: string, insecure: string, extra: string[] = []) => [
      ...(process.env.BENCH_WEBHOOK_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WEBHOOK_PROF}`] : []),
      vouch,
      'webhook',
      '--policies',
      pdir,
      '--tls-cert',
      join(dir, 'tls.crt'),
      '--tls-key',
      join(dir, 'tls.key'),
      '--port',
      '0',
      '--address',
      '127.0.0.1',
      '--metrics-port',
      '0',
      '--insecure-registry',
      insecure,
      ...extra,
    ];

    if (want('webhook-throughput-vs-bare-https') || want('webhook-p99-ms') || want('webhook-rss-growth-mib')) {
      const warm = Array.from({ length: WARM_IMAGES }, (_, i) => `bench/app-${i}`);
      await pushSigned(registry.host, warm, pki);
      const bodies = reviewBodies(warm.map((n) => `${registry.host}/${n}:v1`));
      writeFileSync(join(dir, 'bodies.txt'), `${bodies.join('\n')}\n`);
      const bodyBytes = bodies.map((b) => Buffer.byteLength(b));
      const v = await startServer(dir, 'vouch', webhookArgs(policiesFor(registry.host, 'policies'), registry.host));
      servers.push(v);
      const bare = await startServer(dir, 'bare', [join(dir, 'bare.mjs'), join(dir, 'tls.crt'), join(dir, 'tls.key')]);
      servers.push(bare);
      // warm the caches and check every body is allowed by a decision (not by failurePolicy)
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      for (const b of bodies) {
        const r = await post(v.port, '/mutate', b, agent);
        if (r.status !== 200 || r.json.response?.allowed !== true || r.json.response?.warnings)
          throw new Error(`warm-up review not allowed: ${JSON.stringify(r.json.response)}`);
      }
      agent.destroy();
      await wrk(dir, v.port, 3, '/mutate');
      await wrk(dir, bare.port, 3, '/mutate');

      const vouchRuns: WrkResult[] = [];
      const bareRuns: WrkResult[] = [];
      const ratios: number[] = [];
      let cpu = 0;
      let bareCpu = 0;
      let sys = 0;
      let bareSys = 0;
      let wall = 0;
      for (let r = 0; r < ROUNDS; r++) {
        const b0 = procStat(bare.child.pid!);
        const b = await wrk(dir, bare.port, SECONDS, '/mutate');
        const b1 = procStat(bare.child.pid!);
        bareCpu += b1.cpuSeconds - b0.cpuSeconds;
        bareSys += b1.sysSeconds - b0.sysSeconds;
        const c0 = procStat(v.child.pid!);
        const x = await wrk(dir, v.port, SECONDS, '/mutate');
        const c1 = procStat(v.child.pid!);
        cpu += c1.cpuSeconds - c0.cpuSeconds;
        sys += c1.sysSeconds - c0.sysSeconds;
        wall += x.durationUs / 1e6;
        bareRuns.push(b);
        vouchRuns.push(x);
        ratios.push(x.requests / x.durationUs / (b.requests / b.durationUs));
      }
      const rps = (w: WrkResult) => w.requests / (w.durationUs / 1e6);
      const vouchRps = median(vouchRuns.map(rps));
      const bareRps = median(bareRuns.map(rps));
      const errors = [...vouchRuns, ...bareRuns].reduce((n, w) => n + errorsOf(w), 0);
      const served = vouchRuns.reduce((n, w) => n + w.requests, 0);
      const perCore = vouchRuns.reduce((n, w) => n + w.requests, 0) / cpu;
      const barePerCore = bareRuns.reduce((n, w) => n + w.requests, 0) / bareCpu;
      const scrape = await fetch(v.metricsUrl!).then((res) => res.text());
      const allowed = sum(scrape, /vouch_webhook_review_duration_seconds_count\{[^}]*outcome="allowed"[^}]*\} (\d+)/g);
      const other = sum(scrape, /vouch_webhook_review_duration_seconds_count\{[^}]*outcome="(?!allowed)[^"]*"[^}]*\} (\d+)/g);
      const pin = hasTaskset ? 'server pinned to core 1, wrk -t1 to core 0' : 'no taskset: unpinned';
      const setup = `${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${SECONDS} s, ${bodies.length} bodies (${Math.min(...bodyBytes)}–${Math.max(...bodyBytes)} bytes: Pods 1–8 containers, Deployments, CronJobs), ${POLICIES} policies, ${WARM_IMAGES} signed images, warm caches, ${pin}`;
      if (want('webhook-throughput-vs-bare-https'))
        emit(
          'webhook-throughput-vs-bare-https',
          median(ratios),
          `vouch ${vouchRps.toFixed(0)} reviews/s vs bare Node HTTPS ${bareRps.toFixed(0)} reviews/s (medians; per-round ratios ${ratios.map((x) => x.toFixed(2)).join(', ')}); CPU: vouch ${perCore.toFixed(0)} vs bare ${barePerCore.toFixed(0)} reviews per CPU-second (ratio ${(perCore / barePerCore).toFixed(2)}; in the kernel: vouch ${((1e6 * sys) / served).toFixed(0)} µs, bare ${((1e6 * bareSys) / bareRuns.reduce((n, w) => n + w.requests, 0)).toFixed(0)} µs per review); ${setup}; wrk errors ${errors}; reviews allowed by a decision ${allowed}, any other outcome ${other}; target >= 0.5`,
        );
      if (want('webhook-p99-ms')) {
        // latency under a fixed offered load (half of vouch's measured capacity) on the same 64
        // connections; at saturation a closed loop only measures queueing (64 ÷ throughput)
        const rate = Math.max(50, Math.round(vouchRps / 2));
        const gapMs = (CONNECTIONS / rate) * 1000;
        const loaded: WrkResult[] = [];
        const bareLoaded: WrkResult[] = [];
        for (let r = 0; r < LATENCY_ROUNDS; r++) {
          bareLoaded.push(await wrk(dir, bare.port, SECONDS * 2, '/mutate', gapMs));
          loaded.push(await wrk(dir, v.port, SECONDS * 2, '/mutate', gapMs));
        }
        const ms = (us: number) => (us / 1000).toFixed(2);
        emit(
          'webhook-p99-ms',
          median(loaded.map((w) => w.p99Us / 1000)),
          `p50 ${ms(median(loaded.map((w) => w.p50Us)))} ms, max ${ms(Math.max(...loaded.map((w) => w.maxUs)))} ms at ${CONNECTIONS} connections offering ${median(loaded.map(rps)).toFixed(0)} reviews/s (half the measured capacity; bare server at the same load: p99 ${ms(median(bareLoaded.map((w) => w.p99Us)))} ms); capacity ${vouchRps.toFixed(0)} reviews/s on ${(cpu / wall).toFixed(2)} cores = ${perCore.toFixed(0)} reviews per CPU-second (per core); saturated (closed loop, 64 in flight) p99 ${ms(median(vouchRuns.map((w) => w.p99Us)))} ms vs bare ${ms(median(bareRuns.map((w) => w.p99Us)))} ms; ${served} reviews at saturation; wrk errors ${[...loaded, ...bareLoaded].reduce((n, w) => n + errorsOf(w), 0)}; target < 10`,
        );
      }

      if (want('webhook-rss-growth-mib')) {
        const before = procStat(v.child.pid!);
        let n = 0;
        let chunks = 0;
        const samples: number[] = [before.rssMiB];
        while (n < RSS_REVIEWS) {
          const w = await wrk(dir, v.port, Math.min(20, Math.max(2, Math.ceil((RSS_REVIEWS - n) / Math.max(1, vouchRps)))), '/mutate');
          if (errorsOf(w) > 0) throw new Error(`wrk errors during the RSS run: ${JSON.stringify(w)}`);
          n += w.requests;
          chunks++;
          samples.push(procStat(v.child.pid!).rssMiB);
        }
        const after = procStat(v.child.pid!);
        // RSS swings by ±20 MiB as V8 grows and shrinks its heap: compare the medians of the first
        // and last five samples (a leak moves both the median and the trend), and print every sample
        const k = Math.min(5, Math.floor(samples.length / 2));
        const growth = median(samples.slice(-k)) - median(samples.slice(0, k));
        emit(
          'webhook-rss-growth-mib',
          growth,
          `median RSS of the last ${k} samples minus the first ${k}, over ${n} warm reviews after warm-up and the throughput rounds (${chunks} wrk runs of ${CONNECTIONS} connections, a sample after each: ${samples.map((x) => x.toFixed(0)).join(' ')} MiB; first ${before.rssMiB.toFixed(1)}, last ${after.rssMiB.toFixed(1)} MiB); peak RSS ${after.hwmMiB.toFixed(1)} MiB; target < 20`,
        );
      }
      const code = await v.stop();
      await bare.stop();
      servers.length = 0;
      if (code !== 0) throw new Error(`vouch webhook exited ${code} on SIGTERM`);
    }

    if (want('webhook-cold-distinct-images')) {
      const cold = Array.from({ length: COLD_IMAGES }, (_, i) => `bench/cold-${i}`);
      await pushSigned(registry.host, cold, pki);
      const proxy = await startFaultProxy(registry.url, [{ path: /./, times: Number.POSITIVE_INFINITY, action: { delayMs: 50 } }]);
      try {
        const v = await startServer(
          dir,
          'vouch-cold',
          webhookArgs(policiesFor(proxy.host, 'policies-cold'), proxy.host, ['--registry-concurrency', String(COLD_LIMIT)]),
          false, // not pinned: verification's WebCrypto work runs on libuv's thread pool, and the client here is mostly idle
        );
        servers.push(v);
        proxy.log.length = 0;
        proxy.resetPeak();
        const images = cold.map((n) => `${proxy.host}/${n}:v1`);
        const reviews = Array.from({ length: COLD_REVIEWS }, (_, i) => {
          const n = 1 + (i % 8);
          const imgs = Array.from({ length: n }, (_, j) => images[(i + j * 50) % COLD_IMAGES]!);
          const review = admissionReviewFor(
            { apiVersion: 'v1', kind: 'Pod', metadata: metadata(`cold-${i}`, 'Pod'), spec: podSpec(imgs, `cold-${i}`) },
            `cold-${i}`,
          );
          return JSON.stringify(review);
        });
        const deadlineMs = 8000;
        const cpu0 = procStat(v.child.pid!).cpuSeconds;
        // one connection per review: all 400 are in flight at once, as the API server sends them
        const agent = new Agent({ keepAlive: true, maxSockets: COLD_REVIEWS });
        const t0 = performance.now();
        const answers = await Promise.all(reviews.map((b) => post(v.port, '/mutate', b, agent)));
        const totalMs = performance.now() - t0;
        agent.destroy();
        const inTime = answers.filter((a) => a.status === 200 && a.ms < deadlineMs);
        const allowed = answers.filter((a) => a.json.response?.allowed === true && !a.json.response?.warnings);
        const lat = answers.map((a) => a.ms).sort((x, y) => x - y);
        // one "registry verification" = the signature listing of a digest (docker-registry: the referrers tag schema index)
        const perDigest = new Map<string, number>();
        for (const e of proxy.log) {
          const m = /^\/v2\/(.+)\/manifests\/(sha256-[0-9a-f]{64})$/.exec(e.path);
          if (e.method === 'GET' && m) perDigest.set(`${m[1]}@${m[2]}`, (perDigest.get(`${m[1]}@${m[2]}`) ?? 0) + 1);
        }
        const counts = [...perDigest.values()];
        const { hwmMiB: coldPeak, cpuSeconds: cpu1 } = procStat(v.child.pid!);
        const scrape = await fetch(v.metricsUrl!).then((res) => res.text());
        const misses = sum(scrape, /vouch_webhook_verifications_total\{kind="signature",result="verified",cache="miss"\} (\d+)/g);
        const coalesced = sum(scrape, /vouch_webhook_verifications_total\{kind="signature",result="[^"]+",cache="coalesced"\} (\d+)/g);
        emit(
          'webhook-cold-distinct-images',
          counts.length ? Math.max(...counts) : Number.NaN,
          `registry verifications per distinct digest (max; ${perDigest.size} digests listed, ${counts.filter((c) => c === 1).length} exactly once; verifier runs ${misses} for ${COLD_IMAGES} images, ${coalesced} waits joined one in flight); ${COLD_REVIEWS} concurrent reviews (Pods of 1–8 of ${COLD_IMAGES} distinct signed images, one connection each) against a fresh, unpinned process, registry answering after 50 ms (fault proxy): ${inTime.length}/${COLD_REVIEWS} answered within the ${deadlineMs} ms deadline, ${allowed.length}/${COLD_REVIEWS} allowed by a decision; latency p50 ${lat[Math.floor(lat.length / 2)]!.toFixed(0)} ms, max ${lat.at(-1)!.toFixed(0)} ms, all in ${totalMs.toFixed(0)} ms using ${(cpu1 - cpu0).toFixed(1)} s of webhook CPU; ${proxy.log.length} registry requests, peak ${proxy.inFlight().peak} concurrent (limit --registry-concurrency ${COLD_LIMIT}); peak RSS ${coldPeak.toFixed(1)} MiB; target 1`,
        );
        await v.stop();
        servers.length = 0;
      } finally {
        await proxy.stop();
      }
    }
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    await registry.stop();
    if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
