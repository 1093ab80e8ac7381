import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources in tests, from the same
// `paths` map that typechecking uses (tsconfig.base.json): one source of truth.
const root = fileURLToPath(new URL('.', import.meta.url));
const base = JSON.parse(readFileSync(new URL('./tsconfig.base.json', import.meta.url), 'utf8'));
const paths: Record<string, string[]> = base.compilerOptions.paths;
// Longest specifiers first so '@vouch/envelope/jws' wins over '@vouch/envelope'.
const alias = Object.entries(paths)
  .sort(([a], [b]) => b.length - a.length)
  .map(([find, [target]]) => ({ find: new RegExp(`^${find.replace(/[/.]/g, '\\$&')}$`), replacement: root + target.slice(2) }));

// One project per folder of packages/ (named after the folder: `pnpm test --project x509`, or
// `pnpm --filter @vouch/x509 test`), found at startup so a new package needs no edit here, plus
// the groups outside packages/. `pnpm test` runs them all.
const packages = readdirSync(new URL('./packages/', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(new URL(`./packages/${d.name}/package.json`, import.meta.url)))
  .map((d) => d.name)
  .sort();
const project = (name: string, include: string[]) => ({ extends: true as const, test: { name, include } });

export default defineConfig({
  // explicit, so that `vitest run --project NAME` started from a package folder (its `test`
  // script) finds its tests: vitest looks for this file in parent folders
  root,
  resolve: { alias },
  test: {
    projects: [
      ...packages.map((name) => project(name, [`packages/${name}/src/**/*.test.ts`, `packages/${name}/test/**/*.test.ts`])),
      project('examples', ['examples/*/test/**/*.test.ts']),
      project('tools', ['tools/test/**/*.test.ts']),
      project('conformance', ['conformance/**/*.test.ts']),
    ],
    // toRejectWithCode / toThrowWithCode (@vouch/testing/vitest), for every project
    setupFiles: [`${root}packages/testing/src/vitest/setup.ts`],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
