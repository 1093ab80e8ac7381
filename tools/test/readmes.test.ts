/**
 * The README of every published package (packages/* without "private": true): it exists, says
 * how to install the package, links to the repository's docs/, and every ```ts block in it
 * typechecks against the workspace sources with the repository's strict settings — so an example
 * never names an export that does not exist or calls it with the wrong shape.
 *
 * A block compiles as its own ES module. The values it takes as given (a policy, a PEM, bytes…)
 * are declared in an HTML comment just before the block, invisible on npm and GitHub:
 *
 *     <!-- ts-givens: declare const caPem: string; -->
 *
 * A block that is a type sketch rather than code is marked `<!-- ts-check: skip (why) -->`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCS_LINK, examplesOf, publishedPackages, sourceExamples, typecheckExamples } from './readme-examples.js';
import { repoRoot } from './support.js';

const packages = publishedPackages();

describe('package READMEs', () => {
  it('finds the published packages', () => {
    expect(packages.map((p) => p.name)).toContain('@vouch/notation');
  });

  for (const p of packages) {
    describe(p.name, () => {
      const file = join(p.dir, 'README.md');
      const readme = existsSync(file) ? readFileSync(file, 'utf8') : '';

      it('has a README.md that opens with the package name and a paragraph of purpose', () => {
        expect(existsSync(file), `${file} is missing`).toBe(true);
        const [title, blank, purpose] = readme.split('\n');
        expect(title).toBe(`# ${p.name}`);
        expect(blank).toBe('');
        expect(purpose?.trim().length ?? 0).toBeGreaterThan(20);
      });

      it('says how to install it', () => {
        expect(readme).toMatch(new RegExp(`\`\`\`sh\\nnpm install [^\\n]*${p.name.replace('/', '\\/')}(\\s|$)`, 'm'));
      });

      it('has at least one TypeScript example', () => {
        expect(examplesOf(`${p.name} README.md`, readme).filter((e) => !e.skip).length).toBeGreaterThan(0);
      });

      it("links to the repository's docs/, and every linked page exists", () => {
        const links = [...readme.matchAll(DOCS_LINK)].map((m) => m[1] as string);
        expect(links.length, 'no link to https://github.com/vouch-dev/vouch/blob/main/docs/…').toBeGreaterThan(0);
        for (const l of links) expect(existsSync(join(repoRoot, l)), `${l} does not exist`).toBe(true);
      });

      it('ships the README (npm packs README.md whatever "files" says; "files" must not exclude it)', () => {
        expect(p.files.some((f) => f.startsWith('!') && /readme/i.test(f))).toBe(false);
      });
    });
  }

  it('every ```ts example typechecks against the workspace sources', () => {
    const examples = packages.flatMap((p) => {
      const file = join(p.dir, 'README.md');
      return existsSync(file) ? examplesOf(`${p.name} README.md`, readFileSync(file, 'utf8')).filter((e) => !e.skip) : [];
    });
    expect(typecheckExamples(examples)).toEqual([]);
  }, 120_000);

  it('every @example in the published sources typechecks (names it takes as given aside)', () => {
    const examples = packages.flatMap((p) => sourceExamples(p.dir));
    expect(examples.length).toBeGreaterThan(20);
    expect(typecheckExamples(examples)).toEqual([]);
  }, 120_000);

  it('reports an example that names a missing export, with its README line', () => {
    const readme =
      "# x\n\n<!-- ts-givens: declare const n: number; -->\n```ts\nimport { noSuchExport } from '@vouch/core';\nn.toFixed(noSuchExport);\n```\n";
    const problems = typecheckExamples(examplesOf('@vouch/x README.md', readme));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^@vouch\/x README\.md:5: .*noSuchExport/);
  }, 120_000);
});
