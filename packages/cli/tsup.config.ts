import { vouchPackage } from '../../tools/tsup-preset.js';

export default vouchPackage({
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  platform: 'node',
  // the binary has no public types
  dts: { entry: { index: 'src/index.ts' } },
});
