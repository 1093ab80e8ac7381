/**
 * Kubernetes admission fixtures shared by the Kyverno and webhook tests, the end-to-end tests, the
 * admission and webhook benchmarks and the fuzz targets: the seed policy, workloads, AdmissionReviews,
 * and a TLS certificate for a test server.
 */
import { encodePem } from '@vouch/core';
import { createCertificate, exportPrivateKeyPkcs8, generateKeyPair } from '@vouch/x509';

/** Options of {@link seedPolicyYaml}. */
export interface SeedPolicyOptions {
  /** PEM certificate(s) of the attestor (`certificates.cert`). */
  certPem: string;
  name?: string;
  action?: 'Enforce' | 'Audit';
  failurePolicy?: 'Fail' | 'Ignore';
  imageReferences?: readonly string[];
}

/**
 * The seed talk's `check-image-signature` ClusterPolicy, written correctly (type Notary, one
 * certificate attestor, Enforce, Pods — autogen extends it to pod controllers). Audit
 * variants set `mutateDigest: false`, as Kyverno requires.
 */
export function seedPolicyYaml(o: SeedPolicyOptions): string {
  const pem = o.certPem
    .trim()
    .split('\n')
    .map((l) => `                      ${l}`)
    .join('\n');
  const refs = (o.imageReferences ?? ['registry.example.com/*']).map((r) => `            - "${r}"`).join('\n');
  const action = o.action ?? 'Enforce';
  return `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: ${o.name ?? 'check-image-signature'}
spec:
  validationFailureAction: ${action}
  webhookTimeoutSeconds: 30
  failurePolicy: ${o.failurePolicy ?? 'Fail'}
  rules:
    - name: verify-signature
      match:
        any:
          - resources:
              kinds:
                - Pod
      verifyImages:
        - type: Notary
          imageReferences:
${refs}
${action === 'Audit' ? '          mutateDigest: false\n' : ''}          attestors:
            - count: 1
              entries:
                - certificates:
                    cert: |-
${pem}
`;
}

/** A Pod, a Deployment and a CronJob running `image` (names `app`, namespace `default`). */
export function workloads(image: string, name = 'app'): Record<string, unknown>[] {
  const podSpec = { containers: [{ name: 'main', image }] };
  return [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: podSpec },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'default' },
      spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: podSpec } },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name, namespace: 'default' },
      spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { ...podSpec, restartPolicy: 'Never' } } } } },
    },
  ];
}

/** An AdmissionReview v1 CREATE request for `object`. */
export function admissionReviewFor(object: Record<string, unknown>, uid = 'uid-1') {
  const apiVersion = String(object.apiVersion ?? 'v1');
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const meta = (object.metadata ?? {}) as { name?: string; namespace?: string };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview' as const,
    request: {
      uid,
      kind: { group: group!, version: version!, kind: String(object.kind) },
      resource: { group: group!, version: version!, resource: `${String(object.kind).toLowerCase()}s` },
      name: meta.name,
      namespace: meta.namespace,
      operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object,
    },
  };
}

/** A self-signed P-256 server certificate for 127.0.0.1 and its PKCS#8 key, both PEM. */
export async function selfSignedTls(): Promise<{ cert: string; key: string }> {
  const kp = await generateKeyPair('EC-256');
  const cert = await createCertificate({
    subject: 'CN=127.0.0.1,O=vouch test',
    publicKey: kp.publicKey,
    privateKey: kp.privateKey,
    keyUsage: { usages: ['digitalSignature'] },
    extKeyUsage: { usages: ['serverAuth'] },
  });
  return { cert: encodePem('CERTIFICATE', cert.der), key: encodePem('PRIVATE KEY', await exportPrivateKeyPkcs8(kp.privateKey)) };
}
