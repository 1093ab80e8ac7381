#!/usr/bin/env node
// Build the e2e plugin: node conformance/e2e-plugin/build.mjs <outDir>
// Writes <outDir>/notation-e2e-plugin (CommonJS bundle with a node shebang, mode 0755) and
// <outDir>/notation-e2e-plugin.tar.gz holding just that file — the {PLUGIN_BIN} and
// {PLUGIN_TAR_GZ} of ../shared/vectors/notation-e2e/scenarios.json.
// Also importable: `import { buildE2ePlugin } from './conformance/e2e-plugin/build.mjs'`.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');

/** Build into `outDir`; returns `{ bin, tarGz }` (absolute paths). */
export function buildE2ePlugin(outDir) {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  // esbuild comes with tsup; resolve it from tsup's real location (pnpm keeps it out of the root).
  const require = createRequire(realpathSync(join(repo, 'node_modules', 'tsup', 'package.json')));
  const esbuild = require('esbuild');
  const bin = join(out, 'notation-e2e-plugin');
  esbuild.buildSync({
    entryPoints: [join(here, 'bin.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bin,
    tsconfig: join(repo, 'tsconfig.base.json'),
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  chmodSync(bin, 0o755);
  const tarGz = join(out, 'notation-e2e-plugin.tar.gz');
  execFileSync('tar', ['-czf', tarGz, '-C', out, 'notation-e2e-plugin']);
  return { bin, tarGz };
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node conformance/e2e-plugin/build.mjs <outDir>');
    process.exit(2);
  }
  const r = buildE2ePlugin(dir);
  console.log(`${r.bin}\n${r.tarGz}`);
}
