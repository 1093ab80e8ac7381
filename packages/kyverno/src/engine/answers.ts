/**
 * The admission answer memo: a warm CREATE review whose answer can depend only on the request's
 * shape gets the answer an earlier review of the same shape got, instead of running every
 * policy × image again (the replicas of a Deployment, the Jobs of a CronJob, the Pods of a
 * ReplicaSet send such reviews).
 *
 * Sound by construction, or not used:
 * - **Eligible engines only.** Every rule is a plain verifyImages rule: matched by kinds (and
 *   operations) only, no exclude, context, preconditions, exceptions, variables, attestations,
 *   `validate`, image extractors or unsupported constructs, no `trustPolicyFor`. Such a rule reads
 *   of the request only what the key below holds (see {@link answerMemoEligible}).
 * - **The key is everything the evaluation reads:** the request's kind, subresource, namespace, the
 *   object's apiVersion, kind and namespace, whether it has annotations (and the two verify-images
 *   ones), and every image the built-in extraction finds, with its field and parsed reference.
 * - **The verifications it read must still hold.** The memo keeps the decided outcome objects the
 *   review read from the verification cache; a hit requires the cache to hold those very objects
 *   still (unexpired, not replaced). A review that started a verification or read anything not
 *   decided is not remembered.
 * - **Only plain allowed answers** (no warnings, no audit annotations) are kept; every denial and
 *   every answer by failurePolicy is computed in full. The memo belongs to the engine, so a new
 *   policy set (a new engine) starts empty.
 */
import { VERIFY_IMAGES_ANNOTATION, VERIFY_IMAGES_SCOPED_ANNOTATION } from '../resource/metadata.js';
import type { MatchResources, ResourceFilter, Rule } from '../types.js';
import { isObj } from '../util.js';
import { hasVariables } from '../variables/variables.js';
import type { CachedOutcome } from '../verifier/cache.js';
import type { EngineState } from './memo.js';
import type { ReviewMemo } from './review.js';
import type { EngineRequest } from './types.js';

/** An allowed answer kept for a review shape, and the verification outcomes it was decided on (flat: key, outcome, …). */
export interface RememberedAnswer {
  patch: string | undefined;
  reads: readonly unknown[];
}

/** What a review read from the verification cache: the decided outcomes (flat: key, outcome, …), and whether anything was not decided. */
export interface CacheLog {
  reads: unknown[];
  incomplete: boolean;
}

const RULE_KEYS = new Set(['name', 'match', 'exclude', 'verifyImages', 'skipBackgroundRequests', 'reportProperties']);
const FILTER_KEYS = new Set(['resources']);
const DESCRIPTION_KEYS = new Set(['kinds', 'operations']);
const ENTRY_KEYS = new Set([
  'type',
  'failureAction',
  'imageReferences',
  'skipImageReferences',
  'attestors',
  'repository',
  'mutateDigest',
  'verifyDigest',
  'required',
  'useCache',
  'imageRegistryCredentials',
]);

function onlyKeys(o: unknown, allowed: ReadonlySet<string>): boolean {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return false;
  for (const k in o) if (Object.hasOwn(o, k) && (o as Record<string, unknown>)[k] !== undefined && !allowed.has(k)) return false;
  return true;
}

/** A match filter selecting by kinds and operations only. */
function kindsOnlyFilter(f: ResourceFilter | MatchResources): boolean {
  if (!onlyKeys(f, FILTER_KEYS)) return false;
  const rd = (f as ResourceFilter).resources;
  return rd === undefined || onlyKeys(rd, DESCRIPTION_KEYS);
}

function kindsOnlyMatch(m: MatchResources | undefined): boolean {
  if (!m || typeof m !== 'object') return false;
  const { any, all, ...rest } = m as MatchResources & { any?: ResourceFilter[]; all?: ResourceFilter[] };
  if (any !== undefined && !(Array.isArray(any) && any.every(kindsOnlyFilter))) return false;
  if (all !== undefined && !(Array.isArray(all) && all.every(kindsOnlyFilter))) return false;
  return kindsOnlyFilter(rest as MatchResources);
}

/** True for an `exclude` that excludes nothing (absent, or only empty lists and descriptions). */
function emptyExclude(x: MatchResources | undefined): boolean {
  if (x === undefined) return true;
  if (x === null || typeof x !== 'object') return false;
  for (const k in x) {
    const v = (x as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (Array.isArray(v) ? v.length > 0 : !(typeof v === 'object' && v !== null && Object.keys(v).length === 0)) return false;
  }
  return true;
}

/** A rule whose evaluation reads only what {@link answerKey} holds. */
function plainRule(state: EngineState, rule: Rule): boolean {
  if (!onlyKeys(rule, RULE_KEYS) || !kindsOnlyMatch(rule.match) || !emptyExclude(rule.exclude)) return false;
  const list = rule.verifyImages;
  if (!Array.isArray(list) || list.length === 0 || hasVariables(list)) return false;
  return list.every(
    (iv) =>
      onlyKeys(iv, ENTRY_KEYS) && iv.useCache !== false && state.attestorTypes.has(iv.type ?? 'Cosign') && Array.isArray(iv.attestors),
  );
}

/** True when every rule of the engine is a plain verifyImages rule (see the module doc). */
export function answerMemoEligible(state: EngineState): boolean {
  if (state.unsupported || state.exceptions || state.options.trustPolicyFor) return false;
  for (const policy of state.policies) {
    for (const rule of state.rulesOf(policy)) if (!plainRule(state, rule)) return false;
  }
  return true;
}

/**
 * The shape of a CREATE review: everything a plain rule's evaluation reads (see the module doc), or
 * undefined when the images cannot be extracted (the full evaluation reports that).
 */
export function answerKey(state: EngineState, review: ReviewMemo, req: EngineRequest, namespace: string): string | undefined {
  const object = req.resource;
  const meta = object.metadata;
  const ann = meta?.annotations;
  const hasAnn = isObj(ann);
  const parts: unknown[] = [
    meta === undefined ? 0 : isObj(meta) ? 1 : 2,
    req.gvk ? [req.gvk.group, req.gvk.version, req.gvk.kind] : null,
    req.subresource ?? '',
    namespace,
    object.apiVersion ?? null,
    object.kind ?? null,
    meta?.namespace ?? null,
    hasAnn,
    hasAnn && (ann as Record<string, unknown>)[VERIFY_IMAGES_ANNOTATION] !== undefined,
    hasAnn && (ann as Record<string, unknown>)[VERIFY_IMAGES_SCOPED_ANNOTATION] !== undefined,
  ];
  let images: ReturnType<ReviewMemo['builtinImagesOf']>;
  try {
    images = review.builtinImagesOf(state, object);
  } catch {
    return undefined;
  }
  for (const extractor in images) {
    const m = images[extractor]!;
    for (const key in m) {
      const i = m[key]!;
      parts.push(extractor, key, i.jsonPointer ?? null, i.registry, i.path, i.tag, i.digest, i.reference, i.referenceWithTag);
      parts.push(i.imagePullSecrets ? i.imagePullSecrets.join('\n') : null);
    }
  }
  return JSON.stringify(parts);
}

/** Most answers kept, and most characters of their patches (answers to big workloads carry tens of KB). */
const MAX_ANSWERS = 1024;
const MAX_ANSWER_CHARS = 8 * 1024 * 1024;

/** An engine's remembered answers by review shape, the oldest dropped first beyond its bounds. */
export class AnswerMemo {
  readonly #answers = new Map<string, RememberedAnswer>();
  #chars = 0;

  get size(): number {
    return this.#answers.size;
  }

  get(key: string): RememberedAnswer | undefined {
    return this.#answers.get(key);
  }

  set(key: string, answer: RememberedAnswer): void {
    this.delete(key);
    this.#answers.set(key, answer);
    this.#chars += key.length + (answer.patch?.length ?? 0);
    while (this.#answers.size > MAX_ANSWERS || this.#chars > MAX_ANSWER_CHARS) {
      this.delete(this.#answers.keys().next().value as string);
    }
  }

  delete(key: string): void {
    const a = this.#answers.get(key);
    if (!a) return;
    this.#answers.delete(key);
    this.#chars -= key.length + (a.patch?.length ?? 0);
  }
}

/** The remembered answer of a shape, when every verification outcome it was decided on is still the cache's. */
export function rememberedAnswer(state: EngineState, key: string): RememberedAnswer | undefined {
  const a = state.answers.get(key);
  if (!a) return undefined;
  const { reads } = a;
  for (let i = 0; i < reads.length; i += 2) {
    const now = state.cache.peek?.(reads[i] as string, true);
    if (now !== (reads[i + 1] as CachedOutcome)) {
      state.answers.delete(key);
      return undefined;
    }
  }
  return a;
}

/** Keeps an allowed answer for a shape. */
export function rememberAnswer(state: EngineState, key: string, answer: RememberedAnswer): void {
  state.answers.set(key, answer);
}
