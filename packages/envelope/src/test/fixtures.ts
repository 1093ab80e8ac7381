/** Test fixtures of the envelope tests that read the file system (Node only); the signers are in @vouch/testing/envelope. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * ../shared/vectors, or undefined (with a visible notice) when absent; under CI=true absence
 * is a failure.
 */
export function vectorsDir(): string | undefined {
  const shared = resolve(process.env.VOUCH_SHARED_DIR ?? join(import.meta.dirname, '..', '..', '..', '..', '..', 'shared'));
  const dir = join(shared, 'vectors');
  if (existsSync(join(dir, 'index.json'))) return dir;
  const msg = `${dir}/index.json not found (set VOUCH_SHARED_DIR)`;
  if (process.env.CI === 'true') throw new Error(`${msg}; under CI=true the shared vectors are required`);
  console.warn(`NOTICE: ${msg}; upstream-vector tests skipped`);
  return undefined;
}
