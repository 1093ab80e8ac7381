/**
 * What one review computes once and reuses across its rules and both phases, and how a review waits.
 *
 * The memo holds the built-in image extraction per resource object (the request's and each patched
 * copy), the image selection per extraction and reference patterns, the match input, the passing
 * outcomes, and the context loaders' answers. It is dropped with the review: no weak maps in the
 * long-lived engine, since entries keyed by short-lived objects make every young-generation
 * collection slower. Lists of a handful of entries are flat arrays searched with indexed loops.
 *
 * A rule is a synchronous step (see drive.ts): it reads decided values through the review's caches
 * and throws {@link Pending} when one is not decided yet; the phase's coroutine then undoes the
 * step's effects, waits and runs it again ({@link attempt}).
 */
import type { MatchInput } from '../match/match.js';
import { wildcardMatch } from '../match/wildcard.js';
import { type ExtractedImages, extractImages, type ImageInfo, imageInfoString, withPointer } from '../resource/images.js';
import type { JsonPatchOperation } from '../resource/metadata.js';
import type { KubeObject, Rule } from '../types.js';
import type { CachedOutcome, VerificationCache } from '../verifier/cache.js';
import type { CacheLog } from './answers.js';
import { isThenable, Pending } from './drive.js';
import type { EngineState } from './memo.js';
import { type EntryOutcome, ruleResponse } from './responses.js';
import type { EngineRequest } from './types.js';

/** One image a rule selected. */
export interface SelectedImage {
  info: ImageInfo;
  extractor: string;
  key: string;
  /** imageInfoString(info) */
  ref: string;
  /** Index of `ref` among the distinct refs of the selection (containers running one image share it). */
  slot: number;
}

/** Selected images and how many distinct references they hold. */
export interface Selection {
  items: SelectedImage[];
  distinct: number;
}

const NO_SELECTION: Selection = { items: [], distinct: 0 };

/** The per-review memo (see the module doc). */
export class ReviewMemo {
  /** Flat pairs: resource object, its built-in extraction, … (a review has one to three). */
  readonly #images: unknown[] = [];
  /** Flat triples: extraction, selection key, selection, … */
  readonly #selected: unknown[] = [];
  /** The last match input built and the request it was built for. */
  #matchInput?: MatchInput;
  #matchReq?: EngineRequest;
  /** Passing outcome (with its frozen response) per rule name and image (identical for every policy). */
  #passes?: Map<string, Map<string, EntryOutcome>>;
  /** Context loader results by request (decided, or the promise while pending); made on first use. */
  #loaded?: Map<string, CachedOutcome | Promise<unknown>>;

  /** Set for a review the answer memo may keep (see answers.ts): what it read from the verification cache. */
  cacheLog?: CacheLog;

  /** Images of `resource` for `rule` (built-in extractors memoized per resource object for the review). */
  imagesOf(state: EngineState, resource: KubeObject, rule: Rule): ExtractedImages {
    if (rule.imageExtractors) {
      const search = (e: string, v: unknown) => state.jmes.search(e, v);
      return extractImages(resource, rule.imageExtractors, state.options.imageConfig, search, state.imageInfos);
    }
    return this.builtinImagesOf(state, resource);
  }

  /** The built-in extraction of `resource`, memoized per resource object for the review. */
  builtinImagesOf(state: EngineState, resource: KubeObject): ExtractedImages {
    const m = this.#images;
    for (let i = 0; i < m.length; i += 2) if (m[i] === resource) return m[i + 1] as ExtractedImages;
    const v = extractImages(resource, undefined, state.options.imageConfig, (e, x) => state.jmes.search(e, x), state.imageInfos);
    m.push(resource, v);
    return v;
  }

  /**
   * After `patched = applyJsonPatch(original, ops)`: when the built-in extraction of `original` is known and
   * every op either replaces an extracted image field with a string or touches `/metadata/annotations`
   * (never on a built-in extraction path), derives the extraction of `patched` from it instead of walking
   * the resource again. Otherwise leaves `patched` to be extracted on demand.
   */
  carryImages(state: EngineState, original: KubeObject, patched: KubeObject, ops: readonly JsonPatchOperation[]): void {
    const images = this.#images;
    let before: ExtractedImages | undefined;
    for (let i = 0; i < images.length; i += 2) if (images[i] === original) before = images[i + 1] as ExtractedImages;
    if (!before || original.kind !== patched.kind) return;
    const replaced = new Map<string, string>();
    for (const op of ops) {
      if (op.path === '/metadata/annotations' || op.path.startsWith('/metadata/annotations/')) continue;
      if (op.op !== 'replace' || typeof op.value !== 'string' || op.value.trim() === '') return;
      replaced.set(op.path, op.value);
    }
    if (replaced.size === 0) {
      // only annotations changed: the same extraction (and its memoized selections) holds
      images.push(patched, before);
      return;
    }
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
          dst[key] = withPointer(state.imageInfo(value), info.jsonPointer, info.imagePullSecrets?.slice());
        }
        after[name] = dst;
      }
    } catch {
      return; // an unparsable patched image: let the extraction report it
    }
    // every replaced path must be an extracted image field (else the patch changed something else)
    if (found !== replaced.size) return;
    images.push(patched, after);
  }

  /** The images of `images` the rule's reference patterns select, memoized per extraction and patterns. The result must not be mutated. */
  selectedOf(state: EngineState, rule: Rule, images: ExtractedImages): Selection {
    const m = this.#selected;
    const key = state.selectionKey(rule);
    for (let i = 0; i < m.length; i += 3) if (m[i] === images && m[i + 1] === key) return m[i + 2] as Selection;
    const v = selectImages(state, rule, images);
    m.push(images, key, v);
    return v;
  }

  /** The match input for `req`: the same object serves every rule of the review that asks with the same request and operation. */
  matchInput(req: EngineRequest, resource: KubeObject, operation: string, policyNamespace: string): MatchInput {
    let input = this.#matchInput;
    if (
      !input ||
      input.resource !== resource ||
      input.operation !== operation ||
      input.policyNamespace !== policyNamespace ||
      this.#matchReq !== req
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
      this.#matchInput = input;
      this.#matchReq = req;
    }
    return input;
  }

  /** The passing signature outcome of `img` under a rule named `ruleName`, with its frozen response, once per review. */
  passFor(ruleName: string, img: string, digest: string | undefined): EntryOutcome {
    const byRule = (this.#passes ??= new Map());
    let byImg = byRule.get(ruleName);
    if (!byImg) byRule.set(ruleName, (byImg = new Map()));
    let v = byImg.get(img);
    if (!v || v.digest !== digest) {
      const message = `verified image signatures for ${img}`;
      const response = Object.freeze(ruleResponse(ruleName, 'ImageVerify', 'pass', message, { image: img }));
      v = Object.freeze({ status: 'pass', message, digest, response }) as EntryOutcome;
      byImg.set(img, v);
    }
    return v;
  }

  /**
   * A context loader's answer for this review: called once per distinct request, synchronous loaders
   * answer at once; an asynchronous answer throws {@link Pending} until it is decided.
   */
  loaded(key: string, call: () => unknown): unknown {
    const m = (this.#loaded ??= new Map());
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
}

/** A fresh {@link ReviewMemo}. */
export function newReviewMemo(): ReviewMemo {
  return new ReviewMemo();
}

/** The images a rule's verifyImages entries select: one per (pointer, reference), each with the slot of its reference. */
function selectImages(state: EngineState, rule: Rule, images: ExtractedImages): Selection {
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
        if (iv.imageReferences ? state.matchRefs(iv.imageReferences, s) : typeof iv.image === 'string' && wildcardMatch(iv.image, s)) {
          ok = true;
          break;
        }
      }
      if (!ok) continue;
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

/**
 * A per-review view of `base`: every key runs at most once per review (errors included), and outcomes
 * decided in (or read by) this review stay fixed for it, even if `base` expires them meanwhile. A
 * class with maps made on first use: a warm review asks it a handful of times.
 */
export class ReviewCache implements VerificationCache {
  private decided: Map<string, CachedOutcome> | undefined;
  private pending: Map<string, Promise<unknown>> | undefined;
  /**
   * `log`: records the decided outcomes read from `base`, and anything not decided (see answers.ts).
   * `signal`: the review's deadline, passed to `base.run` (the webhook stops the review's wait with it).
   */
  constructor(
    private readonly base: VerificationCache,
    private readonly log?: CacheLog,
    private readonly signal?: AbortSignal,
  ) {}
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
    if (this.log) {
      if (hit) this.log.reads.push(key, hit);
      else this.log.incomplete = true;
    }
    return hit;
  }
  run<T>(key: string, fn: () => Promise<T>, options?: { useCache?: boolean }): Promise<T> {
    if (this.log) this.log.incomplete = true;
    const d = this.decided?.get(key);
    if (d) return d.ok ? Promise.resolve(d.value as T) : Promise.reject(d.value);
    const pending = (this.pending ??= new Map());
    let p = pending.get(key) as Promise<T> | undefined;
    if (!p) {
      p = this.base.run(key, fn, this.signal ? { ...options, signal: this.signal } : options);
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
 * `cache.run(key, fn, options)` for a synchronous step: the decided outcome (value or thrown error), or
 * {@link Pending} on the run (started once per review) when nothing is decided yet.
 */
export function need<T>(cache: VerificationCache, key: string, fn: () => Promise<T>, options: { useCache?: boolean }): T {
  const hit = cache.peek?.(key, options.useCache !== false);
  if (hit) return outcomeValue<T>(hit);
  throw new Pending(cache.run(key, fn, options));
}

/** The value of a decided outcome, or its error thrown. */
export function outcomeValue<T>(hit: CachedOutcome): T {
  if (hit.ok) return hit.value as T;
  throw hit.value;
}

/** Runs the synchronous step `step(arg)`: its result, or the {@link Pending} it threw (to wait for and run it again). */
export function attempt<A, T>(step: (arg: A) => T, arg: A): T | Pending {
  try {
    return step(arg);
  } catch (e) {
    if (e instanceof Pending) return e;
    throw e;
  }
}

/** `list` with `more` appended (`more` itself when `list` is empty: the rule's array becomes the policy's). */
export function appendAll<T>(list: T[], more: T[]): T[] {
  if (list.length === 0) return more;
  for (let i = 0; i < more.length; i++) list.push(more[i]!);
  return list;
}
