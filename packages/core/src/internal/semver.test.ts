import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSemver, isSemver } from './semver.js';

describe('compareSemver: SemVer 2.0.0 precedence', () => {
  it('orders the example chain of semver.org §11', () => {
    const chain = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '2.0.0',
    ];
    for (let i = 0; i < chain.length; i++) {
      for (let j = 0; j < chain.length; j++) {
        expect(compareSemver(chain[i]!, chain[j]!), `${chain[i]} vs ${chain[j]}`).toBe(Math.sign(i - j));
      }
    }
  });

  it('compares numbers numerically, at any size', () => {
    expect(compareSemver('1.0.9', '1.0.10')).toBe(-1);
    expect(compareSemver('1.10.0', '1.9.0')).toBe(1);
    expect(compareSemver('1.0.0-beta.2', '1.0.0-beta.11')).toBe(-1);
    expect(compareSemver('1.0.99999999999999999999', '1.0.9999999999999999999')).toBe(1);
    expect(compareSemver('1.0.0-99999999999999999999', '1.0.0-99999999999999999998')).toBe(1);
  });

  it('sorts numeric identifiers before alphanumeric ones, and alphanumeric ones in ASCII order', () => {
    expect(compareSemver('1.0.0-1', '1.0.0-a')).toBe(-1);
    expect(compareSemver('1.0.0-A', '1.0.0-a')).toBe(-1);
    expect(compareSemver('1.0.0-alpha-2', '1.0.0-alpha-10')).toBe(1);
    expect(compareSemver('1.0.0-0a', '1.0.0-1')).toBe(1);
  });

  it('ignores build metadata', () => {
    expect(compareSemver('1.0.0+build.1', '1.0.0+build.2')).toBe(0);
    expect(compareSemver('1.0.0-rc.1+x', '1.0.0-rc.1')).toBe(0);
  });

  it('is undefined for anything that is not a SemVer 2.0.0 version (a leading v included, as notation)', () => {
    for (const bad of ['v1.0.0', '1.0', '1', '01.0.0', '1.0.0-01', '1.0.0-', '1.0.0+', 'latest', '1.0.0-beta..1', ' 1.0.0']) {
      expect(isSemver(bad), bad).toBe(false);
      expect(compareSemver(bad, '1.0.0'), bad).toBeUndefined();
      expect(compareSemver('1.0.0', bad), bad).toBeUndefined();
    }
    expect(isSemver(undefined)).toBe(false);
  });

  const identifier = fc.oneof(fc.nat({ max: 30 }).map(String), fc.stringMatching(/^[0-9A-Za-z-]{0,4}[A-Za-z-][0-9A-Za-z-]{0,4}$/));
  const versions = fc
    .tuple(
      fc.nat({ max: 3 }),
      fc.nat({ max: 3 }),
      fc.nat({ max: 3 }),
      fc.option(fc.array(identifier, { minLength: 1, maxLength: 3 }), { nil: undefined }),
      fc.option(fc.stringMatching(/^[0-9A-Za-z-]{1,5}$/), { nil: undefined }),
    )
    .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre ? `-${pre.join('.')}` : ''}${build ? `+${build}` : ''}`);

  it('is a total order: valid, reflexive, antisymmetric, transitive', () => {
    fc.assert(
      fc.property(versions, versions, versions, (x, y, z) => {
        expect(isSemver(x)).toBe(true);
        expect(compareSemver(x, x)).toBe(0);
        expect(compareSemver(x, y)).toBe(-(compareSemver(y, x) as number) || 0);
        if (compareSemver(x, y)! <= 0 && compareSemver(y, z)! <= 0) expect(compareSemver(x, z)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('puts a pre-release before its release and after the previous patch', () => {
    fc.assert(
      fc.property(versions, (v) => {
        const withoutBuild = v.split('+')[0]!;
        const release = withoutBuild.split('-')[0]!;
        const [a, b, c] = release.split('.').map(Number) as [number, number, number];
        if (withoutBuild !== release) expect(compareSemver(v, release)).toBe(-1);
        if (c > 0) expect(compareSemver(v, `${a}.${b}.${c - 1}`)).toBe(1);
      }),
    );
  });
});
