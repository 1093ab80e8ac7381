// Builds the browser run's page script: tools/browser/entry.ts with the workspace packages from
// their sources, the conformance handler modules that bundle for browsers, and the upstream
// vectors (../shared/vectors, read now and inlined as generated modules in memory; nothing is
// written to the repository). Platform browser, no Node built-ins: the only exception is a
// posix `node:path` stand-in for the conformance harness files themselves (conformance/*.ts
// use basename/join on vector paths), never for package code.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSigstoreCases } from '../../conformance/sigstore/files.mjs';
import { bundleForBrowser } from '../packaging/bundle.mjs';
import { repoRoot } from '../packaging/modules.mjs';

/** Conformance files that are not handler modules. */
const NOT_HANDLERS = new Set(['registry.ts', 'types.ts', 'notes.ts']);

/** ../shared/vectors, or VOUCH_SHARED_DIR/vectors. */
export function vectorsDir() {
  return join(process.env.VOUCH_SHARED_DIR ?? join(repoRoot, '..', 'shared'), 'vectors');
}

const PATH_SHIM = `
const norm = (p) => { const abs = p.startsWith('/'); const out = [];
  for (const s of p.split('/')) { if (!s || s === '.') continue; if (s === '..') out.pop(); else out.push(s); }
  return (abs ? '/' : '') + out.join('/'); };
export const sep = '/';
export function basename(p, ext) { const b = p.replace(/\\/+$/, '').split('/').pop() ?? ''; return ext && b.endsWith(ext) ? b.slice(0, -ext.length) : b; }
export function dirname(p) { const i = p.replace(/\\/+$/, '').lastIndexOf('/'); return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i); }
export function extname(p) { const b = basename(p); const i = b.lastIndexOf('.'); return i <= 0 ? '' : b.slice(i); }
export function join(...parts) { return norm(parts.filter(Boolean).join('/')) || '.'; }
export function resolve(...parts) { let r = ''; for (const p of parts) r = p.startsWith('/') ? p : r + '/' + p; return norm(r.startsWith('/') ? r : '/' + r); }
export function relative(from, to) { const a = resolve(from).split('/').filter(Boolean), b = resolve(to).split('/').filter(Boolean);
  let i = 0; while (i < a.length && a[i] === b[i]) i++; return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/'); }
export default { sep, basename, dirname, extname, join, resolve, relative };
`;

/** esbuild shim hook: posix path for conformance harness files only. */
function harnessShims(args) {
  const fromHarness = args.importer.startsWith(join(repoRoot, 'conformance') + '/');
  if (fromHarness && (args.path === 'node:path' || args.path === 'path')) return { path: 'path', namespace: 'vouch-virtual' };
  return undefined;
}

function virtualPlugin(modules) {
  return {
    name: 'vouch-virtual',
    setup(build) {
      build.onResolve({ filter: /^vouch:(handlers|vectors|sigstore)$/ }, (args) => ({
        path: args.path.slice(6),
        namespace: 'vouch-virtual',
      }));
      build.onLoad({ filter: /.*/, namespace: 'vouch-virtual' }, (args) => {
        if (args.path === 'path') return { contents: PATH_SHIM, loader: 'js' };
        const c = modules[args.path];
        return c ? { contents: c, loader: 'ts', resolveDir: repoRoot } : undefined;
      });
    },
  };
}

/**
 * Find the conformance handler modules (conformance/*.ts) that bundle for browsers.
 * Returns `{ included: [{ name, file }], excluded: [{ name, reason }] }`.
 */
export async function discoverHandlerModules() {
  const dir = join(repoRoot, 'conformance');
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts') && !NOT_HANDLERS.has(f))
        .sort()
    : [];
  const included = [];
  const excluded = [];
  for (const f of files) {
    const file = join(dir, f);
    const text = readFileSync(file, 'utf8');
    if (!/export const handlers\b/.test(text)) continue;
    const r = await bundleForBrowser({
      contents: `export { handlers } from ${JSON.stringify(file)};`,
      minify: false,
      shims: harnessShims,
      plugins: [virtualPlugin({})],
    });
    const name = f.replace(/\.ts$/, '');
    if (r.ok && !r.errors.length) included.push({ name, file });
    else {
      const why = r.nodeImports.length
        ? `imports Node built-ins (${[...new Set(r.nodeImports.map((n) => `${n.path} from ${n.importer}`))].slice(0, 3).join('; ')})`
        : r.errors[0];
      excluded.push({ name, reason: why });
    }
  }
  return { included, excluded };
}

/** Read ../shared/vectors: the cases and every file they list (base64), or empty when absent. */
export function loadVectors(dir = vectorsDir()) {
  const index = join(dir, 'index.json');
  if (!existsSync(index)) return { present: false, cases: [], files: {} };
  const cases = JSON.parse(readFileSync(index, 'utf8'));
  const files = {};
  for (const c of cases) {
    for (const rel of c.files ?? []) {
      const p = join(dir, rel);
      if (!(rel in files) && existsSync(p)) files[rel] = readFileSync(p).toString('base64');
    }
  }
  return { present: true, cases, files };
}

/**
 * The sigstore-conformance cases (../shared/sigstore-conformance) and the public-good trusted
 * root, as the source of the `vouch:sigstore` module: files as base64. Empty when absent.
 */
export function sigstoreModule() {
  const { present, cases, defaults } = loadSigstoreCases();
  const b64 = (u) => Buffer.from(u).toString('base64');
  const data = present
    ? {
        cases: cases.map((c) => ({ id: c.id, files: Object.fromEntries(Object.entries(c.files).map(([k, v]) => [k, b64(v)])) })),
        defaults: { artifact: b64(defaults.artifact), trustedRoot: defaults.trustedRoot },
      }
    : { cases: [], defaults: undefined };
  return `export const sigstoreCases = ${JSON.stringify(data.cases)};\nexport const sigstoreDefaults = ${JSON.stringify(data.defaults ?? null)};`;
}

/**
 * Bundle the page script. Returns `{ code, bytes, html, included, excluded, vectors: { present, cases } }`
 * or throws with esbuild's errors (including any Node built-in reached from package code).
 */
export async function buildBrowserRun() {
  const { included, excluded } = await discoverHandlerModules();
  const vectors = loadVectors();
  const handlersModule = [
    ...included.map((m, i) => `import { handlers as h${i} } from ${JSON.stringify(m.file)};`),
    `export const handlerModules = [${included.map((m, i) => `{ name: ${JSON.stringify(m.name)}, handlers: h${i} }`).join(', ')}];`,
  ].join('\n');
  const vectorsModule = `export const cases = ${JSON.stringify(vectors.cases)};\nexport const files = ${JSON.stringify(vectors.files)};`;
  const r = await bundleForBrowser({
    contents: `import ${JSON.stringify(join(repoRoot, 'tools', 'browser', 'entry.ts'))};`,
    minify: false,
    shims: harnessShims,
    plugins: [virtualPlugin({ handlers: handlersModule, vectors: vectorsModule, sigstore: sigstoreModule() })],
  });
  if (!r.ok || r.errors.length) {
    const lines = [...r.errors, ...r.nodeImports.map((n) => `Node built-in ${n.path} imported by ${n.importer}`)];
    throw new Error(`browser bundle failed:\n  ${lines.join('\n  ')}`);
  }
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>vouch browser run</title><link rel="icon" href="data:,"></head><body><script type="module" src="/bundle.js"></script></body></html>';
  return { code: r.code, bytes: r.bytes, html, included, excluded, vectors: { present: vectors.present, cases: vectors.cases.length } };
}
