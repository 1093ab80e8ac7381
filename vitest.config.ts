import { readFileSync } from 'node:fs';
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

export default defineConfig({
  resolve: { alias },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      'tools/test/**/*.test.ts',
      'conformance/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
