import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'kube/index': 'src/kube/index.ts' },
  format: ['esm'],
  // src/kube is the Node-only part (an HTTP server); the declaration build needs Node types for it.
  dts: { compilerOptions: { types: ['node'] } },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
});
