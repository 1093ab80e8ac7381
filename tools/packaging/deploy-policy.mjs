// The rules a rendered vouch webhook deployment must keep (deploy/README.md explains why each
// one matters). checkDeployment() returns one message per broken rule; [] means compliant.
// Used by tools/test/deploy.test.ts on the Kustomize base and overlay and on the Helm chart.

/** Pod-controller resources the webhooks must cover, by API group. */
export const REQUIRED_RESOURCES = {
  '': ['pods', 'replicationcontrollers'],
  apps: ['deployments', 'daemonsets', 'statefulsets', 'replicasets'],
  batch: ['jobs', 'cronjobs'],
};

const UNITS = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** Parse a Kubernetes quantity ("100m", "512Mi", 2) to a number. */
export function parseQuantity(q) {
  if (typeof q === 'number') return q;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(q));
  if (!m || (m[2] && !(m[2] in UNITS))) return Number.NaN;
  return Number(m[1]) * (m[2] ? UNITS[m[2]] : 1);
}

const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

/**
 * Check a rendered set of objects. `options.namespace` is the namespace vouch runs in
 * (default vouch-system); `options.requireNamespace` also demands the Namespace object;
 * `options.requireCaSource: false` accepts webhooks with neither a caBundle nor cert-manager CA
 * injection (the Kustomize base, whose CA bundle deploy/scripts/webhook-tls.sh patches in).
 */
export function checkDeployment(objects, options = {}) {
  const ns = options.namespace ?? 'vouch-system';
  const problems = [];
  const bad = (msg) => problems.push(msg);
  const ofKind = (kind) => objects.filter((o) => o.kind === kind);
  const one = (kind) => {
    const list = ofKind(kind);
    if (list.length !== 1) bad(`expected exactly one ${kind}, found ${list.length}`);
    return list[0];
  };

  if (options.requireNamespace && !ofKind('Namespace').some((n) => n.metadata?.name === ns)) bad(`no Namespace ${ns}`);
  for (const o of objects) {
    const clusterScoped = [
      'Namespace',
      'MutatingWebhookConfiguration',
      'ValidatingWebhookConfiguration',
      'ClusterRole',
      'ClusterRoleBinding',
    ].includes(o.kind);
    if (!clusterScoped && o.metadata?.namespace !== ns)
      bad(`${o.kind}/${o.metadata?.name} is in namespace ${o.metadata?.namespace}, not ${ns}`);
  }

  const dep = one('Deployment');
  const svc = one('Service');
  const pdb = one('PodDisruptionBudget');
  // the HorizontalPodAutoscaler is optional (Helm autoscaling.enabled); without it, replicas decide
  const hpas = ofKind('HorizontalPodAutoscaler');
  if (hpas.length > 1) bad(`expected at most one HorizontalPodAutoscaler, found ${hpas.length}`);
  const hpa = hpas[0];
  if (!dep) return problems;
  const pod = dep.spec?.template?.spec ?? {};
  const podLabels = dep.spec?.template?.metadata?.labels ?? {};
  const name = dep.metadata.name;

  // Deployment: replicas, selector, rollout
  if (!(dep.spec?.replicas >= 2)) bad(`Deployment ${name}: replicas ${dep.spec?.replicas} < 2`);
  if (!matches(dep.spec?.selector?.matchLabels, podLabels)) bad(`Deployment ${name}: selector does not match the pod template labels`);
  if (dep.spec?.strategy?.rollingUpdate?.maxUnavailable !== 0)
    bad(`Deployment ${name}: rolling updates may take a ready replica away (maxUnavailable ≠ 0)`);

  // Pod security
  const psc = pod.securityContext ?? {};
  if (psc.runAsNonRoot !== true) bad(`Deployment ${name}: pod securityContext.runAsNonRoot is not true`);
  if (psc.seccompProfile?.type !== 'RuntimeDefault') bad(`Deployment ${name}: pod seccompProfile is not RuntimeDefault`);
  // The token is mounted only when the webhook reads its policies from the cluster (--policies-from=cluster)
  const fromCluster = (pod.containers ?? []).some((c) => (c.args ?? []).includes('--policies-from=cluster'));
  if (!fromCluster && pod.automountServiceAccountToken !== false) bad(`Deployment ${name}: service account token is mounted`);
  if (fromCluster) checkPolicyReader(objects, pod.serviceAccountName, ns, bad);
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) bad(`Deployment ${name}: uses host namespaces`);
  if (!ofKind('ServiceAccount').some((s) => s.metadata?.name === pod.serviceAccountName)) {
    bad(`Deployment ${name}: serviceAccountName ${pod.serviceAccountName} is not in the render`);
  }
  const spreads = (pod.topologySpreadConstraints ?? []).filter((t) => matches(t.labelSelector?.matchLabels, podLabels));
  const anti = pod.affinity?.podAntiAffinity;
  if (!spreads.length && !anti) bad(`Deployment ${name}: no topology spread or pod anti-affinity over its own pods`);

  const containers = pod.containers ?? [];
  const deadlines = [];
  const metricsPorts = [];
  if (!containers.length) bad(`Deployment ${name}: no containers`);
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  for (const c of containers) {
    const where = `Deployment ${name} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.readOnlyRootFilesystem !== true) bad(`${where}: root filesystem is writable`);
    if (sc.allowPrivilegeEscalation !== false) bad(`${where}: allowPrivilegeEscalation is not false`);
    if (sc.privileged === true) bad(`${where}: privileged`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) bad(`${where}: capabilities not dropped (drop: [ALL])`);
    if ((sc.capabilities?.add ?? []).length) bad(`${where}: adds capabilities`);
    if (sc.runAsNonRoot === false || sc.runAsUser === 0 || psc.runAsUser === 0) bad(`${where}: may run as root`);
    for (const r of ['cpu', 'memory']) {
      const req = c.resources?.requests?.[r];
      const lim = c.resources?.limits?.[r];
      if (req === undefined) bad(`${where}: no ${r} request`);
      if (lim === undefined) bad(`${where}: no ${r} limit`);
      if (req !== undefined && lim !== undefined && !(parseQuantity(req) <= parseQuantity(lim)))
        bad(`${where}: ${r} request ${req} above limit ${lim}`);
    }
    const portNames = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
    for (const [probe, path] of [
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz'],
    ]) {
      const p = c[probe]?.httpGet;
      if (!p) bad(`${where}: no ${probe} (httpGet ${path})`);
      else {
        if (p.path !== path) bad(`${where}: ${probe} path ${p.path}, expected ${path}`);
        if (p.scheme !== 'HTTPS') bad(`${where}: ${probe} is not HTTPS`);
        if (!(portNames.has(p.port) || [...portNames.values()].includes(p.port)))
          bad(`${where}: ${probe} port ${p.port} is not a container port`);
      }
    }
    // Arguments: vouch webhook --policies DIR --tls-cert FILE --tls-key FILE --port N
    const args = Object.fromEntries((c.args ?? []).map((a) => a.replace(/^--/, '').split(/=(.*)/s).slice(0, 2)));
    const mounts = c.volumeMounts ?? [];
    const mountOf = (path) => mounts.find((m) => path === m.mountPath || path?.startsWith(`${m.mountPath}/`));
    const policiesMount = mountOf(args.policies);
    if (fromCluster) {
      if (args.policies !== undefined || args.watch !== undefined) bad(`${where}: --policies-from=cluster with --policies or --watch`);
    } else if (!policiesMount) bad(`${where}: --policies ${args.policies} is not a mounted volume`);
    else {
      const v = volumes.get(policiesMount.name);
      if (!v?.configMap || !ofKind('ConfigMap').some((m) => m.metadata?.name === v.configMap.name))
        bad(`${where}: policies are not mounted from a ConfigMap in the render`);
    }
    for (const flag of ['tls-cert', 'tls-key']) {
      const m = mountOf(args[flag]);
      if (!m || !volumes.get(m.name)?.secret) bad(`${where}: --${flag} ${args[flag]} is not mounted from a Secret`);
    }
    for (const m of mounts)
      if (m.mountPath !== '/tmp' && m.readOnly !== true && !volumes.get(m.name)?.emptyDir)
        bad(`${where}: mount ${m.mountPath} is writable`);
    if (!args.port || ![...portNames.values()].includes(Number(args.port))) bad(`${where}: --port ${args.port} is not a container port`);
    // Time: the review deadline stays below every webhook's timeoutSeconds (an answer, not an
    // API-server timeout), and the grace period covers the shutdown delay plus one deadline.
    const timeoutMs = Number(args['timeout-ms'] ?? 8000);
    const delayMs = Number(args['shutdown-delay-ms'] ?? 0);
    deadlines.push({ where, timeoutMs });
    const grace = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
    if (!(grace >= delayMs + timeoutMs + 2000))
      bad(
        `${where}: terminationGracePeriodSeconds ${grace / 1000} does not cover --shutdown-delay-ms ${delayMs} + --timeout-ms ${timeoutMs} + 2 s`,
      );
    if (args['metrics-port'] !== undefined) {
      const mp = Number(args['metrics-port']);
      const name = [...portNames.entries()].find(([, p]) => p === mp)?.[0];
      if (!name) bad(`${where}: --metrics-port ${mp} is not a container port`);
      else metricsPorts.push({ name, port: mp });
    }
  }

  // Service → pods
  if (svc) {
    if (!matches(svc.spec?.selector, podLabels) || !Object.keys(svc.spec?.selector ?? {}).length)
      bad(`Service ${svc.metadata.name}: selector does not select the webhook pods`);
    const names = new Set(containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
    for (const p of svc.spec?.ports ?? [])
      if (typeof p.targetPort === 'string' && !names.has(p.targetPort)) bad(`Service: targetPort ${p.targetPort} is not a container port`);
    for (const m of metricsPorts)
      if (!(svc.spec?.ports ?? []).some((p) => p.targetPort === m.name || p.targetPort === m.port))
        bad(`Service: no port reaches the metrics port ${m.name} (${m.port})`);
  }

  // ServiceMonitor (Prometheus Operator): scrapes the Service's metrics port
  for (const sm of ofKind('ServiceMonitor')) {
    const where = `ServiceMonitor ${sm.metadata?.name}`;
    if (!svc || !matches(sm.spec?.selector?.matchLabels, svc.metadata?.labels) || !Object.keys(sm.spec?.selector?.matchLabels ?? {}).length)
      bad(`${where}: selector does not select the webhook Service`);
    const nsNames = sm.spec?.namespaceSelector?.matchNames;
    if (nsNames && !nsNames.includes(ns)) bad(`${where}: namespaceSelector does not include ${ns}`);
    const svcPorts = new Set((svc?.spec?.ports ?? []).map((p) => p.name));
    const metricsSvcPorts = new Set(
      (svc?.spec?.ports ?? [])
        .filter((p) => metricsPorts.some((m) => p.targetPort === m.name || p.targetPort === m.port))
        .map((p) => p.name),
    );
    for (const e of sm.spec?.endpoints ?? []) {
      if (!svcPorts.has(e.port)) bad(`${where}: endpoint port ${e.port} is not a Service port`);
      else if (!metricsSvcPorts.has(e.port)) bad(`${where}: endpoint port ${e.port} does not reach --metrics-port`);
    }
    if (!(sm.spec?.endpoints ?? []).length) bad(`${where}: no endpoints`);
  }

  // PodDisruptionBudget
  if (pdb) {
    if (!matches(pdb.spec?.selector?.matchLabels, podLabels)) bad('PodDisruptionBudget: selector does not match the webhook pods');
    if (!(pdb.spec?.minAvailable >= 1) && pdb.spec?.maxUnavailable === undefined) bad('PodDisruptionBudget: minAvailable < 1');
    if (pdb.spec?.minAvailable >= dep.spec?.replicas) bad('PodDisruptionBudget: minAvailable ≥ replicas blocks every node drain');
    if (pdb.spec?.maxUnavailable !== undefined && !(pdb.spec.maxUnavailable >= 1))
      bad('PodDisruptionBudget: maxUnavailable < 1 blocks every node drain');
    if (pdb.spec?.maxUnavailable >= dep.spec?.replicas)
      bad('PodDisruptionBudget: maxUnavailable ≥ replicas lets a drain take every replica');
  }

  // HorizontalPodAutoscaler
  if (hpa) {
    if (hpa.apiVersion !== 'autoscaling/v2') bad(`HorizontalPodAutoscaler: apiVersion ${hpa.apiVersion}, expected autoscaling/v2`);
    const t = hpa.spec?.scaleTargetRef ?? {};
    if (t.kind !== 'Deployment' || t.name !== name) bad('HorizontalPodAutoscaler: does not target the webhook Deployment');
    if (!(hpa.spec?.minReplicas >= 2)) bad(`HorizontalPodAutoscaler: minReplicas ${hpa.spec?.minReplicas} < 2`);
    if (!(hpa.spec?.maxReplicas >= hpa.spec?.minReplicas)) bad('HorizontalPodAutoscaler: maxReplicas < minReplicas');
    if (!(hpa.spec?.metrics ?? []).length) bad('HorizontalPodAutoscaler: no metrics');
  }

  // Webhook configurations
  const certificates = ofKind('Certificate');
  for (const [kind, path] of [
    ['MutatingWebhookConfiguration', '/mutate'],
    ['ValidatingWebhookConfiguration', '/validate'],
  ]) {
    const cfg = one(kind);
    if (!cfg) continue;
    const hooks = cfg.webhooks ?? [];
    if (!hooks.length) bad(`${kind}: no webhooks`);
    const inject = cfg.metadata?.annotations?.['cert-manager.io/inject-ca-from'];
    for (const h of hooks) {
      const where = `${kind} ${h.name}`;
      if (!(h.timeoutSeconds < 10)) bad(`${where}: timeoutSeconds ${h.timeoutSeconds} is not below 10`);
      for (const d of deadlines)
        if (!(d.timeoutMs < (h.timeoutSeconds ?? 10) * 1000))
          bad(`${where}: timeoutSeconds ${h.timeoutSeconds} is not above ${d.where}'s --timeout-ms ${d.timeoutMs}`);
      if (h.failurePolicy !== 'Fail') bad(`${where}: failurePolicy ${h.failurePolicy}, expected Fail`);
      if (h.sideEffects !== 'None') bad(`${where}: sideEffects ${h.sideEffects}, expected None`);
      if (JSON.stringify(h.admissionReviewVersions) !== '["v1"]')
        bad(`${where}: admissionReviewVersions ${JSON.stringify(h.admissionReviewVersions)}, expected ["v1"]`);
      const s = h.clientConfig?.service;
      if (!s || !svc || s.name !== svc.metadata.name || s.namespace !== svc.metadata.namespace)
        bad(`${where}: clientConfig does not point at the webhook Service`);
      else if (!(svc.spec?.ports ?? []).some((p) => p.port === (s.port ?? 443))) bad(`${where}: port ${s.port} is not a Service port`);
      if (s?.path !== path) bad(`${where}: path ${s?.path}, expected ${path}`);
      const excluded = (h.namespaceSelector?.matchExpressions ?? [])
        .filter((e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn')
        .flatMap((e) => e.values ?? []);
      for (const n of ['kube-system', ns]) if (!excluded.includes(n)) bad(`${where}: namespace ${n} is not excluded`);
      for (const [group, resources] of Object.entries(REQUIRED_RESOURCES)) {
        for (const r of resources) {
          const rule = (h.rules ?? []).find(
            (x) => x.apiGroups?.includes(group) && (x.resources?.includes(r) || x.resources?.includes('*')),
          );
          if (!rule) bad(`${where}: ${group || 'core'}/${r} is not covered`);
          else
            for (const op of ['CREATE', 'UPDATE'])
              if (!rule.operations?.includes(op) && !rule.operations?.includes('*')) bad(`${where}: ${r} ${op} is not covered`);
        }
      }
      if (options.requireCaSource !== false && !h.clientConfig?.caBundle && !inject)
        bad(`${where}: no caBundle and no cert-manager CA injection`);
    }
    if (inject) {
      const [cns, cname] = inject.split('/');
      if (!certificates.some((c) => c.metadata?.namespace === cns && c.metadata?.name === cname))
        bad(`${kind}: inject-ca-from ${inject} names no Certificate in the render`);
    }
  }

  // cert-manager Certificate ↔ Secret ↔ Service DNS name
  for (const cert of certificates) {
    const tls = (pod.volumes ?? []).find((v) => v.secret)?.secret?.secretName;
    if (cert.spec?.secretName !== tls)
      bad(`Certificate ${cert.metadata.name}: secretName ${cert.spec?.secretName} is not the mounted TLS Secret ${tls}`);
    if (svc && !(cert.spec?.dnsNames ?? []).includes(`${svc.metadata.name}.${ns}.svc`))
      bad(`Certificate ${cert.metadata.name}: no dnsName ${svc.metadata.name}.${ns}.svc`);
    const ref = cert.spec?.issuerRef ?? {};
    if ((ref.kind ?? 'Issuer') === 'Issuer' && !ofKind('Issuer').some((i) => i.metadata?.name === ref.name))
      bad(`Certificate ${cert.metadata.name}: Issuer ${ref.name} is not in the render`);
  }
  return problems;
}

/**
 * A webhook reading its policies from the cluster: its token is mounted, and its ServiceAccount is
 * bound to a ClusterRole granting get, list and watch on kyverno.io clusterpolicies and policies —
 * and nothing else (the webhook writes nothing).
 */
function checkPolicyReader(objects, serviceAccount, ns, bad) {
  const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata?.name === serviceAccount);
  const pod = objects.find((o) => o.kind === 'Deployment')?.spec?.template?.spec ?? {};
  if (pod.automountServiceAccountToken !== true || sa?.automountServiceAccountToken === false)
    bad(`ServiceAccount ${serviceAccount}: --policies-from=cluster needs the token mounted (automountServiceAccountToken: true)`);
  const bindings = objects.filter(
    (o) =>
      o.kind === 'ClusterRoleBinding' &&
      (o.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === ns),
  );
  const roles = bindings.map((b) => objects.find((o) => o.kind === 'ClusterRole' && o.metadata?.name === b.roleRef?.name));
  if (!roles.length || roles.some((r) => !r)) {
    bad(`ServiceAccount ${serviceAccount}: --policies-from=cluster without a ClusterRole bound to it`);
    return;
  }
  const rules = roles.flatMap((r) => r.rules ?? []);
  for (const resource of ['clusterpolicies', 'policies']) {
    const verbs = new Set(
      rules.filter((r) => r.apiGroups?.includes('kyverno.io') && r.resources?.includes(resource)).flatMap((r) => r.verbs),
    );
    for (const v of ['get', 'list', 'watch']) if (!verbs.has(v)) bad(`ClusterRole: the webhook cannot ${v} kyverno.io ${resource}`);
  }
  for (const r of rules) {
    if (
      !(r.apiGroups ?? []).every((g) => g === 'kyverno.io') ||
      !(r.resources ?? []).every((x) => x === 'clusterpolicies' || x === 'policies')
    )
      bad(`ClusterRole: the webhook is granted more than the policies (${(r.apiGroups ?? []).join(',')}/${(r.resources ?? []).join(',')})`);
    if ((r.verbs ?? []).some((v) => !['get', 'list', 'watch'].includes(v)))
      bad(`ClusterRole: the webhook may ${(r.verbs ?? []).join(', ')} the policies (read only: get, list, watch)`);
  }
}
