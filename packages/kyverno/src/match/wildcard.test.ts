import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wildcardMatch } from './wildcard.js';

/** Reference semantics: `*` any run of code points, `?` one code point, anchored, everything else literal. */
function reference(pattern: string, text: string): boolean {
  const re = Array.from(pattern)
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`, 'su').test(text);
}

describe('wildcardMatch', () => {
  it('agrees with the reference on image-like strings, including astral characters', () => {
    const ch = fc.constantFrom('a', 'b', '/', ':', '@', '.', '*', '?', '😀');
    fc.assert(
      fc.property(
        fc.array(ch, { maxLength: 8 }),
        fc.array(fc.constantFrom('a', 'b', '/', ':', '@', '.', '😀'), { maxLength: 10 }),
        (p, t) => {
          const pattern = p.join('');
          const text = t.join('');
          expect(wildcardMatch(pattern, text)).toBe(pattern === '' ? text === '' : reference(pattern, text));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('prefix patterns and literal patterns', () => {
    expect(wildcardMatch('registry.example.com/*', 'registry.example.com/app:v1')).toBe(true);
    expect(wildcardMatch('registry.example.com/*', 'registry.example.org/app:v1')).toBe(false);
    expect(wildcardMatch('ghcr.io/app', 'ghcr.io/app')).toBe(true);
    expect(wildcardMatch('ghcr.io/app', 'ghcr.io/app2')).toBe(false);
    expect(wildcardMatch('?😀', 'a😀')).toBe(true);
    expect(wildcardMatch('?', '😀')).toBe(true);
  });
});
