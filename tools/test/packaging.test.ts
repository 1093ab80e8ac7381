/**
 * The packaging tooling: the package.json rules of tools/packaging/check-packages.mjs, the
 * browser bundler's refusal of Node built-ins, the bleed checks on the verify path (from
 * sources, so no build is needed; the size budget and publint/attw run in .ci/run after the
 * build), and the Go-template subset of the Helm renderer.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from '../packaging/bundle.mjs';
import { checkBundles, checkManifest } from '../packaging/check-packages.mjs';
import { renderChart } from '../packaging/render-helm.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'vouch-packaging-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fixture(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const good = {
  name: '@vouch/example',
  version: '0.1.0',
  description: 'An example',
  type: 'module',
  sideEffects: false,
  license: 'Apache-2.0',
  repository: { type: 'git', url: 'git+https://example.invalid/vouch.git', directory: 'packages/example' },
  engines: { node: '^20.19.0 || >=22.12.0' },
  files: ['dist'],
  exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' }, './package.json': './package.json' },
  scripts: { build: 'tsup' },
};

describe('packaging: package.json rules', () => {
  it('accepts a manifest that follows every rule', () => {
    const dir = fixture('good', { 'dist/index.js': '', 'dist/index.d.ts': '', LICENSE: 'Apache-2.0', 'README.md': '# @vouch/example\n' });
    expect(checkManifest(good, dir)).toEqual([]);
  });

  it('names each broken rule', () => {
    const dir = fixture('bad', { 'dist/index.js': '' });
    const bad = {
      ...good,
      description: '',
      type: 'commonjs',
      sideEffects: true,
      engines: undefined,
      repository: undefined,
      main: './dist/index.js',
      scripts: { postinstall: 'node setup.js', prepare: 'husky' },
      exports: { '.': { default: './dist/index.js', types: './dist/index.d.ts' }, './x': './dist/x.js' },
      files: ['dist', '!README.md'],
    };
    const problems = checkManifest(bad, dir).join('\n');
    for (const text of [
      '"type" is "commonjs"',
      '"sideEffects" is true',
      'no "engines.node"',
      '"description" is missing',
      '"repository" is missing',
      'install-time script "postinstall"',
      'install-time script "prepare"',
      '"main"/"module" beside "exports"',
      '"exports" lacks "./package.json"',
      'exports["."]: "types" is not the first condition',
      'exports["./x"] is not a conditions object',
      './dist/index.d.ts does not exist (run pnpm build)',
      'no LICENSE file',
      'no README.md',
      '"files" excludes the README',
    ]) {
      expect(problems).toContain(text);
    }
  });
});

describe('packaging: browser bundles', () => {
  it('refuses Node built-ins and names the importer', async () => {
    const r = await bundleForBrowser({ contents: "import { readFileSync } from 'node:fs'; export const x = readFileSync;" });
    expect(r.ok).toBe(false);
    expect(r.nodeImports).toEqual([{ path: 'node:fs', importer: 'entry.js' }]);
  });

  it('the verify paths bundle for browsers with no Node code, no signing-only code, and jws without cbor', async () => {
    const { problems, lines } = await checkBundles({ size: false });
    expect(problems).toEqual([]);
    expect(lines.join('\n')).toMatch(/bleed: @vouch\/envelope\/jws [\d.]+ KiB min, no cbor-x/);
    expect(lines.join('\n')).toMatch(/bleed: sigstore-verify-path [\d.]+ KiB min from sources, nothing forbidden/);
  }, 120_000);
});

describe('packaging: the Helm renderer', () => {
  const chart = (templates: Record<string, string>, values = 'a: 1\n') =>
    fixture(`chart-${Object.keys(templates).join('-')}-${Math.random().toString(36).slice(2)}`, {
      'Chart.yaml': 'apiVersion: v2\nname: t\nversion: 1.2.3\nappVersion: "9"\n',
      'values.yaml': values,
      ...Object.fromEntries(Object.entries(templates).map(([k, v]) => [`templates/${k}`, v])),
    });

  it('trims, branches, ranges and includes like helm template', async () => {
    const dir = chart(
      {
        '_h.tpl': '{{- define "n" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}',
        'cm.yaml': [
          'apiVersion: v1',
          'kind: ConfigMap',
          'metadata:',
          '  name: {{ include "n" . }}',
          'data:',
          '  {{- if eq .Values.mode "a" }}',
          '  mode: first',
          '  {{- else if eq .Values.mode "b" }}',
          '  mode: second',
          '  {{- else }}',
          '  mode: other',
          '  {{- end }}',
          '  list: {{ range .Values.items }}{{ . }},{{ end }}',
          '  keys: "{{ range .Values.map }}{{ . }}{{ end }}"',
          '  version: {{ .Chart.AppVersion | quote }}',
          '  {{- with .Values.extra }}',
          '  extra: {{ .name | default "none" | upper }}',
          '  {{- end }}',
        ].join('\n'),
      },
      'mode: b\nitems: [x, y]\nmap: {z: 3, a: 1}\nextra: {name: ""}\n',
    );
    const { objects } = await renderChart(dir, { name: 'rel', set: ['items=null'] });
    expect(objects).toEqual([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'rel-t' },
        data: { mode: 'second', list: null, keys: '13', version: '9', extra: 'NONE' },
      },
    ]);
  });

  it('rejects what it does not implement instead of rendering something else', async () => {
    const dir = chart({ 'x.yaml': '{{ $x := 1 }}' });
    await expect(renderChart(dir)).rejects.toThrow(/variables are not supported/);
    const dir2 = chart({ 'y.yaml': '{{ tpl "x" . }}' });
    await expect(renderChart(dir2)).rejects.toThrow(/function "tpl" is not supported/);
  });
});
