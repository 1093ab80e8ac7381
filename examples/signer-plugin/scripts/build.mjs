#!/usr/bin/env node
// node scripts/build.mjs <outDir>: bundle src/bin.ts into <outDir>/notation-vouch-pkcs12 (one
// CommonJS file with a node shebang, mode 0755) and <outDir>/notation-vouch-pkcs12.tar.gz, the
// two forms `vouch plugin install --file` and `notation plugin install --file` accept.
// Also importable: `import { buildPlugin } from './scripts/build.mjs'`.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, '..');
const repo = resolve(pkg, '..', '..');

/** Build into `outDir`; returns `{ bin, tarGz }`. */
export function buildPlugin(outDir) {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  // esbuild comes with tsup (pnpm keeps it out of the root node_modules).
  const require = createRequire(realpathSync(join(repo, 'node_modules', 'tsup', 'package.json')));
  const esbuild = require('esbuild');
  const bin = join(out, 'notation-vouch-pkcs12');
  esbuild.buildSync({
    entryPoints: [join(pkg, 'src', 'bin.ts')],
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
  const tarGz = join(out, 'notation-vouch-pkcs12.tar.gz');
  execFileSync('tar', ['-czf', tarGz, '-C', out, 'notation-vouch-pkcs12']);
  return { bin, tarGz };
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = buildPlugin(process.argv[2] ?? join(pkg, 'dist'));
  console.log(`${r.bin}\n${r.tarGz}`);
}
