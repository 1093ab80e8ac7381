#!/usr/bin/env node
// Typecheck the whole workspace in two TypeScript programs instead of one per project:
//  - "agnostic": every project whose tsconfig has `types: []` (runtime-agnostic sources: a stray
//    Node API such as Buffer or process is a compile error there), and
//  - "node": every other project (Node packages, tests, tools, examples).
// Each project's own tsconfig.json stays the source of truth for what it includes; this script
// merges their include/exclude lists per group (all extend tsconfig.base.json).
// Then the type-level check of the public API (tools/public-types.mjs): no `any`, Buffer, Node or
// third-party type reachable from a published entry point.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { checkPublicTypes, publicEntries } from './public-types.mjs';

const root = process.cwd();
const configs = [];
const dirs = [
  ...['packages', 'examples'].flatMap((d) => (existsSync(d) ? readdirSync(d).map((n) => join(d, n)) : [])),
  'conformance',
  'bench',
  'fuzz',
  'tools/gen-vectors',
  'tools/test',
];
for (const d of dirs) {
  for (const file of ['tsconfig.json', 'tsconfig.cli.json', 'tsconfig.test.json']) {
    const p = join(d, file);
    if (existsSync(p)) configs.push(p);
  }
}
const groups = { agnostic: { include: [], exclude: [], allowJs: false, n: 0 }, node: { include: [], exclude: [], allowJs: false, n: 0 } };
const tmp = join(root, '.vouch-tmp');
mkdirSync(tmp, { recursive: true });
for (const p of configs) {
  const c = JSON.parse(readFileSync(p, 'utf8'));
  const types = c.compilerOptions?.types ?? [];
  const g = groups[types.length === 0 ? 'agnostic' : 'node'];
  g.n++;
  const base = dirname(resolve(p));
  const rel = (x) => relative(tmp, resolve(base, x)).split('\\').join('/');
  g.include.push(...(c.include ?? ['.']).map(rel));
  // an exclude applies to its own project only; keep it only for agnostic projects (tests/cli excluded there)
  if (g === groups.agnostic) g.exclude.push(...(c.exclude ?? []).map(rel));
  if (c.compilerOptions?.allowJs) g.allowJs = true;
}
let failed = 0;
for (const [name, g] of Object.entries(groups)) {
  if (!g.n) continue;
  const file = join(tmp, `tsconfig.${name}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        extends: relative(tmp, join(root, 'tsconfig.base.json')),
        compilerOptions: { types: name === 'node' ? ['node'] : [], ...(g.allowJs ? { allowJs: true, checkJs: false } : {}) },
        include: g.include,
        exclude: [...g.exclude, '../**/node_modules', '../**/dist'],
      },
      null,
      2,
    ),
  );
  try {
    execFileSync(join('node_modules', '.bin', 'tsc'), ['-p', file, '--noEmit'], { stdio: 'inherit' });
    console.log(`typecheck: ${name} (${g.n} projects) clean`);
  } catch {
    failed++;
    console.error(`typecheck: ${name} (${g.n} projects) failed`);
  }
}
rmSync(tmp, { recursive: true, force: true });
const entries = publicEntries(root);
const problems = checkPublicTypes({ entries });
for (const p of problems) console.error(`typecheck: public types: ${p}`);
if (problems.length) failed++;
console.log(
  `typecheck: public types of ${entries.length} entry points ${problems.length ? `failed (${problems.length} problems)` : 'clean'}`,
);
process.exit(failed ? 1 : 0);
