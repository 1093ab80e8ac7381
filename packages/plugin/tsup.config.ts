import { vouchPackage } from '../../tools/tsup-preset.js';

export default vouchPackage({
  entry: { index: 'src/index.ts', 'cli/index': 'src/cli/index.ts', 'internal/index': 'src/internal/index.ts' },
  // src/cli is the one Node-only part (process.stdin/stdout); its own tsconfig.cli.json
  // typechecks it with Node types, and the declaration build needs them too.
  dts: { compilerOptions: { types: ['node'] } },
});
