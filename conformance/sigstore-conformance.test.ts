/**
 * Replays sigstore-conformance's `bundle-verify` cases (../shared/sigstore-conformance, read in
 * place, never copied) through @vouch/sigstore: `_fail` cases must be refused with an expected
 * VouchError code, the others must verify. `pnpm sigstore-conformance` runs this file alone and
 * prints `sigstore-conformance: P passed, F failed, S skipped`. Without the shared data the suite
 * skips with a notice, except under CI=true, where that is a failure.
 */
import { describe, expect, it } from 'vitest';
import { note } from './notes.js';
import { runSigstoreCase } from './sigstore/cases.js';
import { bundleVerifyDir, loadSigstoreCases } from './sigstore/files.mjs';

const { present, cases, defaults } = loadSigstoreCases();

if (!present) {
  const msg = `sigstore-conformance: ${bundleVerifyDir()}/a.txt not found (set VOUCH_SHARED_DIR)`;
  if (process.env.CI === 'true') {
    it('sigstore-conformance data is present', () => {
      throw new Error(`${msg}; under CI=true the shared data is required`);
    });
  } else {
    console.warn(`NOTICE: ${msg}; sigstore-conformance cases skipped`);
    it.skip('sigstore-conformance (shared data missing)', () => {
      note('skip', 'sigstore-conformance', 'the shared data is missing (set VOUCH_SHARED_DIR)');
    });
  }
} else {
  describe('sigstore-conformance: bundle-verify', () => {
    it('has the upstream cases', () => {
      expect(cases.length).toBeGreaterThanOrEqual(70);
    });
    for (const c of cases) {
      it(c.id, async () => {
        const r = await runSigstoreCase(c, defaults!);
        expect(r.status === 'passed' ? 'passed' : r.detail).toBe('passed');
      });
    }
  });
}
