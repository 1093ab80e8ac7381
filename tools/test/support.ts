/**
 * Shared helpers of the tooling tests: locating optional tools, and the skip-with-NOTICE rule
 * (a missing tool skips the test with a visible notice, except under CI=true where it fails).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const inCi = process.env.CI === 'true';

/**
 * Decide whether a requirement is met. Missing: under CI=true throws (the suite fails at
 * collection), otherwise prints `NOTICE: …` and returns false so the caller can skip.
 */
export function requirement(present: boolean, what: string, consequence: string): boolean {
  if (present) return true;
  if (inCi) throw new Error(`${what} is missing; under CI=true it is required (${consequence})`);
  console.warn(`NOTICE: ${what} is missing; ${consequence}`);
  return false;
}

/** First executable found on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}
