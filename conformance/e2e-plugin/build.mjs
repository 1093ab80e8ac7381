#!/usr/bin/env node
// Build the e2e plugin: node conformance/e2e-plugin/build.mjs <outDir>
// Writes <outDir>/notation-e2e-plugin (CommonJS bundle with a node shebang, mode 0755) and
// <outDir>/notation-e2e-plugin.tar.gz holding just that file — the {PLUGIN_BIN} and
// {PLUGIN_TAR_GZ} of ../shared/vectors/notation-e2e/scenarios.json.
// Also importable: `import { buildE2ePlugin } from './conformance/e2e-plugin/build.mjs'`.
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPluginExecutable } from '../../tools/bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** Build into `outDir`; returns `{ bin, tarGz }` (absolute paths). */
export function buildE2ePlugin(outDir) {
  return buildPluginExecutable({ entry: join(here, 'bin.ts'), name: 'e2e-plugin', outDir });
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
