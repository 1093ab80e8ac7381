#!/usr/bin/env node
// A small Kustomize renderer for the subset deploy/kustomize uses, so the deploy test (and a
// user without kubectl) can render the manifests offline:
//   resources (files and directories holding a kustomization), patches (strategic-merge patches
//   by path or inline, matched by kind + name [+ namespace]; `$patch: delete` on a whole object or on
//   an item of a merge-keyed list), patchesStrategicMerge, images.
// Any other kustomization field is an error rather than a silent difference from kustomize.
// The deploy test compares its output with `kubectl kustomize` where kubectl is installed.
//
//   node tools/packaging/render-kustomize.mjs deploy/kustomize/overlays/production
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireModule } from './modules.mjs';

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'patches', 'patchesStrategicMerge', 'images']);
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** Strategic-merge keys of the lists this renderer merges item by item (others are replaced). */
const MERGE_KEYS = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
  webhooks: 'name',
  ports: (item) => ('containerPort' in item ? 'containerPort' : 'port'),
};

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Strategic merge of `patch` into `base` (returns a new value; null in the patch deletes, so does `$patch: delete` on a keyed list item). */
export function strategicMerge(base, patch, key) {
  if (isObject(base) && isObject(patch)) {
    const out = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (k === '$patch')
        throw new Error(`render-kustomize: $patch: ${v} is not supported here (only delete, on an object or a keyed list item)`);
      if (v === null) delete out[k];
      else out[k] = k in base ? strategicMerge(base[k], v, k) : v;
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch) && MERGE_KEYS[key] && patch.every(isObject)) {
    const out = base.map((x) => x);
    for (const item of patch) {
      const mk = typeof MERGE_KEYS[key] === 'function' ? MERGE_KEYS[key](item) : MERGE_KEYS[key];
      const i = out.findIndex((x) => isObject(x) && x[mk] === item[mk]);
      if (item.$patch === 'delete') {
        if (i >= 0) out.splice(i, 1);
      } else if (i >= 0) out[i] = strategicMerge(out[i], item, undefined);
      else out.push(item);
    }
    return out;
  }
  return patch;
}

function readKustomization(dir) {
  for (const f of KUSTOMIZATION_FILES) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  throw new Error(`render-kustomize: no kustomization file in ${dir}`);
}

function parseDocs(yaml, text, file) {
  return yaml
    .parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`render-kustomize: ${file}: ${d.errors[0].message}`);
      return d.toJS();
    })
    .filter((o) => o !== null && o !== undefined);
}

const idOf = (o) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

/** Split an image reference into name and the tag/digest it carries. */
function splitImage(image) {
  const at = image.indexOf('@');
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const name = colon > slash ? noDigest.slice(0, colon) : noDigest;
  return { name, tag: colon > slash ? noDigest.slice(colon + 1) : undefined, digest: at >= 0 ? image.slice(at + 1) : undefined };
}

function applyImages(objects, images) {
  const visit = (node) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isObject(node)) return;
    for (const listName of ['containers', 'initContainers']) {
      for (const c of Array.isArray(node[listName]) ? node[listName] : []) {
        if (typeof c?.image !== 'string') continue;
        const cur = splitImage(c.image);
        const rule = images.find((r) => r.name === cur.name);
        if (!rule) continue;
        const name = rule.newName ?? cur.name;
        if (rule.digest) c.image = `${name}@${rule.digest}`;
        else if (rule.newTag) c.image = `${name}:${rule.newTag}`;
        else c.image = `${name}${cur.tag ? `:${cur.tag}` : ''}${cur.digest ? `@${cur.digest}` : ''}`;
      }
    }
    Object.values(node).forEach(visit);
  };
  visit(objects);
}

/**
 * Render the kustomization in `dir` to a list of plain objects (resources in the order they are
 * listed; kustomize itself sorts by kind, so compare as sets).
 */
export async function renderKustomization(dir) {
  const yaml = await requireModule('yaml', 'render-kustomize parses YAML');
  return render(yaml, resolve(dir), new Set());
}

function render(yaml, dir, seen) {
  if (seen.has(dir)) throw new Error(`render-kustomize: cycle through ${dir}`);
  seen.add(dir);
  const file = readKustomization(dir);
  const k = yaml.parse(readFileSync(file, 'utf8')) ?? {};
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key)) throw new Error(`render-kustomize: ${file}: field "${key}" is not supported by this renderer`);
  }
  let objects = [];
  for (const r of k.resources ?? []) {
    const p = resolve(dir, r);
    if (!existsSync(p)) throw new Error(`render-kustomize: ${file}: resource ${r} not found`);
    if (statSync(p).isDirectory()) objects.push(...render(yaml, p, seen));
    else objects.push(...parseDocs(yaml, readFileSync(p, 'utf8'), p));
  }
  const ids = new Set();
  for (const o of objects) {
    const id = idOf(o);
    if (ids.has(id)) throw new Error(`render-kustomize: ${file}: ${id} is defined twice`);
    ids.add(id);
  }
  const patches = [
    ...(k.patchesStrategicMerge ?? []).map((path) => ({ path })),
    ...(k.patches ?? []).map((p) => (typeof p === 'string' ? { path: p } : p)),
  ];
  for (const p of patches) {
    const text = p.path ? readFileSync(resolve(dir, p.path), 'utf8') : p.patch;
    if (typeof text !== 'string') throw new Error(`render-kustomize: ${file}: a patch needs path or patch`);
    for (const doc of parseDocs(yaml, text, p.path ?? 'inline patch')) {
      if (Array.isArray(doc)) throw new Error(`render-kustomize: ${file}: JSON6902 patches are not supported`);
      const t = { kind: doc.kind, name: doc.metadata?.name, namespace: doc.metadata?.namespace, ...(p.target ?? {}) };
      const hits = objects.filter(
        (o) => o.kind === t.kind && o.metadata?.name === t.name && (t.namespace === undefined || o.metadata?.namespace === t.namespace),
      );
      if (hits.length !== 1) throw new Error(`render-kustomize: ${file}: patch for ${t.kind}/${t.name} matches ${hits.length} objects`);
      if (doc.$patch === 'delete') objects = objects.filter((o) => o !== hits[0]);
      else objects = objects.map((o) => (o === hits[0] ? strategicMerge(o, doc, undefined) : o));
    }
  }
  if (k.images) applyImages(objects, k.images);
  seen.delete(dir);
  return objects;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../../deploy/kustomize/base');
  const yaml = await requireModule('yaml', 'render-kustomize prints YAML');
  const objects = await renderKustomization(dir);
  process.stdout.write(objects.map((o) => yaml.stringify(o, { lineWidth: 0 })).join('---\n'));
}
