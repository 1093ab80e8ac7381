import { vouchPackage } from '../../tools/tsup-preset.js';

export default vouchPackage({
  entry: {
    index: 'src/index.ts',
    'kube/index': 'src/kube/index.ts',
    'registry/index': 'src/registry/index.ts',
    'sigstore/index': 'src/sigstore/index.ts',
    controller: 'src/controller.ts',
    envelope: 'src/envelope.ts',
    'pki/index': 'src/pki/index.ts',
    'vitest/index': 'src/vitest/index.ts',
  },
  // src/kube, src/registry and src/pki are the Node-only parts; src/vitest needs vitest's types, which reference Node's (HTTP servers, child processes); the declaration build needs Node types for them.
  dts: { compilerOptions: { types: ['node'] } },
  sourcemap: true,
});
