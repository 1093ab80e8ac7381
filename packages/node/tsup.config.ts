import { vouchPackage } from '../../tools/tsup-preset.js';

export default vouchPackage({
  entry: {
    index: 'src/index.ts',
    'controller/index': 'src/controller/index.ts',
    'config/index': 'src/config/index.ts',
    'internal/index': 'src/internal/index.ts',
  },
  platform: 'node',
});
