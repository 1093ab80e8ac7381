import { getKindFromGVK } from '../match/kinds.js';
import type { KyvernoPolicy, MatchResources, ResourceDescription, ResourceFilter, Rule } from '../types.js';

/** Annotation that selects the pod controllers autogen generates rules for. */
export const AUTOGEN_ANNOTATION = 'pod-policies.kyverno.io/autogen-controllers';

/** Pod controllers autogen knows, with the GVK form used in generated rules. */
export const POD_CONTROLLERS: Readonly<Record<string, string>> = {
  DaemonSet: 'apps/v1/DaemonSet',
  Deployment: 'apps/v1/Deployment',
  Job: 'batch/v1/Job',
  ReplicaSet: 'apps/v1/ReplicaSet',
  ReplicationController: 'v1/ReplicationController',
  StatefulSet: 'apps/v1/StatefulSet',
  CronJob: 'batch/v1/CronJob',
};

const ALL_CONTROLLERS = 'DaemonSet,Deployment,Job,StatefulSet,ReplicaSet,ReplicationController,CronJob';

/** `(prefix + '-' + ruleName)` truncated to 63 characters. */
export function autogenRuleName(prefix: 'autogen' | 'autogen-cronjob', ruleName: string): string {
  return `${prefix}-${ruleName}`.slice(0, 63);
}

/** True for names starting with `autogen-`. */
export function isAutogenRuleName(name: string): boolean {
  return name.startsWith('autogen-');
}

function containsKind(kinds: readonly string[] | undefined, kind: string): boolean {
  return (kinds ?? []).some((k) => getKindFromGVK(k).kind.split('/')[0] === kind);
}

function descriptions(m: MatchResources | undefined): ResourceDescription[] {
  if (!m) return [];
  const out: ResourceDescription[] = [m.resources ?? {}];
  for (const f of m.any ?? []) out.push(f.resources ?? {});
  for (const f of m.all ?? []) out.push(f.resources ?? {});
  return out;
}

function allKinds(m: MatchResources | undefined): string[] {
  return descriptions(m).flatMap((d) => d.kinds ?? []);
}

/**
 * Kyverno `CanAutoGen`: whether autogen applies to the policy spec and for which controllers
 * (`['none']` when it does not; rules with generate, JSON6902 patches, name/names/selector/annotations
 * filters or mixed Pod + other kinds disable it for the whole policy).
 */
export function canAutoGen(policy: Pick<KyvernoPolicy, 'spec'>): { apply: boolean; controllers: string[] } {
  let needed = false;
  const none = { apply: false, controllers: ['none'] };
  const check = (rds: ResourceDescription[]): boolean => {
    for (const d of rds) {
      if (d.name || (d.names && d.names.length > 0) || d.selector || d.annotations) return false;
      const kinds = d.kinds ?? [];
      if (kinds.length > 1 && containsKind(kinds, 'Pod')) return false;
      if (kinds.some((k) => k === 'Pod' || ALL_CONTROLLERS.includes(k))) needed = true;
    }
    return true;
  };
  for (const rule of policy.spec.rules ?? []) {
    if (rule.generate) return none;
    const mutate = rule.mutate as { patchesJson6902?: string; foreach?: { patchesJson6902?: string }[] } | undefined;
    if (mutate) {
      if (mutate.patchesJson6902) return none;
      if ((mutate.foreach ?? []).some((f) => f?.patchesJson6902)) return none;
    }
    if (!check(descriptions(rule.match)) || !check(descriptions(rule.exclude))) return none;
  }
  if (!needed) return none;
  return { apply: true, controllers: ['CronJob', 'DaemonSet', 'Deployment', 'Job', 'ReplicaSet', 'ReplicationController', 'StatefulSet'] };
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Kyverno `updateFields`: the raw string rewrite applied to a generated rule (kind `Pod` or `Cronjob`). */
export function rewriteFields(text: string, kind: 'Pod' | 'Cronjob', cel: boolean): string {
  const tpl = kind === 'Pod' ? 'spec.template' : 'spec.jobTemplate.spec.template';
  const objs = cel ? ['object', 'oldObject'] : ['request.object', 'request.oldObject'];
  let out = text;
  for (const o of objs) out = out.split(`${o}.spec`).join(`${o}.${tpl}.spec`);
  for (const o of objs) out = out.split(`${o}.metadata`).join(`${o}.${tpl}.metadata`);
  return out;
}

function setKinds(m: MatchResources | undefined, kinds: string[], onlyWithPod: boolean): MatchResources | undefined {
  if (!m) return m;
  const fix = (rd: ResourceDescription | undefined): ResourceDescription | undefined => {
    if (!rd?.kinds || rd.kinds.length === 0) return rd;
    if (onlyWithPod && !containsKind(rd.kinds, 'Pod')) return rd;
    return { ...rd, kinds: [...kinds] };
  };
  const out: MatchResources = { ...m };
  if (m.resources) out.resources = fix(m.resources);
  if (m.any) out.any = m.any.map((f: ResourceFilter) => ({ ...f, resources: fix(f.resources) }));
  if (m.all) out.all = m.all.map((f: ResourceFilter) => ({ ...f, resources: fix(f.resources) }));
  return out;
}

function wrap(rule: Rule, wrapper: (x: unknown) => unknown): Rule {
  const out = clone(rule);
  const v = out.validate as Record<string, unknown> | undefined;
  if (v) {
    if (v.pattern !== undefined) v.pattern = wrapper(v.pattern);
    if (Array.isArray(v.anyPattern)) v.anyPattern = v.anyPattern.map(wrapper);
  }
  const m = out.mutate as Record<string, unknown> | undefined;
  if (m && m.patchStrategicMerge !== undefined) m.patchStrategicMerge = wrapper(m.patchStrategicMerge);
  return out;
}

function isCel(rule: Rule): boolean {
  return rule.celPreconditions !== undefined || (rule.validate as Record<string, unknown> | undefined)?.cel !== undefined;
}

function convert(rule: Rule, kind: 'Pod' | 'Cronjob'): Rule {
  return JSON.parse(rewriteFields(JSON.stringify(rule), kind, isCel(rule))) as Rule;
}

function ruleForControllers(rule: Rule, controllers: string[]): Rule | undefined {
  if (isAutogenRuleName(rule.name) || controllers.length === 0) return undefined;
  const mk = allKinds(rule.match);
  const ek = allKinds(rule.exclude);
  if (!containsKind(mk, 'Pod') || (ek.length > 0 && !containsKind(ek, 'Pod'))) return undefined;
  const kinds = [...controllers].sort().map((c) => POD_CONTROLLERS[c]!);
  const out = wrap(rule, (p) => ({ spec: { template: p } }));
  out.name = autogenRuleName('autogen', rule.name);
  out.match = setKinds(out.match, kinds, true) as MatchResources;
  if (out.exclude) out.exclude = setKinds(out.exclude, kinds, true);
  return out;
}

function cronJobRule(rule: Rule, controllers: string[]): Rule | undefined {
  if (!controllers.includes('CronJob')) return undefined;
  const job = ruleForControllers(rule, ['Job']);
  if (!job) return undefined;
  const out = wrap(job, (p) => ({ spec: { jobTemplate: p } }));
  out.name = autogenRuleName('autogen-cronjob', rule.name);
  out.match = setKinds(out.match, [POD_CONTROLLERS.CronJob!], false) as MatchResources;
  if (out.exclude) out.exclude = setKinds(out.exclude, [POD_CONTROLLERS.CronJob!], false);
  return out;
}

/** The controllers autogen generates rules for, after the annotation (`[]` = none). */
export function autogenControllers(policy: Pick<KyvernoPolicy, 'spec' | 'metadata'>): string[] {
  const { apply, controllers } = canAutoGen(policy);
  if (!apply) return [];
  const ann = policy.metadata?.annotations?.[AUTOGEN_ANNOTATION];
  const list = ann === undefined ? controllers : ann.split(',');
  if (list.includes('none')) return [];
  return list.filter((c) => Object.hasOwn(POD_CONTROLLERS, c)).sort();
}

/** Only the generated rules (`status.autogen.rules`), in Kyverno's order. */
export function generateAutogenRules(policy: Pick<KyvernoPolicy, 'spec' | 'metadata'>, kind = ''): Rule[] {
  let controllers = autogenControllers(policy);
  if (kind !== '') {
    if (!controllers.includes(kind)) return [];
    controllers = [kind];
  }
  const nonCron = controllers.filter((c) => c !== 'CronJob');
  const out: Rule[] = [];
  for (const rule of policy.spec.rules ?? []) {
    const g = ruleForControllers(rule, nonCron);
    if (g) out.push(convert(g, 'Pod'));
    const c = cronJobRule(rule, controllers);
    if (c) out.push(convert(c, 'Cronjob'));
  }
  return out;
}

/**
 * Kyverno `ComputeRules(policy, kind)`: the policy's own rules (minus stale `autogen-*` ones) plus the
 * generated rules for `kind` (or for every selected controller when `kind` is empty).
 */
export function computeRules(policy: Pick<KyvernoPolicy, 'spec' | 'metadata'>, kind = ''): Rule[] {
  const gen = generateAutogenRules(policy, kind);
  if (gen.length === 0) return policy.spec.rules ?? [];
  return [...(policy.spec.rules ?? []).filter((r) => !isAutogenRuleName(r.name)), ...gen];
}

/** Rules of the policy (with autogen) in evaluation order. */
export function policyRules(policy: KyvernoPolicy): Rule[] {
  return computeRules(policy, '');
}
