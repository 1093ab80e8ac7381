/**
 * Replays conformance cases through handler maps, the same way in Node and in the browser:
 * the shape of conformance/conformance.test.ts, with file access injected (the browser reads
 * the vector files embedded in its bundle).
 */
import type { CaseContext, CaseOutcome, Handlers, VectorCase } from '../../conformance/types.js';

/** One case's outcome, as compared between runtimes. */
export interface CaseResult {
  id: string;
  kind: string;
  status: CaseOutcome['status'] | 'threw';
  detail?: string;
}

/** The instant to verify at, parsed from expect.verificationTime (as conformance.test.ts does). */
export function timeOf(c: VectorCase): Date | undefined {
  const m = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?/.exec(c.expect.verificationTime ?? '');
  if (!m) return undefined;
  const iso = /Z|[+-]\d{2}:?\d{2}$/.test(m[0]) ? m[0] : `${m[0]}Z`;
  return new Date(iso);
}

/** Run every case that has a handler; a handler that throws or hangs is reported, never fatal. */
export async function runCases(
  cases: readonly VectorCase[],
  handlers: Handlers,
  files: { vectorsDir: string; readFile(rel: string): Promise<Uint8Array>; path(rel: string): string },
  timeoutMs = 30_000,
): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of cases) {
    const handler = handlers[c.kind];
    if (!handler) continue;
    const ctx: CaseContext = { ...files, verificationTime: timeOf(c) };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const outcome = await Promise.race([
        handler(c, ctx),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      const detail =
        outcome.status === 'failed' || outcome.status === 'skipped'
          ? outcome.reason
          : outcome.status === 'undetermined'
            ? outcome.vouchDid
            : undefined;
      out.push({ id: c.id, kind: c.kind, status: outcome.status, ...(detail ? { detail } : {}) });
    } catch (e) {
      out.push({ id: c.id, kind: c.kind, status: 'threw', detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}
