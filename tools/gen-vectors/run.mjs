#!/usr/bin/env node
// node tools/gen-vectors/run.mjs [--new-keys]: regenerate test-vectors/ (see test-vectors/README.md).
// Bundles tools/gen-vectors/gen.ts with esbuild (the root devDependency; workspace packages resolved to their sources
// through tsconfig.base.json `paths`, as tools/bench.mjs does) and runs it with node from the
// repository root. No build step is needed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'vouch-gen-vectors-'));
const out = join(dir, 'gen.mjs');
try {
  esbuild.buildSync({
    entryPoints: [join(root, 'tools', 'gen-vectors', 'gen.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    tsconfig: join(root, 'tsconfig.base.json'),
    absWorkingDir: root,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  const r = spawnSync(process.execPath, [out, ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
