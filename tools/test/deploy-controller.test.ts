/**
 * deploy/ for cluster mode: the controller's Kustomize base (deploy/kustomize/controller) and the Helm
 * chart with `controller.enabled=true` render the same objects, validate against the Kubernetes API
 * schemas, run non-root with probes and limits, and grant exactly what the controller uses.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkUnknownFields, kubernetesModelsDir, validateSchemas } from '../packaging/k8s-validate.mjs';
import { importModule } from '../packaging/modules.mjs';
import { renderChart } from '../packaging/render-helm.mjs';
import { renderKustomization } from '../packaging/render-kustomize.mjs';
import { repoRoot, requirement, which } from './support.js';

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are untyped JSON
type K8sObject = Record<string, any>;

const dir = join(repoRoot, 'deploy', 'kustomize', 'controller');
const chart = join(repoRoot, 'deploy', 'helm', 'vouch');
const keyOf = (o: K8sObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const HELM_LABELS = ['app.kubernetes.io/instance', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version', 'helm.sh/chart'];
const strip = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !HELM_LABELS.includes(k))
        .map(([k, x]) => [k, strip(x)]),
    );
  return v;
};

let kustomize: K8sObject[];
let helmOn: K8sObject[];
let helmOff: K8sObject[];

beforeAll(async () => {
  kustomize = await renderKustomization(dir);
  const render = async (set: string[]) =>
    (await renderChart(chart, { name: 'vouch', namespace: 'vouch-system', set })).objects as K8sObject[];
  helmOn = (await render(['webhook.caBundle=Q0E=', 'controller.enabled=true'])).filter(
    (o) => o.metadata?.labels?.['app.kubernetes.io/component'] === 'controller',
  );
  helmOff = await render(['webhook.caBundle=Q0E=']);
});

describe('deploy: the controller', () => {
  it('is off in the chart by default and renders the same objects as its kustomize base when enabled', () => {
    expect(helmOff.some((o) => o.metadata?.labels?.['app.kubernetes.io/component'] === 'controller')).toBe(false);
    expect(kustomize.map(keyOf).sort()).toEqual([
      'ClusterRole//vouch-controller',
      'ClusterRoleBinding//vouch-controller',
      'Deployment/vouch-system/vouch-controller',
      'PodDisruptionBudget/vouch-system/vouch-controller',
      'Role/vouch-system/vouch-controller-leader-election',
      'RoleBinding/vouch-system/vouch-controller-leader-election',
      'Service/vouch-system/vouch-controller-metrics',
      'ServiceAccount/vouch-system/vouch-controller',
    ]);
    const helm = new Map(helmOn.map((o) => [keyOf(o), strip(o)]));
    expect([...helm.keys()].sort()).toEqual(kustomize.map(keyOf).sort());
    for (const o of kustomize) expect(helm.get(keyOf(o)), keyOf(o)).toEqual(o);
  });

  it('runs `vouch controller` non-root, read-only, with probes, limits, two replicas and the downward-API identity', () => {
    const dep = kustomize.find((o) => o.kind === 'Deployment')!;
    expect(dep.spec.replicas).toBeGreaterThanOrEqual(2);
    const c = dep.spec.template.spec.containers[0];
    expect(c.command).toEqual(['vouch', 'controller']);
    expect(c.args).toEqual(
      expect.arrayContaining(['--scan-interval=1h', '--cache-ttl=1h', '--registry-qps=20', '--report-writes-per-second=10']),
    );
    expect(c.env.find((e: K8sObject) => e.name === 'POD_NAME').valueFrom.fieldRef.fieldPath).toBe('metadata.name');
    expect(c.env.find((e: K8sObject) => e.name === 'POD_NAMESPACE').valueFrom.fieldRef.fieldPath).toBe('metadata.namespace');
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    for (const p of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(c[p].httpGet.port).toBe('metrics');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.resources.limits.memory).toBeDefined();
    expect(dep.spec.template.spec.serviceAccountName).toBe('vouch-controller');
  });

  it('grants reads of workloads and policies, report writes, and the Lease in its own namespace only', () => {
    const role = kustomize.find((o) => o.kind === 'ClusterRole')!;
    const verbsFor = (group: string, resource: string) =>
      role.rules.filter((r: K8sObject) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r: K8sObject) => r.verbs);
    for (const [g, r] of [
      ['', 'pods'],
      ['apps', 'deployments'],
      ['batch', 'cronjobs'],
      ['kyverno.io', 'clusterpolicies'],
      ['kyverno.io', 'policies'],
    ]) {
      expect(verbsFor(g!, r!).sort()).toEqual(['get', 'list', 'watch']);
    }
    expect(verbsFor('wgpolicyk8s.io', 'policyreports').sort()).toEqual(['create', 'delete', 'get', 'list', 'update', 'watch']);
    expect(verbsFor('coordination.k8s.io', 'leases')).toEqual([]);
    const lease = kustomize.find((o) => o.kind === 'Role')!;
    expect(lease.metadata.namespace).toBe('vouch-system');
    expect(lease.rules).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]);
    expect(role.rules.some((r: K8sObject) => r.verbs.includes('*') || r.resources.includes('*'))).toBe(false);
  });

  it('helm values drive the flags', async () => {
    const objs = (
      await renderChart(chart, {
        name: 'v',
        namespace: 'security',
        set: [
          'controller.enabled=true',
          'controller.scanInterval=30m',
          'controller.cacheTTL=2h',
          'controller.registryQPS=5',
          'controller.replicaCount=3',
        ],
      })
    ).objects as K8sObject[];
    const dep = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'v-controller')!;
    expect(dep.spec.replicas).toBe(3);
    expect(dep.spec.template.spec.containers[0].args).toEqual(
      expect.arrayContaining(['--scan-interval=30m', '--cache-ttl=2h', '--registry-qps=5']),
    );
    expect(objs.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'v-controller')!.subjects[0].namespace).toBe('security');
  });

  it('renders the same objects as `kubectl kustomize`', async (t) => {
    if (!requirement(which('kubectl') !== undefined, 'kubectl', 'the controller Kustomize base is not compared with kubectl kustomize')) {
      t.skip();
      return;
    }
    const yaml = await importModule('yaml');
    const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
    const theirs: K8sObject[] = yaml.parseAllDocuments(out).map((d: { toJS(): K8sObject }) => d.toJS());
    const mine = new Map(kustomize.map((o) => [keyOf(o), o]));
    expect(theirs.map(keyOf).sort()).toEqual([...mine.keys()].sort());
    for (const o of theirs) expect(mine.get(keyOf(o)), keyOf(o)).toEqual(o);
  });

  const present = kubernetesModelsDir() !== undefined;
  const run = requirement(
    present,
    'the npm package kubernetes-models',
    'the controller objects are not validated against the Kubernetes schemas',
  );
  it.skipIf(!run)(
    'validates against the Kubernetes API schemas, with no unknown field',
    async () => {
      expect(await validateSchemas([...kustomize, ...helmOn])).toEqual([]);
      expect(await checkUnknownFields([...kustomize, ...helmOn])).toEqual([]);
    },
    120_000,
  );
});
