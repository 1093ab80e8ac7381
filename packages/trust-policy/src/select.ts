import { VouchError } from '@vouch/core';
import { WILDCARD } from './policy.js';
import { isValidRegistryScope } from './scope.js';
import type { BlobTrustPolicyDocument, BlobTrustPolicyStatement, OciTrustPolicyDocument, TrustPolicyStatement } from './types.js';

const TRUST_POLICY_LINK = 'https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';

/**
 * The statement of a (validated) OCI trust policy that applies to `scope`, a
 * `registry/repository` (see `scopeOfReference` for an artifact reference, or the `--scope` of
 * an OCI layout): the statement listing `scope` exactly wins over the `*` statement.
 *
 * Throws ERR_INVALID_REFERENCE when `scope` is not a `registry/repository`,
 * ERR_NO_APPLICABLE_TRUST_POLICY when no statement applies.
 * @example
 * ```ts
 * import { parseOciTrustPolicy, resolveVerificationLevel, scopeOfReference, selectOciPolicy } from '@vouch/trust-policy';
 *
 * const statement = selectOciPolicy(parseOciTrustPolicy(policyJson), scopeOfReference('registry.example.com/team/app@sha256:…'));
 * const { level, actions } = resolveVerificationLevel(statement.signatureVerification);
 * console.log(statement.name, level, actions.revocation);
 * ```
 */
export function selectOciPolicy(doc: OciTrustPolicyDocument, scope: string): TrustPolicyStatement {
  if (!isValidRegistryScope(scope)) {
    throw new VouchError(
      'ERR_INVALID_REFERENCE',
      `registry scope ${JSON.stringify(scope)} is not valid, make sure it is a fully qualified repository without the scheme, protocol, tag or digest, e.g. domain.com/my/repository`,
    );
  }
  let wildcard: TrustPolicyStatement | undefined;
  for (const statement of doc?.trustPolicies ?? []) {
    const scopes = statement.registryScopes ?? [];
    if (scopes.includes(scope)) return statement;
    if (wildcard === undefined && scopes.includes(WILDCARD)) wildcard = statement;
  }
  if (wildcard) return wildcard;
  throw new VouchError(
    'ERR_NO_APPLICABLE_TRUST_POLICY',
    `artifact scope ${JSON.stringify(scope)} has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: ${TRUST_POLICY_LINK}`,
    { details: { scope } },
  );
}

/**
 * The statement of a (validated) blob trust policy to use: the one named `name`, or, when
 * `name` is undefined, the statement with `globalPolicy: true`.
 *
 * Throws ERR_INVALID_ARGUMENT for a blank name, ERR_NO_APPLICABLE_TRUST_POLICY when no
 * statement has that name or there is no global statement.
 */
export function selectBlobPolicy(doc: BlobTrustPolicyDocument, name?: string): BlobTrustPolicyStatement {
  const statements = doc?.trustPolicies ?? [];
  if (name === undefined) {
    const global = statements.find((s) => s.globalPolicy === true);
    if (global) return global;
    throw new VouchError(
      'ERR_NO_APPLICABLE_TRUST_POLICY',
      'no global blob trust policy: name the policy to use, or mark one statement with "globalPolicy": true',
    );
  }
  if (typeof name !== 'string' || name.trim() === '') throw new VouchError('ERR_INVALID_ARGUMENT', 'policy name cannot be empty');
  const found = statements.find((s) => s.name === name);
  if (found) return found;
  throw new VouchError('ERR_NO_APPLICABLE_TRUST_POLICY', `no applicable blob trust policy with name ${JSON.stringify(name)}`, {
    details: { name },
  });
}
