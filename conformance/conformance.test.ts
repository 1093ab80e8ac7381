/**
 * Replays ../shared/vectors/index.json (upstream conformance data, never copied here) through
 * the handlers of each area. Kinds without a handler are reported as skipped with the reason.
 * `pnpm conformance` runs this file alone and prints `conformance: P passed, F failed, S skipped`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { note } from './notes.js';
import { handlers, pendingKinds } from './registry.js';
import type { CaseContext, VectorCase } from './types.js';

const shared = resolve(process.env.VOUCH_SHARED_DIR ?? join(import.meta.dirname, '..', '..', 'shared'));
const vectorsDir = join(shared, 'vectors');
const present = existsSync(join(vectorsDir, 'index.json'));

if (!present) {
  const msg = `conformance: ${vectorsDir}/index.json not found (set VOUCH_SHARED_DIR)`;
  if (process.env.CI === 'true') throw new Error(`${msg}; under CI=true the shared vectors are required`);
  console.warn(`NOTICE: ${msg}; conformance cases skipped`);
}

const cases: VectorCase[] = present ? JSON.parse(readFileSync(join(vectorsDir, 'index.json'), 'utf8')) : [];

function timeOf(c: VectorCase): Date | undefined {
  const m = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?/.exec(c.expect.verificationTime ?? '');
  if (!m) return undefined;
  const iso = /Z|[+-]\d{2}:?\d{2}$/.test(m[0]) ? m[0] : `${m[0]}Z`;
  return new Date(iso);
}

describe.skipIf(!present)('conformance: ../shared/vectors', () => {
  for (const c of cases) {
    it(`${c.kind} ${c.id}`, async (t) => {
      const handler = handlers[c.kind];
      if (!handler) {
        const why = pendingKinds[c.kind] ?? `no handler yet for kind ${c.kind}`;
        note('skip', c.id, why);
        t.skip(why);
        return;
      }
      const ctx: CaseContext = {
        vectorsDir,
        path: (p) => join(vectorsDir, p),
        readFile: async (p) => new Uint8Array(await readFile(join(vectorsDir, p))),
        verificationTime: timeOf(c),
      };
      const out = await handler(c, ctx);
      if (out.status === 'skipped') {
        note('skip', c.id, out.reason);
        t.skip(out.reason);
        return;
      }
      if (out.status === 'undetermined') {
        // only cases upstream marks undetermined may end here; they are listed, not counted as passed
        expect(c.expect.result).toBe('undetermined');
        note('undetermined', c.id, out.vouchDid);
        const why = 'upstream expectation undetermined (listed separately with what vouch does)';
        note('skip', c.id, why);
        t.skip(why);
        return;
      }
      expect(out.status === 'failed' ? out.reason : 'passed').toBe('passed');
    });
  }
});
