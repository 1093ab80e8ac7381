import { vouchPackage } from '../../tools/tsup-preset.js';

export default vouchPackage({
  entry: { index: 'src/index.ts', 'kube/index': 'src/kube/index.ts' },
  // src/kube is the Node-only part (an HTTP server); the declaration build needs Node types for it.
  dts: { compilerOptions: { types: ['node'] } },
  sourcemap: true,
});
