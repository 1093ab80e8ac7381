#!/usr/bin/env node
// node scripts/build.mjs <outDir>: bundle src/bin.ts into <outDir>/notation-vouch-pkcs12 (one
// CommonJS file with a node shebang, mode 0755) and <outDir>/notation-vouch-pkcs12.tar.gz, the
// two forms `vouch plugin install --file` and `notation plugin install --file` accept.
// Also importable: `import { buildPlugin } from './scripts/build.mjs'`.
import { realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPluginExecutable } from '../../../tools/bundle.mjs';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Build into `outDir`; returns `{ bin, tarGz }`. */
export function buildPlugin(outDir) {
  return buildPluginExecutable({ entry: join(pkg, 'src', 'bin.ts'), name: 'vouch-pkcs12', outDir });
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = buildPlugin(process.argv[2] ?? join(pkg, 'dist'));
  console.log(`${r.bin}\n${r.tarGz}`);
}
