/** Text rendering of the demo story (the JSON form is the {@link DemoReport} itself). */
import type { DemoReport, DemoStep } from './story.js';

const OK = '✔';
const BAD = '✘';

/** The header printed before the first step. */
export function renderHeader(info: { mode: DemoReport['mode']; registry: string; dir: string; store: string; kept: boolean }): string {
  const files = info.kept ? info.dir : 'a temporary directory, removed at the end (--keep or --dir keeps it)';
  const where =
    info.mode === 'oci-layout'
      ? `OCI image layouts under ${info.kept ? info.store : `layout/ in ${files}`} (no services, no network)`
      : `the registry ${info.registry} (files in ${files})`;
  return ['vouch demo: sign an image, verify it, and let a Kyverno policy decide which Pods may run', `store: ${where}`, '', ''].join('\n');
}

/** One step as it is printed when it completes. */
export function renderStep(step: DemoStep, index: number, total: number): string {
  const pad = '       ';
  const out = [`[${index}/${total}] ${step.title}`];
  for (const l of step.lines) out.push(`${pad}${l}`);
  out.push(`${pad}proves: ${step.proves}`);
  out.push(`${pad}${step.ok ? OK : BAD} ${step.outcome}${step.ok ? '' : ` (expected ${step.expected})`}`);
  return `${out.join('\n')}\n\n`;
}

/** The verdict table and the closing line. */
export function renderVerdict(report: DemoReport): string {
  const width = Math.max(...report.steps.map((s) => s.id.length));
  const lines = ['Verdicts'];
  for (const s of report.steps) {
    lines.push(`  ${s.ok ? OK : BAD} ${s.id.padEnd(width)}  ${s.outcome}${s.ok ? '' : `  (expected ${s.expected})`}`);
  }
  lines.push('');
  if (report.verdict.ok) {
    lines.push(
      `All ${report.verdict.total} steps behaved as expected: the signed image verifies (JWS and COSE) and is admitted with its digest pinned,`,
      'also under a policy that requires a Notary and a cosign signature; a foreign CA, a foreign identity, an unsigned image and a',
      'forged signature are all rejected.',
    );
  } else {
    lines.push(
      `${report.verdict.total - report.verdict.asExpected} of ${report.verdict.total} steps did not behave as expected: ${report.verdict.unexpected.join(', ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
