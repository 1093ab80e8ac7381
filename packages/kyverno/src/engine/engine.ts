/**
 * The engine: `createKyvernoEngine` checks the policies once (what vouch cannot evaluate, the context
 * loaders they need), and the two phases of an admission review run against it: phase 1
 * (verify-images.ts) then phase 2 (validate.ts).
 */
import { VouchError } from '@vouch/core';
import { exceptionCovers } from '../policy/exceptions.js';
import { policyKey } from '../policy/key.js';
import { assertSupported, unsupportedInRule } from '../policy/support.js';
import type { KyvernoPolicy, PolicyException, PolicyResponse, Rule } from '../types.js';
import { createJmesEngine, type JmesEngine } from '../variables/jmespath.js';
import { createVerificationCache, type VerificationCache } from '../verifier/cache.js';
import { type Co, driveAsync } from './drive.js';
import { EngineState } from './memo.js';
import { newReviewMemo, type ReviewMemo } from './review.js';
import type {
  ContextLoader,
  EngineRequest,
  EvaluationResult,
  KyvernoEngine,
  KyvernoEngineOptions,
  UnsupportedUse,
  VerifyImagesResult,
} from './types.js';
import { validateCo } from './validate.js';
import { verifyImagesCo } from './verify-images.js';

/** The engine object: the public fields of {@link KyvernoEngine}, and everything else in one private field. */
class Engine implements KyvernoEngine {
  readonly policies: readonly KyvernoPolicy[];
  readonly options: KyvernoEngineOptions;
  readonly jmes: JmesEngine;
  readonly cache: VerificationCache;
  readonly #state: EngineState;

  constructor(options: KyvernoEngineOptions) {
    this.policies = options.policies;
    this.options = options;
    this.jmes = createJmesEngine({ now: options.now });
    this.cache = isVerificationCache(options.cache)
      ? options.cache
      : createVerificationCache(options.cache === false ? { ttlMs: 0, negativeTtlMs: 0 } : (options.cache ?? {}));
    this.#state = new EngineState(this);
  }

  /** The private state of an engine made by {@link createKyvernoEngine}. */
  static stateOf(engine: KyvernoEngine): EngineState {
    if (!engine || typeof engine !== 'object' || !(#state in engine)) {
      throw new VouchError('ERR_INVALID_ARGUMENT', 'expected an engine made by createKyvernoEngine');
    }
    return engine.#state;
  }
}

/** True for a ready-made cache (`createVerificationCache()`, possibly wrapped) rather than cache options. */
function isVerificationCache(c: KyvernoEngineOptions['cache']): c is VerificationCache {
  return typeof c === 'object' && c !== null && typeof (c as VerificationCache).run === 'function';
}

/** The private state of an engine (for the admission handler). */
export const stateOf: (engine: KyvernoEngine) => EngineState = Engine.stateOf;

/**
 * Creates an engine. No global state: every engine has its own JMESPath functions and cache.
 *
 * @example
 * ```ts
 * import { fetchLike } from '@vouch/core';
 * import { cose } from '@vouch/envelope/cose';
 * import { jws } from '@vouch/envelope/jws';
 * import { createKyvernoEngine, handleAdmissionReview, notationImageVerifier, parsePolicies } from '@vouch/kyverno';
 * import { createRegistryClient, remoteRepository } from '@vouch/registry';
 *
 * const client = createRegistryClient({ fetch: fetchLike() });
 * const engine = createKyvernoEngine({
 *   policies: parsePolicies(policyYaml),
 *   verifier: notationImageVerifier({
 *     repositoryFor: (ref) => remoteRepository(client, `${ref.registry}/${ref.repository}`),
 *     envelopes: [jws, cose],
 *   }),
 * });
 * const answer = await handleAdmissionReview(review, engine);
 * ```
 */
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
  const engine = new Engine(options);
  const state = Engine.stateOf(engine);
  if (options.exceptions && options.exceptions.length > 0) state.exceptions = exceptionsByRule(state, options.exceptions);
  if (mode === 'fail') state.unsupported = unsupportedByRule(state);
  return engine;
}

/** The PolicyExceptions that name each rule (undefined when none names any). */
function exceptionsByRule(state: EngineState, exceptions: readonly PolicyException[]): Map<Rule, PolicyException[]> | undefined {
  const byRule = new Map<Rule, PolicyException[]>();
  for (const policy of state.policies) {
    const key = policyKey(policy);
    for (const rule of state.rulesOf(policy)) {
      const list = exceptions.filter((e) => exceptionCovers(e, key, rule.name));
      if (list.length > 0) byRule.set(rule, list);
    }
  }
  return byRule.size > 0 ? byRule : undefined;
}

/** Mode `fail`: the constructs vouch does not evaluate, per rule using one (undefined when no rule does). */
function unsupportedByRule(state: EngineState): Map<Rule, UnsupportedUse[]> | undefined {
  const unsupported = new Map<Rule, UnsupportedUse[]>();
  for (const policy of state.policies) {
    const wc = policy.spec.webhookConfiguration;
    const specLevel: UnsupportedUse[] =
      Array.isArray(wc?.matchConditions) && wc.matchConditions.length > 0
        ? [{ construct: 'spec.webhookConfiguration.matchConditions', path: ['spec', 'webhookConfiguration', 'matchConditions'] }]
        : [];
    for (const rule of state.rulesOf(policy)) {
      const list = [...specLevel, ...unsupportedInRule(rule)];
      if (list.length > 0) unsupported.set(rule, list);
    }
  }
  return unsupported.size > 0 ? unsupported : undefined;
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
  review: ReviewMemo = newReviewMemo(),
): Co<VerifyImagesResult> {
  return yield* verifyImagesCo(Engine.stateOf(engine), req, review);
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
  review: ReviewMemo = newReviewMemo(),
  written?: VerifyImagesResult['metadata'],
): Co<PolicyResponse[]> {
  return yield* validateCo(Engine.stateOf(engine), req, review, written);
}

/** Runs phase 1, applies its patches, then runs phase 2 on the patched resource. */
export function evaluateResource(engine: KyvernoEngine, req: EngineRequest): Promise<EvaluationResult> {
  return driveAsync(
    (function* (): Co<EvaluationResult> {
      const review = newReviewMemo();
      const verifyImages = yield* verifyAndPatchImagesCo(engine, req, review);
      const validation = yield* validateResourceCo(
        engine,
        { ...req, resource: verifyImages.patchedResource },
        review,
        verifyImages.metadata,
      );
      return { verifyImages, validation };
    })(),
  );
}
