import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBlobTrustPolicy, parseOciTrustPolicy } from './policy.js';
import { isValidRegistryScope, scopeOfReference } from './scope.js';
import { selectBlobPolicy, selectOciPolicy } from './select.js';

const common = { signatureVerification: { level: 'strict' }, trustStores: ['ca:s'], trustedIdentities: ['*'] };
const doc = parseOciTrustPolicy({
  version: '1.0',
  trustPolicies: [
    { name: 'exact', registryScopes: ['registry.wabbit-networks.io/software/net-utils', 'localhost:5000/a/b'], ...common },
    { name: 'skip-one', registryScopes: ['registry.wabbit-networks.io/unsigned'], signatureVerification: { level: 'skip' } },
    { name: 'wildcard', registryScopes: ['*'], ...common, signatureVerification: { level: 'audit' } },
  ],
});
const noWildcard = parseOciTrustPolicy({ version: '1.0', trustPolicies: [doc.trustPolicies[0], doc.trustPolicies[1]] });

describe('selectOciPolicy', () => {
  it('prefers the exact scope over *', () => {
    expect(selectOciPolicy(doc, 'registry.wabbit-networks.io/software/net-utils').name).toBe('exact');
    expect(selectOciPolicy(doc, 'localhost:5000/a/b').name).toBe('exact');
    expect(selectOciPolicy(doc, 'registry.wabbit-networks.io/unsigned').name).toBe('skip-one');
  });

  it('falls back to *', () => {
    expect(selectOciPolicy(doc, 'some.registry.that/has.no.policy').name).toBe('wildcard');
    expect(selectOciPolicy(doc, 'registry.wabbit-networks.io/software').name).toBe('wildcard');
  });

  it('does not expand or normalise scopes', () => {
    expect(() => selectOciPolicy(noWildcard, 'registry.wabbit-networks.io/software/net-utils/sub')).toThrowWithCode(
      'ERR_NO_APPLICABLE_TRUST_POLICY',
    );
    expect(() => selectOciPolicy(noWildcard, 'docker.io/library/x')).toThrowWithCode('ERR_NO_APPLICABLE_TRUST_POLICY');
  });

  it('throws ERR_NO_APPLICABLE_TRUST_POLICY without a match', () => {
    expect(() => selectOciPolicy(noWildcard, 'non.existing.scope/repo')).toThrowWithCode('ERR_NO_APPLICABLE_TRUST_POLICY');
  });

  it.each(['', 'invaliduri', 'domain.com/repository@sha256:abc', 'domain.com/repo:tag', 'x'])('rejects the scope %j', (scope) => {
    expect(() => selectOciPolicy(doc, scope)).toThrowWithCode('ERR_INVALID_REFERENCE');
  });
});

describe('scopeOfReference', () => {
  it('takes the text before the last @', () => {
    expect(scopeOfReference('registry.wabbit-networks.io/software/unsigned/net-utils@sha256:hash')).toBe(
      'registry.wabbit-networks.io/software/unsigned/net-utils',
    );
    expect(scopeOfReference(`localhost:5000/a/b@sha256:${'a'.repeat(64)}`)).toBe('localhost:5000/a/b');
  });

  it.each([
    '',
    'invaliduri',
    'domain.com/repository@sha256:',
    'domain.com/repository@sha256',
    'domain.com/repository@',
    'domain.com/repository',
    'domain.com/repositorysha256:digest',
    'domain.com/repositorysha256digest',
    'repository@sha256:digest',
    'domain.com/repository:tag@sha256:abc',
    'https://domain.com/repository@sha256:abc',
  ])('rejects %j with ERR_INVALID_REFERENCE', (ref) => {
    expect(() => scopeOfReference(ref)).toThrowWithCode('ERR_INVALID_REFERENCE');
  });

  it('never throws anything but VouchError and agrees with isValidRegistryScope (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        let scope: string;
        try {
          scope = scopeOfReference(s);
        } catch {
          expect(() => scopeOfReference(s)).toThrowWithCode('ERR_INVALID_REFERENCE');
          return;
        }
        expect(isValidRegistryScope(scope)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('selectBlobPolicy', () => {
  const blob = parseBlobTrustPolicy({
    version: '1.0',
    trustPolicies: [
      { name: 'named', ...common },
      { name: 'global', globalPolicy: true, ...common },
    ],
  });
  const noGlobal = parseBlobTrustPolicy({ version: '1.0', trustPolicies: [{ name: 'named', ...common }] });

  it('selects by exact name', () => {
    expect(selectBlobPolicy(blob, 'named').name).toBe('named');
    expect(selectBlobPolicy(blob, 'global').name).toBe('global');
  });

  it('selects the global statement without a name', () => {
    expect(selectBlobPolicy(blob).name).toBe('global');
    expect(() => selectBlobPolicy(noGlobal)).toThrowWithCode('ERR_NO_APPLICABLE_TRUST_POLICY');
  });

  it('rejects blank names and unknown names', () => {
    expect(() => selectBlobPolicy(blob, '')).toThrowWithCode('ERR_INVALID_ARGUMENT');
    expect(() => selectBlobPolicy(blob, '  ')).toThrowWithCode('ERR_INVALID_ARGUMENT');
    expect(() => selectBlobPolicy(blob, 'blaah')).toThrowWithCode('ERR_NO_APPLICABLE_TRUST_POLICY');
    expect(() => selectBlobPolicy(blob, 'Named')).toThrowWithCode('ERR_NO_APPLICABLE_TRUST_POLICY');
  });
});
