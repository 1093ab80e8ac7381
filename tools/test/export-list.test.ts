/**
 * The export-list check (tools/export-list.mjs, run by `pnpm lint` over the real entry points)
 * against a small fixture repository: it must report a name added to or removed from an entry
 * point, a changed kind, and one name with two meanings across entry points; and accept the
 * lists it wrote itself.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkExports, listExports, parseList, writeExports } from '../export-list.mjs';

let dir: string;
const file = (rel: string, text: string) => {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vouch-export-list-'));
  file(
    'tsconfig.base.json',
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        types: [],
        paths: {
          '@vouch/demo': ['./packages/demo/src/index.ts'],
          '@vouch/demo/extra': ['./packages/demo/src/extra.ts'],
          '@vouch/hidden': ['./packages/hidden/src/index.ts'],
        },
      },
    }),
  );
  file('tools/layers.json', JSON.stringify({ packages: { '@vouch/demo': { layer: 0, dir: 'packages/demo' } } }));
  file('packages/demo/package.json', '{"name":"@vouch/demo","type":"module"}');
  file('packages/demo/src/model.ts', 'export interface Thing { id: string }\nexport type Kind = "a" | "b";\n');
  file(
    'packages/demo/src/index.ts',
    "export { type Thing } from './model.js';\nexport function makeThing(): void {}\nexport const LIMIT = 3;\nexport class Box {}\n",
  );
  file('packages/demo/src/extra.ts', "export { makeThing } from './index.js';\nexport function extra(): void {}\n");
  file('packages/hidden/package.json', '{"name":"@vouch/hidden","private":true,"type":"module"}');
  file('packages/hidden/src/index.ts', 'export const secret = 1;\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('export-list', () => {
  it('lists every published entry point with the kind of each name, and skips private packages', () => {
    const entries = listExports(dir);
    expect(entries.map((e) => e.name)).toEqual(['@vouch/demo', '@vouch/demo/extra']);
    expect(entries[0]?.exports.map((e) => `${e.kind} ${e.name}`)).toEqual([
      'class Box',
      'const LIMIT',
      'interface Thing',
      'function makeThing',
    ]);
  });

  it('accepts the lists it wrote, one file per package with a section per entry point', () => {
    expect(writeExports(dir)).toEqual(['packages/demo/exports.txt']);
    const text = readFileSync(join(dir, 'packages/demo/exports.txt'), 'utf8');
    expect(text).toContain('[@vouch/demo/extra]\nfunction extra\nfunction makeThing\n');
    expect([...(parseList(text).get('@vouch/demo')?.keys() ?? [])]).toEqual(['Box', 'LIMIT', 'Thing', 'makeThing']);
    expect(checkExports(dir)).toEqual([]);
    expect(writeExports(dir)).toEqual([]);
  });

  it('reports an added and a removed name, and a changed kind', () => {
    writeExports(dir);
    file(
      'packages/demo/src/index.ts',
      "export { type Thing, type Kind } from './model.js';\nexport function makeThing(): void {}\nexport function LIMIT(): number { return 3; }\n",
    );
    expect(checkExports(dir).sort()).toEqual(
      ['@vouch/demo: added type Kind', '@vouch/demo: removed class Box', '@vouch/demo: LIMIT changed from const to function'].sort(),
    );
  });

  it('reports a missing list and a new entry point', () => {
    expect(checkExports(dir)).toEqual(['packages/demo/exports.txt is missing']);
    writeExports(dir);
    const text = readFileSync(join(dir, 'packages/demo/exports.txt'), 'utf8');
    writeFileSync(join(dir, 'packages/demo/exports.txt'), text.slice(0, text.indexOf('[@vouch/demo/extra]')));
    expect(checkExports(dir)).toEqual([
      'packages/demo/exports.txt: entry point @vouch/demo/extra is not listed',
      '@vouch/demo/extra: added function extra',
      '@vouch/demo/extra: added function makeThing',
    ]);
  });

  it('reports one name with two meanings across entry points, but not a re-export of the same thing', () => {
    writeExports(dir);
    file('packages/demo/src/extra.ts', "export { makeThing } from './index.js';\nexport function extra(): void {}\nexport class Box {}\n");
    const problems = checkExports(dir);
    expect(problems).toContain('Box names different things in @vouch/demo / @vouch/demo/extra: give one of them another name');
    expect(problems.filter((p) => p.includes('makeThing'))).toEqual([]);
  });
});
