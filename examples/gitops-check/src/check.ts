/**
 * The check itself: load rendered manifests (multi-document YAML, `kind: List` expanded), run
 * every resource through the Kyverno policies (signature verification of every image, digest
 * patches, validation phase) and collect a PolicyReport.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import {
  applyPolicies,
  buildMergedReport,
  createKyvernoEngine,
  extractImages,
  type KubeObject,
  type KyvernoPolicy,
  listImages,
  type NotaryImageVerifier,
  type PolicyReport,
  type PolicyReportResult,
  parsePolicies,
  parseYamlObjects,
} from '@vouch/kyverno';
import type { Progress } from './progress.js';

/** One resource and the file it came from. */
export interface Manifest {
  /** Path relative to the manifests directory. */
  file: string;
  object: KubeObject;
}

/** Every `*.yaml` / `*.yml` under `dir` (hidden directories and node_modules skipped), sorted. */
export async function findYamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await findYamlFiles(p)));
    else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) out.push(p);
  }
  return out.sort();
}

/** Resources of every YAML file under `dir`; `kind: List` documents are expanded into their items. */
export async function loadManifests(dir: string): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const path of await findYamlFiles(dir)) {
    const file = relative(dir, path);
    let docs: KubeObject[];
    try {
      docs = parseYamlObjects(await readFile(path, 'utf8'));
    } catch (e) {
      throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const doc of docs) {
      if (typeof doc.kind === 'string' && doc.kind.endsWith('List') && Array.isArray(doc.items)) {
        for (const item of doc.items as KubeObject[]) out.push({ file, object: item });
      } else if (typeof doc.kind === 'string') {
        out.push({ file, object: doc });
      }
    }
  }
  return out;
}

/** Kyverno ClusterPolicy/Policy documents from files or directories of YAML (other kinds ignored). */
export async function loadPolicies(paths: readonly string[]): Promise<KyvernoPolicy[]> {
  const out: KyvernoPolicy[] = [];
  for (const p of paths) {
    const files = (await readdir(p).then(
      () => true,
      () => false,
    ))
      ? await findYamlFiles(p)
      : [p];
    for (const f of files) out.push(...parsePolicies(await readFile(f, 'utf8'), { source: f, ignoreOtherKinds: true }));
  }
  return out;
}

/** Options of {@link checkManifests}. */
export interface CheckOptions {
  manifests: readonly Manifest[];
  policies: readonly KyvernoPolicy[];
  /** Signature verification (`notationImageVerifier` from @vouch/kyverno). */
  verifier: NotaryImageVerifier;
  progress?: Progress;
  now?: Date;
}

/** A failed or errored rule result, with the file it came from. */
export interface Finding {
  file: string;
  resource: string;
  policy: string;
  rule: string;
  result: PolicyReportResult['result'];
  message: string;
}

/** What {@link checkManifests} found. */
export interface CheckResult {
  /** A ClusterPolicyReport (wgpolicyk8s.io/v1alpha2) named `merged` with every rule result. */
  report: PolicyReport;
  /** Results that fail the check (`fail` and `error`). */
  findings: Finding[];
  resources: number;
  images: number;
}

/** Runs every manifest through the policies. Identical images are verified once (the engine caches). */
export async function checkManifests(options: CheckOptions): Promise<CheckResult> {
  const engine = createKyvernoEngine({ policies: options.policies, verifier: options.verifier });
  const now = options.now ?? new Date();
  const responses = [];
  const findings: Finding[] = [];
  let images = 0;
  options.progress?.start(options.manifests.length, 'resources');
  for (const m of options.manifests) {
    const meta = (m.object.metadata ?? {}) as { name?: string; namespace?: string };
    const name = `${m.object.kind}/${meta.namespace ? `${meta.namespace}/` : ''}${meta.name ?? ''}`;
    const n = listImages(extractImages(m.object, undefined)).length;
    images += n;
    const [result] = await applyPolicies(options.policies, [m.object], { engine });
    for (const pr of result?.policyResponses ?? []) {
      responses.push(pr);
      for (const r of pr.rules) {
        if (r.status !== 'fail' && r.status !== 'error') continue;
        findings.push({
          file: m.file,
          resource: name,
          policy: pr.policy.metadata.name,
          rule: r.name,
          result: r.status,
          message: r.message,
        });
      }
    }
    options.progress?.tick(`${m.file} ${name}${n ? ` (${n} image${n === 1 ? '' : 's'})` : ''}`);
  }
  options.progress?.done(`checked ${options.manifests.length} resources (${images} images)`);
  const report = buildMergedReport(responses, { now, process: 'gitops pre-merge check' });
  return { report, findings, resources: options.manifests.length, images };
}
