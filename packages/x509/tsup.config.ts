import { vouchPackage } from '../../tools/tsup-preset.js';

export default vouchPackage({
  entry: {
    index: 'src/index.ts',
    'tsp/index': 'src/tsp/index.ts',
    'revocation/index': 'src/revocation/index.ts',
    'internal/index': 'src/internal/exports.ts',
  },
});
