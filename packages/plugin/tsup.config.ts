import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'cli/index': 'src/cli/index.ts' },
  format: ['esm'],
  // src/cli is the one Node-only part (process.stdin/stdout); its own tsconfig.cli.json
  // typechecks it with Node types, and the declaration build needs them too.
  dts: { compilerOptions: { types: ['node'] } },
  clean: true,
  target: 'es2022',
  platform: 'neutral',
});
