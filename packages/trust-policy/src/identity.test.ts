import { describe, expect, it } from 'vitest';
import { verifyTrustedIdentity } from './identity.js';

const leaf = {
  subjectRdns: [
    [{ type: 'C', value: 'US' }],
    [{ type: 'ST', value: 'WA' }],
    [{ type: 'L', value: 'Seattle' }],
    [{ type: 'O', value: 'SomeOrg' }],
    [{ type: 'OU', value: 'SomeOU' }],
    [{ type: 'CN', value: 'SomeCN' }],
  ],
};

/** verifyTrustedIdentity over `ids` and `subject`, for expect(…).toThrowWithCode / .not.toThrow. */
const verifying =
  (ids: unknown, subject: unknown = leaf) =>
  () =>
    verifyTrustedIdentity(ids as string[], subject as typeof leaf, { policyName: 'test-statement-name' });

describe('verifyTrustedIdentity', () => {
  it.each([
    ['one matching identity', ['x509.subject:C=US,O=SomeOrg,ST=WA']],
    ['matching identity beside a foreign prefix', ['x509.subject:C=US,O=SomeOrg,ST=WA', 'nonX509Prefix:my-custom-identity']],
    ['one of two identities matches', ['x509.subject:C=US,O=SomeOrg,ST=WA', 'x509.subject:C=IND,O=SomeOrg,ST=TS']],
    ['wildcard', ['*']],
    ['full subject in another order', ['x509.subject:CN=SomeCN,OU=SomeOU,O=SomeOrg,L=Seattle,ST=WA,C=US']],
  ])('accepts %s', (_, ids) => {
    expect(verifying(ids)).not.toThrow();
  });

  it.each([
    ['only foreign prefixes', ['nonX509Prefix:my-custom-identity']],
    ['no identity at all', []],
    ['no match', ['x509.subject:C=IND,O=SomeOrg,ST=TS']],
    ['no match beside a foreign prefix', ['x509.subject:C=IND,O=SomeOrg,ST=TS', 'nonX509Prefix:my-custom-identity']],
    ['two non-matching identities', ['x509.subject:C=IND,O=SomeOrg,ST=TS', 'x509.subject:C=LOL,O=LOL,ST=LOL']],
  ])('rejects %s with ERR_IDENTITY_UNTRUSTED', (_, ids) => {
    expect(verifying(ids)).toThrowWithCode('ERR_IDENTITY_UNTRUSTED');
  });

  it('rejects a leaf whose subject cannot be matched', () => {
    const bad = 'O=SomeOrg,OU=SomeOU,CN=Bad=#CN,L=Seattle,ST=WA,C=US';
    expect(verifying(['x509.subject:C=US,O=SomeOrg,ST=WA'], bad)).toThrowWithCode('ERR_IDENTITY_UNTRUSTED');
    // … unless any identity is trusted
    expect(verifying(['*'], bad)).not.toThrow();
  });

  it('rejects invalid identities with ERR_TRUST_POLICY_INVALID', () => {
    expect(verifying(['x509.subject:C=bad=#identity,O=LOL,ST=LOL'])).toThrowWithCode('ERR_TRUST_POLICY_INVALID');
    expect(verifying(['no separator'])).toThrowWithCode('ERR_TRUST_POLICY_INVALID');
    expect(verifying([3])).toThrowWithCode('ERR_TRUST_POLICY_INVALID');
    expect(verifying('x509.subject:C=US,O=SomeOrg,ST=WA')).toThrowWithCode('ERR_INVALID_ARGUMENT');
  });

  it('names the policy and the identities in the error', () => {
    try {
      verifyTrustedIdentity(['x509.subject:C=IND,O=SomeOrg,ST=TS'], leaf, { policyName: 'p' });
    } catch (e) {
      expect((e as Error).message).toBe(
        'signing certificate from the digital signature does not match the X.509 trusted identities ["C=IND,O=SomeOrg,ST=TS"] defined in the trust policy "p"',
      );
    }
    expect.assertions(1);
  });
});
