import type { KyvernoPolicy } from '../types.js';

/** `name` for a ClusterPolicy, `namespace/name` for a Policy (Kyverno's policy key). */
export function policyKey(policy: KyvernoPolicy): string {
  return policy.kind === 'Policy' ? `${policy.metadata.namespace ?? 'default'}/${policy.metadata.name}` : policy.metadata.name;
}

/** The namespace a Policy applies in (`default` when unset); empty for a ClusterPolicy. */
export function policyNamespace(policy: KyvernoPolicy): string {
  return policy.kind === 'Policy' ? (policy.metadata.namespace ?? 'default') : '';
}
