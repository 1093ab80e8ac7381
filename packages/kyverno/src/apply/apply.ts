import { createKyvernoEngine, evaluateResource } from '../engine/engine.js';
import type { ContextLoader, KyvernoEngine } from '../engine/types.js';
import type { GroupVersionKind } from '../match/kinds.js';
import type { ImageConfig } from '../resource/images.js';
import type { JsonPatchOperation } from '../resource/metadata.js';
import type { KubeObject, KyvernoPolicy, PolicyException, PolicyResponse, RequestInfo } from '../types.js';
import type { VerificationCacheOptions } from '../verifier/cache.js';
import type { CosignImageVerifier } from '../verifier/cosign.js';
import type { NotaryImageVerifier } from '../verifier/verifier.js';

/** Kubernetes APIResource as written in a Values file's `subresources`. */
export interface APIResource {
  name: string;
  kind: string;
  group?: string;
  version?: string;
}

/** The CLI `Values` document (`cli.kyverno.io/v1alpha1`, kind Values). */
export interface KyvernoValues {
  globalValues?: Record<string, unknown>;
  policies?: {
    name: string;
    rules?: { name: string; values?: Record<string, unknown> }[];
    resources?: { name: string; values?: Record<string, unknown> }[];
  }[];
  namespaceSelector?: { name: string; labels?: Record<string, string> }[];
  namespaces?: KubeObject[];
  subresources?: { subresource: APIResource; parentResource: APIResource }[];
}

/** Options of {@link applyPolicies}. */
export interface ApplyOptions {
  verifier?: NotaryImageVerifier;
  /** The verifier of `type: Cosign` / `SigstoreBundle` attestors (see `cosignImageVerifier`). */
  cosignVerifier?: CosignImageVerifier;
  contextLoader?: ContextLoader;
  imageConfig?: ImageConfig;
  /** Namespace name → labels (merged with `values.namespaceSelector` and `values.namespaces`). */
  namespaceLabels?: Record<string, Record<string, string>>;
  /** User info of the simulated request (empty: user-info filters of match blocks are ignored). */
  requestInfo?: RequestInfo;
  values?: KyvernoValues;
  /** Operation (default CREATE; `request.operation` values override). */
  operation?: string;
  cache?: VerificationCacheOptions | false;
  /** Reuse an engine instead of creating one (its policies win). */
  engine?: KyvernoEngine;
  /**
   * Constructs vouch does not evaluate: `'fail'` (default, as `kyverno apply|test` report them: every
   * rule using one fails with a message naming it) or `'refuse'` (throw ERR_UNSUPPORTED).
   */
  unsupported?: 'refuse' | 'fail';
  /** PolicyExceptions to honour (`--exception`). */
  exceptions?: readonly PolicyException[];
  signal?: AbortSignal;
}

/** Result for one resource. */
export interface ResourceResult {
  resource: KubeObject;
  patchedResource: KubeObject;
  /** The verify-images phase's JSON patch (annotation ops, then digest ops); empty when nothing changed. */
  patches: JsonPatchOperation[];
  /** One entry per policy: phase-1 rule responses followed by phase-2 ones. */
  policyResponses: PolicyResponse[];
  /** The same responses by phase, as Kyverno's CLI lists them: verify-images, then validation. */
  phases: { verifyImages: PolicyResponse[]; validation: PolicyResponse[] };
}

function labelsFor(ns: string, opts: ApplyOptions): Record<string, string> | undefined {
  let out: Record<string, string> | undefined = opts.namespaceLabels?.[ns];
  for (const s of opts.values?.namespaceSelector ?? []) if (s.name === ns) out = { ...(out ?? {}), ...(s.labels ?? {}) };
  for (const n of opts.values?.namespaces ?? []) {
    if (n.metadata?.name === ns) out = { ...(out ?? {}), ...((n.metadata?.labels as Record<string, string>) ?? {}) };
  }
  return out;
}

function subresourceOf(resource: KubeObject, values: KyvernoValues | undefined): { gvk?: GroupVersionKind; subresource?: string } {
  for (const s of values?.subresources ?? []) {
    const sr = s.subresource;
    const [gv] = [resource.apiVersion ?? ''];
    const group = gv.includes('/') ? gv.split('/')[0] : '';
    if (sr.kind === resource.kind && (sr.group ?? '') === group) {
      const p = s.parentResource;
      return { gvk: { group: p.group ?? '', version: p.version ?? '', kind: p.kind }, subresource: sr.name.split('/').slice(1).join('/') };
    }
  }
  return {};
}

function stripAutogen(rule: string): string {
  if (rule.startsWith('autogen-cronjob-')) return rule.slice('autogen-cronjob-'.length);
  if (rule.startsWith('autogen-')) return rule.slice('autogen-'.length);
  return rule;
}

function valuesFn(values: KyvernoValues | undefined, resource: KubeObject) {
  if (!values) return undefined;
  return (policy: KyvernoPolicy, ruleName: string): Record<string, unknown> | undefined => {
    const out: Record<string, unknown> = { ...(values.globalValues ?? {}) };
    const p = values.policies?.find((x) => x.name === policy.metadata.name);
    if (p) {
      const r = p.rules?.find((x) => x.name === ruleName) ?? p.rules?.find((x) => x.name === stripAutogen(ruleName));
      Object.assign(out, r?.values ?? {});
      const res = p.resources?.find((x) => x.name === resource.metadata?.name);
      Object.assign(out, res?.values ?? {});
    }
    return out;
  };
}

/**
 * Offline `kyverno apply`: evaluates every policy against every resource (verify-images phase, patches
 * applied, then validation phase) and returns the responses per resource.
 * @example
 * ```ts
 * import { applyPolicies, parsePolicies, parseYamlObjects } from '@vouch/kyverno';
 *
 * const results = await applyPolicies(parsePolicies(policyYaml), parseYamlObjects(deploymentYaml), { verifier });
 * for (const r of results)
 *   for (const p of r.policyResponses) for (const rule of p.rules) console.log(r.resource.metadata?.name, rule.name, rule.status);
 * ```
 */
export async function applyPolicies(
  policies: readonly KyvernoPolicy[],
  resources: readonly KubeObject[],
  options: ApplyOptions = {},
): Promise<ResourceResult[]> {
  const engine =
    options.engine ??
    createKyvernoEngine({
      policies,
      verifier: options.verifier,
      ...(options.cosignVerifier ? { cosignVerifier: options.cosignVerifier } : {}),
      contextLoader: options.contextLoader,
      imageConfig: options.imageConfig,
      cache: options.cache ?? false,
      unsupported: options.unsupported ?? 'fail',
      ...(options.exceptions ? { exceptions: options.exceptions } : {}),
    });
  const out: ResourceResult[] = [];
  for (const resource of resources) {
    const ns = resource.metadata?.namespace ?? '';
    const sub = subresourceOf(resource, options.values);
    const r = await evaluateResource(engine, {
      resource,
      operation: options.operation ?? 'CREATE',
      requestInfo: options.requestInfo,
      namespaceLabels: ns ? labelsFor(ns, options) : undefined,
      gvk: sub.gvk,
      subresource: sub.subresource,
      values: valuesFn(options.values, resource),
      signal: options.signal,
    });
    const policyResponses = r.verifyImages.responses.map((pr, i) => ({
      policy: pr.policy,
      resource,
      rules: [...pr.rules, ...(r.validation[i]?.rules ?? [])],
    }));
    out.push({
      resource,
      patchedResource: r.verifyImages.patchedResource,
      patches: r.verifyImages.patches,
      policyResponses,
      phases: { verifyImages: r.verifyImages.responses, validation: r.validation },
    });
  }
  return out;
}
