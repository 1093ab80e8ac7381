/**
 * `@vouch/registry/internal`: registry helpers vouch's own packages and suites share — manifest
 * building and parsing for cosign and the CLI, the signing-certificate thumbprint annotation, and
 * the parsers the fuzz targets exercise.
 *
 * For vouch's own packages: this subpath is not part of the public API and may change in any
 * release.
 *
 * @packageDocumentation
 */

// Manifests
export {
  buildIndex,
  EMPTY_CONFIG,
  inferManifestMediaType,
  type ManifestSummary,
  parseJsonObject,
  summarizeManifest,
  thumbprintAnnotation,
} from '../manifest.js';

// Remote protocol
export { parseWwwAuthenticate } from '../remote/auth.js';
export { parseRetryAfter } from '../remote/client.js';
