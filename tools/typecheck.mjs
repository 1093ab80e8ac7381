#!/usr/bin/env node
// Typecheck every workspace package with its own tsconfig (runtime-agnostic packages use
// `types: []`, so a stray Node API is a compile error there). Sibling packages resolve to
// their sources through the `paths` map of tsconfig.base.json.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const tsc = join('node_modules', '.bin', 'tsc');
const configs = [];
for (const dir of ['packages', 'examples', '.']) {
  if (!existsSync(dir)) continue;
  for (const name of dir === '.' ? ['conformance', 'bench', 'tools/gen-vectors', 'tools/test'] : readdirSync(dir)) {
    for (const file of ['tsconfig.json', 'tsconfig.cli.json', 'tsconfig.test.json']) {
      const p = join(dir, name, file);
      if (existsSync(p)) configs.push(p);
    }
  }
}
let failed = 0;
for (const p of configs) {
  try {
    execFileSync(tsc, ['-p', p, '--noEmit'], { stdio: 'inherit' });
  } catch {
    failed++;
    console.error(`typecheck: ${p} failed`);
  }
}
console.log(`typecheck: ${configs.length - failed} of ${configs.length} projects clean`);
process.exit(failed ? 1 : 0);
