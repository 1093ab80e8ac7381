/**
 * Background scanning of running workloads (runtime-agnostic part of vouch's cluster mode): which
 * workload kinds a policy set can match, the background request Kyverno's reports controller builds,
 * one report result per container image, the per-resource PolicyReport owned by its resource, and
 * which results changed. The Kubernetes I/O lives in `@vouch/node/controller`.
 */
import { digestOf, utf8 } from '@vouch/core';
import { verifyAndPatchImages } from '../engine/engine.js';
import type { EngineRequest, KyvernoEngine } from '../engine/types.js';
import { checkKind } from '../match/kinds.js';
import { computeRules } from '../policy/autogen.js';
import { policyKey } from '../policy/key.js';
import { type PolicyReportResult, toReportResult } from '../report/report.js';
import { extractImages, type ImageConfig, listImages } from '../resource/images.js';
import { VERIFY_IMAGES_ANNOTATION, VERIFY_IMAGES_SCOPED_ANNOTATION } from '../resource/metadata.js';
import type { KubeObject, KyvernoPolicy, Rule } from '../types.js';

/** A workload kind whose images the built-in extractors read. */
export interface WorkloadKind {
  group: string;
  version: string;
  kind: string;
  /** Lowercase plural (the API resource name). */
  plural: string;
}

/** The kinds Kyverno's built-in image extractors cover: Pods and the pod controllers. */
export const WORKLOAD_KINDS: readonly WorkloadKind[] = Object.freeze([
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods' },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments' },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets' },
  { group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets' },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets' },
  { group: '', version: 'v1', kind: 'ReplicationController', plural: 'replicationcontrollers' },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs' },
  { group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs' },
]);

/** `apiVersion` of a workload kind (`v1`, `apps/v1`, …). */
export function workloadApiVersion(k: Pick<WorkloadKind, 'group' | 'version'>): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}

/** True when the policy takes part in background scans (`spec.background`, default true). */
export function isBackgroundPolicy(policy: KyvernoPolicy): boolean {
  return policy.spec.background !== false;
}

function ruleKinds(rule: Rule): (readonly string[] | undefined)[] {
  const m = rule.match ?? {};
  const blocks = m.any?.length ? m.any : m.all?.length ? m.all : [m];
  return blocks.map((b) => {
    const k = b.resources?.kinds;
    return Array.isArray(k) && k.length > 0 ? k : undefined;
  });
}

/**
 * The policies as a background scan evaluates them: `background: false` ones left out, and
 * `mutateDigest` off (a scan patches nothing, so resolving a tag's digest for a patch would only cost a
 * registry request and, when it fails, add a second result for the same image). Make it once per policy
 * set: the engine memoizes per policy object.
 */
export function backgroundPolicies(policies: readonly KyvernoPolicy[]): KyvernoPolicy[] {
  return policies.filter(isBackgroundPolicy).map((p) => {
    if (!p.spec.rules.some((r) => r.verifyImages?.some((iv) => iv.mutateDigest !== false))) return p;
    return {
      ...p,
      spec: {
        ...p.spec,
        rules: p.spec.rules.map((r) =>
          r.verifyImages ? { ...r, verifyImages: r.verifyImages.map((iv) => ({ ...iv, mutateDigest: false })) } : r,
        ),
      },
    };
  });
}

/**
 * The workload kinds at least one `verifyImages` rule of the background policies can match (autogen
 * rules included), in {@link WORKLOAD_KINDS} order: the kinds a background scanner lists and watches.
 * A match block without `kinds` can match any of them.
 */
export function scannedKinds(policies: readonly KyvernoPolicy[]): WorkloadKind[] {
  const out = new Set<WorkloadKind>();
  for (const p of policies) {
    if (!isBackgroundPolicy(p)) continue;
    for (const rule of computeRules(p, '')) {
      if (!rule.verifyImages || rule.verifyImages.length === 0) continue;
      for (const kinds of ruleKinds(rule)) {
        for (const w of WORKLOAD_KINDS) {
          if (!kinds || checkKind(kinds, { group: w.group, version: w.version, kind: w.kind }, '', false)) out.add(w);
        }
      }
    }
  }
  return WORKLOAD_KINDS.filter((w) => out.has(w));
}

/**
 * The request a background scan evaluates, as Kyverno's reports controller builds it: operation
 * CREATE, no user info, and the resource's `kyverno.io/verify-images*` annotations removed (a
 * recorded outcome must not vouch for the image again).
 */
export function backgroundRequest(
  resource: KubeObject,
  options: { namespaceLabels?: Record<string, string>; signal?: AbortSignal } = {},
): EngineRequest {
  const ann = resource.metadata?.annotations;
  let clean = resource;
  if (ann && (VERIFY_IMAGES_ANNOTATION in ann || VERIFY_IMAGES_SCOPED_ANNOTATION in ann)) {
    const { [VERIFY_IMAGES_ANNOTATION]: _a, [VERIFY_IMAGES_SCOPED_ANNOTATION]: _b, ...rest } = ann;
    clean = { ...resource, metadata: { ...resource.metadata, annotations: rest } };
  }
  return {
    resource: clean,
    operation: 'CREATE',
    requestInfo: {},
    ...(options.namespaceLabels ? { namespaceLabels: options.namespaceLabels } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

/** A container of a workload and the image it runs. */
export interface ContainerImage {
  /** `containers/<name>`, `initContainers/<name>` or `ephemeralContainers/<name>`. */
  container: string;
  /** The normalized image (`ImageInfo.String()`: `registry/path:tag` or `registry/path@digest`). */
  image: string;
}

/** The containers of a workload and their normalized images, in extraction order (empty: not a workload or no images). */
export function containerImages(resource: KubeObject, imageConfig?: ImageConfig): ContainerImage[] {
  let extracted: ReturnType<typeof extractImages>;
  try {
    extracted = extractImages(resource, undefined, imageConfig);
  } catch {
    return [];
  }
  return listImages(extracted).map(({ extractor, key, info }) => ({ container: `${extractor}/${key}`, image: info.reference }));
}

/** Reference to the scanned resource (the report's scope and owner). */
export interface ResourceRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
}

/** One background-scan result: one rule's outcome for one container's image. */
export interface ScanResult {
  /** Policy key: `name` (ClusterPolicy) or `namespace/name` (Policy). */
  policy: string;
  rule: string;
  /** The container the result is about; absent for a rule-level result (context, preconditions). */
  container?: string;
  image?: string;
  /** The wgpolicyk8s.io report result (timestamp of the scan). */
  result: PolicyReportResult;
}

/** The outcome of scanning one resource. */
export interface ResourceScan {
  resource: ResourceRef;
  containers: ContainerImage[];
  /** One entry per rule response per container image, sorted by policy, rule, container, image. */
  results: ScanResult[];
}

/** Options of {@link scanResource}. */
export interface ScanOptions {
  namespaceLabels?: Record<string, string>;
  signal?: AbortSignal;
  /** Report timestamp (default now). */
  now?: Date;
}

/** The scope/owner reference of a resource (uid required: reports are owned by it). */
export function resourceRef(resource: KubeObject): ResourceRef {
  const m = resource.metadata ?? {};
  return {
    apiVersion: String(resource.apiVersion ?? ''),
    kind: String(resource.kind ?? ''),
    name: String(m.name ?? ''),
    ...(m.namespace ? { namespace: m.namespace } : {}),
    uid: String((m as { uid?: unknown }).uid ?? ''),
  };
}

/**
 * Scans one resource: the verify-images phase of every background policy (Kyverno's background scan),
 * then one result per rule response and container image. A response about an image several containers
 * run becomes one result per container, so that no container's result hides another's; rule-level
 * responses stay single. Responses of policies with `background: false` are left out.
 */
export async function scanResource(engine: KyvernoEngine, resource: KubeObject, options: ScanOptions = {}): Promise<ResourceScan> {
  const containers = containerImages(resource, engine.options.imageConfig);
  const ref = resourceRef(resource);
  if (containers.length === 0) return { resource: ref, containers, results: [] };
  const byImage = new Map<string, string[]>();
  for (const c of containers) {
    const l = byImage.get(c.image);
    if (l) l.push(c.container);
    else byImage.set(c.image, [c.container]);
  }
  const r = await verifyAndPatchImages(engine, backgroundRequest(resource, options));
  const seen = new Set<string>();
  const occurrences = new Map<string, number>();
  const results: ScanResult[] = [];
  const reportOpts = { now: options.now ?? new Date(), process: 'background scan' };
  for (const pr of r.responses) {
    if (!isBackgroundPolicy(pr.policy)) continue;
    const key = policyKey(pr.policy);
    for (const rr of pr.rules) {
      // the engine answers once per container; identical answers for one image are one fact
      const id = `${key}\u0000${rr.name}\u0000${rr.image ?? ''}\u0000${rr.status}\u0000${rr.message}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const base = toReportResult({ ...pr, resource }, rr, reportOpts);
      const owners = rr.image !== undefined ? (byImage.get(rr.image) ?? [undefined]) : [undefined];
      for (const container of owners) {
        const props = { ...(base.properties ?? {}) };
        if (container) props.container = container;
        if (rr.image) props.image = rr.image;
        // several verifyImages entries of one rule answer for the same image: number the later ones
        const identity = `${key}\u0000${rr.name}\u0000${container ?? ''}\u0000${rr.image ?? ''}`;
        const n = occurrences.get(identity) ?? 0;
        occurrences.set(identity, n + 1);
        if (n > 0) props.occurrence = String(n + 1);
        results.push({
          policy: key,
          rule: rr.name,
          ...(container ? { container } : {}),
          ...(rr.image ? { image: rr.image } : {}),
          result: { ...base, properties: props },
        });
      }
    }
  }
  results.sort((a, b) => cmp(resultKey(a.result), resultKey(b.result)));
  return { resource: ref, containers, results };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A PolicyReport / ClusterPolicyReport written by the background scanner. */
export interface ScanReport {
  apiVersion: 'wgpolicyk8s.io/v1alpha2';
  kind: 'PolicyReport' | 'ClusterPolicyReport';
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    ownerReferences: { apiVersion: string; kind: string; name: string; uid: string }[];
    resourceVersion?: string;
    [other: string]: unknown;
  };
  scope: { apiVersion: string; kind: string; name: string; namespace?: string; uid: string };
  results: PolicyReportResult[];
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
}

/** Label on every report the background scanner writes. */
export const REPORT_MANAGED_BY = { 'app.kubernetes.io/managed-by': 'vouch' } as const;
/** Label naming the uid of the report's resource. */
export const REPORT_RESOURCE_UID_LABEL = 'vouch.dev/resource.uid';

/** Name of the report of a resource: `vouch-<uid>` (Kyverno's own reports are named `<uid>`). */
export function reportName(uid: string): string {
  return `vouch-${uid}`;
}

/** Identity of a report result: policy, rule, container, image (two results with one identity cannot coexist). */
export function resultKey(r: PolicyReportResult): string {
  const p = r.properties;
  return `${r.policy}\u0000${r.rule}\u0000${p?.container ?? ''}\u0000${p?.image ?? ''}\u0000${p?.occurrence ?? ''}`;
}

/** The result without its timestamp, as canonical JSON (what "the result changed" compares). */
function resultContent(r: PolicyReportResult): string {
  const { timestamp: _t, ...rest } = r;
  const props = rest.properties ? Object.fromEntries(Object.entries(rest.properties).sort(([a], [b]) => cmp(a, b))) : undefined;
  return JSON.stringify([
    rest.policy,
    rest.rule,
    rest.result,
    rest.message,
    rest.scored,
    rest.severity ?? null,
    rest.category ?? null,
    rest.source,
    props ?? null,
    rest.resources,
  ]);
}

/** True when two results say the same thing (everything but the timestamp is equal). */
export function sameResult(a: PolicyReportResult, b: PolicyReportResult): boolean {
  return resultContent(a) === resultContent(b);
}

/**
 * One fingerprint per policy key over that policy's results (timestamps excluded): what a scanner keeps
 * per resource instead of the report, to tell whether a new scan changes it.
 */
export function policyFingerprints(results: readonly PolicyReportResult[]): Record<string, string> {
  const by = new Map<string, string[]>();
  for (const r of results) {
    const l = by.get(r.policy);
    if (l) l.push(resultContent(r));
    else by.set(r.policy, [resultContent(r)]);
  }
  const out: Record<string, string> = {};
  for (const [policy, list] of by) out[policy] = digestOf(utf8(list.sort().join('\n'))).slice(7, 39);
  return out;
}

/** True when two fingerprint maps differ, looking only at `policies` when given. */
export function fingerprintsDiffer(a: Record<string, string>, b: Record<string, string>, policies?: ReadonlySet<string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (policies && !policies.has(k)) continue;
    if (a[k] !== b[k]) return true;
  }
  return false;
}

function summarize(results: readonly PolicyReportResult[]): ScanReport['summary'] {
  const s = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) s[r.result]++;
  return s;
}

/** Options of {@link buildScanReport}. */
export interface BuildReportOptions {
  /** The report as stored now: its results' timestamps are kept for results that did not change. */
  previous?: Pick<ScanReport, 'results'> | undefined;
  /**
   * Only these policy keys were evaluated: the previous report's results of other policies are kept
   * (a policy edit re-scans only what the edited policy matches). Omit when every policy was evaluated.
   */
  onlyPolicies?: ReadonlySet<string>;
  /** Policy keys whose results are dropped from the previous report (deleted or non-background policies). */
  dropPolicies?: ReadonlySet<string>;
}

/**
 * The report of one scanned resource: a PolicyReport in its namespace (ClusterPolicyReport for a
 * cluster-scoped resource), named `vouch-<uid>`, owned by the resource (so that it is deleted with it),
 * with one result per container image. Results that did not change keep their previous timestamp.
 * Undefined when there is no result at all: resources without images (or matched by no policy) get no report.
 */
export function buildScanReport(
  scan: Pick<ResourceScan, 'resource' | 'results'>,
  options: BuildReportOptions = {},
): ScanReport | undefined {
  const prevByKey = new Map<string, PolicyReportResult>();
  for (const r of options.previous?.results ?? []) prevByKey.set(resultKey(r), r);
  const results: PolicyReportResult[] = [];
  if (options.onlyPolicies) {
    for (const r of options.previous?.results ?? []) {
      if (!options.onlyPolicies.has(r.policy) && !options.dropPolicies?.has(r.policy)) results.push(r);
    }
  }
  for (const s of scan.results) {
    if (options.dropPolicies?.has(s.policy)) continue;
    const prev = prevByKey.get(resultKey(s.result));
    results.push(prev && sameResult(prev, s.result) ? { ...s.result, timestamp: prev.timestamp } : s.result);
  }
  if (results.length === 0) return undefined;
  results.sort((a, b) => cmp(resultKey(a), resultKey(b)));
  const ref = scan.resource;
  const ns = ref.namespace;
  return {
    apiVersion: 'wgpolicyk8s.io/v1alpha2',
    kind: ns ? 'PolicyReport' : 'ClusterPolicyReport',
    metadata: {
      name: reportName(ref.uid),
      ...(ns ? { namespace: ns } : {}),
      labels: { ...REPORT_MANAGED_BY, [REPORT_RESOURCE_UID_LABEL]: ref.uid },
      ownerReferences: [{ apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid }],
    },
    scope: { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, ...(ns ? { namespace: ns } : {}), uid: ref.uid },
    results,
    summary: summarize(results),
  };
}

/** True when storing `next` over `previous` changes what the report says (timestamps aside). */
export function reportChanged(previous: Pick<ScanReport, 'results'> | undefined, next: Pick<ScanReport, 'results'> | undefined): boolean {
  const a = previous?.results ?? [];
  const b = next?.results ?? [];
  if (a.length !== b.length) return true;
  const byKey = new Map(a.map((r) => [resultKey(r), r]));
  for (const r of b) {
    const p = byKey.get(resultKey(r));
    if (!p || !sameResult(p, r)) return true;
  }
  return false;
}

/**
 * A fingerprint of what a scan reads from a resource: labels, annotations (the verify-images ones
 * aside), name and the container images. Status-only updates leave it unchanged, so a scanner can skip them.
 */
export function scanInputFingerprint(resource: KubeObject, imageConfig?: ImageConfig): string {
  const m = resource.metadata ?? {};
  const ann = { ...(m.annotations ?? {}) };
  delete ann[VERIFY_IMAGES_ANNOTATION];
  delete ann[VERIFY_IMAGES_SCOPED_ANNOTATION];
  const text = JSON.stringify([
    m.name ?? '',
    m.namespace ?? '',
    Object.entries(m.labels ?? {}).sort(),
    Object.entries(ann).sort(),
    containerImages(resource, imageConfig),
  ]);
  return digestOf(utf8(text)).slice(7, 39);
}
