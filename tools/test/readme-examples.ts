/**
 * The ```ts examples of the package READMEs, and a typecheck of them against the workspace
 * sources (used by readmes.test.ts). See that test for the `ts-givens` / `ts-check: skip` marks.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { repoRoot } from './support.js';

export interface Example {
  pkg: string;
  /** 1-based line of the block's first code line in the README. */
  line: number;
  code: string;
  givens: string;
  skip: boolean;
}

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
export function examplesOf(pkg: string, readme: string): Example[] {
  const out: Example[] = [];
  const block = /```ts\n([\s\S]*?)```/g;
  for (let m = block.exec(readme); m; m = block.exec(readme)) {
    const before = readme.slice(0, m.index).trimEnd();
    const open = before.lastIndexOf('<!--');
    const comment = before.endsWith('-->') && open >= 0 ? before.slice(open + 4, -3).trim() : '';
    const givens = /^ts-givens:([\s\S]*)$/.exec(comment)?.[1] ?? '';
    out.push({
      pkg,
      line: readme.slice(0, m.index).split('\n').length + 1,
      code: m[1] ?? '',
      givens,
      skip: comment.startsWith('ts-check: skip'),
    });
  }
  return out;
}

/** Typecheck the examples in one program; returns `<package> README.md:<line>: <message>` per error. */
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
      const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
      const line = at < v.offset ? `(givens)` : String(v.example.line + at - v.offset);
      problems.push(`${v.example.pkg} README.md:${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
  }
  return problems;
}
