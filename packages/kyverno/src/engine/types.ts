import type { GroupVersionKind } from '../match/kinds.js';
import type { KyvernoConstruct } from '../policy/support.js';
import type { ImageConfig } from '../resource/images.js';
import type { ImageVerificationMetadata, JsonPatchOperation } from '../resource/metadata.js';
import type { KubeObject, KyvernoPolicy, PolicyException, PolicyResponse, RequestInfo } from '../types.js';
import type { JmesEngine } from '../variables/jmespath.js';
import type { VerificationCache, VerificationCacheOptions } from '../verifier/cache.js';
import type { CosignImageVerifier } from '../verifier/cosign.js';
import type { NotaryImageVerifier } from '../verifier/verifier.js';

/** Loads rule `context` entries that need the cluster (configMap, apiCall, …). */
export interface ContextLoader {
  /** Returns the ConfigMap object (`{data: {...}}`) or undefined when it does not exist. */
  configMap?(namespace: string, name: string, signal?: AbortSignal): Promise<unknown> | unknown;
  /** Performs an `apiCall` entry (already variable-substituted) and returns its JSON result. */
  apiCall?(entry: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> | unknown;
  /** Resolves a `globalReference` entry. */
  globalReference?(entry: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> | unknown;
  /** Resolves an `imageRegistry` entry. */
  imageRegistry?(entry: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> | unknown;
}

/** Options of `createKyvernoEngine`. */
export interface KyvernoEngineOptions {
  /** Parsed policies (see `parsePolicies`). */
  policies: readonly KyvernoPolicy[];
  /**
   * Notary signature verifier; without one, every Notary attestor check fails ("no
   * NotaryImageVerifier is configured"), and `mutateDigest` cannot resolve tags (`error`).
   */
  verifier?: NotaryImageVerifier;
  /**
   * Cosign / Sigstore verifier for `type: Cosign` (the default type) and `type: SigstoreBundle`
   * (see `cosignImageVerifier`); without one, every such attestor check fails ("no
   * CosignImageVerifier is configured"). It also resolves tags for `mutateDigest` when `verifier`
   * does not.
   */
  cosignVerifier?: CosignImageVerifier;
  /** Cluster data for rule `context` entries. */
  contextLoader?: ContextLoader;
  /** Image normalization settings (default registry docker.io, mutation on). */
  imageConfig?: ImageConfig;
  /**
   * Cross-review verification cache (default on); `false` disables caching (single-flight stays). A
   * `VerificationCache` object is used as is (e.g. one from `createVerificationCache` wrapped to
   * count its hits).
   */
  cache?: VerificationCacheOptions | false | VerificationCache;
  /**
   * A full notation trust policy to use for a rule's Notary attestors instead of Kyverno's synthesized
   * one (vouch extension; passed to the verifier as `trustPolicy`).
   */
  trustPolicyFor?(policy: KyvernoPolicy, ruleName: string, entryIndex: number): unknown;
  /** Clock for JMESPath time functions. */
  now?: () => Date;
  /**
   * What to do with a policy using a construct vouch does not evaluate (see `KYVERNO_SUPPORT`):
   * `'refuse'` (default; admission) makes `createKyvernoEngine` throw ERR_UNSUPPORTED, and also
   * when a rule `context` entry needs a loader the engine was not given; `'fail'` (`kyverno
   * apply|test`) loads the policy and makes every rule using the construct fail with a message
   * naming it. Never is such a construct ignored or answered with `error` / `skip`.
   */
  unsupported?: 'refuse' | 'fail';
  /**
   * PolicyExceptions (`kyverno apply --exception`, `kyverno-test.yaml` `exceptions`): a rule an
   * exception names is `skip` ("rule is skipped due to policy exceptions<keys>") for the resources it
   * matches, after the rule's context and preconditions, as in Kyverno.
   */
  exceptions?: readonly PolicyException[];
}

/** A reusable policy engine (parsed policies, JMESPath instance, verification cache). */
export interface KyvernoEngine {
  readonly policies: readonly KyvernoPolicy[];
  readonly options: KyvernoEngineOptions;
  readonly jmes: JmesEngine;
  readonly cache: VerificationCache;
}

/** One resource to evaluate, with its request facts. */
export interface EngineRequest {
  /** The new object (for DELETE: leave empty and set `oldResource`). */
  resource: KubeObject;
  oldResource?: KubeObject;
  /** CREATE (default), UPDATE, DELETE or CONNECT. */
  operation?: string;
  requestInfo?: RequestInfo;
  /** Labels of the resource's namespace, for namespaceSelector and overrides. */
  namespaceLabels?: Record<string, string>;
  /** GVK for kind matching (default from the resource; the parent's for subresources). */
  gvk?: GroupVersionKind;
  subresource?: string;
  /** Extra fields merged into the `request` variable (uid, dryRun, …). */
  admissionRequest?: Record<string, unknown>;
  /** Variable values (CLI Values file): dotted keys are set as paths in the JSON context. */
  values?(policy: KyvernoPolicy, ruleName: string): Record<string, unknown> | undefined;
  signal?: AbortSignal;
}

/** Result of the verify-images (mutating) phase. */
export interface VerifyImagesResult {
  responses: PolicyResponse[];
  /** Annotation ops first, then image digest ops. */
  patches: JsonPatchOperation[];
  /**
   * The resource with the patches applied. Only the patched paths are copies: everything else is shared
   * with the request's resource, so treat both as read-only (copy before changing either).
   */
  patchedResource: KubeObject;
  metadata: ImageVerificationMetadata;
  /** `policy <name>.<rule>: <message>` for fail/error/warning responses and skipped images. */
  warnings: string[];
}

/** Both phases for one resource (what `kyverno apply/test` and the admission handler run). */
export interface EvaluationResult {
  verifyImages: VerifyImagesResult;
  validation: PolicyResponse[];
}

/** A construct a rule uses that vouch does not evaluate, and where (relative to the rule, or the policy for spec-level ones). */
export interface UnsupportedUse {
  construct: KyvernoConstruct;
  path: (string | number)[];
}
