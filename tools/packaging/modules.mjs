// Locates the third-party tools the packaging, deploy and browser checks use (yaml,
// kubernetes-models, playwright-core). They are resolved from the repository root first (root
// devDependencies), then from the workspace packages that depend on them (yaml: @vouch/kyverno).
// NODE_PATH is honoured, as require.resolve does. esbuild is imported directly: it is a root
// devDependency.
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Absolute path of the repository root. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function bases() {
  const out = [join(repoRoot, 'package.json')];
  for (const pkg of ['kyverno', 'cli', 'envelope', 'x509']) out.push(join(repoRoot, 'packages', pkg, 'package.json'));
  return out;
}

/**
 * Resolve `specifier` (a package name or subpath) to an absolute file path, or undefined when no
 * base can see it.
 */
export function resolveModule(specifier) {
  for (const base of bases()) {
    try {
      return createRequire(base).resolve(specifier);
    } catch {}
  }
  return undefined;
}

/** Directory of an installed package (the folder holding its package.json), or undefined. */
export function packageDir(name) {
  const pj = resolveModule(`${name}/package.json`);
  return pj ? dirname(realpathSync(pj)) : undefined;
}

/** Import a tool by name; undefined when it is not installed. */
export async function importModule(specifier) {
  const file = resolveModule(specifier);
  if (!file) return undefined;
  return import(pathToFileURL(file).href);
}

/** Import a tool by name, or throw an error that says how to get it. */
export async function requireModule(specifier, why) {
  const mod = await importModule(specifier);
  if (!mod) throw new Error(`${specifier} is not installed (${why}); add it to the root devDependencies and run pnpm install`);
  return mod;
}
