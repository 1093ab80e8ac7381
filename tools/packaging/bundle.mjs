// Browser bundling for the packaging checks (size budget, bleed checks) and the browser run,
// with esbuild. Workspace packages (@vouch/*) resolve either to their built dist/ through each
// package.json "exports" map (what npm users get), or to their TypeScript sources through the
// `paths` map of tsconfig.base.json (what tests use). Node built-ins are never allowed: every
// attempt to import one is recorded with its importer and fails the bundle.

import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { repoRoot } from './modules.mjs';

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Map a `@vouch/<name>[/<sub>]` specifier to its package directory and export subpath. */
function splitSpecifier(spec) {
  const [, name, sub] = /^@vouch\/([^/]+)(\/.*)?$/.exec(spec) ?? [];
  return name ? { dir: join(repoRoot, 'packages', name), subpath: `.${sub ?? ''}` } : undefined;
}

/** The file `@vouch/...` resolves to in dist/ (through "exports"), or an error message. */
export function resolveDist(spec) {
  const s = splitSpecifier(spec);
  if (!s || !existsSync(join(s.dir, 'package.json'))) return { error: `${spec}: no such workspace package` };
  const pkg = JSON.parse(readFileSync(join(s.dir, 'package.json'), 'utf8'));
  const entry = pkg.exports?.[s.subpath];
  const target = typeof entry === 'string' ? entry : (entry?.browser ?? entry?.import ?? entry?.default);
  if (!target) return { error: `${spec}: ${pkg.name} exports no "${s.subpath}"` };
  const file = join(s.dir, target);
  if (!existsSync(file)) return { error: `${spec}: ${target} is missing in ${pkg.name} (run pnpm build first)` };
  return { file };
}

/** The source file `@vouch/...` maps to in tsconfig.base.json, or an error message. */
export function resolveSource(spec) {
  const paths = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.base.json'), 'utf8')).compilerOptions.paths;
  const target = paths[spec]?.[0];
  if (!target) return { error: `${spec}: not in the paths map of tsconfig.base.json` };
  return { file: join(repoRoot, target) };
}

/**
 * esbuild plugin: resolve @vouch/* to dist or sources, and record Node built-in imports (each
 * becomes a build error naming the importer).
 */
export function workspacePlugin(mode, nodeImports, extra = {}) {
  return {
    name: 'vouch-workspace',
    setup(build) {
      build.onResolve({ filter: /^@vouch\// }, (args) => {
        const r = mode === 'dist' ? resolveDist(args.path) : resolveSource(args.path);
        return r.error ? { errors: [{ text: r.error }] } : { path: r.file };
      });
      build.onResolve({ filter: /^[a-z_:]+(\/.*)?$/ }, (args) => {
        if (!BUILTINS.has(args.path) && !BUILTINS.has(args.path.split('/')[0])) return undefined;
        const shim = extra.shims?.(args);
        if (shim) return shim;
        nodeImports.push({ path: args.path, importer: args.importer.replace(repoRoot, '') });
        return { errors: [{ text: `Node built-in "${args.path}" imported by ${args.importer.replace(repoRoot, '')}` }] };
      });
    },
  };
}

/**
 * Bundle `contents` (an ES module importing @vouch/*) for browsers. Returns the code, sizes,
 * the modules that contribute code to it (repo-relative paths from esbuild's metafile) and any
 * Node built-in imports (then ok is false).
 * @param {{ contents: string, mode?: 'sources' | 'dist', minify?: boolean, plugins?: object[],
 *   shims?: (args: { path: string, importer: string }) => object | undefined, define?: Record<string, string> }} options
 */
export async function bundleForBrowser({ contents, mode = 'sources', minify = true, plugins = [], shims, define = {} }) {
  const nodeImports = [];
  try {
    const result = await esbuild.build({
      stdin: { contents, resolveDir: repoRoot, sourcefile: 'entry.js', loader: 'ts' },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify,
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
      define,
      plugins: [...plugins, workspacePlugin(mode, nodeImports, { shims })],
    });
    const code = result.outputFiles[0].text;
    const bytes = new TextEncoder().encode(code);
    return {
      ok: nodeImports.length === 0,
      code,
      bytes: bytes.length,
      gzipBytes: gzipSync(bytes, { level: 9 }).length,
      // Modules that contribute code (parsed-then-tree-shaken modules are left out).
      inputs: Object.values(result.metafile.outputs)
        .flatMap((o) => Object.entries(o.inputs))
        .filter(([, v]) => v.bytesInOutput > 0)
        .map(([p]) => p.replace(repoRoot, '')),
      nodeImports,
      errors: [],
    };
  } catch (e) {
    const errors = (e.errors ?? [{ text: String(e.message ?? e) }]).map((x) =>
      x.location ? `${x.text} (${x.location.file}:${x.location.line})` : x.text,
    );
    return { ok: false, code: '', bytes: 0, gzipBytes: 0, inputs: [], nodeImports, errors };
  }
}
