#!/usr/bin/env node
// Generates docs/cli.md, the CLI reference, from the commander program `vouch` really runs
// (then formatted with biome):
//   node packages/cli/scripts/gen-cli-docs.mjs           write docs/cli.md
//   node packages/cli/scripts/gen-cli-docs.mjs --check   exit 1 when docs/cli.md is out of date
// cli-docs.ts is bundled with esbuild (the root devDependency; workspace packages resolved to
// their sources through tsconfig.base.json `paths`, as tools/bench.mjs does) and run with node
// from the repository root.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const target = join(root, 'docs', 'cli.md');
const dir = mkdtempSync(join(tmpdir(), 'vouch-cli-docs-'));
try {
  const out = join(dir, 'cli-docs.mjs');
  esbuild.buildSync({
    entryPoints: [join(root, 'packages', 'cli', 'scripts', 'cli-docs.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    tsconfig: join(root, 'tsconfig.base.json'),
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  const r = spawnSync(process.execPath, [out], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(1);
  }
  // Format as `biome check` expects (Markdown tables padded), so the file passes `pnpm lint`.
  const fmt = spawnSync(join(root, 'node_modules', '.bin', 'biome'), ['format', '--stdin-file-path=docs/cli.md'], {
    cwd: root,
    input: r.stdout,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (fmt.status !== 0) {
    process.stderr.write(fmt.stderr);
    process.exit(1);
  }
  const text = fmt.stdout;
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {}
    if (current !== text) {
      console.error('gen-cli-docs: docs/cli.md is out of date: run node packages/cli/scripts/gen-cli-docs.mjs');
      process.exit(1);
    }
    console.log('gen-cli-docs: docs/cli.md is up to date');
  } else {
    writeFileSync(target, text);
    console.log(`gen-cli-docs: wrote ${target}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
