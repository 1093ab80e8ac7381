/**
 * The public-types check (tools/public-types.mjs, run by `pnpm typecheck` over the real entry
 * points) against small fixtures: it must find `any`, Buffer, Node types and third-party types at
 * any depth, and accept what public types may use.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPublicTypes, publicEntries } from '../public-types.mjs';

type Entry = { name: string; file: string; nodeAllowed: boolean };
const check = (o: { entries: Entry[] }): string[] => checkPublicTypes(o);

let dir: string;
const file = (rel: string, text: string) => {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vouch-public-types-'));
  file('package.json', '{"type":"module"}');
  file('node_modules/fakelib/package.json', '{"name":"fakelib","version":"1.0.0","types":"index.d.ts"}');
  file('node_modules/fakelib/index.d.ts', 'export interface Dispatcher { dispatch(): void }\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('public-types check', () => {
  it('reports any, Buffer, Node and third-party types, however deep, with their path', () => {
    const bad = file(
      'src/bad.ts',
      `import type { Dispatcher } from 'fakelib';
export interface Options {
  transport: Dispatcher;
  raw: any;
  nested: { deep: Promise<Buffer> };
  env: NodeJS.ProcessEnv;
}
export function open(options: Options): void {}
export class Client {
  private hidden: any;
  list(): Array<any> { return []; }
}
export type Handler = (input: Uint8Array) => Promise<any>;
`,
    );
    const problems = check({ entries: [{ name: 'bad', file: bad, nodeAllowed: false }] });
    expect(problems).toEqual(
      expect.arrayContaining([
        'bad: Options.transport: third-party type Dispatcher from fakelib',
        'bad: Options.raw: `any`',
        'bad: Options.nested.deep<0>: Node `Buffer` (use Uint8Array)',
        'bad: Options.env: Node type ProcessEnv in a runtime-agnostic entry point',
        'bad: Client.list()→<0>: `any`',
        'bad: Handler()→<0>: `any`',
      ]),
    );
    expect(problems).toHaveLength(6); // the private member is not public
  });

  it('allows Node types (never Buffer) in entry points that may use Node', () => {
    const node = file('src/node.ts', 'export interface O { env: NodeJS.ProcessEnv; data: Buffer }\n');
    expect(check({ entries: [{ name: 'node', file: node, nodeAllowed: true }] })).toEqual(['node: O.data: Node `Buffer` (use Uint8Array)']);
  });

  it('accepts standard-library types and their default type arguments', () => {
    const good = file(
      'src/good.ts',
      `export interface Good {
  bytes: Uint8Array;
  signal?: AbortSignal;
  chunks: AsyncIterable<Uint8Array>;
  at: Date;
  json: unknown;
  response: Promise<Response>;
  byName: Record<string, readonly string[]>;
}
export class GoodError extends Error { readonly code = 'ERR_X' as const; }
export function good(x: Good, ...more: Good[]): Promise<Good> { return Promise.resolve(more[0] ?? x); }
export const VERSION = '1';
`,
    );
    expect(check({ entries: [{ name: 'good', file: good, nodeAllowed: false }] })).toEqual([]);
  });

  it('checks every published entry point of the workspace, and no private one', () => {
    const names = (publicEntries() as Entry[]).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['@vouch/core', '@vouch/x509/tsp', '@vouch/plugin/cli', '@vouch/node']));
    expect(names).not.toContain('@vouch/testing');
    const plugin = (publicEntries() as Entry[]).filter((e) => e.name.startsWith('@vouch/plugin'));
    expect(plugin.map((e) => [e.name, e.nodeAllowed])).toEqual([
      ['@vouch/plugin', false],
      ['@vouch/plugin/cli', true],
      ['@vouch/plugin/internal', false],
    ]);
  });
});
