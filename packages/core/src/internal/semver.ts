/**
 * Semantic Versioning 2.0.0 (https://semver.org): the syntax of §2, §9 and §10 and the
 * precedence of §11. Plugin versions and `io.cncf.notary.verificationPluginMinVersion` use it;
 * like notation, a leading `v` is not part of a version.
 */

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** True when `version` is a SemVer 2.0.0 version (`1.2.3`, `1.0.0-rc.1+build.5`; no leading `v`). */
export function isSemver(version: unknown): version is string {
  return typeof version === 'string' && SEMVER.test(version);
}

const NUMERIC = /^\d+$/;

function compareNumbers(a: string, b: string): -1 | 0 | 1 {
  // Arbitrary size without loss: no leading zeros (the syntax forbids them), so longer is larger.
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

/**
 * Compare two SemVer 2.0.0 versions by precedence: major, minor and patch numerically; a
 * version with a pre-release sorts before the same version without one; pre-release
 * identifiers compare left to right, numeric ones numerically and below alphanumeric ones,
 * alphanumeric ones in ASCII order, and a shorter list first when all preceding identifiers
 * are equal; build metadata is ignored. Returns -1, 0 or 1, or `undefined` when either
 * argument is not a SemVer version.
 */
export function compareSemver(a: string, b: string): -1 | 0 | 1 | undefined {
  const x = SEMVER.exec(a);
  const y = SEMVER.exec(b);
  if (!x || !y) return undefined;
  for (let i = 1; i <= 3; i++) {
    const d = compareNumbers(x[i]!, y[i]!);
    if (d !== 0) return d;
  }
  const px = x[4];
  const py = y[4];
  if (px === undefined || py === undefined) return px === py ? 0 : px === undefined ? 1 : -1;
  const ix = px.split('.');
  const iy = py.split('.');
  for (let i = 0; i < Math.max(ix.length, iy.length); i++) {
    const p = ix[i];
    const q = iy[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    const np = NUMERIC.test(p);
    const nq = NUMERIC.test(q);
    if (np && nq) return compareNumbers(p, q);
    if (np) return -1;
    if (nq) return 1;
    return p < q ? -1 : 1;
  }
  return 0;
}
