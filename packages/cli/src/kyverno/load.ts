/** Reading Kyverno policies and Kubernetes resources from files and directories. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { VouchError } from '@vouch/core';
import { type KubeObject, type KyvernoPolicy, parsePolicies, parseYamlObjects } from '@vouch/kyverno';

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

function ioError(path: string, e: unknown): VouchError {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return new VouchError('ERR_INVALID_ARGUMENT', `${path} does not exist`, { cause: e, details: { path } });
  return new VouchError('ERR_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e, details: { path } });
}

/** Files named by `paths` (files as given; directories walked recursively for .yaml/.yml/.json, sorted). */
export function manifestFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && MANIFEST_EXT.test(e.name)) out.push(p);
    }
  };
  for (const p of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch (e) {
      throw ioError(p, e);
    }
    if (st.isDirectory()) walk(p);
    else out.push(p);
  }
  return out;
}

/** Same as {@link manifestFiles}, asynchronously (the webhook reloads policies without blocking). */
export async function manifestFilesAsync(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (MANIFEST_EXT.test(e.name) && (e.isFile() || (e.isSymbolicLink() && (await stat(p).catch(() => undefined))?.isFile())))
        out.push(p); // symlinked files too: a mounted ConfigMap holds links into its ..data directory
    }
  };
  try {
    if (!(await stat(dir)).isDirectory())
      throw new VouchError('ERR_INVALID_ARGUMENT', `${dir} is not a directory`, { details: { path: dir } });
    await walk(dir);
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw ioError(dir, e);
  }
  return out;
}

/** A file's text; ERR_INVALID_ARGUMENT when it does not exist, ERR_IO when it cannot be read. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw ioError(path, e);
  }
}

/**
 * Every ClusterPolicy/Policy in `paths` (other kinds are ignored). An invalid policy throws
 * ERR_KYVERNO_POLICY_INVALID naming `file:line:column` and what to write instead; `cwd` makes
 * the file names in messages relative.
 */
export function loadPolicies(paths: readonly string[], cwd: string, stdin?: string): KyvernoPolicy[] {
  const out: KyvernoPolicy[] = [];
  if (stdin !== undefined) out.push(...parsePolicies(stdin, { source: '<stdin>', ignoreOtherKinds: true }));
  for (const f of manifestFiles(paths)) out.push(...parsePolicies(readText(f), { source: relative(cwd, f) || f, ignoreOtherKinds: true }));
  return out;
}

/**
 * Policies of a directory, read asynchronously (webhook). A policy using a construct vouch cannot
 * evaluate (see `KYVERNO_SUPPORT`) is refused: VouchError ERR_UNSUPPORTED naming `file:line:column`,
 * so the webhook never becomes ready with it.
 */
export async function loadPolicyDir(dir: string): Promise<KyvernoPolicy[]> {
  const out: KyvernoPolicy[] = [];
  for (const f of await manifestFilesAsync(dir)) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (e) {
      throw ioError(f, e);
    }
    out.push(...parsePolicies(text, { source: relative(dir, f) || f, ignoreOtherKinds: true, rejectUnsupported: true }));
  }
  return out;
}

function isResource(o: KubeObject): boolean {
  return typeof o.kind === 'string' && o.kind !== '' && typeof o.apiVersion === 'string';
}

/** Kubernetes objects of `paths` and `stdin` (multi-document YAML or JSON; `kind: List` expanded). */
export function loadResources(paths: readonly string[], stdin?: string): KubeObject[] {
  const out: KubeObject[] = [];
  const sources: [string, () => string][] = manifestFiles(paths).map((f) => [f, () => readText(f)]);
  if (stdin !== undefined) sources.unshift(['<stdin>', () => stdin]);
  for (const [f, text] of sources) {
    let docs: KubeObject[];
    try {
      docs = parseYamlObjects(text());
    } catch (e) {
      throw new VouchError('ERR_MALFORMED_INPUT', `${f}: ${(e as Error).message}`, { cause: e, details: { path: f } });
    }
    for (const d of docs) {
      if (d.kind === 'List' || (typeof d.kind === 'string' && d.kind.endsWith('List') && Array.isArray(d.items))) {
        for (const item of (d.items as KubeObject[]) ?? []) if (item && typeof item === 'object' && isResource(item)) out.push(item);
      } else if (isResource(d)) {
        out.push(d);
      }
    }
  }
  return out;
}

/** The first object document of a YAML file (Values, UserInfo). */
export function loadObject(path: string): Record<string, unknown> {
  let docs: KubeObject[];
  try {
    docs = parseYamlObjects(readText(path));
  } catch (e) {
    if (e instanceof VouchError && e.code !== 'ERR_MALFORMED_INPUT') throw e;
    throw new VouchError('ERR_MALFORMED_INPUT', `${path}: ${(e as Error).message}`, { cause: e, details: { path } });
  }
  const doc = docs[0];
  if (!doc) throw new VouchError('ERR_MALFORMED_INPUT', `${path} holds no YAML object`, { details: { path } });
  return doc;
}
