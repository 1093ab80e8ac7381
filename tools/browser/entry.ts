/**
 * The page script of the browser run (bundled by tools/browser/build.mjs): runs the smoke
 * scenarios and the conformance handlers over the embedded vectors, then publishes
 * `window.__results` for the driver to collect.
 */
import { handlerModules } from 'vouch:handlers';
import { sigstoreCases, sigstoreDefaults } from 'vouch:sigstore';
import { cases, files } from 'vouch:vectors';
import { runSigstoreCase, type SigstoreCaseResult } from '../../conformance/sigstore/cases.js';
import type { Handlers } from '../../conformance/types.js';
import { type CaseResult, runCases } from './cases.js';
import { runSmoke, type SmokeResult } from './smoke.js';

/** What the page publishes on `window.__results`. */
export interface BrowserResults {
  done: true;
  userAgent: string;
  smoke: SmokeResult[];
  modules: { name: string; kinds: string[] }[];
  cases: CaseResult[];
  /** sigstore-conformance cases (empty without ../shared). */
  sigstore: SigstoreCaseResult[];
  error?: string;
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function main(): Promise<BrowserResults> {
  const smoke = await runSmoke();
  const handlers: Handlers = {};
  const modules = handlerModules.map((m) => {
    Object.assign(handlers, m.handlers);
    return { name: m.name, kinds: Object.keys(m.handlers) };
  });
  const results = await runCases(cases, handlers, {
    vectorsDir: '/vectors',
    path: (rel) => `/vectors/${rel}`,
    readFile: async (rel) => {
      const b64 = files[rel];
      if (b64 === undefined) throw new Error(`vector file ${rel} is not embedded in the browser bundle`);
      return decodeBase64(b64);
    },
  });
  const sigstore: SigstoreCaseResult[] = [];
  if (sigstoreDefaults) {
    const defaults = { artifact: decodeBase64(sigstoreDefaults.artifact), trustedRoot: sigstoreDefaults.trustedRoot };
    for (const c of sigstoreCases) {
      const caseFiles = Object.fromEntries(Object.entries(c.files).map(([k, v]) => [k, decodeBase64(v)]));
      sigstore.push(await runSigstoreCase({ id: c.id, files: caseFiles }, defaults));
    }
  }
  return { done: true, userAgent: navigator.userAgent, smoke, modules, cases: results, sigstore };
}

const w = globalThis as unknown as { __results?: BrowserResults; __vouchRun?: () => Promise<BrowserResults>; __vouchNoAutorun?: boolean };
// Runtimes that allow no I/O at global scope (workerd) set __vouchNoAutorun and call __vouchRun
// from a request handler.
w.__vouchRun = main;
if (!w.__vouchNoAutorun)
  main().then(
    (r) => {
      w.__results = r;
    },
    (e) => {
      w.__results = {
        done: true,
        userAgent: navigator.userAgent,
        smoke: [],
        modules: [],
        cases: [],
        sigstore: [],
        error: String(e?.stack ?? e),
      };
    },
  );
