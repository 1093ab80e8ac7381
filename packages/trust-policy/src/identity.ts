import { VouchError } from '@vouch/core';
import type { Certificate, DnAttribute } from '@vouch/x509';
import { isAttributeSubset, parseTrustedIdentity, subjectAttributes, type TrustedIdentity } from '@vouch/x509/internal';
import { WILDCARD } from './policy.js';

/** What a signing certificate's subject may be given as. */
export type SubjectLike = string | readonly (readonly DnAttribute[])[] | Pick<Certificate, 'subjectRdns'>;

/**
 * Check the signing (leaf) certificate against a statement's `trustedIdentities`, as notation
 * does: `*` trusts any signer; otherwise at least one `x509.subject:` identity must be a subset
 * of the leaf subject (see `matchesTrustedIdentity` in @vouch/x509). Identities with other
 * prefixes are ignored; if none is `x509.subject:`, nothing can match.
 *
 * Throws ERR_IDENTITY_UNTRUSTED (no x509 identity configured, no match, or a leaf subject that
 * cannot be matched), ERR_TRUST_POLICY_INVALID for an identity that does not parse.
 * @example
 * ```ts
 * import { verifyTrustedIdentity } from '@vouch/trust-policy';
 *
 * // passes: the identity's attributes are a subset of the leaf's subject
 * verifyTrustedIdentity(['x509.subject: C=US, O=wabbit-networks.io'], 'CN=signer,O=wabbit-networks.io,ST=WA,C=US');
 * // throws ERR_IDENTITY_UNTRUSTED
 * verifyTrustedIdentity(['x509.subject: C=US, O=acme.example'], leafCertificate, { policyName: 'team-images' });
 * ```
 */
export function verifyTrustedIdentity(
  trustedIdentities: readonly string[],
  leaf: SubjectLike,
  options: { policyName?: string } = {},
): void {
  if (!Array.isArray(trustedIdentities)) throw new VouchError('ERR_INVALID_ARGUMENT', 'trustedIdentities must be an array of strings');
  if (trustedIdentities.includes(WILDCARD)) return;
  const policy = options.policyName === undefined ? 'the trust policy' : `the trust policy ${JSON.stringify(options.policyName)}`;
  const ids: TrustedIdentity[] = [];
  for (const identity of trustedIdentities) {
    if (typeof identity !== 'string')
      throw new VouchError('ERR_TRUST_POLICY_INVALID', `${policy} has a trusted identity that is not a string`);
    const colon = identity.indexOf(':');
    if (colon < 0) {
      throw new VouchError('ERR_TRUST_POLICY_INVALID', `${policy} has trusted identity ${JSON.stringify(identity)} missing separator`);
    }
    if (identity.slice(0, colon) === 'x509.subject') ids.push(parseTrustedIdentity(identity));
  }
  if (ids.length === 0) {
    throw new VouchError('ERR_IDENTITY_UNTRUSTED', `no x509 trusted identities are configured in ${policy}`);
  }
  const subject = subjectAttributes(leaf);
  for (const id of ids) if (isAttributeSubset(id.attributes, subject)) return;
  const rendered = typeof leaf === 'string' ? leaf : undefined;
  throw new VouchError(
    'ERR_IDENTITY_UNTRUSTED',
    `signing certificate from the digital signature does not match the X.509 trusted identities ${JSON.stringify(ids.map((i) => i.dn))} defined in ${policy}`,
    { details: { trustedIdentities: ids.map((i) => i.dn), subject: rendered ?? Object.fromEntries(subject) } },
  );
}
