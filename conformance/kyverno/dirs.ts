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
import { applyJsonPatch, generateAutogenRules, unsupportedValidateFeatures } from '@vouch/kyverno/internal';
import { subsetMismatch } from './util.js';

// biome-ignore lint/suspicious/noExplicitAny: upstream YAML fixtures are untyped
type Json = Record<string, any>;

/** Thrown to mark a case as skipped with a precise reason. */
export class SkipCase extends Error {}

function docs(text: string): Json[] {
  return parseYamlObjects(text) as Json[];
}

/** Throws SkipCase when a policy uses a Kyverno feature vouch's engine does not evaluate. */
export function checkSupported(policies: readonly KyvernoPolicy[]): void {
  for (const p of policies) {
    for (const r of p.spec.rules) {
      if (r.mutate)
        throw new SkipCase(`policy ${p.metadata.name} rule ${r.name} is a mutate rule; vouch does not implement Kyverno mutation`);
      if (r.generate)
        throw new SkipCase(`policy ${p.metadata.name} rule ${r.name} is a generate rule; vouch does not implement Kyverno generation`);
      const u = unsupportedValidateFeatures(r);
      if (u.length > 0) throw new SkipCase(`policy ${p.metadata.name} rule ${r.name} uses validate.${u[0]}, which vouch does not evaluate`);
    }
  }
}

/** Runs a `kyverno test` directory; throws on any failing row. */
export async function runKyvernoTestDir(dir: string): Promise<void> {
  const test = parseKyvernoTest(readFileSync(join(dir, 'kyverno-test.yaml'), 'utf8'));
  const policies = test.policies.flatMap((f) => parsePolicies(readFileSync(join(dir, f), 'utf8'), { source: f, ignoreOtherKinds: true }));
  checkSupported(policies);
  const res = await runKyvernoTest(test, { readFile: (p) => readFileSync(join(dir, p), 'utf8') });
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
}

function objKey(o: KubeObject): string {
  return `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

function readTemplated(state: ChainsawState, file: string): string {
  return readFileSync(join(state.dir, file), 'utf8').replaceAll('($test.metadata.name)', state.testName);
}

function isNamespaced(kind: string): boolean {
  return !['Namespace', 'ClusterPolicy', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(kind);
}

async function admit(state: ChainsawState, obj: KubeObject, expectError: boolean, stderrCheck?: string): Promise<void> {
  const o = JSON.parse(JSON.stringify(obj)) as KubeObject;
  const kind = String(o.kind ?? '');
  o.metadata ??= {};
  if (isNamespaced(kind) && !o.metadata.namespace) o.metadata.namespace = TEST_NAMESPACE;
  const ns = o.metadata.namespace ?? '';
  const options = {
    policies: state.policies,
    cache: false as const,
    contextLoader: { configMap: (n: string, name: string) => state.configMaps.get(`${n}/${name}`) },
  };
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
}

function expectsError(op: Json): boolean {
  return (op.expect ?? []).some((e: Json) => e?.check?.['($error != null)'] === true);
}

async function applyFile(state: ChainsawState, file: string, expectError: boolean): Promise<void> {
  for (const d of docs(readTemplated(state, file))) {
    const kind = d.kind;
    if (kind === 'ClusterPolicy' || kind === 'Policy') {
      state.policies.push(...parsePolicies(JSON.stringify(d), { source: file }));
    } else if (kind === 'ImageValidatingPolicy' || kind === 'NamespacedImageValidatingPolicy') {
      throw new SkipCase('ImageValidatingPolicy (policies.kyverno.io) is not implemented by vouch');
    } else if (kind === 'Namespace') {
      state.namespaces.set(d.metadata.name, d.metadata.labels ?? {});
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

function assertFile(state: ChainsawState, file: string, negate: boolean): void {
  for (const d of docs(readTemplated(state, file))) {
    let mismatch: string | undefined;
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

/**
 * Interprets a chainsaw test offline: policies are parsed, Namespaces/ConfigMaps recorded, every other
 * applied object goes through `handleAdmissionReview` as kubernetes-admin, asserts compare stored
 * objects (subset) and policy autogen status.
 */
export async function runChainsawDir(dir: string): Promise<void> {
  const test = docs(readFileSync(join(dir, 'chainsaw-test.yaml'), 'utf8'))[0]!;
  const state: ChainsawState = {
    testName: test.metadata.name,
    dir,
    policies: [],
    configMaps: new Map(),
    namespaces: new Map(),
    objects: new Map(),
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
        assertFile(state, op.assert.file, false);
      } else if (op.error) {
        assertFile(state, op.error.file, true);
      } else if (op.script) {
        const check = op.script.check ?? {};
        const expectErr = check['($error != null)'] === true;
        const containsKey = Object.keys(check).find((k) => k.startsWith('(contains($stderr'));
        const needle = containsKey ? (/'([^']*)'\)\)$/.exec(containsKey) ?? [])[1] : undefined;
        await admit(state, kubectlObject(String(op.script.content).trim()), expectErr, needle);
      } else {
        throw new SkipCase(`chainsaw operation ${Object.keys(op).join(',')} is not simulated offline`);
      }
    }
  }
}
