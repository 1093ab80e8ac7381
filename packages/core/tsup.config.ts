import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'asn1/index': 'src/asn1/index.ts', 'internal/index': 'src/internal/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
});
