import { VouchError } from '@vouch/core';
import { stringify } from 'yaml';
import { answerKey, rememberAnswer, rememberedAnswer } from '../engine/answers.js';
import { type Co, drive, driveAsync, settled } from '../engine/drive.js';
import { stateOf, validateResourceCo, verifyAndPatchImagesCo } from '../engine/engine.js';
import { policyFailurePolicy, ruleFailureAction } from '../engine/failure.js';
import { newReviewMemo } from '../engine/review.js';
import type { EngineRequest, KyvernoEngine } from '../engine/types.js';
import type { JsonPatchOperation } from '../resource/metadata.js';
import type { KubeObject, PolicyResponse, RequestInfo } from '../types.js';
import { errMessage } from '../util.js';

/** AdmissionReview `request` (admission.k8s.io/v1), the fields vouch reads. */
export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation?: string;
  userInfo?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  object?: KubeObject | null;
  oldObject?: KubeObject | null;
  dryRun?: boolean;
  [other: string]: unknown;
}

/** AdmissionReview `response`. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { status: 'Failure'; message: string; code?: number };
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** An AdmissionReview v1 document. */
export interface AdmissionReview {
  apiVersion: string;
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

/** Options of {@link handleAdmissionReview}. */
export interface AdmissionOptions {
  /** Labels of a namespace (for namespaceSelector / overrides); undefined when unknown. */
  namespaceLabels?(namespace: string): Record<string, string> | undefined | Promise<Record<string, string> | undefined>;
  /** RBAC roles/clusterRoles of the requesting user (Kyverno resolves them from bindings). */
  roles?(
    userInfo: NonNullable<AdmissionRequest['userInfo']>,
  ): Pick<RequestInfo, 'roles' | 'clusterRoles'> | Promise<Pick<RequestInfo, 'roles' | 'clusterRoles'>>;
  /** Deadline for the whole review; reaching it aborts verification (→ `error` → failurePolicy). */
  signal?: AbortSignal;
}

/** The blocked-request message Kyverno returns. */
export function blockedMessage(kind: string, namespace: string, name: string, responses: readonly PolicyResponse[]): string {
  const byPolicy: Record<string, Record<string, string>> = {};
  for (const pr of responses) {
    for (const r of pr.rules) {
      if (r.status === 'pass' || r.status === 'skip') continue;
      (byPolicy[pr.policy.metadata.name] ??= {})[r.name] = r.message;
    }
  }
  const yaml = stringify(byPolicy, { sortMapEntries: true, indent: 2, lineWidth: 0 });
  return `\n\nresource ${kind}/${namespace}/${name} was blocked due to the following policies \n\n${yaml}`;
}

/**
 * True when the responses block the request: a failure under Enforce; an error under the policy's
 * failurePolicy Fail (Kyverno serves the policies of each failurePolicy in a webhook of their own, so
 * the decision is per policy); and (vouch GAP, fail closed) an error that is not an infrastructure
 * error (`RuleResponse.infrastructure`) under Enforce whatever the failurePolicy: Kyverno's
 * failurePolicy is for a failing registry or network, not for a rule that could not be evaluated.
 */
export function isBlocked(responses: readonly PolicyResponse[], namespace: string, namespaceLabels?: Record<string, string>): boolean {
  for (const pr of responses) {
    for (const r of pr.rules) {
      if (r.status === 'fail' && ruleFailureAction(pr.policy, r.name, namespace, namespaceLabels) === 'Enforce') return true;
      if (r.status === 'error') {
        if (policyFailurePolicy(pr.policy) === 'Fail') return true;
        if (!r.infrastructure && ruleFailureAction(pr.policy, r.name, namespace, namespaceLabels) === 'Enforce') return true;
      }
    }
  }
  return false;
}

function auditAnnotations(responses: readonly PolicyResponse[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pr of responses) {
    for (const r of pr.rules) {
      if (r.status !== 'fail' && r.status !== 'error' && r.status !== 'warning') continue;
      const key = `${pr.policy.metadata.name}.${r.name}`.slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');
      out[key] = `${r.status}: ${r.message}`;
    }
  }
  return out;
}

/** An allowed answer as the full evaluation writes it (same fields, same order). */
function rememberedResponse(uid: string, patch: string | undefined): AdmissionResponse {
  const res: AdmissionResponse = { uid, allowed: true };
  if (patch !== undefined) {
    res.patchType = 'JSONPatch';
    res.patch = patch;
  }
  return res;
}

function deny(uid: string, message: string, warnings: string[]): AdmissionResponse {
  const res: AdmissionResponse = { uid, allowed: false, status: { status: 'Failure', message } };
  if (warnings.length > 0) res.warnings = warnings;
  return res;
}

/**
 * Evaluates an AdmissionReview v1 against the engine's policies: the verify-images phase (signatures,
 * attestations, digest patches, annotations), then the validation phase on the patched object. Answers
 * with Kyverno's response shape: `allowed`, `status.message` in Kyverno's blocked format, a base64 JSON
 * patch, warnings and audit annotations. Engine failures never escape: they are answered according to
 * the policies' failurePolicy. Throws VouchError ERR_INVALID_ARGUMENT only for a malformed review.
 * @example
 * ```ts
 * import { handleAdmissionReview } from '@vouch/kyverno';
 *
 * // in an HTTPS handler for the ValidatingWebhookConfiguration / MutatingWebhookConfiguration
 * const review = JSON.parse(body);
 * const answer = await handleAdmissionReview(review, engine, { namespaceLabels: (ns) => labelsOf(ns) });
 * respond(200, JSON.stringify(answer)); // response.allowed, status.message, patch
 * ```
 */
export function handleAdmissionReview(
  review: AdmissionReview,
  engine: KyvernoEngine,
  options: AdmissionOptions = {},
): Promise<AdmissionReview> {
  // a coroutine: a warm review (every verification decided) is answered without waiting on anything
  return driveAsync(admissionCo(review, engine, options));
}

/**
 * {@link handleAdmissionReview} without the promise when nothing has to be waited for: a warm review
 * (every verification decided) is answered synchronously, so a server can skip its per-review deadline
 * machinery; otherwise a promise of the answer. Throws (synchronously, or by rejecting) exactly what
 * handleAdmissionReview rejects with.
 */
export function admissionAnswer(
  review: AdmissionReview,
  engine: KyvernoEngine,
  options: AdmissionOptions = {},
): AdmissionReview | Promise<AdmissionReview> {
  return drive(admissionCo(review, engine, options));
}

function* admissionCo(review: AdmissionReview, engine: KyvernoEngine, options: AdmissionOptions): Co<AdmissionReview> {
  const req = review?.request;
  if (review?.kind !== 'AdmissionReview' || !req || typeof req.uid !== 'string') {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'expected an AdmissionReview with request.uid (admission.k8s.io/v1)');
  }
  const apiVersion = review.apiVersion || 'admission.k8s.io/v1';
  const respond = (response: AdmissionResponse): AdmissionReview => ({ apiVersion, kind: 'AdmissionReview', response });
  const operation = req.operation ?? 'CREATE';
  const object = (req.object ?? {}) as KubeObject;
  const oldObject = (req.oldObject ?? undefined) as KubeObject | undefined;
  const namespace = req.namespace ?? object.metadata?.namespace ?? oldObject?.metadata?.namespace ?? '';
  const kind = req.kind?.kind ?? (object.kind as string | undefined) ?? '';
  const name = req.name || object.metadata?.name || object.metadata?.generateName || oldObject?.metadata?.name || '';
  const warnings: string[] = [];
  // The caller's cluster lookups failing is an infrastructure error: failurePolicy decides.
  let nsLabels: Record<string, string> | undefined;
  let roles: Pick<RequestInfo, 'roles' | 'clusterRoles'> = {};
  try {
    nsLabels = namespace && options.namespaceLabels ? yield* settled(options.namespaceLabels(namespace)) : undefined;
    roles = req.userInfo && options.roles ? yield* settled(options.roles(req.userInfo)) : {};
  } catch (e) {
    const ignore = engine.policies.length > 0 && engine.policies.every((p) => policyFailurePolicy(p) === 'Ignore');
    const msg = `vouch could not evaluate the request: ${errMessage(e)}`;
    if (ignore) return respond({ uid: req.uid, allowed: true, warnings: [...warnings, msg] });
    return respond(deny(req.uid, msg, warnings));
  }
  try {
    const ereq: EngineRequest = {
      resource: object,
      oldResource: oldObject,
      operation,
      requestInfo: { userInfo: req.userInfo, roles: roles.roles, clusterRoles: roles.clusterRoles },
      namespaceLabels: nsLabels,
      gvk: req.kind ? { group: req.kind.group ?? '', version: req.kind.version ?? '', kind: req.kind.kind ?? '' } : undefined,
      subresource: req.subResource ?? '',
      admissionRequest: { uid: req.uid, dryRun: req.dryRun ?? false },
      signal: options.signal,
    };
    let patched = object;
    let patches: JsonPatchOperation[] = [];
    if (operation === 'CREATE' || operation === 'UPDATE') {
      const rm = newReviewMemo();
      // the answer memo (see engine/answers.ts): CREATE reviews of a shape answered before, on engines whose rules read only the shape
      const state = stateOf(engine);
      const shape =
        operation === 'CREATE' && !oldObject && !options.namespaceLabels && !options.roles && state.answersEligible
          ? answerKey(state, rm, ereq, namespace)
          : undefined;
      if (shape !== undefined) {
        const known = rememberedAnswer(state, shape);
        if (known) return respond(rememberedResponse(req.uid, known.patch));
        rm.cacheLog = { reads: [], incomplete: false };
      }
      const phase1 = yield* verifyAndPatchImagesCo(engine, ereq, rm);
      warnings.push(...phase1.warnings);
      if (isBlocked(phase1.responses, namespace, nsLabels)) {
        return respond(deny(req.uid, blockedMessage(kind, namespace, name, phase1.responses), warnings));
      }
      patched = phase1.patchedResource;
      patches = phase1.patches;
      const audit1 = auditAnnotations(phase1.responses);
      const phase2 = yield* validateResourceCo(engine, { ...ereq, resource: patched }, rm, phase1.metadata);
      if (isBlocked(phase2, namespace, nsLabels)) {
        return respond(deny(req.uid, blockedMessage(kind, namespace, name, phase2), warnings));
      }
      for (const pr of phase2) {
        if (!pr.policy.spec.emitWarning) continue;
        for (const r of pr.rules)
          if (r.status === 'fail' || r.status === 'error' || r.status === 'warning')
            warnings.push(`policy ${pr.policy.metadata.name}.${r.name}: ${r.message}`);
      }
      const res: AdmissionResponse = { uid: req.uid, allowed: true };
      if (patches.length > 0) {
        res.patchType = 'JSONPatch';
        res.patch = state.patchBase64(patches);
      }
      if (warnings.length > 0) res.warnings = warnings;
      const audit = { ...audit1, ...auditAnnotations(phase2) };
      if (Object.keys(audit).length > 0) res.auditAnnotations = audit;
      const log = rm.cacheLog;
      if (shape !== undefined && log && !log.incomplete && !res.warnings && !res.auditAnnotations) {
        rememberAnswer(state, shape, { patch: res.patch, reads: log.reads });
      }
      return respond(res);
    }
    const phase2 = yield* validateResourceCo(engine, ereq);
    if (isBlocked(phase2, namespace, nsLabels)) return respond(deny(req.uid, blockedMessage(kind, namespace, name, phase2), warnings));
    const res: AdmissionResponse = { uid: req.uid, allowed: true };
    const audit = auditAnnotations(phase2);
    if (Object.keys(audit).length > 0) res.auditAnnotations = audit;
    return respond(res);
  } catch (e) {
    // An exception inside the engine is a bug, not an infrastructure error: never admitted, whatever
    // the failurePolicy (a verifier or loader failure arrives as a rule response, not here).
    return respond(deny(req.uid, `vouch could not evaluate the request: ${errMessage(e)}`, warnings));
  }
}
