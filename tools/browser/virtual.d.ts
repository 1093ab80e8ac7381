// Modules generated in memory by tools/browser/build.mjs at bundle time.
declare module 'vouch:handlers' {
  import type { Handlers } from '../../conformance/types.js';
  /** The conformance handler modules that bundle for browsers (no Node built-ins). */
  export const handlerModules: { name: string; handlers: Handlers }[];
}
declare module 'vouch:vectors' {
  import type { VectorCase } from '../../conformance/types.js';
  /** ../shared/vectors/index.json. */
  export const cases: VectorCase[];
  /** Vector files listed by the cases: path relative to vectors/ → base64. */
  export const files: Record<string, string>;
}
declare module 'vouch:sigstore' {
  /** ../shared/sigstore-conformance/bundle-verify: each case's files as base64 (empty when absent). */
  export const sigstoreCases: { id: string; files: Record<string, string> }[];
  /** The default artifact (base64) and the public-good trusted root (JSON text), or null when absent. */
  export const sigstoreDefaults: { artifact: string; trustedRoot: string } | null;
}
