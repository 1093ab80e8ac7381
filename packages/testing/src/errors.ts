import { isVouchError } from '@vouch/core';

/**
 * The code of the VouchError `p` rejects with; undefined when it resolves, and
 * `not-a-vouch-error: …` when it rejects with anything else — so `expect(await codeOf(p)).toBe(…)`
 * says what happened when it fails.
 */
export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isVouchError(e) ? e.code : `not-a-vouch-error: ${e}`;
  }
  return undefined;
}
