/**
 * deploy/: renders the Kustomize base and overlay and the Helm chart offline
 * (tools/packaging/render-*.mjs), checks the renderers against `kubectl kustomize` where kubectl
 * is installed, validates every object against the Kubernetes API schemas (kubernetes-models:
 * schema validators plus an unknown-field check), and asserts the rules deploy/README.md
 * promises (replicas, probes, limits, non-root, read-only root, webhook timeouts < 10 s,
 * failurePolicy, namespace exclusions, …) through tools/packaging/deploy-policy.mjs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkDeployment, parseQuantity } from '../packaging/deploy-policy.mjs';
import { checkUnknownFields, kubernetesModelsDir, validateSchemas } from '../packaging/k8s-validate.mjs';
import { importModule } from '../packaging/modules.mjs';
import { renderChart } from '../packaging/render-helm.mjs';
import { renderKustomization, strategicMerge } from '../packaging/render-kustomize.mjs';
import { repoRoot, requirement, which } from './support.js';

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are untyped JSON
type K8sObject = Record<string, any>;

const deployDir = join(repoRoot, 'deploy');
const base = join(deployDir, 'kustomize', 'base');
const overlay = join(deployDir, 'kustomize', 'overlays', 'production');
const clusterOverlay = join(deployDir, 'kustomize', 'overlays', 'cluster-policies');
const chart = join(deployDir, 'helm', 'vouch');
const CRDS = ['cert-manager.io/v1/Certificate', 'cert-manager.io/v1/Issuer', 'monitoring.coreos.com/v1/ServiceMonitor'];
const keyOf = (o: K8sObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const clone = (objects: K8sObject[]) => structuredClone(objects) as K8sObject[];
const find = (objects: K8sObject[], kind: string) => objects.find((o) => o.kind === kind)!;

type RenderName =
  | 'base'
  | 'overlay'
  | 'clusterPolicies'
  | 'helmDefault'
  | 'helmWithNamespace'
  | 'helmCertManager'
  | 'helmClusterPolicies'
  | 'helmMonitoring'
  | 'helmNoAutoscaling'
  | 'helmCustom';
// Assigned whole in beforeAll: a test never sees a partly rendered set (a failed render fails them all).
let renders: Record<RenderName, K8sObject[]>;

const HELM_LABELS = ['app.kubernetes.io/instance', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version', 'helm.sh/chart'];
/** An object without the labels only Helm adds (release, chart). */
const stripHelmLabels = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(stripHelmLabels);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !HELM_LABELS.includes(k))
        .map(([k, x]) => [k, stripHelmLabels(x)]),
    );
  }
  return v;
};

beforeAll(async () => {
  const helm = async (set: string[]) =>
    (await renderChart(chart, { name: 'vouch', namespace: 'vouch-system', set })).objects as K8sObject[];
  renders = {
    base: await renderKustomization(base),
    overlay: await renderKustomization(overlay),
    clusterPolicies: await renderKustomization(clusterOverlay),
    helmDefault: await helm(['webhook.caBundle=Q0E=']),
    helmWithNamespace: await helm(['namespace.create=true']),
    helmCertManager: await helm(['certManager.enabled=true']),
    helmClusterPolicies: await helm(['namespace.create=true', 'policiesFrom=cluster']),
    helmMonitoring: await helm(['webhook.caBundle=Q0E=', 'serviceMonitor.enabled=true', 'serviceMonitor.labels.release=prometheus']),
    helmNoAutoscaling: await helm(['webhook.caBundle=Q0E=', 'autoscaling.enabled=false', 'webhook.timeoutSeconds=5']),
    helmCustom: await helm([
      'fullnameOverride=admission',
      'image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      'webhook.caBundle=Q0E=',
      'replicaCount=3',
      'autoscaling.minReplicas=3',
      'podDisruptionBudget.minAvailable=2',
    ]),
  };
});

describe('deploy: renderers', () => {
  it('strategic merge merges named list items and replaces other lists', () => {
    const merged = strategicMerge(
      { spec: { containers: [{ name: 'a', image: 'x', args: ['1'] }, { name: 'b' }], tolerations: [{ key: 'k' }] } },
      { spec: { containers: [{ name: 'a', args: ['2'] }, { name: 'c' }], tolerations: [{ key: 'z' }] } },
      undefined,
    );
    expect(merged).toEqual({
      spec: { containers: [{ name: 'a', image: 'x', args: ['2'] }, { name: 'b' }, { name: 'c' }], tolerations: [{ key: 'z' }] },
    });
  });

  it('the kustomize base renders the nine objects of the webhook', () => {
    expect(renders.base.map(keyOf).sort()).toEqual(
      [
        'ConfigMap/vouch-system/vouch-webhook-policies',
        'Deployment/vouch-system/vouch-webhook',
        'HorizontalPodAutoscaler/vouch-system/vouch-webhook',
        'MutatingWebhookConfiguration//vouch-webhook',
        'Namespace//vouch-system',
        'PodDisruptionBudget/vouch-system/vouch-webhook',
        'Service/vouch-system/vouch-webhook',
        'ServiceAccount/vouch-system/vouch-webhook',
        'ValidatingWebhookConfiguration//vouch-webhook',
      ].sort(),
    );
  });

  it('high availability by default: 3 replicas, HPA from 3, one replica disrupted at a time, anti-affinity, readiness probe', () => {
    for (const name of ['base', 'helmDefault'] as const) {
      const objs = renders[name];
      const dep = find(objs, 'Deployment');
      expect(dep.spec.replicas, name).toBe(3);
      expect(find(objs, 'HorizontalPodAutoscaler').spec.minReplicas, name).toBe(3);
      expect(find(objs, 'PodDisruptionBudget').spec, name).toMatchObject({ maxUnavailable: 1 });
      expect(
        dep.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey,
      ).toBe('kubernetes.io/hostname');
      const c = dep.spec.template.spec.containers[0];
      expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
      expect(c.args).toEqual(expect.arrayContaining(['--timeout-ms=7000', '--watch', '--metrics-port=9090', '--shutdown-delay-ms=5000']));
      expect(c.ports).toContainEqual({ name: 'metrics', containerPort: 9090, protocol: 'TCP' });
      expect(find(objs, 'Service').spec.ports).toContainEqual({ name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' });
      for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'])
        expect(find(objs, kind).webhooks[0].timeoutSeconds, `${name} ${kind}`).toBe(8);
    }
  });

  it('helm: the deadline follows webhook.timeoutSeconds, the HPA is optional, the ServiceMonitor scrapes the metrics port', () => {
    const dep = find(renders.helmNoAutoscaling, 'Deployment');
    expect(dep.spec.template.spec.containers[0].args).toContain('--timeout-ms=4000');
    expect(dep.spec.template.spec.terminationGracePeriodSeconds).toBe(27);
    expect(find(renders.helmNoAutoscaling, 'ValidatingWebhookConfiguration').webhooks[0].timeoutSeconds).toBe(5);
    expect(renders.helmNoAutoscaling.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
    expect(renders.helmDefault.some((o) => o.kind === 'ServiceMonitor')).toBe(false);
    const sm = find(renders.helmMonitoring, 'ServiceMonitor');
    expect(sm.metadata.labels.release).toBe('prometheus');
    expect(sm.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    expect(find(renders.overlay, 'ServiceMonitor').spec.endpoints[0].port).toBe('metrics');
  });

  it('the overlay applies its patches and image override', () => {
    const dep = find(renders.overlay, 'Deployment');
    expect(dep.spec.replicas).toBe(3);
    expect(dep.spec.template.spec.containers[0].image).toBe('registry.example.com/platform/vouch:0.1.0');
    expect(dep.spec.template.spec.containers[0].resources.limits.memory).toBe('768Mi');
    // Patched env entry replaced by name; the other kept.
    expect(dep.spec.template.spec.containers[0].env).toEqual([
      { name: 'NODE_OPTIONS', value: '--max-old-space-size=576' },
      { name: 'HOME', value: '/tmp' },
    ]);
    expect(find(renders.overlay, 'MutatingWebhookConfiguration').metadata.annotations['cert-manager.io/inject-ca-from']).toBe(
      'vouch-system/vouch-webhook',
    );
  });

  it('renders the same objects as `kubectl kustomize`', async (t) => {
    if (!requirement(which('kubectl') !== undefined, 'kubectl', 'the Kustomize renderer is not compared with kubectl kustomize')) {
      t.skip();
      return;
    }
    const yaml = await importModule('yaml');
    for (const [dir, mine] of [
      [base, renders.base],
      [overlay, renders.overlay],
      [clusterOverlay, renders.clusterPolicies],
    ] as const) {
      const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
      const theirs: K8sObject[] = yaml.parseAllDocuments(out).map((d: { toJS(): K8sObject }) => d.toJS());
      expect(theirs.map(keyOf).sort()).toEqual(mine.map(keyOf).sort());
      const byKey = new Map(mine.map((o) => [keyOf(o), o]));
      for (const o of theirs) expect(byKey.get(keyOf(o)), keyOf(o)).toEqual(o);
    }
  });

  it('the Helm chart with default values renders what the kustomize base renders', () => {
    // Helm adds release labels and a chart label; with those removed, the objects are the same.
    const strip = stripHelmLabels;
    const helm = new Map(renders.helmWithNamespace.map((o) => [keyOf(o), strip(o)]));
    expect([...helm.keys()].sort()).toEqual(renders.base.map(keyOf).sort());
    for (const o of renders.base) expect(helm.get(keyOf(o)), keyOf(o)).toEqual(o);
    // With cert-manager on, the chart renders the overlay's Certificate and Issuer.
    const cm = new Map(renders.helmCertManager.map((o) => [keyOf(o), strip(o)]));
    for (const o of renders.overlay.filter((x) => x.apiVersion === 'cert-manager.io/v1')) expect(cm.get(keyOf(o)), keyOf(o)).toEqual(o);
  });

  it('policies from the cluster: --policies-from=cluster, the token mounted, read-only RBAC on the policies, no ConfigMap', () => {
    const objs = renders.clusterPolicies;
    expect(objs.map(keyOf).sort()).toEqual(
      renders.base
        .map(keyOf)
        .filter((k) => !k.startsWith('ConfigMap/'))
        .concat(['ClusterRole//vouch-webhook-policies', 'ClusterRoleBinding//vouch-webhook-policies'])
        .sort(),
    );
    const pod = find(objs, 'Deployment').spec.template.spec;
    const args: string[] = pod.containers[0].args;
    expect(args).toContain('--policies-from=cluster');
    expect(args.filter((a) => a.startsWith('--policies=') || a === '--watch')).toEqual([]);
    // the rest of the base's arguments stay as they are
    const baseArgs: string[] = find(renders.base, 'Deployment').spec.template.spec.containers[0].args;
    expect(args.filter((a) => a !== '--policies-from=cluster')).toEqual(
      baseArgs.filter((a) => !a.startsWith('--policies=') && a !== '--watch'),
    );
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(find(objs, 'ServiceAccount').automountServiceAccountToken).toBe(true);
    expect(pod.volumes.map((v: K8sObject) => v.name)).toEqual(['tls', 'tmp']);
    expect(pod.containers[0].volumeMounts.map((m: K8sObject) => m.mountPath)).toEqual(['/etc/vouch/tls', '/tmp']);
    expect(find(objs, 'ClusterRole').rules).toEqual([
      { apiGroups: ['kyverno.io'], resources: ['clusterpolicies', 'policies'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(find(objs, 'ClusterRoleBinding').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'vouch-webhook', namespace: 'vouch-system' },
    ]);
    // the chart with policiesFrom=cluster renders the same objects (release labels aside)
    const helm = new Map(renders.helmClusterPolicies.map((o) => [keyOf(o), stripHelmLabels(o)]));
    expect([...helm.keys()].sort()).toEqual(objs.map(keyOf).sort());
    for (const o of objs) expect(helm.get(keyOf(o)), keyOf(o)).toEqual(o);
  });

  it('helm values drive names, image digest, CA bundle and the release namespace', async () => {
    const objs = renders.helmCustom;
    expect(find(objs, 'Deployment').metadata.name).toBe('admission');
    expect(find(objs, 'Deployment').spec.template.spec.containers[0].image).toBe(
      'ghcr.io/vouch-dev/vouch@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    );
    expect(find(objs, 'ValidatingWebhookConfiguration').webhooks[0].clientConfig.caBundle).toBe('Q0E=');
    const other = (await renderChart(chart, { name: 'v', namespace: 'security' })).objects as K8sObject[];
    const hook = find(other, 'MutatingWebhookConfiguration').webhooks[0];
    expect(hook.name).toBe('mutate.v-webhook.security.svc');
    expect(hook.namespaceSelector.matchExpressions[0].values).toEqual(['kube-system', 'security']);
    expect(other.some((o) => o.kind === 'Namespace')).toBe(false);
  });
});

describe('deploy: rules every rendering keeps', () => {
  const cases: [RenderName, Parameters<typeof checkDeployment>[1]][] = [
    ['base', { requireNamespace: true, requireCaSource: false }],
    ['overlay', { requireNamespace: true }],
    ['helmDefault', {}],
    ['helmWithNamespace', { requireNamespace: true, requireCaSource: false }],
    ['helmCertManager', {}],
    ['clusterPolicies', { requireNamespace: true, requireCaSource: false }],
    ['helmClusterPolicies', { requireNamespace: true, requireCaSource: false }],
    ['helmCustom', {}],
    ['helmMonitoring', {}],
    ['helmNoAutoscaling', {}],
  ];
  for (const [name, opts] of cases) {
    it(`${name} is compliant`, () => {
      expect(checkDeployment(renders[name], opts)).toEqual([]);
    });
  }

  it('the checks catch what the rules forbid', () => {
    const objs = clone(renders.overlay);
    const dep = find(objs, 'Deployment');
    const c = dep.spec.template.spec.containers[0];
    dep.spec.replicas = 1;
    c.securityContext.readOnlyRootFilesystem = false;
    c.securityContext.capabilities = { drop: ['NET_RAW'] };
    delete c.readinessProbe;
    delete c.resources.limits.memory;
    const hook = find(objs, 'ValidatingWebhookConfiguration').webhooks[0];
    hook.timeoutSeconds = 10;
    hook.failurePolicy = 'Ignore';
    hook.namespaceSelector.matchExpressions[0].values = ['kube-system'];
    hook.rules = hook.rules.filter((r: K8sObject) => r.apiGroups[0] !== 'batch');
    find(objs, 'HorizontalPodAutoscaler').spec.minReplicas = 1;
    c.args = c.args.map((a: string) =>
      a.startsWith('--timeout-ms=') ? '--timeout-ms=9000' : a.startsWith('--metrics-port=') ? '--metrics-port=9191' : a,
    );
    dep.spec.template.spec.terminationGracePeriodSeconds = 10;
    find(objs, 'ServiceMonitor').spec.endpoints[0].port = 'https';
    const problems = checkDeployment(objs, { requireNamespace: true }).join('\n');
    for (const text of [
      'replicas 1 < 2',
      'root filesystem is writable',
      'capabilities not dropped',
      'no readinessProbe',
      'no memory limit',
      'timeoutSeconds 10 is not below 10',
      'failurePolicy Ignore',
      'namespace vouch-system is not excluded',
      'batch/cronjobs is not covered',
      'minReplicas 1 < 2',
      'maxUnavailable ≥ replicas',
      "timeoutSeconds 8 is not above Deployment vouch-webhook container webhook's --timeout-ms 9000",
      'terminationGracePeriodSeconds 10 does not cover --shutdown-delay-ms 5000 + --timeout-ms 9000 + 2 s',
      '--metrics-port 9191 is not a container port',
      'ServiceMonitor vouch-webhook: endpoint port https does not reach --metrics-port',
    ]) {
      expect(problems).toContain(text);
    }
  });

  it('the checks catch a webhook reading the cluster without the token or the RBAC, or with more than it needs', () => {
    const noToken = clone(renders.clusterPolicies);
    find(noToken, 'Deployment').spec.template.spec.automountServiceAccountToken = false;
    expect(checkDeployment(noToken, { requireCaSource: false }).join('\n')).toContain('needs the token mounted');
    const noRbac = clone(renders.clusterPolicies).filter((o) => o.kind !== 'ClusterRoleBinding');
    expect(checkDeployment(noRbac, { requireCaSource: false }).join('\n')).toContain('without a ClusterRole bound to it');
    const more = clone(renders.clusterPolicies);
    find(more, 'ClusterRole').rules.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] });
    find(more, 'ClusterRole').rules[0].verbs.push('update');
    const problems = checkDeployment(more, { requireCaSource: false }).join('\n');
    expect(problems).toContain('granted more than the policies (/secrets)');
    expect(problems).toContain('may get, list, watch, update the policies');
    // and a directory-reading webhook still may not mount the token
    const dirToken = clone(renders.base);
    find(dirToken, 'Deployment').spec.template.spec.automountServiceAccountToken = true;
    expect(checkDeployment(dirToken, { requireCaSource: false }).join('\n')).toContain('service account token is mounted');
  });

  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity('512Mi')).toBe(512 * 2 ** 20);
    expect(parseQuantity('1')).toBe(1);
    expect(parseQuantity(2)).toBe(2);
    expect(parseQuantity('12Qi')).toBeNaN();
  });

  it('the production overlay ships a Notary verifyImages ClusterPolicy', async () => {
    const yaml = await importModule('yaml');
    const data = find(renders.overlay, 'ConfigMap').data as Record<string, string>;
    const docs = Object.values(data).map((text) => yaml.parse(text));
    expect(docs.length).toBeGreaterThan(0);
    for (const p of docs) {
      expect(p.kind).toBe('ClusterPolicy');
      const verify = p.spec.rules.flatMap((r: K8sObject) => r.verifyImages ?? []);
      expect(verify.length).toBeGreaterThan(0);
      for (const v of verify) expect(v.type).toBe('Notary');
    }
  });
});

describe('deploy: Kubernetes API schemas (kubernetes-models)', () => {
  const present = kubernetesModelsDir() !== undefined;
  const run = requirement(
    present,
    'the npm package kubernetes-models',
    'rendered objects are not validated against the Kubernetes schemas',
  );

  it.skipIf(!run)('every rendered object validates against its API schema', async () => {
    for (const [name, objs] of Object.entries(renders)) {
      expect(await validateSchemas(objs, { skipKinds: CRDS }), name).toEqual([]);
    }
  });

  it.skipIf(!run)(
    'no rendered object carries a field its API type does not declare',
    async () => {
      const labels = new Map<K8sObject, string>();
      for (const [name, objs] of Object.entries(renders)) for (const o of objs) labels.set(o, `${name}:${o.kind}/${o.metadata.name}`);
      const all = Object.values(renders).flat();
      expect(await checkUnknownFields(all, { skipKinds: CRDS, labelOf: (o: K8sObject) => labels.get(o)! })).toEqual([]);
    },
    120_000,
  );

  it.skipIf(!run)(
    'the schema checks reject a wrong type, a bad enum and an unknown field',
    async () => {
      const objs = clone(renders.base);
      const dep = find(objs, 'Deployment');
      dep.spec.replicas = 'two';
      dep.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
      find(objs, 'MutatingWebhookConfiguration').webhooks[0].sideEffects = 'Maybe';
      const schema = (await validateSchemas(objs)).join('\n');
      expect(schema).toContain('replicas must be integer');
      expect(schema).toContain('sideEffects must be equal to one of the allowed values');
      const fields = (await checkUnknownFields([dep])).join('\n');
      expect(fields).toContain('\'"readOnlyRootFileSystem"\' does not exist');
    },
    120_000,
  );

  it('cert-manager objects (CRDs, not in the Kubernetes schemas) have the fields cert-manager requires', () => {
    for (const objs of [renders.overlay, renders.helmCertManager]) {
      const cert = find(objs, 'Certificate');
      expect(cert.spec.secretName).toBeTypeOf('string');
      expect(cert.spec.issuerRef.name).toBeTypeOf('string');
      expect(cert.spec.dnsNames.length).toBeGreaterThan(0);
      expect(cert.spec.usages).toContain('server auth');
      expect(find(objs, 'Issuer').spec).toEqual({ selfSigned: {} });
    }
  });
});

describe('deploy: container image', () => {
  const dockerfile = readFileSync(join(deployDir, 'Dockerfile'), 'utf8');
  it('is built from the published npm package on node:20-slim, runs non-root, enters `vouch webhook`', () => {
    expect(dockerfile).toMatch(/^FROM node:20-slim$/m);
    expect(dockerfile).toMatch(/npm install -g [^\n]*"?@vouch\/cli@/);
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(dockerfile);
    expect(Number(user?.[1])).toBeGreaterThan(0);
    // The Deployment's runAsUser is the image's user.
    expect(find(renders.base, 'Deployment').spec.template.spec.securityContext.runAsUser).toBe(Number(user?.[1]));
    expect(dockerfile).toMatch(/^ENTRYPOINT \["vouch", "webhook"\]$/m);
  });
});
