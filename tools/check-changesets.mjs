#!/usr/bin/env node
// Changeset check: every .changeset/*.md (but README.md) opens with the front matter changesets
// reads — a `---` line, one `"<package>": patch|minor|major` line per package, a closing `---` line —
// names only workspace packages, and has a summary after it. A file the changesets CLI cannot read
// fails `changeset version` at release time, far from the change that broke it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packages = new Set();
for (const dir of ['packages', 'examples']) {
  for (const name of readdirSync(join(root, dir))) {
    try {
      packages.add(JSON.parse(readFileSync(join(root, dir, name, 'package.json'), 'utf8')).name);
    } catch {
      // not a package folder
    }
  }
}

const problems = [];
const dir = join(root, '.changeset');
for (const file of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
  const lines = readFileSync(join(dir, file), 'utf8').split('\n');
  const where = `.changeset/${file}`;
  if (lines[0] !== '---') {
    problems.push(`${where}: the first line must be "---"`);
    continue;
  }
  const close = lines.indexOf('---', 1);
  if (close < 0) {
    problems.push(`${where}: no closing "---" line after the package list`);
    continue;
  }
  const entries = lines.slice(1, close).filter((l) => l.trim() !== '');
  if (entries.length === 0) problems.push(`${where}: no package named between the "---" lines`);
  for (const l of entries) {
    const m = /^(["']?)(@[\w.-]+\/[\w.-]+)\1:\s*(patch|minor|major)\s*$/.exec(l);
    if (!m) problems.push(`${where}: "${l}" is not a line of the form "@vouch/x": patch|minor|major`);
    else if (!packages.has(m[2])) problems.push(`${where}: ${m[2]} is not a workspace package`);
  }
  if (
    !lines
      .slice(close + 1)
      .join('\n')
      .trim()
  )
    problems.push(`${where}: no summary after the front matter`);
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`check-changesets: ${problems.length} problem(s); the format is in .changeset/README.md`);
  process.exit(1);
}
console.log('check-changesets: ok');
