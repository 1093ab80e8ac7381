// Shared by the build scripts that bundle TypeScript with esbuild (the root devDependency, the
// one esbuild of the repository): the e2e plugin and the example signer plugin. Workspace
// packages resolve to their sources through tsconfig.base.json `paths`.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Bundle a TypeScript script (`bench/index.ts`, `fuzz/index.ts`) into one ESM file for Node 20,
 * workspace packages resolved to their sources, with `require` available to bundled CommonJS.
 */
export function bundleNodeScript(entry, outfile) {
  esbuild.buildSync({
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
  esbuild.buildSync({
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
