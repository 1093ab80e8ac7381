/**
 * The runtime-agnostic packages in headless Chromium (Debian's chromium, driven by
 * playwright-core with executablePath): the smoke scenarios of tools/browser/smoke.ts and the
 * conformance handlers that bundle without Node built-ins, over the upstream vectors embedded
 * in the bundle. Each case must end the same way in Chromium as in Node. Skips with a NOTICE
 * when Chromium or playwright-core is missing, except under CI=true.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Handlers } from '../../conformance/types.js';
import { loadVectors, vectorsDir } from '../browser/build.mjs';
import { type CaseResult, runCases } from '../browser/cases.js';
import type { BrowserResults } from '../browser/entry.js';
import { CHROMIUM, loadPlaywright, runInBrowser } from '../browser/run.mjs';
import { sigstoreInNode } from './sigstore-cases.js';
import { requirement } from './support.js';

/** Conformance areas that must run in browsers (their handler modules must bundle). */
const RUNTIME_AGNOSTIC = ['x509', 'trust-policy', 'envelope', 'timestamp'];

const hasChromium = requirement(existsSync(CHROMIUM), `Chromium (${CHROMIUM}, Debian package chromium)`, 'the browser run is skipped');
const hasPlaywright =
  hasChromium && requirement((await loadPlaywright()) !== undefined, 'the npm package playwright-core', 'the browser run is skipped');

/** What runInBrowser resolves with: the page's results plus what the build found. */
type Run = BrowserResults & {
  consoleErrors: string[];
  build: { bytes: number; included: { name: string; file: string }[]; excluded: { name: string; reason: string }[] };
};

describe.skipIf(!hasChromium || !hasPlaywright)('browser run (headless Chromium)', () => {
  let run: Run;
  let nodeCases: CaseResult[];
  const vectorsPresent = existsSync(join(vectorsDir(), 'index.json'));

  beforeAll(async () => {
    run = (await runInBrowser()) as Run;
    // The same handler modules, over the same cases, in this Node process.
    const handlers: Handlers = {};
    for (const m of run.build.included) Object.assign(handlers, (await import(pathToFileURL(m.file).href)).handlers);
    const dir = vectorsDir();
    nodeCases = await runCases(loadVectors(dir).cases, handlers, {
      vectorsDir: dir,
      path: (rel) => join(dir, rel),
      readFile: async (rel) => new Uint8Array(await readFile(join(dir, rel))),
    });
  }, 600_000);

  it('the page ran to the end without errors', () => {
    expect(run.error).toBeUndefined();
    expect(run.userAgent).toMatch(/HeadlessChrome|Chrome/);
    expect(run.consoleErrors).toEqual([]);
  });

  it('envelopes, x509, trust policy and verify() over a memory repository work in Chromium', () => {
    expect(run.smoke.length).toBeGreaterThanOrEqual(9);
    expect(run.smoke.filter((s) => !s.ok)).toEqual([]);
  });

  it('the runtime-agnostic conformance areas bundle without Node built-ins', () => {
    const present = RUNTIME_AGNOSTIC.filter((n) => existsSync(join(import.meta.dirname, '..', '..', 'conformance', `${n}.ts`)));
    expect(run.build.excluded.filter((x) => present.includes(x.name))).toEqual([]);
    expect(run.build.included.map((m) => m.name)).toEqual(expect.arrayContaining(present));
  });

  it('every sigstore-conformance case ends the same way in Chromium as in Node, and passes', async (t) => {
    const inNode = await sigstoreInNode();
    if (
      !requirement(
        inNode.present,
        'the sigstore-conformance data (../shared/sigstore-conformance)',
        'sigstore cases are not replayed in Chromium',
      )
    ) {
      t.skip();
      return;
    }
    expect(run.sigstore.map((c) => `${c.id}: ${c.status} ${c.detail}`)).toEqual(
      inNode.results.map((c) => `${c.id}: ${c.status} ${c.detail}`),
    );
    expect(run.sigstore.filter((c) => c.status !== 'passed')).toEqual([]);
    console.log(`browser: ${run.sigstore.length} sigstore-conformance cases passed in Chromium`);
  });

  it('every conformance case ends the same way in Chromium as in Node', (t) => {
    if (
      !requirement(vectorsPresent, `the upstream vectors (${vectorsDir()}/index.json)`, 'conformance cases are not replayed in Chromium')
    ) {
      t.skip();
      return;
    }
    expect(run.cases.length).toBeGreaterThan(0);
    expect(run.cases.filter((c) => c.status === 'threw')).toEqual([]);
    const inNode = new Map(nodeCases.map((c) => [c.id, c.status]));
    const differ = run.cases
      .filter((c) => inNode.get(c.id) !== c.status)
      .map((c) => `${c.id}: chromium ${c.status} (${c.detail ?? ''}), node ${inNode.get(c.id)}`);
    expect(differ).toEqual([]);
    expect(run.cases.map((c) => c.id).sort()).toEqual(nodeCases.map((c) => c.id).sort());
    const passed = run.cases.filter((c) => c.status === 'passed').length;
    console.log(
      `browser: ${passed} of ${run.cases.length} conformance cases passed in Chromium (${run.build.included.map((m) => m.name).join(', ')})`,
    );
  });
});
