import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'kube/index': 'src/kube/index.ts',
    'registry/index': 'src/registry/index.ts',
    'sigstore/index': 'src/sigstore/index.ts',
  },
  format: ['esm'],
  // src/kube and src/registry are the Node-only parts (HTTP servers, child processes); the declaration build needs Node types for them.
  dts: { compilerOptions: { types: ['node'] } },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
});
