/**
 * Phase 1, the mutating webhook's "verify-images": for every verifyImages rule that matches, each
 * selected image is checked against each entry (attestor sets, then attestations and their
 * conditions), its tag pinned to the verified digest (`mutateDigest`), and the outcome recorded for
 * the `kyverno.io/verify-images` annotations that phase 2 and later UPDATEs read.
 */
import { VouchError } from '@vouch/core';
import { policyNamespace } from '../policy/key.js';
import { unsupportedRuleMessage } from '../policy/support.js';
import type { ExtractedImages } from '../resource/images.js';
import { patchShared } from '../resource/jsonpatch.js';
import {
  addImageVerification,
  type ImageVerificationMetadata,
  type ImageVerificationStatus,
  isImageVerifiedForPolicy,
  type JsonPatchOperation,
  newImageVerificationMetadata,
  VERIFY_IMAGES_ANNOTATION,
  VERIFY_IMAGES_SCOPED_ANNOTATION,
} from '../resource/metadata.js';
import type {
  Attestation,
  Attestor,
  AttestorSet,
  ImageVerification,
  KubeObject,
  KyvernoPolicy,
  PolicyException,
  PolicyResponse,
  Rule,
  RuleResponse,
  RuleStatus,
} from '../types.js';
import { errMessage, isObj } from '../util.js';
import { type ConditionBlock, evaluateConditions, substituteVariables } from '../variables/variables.js';
import type { VerificationCache } from '../verifier/cache.js';
import { isInfrastructureError, type NotaryAttestation } from '../verifier/verifier.js';
import { type AttestorType, digestResolver } from './attestors.js';
import {
  baseContext,
  checkPreconditions,
  effectiveResource,
  exceptionSkip,
  loadContext,
  NO_CONTEXT,
  operationOf,
  type RuleInput,
  ruleMatches,
} from './context.js';
import { type Co, Pending, rethrowPending } from './drive.js';
import { policyFailurePolicy } from './failure.js';
import type { EngineState } from './memo.js';
import { causeDetails, type EntryOutcome, ruleResponse } from './responses.js';
import { appendAll, attempt, need, outcomeValue, ReviewCache, type ReviewMemo, type SelectedImage, type Selection } from './review.js';
import type { EngineRequest, UnsupportedUse, VerifyImagesResult } from './types.js';

/** What phase 1 collects over the review's rules. */
interface ImagesPhase {
  /** The review's view of the engine's verification cache. */
  readonly cache: VerificationCache;
  /** Image verification outcomes, flat: policy key, rule, image, status, policy key, … */
  readonly records: string[];
  /** `mutateDigest` patches. */
  readonly imagePatches: JsonPatchOperation[];
  /** `policy <name>.<rule>: <message>` of the responses Kyverno warns about. */
  readonly warnings: string[];
}

/**
 * The verifyImages rule a phase-1 review is running, for one resource: what the rule's steps read, and
 * the responses they give. One object per review, aimed at each rule in turn (a warm review allocates
 * nothing per rule but the rule's responses); the steps only write `responses` and `ctx`.
 */
export class RuleRun implements RuleInput {
  policy!: KyvernoPolicy;
  rule!: Rule;
  /** The request, its resource as the rules before this one patched it. */
  req!: EngineRequest;
  operation = '';
  /** Mode `fail`: the constructs of the rule vouch does not evaluate. */
  unsupported: readonly UnsupportedUse[] | undefined;
  /** The PolicyExceptions that name the rule. */
  exceptions: readonly PolicyException[] | undefined;
  responses: RuleResponse[] = [];
  /** The rule's JSON context ({@link NO_CONTEXT} for a rule that reads none). */
  ctx: Record<string, unknown> = NO_CONTEXT;
  /** The entry being checked. */
  readonly entry = new EntryRun();

  constructor(
    readonly state: EngineState,
    readonly review: ReviewMemo,
    readonly phase: ImagesPhase,
  ) {}

  /** The resource the rule sees. */
  get resource(): KubeObject {
    return this.req.resource;
  }

  /** Aims the run at `rule` of `policy` for `req`, with no responses yet. */
  aim(policy: KyvernoPolicy, rule: Rule, req: EngineRequest): this {
    this.policy = policy;
    this.rule = rule;
    this.req = req;
    this.operation = operationOf(req, policy, rule.name);
    this.unsupported = this.state.unsupported?.get(rule);
    this.exceptions = this.state.exceptions?.get(rule);
    this.responses = [];
    this.ctx = NO_CONTEXT;
    return this;
  }
}

/** The verifyImages entry a rule run is checking (one object per run, aimed at each entry in turn). */
class EntryRun {
  iv!: ImageVerification;
  /** The rule's entries (`validate.deny` reads them all). */
  entries!: readonly ImageVerification[];
  /** How the entry's type verifies signatures (undefined: a type vouch does not evaluate). */
  type: AttestorType | undefined;
  trustPolicy: unknown;
  /** The entry checks signatures or attestations (else it only pins digests). */
  hasChecks = false;
  /** The number of distinct images of the selection. */
  slots = 0;
  /** Attestor set results per image slot: containers running one image share one evaluation (made on first use). */
  setResults: (AttestorSetsResult | undefined)[] | undefined;

  /** Aims the entry at `entries[index]` of the rule `run` is running. */
  aim(run: RuleRun, entries: readonly ImageVerification[], index: number, selection: Selection): void {
    const iv = entries[index]!;
    this.iv = iv;
    this.entries = entries;
    this.type = run.state.attestorTypes.get(iv.type ?? 'Cosign');
    this.trustPolicy = run.state.options.trustPolicyFor?.(run.policy, run.rule.name, index);
    this.hasChecks = (iv.attestors?.length ?? 0) > 0 || (iv.attestations?.length ?? 0) > 0;
    this.slots = selection.distinct;
    this.setResults = undefined;
  }
}

/** The attestor sets of an entry checked on one image. */
interface AttestorSetsResult {
  ok: boolean;
  /** Not ok because of the infrastructure (network, timeout, deadline): status `error`. */
  inconclusive: boolean;
  errors: readonly string[];
  digest?: string;
  causes: readonly unknown[];
}

const NO_STRINGS: readonly string[] = Object.freeze([]);

const SKIP_WARNING = Object.freeze({ emitWarning: true });
const INFRASTRUCTURE = Object.freeze({ infrastructure: true });

/** An entry that does not apply to the image (`imageReferences` / `skipImageReferences`): recorded `skip`. */
const SKIPPED: EntryOutcome = Object.freeze({ status: 'skip', message: '' });

/**
 * Phase 1 for one request: every policy's verifyImages rules in order, each rule seeing the resource
 * as the rules before it patched it; then the annotation patches for the recorded outcomes.
 */
export function* verifyImagesCo(state: EngineState, req: EngineRequest, review: ReviewMemo): Co<VerifyImagesResult> {
  // One verification per (image, attestor material) per review, whatever the outcome, however many
  // containers, rules and policies ask; decided results also go to the engine's cross-review cache.
  const phase: ImagesPhase = {
    cache: new ReviewCache(state.cache, review.cacheLog, req.signal),
    records: [],
    imagePatches: [],
    warnings: [],
  };
  const run = new RuleRun(state, review, phase);
  const resource = effectiveResource(req);
  const responses: PolicyResponse[] = [];
  let current = resource;
  let currentReq = current === req.resource ? req : { ...req, resource: current };
  // indexed loops: a for-of in a generator allocates its iterator and every step's result
  const policies = state.policies;
  for (let pi = 0; pi < policies.length; pi++) {
    const policy = policies[pi]!;
    if (policy.spec.admission === false && req.admissionRequest) continue;
    let rules: RuleResponse[] = [];
    const policyRules = state.rulesOf(policy);
    for (let ri = 0; ri < policyRules.length; ri++) {
      const rule = policyRules[ri]!;
      const notEvaluated = state.unsupported?.get(rule);
      if (!rule.verifyImages || rule.verifyImages.length === 0) {
        // mutate / generate rules vouch cannot evaluate fail where Kyverno would apply them
        if (notEvaluated && (rule.mutate || rule.generate)) {
          const input: RuleInput = { state, review, policy, rule, req: currentReq };
          rules = appendAll(rules, unsupportedRule(input, rule.mutate ? 'Mutation' : 'Generation', notEvaluated));
        }
        continue;
      }
      // a rule whose kinds exclude the request matches nothing: skip it before any work
      if (req.gvk && !state.kindsMayMatch(rule, req.gvk, req.subresource ?? '')) continue;
      run.aim(policy, rule, currentReq);
      const patches0 = phase.imagePatches.length;
      const warnings0 = phase.warnings.length;
      const records0 = phase.records.length;
      let rr = attempt(runVerifyImagesRule, run);
      while (rr instanceof Pending) {
        // undo the attempt's effects, wait for the value, run the rule again
        phase.imagePatches.length = patches0;
        phase.warnings.length = warnings0;
        phase.records.length = records0;
        yield rr.wait;
        rr = attempt(runVerifyImagesRule, run.aim(policy, rule, currentReq));
      }
      if (phase.imagePatches.length > patches0) {
        const ops = phase.imagePatches.slice(patches0);
        // copies only the patched paths: unchanged parts stay shared with the request object
        const next = patchShared(current, ops);
        review.carryImages(state, current, next, ops);
        current = next;
        currentReq = { ...req, resource: current };
      }
      rules = appendAll(rules, rr);
      if (policy.spec.applyRules === 'One' && rr.some((r) => r.status === 'pass' || r.status === 'fail')) break;
    }
    responses.push({ policy, resource, rules });
  }
  const { metadata, patches, patchedResource } = annotate(state, review, { resource, current, phase });
  return { responses, patches, patchedResource, metadata, warnings: phase.warnings };
}

/**
 * The recorded outcomes as the verify-images annotations: the patches (annotation ops, then the
 * digest ops) and the resource with all of them applied (on top of `current`, which has the digest
 * ops; only patched paths are copied, see patchShared).
 */
function annotate(
  state: EngineState,
  review: ReviewMemo,
  { resource, current, phase }: { resource: KubeObject; current: KubeObject; phase: ImagesPhase },
): { metadata: ImageVerificationMetadata; patches: JsonPatchOperation[]; patchedResource: KubeObject } {
  const { records } = phase;
  const metadata = newImageVerificationMetadata();
  for (let i = 0; i < records.length; i += 4) {
    addImageVerification(metadata, records[i]!, records[i + 1]!, records[i + 2]!, records[i + 3] as ImageVerificationStatus);
  }
  const patches: JsonPatchOperation[] = [];
  if (Object.keys(metadata.data ?? {}).length > 0) {
    patches.push(...state.annotationPatches(records, metadata, isObj(resource.metadata?.annotations)));
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
  patches.push(...phase.imagePatches);
  // the two groups touch disjoint paths, so the order they are applied in does not matter
  let patchedResource = current;
  if (annotationOps > 0) {
    const ops = patches.slice(0, annotationOps);
    patchedResource = patchShared(current, ops);
    review.carryImages(state, current, patchedResource, ops);
  }
  return { metadata, patches, patchedResource };
}

/** A matching rule vouch cannot evaluate (mode `fail`): one `fail` response naming the construct. */
function unsupportedRule(input: RuleInput, type: RuleResponse['type'], uses: readonly UnsupportedUse[]): RuleResponse[] {
  const { state, policy, rule, req } = input;
  if (req.gvk && !state.kindsMayMatch(rule, req.gvk, req.subresource ?? '')) return [];
  if (!ruleMatches(input, operationOf(req, policy, rule.name))) return [];
  return [ruleResponse(rule.name, type, 'fail', unsupportedRuleMessage(uses[0]!), { emitWarning: true })];
}

/**
 * One verifyImages rule: when it matches and selects images, its context, preconditions and
 * exceptions decide whether it applies; then every entry checks every selected image. Throws
 * {@link Pending} while a verification or context value is not decided yet.
 */
export function runVerifyImagesRule(run: RuleRun): RuleResponse[] {
  const { state, review, rule } = run;
  if (!ruleMatches(run, run.operation)) return run.responses;
  let images: ExtractedImages;
  try {
    images = review.imagesOf(state, run.resource, rule);
  } catch (e) {
    respond(run, 'error', `failed to extract images: ${errMessage(e)}`);
    return run.responses;
  }
  const selection = review.selectedOf(state, rule, images);
  if (selection.items.length === 0) return run.responses;
  if (!ruleApplies(run, images, selection)) return run.responses;
  let entries: ImageVerification[];
  try {
    entries = state.imageVerificationsOf(rule, run.ctx);
  } catch (e) {
    respond(run, 'error', `failed to substitute variables: ${errMessage(e)}`);
    return run.responses;
  }
  const { entry } = run;
  for (let i = 0; i < entries.length; i++) {
    entry.aim(run, entries, i, selection);
    for (const sel of selection.items) verifyImage(run, entry, sel);
  }
  return run.responses;
}

/**
 * Builds the rule's JSON context, loads its context entries and checks its preconditions and
 * exceptions; false (with the rule's response) when the rule ends there. A rule using a construct
 * vouch does not evaluate (mode `fail`) fails here for every image it selects, where Kyverno would
 * have verified them; no digest is pinned.
 */
function ruleApplies(run: RuleRun, images: ExtractedImages, selection: Selection): boolean {
  const { state, rule, req } = run;
  // The JSON context is built only for rules that read it (most Notary rules do not).
  if (state.needsContext(rule) || req.values) {
    run.ctx = baseContext(req, run.operation);
    run.ctx.images = images;
  }
  if (rule.context?.length || req.values) {
    try {
      loadContext(run, run.ctx);
    } catch (e) {
      rethrowPending(e);
      respond(run, 'error', `failed to load context: ${errMessage(e)}`, isInfrastructureError(e) ? INFRASTRUCTURE : undefined);
      return false;
    }
  }
  if (rule.preconditions) {
    const pre = checkPreconditions(state, rule, run.ctx);
    if (pre) {
      respond(run, pre.status, pre.message);
      return false;
    }
  }
  if (run.exceptions) {
    const skip = exceptionSkip(state, run.exceptions, req, run.operation, run.ctx);
    if (skip) {
      respond(run, 'skip', skip);
      return false;
    }
  }
  if (run.unsupported) {
    respond(run, 'fail', unsupportedRuleMessage(run.unsupported[0]!));
    const key = state.scopedKey(run.policy);
    for (const sel of selection.items) run.phase.records.push(key, rule.name, sel.ref, 'fail');
    return false;
  }
  return true;
}

/** One entry on one image: the UPDATE shortcut, the checks, mutateDigest, the response, the record. */
function verifyImage(run: RuleRun, entry: EntryRun, sel: SelectedImage): void {
  if (verifiedBefore(run, entry, sel)) return;
  const outcome = checkImage(run, entry, sel);
  const image = pinDigest(run, entry, sel, outcome);
  // Kyverno appends a "failed to update digest" error before the verification response, so the
  // verification message is the one the blocked message (keyed by rule name) shows.
  if (outcome && outcome !== SKIPPED) {
    // a passing signature check: one frozen response per rule name and image, shared by the containers (and policies) it holds for
    if (outcome.response) run.responses.push(outcome.response);
    else respond(run, outcome.status, outcome.message, outcome, sel.ref);
  }
  if (entry.hasChecks) record(run, outcome, image);
}

/** The UPDATE shortcut: an unchanged image the old object's annotation records as verified for this policy and rule is not checked again. */
function verifiedBefore(run: RuleRun, entry: EntryRun, sel: SelectedImage): boolean {
  const { req, policy, rule } = run;
  if (run.operation !== 'UPDATE' || !req.oldResource || !entry.hasChecks) return false;
  const pointer = sel.info.jsonPointer;
  const before = valueAt(req.oldResource, pointer);
  if (before === undefined || before !== valueAt(run.resource, pointer)) return false;
  let prev: string | undefined;
  try {
    prev = isImageVerifiedForPolicy(
      req.oldResource.metadata?.annotations,
      policyNamespace(policy),
      policy.metadata.name,
      rule.name,
      sel.ref,
    );
  } catch {
    prev = undefined;
  }
  if (prev !== 'pass' && prev !== 'skip') return false;
  run.phase.records.push(run.state.scopedKey(policy), rule.name, sel.ref, 'pass');
  return true;
}

/** The value at a JSON pointer of an object (undefined when the path does not exist). */
function valueAt(obj: KubeObject | undefined, pointer: string | undefined): unknown {
  if (!obj || !pointer) return undefined;
  let cur: unknown = obj;
  for (const p of pointer.split('/').slice(1)) {
    const k = p.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(k)];
    else if (isObj(cur)) cur = cur[k];
    else return undefined;
  }
  return cur;
}

/**
 * The entry's signature and attestation checks on one image: {@link SKIPPED} (its response given) when
 * the entry does not apply to the image, the outcome of the checks, or undefined for an entry without
 * checks (it only pins digests).
 */
function checkImage(run: RuleRun, entry: EntryRun, sel: SelectedImage): EntryOutcome | undefined {
  if (!entry.hasChecks) return undefined;
  const { state, policy, rule } = run;
  const { iv, type } = entry;
  const img = sel.ref;
  const attestations = (iv.attestations?.length ?? 0) > 0;
  // the context is read only by attestation conditions and verifyImages.validate
  if (attestations) run.ctx.image = { ...sel.info };
  if (!state.matchRefs(iv.imageReferences, img)) {
    respond(run, 'skip', `skipping image reference image ${img}, policy ${policy.metadata.name} ruleName ${rule.name}`, undefined, img);
    return SKIPPED;
  }
  if (state.matchRefs(iv.skipImageReferences, img)) {
    respond(run, 'skip', `skipping image reference image ${img}, policy ${policy.metadata.name} ruleName ${rule.name}`, SKIP_WARNING, img);
    return SKIPPED;
  }
  if (!type) {
    const evaluated = [...state.attestorTypes.keys()].join(', ');
    return {
      status: 'error',
      message: `failed to verify image ${img}: verifyImages type ${iv.type ?? 'Cosign'} is not supported by vouch (only type ${evaluated})`,
    };
  }
  let digest: string | undefined;
  if (iv.attestors && iv.attestors.length > 0) {
    const r = attestorSetsOf(run, entry, sel);
    if (!r.ok) {
      return {
        status: r.inconclusive ? 'error' : 'fail',
        message: `failed to verify image ${img}: ${r.errors.join('; ')}`,
        details: causeDetails(r.causes),
        ...(r.inconclusive ? { infrastructure: true } : {}),
      };
    }
    digest = r.digest;
    if (!attestations) return run.review.passFor(rule.name, img, digest);
  }
  const info = sel.info;
  const ref = digest && info.digest === '' ? `${info.registry ? `${info.registry}/` : ''}${info.path}@${digest}` : img;
  let outcome = verifyAttestations(run, entry, ref);
  if (outcome.status === 'pass') outcome = validateDeny(run, entry.entries) ?? outcome;
  // mutateDigest pins the digest the attestors verified, whatever the attestations decided
  outcome.digest = digest;
  return outcome;
}

/**
 * mutateDigest: replaces the image's tag reference with `<ref>@<digest>` (the digest the attestors
 * verified, else resolved) and answers the image as recorded. It runs whatever the verification
 * result (a failed image is denied under Enforce), except (vouch GAP) after an `error`: failurePolicy
 * Ignore may then admit the object, and it must not carry a pinned digest, the sign of a verified
 * image (Kyverno pins it).
 */
function pinDigest(run: RuleRun, entry: EntryRun, sel: SelectedImage, outcome: EntryOutcome | undefined): string {
  const { info, ref: img } = sel;
  if (!entry.iv.mutateDigest || info.digest !== '' || outcome?.status === 'error') return img;
  let d = outcome?.digest;
  if (!d) {
    try {
      d = resolveDigest(run, img);
    } catch (e) {
      rethrowPending(e);
      respond(run, 'error', `failed to update digest: ${errMessage(e)}`, isInfrastructureError(e) ? INFRASTRUCTURE : undefined, img);
    }
  }
  if (!d) return img;
  run.phase.imagePatches.push({ op: 'replace', path: info.jsonPointer ?? '', value: `${info.referenceWithTag}@${d}` });
  if (!entry.hasChecks && run.responses.length === 0) respond(run, 'pass', 'mutated image digest', undefined, img);
  return `${info.registry ? `${info.registry}/` : ''}${info.path}@${d}`;
}

/** The manifest digest of a tag reference (resolved once per review). */
function resolveDigest(run: RuleRun, img: string): string {
  const resolve = digestResolver(run.state.options);
  return need(run.phase.cache, `digest|${img}`, () => resolve(img, run.req.signal), { useCache: false });
}

/**
 * Records the image's outcome for the annotations (`image` as pinned). vouch GAP: a verification the
 * infrastructure left undecided (network, timeout) under failurePolicy Ignore is recorded as `skip`,
 * so the `required` check does not turn "could not decide" back into a denial (Kyverno records
 * `fail`). Any other error is recorded `fail`.
 */
function record(run: RuleRun, outcome: EntryOutcome | undefined, image: string): void {
  const { records } = run.phase;
  const key = run.state.scopedKey(run.policy);
  const rule = run.rule.name;
  const ignoreError = outcome?.status === 'error' && outcome.infrastructure === true && policyFailurePolicy(run.policy) === 'Ignore';
  const st = outcome === SKIPPED || ignoreError ? 'skip' : outcome?.status === 'pass' ? 'pass' : 'fail';
  // consecutive identical records (containers running one image) are recorded once
  const n = records.length;
  if (n >= 4 && records[n - 1] === st && records[n - 2] === image && records[n - 3] === rule && records[n - 4] === key) return;
  records.push(key, rule, image, st);
}

/** Adds a response of the rule (about `image`, when given); the failing ones (and those asking for it) also become warnings. */
function respond(
  run: RuleRun,
  status: RuleStatus,
  message: string,
  extra?: { emitWarning?: boolean; details?: Record<string, unknown>; infrastructure?: boolean },
  image?: string,
): void {
  const r = ruleResponse(run.rule.name, 'ImageVerify', status, message, extra);
  if (image !== undefined) r.image = image;
  if (status === 'fail' || status === 'error' || status === 'warning' || extra?.emitWarning) {
    r.emitWarning = true;
    run.phase.warnings.push(`policy ${run.policy.metadata.name}.${run.rule.name}: ${message}`);
  }
  run.responses.push(r);
}

/** The entry's attestor sets on the image's slot, checked once for every container running the image. */
function attestorSetsOf(run: RuleRun, entry: EntryRun, sel: SelectedImage): AttestorSetsResult {
  let r = entry.setResults?.[sel.slot];
  if (!r) {
    r = verifyAttestorSets(run, entry, sel.ref, entry.iv.attestors!, '');
    (entry.setResults ??= new Array(entry.slots))[sel.slot] = r;
  }
  return r;
}

/**
 * Kyverno's attestor sets: every set must verify `count` of its entries (all when unset); an entry is
 * a signature check with its material, or a nested attestor set. The verified digest is the last one.
 */
function verifyAttestorSets(
  run: RuleRun,
  entry: EntryRun,
  image: string,
  sets: readonly AttestorSet[],
  prefix: string,
): AttestorSetsResult {
  const { state } = run;
  const type = entry.type!;
  const cache = run.phase.cache;
  const useCache = entry.iv.useCache !== false;
  let digest: string | undefined;
  for (let si = 0; si < sets.length; si++) {
    const set = sets[si]!;
    // Cosign: a `publicKeys` holding several keys counts as one entry per key (Kyverno's ExpandStaticKeys)
    const attestors = state.entriesOf(type, set);
    // an empty set verifies nothing: never a pass (policy validation refuses it; SDK-built policies may not be validated)
    if (attestors.length === 0)
      return { ok: false, inconclusive: false, errors: [`${prefix}.attestors[${si}]: no entries`], causes: NO_STRINGS };
    const required = set.count && set.count > 0 ? set.count : attestors.length;
    let verified = 0;
    let errors: string[] | undefined;
    let causes: unknown[] | undefined;
    // entries an infrastructure error left undecided: the set is inconclusive only if they could still make up the count
    let undecided = 0;
    for (let ei = 0; ei < attestors.length && verified < required; ei++) {
      const attestor = attestors[ei]!;
      try {
        if (attestor.attestor) {
          const r = verifyAttestorSets(run, entry, image, [attestor.attestor], `${prefix}.attestors[${si}].entries[${ei}].attestor`);
          if (!r.ok) {
            if (r.inconclusive) undecided++;
            (errors ??= []).push(...r.errors);
            (causes ??= []).push(...r.causes);
            continue;
          }
          digest = r.digest ?? digest;
          verified++;
          continue;
        }
        const res = signatureOf(run, entry, attestor, image);
        digest = res.digest;
        // a tag verified: its digest form verifies too
        if (useCache) {
          const byDigest = state.signatureKeyByDigest(type, attestor, entry.iv, image, entry.trustPolicy, res.digest);
          if (byDigest) cache.prime(byDigest, res);
        }
        verified++;
      } catch (e) {
        rethrowPending(e);
        if (isInfrastructureError(e)) undecided++;
        (errors ??= []).push(`${prefix}.attestors[${si}].entries[${ei}]${type.entryPath(attestor)}: ${errMessage(e)}`);
        (causes ??= []).push(e);
      }
    }
    if (verified < required) {
      // a decided failure stays a failure: failurePolicy Ignore must not admit what can no longer verify
      const inconclusive = verified + undecided >= required;
      return { ok: false, inconclusive, errors: errors ?? NO_STRINGS, causes: causes ?? NO_STRINGS };
    }
  }
  return { ok: true, inconclusive: false, errors: NO_STRINGS, digest, causes: NO_STRINGS };
}

/** The attestor's signature check on the image: the decided outcome (value, or its error thrown), or {@link Pending}. */
function signatureOf(run: RuleRun, entry: EntryRun, attestor: Attestor, image: string): { digest: string } {
  const type = entry.type!;
  if (!type.verifier) throw type.noVerifier();
  const key = run.state.signatureKey(type, attestor, entry.iv, image, entry.trustPolicy);
  // a decided outcome is read without building the call (the warm path allocates nothing here)
  const hit = run.phase.cache.peek?.(key, entry.iv.useCache !== false);
  return hit ? outcomeValue<{ digest: string }>(hit) : startSignature(run, entry, attestor, image, key);
}

/** Starts the signature check (once per review): throws {@link Pending} until it is decided. */
function startSignature(run: RuleRun, entry: EntryRun, attestor: Attestor, image: string, key: string): { digest: string } {
  const { state } = run;
  const type = entry.type!;
  const verifier = type.verifier!;
  const { trustPolicy } = entry;
  const signal = run.req.signal;
  const verify = () => verifier.verifyImage({ image, attestor: state.materialOf(type, attestor, entry.iv), trustPolicy, signal });
  return need(run.phase.cache, key, verify, { useCache: entry.iv.useCache !== false });
}

/**
 * The entry's `attestations`: for each, every attestor set must verify `count` of its entries, an
 * entry verifying when the image has signed attestations of the type and every one of them meets the
 * conditions. The first attestation's predicate is set in the context under the attestation's `name`.
 */
function verifyAttestations(run: RuleRun, entry: EntryRun, image: string): EntryOutcome {
  const { state, ctx } = run;
  const type = entry.type!;
  const verifier = type.verifier;
  const attestations = entry.iv.attestations ?? [];
  for (let ai = 0; ai < attestations.length; ai++) {
    const at: Attestation = attestations[ai]!;
    const predicateType = at.type ?? at.predicateType ?? '';
    if (predicateType === '') return { status: 'fail', message: `.attestations[${ai}]: missing type` };
    const sets = at.attestors && at.attestors.length > 0 ? at.attestors : [{ entries: [{}] }];
    for (let si = 0; si < sets.length; si++) {
      const set = sets[si]!;
      const attestors = set.entries ?? [];
      if (attestors.length === 0) return { status: 'fail', message: `.attestations[${ai}].attestors[${si}]: no entries` };
      const required = set.count && set.count > 0 ? set.count : attestors.length;
      let verified = 0;
      const errors: string[] = [];
      const causes: unknown[] = [];
      let undecided = 0;
      for (let ei = 0; ei < attestors.length && verified < required; ei++) {
        // the entry index printed is the attestation's, as Kyverno prints it (upstream bug, kept for identical messages)
        const path = `.attestations[${ai}].attestors[${si}].entries[${ai}]${type.entryPath(attestors[ei]!)}`;
        try {
          if (!verifier) throw type.noVerifier();
          if (!verifier.verifyAttestations) throw type.noAttestations();
          const material = state.materialOf(type, attestors[ei]!, entry.iv);
          const key = `att|${image}|${predicateType}|${state.materialKeyOf(type, material, entry.trustPolicy)}`;
          const { trustPolicy } = entry;
          const signal = run.req.signal;
          const res = need(
            run.phase.cache,
            key,
            () => verifier.verifyAttestations!({ image, type: predicateType, attestor: material, trustPolicy, signal }),
            { useCache: entry.iv.useCache !== false },
          );
          const list: NotaryAttestation[] = res.attestations.filter((a) => a.type === predicateType);
          if (list.length === 0) throw type.noAttestationOfType(image, predicateType);
          if (at.name) ctx[at.name] = list[0]!.predicate;
          // vouch checks EVERY matching attestation (Kyverno only the first one).
          for (const a of list) checkAttestation(state, at, a, { ctx, image, predicateType });
          verified++;
        } catch (e) {
          rethrowPending(e);
          if (isInfrastructureError(e)) undecided++;
          errors.push(`${path}: ${errMessage(e)}`);
          causes.push(e);
        }
      }
      if (verified < required) {
        const inconclusive = verified + undecided >= required;
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

/** An attestation's conditions, evaluated over the context, its predicate and `statement`; throws when one does not hold. */
function checkAttestation(
  state: EngineState,
  at: Attestation,
  a: NotaryAttestation,
  where: { ctx: Record<string, unknown>; image: string; predicateType: string },
): void {
  const predicate = isObj(a.predicate) ? a.predicate : {};
  const statement = a.statement ?? { ...(a.manifest ?? {}), type: a.type, predicate: a.predicate };
  const condCtx = { ...where.ctx, ...predicate, statement };
  const msgs: string[] = [];
  let ok = true;
  for (const block of at.conditions ?? []) {
    const r = evaluateConditions(block as ConditionBlock, condCtx, state.jmes);
    if (!r.passed) {
      ok = false;
      msgs.push(...r.messages);
    }
  }
  if (!ok) {
    throw new VouchError(
      'ERR_VERIFICATION_FAILED',
      `attestation checks failed for ${where.image} and predicate ${where.predicateType}: ${msgs.join('; ')}`,
    );
  }
}

/**
 * `verifyImages[].validate.deny` (after the attestations passed): `fail` when any entry's deny
 * conditions hold, with its message; `error` when they cannot be evaluated (never a pass).
 */
function validateDeny(run: RuleRun, entries: readonly ImageVerification[]): EntryOutcome | undefined {
  const { state, rule, ctx } = run;
  if (!entries.some((iv) => iv.validate && Object.keys(iv.validate).length > 0)) return undefined;
  const messages: string[] = [];
  let denied = false;
  try {
    for (const iv of entries) {
      const v = iv.validate;
      if (!v) continue;
      const r = evaluateConditions(v.deny?.conditions, ctx, state.jmes);
      if (r.passed) {
        denied = true;
        if (v.message) messages.push(String(substituteVariables(v.message, ctx, state.jmes, { nullOnMissing: true }) ?? ''));
        messages.push(...r.messages);
      }
    }
  } catch (e) {
    return { status: 'error', message: `failed to evaluate verifyImages validate.deny conditions: ${errMessage(e)}` };
  }
  if (denied) {
    const msg = messages.filter((m) => m !== '').join('; ');
    return { status: 'fail', message: `validation in verifyImages failed: ${msg || 'validation error: imageVerify  failed'}` };
  }
  return { status: 'pass', message: `verifyImages validation is passed in ${rule.name} rule` };
}
