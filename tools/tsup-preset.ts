/**
 * The one tsup configuration of every package in packages/: ESM only, ES2022, declarations,
 * a clean dist/. A package's tsup.config.ts names its entry points (one per "exports" subpath,
 * plus any binary) and, where it differs, its platform:
 *
 *   import { vouchPackage } from '../../tools/tsup-preset.js';
 *   export default vouchPackage({ entry: { index: 'src/index.ts', 'tsp/index': 'src/tsp/index.ts' } });
 */
import { defineConfig, type Options } from 'tsup';

export interface VouchPackageOptions {
  /** Output name (`index`, `tsp/index`, `bin`) → source file, relative to the package. */
  entry: Record<string, string>;
  /**
   * `neutral` (the default) for the runtime-agnostic packages: no Node built-ins are assumed.
   * `node` for @vouch/node and @vouch/cli.
   */
  platform?: 'neutral' | 'node';
  /**
   * Declaration build: `true` (the default) emits one `.d.ts` per entry. A package with a
   * Node-only subpath passes `{ compilerOptions: { types: ['node'] } }`; a package whose
   * binary has no types passes `{ entry: { index: 'src/index.ts' } }`. Declarations tagged
   * `@internal` are always left out (`stripInternal`); the `./internal` subpaths tag their module
   * doc only, so their declarations stay.
   */
  dts?: Options['dts'];
  /** Emit source maps (off by default). */
  sourcemap?: boolean;
}

/** The tsup configuration of a vouch package. */
export function vouchPackage({ entry, platform = 'neutral', dts = true, sourcemap }: VouchPackageOptions) {
  const dtsOptions: Options['dts'] =
    dts === false
      ? false
      : {
          ...(typeof dts === 'object' ? dts : {}),
          compilerOptions: { ...(typeof dts === 'object' ? dts.compilerOptions : {}), stripInternal: true },
        };
  return defineConfig({
    entry,
    format: ['esm'],
    dts: dtsOptions,
    clean: true,
    target: 'es2022',
    platform,
    ...(sourcemap ? { sourcemap } : {}),
  });
}
