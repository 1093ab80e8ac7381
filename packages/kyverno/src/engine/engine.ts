import { isVouchError, VouchError } from '@vouch/core';
import { checkKind, type GroupVersionKind } from '../match/kinds.js';
import { checkSelector, type MatchInput, resourceGVK, ruleMatchesInput } from '../match/match.js';
import { matchPattern } from '../match/pattern.js';
import { matchesAny, wildcardMatch } from '../match/wildcard.js';
import { policyRules } from '../policy/autogen.js';
import { exceptionCovers, policyExceptionKey } from '../policy/exceptions.js';
import { policyKey } from '../policy/key.js';
import { assertSupported, type KyvernoConstruct, unsupportedInRule, unsupportedRuleMessage } from '../policy/support.js';
import {
  type ExtractedImages,
  extractImages,
  getImageInfo,
  type ImageConfig,
  type ImageInfo,
  imageInfoString,
  withPointer,
} from '../resource/images.js';
import { patchShared } from '../resource/jsonpatch.js';
import {
  addImageVerification,
  type ImageVerificationMetadata,
  type ImageVerificationStatus,
  imageMetadataPatches,
  isImageVerifiedForPolicy,
  type JsonPatchOperation,
  newImageVerificationMetadata,
  parseImageMetadata,
  VERIFY_IMAGES_ANNOTATION,
  VERIFY_IMAGES_SCOPED_ANNOTATION,
} from '../resource/metadata.js';
import type {
  Attestation,
  AttestorSet,
  ImageVerification,
  KubeObject,
  KyvernoPolicy,
  PolicyException,
  PolicyResponse,
  RequestInfo,
  Rule,
  RuleResponse,
  RuleStatus,
} from '../types.js';
import { createJmesEngine, type JmesEngine } from '../variables/jmespath.js';
import { type ConditionBlock, evaluateConditions, substituteVariables } from '../variables/variables.js';
import {
  type CachedOutcome,
  createVerificationCache,
  isInfrastructureError,
  materialKey,
  type NotaryAttestation,
  type NotaryAttestorMaterial,
  type NotaryImageVerifier,
  type VerificationCache,
  type VerificationCacheOptions,
} from '../verifier/verifier.js';
import { type Co, driveAsync, isThenable, Pending, rethrowPending } from './drive.js';

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

/** Options of {@link createKyvernoEngine}. */
export interface KyvernoEngineOptions {
  /** Parsed policies (see `parsePolicies`). */
  policies: readonly KyvernoPolicy[];
  /** Notary signature verifier; without one, Notary rules produce `error` responses. */
  verifier?: NotaryImageVerifier;
  /** Cluster data for rule `context` entries. */
  contextLoader?: ContextLoader;
  /** Image normalization settings (default registry docker.io, mutation on). */
  imageConfig?: ImageConfig;
  /** Cross-review verification cache (default on); `false` disables caching (single-flight stays). */
  cache?: VerificationCacheOptions | false;
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

/** Creates an engine. No global state: every engine has its own JMESPath functions and cache. */
export function createKyvernoEngine(options: KyvernoEngineOptions): KyvernoEngine {
  if (!options || !Array.isArray(options.policies)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'createKyvernoEngine needs { policies: KyvernoPolicy[] }');
  }
  const mode = options.unsupported ?? 'refuse';
  if (mode !== 'refuse' && mode !== 'fail') {
    throw new VouchError('ERR_INVALID_ARGUMENT', `createKyvernoEngine: unsupported must be 'refuse' or 'fail', got ${String(mode)}`);
  }
  // load-time checks: nothing of this runs per review
  if (mode === 'refuse') {
    assertSupported(options.policies);
    assertContextLoaders(options.policies, options.contextLoader);
  }
  const cacheOpts = options.cache === false ? { ttlMs: 0, negativeTtlMs: 0 } : (options.cache ?? {});
  const engine: KyvernoEngine = {
    policies: options.policies,
    options,
    jmes: createJmesEngine({ now: options.now }),
    cache: createVerificationCache(cacheOpts),
  };
  if (options.exceptions && options.exceptions.length > 0) {
    const byRule = new Map<Rule, PolicyException[]>();
    for (const policy of options.policies) {
      const key = policyKey(policy);
      for (const rule of rulesOf(engine, policy)) {
        const list = options.exceptions.filter((e) => exceptionCovers(e, key, rule.name));
        if (list.length > 0) byRule.set(rule, list);
      }
    }
    if (byRule.size > 0) memoOf(engine).exceptions = byRule;
  }
  if (mode === 'fail') {
    const unsupported = new Map<Rule, UnsupportedUse[]>();
    for (const policy of options.policies) {
      const wc = policy.spec.webhookConfiguration;
      const specLevel: UnsupportedUse[] =
        Array.isArray(wc?.matchConditions) && wc.matchConditions.length > 0
          ? [{ construct: 'spec.webhookConfiguration.matchConditions', path: ['spec', 'webhookConfiguration', 'matchConditions'] }]
          : [];
      for (const rule of rulesOf(engine, policy)) {
        const list = [...specLevel, ...unsupportedInRule(rule)];
        if (list.length > 0) unsupported.set(rule, list);
      }
    }
    if (unsupported.size > 0) memoOf(engine).unsupported = unsupported;
  }
  return engine;
}

/** A construct a rule uses that vouch does not evaluate, and where (relative to the rule, or the policy for spec-level ones). */
interface UnsupportedUse {
  construct: KyvernoConstruct;
  path: (string | number)[];
}

const CONTEXT_SOURCES = ['configMap', 'apiCall', 'globalReference', 'imageRegistry'] as const;

/**
 * A rule `context` entry the engine cannot load is a construct it cannot evaluate: refused at load
 * time (admission), instead of an `error` at every review that failurePolicy Ignore would admit.
 */
function assertContextLoaders(policies: readonly KyvernoPolicy[], loader: ContextLoader | undefined): void {
  for (const policy of policies) {
    (policy.spec.rules ?? []).forEach((rule, ri) => {
      (rule.context ?? []).forEach((entry, ci) => {
        const e = entry as unknown as Record<string, unknown>;
        const source = CONTEXT_SOURCES.find((k) => e[k] !== undefined && e[k] !== null);
        if (!source) {
          if (e.variable !== undefined && e.variable !== null) return;
          throw new VouchError(
            'ERR_UNSUPPORTED',
            `policy ${policy.metadata.name} rule ${rule.name}: context entry ${String(entry.name)} (spec.rules[${ri}].context[${ci}]) has no source vouch can load (configMap, apiCall, globalReference, imageRegistry or variable)`,
            { details: { policy: policy.metadata.name, rule: rule.name, path: `spec.rules[${ri}].context[${ci}]` } },
          );
        }
        if (typeof (loader as Record<string, unknown> | undefined)?.[source] !== 'function') {
          throw new VouchError(
            'ERR_UNSUPPORTED',
            `policy ${policy.metadata.name} rule ${rule.name}: context entry ${String(entry.name)} (spec.rules[${ri}].context[${ci}]) reads a ${source}, but no ${source} loader is configured; the rule could never be evaluated, so the policy is refused (write the value into the policy, e.g. the certificate under certificates.cert)`,
            { details: { policy: policy.metadata.name, rule: rule.name, path: `spec.rules[${ri}].context[${ci}].${source}`, source } },
          );
        }
      });
    });
  }
}

/** Derived data an engine computes once: autogen rules per policy, hashed attestor material, images per resource object. */
interface EngineMemo {
  rules: WeakMap<KyvernoPolicy, Rule[]>;
  /** cert → certChain → tsaCertChain → materialKey (nested so that no long key string is built per lookup). */
  materialKeys: Map<string, Map<string, Map<string, string>>>;
  materialCount: number;
  selectionKeys: WeakMap<Rule, string>;
  /** Parsed image references by image string (engine's imageConfig). */
  imageInfos: Map<string, ImageInfo>;
  kindGates: WeakMap<Rule, KindGate>;
  /** The last scoped verify-images annotation text read in phase 2 and its parsed form. */
  lastScoped?: { raw: string; parsed: ImageVerificationMetadata };
  /** Rules whose `verifyImages` hold no `{{ }}` variable (substitution would only copy them). */
  constantImageVerifications: WeakMap<Rule, boolean>;
  /** Wildcard results per pattern list (a rule's own `imageReferences` arrays) and image string. */
  refMatches: WeakMap<readonly string[], Map<string, boolean>>;
  /** Rules whose phase-1 evaluation reads the JSON context (context entries, preconditions, variables, attestations). */
  needsContext: WeakMap<Rule, boolean>;
  /** The last review's verify-images annotation ops and the outcome records they encode. */
  lastAnnotations?: { records: string[]; hasAnnotations: boolean; ops: JsonPatchOperation[] };
  /** The frozen `image verified` phase-2 response per rule name. */
  verified: Map<string, RuleResponse>;
  /** Attestor material per attestor entry. */
  materials: WeakMap<object, NotaryAttestorMaterial>;
  /** Per attestor entry: the last signature cache key built (image, trust policy, key). */
  signatureKeys: WeakMap<object, { image: string; trustPolicy: unknown; key: string }>;
  /** The PolicyExceptions naming each rule (set at engine creation; absent without exceptions). */
  exceptions?: Map<Rule, PolicyException[]>;
  /** Mode `fail` only: the rules using a construct vouch does not evaluate (set at engine creation). */
  unsupported?: Map<Rule, UnsupportedUse[]>;
}

/**
 * The kinds a rule's match blocks require: a block with a non-empty `kinds` list that rejects the
 * request's GVK never matches, so the rule cannot match when one (`any`, inline) / every (`all`) such
 * block rejects it. `undefined` entries are blocks without kinds (they may match anything).
 */
interface KindGate {
  all: boolean;
  blocks: (readonly string[] | undefined)[];
  /** The last GVK/subresource asked about and its answer (requests mostly repeat the same kind). */
  last?: { group: string; version: string; kind: string; subresource: string; result: boolean };
}

function kindGateOf(rule: Rule): KindGate {
  const match = rule.match ?? {};
  const kindsOf = (f: { resources?: { kinds?: string[] } } | undefined) => {
    const k = f?.resources?.kinds;
    return Array.isArray(k) && k.length > 0 ? k : undefined;
  };
  if (match.any && match.any.length > 0) return { all: false, blocks: match.any.map(kindsOf) };
  if (match.all && match.all.length > 0) return { all: true, blocks: match.all.map(kindsOf) };
  return { all: false, blocks: [kindsOf(match)] };
}

/** False only when the rule's kinds rule out the GVK (then {@link matchRule} would not match either). */
function kindsMayMatch(engine: KyvernoEngine, rule: Rule, gvk: GroupVersionKind, subresource: string): boolean {
  const m = memoOf(engine).kindGates;
  let gate = m.get(rule);
  if (!gate) {
    gate = kindGateOf(rule);
    m.set(rule, gate);
  }
  const last = gate.last;
  if (last && last.kind === gvk.kind && last.group === gvk.group && last.version === gvk.version && last.subresource === subresource) {
    return last.result;
  }
  let result: boolean;
  if (gate.all) {
    result = true;
    for (const k of gate.blocks) {
      if (k && !checkKind(k, gvk, subresource, true)) {
        result = false;
        break;
      }
    }
  } else {
    result = false;
    for (const k of gate.blocks) {
      if (!k || checkKind(k, gvk, subresource, true)) {
        result = true;
        break;
      }
    }
  }
  gate.last = { group: gvk.group, version: gvk.version, kind: gvk.kind, subresource, result };
  return result;
}

function hasVariable(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('{{');
  if (Array.isArray(v)) return v.some(hasVariable);
  if (v && typeof v === 'object') {
    for (const k in v) if (Object.hasOwn(v, k) && hasVariable((v as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/** The rule's verifyImages entries with variables substituted (the rule's own entries when there are none: read only). */
function imageVerificationsOf(engine: KyvernoEngine, rule: Rule, ctx: Record<string, unknown>): ImageVerification[] {
  const list = rule.verifyImages ?? [];
  const m = memoOf(engine).constantImageVerifications;
  let constant = m.get(rule);
  if (constant === undefined) {
    constant = !hasVariable(list);
    m.set(rule, constant);
  }
  if (constant) return list;
  return substituteVariables(list, ctx, engine.jmes, { skipKeys: ['conditions', 'deny'] }) as ImageVerification[];
}

// Keyed by engine object (weakly): no state is shared between engines.
const memos = new WeakMap<KyvernoEngine, EngineMemo>();

function memoOf(engine: KyvernoEngine): EngineMemo {
  let m = memos.get(engine);
  if (!m) {
    m = {
      rules: new WeakMap(),
      materialKeys: new Map(),
      materialCount: 0,
      selectionKeys: new WeakMap(),
      imageInfos: new Map(),
      kindGates: new WeakMap(),
      constantImageVerifications: new WeakMap(),
      refMatches: new WeakMap(),
      needsContext: new WeakMap(),
      signatureKeys: new WeakMap(),
      materials: new WeakMap(),
      verified: new Map(),
    };
    memos.set(engine, m);
  }
  return m;
}

/** `matchesAny(patterns, img)`, memoized per pattern list (rules are immutable; substituted lists are new arrays). */
function matchRefs(engine: KyvernoEngine, patterns: readonly string[] | undefined, img: string): boolean {
  if (!patterns || patterns.length === 0) return false;
  const m = memoOf(engine).refMatches;
  let byImg = m.get(patterns);
  if (!byImg) m.set(patterns, (byImg = new Map()));
  let r = byImg.get(img);
  if (r === undefined) {
    r = matchesAny(patterns, img);
    if (byImg.size >= 256) byImg.clear();
    byImg.set(img, r);
  }
  return r;
}

/** True when phase 1 of `rule` reads the JSON context (else building it would be wasted work). */
function ruleNeedsContext(engine: KyvernoEngine, rule: Rule): boolean {
  const m = memoOf(engine).needsContext;
  let v = m.get(rule);
  if (v === undefined) {
    const list = rule.verifyImages ?? [];
    v =
      (rule.context?.length ?? 0) > 0 ||
      rule.preconditions !== undefined ||
      (memoOf(engine)
        .exceptions?.get(rule)
        ?.some((e) => e.spec.conditions !== undefined) ??
        false) ||
      hasVariable(list) ||
      list.some((iv) => (iv.attestations?.length ?? 0) > 0 || iv.validate !== undefined);
    m.set(rule, v);
  }
  return v;
}

/**
 * What one review computes once and reuses across its rules and both phases: the built-in extraction
 * per resource object (the request's and each patched copy) and the image selection per extraction
 * and reference patterns. Dropped with the review (no weak maps in the long-lived engine: entries
 * keyed by short-lived objects make every young-generation collection slower).
 */
export interface ReviewMemo {
  /** Flat pairs: resource object, its built-in extraction, … (a review has one to three). */
  images: unknown[];
  /** Flat triples: extraction, selection key, selection, … */
  selected: unknown[];
  /** The last match input built and the request it was built for. */
  matchInput?: MatchInput;
  matchReq?: EngineRequest;
  /** Passing outcome and its frozen response per rule name and image (identical for every policy). */
  passes?: Map<string, Map<string, { outcome: EntryOutcome; response: RuleResponse }>>;
  /** Context loader results by request (decided, or the promise while pending); made on first use. */
  loaded?: Map<string, CachedOutcome | Promise<unknown>>;
}

/** A fresh {@link ReviewMemo}. */
export function newReviewMemo(): ReviewMemo {
  return { images: [], selected: [] };
}

/**
 * A context loader's answer for this review: called once per distinct request, synchronous loaders
 * answer at once; an asynchronous answer throws {@link Pending} until it is decided.
 */
function loaded(rm: ReviewMemo, key: string, call: () => unknown): unknown {
  const m = (rm.loaded ??= new Map());
  let v = m.get(key);
  if (v === undefined) {
    let r: unknown;
    try {
      r = call();
    } catch (e) {
      m.set(key, { ok: false, value: e });
      throw e;
    }
    if (isThenable(r)) {
      const p = Promise.resolve(r);
      m.set(key, p);
      p.then(
        (value) => m.set(key, { ok: true, value }),
        (value) => m.set(key, { ok: false, value }),
      );
      throw new Pending(p);
    }
    v = { ok: true, value: r };
    m.set(key, v);
  }
  if (v instanceof Promise) throw new Pending(v);
  if (!v.ok) throw v.value;
  return v.value;
}

/** Images of `resource` for `rule` (built-in extractors memoized per resource object for the review). */
function imagesOf(engine: KyvernoEngine, rm: ReviewMemo, resource: KubeObject, rule: Rule): ExtractedImages {
  const memo = memoOf(engine);
  if (rule.imageExtractors) {
    const search = (e: string, v: unknown) => engine.jmes.search(e, v);
    return extractImages(resource, rule.imageExtractors, engine.options.imageConfig, search, memo.imageInfos);
  }
  const m = rm.images;
  for (let i = 0; i < m.length; i += 2) if (m[i] === resource) return m[i + 1] as ExtractedImages;
  const v = extractImages(resource, undefined, engine.options.imageConfig, (e, x) => engine.jmes.search(e, x), memo.imageInfos);
  m.push(resource, v);
  return v;
}

/**
 * After `patched = applyJsonPatch(original, ops)`: when the built-in extraction of `original` is known and
 * every op either replaces an extracted image field with a string or touches `/metadata/annotations`
 * (never on a built-in extraction path), derives the extraction of `patched` from it instead of walking
 * the resource again. Otherwise leaves `patched` to be extracted on demand.
 */
function carryImages(
  engine: KyvernoEngine,
  rm: ReviewMemo,
  original: KubeObject,
  patched: KubeObject,
  ops: readonly JsonPatchOperation[],
): void {
  const memo = memoOf(engine);
  let before: ExtractedImages | undefined;
  for (let i = 0; i < rm.images.length; i += 2) if (rm.images[i] === original) before = rm.images[i + 1] as ExtractedImages;
  if (!before || original.kind !== patched.kind) return;
  const replaced = new Map<string, string>();
  for (const op of ops) {
    if (op.path === '/metadata/annotations' || op.path.startsWith('/metadata/annotations/')) continue;
    if (op.op !== 'replace' || typeof op.value !== 'string' || op.value.trim() === '') return;
    replaced.set(op.path, op.value);
  }
  if (replaced.size === 0) {
    // only annotations changed: the same extraction (and its memoized selections) holds
    rm.images.push(patched, before);
    return;
  }
  const config = engine.options.imageConfig ?? {};
  const after: ExtractedImages = {};
  let found = 0;
  try {
    for (const name in before) {
      const src = before[name]!;
      const dst: Record<string, ImageInfo> = {};
      for (const key in src) {
        const info = src[key]!;
        const value = info.jsonPointer === undefined ? undefined : replaced.get(info.jsonPointer);
        if (value === undefined) {
          dst[key] = info;
          continue;
        }
        found++;
        let cached = memo.imageInfos.get(value);
        if (!cached) {
          cached = getImageInfo(value, config);
          if (memo.imageInfos.size >= 1024) memo.imageInfos.clear();
          memo.imageInfos.set(value, cached);
        }
        dst[key] = withPointer(cached, info.jsonPointer, info.imagePullSecrets?.slice());
      }
      after[name] = dst;
    }
  } catch {
    return; // an unparsable patched image: let the extraction report it
  }
  // every replaced path must be an extracted image field (else the patch changed something else)
  if (found !== replaced.size) return;
  rm.images.push(patched, after);
}

/** The part of a rule {@link selectImages} depends on: its image reference patterns. */
function selectionKey(engine: KyvernoEngine, rule: Rule): string {
  const m = memoOf(engine).selectionKeys;
  let k = m.get(rule);
  if (k === undefined) {
    k = JSON.stringify((rule.verifyImages ?? []).map((iv) => iv.imageReferences ?? (typeof iv.image === 'string' ? [iv.image] : [])));
    m.set(rule, k);
  }
  return k;
}

/** {@link selectImages}, memoized per extraction result and image reference patterns. The result must not be mutated. */
function selectedOf(engine: KyvernoEngine, rm: ReviewMemo, rule: Rule, images: ExtractedImages): Selection {
  const m = rm.selected;
  const key = selectionKey(engine, rule);
  for (let i = 0; i < m.length; i += 3) if (m[i] === images && m[i + 1] === key) return m[i + 2] as Selection;
  const v = selectImages(engine, rule, images);
  m.push(images, key, v);
  return v;
}

/** {@link policyRules}, computed once per engine and policy (policies are treated as immutable). */
function rulesOf(engine: KyvernoEngine, policy: KyvernoPolicy): Rule[] {
  const m = memoOf(engine);
  let r = m.rules.get(policy);
  if (!r) {
    r = policyRules(policy);
    m.rules.set(policy, r);
  }
  return r;
}

/** {@link materialKey}, memoized per engine (hashing the PEM text on every image would dominate warm reviews). */
function materialKeyOf(engine: KyvernoEngine, material: NotaryAttestorMaterial, trustPolicy: unknown): string {
  if (trustPolicy !== undefined) return materialKey(material, trustPolicy);
  const memo = memoOf(engine);
  if (memo.materialCount >= 1024) {
    memo.materialKeys.clear();
    memo.materialCount = 0;
  }
  const a = material.certificates ?? '';
  const b = material.certificateChain ?? '';
  const c = material.tsaCertChain ?? '';
  let byChain = memo.materialKeys.get(a);
  if (!byChain) memo.materialKeys.set(a, (byChain = new Map()));
  let byTsa = byChain.get(b);
  if (!byTsa) byChain.set(b, (byTsa = new Map()));
  let k = byTsa.get(c);
  if (k === undefined) {
    k = materialKey(material, trustPolicy);
    byTsa.set(c, k);
    memo.materialCount++;
  }
  return k;
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

/** The context of a rule that reads none (see ruleNeedsContext); frozen so that no step writes it. */
const NO_CONTEXT: Record<string, unknown> = Object.freeze({});

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (!isObj(cur[p])) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

function operationOf(req: EngineRequest, policy: KyvernoPolicy, rule: string): string {
  const v = req.values?.(policy, rule);
  const op = v?.['request.operation'];
  return typeof op === 'string' ? op : (req.operation ?? 'CREATE');
}

function isEmptyObject(o: object | undefined | null): boolean {
  if (!o) return true;
  for (const k in o) if (Object.hasOwn(o, k)) return false;
  return true;
}

function effectiveResource(req: EngineRequest): KubeObject {
  const r = req.resource;
  if (req.oldResource && isEmptyObject(r)) return req.oldResource;
  return r;
}

function baseContext(req: EngineRequest, operation: string): Record<string, unknown> {
  const resource = effectiveResource(req);
  const gvk = req.gvk ?? resourceGVK(resource);
  const username = req.requestInfo?.userInfo?.username ?? '';
  const sa = /^system:serviceaccount:([^:]*):([^:]*)$/.exec(username);
  return {
    request: {
      operation,
      object: operation === 'DELETE' ? null : (req.resource ?? null),
      oldObject: req.oldResource ?? null,
      userInfo: req.requestInfo?.userInfo ?? {},
      roles: req.requestInfo?.roles ?? null,
      clusterRoles: req.requestInfo?.clusterRoles ?? null,
      namespace: resource.metadata?.namespace ?? '',
      name: resource.metadata?.name ?? '',
      kind: gvk,
      subResource: req.subresource ?? '',
      ...(req.admissionRequest ?? {}),
    },
    serviceAccountName: sa ? sa[2] : '',
    serviceAccountNamespace: sa ? sa[1] : '',
  };
}

function policyNamespaceOf(policy: KyvernoPolicy): string {
  return policy.kind === 'Policy' ? (policy.metadata.namespace ?? 'default') : '';
}

const scopedKeys = new WeakMap<KyvernoPolicy, string>();

/** `<policy namespace>/<policy name>`: the policy's key in the scoped verify-images annotation. */
function scopedPolicyKey(policy: KyvernoPolicy): string {
  let k = scopedKeys.get(policy);
  if (k === undefined) {
    k = `${policyNamespaceOf(policy)}/${policy.metadata.name}`;
    scopedKeys.set(policy, k);
  }
  return k;
}

function ruleMatches(
  engine: KyvernoEngine,
  policy: KyvernoPolicy,
  rule: Rule,
  req: EngineRequest,
  operation: string,
  rm?: ReviewMemo,
): boolean {
  const resource = effectiveResource(req);
  const retryOld = !!req.oldResource && isEmptyObject(req.resource);
  // Cheap kind check first (same answer as matchRule's for rules whose kinds exclude the request).
  if (resource && typeof resource === 'object' && (req.gvk || !retryOld)) {
    if (!kindsMayMatch(engine, rule, req.gvk ?? resourceGVK(resource), req.subresource ?? '')) return false;
  }
  const policyNamespace = policyNamespaceOf(policy);
  // the same input serves every rule of the review that asks with the same request and operation
  let input = rm?.matchInput;
  if (
    !input ||
    input.resource !== resource ||
    input.operation !== operation ||
    input.policyNamespace !== policyNamespace ||
    rm!.matchReq !== req
  ) {
    input = {
      resource,
      operation,
      requestInfo: req.requestInfo,
      namespaceLabels: req.namespaceLabels,
      gvk: req.gvk,
      subresource: req.subresource,
      policyNamespace,
    };
    if (rm) {
      rm.matchInput = input;
      rm.matchReq = req;
    }
  }
  if (ruleMatchesInput(rule, input)) return true;
  return retryOld && ruleMatchesInput(rule, { ...input, resource: req.oldResource! });
}

function loadContext(
  engine: KyvernoEngine,
  policy: KyvernoPolicy,
  rule: Rule,
  ctx: Record<string, unknown>,
  req: EngineRequest,
  rm: ReviewMemo,
): void {
  const values = req.values?.(policy, rule.name) ?? {};
  for (const [k, v] of Object.entries(values)) if (k !== 'request.operation') setPath(ctx, k, v);
  const loader = engine.options.contextLoader;
  for (const entry of rule.context ?? []) {
    if (Object.hasOwn(values, entry.name)) continue;
    let value: unknown;
    if (entry.variable) {
      const v = entry.variable;
      let base = v.value === undefined ? undefined : substituteVariables(v.value, ctx, engine.jmes);
      if (v.jmesPath) {
        const expr = String(substituteVariables(v.jmesPath, ctx, engine.jmes));
        base = engine.jmes.search(expr, base === undefined ? ctx : base);
      }
      value = base ?? (v.default === undefined ? undefined : substituteVariables(v.default, ctx, engine.jmes));
      if (value === undefined || value === null) throw new Error(`failed to add resource with key ${entry.name}: no value`);
    } else if (entry.configMap) {
      const ns = String(substituteVariables(entry.configMap.namespace ?? '', ctx, engine.jmes));
      const name = String(substituteVariables(entry.configMap.name, ctx, engine.jmes));
      const configMap = loader?.configMap;
      const cm = configMap ? loaded(rm, `configMap|${ns}|${name}`, () => configMap.call(loader, ns, name, req.signal)) : undefined;
      if (cm === undefined || cm === null) {
        throw new Error(`failed to retrieve config map for context entry ${entry.name}: configmaps "${name}" not found`);
      }
      value = cm;
    } else {
      const kind = entry.apiCall ? 'apiCall' : entry.globalReference ? 'globalReference' : entry.imageRegistry ? 'imageRegistry' : '';
      const fn = kind ? (loader as Record<string, unknown> | undefined)?.[kind] : undefined;
      if (!kind) throw new Error(`context entry ${entry.name} has no supported source`);
      if (typeof fn !== 'function') {
        throw new Error(`context entry ${entry.name} (${kind}) needs a value: no ${kind} loader is configured`);
      }
      const spec = substituteVariables((entry as unknown as Record<string, unknown>)[kind], ctx, engine.jmes, {
        skipKeys: ['jmesPath'],
      }) as Record<string, unknown>;
      let res = loaded(rm, `${kind}|${JSON.stringify(spec)}`, () =>
        (fn as (e: Record<string, unknown>, s?: AbortSignal) => unknown).call(loader, spec, req.signal),
      );
      if (typeof spec.jmesPath === 'string' && spec.jmesPath !== '') res = engine.jmes.search(spec.jmesPath, res);
      value = res;
    }
    ctx[entry.name] = value;
  }
}

/**
 * The rule's preconditions: undefined when they hold, else the `skip` ("preconditions not met[; …]")
 * or, when they cannot be evaluated (a JMESPath error, an unknown operator), the `error` to answer.
 */
function checkPreconditions(
  engine: KyvernoEngine,
  rule: Rule,
  ctx: Record<string, unknown>,
): { status: 'skip' | 'error'; message: string } | undefined {
  let r: ReturnType<typeof evaluateConditions>;
  try {
    r = evaluateConditions(rule.preconditions, ctx, engine.jmes);
  } catch (e) {
    return { status: 'error', message: `failed to evaluate preconditions: ${errMessage(e)}` };
  }
  if (r.passed) return undefined;
  return { status: 'skip', message: r.messages.length > 0 ? `preconditions not met; ${r.messages.join('; ')}` : 'preconditions not met' };
}

/**
 * The exceptions among `candidates` (those naming the rule) that exempt this request: their `match`
 * selects the resource and their `conditions` hold. The `skip` message Kyverno answers with, or
 * undefined. Conditions that cannot be evaluated do not exempt.
 */
function exceptionSkip(
  engine: KyvernoEngine,
  candidates: readonly PolicyException[],
  req: EngineRequest,
  operation: string,
  ctx: Record<string, unknown>,
): string | undefined {
  let keys: string[] | undefined;
  const input: MatchInput = {
    resource: effectiveResource(req),
    operation,
    requestInfo: req.requestInfo,
    namespaceLabels: req.namespaceLabels,
    gvk: req.gvk,
    subresource: req.subresource,
  };
  for (const e of candidates) {
    if (!ruleMatchesInput({ match: e.spec.match }, input)) continue;
    if (e.spec.conditions !== undefined) {
      try {
        if (!evaluateConditions(e.spec.conditions, ctx, engine.jmes).passed) continue;
      } catch {
        continue;
      }
    }
    (keys ??= []).push(policyExceptionKey(e));
  }
  return keys ? `rule is skipped due to policy exceptions${keys.join(', ')}` : undefined;
}

/**
 * Validation phase: loads the rule's context into `ctx` and checks its preconditions; the `error`
 * (context) or `skip` / `error` (preconditions) response that ends the rule, or undefined to go on.
 */
function contextAndPreconditions(
  engine: KyvernoEngine,
  policy: KyvernoPolicy,
  rule: Rule,
  ctx: Record<string, unknown>,
  req: EngineRequest,
  rm: ReviewMemo,
): RuleResponse | undefined {
  try {
    loadContext(engine, policy, rule, ctx, req, rm);
  } catch (e) {
    rethrowPending(e);
    const infra = isInfrastructureError(e) ? { infrastructure: true } : undefined;
    return ruleResponse(rule.name, 'Validation', 'error', `failed to load context: ${errMessage(e)}`, infra);
  }
  if (!rule.preconditions) return undefined;
  const pre = checkPreconditions(engine, rule, ctx);
  return pre ? ruleResponse(rule.name, 'Validation', pre.status, pre.message) : undefined;
}

function ruleResponse(
  name: string,
  type: RuleResponse['type'],
  status: RuleStatus,
  message: string,
  extra?: Partial<RuleResponse>,
): RuleResponse {
  const r: RuleResponse = { name, type, status, message };
  if (extra?.emitWarning !== undefined) r.emitWarning = extra.emitWarning;
  if (extra?.details !== undefined) r.details = extra.details;
  if (extra?.infrastructure) r.infrastructure = true;
  return r;
}

function imageFields(info: ImageInfo): Record<string, unknown> {
  return { ...info };
}

type SelectedImage = {
  info: ImageInfo;
  extractor: string;
  key: string;
  /** imageInfoString(info) */
  ref: string;
  /** Index of `ref` among the distinct refs of the selection (containers running one image share it). */
  slot: number;
};

/** Selected images and how many distinct references they hold. */
interface Selection {
  items: SelectedImage[];
  distinct: number;
}

const NO_SELECTION: Selection = { items: [], distinct: 0 };

function selectImages(engine: KyvernoEngine, rule: Rule, images: ExtractedImages): Selection {
  const out: SelectedImage[] = [];
  const refs: string[] = []; // distinct refs, in slot order
  const entries = rule.verifyImages ?? [];
  for (const extractor in images) {
    const m = images[extractor]!;
    for (const key in m) {
      const info = m[key]!;
      const s = info.reference || imageInfoString(info);
      let ok = false;
      for (const iv of entries) {
        if (iv.imageReferences ? matchRefs(engine, iv.imageReferences, s) : typeof iv.image === 'string' && wildcardMatch(iv.image, s)) {
          ok = true;
          break;
        }
      }
      if (!ok) continue;
      // one entry per (pointer, reference)
      let dup = false;
      for (let i = 0; i < out.length && !dup; i++) dup = out[i]!.ref === s && out[i]!.info.jsonPointer === info.jsonPointer;
      if (dup) continue;
      let slot = refs.indexOf(s);
      if (slot < 0) slot = refs.push(s) - 1;
      out.push({ info, extractor, key, ref: s, slot });
    }
  }
  return out.length === 0 ? NO_SELECTION : { items: out, distinct: refs.length };
}

function attestorMaterial(entry: { certificates?: { cert?: string; certChain?: string; tsaCertChain?: string } }): NotaryAttestorMaterial {
  const c = entry.certificates ?? {};
  const m: NotaryAttestorMaterial = {};
  if (c.cert) m.certificates = c.cert;
  if (c.certChain) m.certificateChain = c.certChain;
  if (c.tsaCertChain) m.tsaCertChain = c.tsaCertChain;
  return m;
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * `cache.run(key, fn, options)` for a synchronous step: the decided outcome (value or thrown error), or
 * {@link Pending} on the run (started once per review) when nothing is decided yet.
 */
function need<T>(cache: VerificationCache, key: string, fn: () => Promise<T>, options: { useCache?: boolean }): T {
  const hit = cache.peek?.(key, options.useCache !== false);
  if (hit) return outcomeValue<T>(hit);
  throw new Pending(cache.run(key, fn, options));
}

/** The value of a decided outcome, or its error thrown. */
function outcomeValue<T>(hit: CachedOutcome): T {
  if (hit.ok) return hit.value as T;
  throw hit.value;
}

/** Image verification outcomes of a review, flat: policy key, rule, image, status, policy key, … */
type IvmRecords = string[];

/**
 * {@link imageMetadataPatches} for the review's outcomes. Warm reviews of the same workload record the
 * same outcomes: the last serialization is reused when the records are equal, element by element.
 */
function annotationPatches(engine: KyvernoEngine, records: IvmRecords, ivm: ImageVerificationMetadata, hasAnnotations: boolean) {
  const memo = memoOf(engine);
  const last = memo.lastAnnotations;
  let ops: JsonPatchOperation[];
  if (last && last.hasAnnotations === hasAnnotations && sameStrings(last.records, records)) ops = last.ops;
  else {
    ops = imageMetadataPatches(ivm, hasAnnotations);
    memo.lastAnnotations = { records: records.slice(), hasAnnotations, ops };
  }
  // fresh op objects for the caller (values are strings, or the `{}` of an `add /metadata/annotations`)
  return ops.map((o) => ({ op: o.op, path: o.path, value: typeof o.value === 'string' ? o.value : {} }));
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface AttestorSetsResult {
  ok: boolean;
  /** Not ok because of the infrastructure (network, timeout, deadline): status `error`. */
  inconclusive: boolean;
  errors: string[];
  digest?: string;
  causes: unknown[];
}

interface EntryOutcome {
  status: 'pass' | 'fail' | 'error';
  message: string;
  digest?: string;
  details?: Record<string, unknown>;
  /** `error` caused by the infrastructure (see isInfrastructureError). */
  infrastructure?: boolean;
}

function verifyAttestorSets(
  engine: KyvernoEngine,
  sets: readonly AttestorSet[],
  image: string,
  prefix: string,
  trustPolicy: unknown,
  useCache: boolean,
  signal: AbortSignal | undefined,
  cache: VerificationCache = engine.cache,
): AttestorSetsResult {
  const verifier = engine.options.verifier;
  let digest: string | undefined;
  for (let si = 0; si < sets.length; si++) {
    const set = sets[si]!;
    const entries = set.entries ?? [];
    const required = set.count && set.count > 0 ? set.count : entries.length;
    let verified = 0;
    let errors: string[] | undefined;
    let causes: unknown[] | undefined;
    let inconclusive = false;
    for (let ei = 0; ei < entries.length && verified < required; ei++) {
      const entry = entries[ei]!;
      try {
        if (entry.attestor) {
          const path = `${prefix}.attestors[${si}].entries[${ei}].attestor`;
          const r = verifyAttestorSets(engine, [entry.attestor], image, path, trustPolicy, useCache, signal, cache);
          if (!r.ok) {
            if (r.inconclusive) inconclusive = true;
            (errors ??= []).push(...r.errors);
            (causes ??= []).push(...r.causes);
            continue;
          }
          digest = r.digest ?? digest;
          verified++;
          continue;
        }
        if (!verifier) throw new VouchError('ERR_INVALID_ARGUMENT', 'no NotaryImageVerifier is configured for the Kyverno engine');
        const material = materialOf(engine, entry);
        const key = signatureKey(engine, entry, material, image, trustPolicy);
        // a decided outcome is read without building the call (the warm path allocates nothing here)
        const hit = cache.peek?.(key, useCache);
        const res = hit
          ? outcomeValue<{ digest: string }>(hit)
          : need(cache, key, () => verifier.verifyImage({ image, attestor: material, trustPolicy, signal }), { useCache });
        digest = res.digest;
        const byDigest = digestForm(image, res.digest);
        if (useCache && byDigest) cache.prime(`sig|${byDigest}|${materialKeyOf(engine, material, trustPolicy)}`, res);
        verified++;
      } catch (e) {
        rethrowPending(e);
        if (isInfrastructureError(e)) inconclusive = true;
        (errors ??= []).push(`${prefix}.attestors[${si}].entries[${ei}]: ${errMessage(e)}`);
        (causes ??= []).push(e);
      }
    }
    if (verified < required) return { ok: false, inconclusive, errors: errors ?? [], causes: causes ?? [] };
  }
  return { ok: true, inconclusive: false, errors: NO_STRINGS, digest, causes: NO_STRINGS };
}

const NO_STRINGS: string[] = Object.freeze([]) as unknown as string[];

/** An attestor entry's material (one frozen object per entry: policies are immutable). */
function materialOf(engine: KyvernoEngine, entry: object): NotaryAttestorMaterial {
  const m = memoOf(engine).materials;
  let v = m.get(entry);
  if (!v) {
    v = Object.freeze(attestorMaterial(entry as Parameters<typeof attestorMaterial>[0]));
    m.set(entry, v);
  }
  return v;
}

/** The cache key of an attestor entry's signature check on `image` (the last one kept per entry: reviews repeat images). */
function signatureKey(engine: KyvernoEngine, entry: object, material: NotaryAttestorMaterial, image: string, trustPolicy: unknown): string {
  const m = memoOf(engine).signatureKeys;
  const last = m.get(entry);
  if (last && last.image === image && last.trustPolicy === trustPolicy) return last.key;
  const key = `sig|${image}|${materialKeyOf(engine, material, trustPolicy)}`;
  m.set(entry, { image, trustPolicy, key });
  return key;
}

/** `registry/path@digest` for a tag reference `registry/path:tag` (undefined when already by digest). */
function digestForm(image: string, digest: string | undefined): string | undefined {
  if (!digest || image.includes('@')) return undefined;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const repo = colon > slash ? image.slice(0, colon) : image;
  return `${repo}@${digest}`;
}

function causeDetails(causes: unknown[]): Record<string, unknown> | undefined {
  if (causes.length === 0) return undefined;
  return { causes: causes.map((c) => (isVouchError(c) ? c.toJSON() : { message: errMessage(c) })) };
}

function verifyAttestations(
  engine: KyvernoEngine,
  iv: ImageVerification,
  image: string,
  ctx: Record<string, unknown>,
  trustPolicy: unknown,
  signal: AbortSignal | undefined,
  cache: VerificationCache = engine.cache,
): EntryOutcome {
  const verifier = engine.options.verifier;
  const attestations = iv.attestations ?? [];
  for (let ai = 0; ai < attestations.length; ai++) {
    const at: Attestation = attestations[ai]!;
    const type = at.type ?? at.predicateType ?? '';
    if (type === '') return { status: 'fail', message: `.attestations[${ai}]: missing type` };
    const sets = at.attestors && at.attestors.length > 0 ? at.attestors : [{ entries: [{}] }];
    for (let si = 0; si < sets.length; si++) {
      const set = sets[si]!;
      const entries = set.entries ?? [];
      const required = set.count && set.count > 0 ? set.count : entries.length;
      let verified = 0;
      const errors: string[] = [];
      const causes: unknown[] = [];
      let inconclusive = false;
      for (let ei = 0; ei < entries.length && verified < required; ei++) {
        const entry = entries[ei]!;
        const path = `.attestations[${ai}].attestors[${si}].entries[${ai}]`;
        try {
          if (!verifier?.verifyAttestations) {
            throw new VouchError(
              'ERR_UNSUPPORTED',
              'the configured NotaryImageVerifier cannot verify attestations (verifyAttestations is missing)',
            );
          }
          const material = attestorMaterial(entry);
          const key = `att|${image}|${type}|${materialKeyOf(engine, material, trustPolicy)}`;
          const res = need(cache, key, () => verifier.verifyAttestations!({ image, type, attestor: material, trustPolicy, signal }), {
            useCache: iv.useCache !== false,
          });
          const list: NotaryAttestation[] = res.attestations.filter((a) => a.type === type);
          if (list.length === 0)
            throw new VouchError('ERR_SIGNATURE_NOT_FOUND', `no matching attestations found for image ${image} with type ${type}`);
          if (at.name) ctx[at.name] = list[0]!.predicate;
          // vouch checks EVERY matching attestation (Kyverno only the first one).
          for (const a of list) {
            const predicate = isObj(a.predicate) ? a.predicate : {};
            const statement = { ...(a.manifest ?? {}), type: a.type, predicate: a.predicate };
            const condCtx = { ...ctx, ...predicate, statement };
            const msgs: string[] = [];
            let ok = true;
            for (const block of at.conditions ?? []) {
              const r = evaluateConditions(block as ConditionBlock, condCtx, engine.jmes);
              if (!r.passed) {
                ok = false;
                msgs.push(...r.messages);
              }
            }
            if (!ok)
              throw new VouchError(
                'ERR_VERIFICATION_FAILED',
                `attestation checks failed for ${image} and predicate ${type}: ${msgs.join('; ')}`,
              );
          }
          verified++;
        } catch (e) {
          rethrowPending(e);
          if (isInfrastructureError(e)) inconclusive = true;
          errors.push(`${path}: ${errMessage(e)}`);
          causes.push(e);
        }
      }
      if (verified < required) {
        const joined = errors.join('; ');
        return {
          status: inconclusive ? 'error' : 'fail',
          ...(inconclusive ? { infrastructure: true } : {}),
          message: joined
            ? `image attestations verification failed, verifiedCount: ${verified}, requiredCount: ${required}, error: ${joined}`
            : 'attestations verification failed',
          details: causeDetails(causes),
        };
      }
    }
  }
  return { status: 'pass', message: `verified image attestations for ${image}` };
}

function validateDeny(
  engine: KyvernoEngine,
  rule: Rule,
  entries: readonly ImageVerification[],
  ctx: Record<string, unknown>,
): EntryOutcome | undefined {
  if (!entries.some((iv) => iv.validate && Object.keys(iv.validate).length > 0)) return undefined;
  const messages: string[] = [];
  let denied = false;
  try {
    for (const iv of entries) {
      const v = iv.validate;
      if (!v) continue;
      const r = evaluateConditions(v.deny?.conditions, ctx, engine.jmes);
      if (r.passed) {
        denied = true;
        if (v.message) messages.push(String(substituteVariables(v.message, ctx, engine.jmes, { nullOnMissing: true }) ?? ''));
        messages.push(...r.messages);
      }
    }
  } catch (e) {
    // never a pass: the deny conditions could not be evaluated
    return { status: 'error', message: `failed to evaluate verifyImages validate.deny conditions: ${errMessage(e)}` };
  }
  if (denied) {
    const msg = messages.filter((m) => m !== '').join('; ');
    return { status: 'fail', message: `validation in verifyImages failed: ${msg || 'validation error: imageVerify  failed'}` };
  }
  return { status: 'pass', message: `verifyImages validation is passed in ${rule.name} rule` };
}

function oldImageAt(old: KubeObject | undefined, pointer: string | undefined): unknown {
  if (!old || !pointer) return undefined;
  let cur: unknown = old;
  for (const p of pointer.split('/').slice(1)) {
    const k = p.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(k)];
    else if (isObj(cur)) cur = cur[k];
    else return undefined;
  }
  return cur;
}

function pointerValue(obj: KubeObject, pointer: string | undefined): unknown {
  return oldImageAt(obj, pointer);
}

function runVerifyImagesRule(
  engine: KyvernoEngine,
  policy: KyvernoPolicy,
  rule: Rule,
  req: EngineRequest,
  resource: KubeObject,
  records: IvmRecords,
  imagePatches: JsonPatchOperation[],
  warnings: string[],
  cache: VerificationCache,
  rm: ReviewMemo,
  unsupported?: readonly UnsupportedUse[],
  exceptions?: readonly PolicyException[],
): RuleResponse[] {
  const operation = operationOf(req, policy, rule.name);
  if (!ruleMatches(engine, policy, rule, req, operation, rm)) return [];
  const out: RuleResponse[] = [];
  const resp = (status: RuleStatus, message: string, extra?: Partial<RuleResponse>) => {
    const r = ruleResponse(rule.name, 'ImageVerify', status, message, extra);
    if (status === 'fail' || status === 'error' || status === 'warning' || extra?.emitWarning) {
      r.emitWarning = true;
      warnings.push(`policy ${policy.metadata.name}.${rule.name}: ${message}`);
    }
    out.push(r);
    return r;
  };
  let images: ExtractedImages;
  try {
    images = imagesOf(engine, rm, resource, rule);
  } catch (e) {
    resp('error', `failed to extract images: ${errMessage(e)}`);
    return out;
  }
  const selection = selectedOf(engine, rm, rule, images);
  const selected = selection.items;
  if (selected.length === 0) return [];
  // The JSON context is built only for rules that read it (most Notary rules do not).
  const ctx: Record<string, unknown> = ruleNeedsContext(engine, rule) || req.values ? baseContext(req, operation) : NO_CONTEXT;
  if (ctx !== NO_CONTEXT) ctx.images = images;
  if (rule.context?.length || req.values) {
    try {
      loadContext(engine, policy, rule, ctx, req, rm);
    } catch (e) {
      rethrowPending(e);
      resp('error', `failed to load context: ${errMessage(e)}`, isInfrastructureError(e) ? { infrastructure: true } : undefined);
      return out;
    }
  }
  if (rule.preconditions) {
    const pre = checkPreconditions(engine, rule, ctx);
    if (pre) {
      resp(pre.status, pre.message);
      return out;
    }
  }
  if (exceptions) {
    const skip = exceptionSkip(engine, exceptions, req, operation, ctx);
    if (skip) {
      resp('skip', skip);
      return out;
    }
  }
  if (unsupported) {
    // A rule vouch cannot evaluate fails (not error, not skip) for every image it selects, where Kyverno
    // would have verified them; no digest is pinned.
    resp('fail', unsupportedRuleMessage(unsupported[0]!));
    const key = scopedPolicyKey(policy);
    for (const sel of selected) records.push(key, rule.name, sel.ref, 'fail');
    return out;
  }
  let entries: ImageVerification[];
  try {
    entries = imageVerificationsOf(engine, rule, ctx);
  } catch (e) {
    resp('error', `failed to substitute variables: ${errMessage(e)}`);
    return out;
  }
  const policyKeyScoped = scopedPolicyKey(policy);
  for (let i = 0; i < entries.length; i++) {
    const iv = entries[i]!;
    // containers running the same image share one evaluation of this entry's attestor sets (indexed by
    // the image's slot, made on first use)
    let setResults: (AttestorSetsResult | undefined)[] | undefined;
    let pass: { outcome: EntryOutcome; response: RuleResponse } | undefined;
    const trustPolicy = engine.options.trustPolicyFor?.(policy, rule.name, i);
    for (const sel of selected) {
      const info = sel.info;
      const img = sel.ref;
      const hasChecks = (iv.attestors?.length ?? 0) > 0 || (iv.attestations?.length ?? 0) > 0;
      // UPDATE shortcut: unchanged image already verified for this policy+rule.
      if (operation === 'UPDATE' && req.oldResource && hasChecks) {
        const before = oldImageAt(req.oldResource, info.jsonPointer);
        if (before !== undefined && before === pointerValue(resource, info.jsonPointer)) {
          let prev: string | undefined;
          try {
            prev = isImageVerifiedForPolicy(
              req.oldResource.metadata?.annotations,
              policyNamespaceOf(policy),
              policy.metadata.name,
              rule.name,
              img,
            );
          } catch {
            prev = undefined;
          }
          if (prev === 'pass' || prev === 'skip') {
            records.push(policyKeyScoped, rule.name, img, 'pass');
            continue;
          }
        }
      }
      let outcome: EntryOutcome | undefined;
      let recordSkip = false;
      let digest: string | undefined;
      if (hasChecks) {
        // ctx is only read by attestation conditions and verifyImages.validate (attestation branch below)
        if (iv.attestations && iv.attestations.length > 0) ctx.image = imageFields(info);
        if (!matchRefs(engine, iv.imageReferences, img)) {
          outcome = undefined;
          resp('skip', `skipping image reference image ${img}, policy ${policy.metadata.name} ruleName ${rule.name}`);
          recordSkip = true;
        } else if (matchRefs(engine, iv.skipImageReferences, img)) {
          resp('skip', `skipping image reference image ${img}, policy ${policy.metadata.name} ruleName ${rule.name}`, {
            emitWarning: true,
          });
          recordSkip = true;
        } else if ((iv.type ?? 'Cosign') !== 'Notary') {
          outcome = {
            status: 'error',
            message: `failed to verify image ${img}: verifyImages type ${iv.type ?? 'Cosign'} is not supported by vouch (only type Notary)`,
          };
        } else {
          if (iv.attestors && iv.attestors.length > 0) {
            let r = setResults?.[sel.slot];
            if (!r) {
              r = verifyAttestorSets(engine, iv.attestors, img, '', trustPolicy, iv.useCache !== false, req.signal, cache);
              (setResults ??= new Array(selection.distinct))[sel.slot] = r;
            }
            if (!r.ok) {
              outcome = {
                status: r.inconclusive ? 'error' : 'fail',
                message: `failed to verify image ${img}: ${r.errors.join('; ')}`,
                details: causeDetails(r.causes),
                ...(r.inconclusive ? { infrastructure: true } : {}),
              };
            } else {
              digest = r.digest;
              if (!iv.attestations || iv.attestations.length === 0) {
                pass = passFor(rm, rule.name, img, digest);
                outcome = pass.outcome;
              }
            }
          }
          if (!outcome && iv.attestations && iv.attestations.length > 0) {
            const ref = digest && info.digest === '' ? `${info.registry ? `${info.registry}/` : ''}${info.path}@${digest}` : img;
            outcome = verifyAttestations(engine, iv, ref, ctx, trustPolicy, req.signal, cache);
            if (outcome.status === 'pass') {
              const d = validateDeny(engine, rule, entries, ctx);
              if (d) outcome = d;
            }
          }
        }
      }
      // mutateDigest runs whatever the verification result (a failed image is denied under Enforce),
      // except (vouch GAP) after an `error`: failurePolicy Ignore may then admit the object, and it
      // must not carry a pinned digest, the sign of a verified image (Kyverno pins it).
      let finalImg = img;
      if (iv.mutateDigest && info.digest === '' && outcome?.status !== 'error') {
        let d = digest;
        if (!d) {
          try {
            const resolver = engine.options.verifier?.resolveDigest;
            if (!resolver)
              throw new VouchError('ERR_INVALID_ARGUMENT', 'no digest resolver is configured (NotaryImageVerifier.resolveDigest)');
            d = need(cache, `digest|${img}`, () => resolver.call(engine.options.verifier, img, req.signal), { useCache: false });
          } catch (e) {
            rethrowPending(e);
            resp('error', `failed to update digest: ${errMessage(e)}`, isInfrastructureError(e) ? { infrastructure: true } : undefined);
          }
        }
        if (d) {
          imagePatches.push({ op: 'replace', path: info.jsonPointer ?? '', value: `${info.referenceWithTag}@${d}` });
          if (!hasChecks && out.length === 0) resp('pass', 'mutated image digest');
          finalImg = `${info.registry ? `${info.registry}/` : ''}${info.path}@${d}`;
        }
      }
      // Kyverno appends a "failed to update digest" error before the verification response, so the
      // verification message is the one the blocked message (keyed by rule name) shows.
      if (outcome && outcome === pass?.outcome) {
        // one frozen response per rule name and image, shared by the containers (and policies) it holds for
        out.push(pass.response);
      } else if (outcome) {
        resp(
          outcome.status,
          outcome.message,
          outcome.details || outcome.infrastructure
            ? { ...(outcome.details ? { details: outcome.details } : {}), ...(outcome.infrastructure ? { infrastructure: true } : {}) }
            : undefined,
        );
      }
      if (hasChecks) {
        // vouch GAP: a verification the infrastructure left undecided (network, timeout) under
        // failurePolicy Ignore is recorded as `skip`, so the `required` check does not turn "could
        // not decide" back into a denial (Kyverno records `fail`). Any other error is recorded `fail`.
        const ignoreError = outcome?.status === 'error' && outcome.infrastructure === true && policyFailurePolicy(policy) === 'Ignore';
        const st = recordSkip || ignoreError ? 'skip' : outcome?.status === 'pass' ? 'pass' : 'fail';
        // consecutive identical records (containers running one image) are recorded once
        const n = records.length;
        if (
          !(
            n >= 4 &&
            records[n - 1] === st &&
            records[n - 2] === finalImg &&
            records[n - 3] === rule.name &&
            records[n - 4] === policyKeyScoped
          )
        ) {
          records.push(policyKeyScoped, rule.name, finalImg, st);
        }
      }
    }
  }
  return out;
}

/** A matching rule vouch cannot evaluate (mode `fail`): one `fail` response naming the construct. */
function unsupportedRule(
  engine: KyvernoEngine,
  policy: KyvernoPolicy,
  rule: Rule,
  req: EngineRequest,
  type: RuleResponse['type'],
  uses: readonly UnsupportedUse[],
  rm?: ReviewMemo,
): RuleResponse[] {
  if (req.gvk && !kindsMayMatch(engine, rule, req.gvk, req.subresource ?? '')) return [];
  if (!ruleMatches(engine, policy, rule, req, operationOf(req, policy, rule.name), rm)) return [];
  return [ruleResponse(rule.name, type, 'fail', unsupportedRuleMessage(uses[0]!), { emitWarning: true })];
}

/** `list` with `more` appended (`more` itself when `list` is empty: the rule's array becomes the policy's). */
function appendAll<T>(list: T[], more: T[]): T[] {
  if (list.length === 0) return more;
  for (let i = 0; i < more.length; i++) list.push(more[i]!);
  return list;
}

/** The passing signature outcome of `img` under a rule named `ruleName` and its frozen response, once per review. */
function passFor(
  rm: ReviewMemo,
  ruleName: string,
  img: string,
  digest: string | undefined,
): { outcome: EntryOutcome; response: RuleResponse } {
  const byRule = (rm.passes ??= new Map());
  let byImg = byRule.get(ruleName);
  if (!byImg) byRule.set(ruleName, (byImg = new Map()));
  let v = byImg.get(img);
  if (!v || v.outcome.digest !== digest) {
    const message = `verified image signatures for ${img}`;
    v = {
      outcome: Object.freeze({ status: 'pass', message, digest }) as EntryOutcome,
      response: Object.freeze(ruleResponse(ruleName, 'ImageVerify', 'pass', message)),
    };
    byImg.set(img, v);
  }
  return v;
}

/**
 * A per-review view of `base`: every key runs at most once per review (errors included), and outcomes
 * decided in (or read by) this review stay fixed for it, even if `base` expires them meanwhile. A
 * class with maps made on first use: a warm review asks it a handful of times.
 */
class ReviewCache implements VerificationCache {
  private decided: Map<string, CachedOutcome> | undefined;
  private pending: Map<string, Promise<unknown>> | undefined;
  constructor(private readonly base: VerificationCache) {}
  get misses(): number {
    return this.base.misses;
  }
  clear(): void {
    this.decided = undefined;
    this.pending = undefined;
  }
  prime(key: string, value: unknown): void {
    this.base.prime(key, value);
    (this.decided ??= new Map()).set(key, { ok: true, value });
  }
  peek(key: string, useCache = true): CachedOutcome | undefined {
    const d = this.decided?.get(key);
    if (d || !useCache || this.pending?.has(key)) return d;
    const hit = this.base.peek?.(key, true);
    if (hit) (this.decided ??= new Map()).set(key, hit);
    return hit;
  }
  run<T>(key: string, fn: () => Promise<T>, options?: { useCache?: boolean }): Promise<T> {
    const d = this.decided?.get(key);
    if (d) return d.ok ? Promise.resolve(d.value as T) : Promise.reject(d.value);
    const pending = (this.pending ??= new Map());
    let p = pending.get(key) as Promise<T> | undefined;
    if (!p) {
      p = this.base.run(key, fn, options);
      pending.set(key, p);
      const decided = (this.decided ??= new Map());
      p.then(
        (value) => decided.set(key, { ok: true, value }),
        (value) => decided.set(key, { ok: false, value }),
      );
    }
    return p;
  }
}

/**
 * Phase 1 (mutating webhook / "verify-images"): verifies signatures and attestations, computes digest
 * patches and the `kyverno.io/verify-images(-scoped)` annotations.
 */
export function verifyAndPatchImages(engine: KyvernoEngine, req: EngineRequest): Promise<VerifyImagesResult> {
  return driveAsync(verifyAndPatchImagesCo(engine, req));
}

/** {@link verifyAndPatchImages} as a coroutine (see drive.ts); for the admission handler. */
export function* verifyAndPatchImagesCo(
  engine: KyvernoEngine,
  req: EngineRequest,
  rm: ReviewMemo = newReviewMemo(),
): Co<VerifyImagesResult> {
  // One verification per (image, attestor material) per review, whatever the outcome, however many
  // containers, rules and policies ask; decided results also go to the engine's cross-review cache.
  const cache = new ReviewCache(engine.cache);
  const resource = effectiveResource(req);
  const records: IvmRecords = [];
  const imagePatches: JsonPatchOperation[] = [];
  const warnings: string[] = [];
  const responses: PolicyResponse[] = [];
  let current = resource;
  let currentReq = current === req.resource ? req : { ...req, resource: current };
  // set only by an engine in mode `fail` with rules vouch cannot evaluate / with PolicyExceptions
  const memo = memoOf(engine);
  const unsupported = memo.unsupported;
  const exceptions = memo.exceptions;
  // indexed loops: a for-of in a generator allocates its iterator and every step's result
  const policies = engine.policies;
  for (let pi = 0; pi < policies.length; pi++) {
    const policy = policies[pi]!;
    if (policy.spec.admission === false && req.admissionRequest) continue;
    let rules: RuleResponse[] = [];
    const policyRules = rulesOf(engine, policy);
    for (let ri = 0; ri < policyRules.length; ri++) {
      const rule = policyRules[ri]!;
      const notEvaluated = unsupported?.get(rule);
      if (!rule.verifyImages || rule.verifyImages.length === 0) {
        // mutate / generate rules vouch cannot evaluate fail where Kyverno would apply them
        if (notEvaluated && (rule.mutate || rule.generate)) {
          rules = appendAll(
            rules,
            unsupportedRule(engine, policy, rule, currentReq, rule.mutate ? 'Mutation' : 'Generation', notEvaluated, rm),
          );
        }
        continue;
      }
      // runVerifyImagesRule answers [] for a rule whose kinds exclude the request: skip it before any work
      if (req.gvk && !kindsMayMatch(engine, rule, req.gvk, req.subresource ?? '')) continue;
      const before = imagePatches.length;
      const w0 = warnings.length;
      const r0 = records.length;
      let rr: RuleResponse[];
      for (;;) {
        try {
          rr = runVerifyImagesRule(
            engine,
            policy,
            rule,
            currentReq,
            current,
            records,
            imagePatches,
            warnings,
            cache,
            rm,
            notEvaluated,
            exceptions?.get(rule),
          );
          break;
        } catch (e) {
          if (!(e instanceof Pending)) throw e;
          // undo the attempt's effects, wait for the value, run the rule again
          imagePatches.length = before;
          warnings.length = w0;
          records.length = r0;
          yield e.wait;
        }
      }
      if (imagePatches.length > before) {
        const ops = imagePatches.slice(before);
        // copies only the patched paths: unchanged parts stay shared with the request object
        const next = patchShared(current, ops);
        carryImages(engine, rm, current, next, ops);
        current = next;
        currentReq = { ...req, resource: current };
      }
      rules = appendAll(rules, rr);
      if (policy.spec.applyRules === 'One' && rr.some((r) => r.status === 'pass' || r.status === 'fail')) break;
    }
    responses.push({ policy, resource, rules });
  }
  const ivm = newImageVerificationMetadata();
  for (let i = 0; i < records.length; i += 4) {
    addImageVerification(ivm, records[i]!, records[i + 1]!, records[i + 2]!, records[i + 3] as ImageVerificationStatus);
  }
  const patches: JsonPatchOperation[] = [];
  const hasData = Object.keys(ivm.data ?? {}).length > 0;
  if (hasData) {
    const hasAnnotations = isObj(resource.metadata?.annotations);
    patches.push(...annotationPatches(engine, records, ivm, hasAnnotations));
  } else {
    // vouch GAP: verification records the request brings along that this review did not write are
    // removed (a later UPDATE would trust them); with records, the ops above replace them anyway
    const ann = resource.metadata?.annotations;
    if (ann) {
      if (ann[VERIFY_IMAGES_ANNOTATION] !== undefined)
        patches.push({ op: 'remove', path: '/metadata/annotations/kyverno.io~1verify-images' });
      if (ann[VERIFY_IMAGES_SCOPED_ANNOTATION] !== undefined) {
        patches.push({ op: 'remove', path: '/metadata/annotations/kyverno.io~1verify-images-scoped' });
      }
    }
  }
  const annotationOps = patches.length;
  patches.push(...imagePatches);
  // `current` has the image ops applied; the annotation ops go on top (disjoint paths, so the order of
  // the two groups does not matter). Only patched paths are copied (see patchShared).
  let patchedResource = current;
  if (annotationOps > 0) {
    const annotationPatches = patches.slice(0, annotationOps);
    patchedResource = patchShared(current, annotationPatches);
    carryImages(engine, rm, current, patchedResource, annotationPatches);
  }
  return { responses, patches, patchedResource, metadata: ivm, warnings };
}

/** Reads image statuses from the scoped verify-images annotation, parsing it once (same results as `isImageVerifiedForPolicy`). */
type ScopedStatus = (policy: KyvernoPolicy, rule: string, img: string) => string;

function scopedStatusReader(engine: KyvernoEngine, resource: KubeObject, written?: ImageVerificationMetadata): ScopedStatus {
  if (written) {
    // phase 2 of the same review: the outcomes phase 1 recorded, never an annotation the request brought along
    const byPolicy = written.policies ?? {};
    let last: KyvernoPolicy | undefined;
    let rules: Record<string, Record<string, string>> | undefined;
    return (policy, rule, img) => {
      if (policy !== last) {
        last = policy;
        rules = byPolicy[scopedPolicyKey(policy)];
      }
      return rules?.[rule]?.[img] ?? 'fail';
    };
  }
  const raw = resource.metadata?.annotations?.[VERIFY_IMAGES_SCOPED_ANNOTATION];
  let parsed: ImageVerificationMetadata | undefined;
  let error: unknown;
  let lastPolicy: KyvernoPolicy | undefined;
  let lastKey = '';
  return (policy, rule, img) => {
    if (raw === undefined) return 'fail';
    if (!parsed && error === undefined) {
      try {
        // the same annotation text comes back review after review: parse it once (the result is only read)
        const memo = memoOf(engine);
        if (memo.lastScoped?.raw === raw) parsed = memo.lastScoped.parsed;
        else {
          parsed = parseImageMetadata(raw);
          memo.lastScoped = { raw, parsed };
        }
      } catch (e) {
        error = e;
      }
    }
    if (error !== undefined) throw error;
    if (policy !== lastPolicy) {
      lastPolicy = policy;
      lastKey = `${policyNamespaceOf(policy)}/${policy.metadata.name}`;
    }
    return parsed!.policies?.[lastKey]?.[rule]?.[img] ?? 'fail';
  };
}

/** The image's status in the scoped annotation for this policy and rule (undefined when unreadable). */
function recordedStatus(status: ScopedStatus, policy: KyvernoPolicy, rule: Rule, img: string): string | undefined {
  try {
    return status(policy, rule.name, img);
  } catch {
    return undefined;
  }
}

function imageCheckRule(
  engine: KyvernoEngine,
  rm: ReviewMemo,
  policy: KyvernoPolicy,
  rule: Rule,
  req: EngineRequest,
  operation: string,
  resource: KubeObject,
  status: ScopedStatus,
  exceptions?: readonly PolicyException[],
): RuleResponse[] {
  const entries = rule.verifyImages ?? [];
  if (!entries.some((iv) => iv.verifyDigest || iv.required)) return [];
  let images: ExtractedImages;
  try {
    images = imagesOf(engine, rm, resource, rule);
  } catch (e) {
    return [ruleResponse(rule.name, 'Validation', 'error', `failed to extract images: ${errMessage(e)}`)];
  }
  const selected = selectedOf(engine, rm, rule, images).items;
  if (selected.length === 0) return [];
  // Kyverno loads the rule context and checks the preconditions before any handler, this one included:
  // a rule whose preconditions do not hold is `skip` here too, not "unverified image".
  if (rule.context?.length || rule.preconditions || exceptions) {
    const ctx = baseContext({ ...req, resource }, operation);
    ctx.images = images;
    const stop = contextAndPreconditions(engine, policy, rule, ctx, req, rm);
    if (stop) return [stop];
    const skip = exceptions && exceptionSkip(engine, exceptions, { ...req, resource }, operation, ctx);
    if (skip) return [ruleResponse(rule.name, 'Validation', 'skip', skip)];
  }
  let passed = 0;
  let skipped: string[] | undefined;
  for (const iv of entries) {
    for (const { info, ref: img } of selected) {
      if (!matchRefs(engine, iv.imageReferences, img)) continue;
      if (iv.verifyDigest && info.digest === '') {
        // vouch GAP (continued from phase 1): under failurePolicy Ignore, an image whose verification could
        // not be decided (registry down) is recorded `skip`, and its digest could not be resolved either;
        // skip the digest check too instead of turning "could not decide" into a denial (Kyverno fails it).
        if (policyFailurePolicy(policy) === 'Ignore' && recordedStatus(status, policy, rule, img) === 'skip') {
          (skipped ??= []).push(img);
          continue;
        }
        return [ruleResponse(rule.name, 'Validation', 'fail', `missing digest for ${img}`, { emitWarning: true })];
      }
      if (iv.required) {
        let st: string;
        try {
          st = status(policy, rule.name, img);
        } catch (e) {
          return [ruleResponse(rule.name, 'Validation', 'fail', errMessage(e), { emitWarning: true })];
        }
        if (st === 'fail') return [ruleResponse(rule.name, 'Validation', 'fail', `unverified image ${img}`, { emitWarning: true })];
        if (st === 'skip') (skipped ??= []).push(img);
        else passed++;
      } else passed++;
    }
  }
  if (passed === 0 && skipped) {
    return [ruleResponse(rule.name, 'Validation', 'skip', `image skipped, skipped images: ${skipped.join(' ')}`)];
  }
  if (skipped) return [ruleResponse(rule.name, 'Validation', 'pass', `image verified, skipped images: ${skipped.join(' ')}`)];
  // the plain pass is the same for every review: one frozen response per rule name
  const m = memoOf(engine).verified;
  let r = m.get(rule.name);
  if (!r) {
    r = Object.freeze(ruleResponse(rule.name, 'Validation', 'pass', 'image verified'));
    if (m.size >= 4096) m.clear();
    m.set(rule.name, r);
  }
  return [r];
}

/** The `validate` sub-features vouch's validate engine does not evaluate (empty when supported); see `KYVERNO_SUPPORT`. */
export function unsupportedValidateFeatures(rule: Rule): string[] {
  return unsupportedInRule(rule)
    .filter((u) => u.construct.startsWith('validate.'))
    .map((u) => (u.construct === 'validate.other' ? 'other' : u.construct.slice('validate.'.length)));
}

function validateRule(
  engine: KyvernoEngine,
  policy: KyvernoPolicy,
  rule: Rule,
  req: EngineRequest,
  resource: KubeObject,
  rm: ReviewMemo,
  unsupported?: readonly UnsupportedUse[],
  exceptions?: readonly PolicyException[],
): RuleResponse[] {
  const v = rule.validate as Record<string, unknown>;
  const operation = operationOf(req, policy, rule.name);
  const resp = (status: RuleStatus, message: string) => [ruleResponse(rule.name, 'Validation', status, message)];
  const ctx = baseContext({ ...req, resource }, operation);
  try {
    ctx.images = extractImages(resource, undefined, engine.options.imageConfig);
  } catch {
    ctx.images = {};
  }
  const stop = contextAndPreconditions(engine, policy, rule, ctx, req, rm);
  if (stop) return [stop];
  const skip = exceptions && exceptionSkip(engine, exceptions, { ...req, resource }, operation, ctx);
  if (skip) return resp('skip', skip);
  if (unsupported) return [ruleResponse(rule.name, 'Validation', 'fail', unsupportedRuleMessage(unsupported[0]!), { emitWarning: true })];
  let message: string;
  try {
    message = String(substituteVariables(v.message ?? '', ctx, engine.jmes, { nullOnMissing: true }) ?? '');
  } catch (e) {
    return resp('error', `failed to substitute variables: ${errMessage(e)}`);
  }
  const target = operation === 'DELETE' ? (req.oldResource ?? resource) : resource;
  if (v.deny !== undefined) {
    const deny = (v.deny ?? {}) as { conditions?: ConditionBlock };
    let r: ReturnType<typeof evaluateConditions>;
    try {
      r = evaluateConditions(deny.conditions as ConditionBlock | undefined, ctx, engine.jmes);
    } catch (e) {
      return resp('error', `failed to evaluate deny conditions: ${errMessage(e)}`);
    }
    const conds = deny.conditions;
    const empty = !conds || (Array.isArray(conds) ? conds.length === 0 : !(conds.any?.length || conds.all?.length));
    if (empty || r.passed) return resp('fail', message);
    return resp('pass', `validation rule '${rule.name}' passed.`);
  }
  const patterns: unknown[] = v.pattern !== undefined ? [v.pattern] : Array.isArray(v.anyPattern) ? v.anyPattern : [];
  // unreachable for a policy the engine accepted (KYVERNO_SUPPORT 'validate.other'); never a pass
  if (patterns.length === 0) return resp('fail', 'vouch cannot evaluate this validate rule (no pattern, anyPattern or deny)');
  let sub: unknown[];
  try {
    sub = substituteVariables(patterns, ctx, engine.jmes) as unknown[];
  } catch (e) {
    return resp('error', `failed to substitute variables: ${errMessage(e)}`);
  }
  let lastFail: { path: string; skip?: boolean } | undefined;
  let allSkip = true;
  for (const p of sub) {
    const r = matchPattern(target, p);
    if (r.ok) return resp('pass', `validation rule '${rule.name}' passed.`);
    if (!r.skip) allSkip = false;
    lastFail = r;
  }
  if (allSkip) return resp('skip', `validation rule '${rule.name}' anchor not satisfied, resource does not match pattern`);
  return resp('fail', `validation error: ${message}. rule ${rule.name} failed at path ${lastFail?.path ?? '/'}`);
}

/**
 * Phase 2 (validating webhook): the verify-image checks (`verifyDigest`, `required`, reading the scoped
 * annotation) and `validate` rules (pattern, anyPattern, deny) on the (patched) resource.
 */
export function validateResource(engine: KyvernoEngine, req: EngineRequest): Promise<PolicyResponse[]> {
  return driveAsync(validateResourceCo(engine, req));
}

/**
 * {@link validateResource} as a coroutine (see drive.ts); for the admission handler. `written`: the
 * outcomes phase 1 of the same review recorded; the `required` check then reads them instead of the
 * resource's annotation (which the request could have brought along).
 */
export function* validateResourceCo(
  engine: KyvernoEngine,
  req: EngineRequest,
  rm: ReviewMemo = newReviewMemo(),
  written?: ImageVerificationMetadata,
): Co<PolicyResponse[]> {
  const resource = effectiveResource(req);
  const status = scopedStatusReader(engine, resource, written);
  const memo = memoOf(engine);
  const unsupported = memo.unsupported;
  const exceptions = memo.exceptions;
  const out: PolicyResponse[] = [];
  // indexed loops: a for-of in a generator allocates its iterator and every step's result
  const policies = engine.policies;
  for (let pi = 0; pi < policies.length; pi++) {
    const policy = policies[pi]!;
    if (policy.spec.admission === false && req.admissionRequest) continue;
    let rules: RuleResponse[] = [];
    const policyRules = rulesOf(engine, policy);
    for (let ri = 0; ri < policyRules.length; ri++) {
      const rule = policyRules[ri]!;
      if (req.gvk && (rule.verifyImages?.length || rule.validate) && !kindsMayMatch(engine, rule, req.gvk, req.subresource ?? '')) continue;
      const operation = operationOf(req, policy, rule.name);
      if (rule.verifyImages && rule.verifyImages.length > 0) {
        if (operation === 'DELETE') continue;
        if (!ruleMatches(engine, policy, rule, req, operation, rm)) continue;
        let rr: RuleResponse[];
        for (;;) {
          try {
            rr = imageCheckRule(engine, rm, policy, rule, req, operation, resource, status, exceptions?.get(rule));
            break;
          } catch (e) {
            if (!(e instanceof Pending)) throw e;
            yield e.wait;
          }
        }
        rules = appendAll(rules, rr);
      } else if (rule.validate) {
        if (!ruleMatches(engine, policy, rule, req, operation)) continue;
        const notEvaluated = unsupported?.get(rule);
        let rr: RuleResponse[];
        for (;;) {
          try {
            rr = validateRule(engine, policy, rule, req, resource, rm, notEvaluated, exceptions?.get(rule));
            break;
          } catch (e) {
            if (!(e instanceof Pending)) throw e;
            yield e.wait;
          }
        }
        rules = appendAll(rules, rr);
      }
      if (policy.spec.applyRules === 'One' && rules.some((r) => r.status === 'pass' || r.status === 'fail')) break;
    }
    out.push({ policy, resource, rules });
  }
  return out;
}

/** Both phases for one resource (what `kyverno apply/test` and the admission handler run). */
export interface EvaluationResult {
  verifyImages: VerifyImagesResult;
  validation: PolicyResponse[];
}

/** Runs phase 1, applies its patches, then runs phase 2 on the patched resource. */
export function evaluateResource(engine: KyvernoEngine, req: EngineRequest): Promise<EvaluationResult> {
  return driveAsync(
    (function* (): Co<EvaluationResult> {
      const rm = newReviewMemo();
      const verifyImages = yield* verifyAndPatchImagesCo(engine, req, rm);
      const validation = yield* validateResourceCo(engine, { ...req, resource: verifyImages.patchedResource }, rm, verifyImages.metadata);
      return { verifyImages, validation };
    })(),
  );
}

/**
 * The failure action for a failing rule: for verifyImages rules any entry's `failureAction: Enforce`
 * wins, else the first one set; for validate rules `validate.failureAction`; then the first matching
 * `validationFailureActionOverrides` (ClusterPolicy); then `spec.validationFailureAction`.
 */
export function ruleFailureAction(
  policy: KyvernoPolicy,
  ruleName: string,
  resourceNamespace: string,
  namespaceLabels?: Record<string, string>,
): 'Enforce' | 'Audit' {
  const rule = policyRules(policy).find((r) => r.name === ruleName);
  const norm = (a: unknown) => (a === 'Enforce' || a === 'enforce' ? 'Enforce' : 'Audit');
  if (rule?.verifyImages && rule.verifyImages.length > 0) {
    if (rule.verifyImages.some((iv) => iv.failureAction === 'Enforce')) return 'Enforce';
    const first = rule.verifyImages.find((iv) => iv.failureAction !== undefined);
    if (first) return norm(first.failureAction);
  }
  const v = rule?.validate as { failureAction?: string; failureActionOverrides?: { action?: string; namespaces?: string[] }[] } | undefined;
  if (v?.failureAction) return norm(v.failureAction);
  const overrides = [
    ...((v?.failureActionOverrides as typeof policy.spec.validationFailureActionOverrides) ?? []),
    ...(policy.kind === 'ClusterPolicy' ? (policy.spec.validationFailureActionOverrides ?? []) : []),
  ];
  for (const o of overrides) {
    if (!o || (o.action !== 'Enforce' && o.action !== 'enforce' && o.action !== 'Audit' && o.action !== 'audit')) continue;
    const nsOk = !o.namespaces || o.namespaces.some((p) => wildcardMatch(p, resourceNamespace));
    let selOk = true;
    const sel = (o as { namespaceSelector?: Parameters<typeof checkSelector>[0] }).namespaceSelector;
    if (sel) {
      try {
        selOk = checkSelector(sel, namespaceLabels);
      } catch {
        selOk = false;
      }
    }
    if (nsOk && selOk) return norm(o.action);
  }
  return norm(policy.spec.validationFailureAction);
}

/** The policy's failure policy (`webhookConfiguration.failurePolicy` ?? `failurePolicy` ?? Fail). */
export function policyFailurePolicy(policy: KyvernoPolicy): 'Fail' | 'Ignore' {
  return policy.spec.webhookConfiguration?.failurePolicy ?? policy.spec.failurePolicy ?? 'Fail';
}

/** Parses the scoped annotation of a resource (helper for callers and tests). */
export function scopedAnnotation(resource: KubeObject): ImageVerificationMetadata | undefined {
  const raw = resource.metadata?.annotations?.[VERIFY_IMAGES_SCOPED_ANNOTATION];
  return raw === undefined ? undefined : parseImageMetadata(raw);
}
