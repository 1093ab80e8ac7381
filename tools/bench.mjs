#!/usr/bin/env node
// pnpm bench [NAME…]: bundles bench/index.ts with esbuild (the root devDependency; workspace packages resolved to their
// sources through tsconfig.base.json `paths`), runs it with node, and prints one line per figure:
//   bench NAME: VALUE (details)
// Figures are ratios against a baseline measured in the same run, never absolute times.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleNodeScript } from './bundle.mjs';

const dir = mkdtempSync(join(tmpdir(), 'vouch-bench-'));
const out = join(dir, 'bench.mjs');
try {
  bundleNodeScript('bench/index.ts', out);
  const r = spawnSync(
    process.execPath,
    [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '--expose-gc', out, ...process.argv.slice(2)],
    { stdio: 'inherit', cwd: process.cwd() },
  );
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
