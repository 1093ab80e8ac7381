/**
 * Phase 2, the validating webhook: on the (patched) resource, the verify-image checks of verifyImages
 * rules (`verifyDigest`, `required`, read from the outcomes phase 1 recorded) and `validate` rules
 * (pattern, anyPattern, deny).
 */
import { matchPattern } from '../match/pattern.js';
import { unsupportedRuleMessage } from '../policy/support.js';
import { type ExtractedImages, extractImages } from '../resource/images.js';
import { type ImageVerificationMetadata, VERIFY_IMAGES_SCOPED_ANNOTATION } from '../resource/metadata.js';
import type { KubeObject, KyvernoPolicy, PolicyException, PolicyResponse, Rule, RuleResponse, RuleStatus } from '../types.js';
import { errMessage } from '../util.js';
import { type ConditionBlock, evaluateConditions, substituteVariables } from '../variables/variables.js';
import {
  baseContext,
  contextAndPreconditions,
  effectiveResource,
  exceptionSkip,
  operationOf,
  type RuleInput,
  ruleMatches,
} from './context.js';
import { type Co, Pending } from './drive.js';
import { policyFailurePolicy } from './failure.js';
import type { EngineState } from './memo.js';
import { ruleResponse } from './responses.js';
import { appendAll, attempt, type ReviewMemo } from './review.js';
import type { EngineRequest, UnsupportedUse } from './types.js';

/** Reads image statuses recorded for the resource, for a policy and rule (`fail` when none is). */
type ScopedStatus = (policy: KyvernoPolicy, rule: string, img: string) => string;

/**
 * The rule a phase-2 review is running, for one resource. One object per review, aimed at each rule
 * in turn (a warm review allocates nothing per rule but the rule's responses).
 */
class ValidationRun implements RuleInput {
  policy!: KyvernoPolicy;
  rule!: Rule;
  operation = '';
  /** The PolicyExceptions that name the rule. */
  exceptions: readonly PolicyException[] | undefined;
  /** Mode `fail`: the constructs of the rule vouch does not evaluate. */
  unsupported: readonly UnsupportedUse[] | undefined;

  constructor(
    readonly state: EngineState,
    readonly review: ReviewMemo,
    readonly req: EngineRequest,
    /** The resource the request is about (the old object for a DELETE). */
    readonly resource: KubeObject,
    /** The image statuses phase 1 recorded. */
    readonly status: ScopedStatus,
  ) {}

  /** Aims the run at `rule` of `policy`. */
  aim(policy: KyvernoPolicy, rule: Rule, operation: string): this {
    this.policy = policy;
    this.rule = rule;
    this.operation = operation;
    this.exceptions = this.state.exceptions?.get(rule);
    this.unsupported = this.state.unsupported?.get(rule);
    return this;
  }
}

/**
 * Phase 2 for one request. `written`: the outcomes phase 1 of the same review recorded; the
 * `required` check then reads them instead of the resource's annotation (which the request could
 * have brought along).
 */
export function* validateCo(
  state: EngineState,
  req: EngineRequest,
  review: ReviewMemo,
  written?: ImageVerificationMetadata,
): Co<PolicyResponse[]> {
  const resource = effectiveResource(req);
  const run = new ValidationRun(state, review, req, resource, scopedStatusReader(state, resource, written));
  const out: PolicyResponse[] = [];
  // indexed loops: a for-of in a generator allocates its iterator and every step's result
  const policies = state.policies;
  for (let pi = 0; pi < policies.length; pi++) {
    const policy = policies[pi]!;
    if (policy.spec.admission === false && req.admissionRequest) continue;
    let rules: RuleResponse[] = [];
    const policyRules = state.rulesOf(policy);
    for (let ri = 0; ri < policyRules.length; ri++) {
      const rule = policyRules[ri]!;
      const images = (rule.verifyImages?.length ?? 0) > 0;
      if (images || rule.validate) {
        if (req.gvk && !state.kindsMayMatch(rule, req.gvk, req.subresource ?? '')) continue;
        const operation = operationOf(req, policy, rule.name);
        if (images && operation === 'DELETE') continue;
        run.aim(policy, rule, operation);
        if (!ruleMatches(run, operation)) continue;
        const step = images ? imageCheckRule : validateRule;
        let rr = attempt(step, run);
        while (rr instanceof Pending) {
          yield rr.wait;
          rr = attempt(step, run);
        }
        rules = appendAll(rules, rr);
      }
      if (policy.spec.applyRules === 'One' && rules.some((r) => r.status === 'pass' || r.status === 'fail')) break;
    }
    out.push({ policy, resource, rules });
  }
  return out;
}

/** The image statuses phase 1 recorded for `resource`: `written` in this review, else the scoped annotation (parsed once). */
function scopedStatusReader(state: EngineState, resource: KubeObject, written?: ImageVerificationMetadata): ScopedStatus {
  if (written) {
    // phase 2 of the same review: the outcomes phase 1 recorded, never an annotation the request brought along
    const byPolicy = written.policies ?? {};
    let last: KyvernoPolicy | undefined;
    let rules: Record<string, Record<string, string>> | undefined;
    return (policy, rule, img) => {
      if (policy !== last) {
        last = policy;
        rules = byPolicy[state.scopedKey(policy)];
      }
      return rules?.[rule]?.[img] ?? 'fail';
    };
  }
  const raw = resource.metadata?.annotations?.[VERIFY_IMAGES_SCOPED_ANNOTATION];
  let parsed: ImageVerificationMetadata | undefined;
  let error: unknown;
  return (policy, rule, img) => {
    if (raw === undefined) return 'fail';
    if (!parsed && error === undefined) {
      try {
        parsed = state.scopedAnnotation(raw);
      } catch (e) {
        error = e;
      }
    }
    if (error !== undefined) throw error;
    return parsed!.policies?.[state.scopedKey(policy)]?.[rule]?.[img] ?? 'fail';
  };
}

/** The image's recorded status for this policy and rule (undefined when unreadable). */
function recordedStatus(status: ScopedStatus, policy: KyvernoPolicy, rule: Rule, img: string): string | undefined {
  try {
    return status(policy, rule.name, img);
  } catch {
    return undefined;
  }
}

/** A verifyImages rule's checks on the resource: every selected image has a digest (`verifyDigest`) and was verified (`required`). */
function imageCheckRule(run: ValidationRun): RuleResponse[] {
  const { state, review, policy, rule, req, resource, operation, exceptions, status } = run;
  const entries = rule.verifyImages ?? [];
  if (!entries.some((iv) => iv.verifyDigest || iv.required)) return [];
  let images: ExtractedImages;
  try {
    images = review.imagesOf(state, resource, rule);
  } catch (e) {
    return [ruleResponse(rule.name, 'Validation', 'error', `failed to extract images: ${errMessage(e)}`)];
  }
  const selected = review.selectedOf(state, rule, images).items;
  if (selected.length === 0) return [];
  // Kyverno loads the rule context and checks the preconditions before any handler, this one included:
  // a rule whose preconditions do not hold is `skip` here too, not "unverified image".
  if (rule.context?.length || rule.preconditions || exceptions) {
    const ctx = baseContext({ ...req, resource }, operation);
    ctx.images = images;
    const stop = contextAndPreconditions(run, ctx);
    if (stop) return [stop];
    const skip = exceptions && exceptionSkip(state, exceptions, { ...req, resource }, operation, ctx);
    if (skip) return [ruleResponse(rule.name, 'Validation', 'skip', skip)];
  }
  let passed = 0;
  let skipped: string[] | undefined;
  for (const iv of entries) {
    for (const { info, ref: img } of selected) {
      if (!state.matchRefs(iv.imageReferences, img)) continue;
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
  return [state.verifiedResponse(rule.name)];
}

/** A `validate` rule: `deny` conditions, or the resource against `pattern` / `anyPattern`. */
function validateRule(run: ValidationRun): RuleResponse[] {
  const { state, rule, req, resource, operation, exceptions, unsupported } = run;
  const v = rule.validate as Record<string, unknown>;
  const resp = (status: RuleStatus, message: string) => [ruleResponse(rule.name, 'Validation', status, message)];
  const ctx = baseContext({ ...req, resource }, operation);
  try {
    ctx.images = extractImages(resource, undefined, state.options.imageConfig);
  } catch {
    ctx.images = {};
  }
  const stop = contextAndPreconditions(run, ctx);
  if (stop) return [stop];
  const skip = exceptions && exceptionSkip(state, exceptions, { ...req, resource }, operation, ctx);
  if (skip) return resp('skip', skip);
  if (unsupported) return [ruleResponse(rule.name, 'Validation', 'fail', unsupportedRuleMessage(unsupported[0]!), { emitWarning: true })];
  let message: string;
  try {
    message = String(substituteVariables(v.message ?? '', ctx, state.jmes, { nullOnMissing: true }) ?? '');
  } catch (e) {
    return resp('error', `failed to substitute variables: ${errMessage(e)}`);
  }
  const target = operation === 'DELETE' ? (req.oldResource ?? resource) : resource;
  if (v.deny !== undefined) {
    const deny = (v.deny ?? {}) as { conditions?: ConditionBlock };
    let r: ReturnType<typeof evaluateConditions>;
    try {
      r = evaluateConditions(deny.conditions as ConditionBlock | undefined, ctx, state.jmes);
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
    sub = substituteVariables(patterns, ctx, state.jmes) as unknown[];
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
  // Kyverno: the message ends with one period (added when missing); no message, no period
  const lead = message === '' ? '' : message.endsWith('.') ? `${message} ` : `${message}. `;
  return resp('fail', `validation error: ${lead}rule ${rule.name} failed at path ${lastFail?.path ?? '/'}`);
}
