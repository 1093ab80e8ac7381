/**
 * A rule's JSON context and the checks that read it, in Kyverno's order: match/exclude, the context
 * entries, the preconditions, then the PolicyExceptions that name the rule.
 */
import { type MatchInput, resourceGVK, ruleMatchesInput } from '../match/match.js';
import { policyExceptionKey } from '../policy/exceptions.js';
import { policyNamespace } from '../policy/key.js';
import type { KubeObject, KyvernoPolicy, PolicyException, Rule, RuleResponse } from '../types.js';
import { errMessage, isObj } from '../util.js';
import { evaluateConditions, substituteVariables } from '../variables/variables.js';
import { isInfrastructureError } from '../verifier/verifier.js';
import { rethrowPending } from './drive.js';
import type { EngineState } from './memo.js';
import { ruleResponse } from './responses.js';
import type { ReviewMemo } from './review.js';
import type { EngineRequest } from './types.js';

/** One rule of one policy evaluated for one request, in one review. */
export interface RuleInput {
  readonly state: EngineState;
  readonly review: ReviewMemo;
  readonly policy: KyvernoPolicy;
  readonly rule: Rule;
  readonly req: EngineRequest;
}

/** The context of a rule that reads none; frozen so that no step writes it. */
export const NO_CONTEXT: Record<string, unknown> = Object.freeze({});

/** The request operation for a rule: a Values file's `request.operation`, else the request's (default CREATE). */
export function operationOf(req: EngineRequest, policy: KyvernoPolicy, rule: string): string {
  const v = req.values?.(policy, rule);
  const op = v?.['request.operation'];
  return typeof op === 'string' ? op : (req.operation ?? 'CREATE');
}

function isEmptyObject(o: object | undefined | null): boolean {
  if (!o) return true;
  for (const k in o) if (Object.hasOwn(o, k)) return false;
  return true;
}

/** The object the request is about: the new object, or the old one when there is no new one (DELETE). */
export function effectiveResource(req: EngineRequest): KubeObject {
  const r = req.resource;
  if (req.oldResource && isEmptyObject(r)) return req.oldResource;
  return r;
}

/** The `request` variable and the service account variables Kyverno puts in every rule context. */
export function baseContext(req: EngineRequest, operation: string): Record<string, unknown> {
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

/**
 * Whether the rule's match/exclude select the request (for a DELETE, the old object). The rule's
 * kinds are checked first: most rules of a review exclude the request's kind.
 */
export function ruleMatches({ state, review, policy, rule, req }: RuleInput, operation: string): boolean {
  const resource = effectiveResource(req);
  const retryOld = !!req.oldResource && isEmptyObject(req.resource);
  if (resource && typeof resource === 'object' && (req.gvk || !retryOld)) {
    if (!state.kindsMayMatch(rule, req.gvk ?? resourceGVK(resource), req.subresource ?? '')) return false;
  }
  const input = review.matchInput(req, resource, operation, policyNamespace(policy));
  if (ruleMatchesInput(rule, input)) return true;
  return retryOld && ruleMatchesInput(rule, { ...input, resource: req.oldResource! });
}

function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (!isObj(cur[p])) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

/**
 * Loads the rule's Values (dotted keys set as paths) and `context` entries into `ctx`, in order (an
 * entry may read the ones before it). Throws what a loader threw, or {@link Pending} while an
 * asynchronous loader has not answered.
 */
export function loadContext({ state, review, policy, rule, req }: RuleInput, ctx: Record<string, unknown>): void {
  const { jmes } = state;
  const values = req.values?.(policy, rule.name) ?? {};
  for (const [k, v] of Object.entries(values)) if (k !== 'request.operation') setPath(ctx, k, v);
  const loader = state.options.contextLoader;
  for (const entry of rule.context ?? []) {
    if (Object.hasOwn(values, entry.name)) continue;
    let value: unknown;
    if (entry.variable) {
      const v = entry.variable;
      let base = v.value === undefined ? undefined : substituteVariables(v.value, ctx, jmes);
      if (v.jmesPath) {
        const expr = String(substituteVariables(v.jmesPath, ctx, jmes));
        base = jmes.search(expr, base === undefined ? ctx : base);
      }
      value = base ?? (v.default === undefined ? undefined : substituteVariables(v.default, ctx, jmes));
      if (value === undefined || value === null) throw new Error(`failed to add resource with key ${entry.name}: no value`);
    } else if (entry.configMap) {
      const ns = String(substituteVariables(entry.configMap.namespace ?? '', ctx, jmes));
      const name = String(substituteVariables(entry.configMap.name, ctx, jmes));
      const configMap = loader?.configMap;
      const cm = configMap ? review.loaded(`configMap|${ns}|${name}`, () => configMap.call(loader, ns, name, req.signal)) : undefined;
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
      const spec = substituteVariables((entry as unknown as Record<string, unknown>)[kind], ctx, jmes, {
        skipKeys: ['jmesPath'],
      }) as Record<string, unknown>;
      let res = review.loaded(`${kind}|${JSON.stringify(spec)}`, () =>
        (fn as (e: Record<string, unknown>, s?: AbortSignal) => unknown).call(loader, spec, req.signal),
      );
      if (typeof spec.jmesPath === 'string' && spec.jmesPath !== '') res = jmes.search(spec.jmesPath, res);
      value = res;
    }
    ctx[entry.name] = value;
  }
}

/**
 * The rule's preconditions: undefined when they hold, else the `skip` ("preconditions not met[; …]")
 * or, when they cannot be evaluated (a JMESPath error, an unknown operator), the `error` to answer.
 */
export function checkPreconditions(
  state: EngineState,
  rule: Rule,
  ctx: Record<string, unknown>,
): { status: 'skip' | 'error'; message: string } | undefined {
  let r: ReturnType<typeof evaluateConditions>;
  try {
    r = evaluateConditions(rule.preconditions, ctx, state.jmes);
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
export function exceptionSkip(
  state: EngineState,
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
        if (!evaluateConditions(e.spec.conditions, ctx, state.jmes).passed) continue;
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
export function contextAndPreconditions(input: RuleInput, ctx: Record<string, unknown>): RuleResponse | undefined {
  const { rule } = input;
  try {
    loadContext(input, ctx);
  } catch (e) {
    rethrowPending(e);
    const infra = isInfrastructureError(e) ? { infrastructure: true } : undefined;
    return ruleResponse(rule.name, 'Validation', 'error', `failed to load context: ${errMessage(e)}`, infra);
  }
  if (!rule.preconditions) return undefined;
  const pre = checkPreconditions(input.state, rule, ctx);
  return pre ? ruleResponse(rule.name, 'Validation', pre.status, pre.message) : undefined;
}
