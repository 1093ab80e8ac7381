#!/usr/bin/env node
// pnpm fuzz [--seconds N] [--target NAME…] [--seed S --path P]: bundles fuzz/index.ts with esbuild
// (workspace packages resolved to their sources, as for the benchmarks) and runs the campaign in
// a child process under a watchdog: a parser stuck in a loop cannot be interrupted from inside,
// so when the child stops reporting progress for 60 s past its budget it is killed and the target
// it was running is reported as a failure. The last line is always
//   fuzz: N runs, F failures
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleNodeScript } from './bundle.mjs';

const args = process.argv.slice(2);
const i = args.indexOf('--seconds');
const seconds = Number(i >= 0 ? args[i + 1] : (process.env.FUZZ_SECONDS ?? 300));
const dir = mkdtempSync(join(tmpdir(), 'vouch-fuzz-'));
const out = join(dir, 'fuzz.mjs');
try {
  bundleNodeScript('fuzz/index.ts', out);
  const child = spawn(process.execPath, [out, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let last = { target: '(setup)', seed: undefined };
  let lastAt = Date.now();
  child.on('message', (m) => {
    last = m;
    lastAt = Date.now();
  });
  const limitMs = Math.max(60_000, 2 * 10_000);
  const started = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - started > seconds * 1000 + 60_000 && Date.now() - lastAt > limitMs) {
      console.log(`fuzz FAIL ${last.target}: no progress for ${Math.round((Date.now() - lastAt) / 1000)} s (a hang); seed ${last.seed}`);
      console.log('fuzz: 0 runs, 1 failures');
      child.kill('SIGKILL');
      process.exitCode = 1;
    }
  }, 1000);
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  clearInterval(watchdog);
  if (process.exitCode === undefined) process.exitCode = code ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
