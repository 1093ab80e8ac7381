// Validates rendered Kubernetes objects against the Kubernetes API schemas carried by the npm
// package `kubernetes-models` (generated from the Kubernetes OpenAPI document), two ways:
//  1. the package's compiled JSON-schema validators (types, formats, enums, required fields);
//  2. an unknown-field check: those validators accept fields the API does not know (a
//     misspelt `readOnlyRootFileSystem` would pass), so every object is also type-checked by
//     the TypeScript compiler against the package's interfaces as an object literal, where any
//     field the API type does not declare is an error (excess property check), like
//     `kubectl apply --validate=strict`.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importModule, packageDir } from './modules.mjs';

/** kubernetes-models' folder for an apiVersion: "v1" → "v1", "apps/v1" → "apps/v1". */
const modelPath = (apiVersion, kind) => `${apiVersion}/${kind}`;

/** Directory of the installed kubernetes-models package, or undefined. */
export function kubernetesModelsDir() {
  const dir = packageDir('kubernetes-models');
  return dir ? realpathSync(dir) : undefined;
}

/**
 * Validate each object with kubernetes-models' schema validator. Returns one message per
 * problem; objects whose apiVersion/kind the package does not know are reported unless listed
 * in `options.skipKinds` (e.g. CRDs such as cert-manager.io/v1 Certificate).
 */
export async function validateSchemas(objects, options = {}) {
  const dir = kubernetesModelsDir();
  if (!dir) throw new Error('kubernetes-models is not installed');
  const problems = [];
  for (const o of objects) {
    const id = `${o.kind}/${o.metadata?.name}`;
    if (options.skipKinds?.includes(`${o.apiVersion}/${o.kind}`)) continue;
    let mod;
    try {
      mod = await import(pathToFileURL(join(dir, `${modelPath(o.apiVersion, o.kind)}.js`)).href);
    } catch {
      problems.push(`${id}: no Kubernetes schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    const Model = mod[o.kind] ?? mod.default?.[o.kind];
    try {
      new Model(o).validate();
    } catch (e) {
      problems.push(`${id}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return problems;
}

/**
 * Reject fields the Kubernetes API types do not declare, by type-checking each object against
 * kubernetes-models' TypeScript interfaces (one compiler run for all of them: pass every object
 * at once). `options.labelOf(object)` names an object in messages (default Kind/name); it must
 * hold no spaces or newlines. Returns one message per problem.
 */
export async function checkUnknownFields(objects, options = {}) {
  const dir = kubernetesModelsDir();
  if (!dir) throw new Error('kubernetes-models is not installed');
  const tsMod = await importModule('typescript');
  if (!tsMod) throw new Error('typescript is not installed');
  const ts = tsMod.default ?? tsMod;
  const lines = [];
  const checked = objects.filter((o) => !options.skipKinds?.includes(`${o.apiVersion}/${o.kind}`));
  checked.forEach((o, i) => {
    const from = JSON.stringify(join(dir, modelPath(o.apiVersion, o.kind)));
    lines.push(`import type { I${o.kind} as T${i} } from ${from};`);
  });
  checked.forEach((o, i) => {
    lines.push(`// ${options.labelOf ? options.labelOf(o) : `${o.kind}/${o.metadata?.name}`}`);
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(o, null, 2)};`);
  });
  const tmp = mkdtempSync(join(tmpdir(), 'vouch-k8s-'));
  try {
    const file = join(tmp, 'objects.ts');
    writeFileSync(file, lines.join('\n'));
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      lib: ['lib.es2022.d.ts'],
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
    });
    const diags = ts.getPreEmitDiagnostics(program);
    return diags.map((d) => {
      const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return msg;
      // Name the object the error is in: the nearest preceding "// Kind/name" comment.
      const text = d.file.text.slice(0, d.start);
      const owner = /\/\/ (\S+)\n[\s\S]*$/.exec(text.slice(text.lastIndexOf('\n// ')))?.[1] ?? '?';
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const src = d.file.text.split('\n')[line]?.trim();
      return `${owner}: ${msg.split('\n')[0]} (at ${src})`;
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
