import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileCrlCache, notationCacheDir } from '@vouch/node';
import { fsErrorText } from '@vouch/node/internal';
import type { CrlCache } from '@vouch/x509/revocation';
import type { CliContext } from './context.js';

/**
 * notation's CRL file cache (`<cache dir>/crl`) for `verify`, `blob verify` and `blob sign`, traced
 * with `--debug`. When the directory cannot be created, revocation checks go on without a cache
 * after a warning (`Warning: failed to create crl file cache: mkdir <dir>: permission denied`).
 */
export function cliCrlCache(ctx: CliContext): CrlCache | undefined {
  const dir = join(notationCacheDir({ env: ctx.env }), 'crl');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    ctx.warn(`Warning: failed to create crl file cache: ${fsErrorText(e)}`);
    return undefined;
  }
  return fileCrlCache(dir, { logger: ctx.logger() });
}

/** `{ crlCache }` for `ocspCrlRevocation` options, or nothing when the cache could not be created. */
export function crlCacheOption(ctx: CliContext): { crlCache?: CrlCache } {
  const crlCache = cliCrlCache(ctx);
  return crlCache ? { crlCache } : {};
}
