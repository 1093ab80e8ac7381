import { vouchPackage } from '../../tools/tsup-preset.js';

export default vouchPackage({ entry: { index: 'src/index.ts', 'internal/index': 'src/internal/index.ts' } });
