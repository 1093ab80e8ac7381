import { isDeepStrictEqual } from 'node:util';

/** Throws with both values shown when they differ (deep, strict). */
export function assertEqual(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** Throws when `cond` is false. */
export function assertTrue(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

/**
 * chainsaw-style subset match: every field of `expected` must be in `actual` with the same value;
 * lists must have the same length and match element-wise; keys written as `(jmespath)` are ignored;
 * an expected empty object matches a missing field.
 */
export function subsetMismatch(actual: unknown, expected: unknown, path = ''): string | undefined {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (Object.keys(expected).length === 0 && (actual === undefined || actual === null)) return undefined;
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return `${path || '/'}: expected an object, got ${JSON.stringify(actual)}`;
    for (const [k, v] of Object.entries(expected)) {
      if (k.startsWith('(')) continue;
      const m = subsetMismatch((actual as Record<string, unknown>)[k], v, `${path}/${k}`);
      if (m) return m;
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected a list, got ${JSON.stringify(actual)}`;
    if (actual.length !== expected.length)
      return `${path}: expected ${expected.length} items, got ${actual.length}: ${JSON.stringify(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const m = subsetMismatch(actual[i], expected[i], `${path}/${i}`);
      if (m) return m;
    }
    return undefined;
  }
  if (actual !== expected) return `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  return undefined;
}
