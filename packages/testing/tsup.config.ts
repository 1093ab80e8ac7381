import { vouchPackage } from '../../tools/tsup-preset.js';

export default vouchPackage({
  entry: {
    index: 'src/index.ts',
    'kube/index': 'src/kube/index.ts',
    'registry/index': 'src/registry/index.ts',
    'sigstore/index': 'src/sigstore/index.ts',
  },
  // src/kube and src/registry are the Node-only parts (HTTP servers, child processes); the declaration build needs Node types for them.
  dts: { compilerOptions: { types: ['node'] } },
  sourcemap: true,
});
