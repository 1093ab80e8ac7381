#!/usr/bin/env node
// Layering check (the layers and owners are in tools/layers.json; CONTRIBUTING.md explains the
// rule): fails when
//  - a package imports a workspace package of the same or a higher layer,
//  - a package imports a workspace package it does not declare in package.json,
//  - a third-party dependency listed in `thirdPartyOwners` (undici, …) is imported by a package
//    that is not one of its owners,
//  - a runtime-agnostic package (or file) touches node:*, undici, process, Buffer, __dirname or require.
// Test files (*.test.ts, test/) may import anything but the Node rule still applies to sources.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const cfg = JSON.parse(readFileSync(new URL('./layers.json', import.meta.url), 'utf8'));
const NODE_BUILTINS = new Set([
  'fs',
  'path',
  'os',
  'child_process',
  'crypto',
  'http',
  'https',
  'net',
  'tls',
  'url',
  'util',
  'stream',
  'events',
  'buffer',
  'process',
  'zlib',
  'worker_threads',
  'readline',
  'dns',
  'assert',
  'module',
  'timers',
  'perf_hooks',
  'v8',
  'vm',
]);
const problems = [];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

for (const [pkg, info] of Object.entries(cfg.packages)) {
  const src = join(info.dir, 'src');
  if (!existsSync(src)) continue;
  const manifest = JSON.parse(readFileSync(join(info.dir, 'package.json'), 'utf8'));
  const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
  for (const file of walk(src)) {
    const rel = relative(info.dir, file);
    const isTest = /\.test\.ts$/.test(file) || rel.split('/').includes('test') || rel.split('/').includes('__tests__');
    const nodeOk = info.nodeAllowed || (info.nodeAllowedUnder ?? []).some((d) => rel.startsWith(`${d}/`) || rel === d);
    const code = stripComments(readFileSync(file, 'utf8'));
    const specs = [
      ...code.matchAll(
        /(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm,
      ),
    ].map((m) => m[1] ?? m[2] ?? m[3]);
    for (const spec of specs) {
      if (spec.startsWith('.')) continue;
      const bare = spec.startsWith('node:') ? spec : spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (spec.startsWith('node:') || NODE_BUILTINS.has(bare) || bare === 'undici') {
        if (!nodeOk && !isTest) problems.push(`${file}: runtime-agnostic code imports "${spec}"`);
        continue;
      }
      if (isTest) continue;
      const target = cfg.packages[bare];
      if (target) {
        if (bare === pkg) continue;
        if (target.layer >= info.layer)
          problems.push(`${file}: ${pkg} (L${info.layer}) imports ${bare} (L${target.layer}); only lower layers are allowed`);
        if (!declared.has(bare)) problems.push(`${file}: imports ${bare}, which ${pkg}/package.json does not declare`);
        continue;
      }
      const owners = cfg.thirdPartyOwners[bare];
      if (owners && !owners.includes(pkg)) problems.push(`${file}: imports ${bare}, which only ${owners.join(', ')} may use`);
      if (!declared.has(bare) && !bare.startsWith('@vouch/'))
        problems.push(`${file}: imports ${bare}, which ${pkg}/package.json does not declare`);
    }
    if (!nodeOk && !isTest) {
      const globals = code.match(/\b(Buffer|process|__dirname|__filename|require)\s*[.(]/g);
      if (globals)
        problems.push(`${file}: runtime-agnostic code uses ${[...new Set(globals.map((g) => g.replace(/[\s.(]/g, '')))].join(', ')}`);
    }
  }
}
if (problems.length) {
  console.error(`check-layers: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log('check-layers: ok');
