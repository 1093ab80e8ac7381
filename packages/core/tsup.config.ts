import { vouchPackage } from '../../tools/tsup-preset.js';

export default vouchPackage({
  entry: { index: 'src/index.ts', 'asn1/index': 'src/asn1/index.ts', 'internal/index': 'src/internal/index.ts' },
});
