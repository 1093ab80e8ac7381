/**
 * The runtime-agnostic packages in Deno, Bun and workerd: the browser run's bundle (smoke
 * scenarios and the conformance handlers that bundle without Node built-ins, over the embedded
 * upstream vectors) as a plain ESM script — Deno grants it no permission — or, in workerd, as a
 * module worker answering one request. Each case must end the same way as in Node. Skips with a
 * NOTICE when a runtime is missing, except under CI=true (.ci/run installs all three).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Handlers } from '../../conformance/types.js';
import { buildBrowserRun, loadVectors, vectorsDir } from '../browser/build.mjs';
import { type CaseResult, runCases } from '../browser/cases.js';
import type { BrowserResults } from '../browser/entry.js';
import { RUNTIMES, runInRuntime, runtimeBinary } from '../runtimes/run.mjs';
import { sigstoreInNode } from './sigstore-cases.js';
import { requirement } from './support.js';

type Run = BrowserResults & { version: string; stderr?: string };
type Build = Awaited<ReturnType<typeof buildBrowserRun>>;

const present = Object.fromEntries(
  (Object.keys(RUNTIMES) as (keyof typeof RUNTIMES)[]).map((name) => [
    name,
    requirement(
      runtimeBinary(name) !== undefined,
      `${name} (${RUNTIMES[name].env} or \`${RUNTIMES[name].command}\` on PATH; npm package ${name})`,
      `the ${name} run is skipped`,
    ),
  ]),
) as Record<keyof typeof RUNTIMES, boolean>;

let build: Build | undefined;
let nodeCases: CaseResult[] | undefined;

/** The bundle and the Node results, made once for both runtimes. */
async function shared(): Promise<{ build: Build; nodeCases: CaseResult[] }> {
  build ??= await buildBrowserRun();
  if (!nodeCases) {
    const handlers: Handlers = {};
    for (const m of build.included) Object.assign(handlers, (await import(pathToFileURL(m.file).href)).handlers);
    const dir = vectorsDir();
    nodeCases = await runCases(loadVectors(dir).cases, handlers, {
      vectorsDir: dir,
      path: (rel) => join(dir, rel),
      readFile: async (rel) => new Uint8Array(await readFile(join(dir, rel))),
    });
  }
  return { build, nodeCases };
}

for (const name of Object.keys(RUNTIMES) as (keyof typeof RUNTIMES)[]) {
  describe.skipIf(!present[name])(`${name} run`, () => {
    let run: Run;
    let inNode: CaseResult[];
    const vectorsPresent = existsSync(join(vectorsDir(), 'index.json'));

    beforeAll(async () => {
      const s = await shared();
      inNode = s.nodeCases;
      run = (await runInRuntime(name, { build: s.build })) as Run;
    }, 600_000);

    it('the script ran to the end without errors', () => {
      expect(run.error).toBeUndefined();
      expect(run.version).toMatch({ deno: /^deno 2\./, bun: /^1\./, workerd: /^workerd \d{4}-\d\d-\d\d/ }[name]);
      expect(run.userAgent).toMatch({ deno: /Deno/, bun: /Bun/, workerd: /Cloudflare-Workers/ }[name]);
    });

    it('envelopes, x509, trust policy and verify() over a memory repository work', () => {
      expect(run.smoke.length).toBeGreaterThanOrEqual(9);
      expect(run.smoke.filter((s) => !s.ok)).toEqual([]);
    });

    it(`every sigstore-conformance case ends the same way in ${name} as in Node, and passes`, async (t) => {
      const inNodeSigstore = await sigstoreInNode();
      if (
        !requirement(
          inNodeSigstore.present,
          'the sigstore-conformance data (../shared/sigstore-conformance)',
          `sigstore cases are not replayed in ${name}`,
        )
      ) {
        t.skip();
        return;
      }
      expect(run.sigstore.map((c) => `${c.id}: ${c.status} ${c.detail}`)).toEqual(
        inNodeSigstore.results.map((c) => `${c.id}: ${c.status} ${c.detail}`),
      );
      expect(run.sigstore.filter((c) => c.status !== 'passed')).toEqual([]);
      console.log(`${name}: ${run.sigstore.length} sigstore-conformance cases passed`);
    });

    it(`every conformance case ends the same way in ${name} as in Node`, (t) => {
      if (
        !requirement(vectorsPresent, `the upstream vectors (${vectorsDir()}/index.json)`, `conformance cases are not replayed in ${name}`)
      ) {
        t.skip();
        return;
      }
      expect(run.cases.length).toBeGreaterThan(0);
      expect(run.cases.filter((c) => c.status === 'threw')).toEqual([]);
      const statusInNode = new Map(inNode.map((c) => [c.id, c.status]));
      const differ = run.cases
        .filter((c) => statusInNode.get(c.id) !== c.status)
        .map((c) => `${c.id}: ${name} ${c.status} (${c.detail ?? ''}), node ${statusInNode.get(c.id)}`);
      expect(differ).toEqual([]);
      expect(run.cases.map((c) => c.id).sort()).toEqual(inNode.map((c) => c.id).sort());
      const passed = run.cases.filter((c) => c.status === 'passed').length;
      console.log(
        `${name} (${run.version}): ${passed} of ${run.cases.length} conformance cases passed, smoke ${run.smoke.length}/${run.smoke.length}`,
      );
    });
  });
}
