const ASTRAL = /[\uD800-\uDFFF]/;

/** `text.startsWith(pattern.slice(0, n))` without allocating the prefix. */
function hasPrefix(text: string, pattern: string, n: number): boolean {
  if (text.length < n) return false;
  for (let i = 0; i < n; i++) if (text.charCodeAt(i) !== pattern.charCodeAt(i)) return false;
  return true;
}

/**
 * Kyverno's wildcard matching: `*` matches any run of characters (including none, `/`, `:` and `@`),
 * `?` exactly one character. Case-sensitive, anchored at both ends, no escaping and no character
 * classes. An empty pattern matches only the empty string.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  if (pattern === '') return text === '';
  if (pattern === '*' || pattern === text) return true;
  const star = pattern.indexOf('*');
  const q = pattern.indexOf('?');
  if (star < 0 && q < 0) return false;
  // `prefix*` (the usual imageReferences form): no backtracking needed
  if (q < 0 && star === pattern.length - 1) return hasPrefix(text, pattern, star);
  // Match on code points: index strings directly unless they hold surrogate pairs.
  const p: ArrayLike<string> = ASTRAL.test(pattern) ? Array.from(pattern) : pattern;
  const s: ArrayLike<string> = ASTRAL.test(text) ? Array.from(text) : text;
  // Iterative glob with backtracking to the last `*` (linear-ish, no recursion blow-up).
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === s[si]))) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      starP = pi++;
      starS = si;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** True when `s` contains a wildcard character (`*` or `?`). */
export function containsWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

/** True when `text` matches at least one of `patterns` (Kyverno `ImageMatches` / name lists). */
export function matchesAny(patterns: readonly string[] | undefined, text: string): boolean {
  if (!patterns) return false;
  for (const p of patterns) if (wildcardMatch(p, text)) return true;
  return false;
}
