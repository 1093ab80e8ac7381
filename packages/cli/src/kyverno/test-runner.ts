/** `vouch kyverno test`: find and run `kyverno-test.yaml` files, print Kyverno's result table. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { VouchError } from '@vouch/core';
import {
  type CosignImageVerifier,
  type NotaryImageVerifier,
  parseKyvernoTest,
  runKyvernoTest,
  type TestRow,
  type TestRunResult,
} from '@vouch/kyverno';

/** The default test file name (`kyverno test --file-name`). */
export const TEST_FILE_NAME = 'kyverno-test.yaml';

/** Test files under `path` (a directory walked recursively, or one file), sorted. */
export function findTestFiles(path: string, fileName = TEST_FILE_NAME): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `${path} does not exist`, { cause: e, details: { path } });
  }
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== '.git') walk(p);
      } else if (e.isFile() && e.name === fileName) out.push(p);
    }
  };
  walk(path);
  return out;
}

/** Result of one test file. */
export interface TestFileResult extends TestRunResult {
  /** Path as printed (relative to the working directory). */
  path: string;
  /** Set when the test file itself could not be loaded. */
  error?: string;
}

/** Run one `kyverno-test.yaml`: files it names are read relative to it. Load errors become a failed result. */
export async function runTestFile(
  file: string,
  cwd: string,
  verifiers: { verifier: NotaryImageVerifier; cosignVerifier?: CosignImageVerifier },
): Promise<TestFileResult> {
  const path = relative(cwd, file) || file;
  const base = dirname(file);
  try {
    const test = parseKyvernoTest(readFileSync(file, 'utf8'), { source: path });
    const r = await runKyvernoTest(test, {
      verifier: verifiers.verifier,
      ...(verifiers.cosignVerifier ? { cosignVerifier: verifiers.cosignVerifier } : {}),
      cache: {},
      readFile: (p) => {
        try {
          return readFileSync(join(base, p), 'utf8');
        } catch (e) {
          throw new VouchError('ERR_INVALID_ARGUMENT', `${path}: cannot read ${p}: ${(e as Error).message}`, { cause: e });
        }
      },
    });
    return { ...r, path };
  } catch (e) {
    return { path, rows: [], passed: 0, failed: 1, invalidPolicies: {}, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Kyverno's bordered table (lensesio/tableprinter as Kyverno configures it): `│ ID │ POLICY │ … │`. */
export function renderTable(head: readonly string[], body: readonly (readonly string[])[]): string {
  const cells = body.map((b) => b.map((c) => c.replace(/\s+/g, ' ')));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((b) => [...(b[i] ?? '')].length)));
  const sep = `│${widths.map((w) => '─'.repeat(w + 2)).join('│')}│`;
  const line = (row: readonly string[]) => `│${row.map((c, i) => ` ${c}${' '.repeat(widths[i]! - [...c].length)} `).join('│')}│`;
  return [sep, line(head), sep, ...cells.map(line), sep].map((l) => `${l}\n`).join('');
}

/** The `kyverno test` table (ID, POLICY, RULE, RESOURCE, RESULT, REASON [, MESSAGE]). */
export function renderTestTable(rows: readonly TestRow[], detailed = false): string {
  const head = ['ID', 'POLICY', 'RULE', 'RESOURCE', 'RESULT', 'REASON', ...(detailed ? ['MESSAGE'] : [])];
  const body = rows.map((r) => [String(r.id), r.policy, r.rule, r.resource, r.result, r.reason, ...(detailed ? [r.message ?? ''] : [])]);
  return renderTable(head, body);
}

/** The text printed for one test file (Kyverno's "Loading test" block and table). */
export function renderTestFile(r: TestFileResult, detailed = false): string {
  let s = `Loading test  ( ${r.path} ) ...\n`;
  if (r.error) return `${s}  Error: ${r.error}\n\n`;
  s += '  Loading values/variables ...\n  Loading policies ...\n  Loading resources ...\n';
  for (const [p, m] of Object.entries(r.invalidPolicies)) s += `  Invalid policy ${p}: ${m}\n`;
  s += '  Checking results ...\n\n';
  if (r.rows.length > 0) s += `${renderTestTable(r.rows, detailed)}\n`;
  return s;
}
