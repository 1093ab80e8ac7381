/**
 * `@vouch/node/internal`: the file and executable checks the `vouch` CLI shares with this package's
 * configuration management — atomic writes, Go-style file error text, the trust store address check,
 * and the plugin executable check.
 *
 * For vouch's own packages: this subpath is not part of the public API and may change in any
 * release.
 *
 * @packageDocumentation
 */

// Files: atomic writes and Go-style error text
export { fsErrorText } from '../crl-cache/index.js';
export { writeFileAtomic } from '../config/fsutil.js';

// Trust store names (`{type}/{name}`)
export { assertStoreAddress } from '../truststore/file-trust-store.js';

// Plugin executables
export { assertRunnable } from '../plugin/executable.js';
