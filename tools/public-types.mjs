#!/usr/bin/env node
// Type-level check of the public API: walks every type reachable from the exports of each
// published entry point (the `paths` of tsconfig.base.json, minus private packages) with the
// TypeScript checker, and fails when one of them is
//  - `any` (write `unknown`, or the real type),
//  - Node's `Buffer` (public types use `Uint8Array`),
//  - any other Node type, outside the entry points that may use Node APIs (tools/layers.json:
//    `nodeAllowed`, `nodeAllowedUnder`),
//  - a third-party type (pkijs, undici, yaml, …): a dependency is an implementation detail that
//    must not leak into signatures.
// Types of the TypeScript standard library (Uint8Array, Promise, AbortSignal, Response, …) are
// fine; their type arguments are checked. Run by `pnpm typecheck`; `node tools/public-types.mjs`
// runs it alone.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The published entry points: `{ name, file, nodeAllowed }` for every `@vouch/…` specifier of
 * tsconfig.base.json whose package is not private.
 */
export function publicEntries(root = repoRoot) {
  const base = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8'));
  const layers = JSON.parse(readFileSync(join(root, 'tools', 'layers.json'), 'utf8')).packages;
  const entries = [];
  for (const [name, [target]] of Object.entries(base.compilerOptions.paths)) {
    const pkgName = name.split('/').slice(0, 2).join('/');
    const layer = layers[pkgName];
    const dir = layer?.dir ?? join('packages', pkgName.slice('@vouch/'.length));
    const pj = join(root, dir, 'package.json');
    if (!existsSync(pj) || JSON.parse(readFileSync(pj, 'utf8')).private) continue;
    const file = resolve(root, target);
    const srcRel = relative(join(root, dir), file).split(sep).join('/');
    const nodeAllowed = Boolean(layer?.nodeAllowed || layer?.nodeAllowedUnder?.some((u) => srcRel.startsWith(`${u}/`)));
    entries.push({ name, file, nodeAllowed });
  }
  return entries;
}

/**
 * Third-party types an entry point exposes on purpose, each with its reason. Adding one is an API
 * decision: the dependency's major version becomes part of ours.
 */
export const allowedThirdParty = {
  '@vouch/cli': {
    'prom-client': "startWebhookServer's metrics: the registry /metrics serves and the webhook metrics registered in it",
  },
  '@vouch/node/controller': {
    'prom-client': "the caller's metrics registry, and the metrics registered in it",
    '@kubernetes/client-node': "the caller's KubeConfig (kubeClient)",
  },
};

const isLibFile = (f) => /[\\/]typescript[\\/]lib[\\/]lib\.[^\\/]*\.d\.ts$/.test(f);
const isNodeTypes = (f) => /[\\/]node_modules[\\/]@types[\\/]node[\\/]/.test(f);
const isThirdParty = (f) => /[\\/]node_modules[\\/]/.test(f) && !isLibFile(f) && !isNodeTypes(f);

/** Where a type's declarations live: 'lib' (TypeScript's own), 'node', 'third-party', 'own', or undefined (no symbol). */
function originOf(symbol) {
  const files = (symbol?.declarations ?? []).map((d) => d.getSourceFile().fileName);
  if (!files.length) return { origin: undefined };
  if (files.some(isLibFile)) return { origin: 'lib' };
  const third = files.find(isThirdParty);
  if (third) {
    const m = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(third.slice(third.lastIndexOf('node_modules') - 1));
    return { origin: 'third-party', module: m ? m[1].replace(/\\/g, '/') : third };
  }
  if (files.every(isNodeTypes)) return { origin: 'node' };
  return { origin: 'own' };
}

/**
 * Check the public types of `entries` (default: {@link publicEntries}). Returns one message per
 * problem (`<entry>: <path>: <what>`), empty when the public surface is clean.
 */
export function checkPublicTypes({ entries = publicEntries(), compilerOptions = {} } = {}) {
  const base = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.base.json'), 'utf8'));
  const options = ts.convertCompilerOptionsFromJson(
    { ...base.compilerOptions, types: ['node'], typeRoots: [join(repoRoot, 'node_modules', '@types')], ...compilerOptions },
    repoRoot,
  ).options;
  options.noEmit = true;
  const program = ts.createProgram(
    entries.map((e) => e.file),
    options,
  );
  const checker = program.getTypeChecker();
  const problems = [];

  for (const entry of entries) {
    const sf = program.getSourceFile(entry.file);
    const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) {
      problems.push(`${entry.name}: ${entry.file} is not a module`);
      continue;
    }
    const seen = new Set();
    /** Type arguments worth checking: all but an `any` that is the declared default (`AsyncIterable<T>`'s TReturn). */
    const typeArguments = (type) => {
      const out = [];
      const add = (args, params) =>
        args?.forEach((a, i) => {
          const d = params?.[i] && checker.getDefaultFromTypeParameter(params[i]);
          if (a.flags & ts.TypeFlags.Any && d && d.flags & ts.TypeFlags.Any) return;
          out.push([out.length, a]);
        });
      if (type.aliasSymbol) {
        const decl = type.aliasSymbol.declarations?.[0];
        const params = decl?.typeParameters?.map((p) => checker.getTypeAtLocation(p));
        add(type.aliasTypeArguments, params);
      }
      if (type.flags & ts.TypeFlags.Object && type.objectFlags & ts.ObjectFlags.Reference) {
        add(checker.getTypeArguments(type), type.target.typeParameters);
      }
      return out;
    };
    const report = (path, what) => problems.push(`${entry.name}: ${path}: ${what}`);

    const visit = (type, path) => {
      if (!type) return;
      if (type.flags & ts.TypeFlags.Any) return report(path, '`any`'); // one type object: check before `seen`
      if (seen.has(type)) return;
      seen.add(type);
      if (type.isUnionOrIntersection()) {
        for (const t of type.types) visit(t, path);
        return;
      }
      if (type.flags & ts.TypeFlags.TypeParameter) {
        visit(checker.getBaseConstraintOfType(type), `${path} (constraint)`);
        return;
      }
      const symbol = type.aliasSymbol ?? type.getSymbol();
      const { origin, module } = originOf(symbol);
      if (origin === 'third-party') {
        const why = allowedThirdParty[entry.name]?.[module];
        if (!why) report(path, `third-party type ${symbol.getName()} from ${module}`);
        return;
      }
      if (origin === 'node') {
        const name = symbol.getName();
        if (name === 'Buffer') return report(path, 'Node `Buffer` (use Uint8Array)');
        if (!entry.nodeAllowed) return report(path, `Node type ${name} in a runtime-agnostic entry point`);
      }
      for (const [i, a] of typeArguments(type)) visit(a, `${path}<${i}>`);
      if (origin === 'lib' || origin === 'node') return; // the standard library's own members are not ours to check
      if (!(type.flags & ts.TypeFlags.Object)) return;
      const isClassConstructor =
        symbol && symbol.flags & ts.SymbolFlags.Class && checker.getSignaturesOfType(type, ts.SignatureKind.Construct).length;
      if (type.isClassOrInterface()) for (const b of checker.getBaseTypes(type)) visit(b, `${path} (extends)`);
      for (const prop of checker.getPropertiesOfType(type)) {
        if (isClassConstructor && prop.getName() === 'prototype') continue; // the instance type, checked on its own
        const decl = prop.valueDeclaration ?? prop.declarations?.[0];
        if (decl && ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Private) continue;
        // members inherited from a base outside the workspace (Error's stack, …) are checked with that base
        if (originOf(prop).origin !== 'own') continue;
        visit(checker.getTypeOfSymbol(prop), `${path}.${prop.getName()}`);
      }
      for (const kind of [ts.SignatureKind.Call, ts.SignatureKind.Construct]) {
        for (const sig of checker.getSignaturesOfType(type, kind)) {
          const label = kind === ts.SignatureKind.Construct ? 'new' : '';
          for (const p of sig.getParameters()) visit(checker.getTypeOfSymbol(p), `${path}(${label}${label ? ' ' : ''}${p.getName()})`);
          visit(sig.getReturnType(), `${path}(${label})→`);
          for (const tp of sig.getTypeParameters() ?? []) visit(tp, `${path}<${tp.symbol.getName()}>`);
        }
      }
      for (const info of checker.getIndexInfosOfType(type)) visit(info.type, `${path}[]`);
    };

    // types first, then values, each by name: a problem is reported on the shortest, stable path
    const exported = checker.getExportsOfModule(moduleSymbol).map((s) => ({
      name: s.getName(),
      sym: s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s,
    }));
    const rank = ({ sym }) => (sym.flags & ts.SymbolFlags.Value && !(sym.flags & ts.SymbolFlags.Class) ? 1 : 0);
    exported.sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const { name, sym } of exported) {
      const decl = sym.valueDeclaration ?? sym.declarations?.[0];
      if (!decl) continue;
      // a type (a class's instance type first), then a value (a class's static side)
      if (sym.flags & (ts.SymbolFlags.Type | ts.SymbolFlags.Class)) visit(checker.getDeclaredTypeOfSymbol(sym), name);
      if (sym.flags & ts.SymbolFlags.Value) visit(checker.getTypeOfSymbolAtLocation(sym, decl), name);
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const entries = publicEntries();
  const problems = checkPublicTypes({ entries });
  for (const p of problems) console.error(`public-types: ${p}`);
  console.log(`public-types: ${entries.length} entry points, ${problems.length} problem(s)`);
  process.exitCode = problems.length ? 1 : 0;
}
