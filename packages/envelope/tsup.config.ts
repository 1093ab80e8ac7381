import { vouchPackage } from '../../tools/tsup-preset.js';

export default vouchPackage({
  entry: {
    index: 'src/index.ts',
    'jws/index': 'src/jws/index.ts',
    'cose/index': 'src/cose/index.ts',
    'internal/index': 'src/internal/index.ts',
  },
});
