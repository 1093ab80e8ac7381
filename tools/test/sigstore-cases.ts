/** The sigstore-conformance cases replayed in this Node process, once, for the runtime comparisons. */
import { runSigstoreCase, type SigstoreCaseResult } from '../../conformance/sigstore/cases.js';
import { loadSigstoreCases } from '../../conformance/sigstore/files.mjs';

let memo: Promise<{ present: boolean; results: SigstoreCaseResult[] }> | undefined;

export function sigstoreInNode(): Promise<{ present: boolean; results: SigstoreCaseResult[] }> {
  memo ??= (async () => {
    const { present, cases, defaults } = loadSigstoreCases();
    const results: SigstoreCaseResult[] = [];
    if (present) for (const c of cases) results.push(await runSigstoreCase(c, defaults!));
    return { present, results };
  })();
  return memo;
}
