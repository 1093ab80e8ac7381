import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'jws/index': 'src/jws/index.ts', 'cose/index': 'src/cose/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
});
