/**
 * The ```ts examples of the package READMEs and of the `@example` tags in their sources, and a
 * typecheck of them against the workspace sources (used by readmes.test.ts). See that test for
 * the `ts-givens` / `ts-check: skip` marks.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { repoRoot } from './support.js';

export interface Example {
  /** Where the example is, for messages: `@vouch/x README.md` or a source path. */
  where: string;
  /** 1-based line of the block's first code line in that file. */
  line: number;
  code: string;
  givens: string;
  skip: boolean;
  /**
   * The example uses values it does not declare (a TSDoc `@example`): an unknown name is not an
   * error, every import, export name, call shape and property still is.
   */
  looseNames?: boolean;
}

/** Diagnostics of a name the example takes as given (TS2304, TS2552, TS18004). */
const UNKNOWN_NAME = new Set([2304, 2552, 18004]);

export const DOCS_LINK = /https:\/\/github\.com\/vouch-dev\/vouch\/blob\/main\/(docs\/[\w./-]+\.md)/g;

export function publishedPackages(): { name: string; dir: string; files: string[] }[] {
  const root = join(repoRoot, 'packages');
  return readdirSync(root)
    .map((d) => join(root, d))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter(({ pkg }) => !pkg.private)
    .map(({ dir, pkg }) => ({ name: pkg.name as string, dir, files: (pkg.files ?? []) as string[] }));
}

/** The ```ts blocks of a README with the givens and skip marks of the comment right before each. */
export function examplesOf(where: string, readme: string): Example[] {
  const out: Example[] = [];
  const block = /```ts\n([\s\S]*?)```/g;
  for (let m = block.exec(readme); m; m = block.exec(readme)) {
    const before = readme.slice(0, m.index).trimEnd();
    const open = before.lastIndexOf('<!--');
    const comment = before.endsWith('-->') && open >= 0 ? before.slice(open + 4, -3).trim() : '';
    const givens = /^ts-givens:([\s\S]*)$/.exec(comment)?.[1] ?? '';
    out.push({
      where,
      line: readme.slice(0, m.index).split('\n').length + 1,
      code: m[1] ?? '',
      givens,
      skip: comment.startsWith('ts-check: skip'),
    });
  }
  return out;
}

/** The ```ts blocks after `@example` in the doc comments of a package's non-test sources. */
export function sourceExamples(dir: string): Example[] {
  const out: Example[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'test' && e.name !== 'testing') walk(p);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) {
        const lines = readFileSync(p, 'utf8').split('\n');
        for (let i = 0; i < lines.length; i++) {
          if (!/^\s*\* @example\s*$/.test(lines[i] ?? '') || !/^\s*\* ```ts\s*$/.test(lines[i + 1] ?? '')) continue;
          const code: string[] = [];
          let j = i + 2;
          for (; j < lines.length && !/^\s*\* ```\s*$/.test(lines[j] ?? ''); j++) code.push((lines[j] ?? '').replace(/^\s*\* ?/, ''));
          out.push({ where: relative(repoRoot, p), line: i + 3, code: code.join('\n'), givens: '', skip: false, looseNames: true });
          i = j;
        }
      }
    }
  };
  walk(join(dir, 'src'));
  return out;
}

/** Typecheck the examples in one program; returns `<where>:<line>: <message>` per error. */
export function typecheckExamples(examples: Example[]): string[] {
  const base = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.base.json'), 'utf8'));
  const { options } = ts.convertCompilerOptionsFromJson(
    { ...base.compilerOptions, types: ['node'], typeRoots: [join(repoRoot, 'node_modules', '@types')], noEmit: true },
    repoRoot,
  );
  // Virtual .mts files beside this test: ES modules (top-level await) resolved like the repository's own code.
  const files = new Map<string, { text: string; example: Example; offset: number }>();
  examples.forEach((example, i) => {
    const name = resolve(repoRoot, 'tools', 'test', `readme-example-${i}.mts`);
    const prefix = `${example.givens}\n`;
    files.set(name, { text: `${prefix}${example.code}\nexport {};\n`, example, offset: prefix.split('\n').length - 1 });
  });
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, languageVersion, ...rest) => {
    const v = files.get(resolve(name));
    return v ? ts.createSourceFile(name, v.text, languageVersion, true) : getSourceFile(name, languageVersion, ...rest);
  };
  host.fileExists = (name) => files.has(resolve(name)) || fileExists(name);
  host.readFile = (name) => files.get(resolve(name))?.text ?? readFile(name);
  const program = ts.createProgram([...files.keys()], options, host);
  const problems: string[] = [];
  for (const [name, v] of files) {
    const sf = program.getSourceFile(name);
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      if (v.example.looseNames && UNKNOWN_NAME.has(d.code)) continue;
      const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
      const line = at < v.offset ? `(givens)` : String(v.example.line + at - v.offset);
      problems.push(`${v.example.where}:${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
  }
  return problems;
}
