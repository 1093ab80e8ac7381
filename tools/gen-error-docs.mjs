#!/usr/bin/env node
// Generates docs/errors.md from the doc comments of ERROR_CODES in packages/core/src/errors.ts.
// `--check` fails when docs/errors.md is out of date (run in lint).
import { readFileSync, writeFileSync } from 'node:fs';

const src = readFileSync('packages/core/src/errors.ts', 'utf8');
const body = src.slice(src.indexOf('export const ERROR_CODES'), src.indexOf('} as const;'));
const rows = [...body.matchAll(/\/\*\*\s*([\s\S]*?)\s*\*\/\s*\n\s*(ERR_[A-Z0-9_]+):\s*'([^']*)'/g)].map((m) => ({
  code: m[2],
  title: m[3],
  doc: m[1].replace(/\s*\n\s*\*\s?/g, ' ').trim(),
}));
const out = `# Error codes

Every error vouch throws is a \`VouchError\` with a \`code\` from this list (generated from
\`packages/core/src/errors.ts\` by \`node tools/gen-error-docs.mjs\`; do not edit by hand).
Branch on \`code\`, never on the message. With \`--output json\` the CLI prints
\`{"error": {"code", "message", "details"}}\`.

Adding a code is a minor change; renaming or removing one is a major change.

| code | short | when, and what to do |
|---|---|---|
${rows.map((r) => `| \`${r.code}\` | ${r.title} | ${r.doc.replace(/\|/g, '\\|')} |`).join('\n')}
`;
if (process.argv.includes('--check')) {
  let cur = '';
  try {
    cur = readFileSync('docs/errors.md', 'utf8');
  } catch {}
  if (cur !== out) {
    console.error('docs/errors.md is out of date: run node tools/gen-error-docs.mjs');
    process.exit(1);
  }
  console.log(`gen-error-docs: docs/errors.md up to date (${rows.length} codes)`);
} else {
  writeFileSync('docs/errors.md', out);
  console.log(`gen-error-docs: wrote docs/errors.md (${rows.length} codes)`);
}
