// Node side of the sigstore-conformance replay (shared by conformance/sigstore-conformance.test.ts
// and the browser/runtime bundles of tools/browser/build.mjs): reads ../shared/sigstore-conformance
// (or VOUCH_SHARED_DIR) in place, and the public-good trusted root from @sigstore/tuf's seed data.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..', '..');

/** ../shared/sigstore-conformance/bundle-verify, or VOUCH_SHARED_DIR/sigstore-conformance/bundle-verify. */
export function bundleVerifyDir() {
  return join(process.env.VOUCH_SHARED_DIR ?? join(repo, '..', 'shared'), 'sigstore-conformance', 'bundle-verify');
}

/** The Sigstore public-good trusted root shipped in @sigstore/tuf's TUF seed data (JSON text). */
export function publicGoodTrustedRoot() {
  const require = createRequire(join(repo, 'package.json'));
  const seeds = JSON.parse(readFileSync(require.resolve('@sigstore/tuf/seeds.json'), 'utf8'));
  const b64 = seeds['https://tuf-repo-cdn.sigstore.dev']?.targets?.['trusted_root.json'];
  if (typeof b64 !== 'string') throw new Error('@sigstore/tuf/seeds.json has no trusted_root.json for tuf-repo-cdn.sigstore.dev');
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** Every case directory (one holding bundle.sigstore.json), sorted, with its files (READMEs left out). */
export function loadSigstoreCases(dir = bundleVerifyDir()) {
  if (!existsSync(join(dir, 'a.txt'))) return { present: false, cases: [] };
  const cases = [];
  for (const name of readdirSync(dir).sort()) {
    const d = join(dir, name);
    if (!statSync(d).isDirectory() || !existsSync(join(d, 'bundle.sigstore.json'))) continue;
    const files = {};
    for (const f of readdirSync(d)) if (f !== 'README' && f !== 'README.md') files[f] = new Uint8Array(readFileSync(join(d, f)));
    cases.push({ id: name, files });
  }
  return {
    present: true,
    cases,
    defaults: { artifact: new Uint8Array(readFileSync(join(dir, 'a.txt'))), trustedRoot: publicGoodTrustedRoot() },
  };
}
