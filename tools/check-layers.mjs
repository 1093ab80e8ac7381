#!/usr/bin/env node
// Layering check (the layers and owners are in tools/layers.json; CONTRIBUTING.md explains the
// rule): fails when
//  - a package imports a workspace package of the same or a higher layer,
//  - a package imports a workspace package it does not declare in package.json,
//  - a third-party dependency listed in `thirdPartyOwners` (undici, …) is imported by a package
//    that is not one of its owners,
//  - a runtime-agnostic package (or file) touches node:*, undici, process, Buffer, __dirname or require.
//  - a relative import crosses a package boundary: a file of packages/X reaching into another
//    folder, or bench/, conformance/, examples/, fuzz/ or tools/ reaching into packages/ — they
//    import the package by name (`@vouch/x`; test support is `@vouch/testing`). The few internals
//    with no entry point are listed in DEEP_IMPORTS below, each with its reason.
// Test files (*.test.ts, test/) may import anything but the Node rule still applies to sources.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

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
// Relative imports across package boundaries (see the header). `from` is the importing file,
// `to` the imported one, both relative to the repository root.
const DEEP_IMPORTS = new Map([
  // webhook internals measured by the webhook benchmark and fuzzed; not part of @vouch/cli's API
  ['bench/webhook.ts -> packages/cli/src/webhook/metrics.js', 'Prometheus registry of the webhook, no public entry'],
  ['bench/webhook.ts -> packages/cli/src/webhook/server.js', 'startWebhookServer with the bench transport'],
  ['fuzz/targets.ts -> packages/cli/src/webhook/server.js', 'decodeReview, the webhook body decoder under fuzz'],
  [
    'bench/webhook-inprocess.ts -> packages/cli/src/webhook/server.js',
    'the request path (answerJson, decodeReview) measured in-process against a bare parse',
  ],
]);
const owner = (p) => {
  const s = p.split('/');
  return s[0] === 'packages' || s[0] === 'examples' ? s.slice(0, 2).join('/') : s[0];
};
function walkSources(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walkSources(p, out);
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}
const seenDeep = new Set();
for (const file of ['packages', 'bench', 'conformance', 'examples', 'fuzz', 'tools'].flatMap((d) => walkSources(d))) {
  const code = stripComments(readFileSync(file, 'utf8'));
  for (const m of code.matchAll(/(?:from\s*|import\s*\(\s*|^\s*import\s+|vi\.mock\(\s*)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    const target = normalize(join(dirname(file), m[1]));
    const from = owner(file);
    const to = owner(target);
    if (from === to) continue;
    // a package's build configuration (tsup.config.ts) uses the shared preset in tools/
    if (from.startsWith('packages/') && to === 'tools' && /^packages\/[^/]+\/[^/]+\.config\.ts$/.test(file)) continue;
    if (!from.startsWith('packages/') && !to.startsWith('packages/')) continue;
    const key = `${file} -> ${target}`;
    if (DEEP_IMPORTS.has(key)) {
      seenDeep.add(key);
      continue;
    }
    problems.push(
      `${file}: relative import "${m[1]}" crosses into ${to}/; import the package by name (${to.startsWith('packages/') ? '@vouch/…; test support from @vouch/testing' : 'or move the shared code into @vouch/testing'})`,
    );
  }
}
for (const key of DEEP_IMPORTS.keys())
  if (!seenDeep.has(key)) problems.push(`tools/check-layers.mjs: DEEP_IMPORTS lists "${key}", which no longer occurs: remove it`);

if (problems.length) {
  console.error(`check-layers: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log('check-layers: ok');
