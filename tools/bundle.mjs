// Shared by the build scripts that bundle TypeScript with esbuild: the e2e plugin, the example
// signer plugin and the benchmarks. Workspace packages resolve to their sources through
// tsconfig.base.json `paths`.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild, which comes with tsup (pnpm keeps it out of the root node_modules). */
export function loadEsbuild() {
  const require = createRequire(realpathSync(join(repoRoot, 'node_modules', 'tsup', 'package.json')));
  return require('esbuild');
}

/**
 * Bundle a TypeScript script (`bench/index.ts`, `fuzz/index.ts`) into one ESM file for Node 20,
 * workspace packages resolved to their sources, with `require` available to bundled CommonJS.
 */
export function bundleNodeScript(entry, outfile) {
  loadEsbuild().buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    tsconfig: join(repoRoot, 'tsconfig.base.json'),
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
}

/**
 * Bundle `entry` into `<outDir>/notation-<name>` (one CommonJS file with a node shebang, mode 0755)
 * and `<outDir>/notation-<name>.tar.gz` holding just that file: the two forms
 * `vouch plugin install --file` and `notation plugin install --file` accept. Returns both paths.
 */
export function buildPluginExecutable({ entry, name, outDir }) {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  const file = `notation-${name}`;
  const bin = join(out, file);
  loadEsbuild().buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bin,
    tsconfig: join(repoRoot, 'tsconfig.base.json'),
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  chmodSync(bin, 0o755);
  const tarGz = join(out, `${file}.tar.gz`);
  execFileSync('tar', ['-czf', tarGz, '-C', out, file]);
  return { bin, tarGz };
}
