import { appendFileSync } from 'node:fs';

/**
 * Record why a case was skipped (or what vouch did for an undetermined one, or on which other
 * branch a pending case waits) for tools/run-suite.mjs.
 */
export function note(kind: 'skip' | 'undetermined' | 'pending', id: string, reason: string): void {
  const file = process.env.VOUCH_SUITE_NOTES;
  if (file) appendFileSync(file, `${JSON.stringify({ kind, id, reason })}\n`);
}
