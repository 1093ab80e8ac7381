import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isVouchError } from '@vouch/core';
import {
  createKyvernoEngine,
  handleAdmissionReview,
  type KubeObject,
  type KyvernoPolicy,
  parseKyvernoTest,
  parsePolicies,
  parseYamlObjects,
  runKyvernoTest,
} from '@vouch/kyverno';
import {
  applyJsonPatch,
  buildPolicyReports,
  evaluateResource,
  generateAutogenRules,
  unsupportedValidateFeatures,
} from '@vouch/kyverno/internal';
import type { CaseWorld } from './recreated-images.js';
import { subsetMismatch } from './util.js';

// biome-ignore lint/suspicious/noExplicitAny: upstream YAML fixtures are untyped
type Json = Record<string, any>;

/** Thrown to mark a case as skipped with a precise reason. */
export class SkipCase extends Error {}

function docs(text: string): Json[] {
  return parseYamlObjects(text) as Json[];
}

/** Throws SkipCase when a policy has a mutate or generate rule (vouch evaluates neither). */
function checkMutation(policies: readonly KyvernoPolicy[]): void {
  for (const p of policies) {
    for (const r of p.spec.rules) {
      if (r.mutate)
        throw new SkipCase(`policy ${p.metadata.name} rule ${r.name} is a mutate rule; vouch does not implement Kyverno mutation`);
      if (r.generate)
        throw new SkipCase(`policy ${p.metadata.name} rule ${r.name} is a generate rule; vouch does not implement Kyverno generation`);
    }
  }
}

/** Throws SkipCase when a policy uses a Kyverno feature vouch's engine does not evaluate. */
export function checkSupported(policies: readonly KyvernoPolicy[]): void {
  checkMutation(policies);
  for (const p of policies) {
    for (const r of p.spec.rules) {
      const u = unsupportedValidateFeatures(r);
      if (u.length > 0) throw new SkipCase(`policy ${p.metadata.name} rule ${r.name} uses validate.${u[0]}, which vouch does not evaluate`);
    }
  }
}

/**
 * Runs a `kyverno test` directory; throws on any failing row. With `world`, the files are read
 * through its substitutions and Cosign attestors verify against its local images.
 */
export async function runKyvernoTestDir(dir: string, world?: CaseWorld): Promise<void> {
  const read = (p: string) => (world ? world.rewrite(readFileSync(join(dir, p), 'utf8')) : readFileSync(join(dir, p), 'utf8'));
  const test = parseKyvernoTest(read('kyverno-test.yaml'));
  const policies = test.policies.flatMap((f) => parsePolicies(read(f), { source: f, ignoreOtherKinds: true }));
  checkSupported(policies);
  const res = await runKyvernoTest(test, {
    readFile: read,
    ...(world ? { verifier: world.notaryVerifier(), cosignVerifier: world.verifier() } : {}),
  });
  const bad = res.rows.filter((r) => r.result !== 'Pass');
  if (Object.keys(res.invalidPolicies).length > 0) throw new Error(`invalid policies: ${JSON.stringify(res.invalidPolicies)}`);
  if (res.rows.length === 0) throw new Error('no result rows');
  if (bad.length > 0) throw new Error(`failing rows: ${JSON.stringify(bad, null, 1)}`);
}

const ADMIN = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const TEST_NAMESPACE = 'chainsaw-test';

interface ChainsawState {
  testName: string;
  dir: string;
  policies: KyvernoPolicy[];
  configMaps: Map<string, Record<string, unknown>>;
  namespaces: Map<string, Record<string, string>>;
  objects: Map<string, KubeObject>;
  /** Every admitted revision of each object, oldest first (`kubectl rollout undo`). */
  history: Map<string, KubeObject[]>;
  /** Secrets by `namespace/name` (their `data`, base64 values). */
  secrets: Map<string, Record<string, string>>;
  world?: CaseWorld;
}

function objKey(o: KubeObject): string {
  return `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

function readTemplated(state: ChainsawState, file: string): string {
  const text = readFileSync(join(state.dir, file), 'utf8').replaceAll('($test.metadata.name)', state.testName);
  return state.world ? state.world.rewrite(text) : text;
}

function isNamespaced(kind: string): boolean {
  return !['Namespace', 'ClusterPolicy', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(kind);
}

/** The engine options of a chainsaw run: its policies, ConfigMaps and (re-created cases) Secrets and verifier. */
function engineOptions(state: ChainsawState) {
  return {
    policies: state.policies,
    cache: false as const,
    contextLoader: { configMap: (n: string, name: string) => state.configMaps.get(`${n}/${name}`) },
    ...(state.world
      ? { verifier: state.world.notaryVerifier(), cosignVerifier: state.world.verifier((n, name) => state.secrets.get(`${n}/${name}`)) }
      : {}),
  };
}

/** What the API server's own validation rejects before any webhook runs (the part the cases rely on). */
function apiServerRejects(o: KubeObject): string | undefined {
  if (o.kind !== 'Pod') return undefined;
  const names = ((o.spec as Json | undefined)?.containers ?? []).map((c: Json) => c.name);
  const dup = names.find((n: unknown, i: number) => names.indexOf(n) !== i);
  return dup === undefined ? undefined : `Pod "${o.metadata?.name}" is invalid: spec.containers: Duplicate value: "${dup}"`;
}

async function admit(state: ChainsawState, obj: KubeObject, expectError: boolean, stderrCheck?: string): Promise<void> {
  const o = JSON.parse(JSON.stringify(obj)) as KubeObject;
  const invalid = apiServerRejects(o);
  if (invalid) {
    if (!expectError) throw new Error(`the API server rejects ${objKey(o)}: ${invalid}`);
    return;
  }
  const kind = String(o.kind ?? '');
  o.metadata ??= {};
  if (isNamespaced(kind) && !o.metadata.namespace) o.metadata.namespace = TEST_NAMESPACE;
  const ns = o.metadata.namespace ?? '';
  const options = engineOptions(state);
  let engine: ReturnType<typeof createKyvernoEngine>;
  try {
    engine = createKyvernoEngine(options);
  } catch (e) {
    if (!isVouchError(e) || e.code !== 'ERR_UNSUPPORTED') throw e;
    // vouch's webhook refuses a policy using a construct it cannot evaluate (KYVERNO_SUPPORT); replay the
    // case with the engine's `fail` mode, where such a rule fails whenever it is reached (never admits)
    engine = createKyvernoEngine({ ...options, unsupported: 'fail' });
  }
  const [group, version] = (o.apiVersion ?? '').includes('/') ? (o.apiVersion ?? '').split('/') : ['', o.apiVersion ?? ''];
  const old = state.objects.get(objKey(o));
  const review = await handleAdmissionReview(
    {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'chainsaw',
        kind: { group, version, kind },
        name: o.metadata.name,
        namespace: ns,
        operation: old ? 'UPDATE' : 'CREATE',
        userInfo: ADMIN,
        object: o,
        oldObject: old ?? null,
      },
    },
    engine,
    { namespaceLabels: (n) => state.namespaces.get(n), roles: () => ({ clusterRoles: ['cluster-admin'] }) },
  );
  const res = review.response!;
  if (expectError) {
    if (res.allowed) throw new Error(`expected ${objKey(o)} to be denied, it was admitted`);
    if (stderrCheck && !res.status!.message.includes(stderrCheck)) {
      throw new Error(`denial message does not contain ${JSON.stringify(stderrCheck)}: ${res.status!.message}`);
    }
    return;
  }
  if (!res.allowed) throw new Error(`expected ${objKey(o)} to be admitted, it was denied: ${res.status?.message}`);
  const patched = res.patch ? applyJsonPatch(o, JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8'))) : o;
  state.objects.set(objKey(patched), patched);
  state.history.set(objKey(patched), [...(state.history.get(objKey(patched)) ?? []), patched]);
}

function expectsError(op: Json): boolean {
  return (op.expect ?? []).some((e: Json) => e?.check?.['($error != null)'] === true);
}

async function applyFile(state: ChainsawState, file: string, expectError: boolean): Promise<void> {
  for (const d of docs(readTemplated(state, file))) {
    const kind = d.kind;
    if (kind === 'ClusterPolicy' || kind === 'Policy') {
      // applying a policy of the same kind and name replaces it (kubectl apply)
      for (const p of parsePolicies(JSON.stringify(d), { source: file })) {
        const same = (q: KyvernoPolicy) =>
          q.kind === p.kind && q.metadata.name === p.metadata.name && (q.metadata.namespace ?? '') === (p.metadata.namespace ?? '');
        state.policies = [...state.policies.filter((q) => !same(q)), p];
      }
      if (state.world) checkMutation(state.policies);
    } else if (kind === 'ImageValidatingPolicy' || kind === 'NamespacedImageValidatingPolicy') {
      throw new SkipCase('ImageValidatingPolicy (policies.kyverno.io) is not implemented by vouch');
    } else if (kind === 'Namespace') {
      state.namespaces.set(d.metadata.name, d.metadata.labels ?? {});
    } else if (kind === 'Secret') {
      state.secrets.set(`${d.metadata.namespace ?? TEST_NAMESPACE}/${d.metadata.name}`, d.data ?? {});
    } else if (kind === 'ClusterRole' || kind === 'ClusterRoleBinding') {
      // RBAC for Kyverno's own service accounts: nothing to evaluate offline
    } else if (kind === 'ConfigMap') {
      state.configMaps.set(`${d.metadata.namespace ?? TEST_NAMESPACE}/${d.metadata.name}`, d);
    } else if (kind === 'CustomResourceDefinition') {
      // the CRD itself is not a policy subject here
    } else {
      await admit(state, d as KubeObject, expectError);
    }
  }
}

function policyAssertMismatch(state: ChainsawState, d: Json): string | undefined {
  const p = state.policies.find((x) => x.metadata.name === d.metadata?.name);
  if (!p) return `policy ${d.metadata?.name} not found`;
  const autogen = d.status?.autogen;
  if (autogen === undefined) return undefined;
  const rules = JSON.parse(JSON.stringify(generateAutogenRules(p)));
  if (autogen && Object.keys(autogen).length === 0)
    return rules.length === 0 ? undefined : `expected no autogen rules, got ${rules.map((r: { name: string }) => r.name)}`;
  return subsetMismatch({ rules }, autogen);
}

/**
 * The PolicyReports Kyverno's reports controller writes for the stored objects a List of
 * PolicyReports names (by scope), computed offline: every policy evaluated on the object (both
 * phases, as the admission and background reports do) and the responses turned into a report.
 * Compared as a subset, without `ownerReferences` (set by Kyverno's controller, not by the report).
 */
async function reportMismatch(state: ChainsawState, list: Json): Promise<string | undefined> {
  const engine = createKyvernoEngine({ ...engineOptions(state), unsupported: 'fail' });
  for (const item of (list.items ?? []) as Json[]) {
    if (item.kind !== 'PolicyReport') throw new SkipCase(`asserts a ${item.kind}, which the offline harness does not compute`);
    const scope = item.scope ?? {};
    const object = state.objects.get(`${scope.kind}/${scope.namespace ?? ''}/${scope.name}`);
    if (!object) return `${scope.kind}/${scope.namespace ?? ''}/${scope.name} does not exist`;
    const r = await evaluateResource(engine, { resource: object, operation: 'CREATE' });
    // one result per policy and rule, as Kyverno's report aggregation keeps them: a verifyImages rule's
    // verification (phase 1) stands for it, not its digest/required check of phase 2
    const seen = new Set<string>();
    const responses = [...r.verifyImages.responses, ...r.validation].map((p) => ({
      ...p,
      rules: p.rules.filter((x) => {
        const key = `${p.policy.metadata.name}/${x.name}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      }),
    }));
    const reports = buildPolicyReports(responses.filter((p) => p.rules.length > 0));
    const expected = structuredClone(item);
    delete expected.metadata?.ownerReferences;
    const mismatches = reports.map((rep) => subsetMismatch(JSON.parse(JSON.stringify(rep)), expected));
    if (!mismatches.includes(undefined)) return `PolicyReport of ${scope.kind}/${scope.name}: ${mismatches[0] ?? 'no report'}`;
  }
  return undefined;
}

async function assertFile(state: ChainsawState, file: string, negate: boolean): Promise<void> {
  for (const d of docs(readTemplated(state, file))) {
    let mismatch: string | undefined;
    if (d.kind === 'List' || /PolicyReport$/.test(String(d.kind))) {
      if (!state.world || d.kind !== 'List') {
        throw new SkipCase(
          `asserts ${d.kind === 'List' ? 'a list of PolicyReports' : d.kind} written by Kyverno's reports controller, which the offline harness does not run`,
        );
      }
      mismatch = await reportMismatch(state, d);
      if (!negate && mismatch) throw new Error(`assert ${file}: ${mismatch}`);
      if (negate && !mismatch) throw new Error(`error ${file}: the reports unexpectedly match`);
      continue;
    }
    if (d.kind === 'ClusterPolicy' || d.kind === 'Policy') mismatch = policyAssertMismatch(state, d);
    else if (d.kind === 'CustomResourceDefinition') continue;
    else {
      const o = JSON.parse(JSON.stringify(d));
      if (isNamespaced(o.kind) && !o.metadata?.namespace) o.metadata.namespace = TEST_NAMESPACE;
      const actual = state.objects.get(objKey(o));
      mismatch = actual ? subsetMismatch(actual, o) : `${objKey(o)} does not exist`;
    }
    if (!negate && mismatch) throw new Error(`assert ${file}: ${mismatch}`);
    if (negate && !mismatch) throw new Error(`error ${file}: the resource unexpectedly matches`);
  }
}

function kubectlObject(cmd: string): KubeObject {
  const img = (/--image[= ](\S+)/.exec(cmd) ?? [])[1];
  let m = /^kubectl run (\S+)/.exec(cmd);
  if (m && img) return { apiVersion: 'v1', kind: 'Pod', metadata: { name: m[1] }, spec: { containers: [{ name: m[1], image: img }] } };
  m = /^kubectl create deployment (\S+)/.exec(cmd);
  if (m && img) {
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: m[1] },
      spec: {
        selector: { matchLabels: { app: m[1] } },
        template: { metadata: { labels: { app: m[1] } }, spec: { containers: [{ name: img.split(/[/:]/).slice(-2)[0], image: img }] } },
      },
    };
  }
  m = /^kubectl create cronjob (\S+)/.exec(cmd);
  if (m && img) {
    return {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: m[1] },
      spec: {
        schedule: '*/1 * * * *',
        jobTemplate: { spec: { template: { spec: { containers: [{ name: m[1], image: img }], restartPolicy: 'OnFailure' } } } },
      },
    };
  }
  throw new SkipCase(`chainsaw script ${JSON.stringify(cmd)} is not simulated offline`);
}

/** `kubectl rollout undo deployment`: the Deployment with its previous revision's pod template (an UPDATE). */
function rolledBack(state: ChainsawState, namespace: string, name: string): KubeObject {
  const revisions = state.history.get(`Deployment/${namespace}/${name}`) ?? [];
  if (revisions.length < 2) throw new Error(`deployment ${namespace}/${name} has no previous revision to roll back to`);
  const current = JSON.parse(JSON.stringify(revisions.at(-1))) as Json;
  current.spec.template = JSON.parse(JSON.stringify((revisions.at(-2) as Json).spec.template));
  return current as KubeObject;
}

/**
 * Interprets a chainsaw test offline: policies are parsed, Namespaces/ConfigMaps recorded, every other
 * applied object goes through `handleAdmissionReview` as kubernetes-admin, asserts compare stored
 * objects (subset) and policy autogen status.
 */
export async function runChainsawDir(dir: string, world?: CaseWorld): Promise<void> {
  const test = docs(readFileSync(join(dir, 'chainsaw-test.yaml'), 'utf8'))[0]!;
  const state: ChainsawState = {
    testName: test.metadata.name,
    dir,
    policies: [],
    configMaps: new Map(),
    namespaces: new Map(),
    objects: new Map(),
    history: new Map(),
    secrets: new Map(),
    ...(world ? { world } : {}),
  };
  for (const step of test.spec.steps ?? []) {
    if (step.use) {
      const tpl = String(step.use.template).split('/').pop();
      const bindings = Object.fromEntries((step.use.with?.bindings ?? []).map((b: { name: string; value: unknown }) => [b.name, b.value]));
      if (tpl === 'create-policy.yaml') await applyFile(state, String(bindings.file), false);
      else if (tpl === 'cluster-policy-ready.yaml') {
        const name = String(bindings.name).replace('($test.metadata.name)', state.testName);
        if (!state.policies.some((p) => p.metadata.name === name)) throw new Error(`policy ${name} is not loaded`);
      } else throw new SkipCase(`chainsaw step template ${tpl} is not simulated offline`);
      continue;
    }
    for (const op of [...(step.try ?? []), ...(step.finally ?? [])]) {
      if (op.apply || op.create) {
        const o = op.apply ?? op.create;
        await applyFile(state, o.file, expectsError(o));
      } else if (op.assert) {
        if (!op.assert.file) throw new SkipCase('inline chainsaw assert is not simulated offline');
        await assertFile(state, op.assert.file, false);
      } else if (op.error) {
        await assertFile(state, op.error.file, true);
      } else if (op.script) {
        const check = op.script.check ?? {};
        const expectErr = check['($error != null)'] === true;
        const containsKey = Object.keys(check).find((k) => k.startsWith('(contains($stderr'));
        const needle = containsKey ? (/'([^']*)'\)\)$/.exec(containsKey) ?? [])[1] : undefined;
        const cmd = String(op.script.content).trim();
        const undo = /^kubectl -n (\S+) rollout undo deployment (\S+)$/.exec(cmd);
        if (undo) await admit(state, rolledBack(state, undo[1]!, undo[2]!), expectErr, needle);
        else await admit(state, kubectlObject(cmd), expectErr, needle);
      } else {
        throw new SkipCase(`chainsaw operation ${Object.keys(op).join(',')} is not simulated offline`);
      }
    }
  }
}
