#!/usr/bin/env node
// Runs the browser run's bundle (tools/browser/build.mjs: the smoke scenarios and the
// runtime-agnostic conformance handlers over the embedded upstream vectors) in Deno and Bun, as
// plain ESM scripts: no Node built-ins, no permissions (Deno runs it with none), and in workerd
// (Cloudflare's runtime) as a module worker answering one request on 127.0.0.1. Each runtime
// hands back its results as JSON, which this driver collects.
//
//   node tools/runtimes/run.mjs [deno|bun|workerd]…   prints a summary; exit 1 when a smoke scenario fails
//
// The runtimes are found as VOUCH_DENO / VOUCH_BUN / VOUCH_WORKERD, else on PATH (.ci/run
// installs them from the npm registry into its own prefix).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBrowserRun } from '../browser/build.mjs';

const MARKER = '__VOUCH_RUNTIME_RESULTS__';

// Appended to the bundle: wait for the page script's globalThis.__results, print it, exit.
const FOOTER = `
;(async () => {
  const deadline = Date.now() + 280000;
  while (!globalThis.__results?.done && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const r = globalThis.__results ?? { done: true, smoke: [], modules: [], cases: [], sigstore: [], error: 'no results before the deadline' };
  console.log(${JSON.stringify(MARKER)} + JSON.stringify(r));
})();
`;

/** How each runtime runs a script (Deno: no permission granted, no prompt). */
export const RUNTIMES = {
  deno: { env: 'VOUCH_DENO', command: 'deno', args: (file) => ['run', '--quiet', '--no-prompt', '--no-config', file] },
  bun: { env: 'VOUCH_BUN', command: 'bun', args: (file) => ['run', '--no-install', file] },
  workerd: { env: 'VOUCH_WORKERD', command: 'workerd' },
};

// workerd allows no I/O, timers or randomness at global scope: the bundle only registers its run
// (__vouchRun) and the worker runs it while handling the request.
const WORKER_HEADER = 'globalThis.__vouchNoAutorun = true;\n';
const WORKER_FOOTER = `
export default {
  async fetch() {
    try {
      return Response.json(await globalThis.__vouchRun());
    } catch (e) {
      return Response.json({ done: true, smoke: [], modules: [], cases: [], sigstore: [], error: String(e?.stack ?? e) });
    }
  },
};
`;

function workerdConfig(port) {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.mjs") ],
  compatibilityDate = "2024-09-23",
);
`;
}

/** What a runtime that produced no results reports. */
function noResults(version, error) {
  return { done: true, smoke: [], modules: [], cases: [], sigstore: [], version, error };
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Serve the worker with workerd on a free 127.0.0.1 port, ask it once, stop it (also on failure). */
async function runInWorkerd(bin, dir, code, timeoutMs) {
  writeFileSync(join(dir, 'worker.mjs'), WORKER_HEADER + code + WORKER_FOOTER);
  const port = await freePort();
  writeFileSync(join(dir, 'config.capnp'), workerdConfig(port));
  const child = spawn(bin, ['serve', join(dir, 'config.capnp'), '--experimental'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stderr += d));
  const exited = new Promise((ok) => child.once('exit', ok));
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) });
        return { results: await res.json(), stderr };
      } catch (e) {
        if (child.exitCode !== null || Date.now() > deadline) return { results: undefined, stderr: `${stderr}\n${e}` };
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

function onPath(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** The runtime's executable, or undefined when it is not installed. */
export function runtimeBinary(name) {
  const rt = RUNTIMES[name];
  const given = process.env[rt.env];
  if (given) return existsSync(given) ? given : undefined;
  return onPath(rt.command);
}

function run(bin, args, timeoutMs) {
  return new Promise((resolveRun) => {
    execFile(
      bin,
      args,
      { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) => resolveRun({ err, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

/**
 * Build the bundle (or reuse `build`), run it in runtime `name`; resolves with the results the
 * script printed plus `version` and the bundle's `build` facts. The temporary script is removed.
 * @param {'deno' | 'bun' | 'workerd'} name
 * @param {{ build?: Awaited<ReturnType<typeof buildBrowserRun>>, timeoutMs?: number }} [options]
 */
export async function runInRuntime(name, { build, timeoutMs = 300_000 } = {}) {
  const bin = runtimeBinary(name);
  if (!bin) throw new Error(`${name} is not installed (set ${RUNTIMES[name].env} or put ${RUNTIMES[name].command} on PATH)`);
  const b = build ?? (await buildBrowserRun());
  const dir = mkdtempSync(join(tmpdir(), `vouch-${name}-`));
  try {
    const version = (await run(bin, ['--version'], 30_000)).stdout.trim().split('\n')[0];
    if (name === 'workerd') {
      const w = await runInWorkerd(bin, dir, b.code, timeoutMs);
      if (!w.results) return noResults(version, `workerd answered no results:\n${w.stderr.slice(-4000)}`);
      return { ...w.results, version, stderr: w.stderr, build: { bytes: b.bytes, included: b.included, excluded: b.excluded } };
    }
    const file = join(dir, 'run.mjs');
    writeFileSync(file, b.code + FOOTER);
    const r = await run(bin, RUNTIMES[name].args(file), timeoutMs);
    const line = r.stdout.split('\n').find((l) => l.startsWith(MARKER));
    if (!line) return noResults(version, `${name} printed no results: ${r.err?.message ?? ''}\n${r.stderr.slice(-4000)}`);
    const results = JSON.parse(line.slice(MARKER.length));
    return { ...results, version, stderr: r.stderr, build: { bytes: b.bytes, included: b.included, excluded: b.excluded } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(RUNTIMES);
  const build = await buildBrowserRun();
  let failed = false;
  for (const name of names) {
    if (!runtimeBinary(name)) {
      console.log(`${name}: not installed`);
      continue;
    }
    const r = await runInRuntime(name, { build });
    const bad = r.smoke.filter((s) => !s.ok);
    const passed = r.cases.filter((c) => c.status === 'passed').length;
    console.log(
      `${name} (${r.version}): smoke ${r.smoke.length - bad.length}/${r.smoke.length}, conformance cases passed ${passed}/${r.cases.length}${r.error ? `, error: ${r.error}` : ''}`,
    );
    for (const s of bad) console.log(`  smoke failed: ${s.name}: ${s.detail ?? ''}`);
    if (bad.length || r.error) failed = true;
  }
  process.exitCode = failed ? 1 : 0;
}
