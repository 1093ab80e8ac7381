import { isVouchError, type VouchError } from '@vouch/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_TRUST_POLICY_SIZE, parseBlobTrustPolicy, parseOciTrustPolicy } from './policy.js';

const ID = 'x509.subject:C=US,ST=WA,O=wabbit-networks.io';

// biome-ignore lint/suspicious/noExplicitAny: test fixtures are free-form JSON
type Json = any;

function stmt(over: Json = {}): Json {
  return {
    name: 'wabbit',
    registryScopes: ['registry.acme-rockets.io/software/net-monitor'],
    signatureVerification: { level: 'strict' },
    trustStores: ['ca:wabbit-networks'],
    trustedIdentities: [ID],
    ...over,
  };
}

function oci(...statements: Json[]): Json {
  return { version: '1.0', trustPolicies: statements.length ? statements : [stmt()] };
}

function blobStmt(over: Json = {}): Json {
  const s = stmt(over);
  if (!('registryScopes' in over)) delete s.registryScopes;
  return s;
}

function blob(...statements: Json[]): Json {
  return { version: '1.0', trustPolicies: statements.length ? statements : [blobStmt()] };
}

function errorOf(f: () => unknown): VouchError {
  try {
    f();
  } catch (e) {
    if (isVouchError(e)) return e;
    throw new Error(`expected a VouchError, got ${String(e)}`);
  }
  throw new Error('expected an error');
}

function expectInvalid(doc: Json, message: string, parse: (x: unknown) => unknown = parseOciTrustPolicy): void {
  const e = errorOf(() => parse(doc));
  expect(e.code).toBe('ERR_TRUST_POLICY_INVALID');
  expect(e.message).toContain(message);
}

describe('parseOciTrustPolicy: input forms', () => {
  it('accepts an object, JSON text and UTF-8 bytes, and returns a frozen normalised copy', () => {
    const doc = oci(stmt({ extra: 1 }));
    const fromObject = parseOciTrustPolicy(doc);
    const fromText = parseOciTrustPolicy(JSON.stringify(doc));
    const fromBytes = parseOciTrustPolicy(new TextEncoder().encode(JSON.stringify(doc)));
    expect(fromText).toEqual(fromObject);
    expect(fromBytes).toEqual(fromObject);
    expect(fromObject.trustPolicies[0]).toEqual({
      name: 'wabbit',
      registryScopes: ['registry.acme-rockets.io/software/net-monitor'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:wabbit-networks'],
      trustedIdentities: [ID],
    });
    expect(Object.isFrozen(fromObject.trustPolicies[0]!.registryScopes)).toBe(true);
    expect(fromObject.trustPolicies[0]).not.toBe(doc.trustPolicies[0]);
  });

  it('parses the specification example', () => {
    const doc = {
      version: '1.0',
      trustPolicies: [
        {
          name: 'wabbit-networks-images',
          registryScopes: ['registry.acme-rockets.io/software/net-monitor'],
          signatureVerification: { level: 'strict', override: { expiry: 'log' }, verifyTimestamp: 'afterCertExpiry' },
          trustStores: ['ca:wabbit-networks', 'tsa:trusted-tsa'],
          trustedIdentities: ['x509.subject: C=US, ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools'],
        },
        {
          name: 'unsigned-image',
          registryScopes: ['registry.wabbit-networks.io/software/unsigned/net-utils'],
          signatureVerification: { level: 'skip' },
        },
      ],
    };
    const p = parseOciTrustPolicy(doc);
    expect(p.trustPolicies[0]!.signatureVerification).toEqual({
      level: 'strict',
      override: { expiry: 'log' },
      verifyTimestamp: 'afterCertExpiry',
    });
    expect(p.trustPolicies[1]!.trustStores).toEqual([]);
    expect(p.trustPolicies[1]!.trustedIdentities).toEqual([]);
  });

  it('rejects malformed JSON, invalid UTF-8 and non-objects', () => {
    expectInvalid('{', 'malformed oci trust policy');
    expectInvalid(new Uint8Array([0x7b, 0xff, 0x7d]), 'not valid UTF-8');
    expectInvalid(null, 'must be a JSON object');
    expectInvalid([], 'must be a JSON object');
    expectInvalid('42', 'must be a JSON object');
  });

  it('rejects input over the size limit with ERR_SIZE_LIMIT_EXCEEDED', () => {
    expect(errorOf(() => parseOciTrustPolicy(' '.repeat(MAX_TRUST_POLICY_SIZE + 1))).code).toBe('ERR_SIZE_LIMIT_EXCEEDED');
    expect(errorOf(() => parseOciTrustPolicy(new Uint8Array(MAX_TRUST_POLICY_SIZE + 1))).code).toBe('ERR_SIZE_LIMIT_EXCEEDED');
  });
});

describe('parseOciTrustPolicy: document rules', () => {
  it('version must be present and "1.0"', () => {
    expectInvalid({ ...oci(), version: '' }, 'oci trust policy document has empty version, version must be specified');
    expectInvalid({ trustPolicies: [stmt()] }, 'has empty version');
    expectInvalid({ ...oci(), version: 'invalid' }, 'oci trust policy document uses unsupported version "invalid"');
    expectInvalid({ ...oci(), version: 1 }, 'unsupported version 1');
  });

  it('needs at least one statement', () => {
    expectInvalid({ version: '1.0', trustPolicies: [] }, 'oci trust policy document can not have zero trust policy statements');
    expectInvalid({ version: '1.0' }, 'can not have zero trust policy statements');
    expectInvalid({ version: '1.0', trustPolicies: {} }, 'trustPolicies that is not an array');
    expectInvalid({ version: '1.0', trustPolicies: [7] }, 'is not a JSON object');
  });

  it('statement names are required and unique', () => {
    expectInvalid(oci(stmt({ name: '' })), 'oci trust policy: a trust policy statement is missing a name, every statement requires a name');
    expectInvalid(oci(stmt({ name: undefined })), 'is missing a name');
    expectInvalid(oci(stmt({ name: 3 })), 'name that is not a string');
    expectInvalid(
      oci(stmt(), stmt({ registryScopes: ['registry.acme-rockets.io/software/legacy/metrics'] })),
      'multiple oci trust policy statements use the same name "wabbit", statement names must be unique',
    );
  });
});

describe('parseOciTrustPolicy: statement core rules', () => {
  it('signatureVerification level is required and known', () => {
    expectInvalid(
      oci(stmt({ signatureVerification: {} })),
      'oci trust policy: trust policy statement "wabbit" has invalid signatureVerification: signature verification level is empty or missing in the trust policy statement',
    );
    expectInvalid(oci(stmt({ signatureVerification: undefined })), 'level is empty or missing');
    expectInvalid(oci(stmt({ signatureVerification: 'strict' })), 'signatureVerification must be a JSON object');
    expectInvalid(
      oci(stmt({ signatureVerification: { level: 'invalid' } })),
      'trust policy statement "wabbit" has invalid signatureVerification: invalid signature verification level "invalid"',
    );
  });

  it.each(['strict', 'permissive', 'audit'])('level %s is valid with stores and identities', (level) => {
    expect(parseOciTrustPolicy(oci(stmt({ signatureVerification: { level } }))).trustPolicies[0]!.signatureVerification.level).toBe(level);
  });

  it('verifyTimestamp is always or afterCertExpiry', () => {
    for (const v of ['always', 'afterCertExpiry']) {
      expect(
        parseOciTrustPolicy(oci(stmt({ signatureVerification: { level: 'strict', verifyTimestamp: v } }))).trustPolicies[0]!
          .signatureVerification.verifyTimestamp,
      ).toBe(v);
    }
    expectInvalid(
      oci(stmt({ signatureVerification: { level: 'strict', verifyTimestamp: 'invalid' } })),
      'has invalid signatureVerification: verifyTimestamp must be "always" or "afterCertExpiry", but got "invalid"',
    );
    // vouch: checked for skip too
    expectInvalid(
      oci(stmt({ signatureVerification: { level: 'skip', verifyTimestamp: 'never' }, trustStores: [], trustedIdentities: [] })),
      'verifyTimestamp must be',
    );
  });

  it('overrides follow the level rules', () => {
    expect(
      parseOciTrustPolicy(oci(stmt({ signatureVerification: { level: 'strict', override: { revocation: 'skip', expiry: 'log' } } })))
        .trustPolicies[0]!.signatureVerification.override,
    ).toEqual({ revocation: 'skip', expiry: 'log' });
    expectInvalid(
      oci(stmt({ signatureVerification: { level: 'strict', override: { integrity: 'log' } } })),
      '"integrity" verification can not be overridden',
    );
    expectInvalid(
      oci(stmt({ signatureVerification: { level: 'strict', override: { expiry: 'skip' } } })),
      '"expiry" verification can not be skipped',
    );
    expectInvalid(
      oci(stmt({ signatureVerification: { level: 'skip', override: { revocation: 'log' } }, trustStores: [], trustedIdentities: [] })),
      `signature verification level "skip" can't be used to customize signature verification`,
    );
  });

  it('skip statements have no trust stores or identities', () => {
    expect(
      parseOciTrustPolicy(oci(stmt({ signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: [] }))),
    ).toBeTruthy();
    expect(
      parseOciTrustPolicy(oci(stmt({ signatureVerification: { level: 'skip' }, trustStores: null, trustedIdentities: undefined }))),
    ).toBeTruthy();
    const msg =
      'oci trust policy: trust policy statement "wabbit" is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped';
    expectInvalid(oci(stmt({ signatureVerification: { level: 'skip' } })), msg);
    expectInvalid(oci(stmt({ signatureVerification: { level: 'skip' }, trustedIdentities: [] })), msg);
    expectInvalid(oci(stmt({ signatureVerification: { level: 'skip' }, trustStores: [] })), msg);
  });

  it('other levels need both trust stores and identities', () => {
    const msg = 'trust policy statement "wabbit" is either missing trust stores or trusted identities, both must be specified';
    expectInvalid(oci(stmt({ trustStores: [] })), msg);
    expectInvalid(oci(stmt({ trustedIdentities: [] })), msg);
    expectInvalid(oci(stmt({ trustStores: undefined, trustedIdentities: undefined })), msg);
    expectInvalid(oci(stmt({ trustStores: 'ca:x' })), 'trustStores that is not an array of strings');
    expectInvalid(oci(stmt({ trustedIdentities: [1] })), 'trustedIdentities that is not an array of strings');
  });

  it('trust store references are <type>:<name>', () => {
    expect(parseOciTrustPolicy(oci(stmt({ trustStores: ['ca:a', 'signingAuthority:b_c', 'tsa:d.e-f'] })))).toBeTruthy();
    expectInvalid(
      oci(stmt({ trustStores: ['ca'] })),
      'has malformed trust store value "ca". The required format is <TrustStoreType>:<TrustStoreName>',
    );
    expectInvalid(oci(stmt({ trustStores: [''] })), 'has malformed trust store value ""');
    expectInvalid(
      oci(stmt({ trustStores: ['invalid:test'] })),
      'uses an unsupported trust store type "invalid" in trust store value "invalid:test"',
    );
    expectInvalid(oci(stmt({ trustStores: ['CA:test'] })), 'unsupported trust store type "CA"');
    expectInvalid(
      oci(stmt({ trustStores: ['ca:'] })),
      'uses an unsupported trust store name "" in trust store value "ca:". Named store name needs to follow [a-zA-Z0-9_.-]+ format',
    );
    expectInvalid(oci(stmt({ trustStores: ['ca:#@$@$'] })), 'unsupported trust store name "#@$@$"');
    expectInvalid(oci(stmt({ trustStores: ['ca:a/b'] })), 'unsupported trust store name "a/b"');
    expectInvalid(oci(stmt({ trustStores: ['ca:..'] })), 'cannot be "." or ".."');
  });

  it('trusted identities: wildcard alone, prefix:value, x509.subject DNs valid and not overlapping', () => {
    expect(parseOciTrustPolicy(oci(stmt({ trustedIdentities: ['*'] })))).toBeTruthy();
    expect(parseOciTrustPolicy(oci(stmt({ trustedIdentities: ['unknown:my-trusted-identity'] })))).toBeTruthy();
    expect(parseOciTrustPolicy(oci(stmt({ trustedIdentities: [ID, 'x509.subject:C=US,ST=WA,O=other'] })))).toBeTruthy();
    expectInvalid(
      oci(stmt({ trustedIdentities: ['*', ID] })),
      `trust policy statement "wabbit" uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values`,
    );
    expectInvalid(oci(stmt({ trustedIdentities: [''] })), 'trust policy statement "wabbit" has an empty trusted identity');
    expectInvalid(oci(stmt({ trustedIdentities: ['C=US, ST=WA, O=x'] })), 'has trusted identity "C=US, ST=WA, O=x" missing separator');
    expectInvalid(oci(stmt({ trustedIdentities: ['x509.subject:'] })), 'has trusted identity "x509.subject:" without an identity value');
    expectInvalid(
      oci(stmt({ trustedIdentities: ['x509.subject:,,,'] })),
      'has trusted identity "x509.subject:,,," with invalid identity value: parsing distinguished name (DN) ",,," failed with err: incomplete type, value pair',
    );
    expectInvalid(oci(stmt({ trustedIdentities: ['x509.subject:C=US,C=IN'] })), 'has duplicate RDN attribute for "C"');
    expectInvalid(oci(stmt({ trustedIdentities: ['x509.subject:C=US,ST=WA'] })), 'has no mandatory RDN attribute for "O"');
    expectInvalid(oci(stmt({ trustedIdentities: ['x509.subject:C=US+ST=WA,O=MyOrg'] })), 'has multi-valued RDN attributes');
    expectInvalid(oci(stmt({ trustedIdentities: ['x509.subject:C=US,ST=WA,O=#0c0141'] })), 'containing "=#"');
    expectInvalid(
      oci(stmt({ trustedIdentities: ['x509.subject:C=US,ST=WA,O=MyOrg', 'x509.subject:C=US,ST=WA,O=MyOrg,X=Y'] })),
      'trust policy statement "wabbit" has overlapping x509 trustedIdentities, "x509.subject:C=US,ST=WA,O=MyOrg" overlaps with "x509.subject:C=US,ST=WA,O=MyOrg,X=Y"',
    );
    expectInvalid(oci(stmt({ trustedIdentities: [ID, ID] })), 'overlapping x509 trustedIdentities');
  });
});

describe('parseOciTrustPolicy: registryScopes', () => {
  it.each([
    '*',
    'example.com/rep',
    'example.com:8080/rep/rep2',
    'example.com/rep/subrep/subsub',
    '10.10.10.10:8080/rep/rep2',
    'domain/rep',
    'domain:1234/rep',
    'local/my-layout',
    'a.b-c.io/x__y/z.w',
  ])('accepts %s', (scope) => {
    expect(parseOciTrustPolicy(oci(stmt({ registryScopes: [scope] }))).trustPolicies[0]!.registryScopes).toEqual([scope]);
  });

  it.each([
    '',
    '1:1',
    'a,b',
    'abcd',
    '1111',
    'example.com/rep:tag',
    'example.com/rep/subrep/sub:latest',
    'example.com',
    'rep/rep2:latest',
    '10.10.10.10',
    'example.com/rep@sha256:abc',
    'https://example.com/rep',
    'example.com/Rep',
    'example.com/rep/',
    '-a.com/rep',
  ])('rejects %j', (scope) => {
    expectInvalid(
      oci(stmt({ registryScopes: [scope] })),
      `registry scope ${JSON.stringify(scope)} is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout`,
    );
  });

  it.each(['example.com/*', '*/', 'example*/', 'ex*test', '**'])('rejects the wildcard inside %j', (scope) => {
    expectInvalid(oci(stmt({ registryScopes: [scope] })), `registry scope ${JSON.stringify(scope)} with wild card(s) is not valid`);
  });

  it('needs at least one scope, * alone, each scope in one statement', () => {
    expectInvalid(
      oci(stmt({ registryScopes: [] })),
      'oci trust policy statement "wabbit" has zero registry scopes, it must specify registry scopes with at least one value',
    );
    expectInvalid(oci(stmt({ registryScopes: undefined })), 'has zero registry scopes');
    expectInvalid(oci(stmt({ registryScopes: 'a/b' })), 'registryScopes that is not an array of strings');
    expectInvalid(
      oci(stmt({ registryScopes: ['*', 'example.com/rep'] })),
      `oci trust policy statement "wabbit" uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values`,
    );
    expectInvalid(
      oci(stmt({ registryScopes: ['example.com/a'] }), stmt({ name: 'two', registryScopes: ['example.com/b', 'example.com/a'] })),
      'registry scope "example.com/a" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement',
    );
    expectInvalid(oci(stmt({ registryScopes: ['example.com/a', 'example.com/a'] })), 'present in multiple oci trust policy statements');
    expectInvalid(
      oci(stmt({ registryScopes: ['*'] }), stmt({ name: 'two', registryScopes: ['*'] })),
      'registry scope "*" is present in multiple',
    );
  });

  it('rejects skip with the * scope (spec rule; notation accepts it)', () => {
    expectInvalid(
      oci(stmt({ registryScopes: ['*'], signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: [] })),
      `oci trust policy statement "wabbit" uses the wildcard registry scope '*' with signature verification level "skip"`,
    );
    expect(parseOciTrustPolicy(oci(stmt({ registryScopes: ['*'], signatureVerification: { level: 'audit' } })))).toBeTruthy();
  });

  it('checks statements before scopes, as notation does', () => {
    expectInvalid(oci(stmt({ registryScopes: [], trustStores: ['bad'] })), 'malformed trust store value');
  });
});

describe('parseBlobTrustPolicy', () => {
  it('accepts the specification example', () => {
    const doc = blob(
      blobStmt({ name: 'wabbit-networks-blobs' }),
      blobStmt({
        name: 'global-policy-for-all-blobs',
        globalPolicy: true,
        signatureVerification: { level: 'audit' },
        trustedIdentities: ['*'],
      }),
    );
    const p = parseBlobTrustPolicy(JSON.stringify(doc));
    expect(p.trustPolicies[1]!.globalPolicy).toBe(true);
    expect(p.trustPolicies[0]!.globalPolicy).toBeUndefined();
    expect('registryScopes' in p.trustPolicies[0]!).toBe(false);
  });

  it('applies the document and statement rules with the blob wording', () => {
    expectInvalid(
      { ...blob(), version: '' },
      'blob trust policy document has empty version, version must be specified',
      parseBlobTrustPolicy,
    );
    expectInvalid({ ...blob(), version: 'invalid' }, 'blob trust policy document uses unsupported version "invalid"', parseBlobTrustPolicy);
    expectInvalid(
      { version: '1.0', trustPolicies: [] },
      'blob trust policy document can not have zero trust policy statements',
      parseBlobTrustPolicy,
    );
    expectInvalid(
      blob(blobStmt({ name: '' })),
      'blob trust policy: a trust policy statement is missing a name, every statement requires a name',
      parseBlobTrustPolicy,
    );
    expectInvalid(
      blob(blobStmt(), blobStmt()),
      'multiple blob trust policy statements use the same name "wabbit", statement names must be unique',
      parseBlobTrustPolicy,
    );
    expectInvalid(
      blob(blobStmt({ trustStores: ['x:y'] })),
      'blob trust policy: trust policy statement "wabbit" uses an unsupported trust store type "x"',
      parseBlobTrustPolicy,
    );
  });

  it('allows at most one global statement, never skip', () => {
    expectInvalid(
      blob(blobStmt({ globalPolicy: true }), blobStmt({ name: 'two', globalPolicy: true })),
      'multiple blob trust policy statements have globalPolicy set to true. Only one trust policy statement can be marked as global policy',
      parseBlobTrustPolicy,
    );
    expectInvalid(
      blob(blobStmt({ globalPolicy: true, signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: [] })),
      'global blob trust policy statement "wabbit" cannot have verification level set to skip',
      parseBlobTrustPolicy,
    );
    expect(parseBlobTrustPolicy(blob(blobStmt({ globalPolicy: false }), blobStmt({ name: 'two', globalPolicy: true })))).toBeTruthy();
    expectInvalid(blob(blobStmt({ globalPolicy: 'yes' })), 'must be true or false', parseBlobTrustPolicy);
  });

  it('rejects registryScopes in blob statements', () => {
    expectInvalid(
      blob(blobStmt({ registryScopes: ['a.io/b'] })),
      'has registryScopes, which blob trust policies do not use',
      parseBlobTrustPolicy,
    );
  });

  it('accepts skip statements that are not global', () => {
    expect(
      parseBlobTrustPolicy(blob(blobStmt({ signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: [] }))),
    ).toBeTruthy();
  });
});

describe('property: the policy parsers return a document or throw VouchError', () => {
  const level = fc.constantFrom('strict', 'permissive', 'audit', 'skip', '', 'bogus', undefined, 3);
  const action = fc.constantFrom('enforce', 'log', 'skip', 'x', undefined, null);
  const scope = fc.oneof(fc.constantFrom('*', 'a.io/b', 'a.io/b:tag', '', 'x'), fc.string({ maxLength: 20 }));
  const identity = fc.oneof(
    fc.constantFrom('*', ID, 'x509.subject:', 'x509.subject:C=US,ST=WA,O=x,X=#00', 'foo:bar', ''),
    fc.string({ maxLength: 30 }).map((s) => `x509.subject:${s}`),
    fc.string({ maxLength: 20 }),
  );
  const store = fc.oneof(fc.constantFrom('ca:a', 'tsa:t', 'signingAuthority:s', 'ca:', 'x:y', 'ca'), fc.string({ maxLength: 15 }));
  const statement = fc.record(
    {
      name: fc.oneof(fc.constantFrom('a', 'b', ''), fc.string({ maxLength: 8 }), fc.integer()),
      registryScopes: fc.oneof(fc.array(scope, { maxLength: 3 }), fc.constant(null), fc.string({ maxLength: 5 })),
      signatureVerification: fc.oneof(
        fc.record(
          {
            level,
            override: fc.oneof(
              fc.dictionary(
                fc.constantFrom('integrity', 'authenticity', 'expiry', 'revocation', 'authenticTimestamp', 'x', '__proto__'),
                action,
              ),
              fc.constant(null),
              fc.constant([]),
            ),
            verifyTimestamp: fc.constantFrom('always', 'afterCertExpiry', 'x', '', undefined, 1),
          },
          { requiredKeys: [] },
        ),
        fc.constant(null),
        fc.string({ maxLength: 5 }),
      ),
      trustStores: fc.oneof(fc.array(store, { maxLength: 3 }), fc.constant(null), fc.constant('ca:x')),
      trustedIdentities: fc.oneof(fc.array(identity, { maxLength: 3 }), fc.constant(null)),
      globalPolicy: fc.oneof(fc.boolean(), fc.constant('true')),
    },
    { requiredKeys: [] },
  );
  const doc = fc.record(
    {
      version: fc.oneof(fc.constant('1.0'), fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null)),
      trustPolicies: fc.oneof(
        fc.array(statement, { maxLength: 4 }),
        fc.constant(null),
        fc.constant(1),
        fc.array(fc.anything(), { maxLength: 2 }),
      ),
    },
    { requiredKeys: [] },
  );

  function check(parse: (x: unknown) => unknown, input: unknown) {
    try {
      const out = parse(input) as { version: string };
      expect(out.version).toBe('1.0');
    } catch (e) {
      expect(isVouchError(e), String(e)).toBe(true);
    }
  }

  it('structured documents', () => {
    fc.assert(
      fc.property(doc, (d) => {
        check(parseOciTrustPolicy, d);
        check(parseBlobTrustPolicy, d);
        check(parseOciTrustPolicy, JSON.stringify(d));
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary JSON values, strings and bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.string(), fc.uint8Array({ maxLength: 64 }), fc.anything()), (x) => {
        check(parseOciTrustPolicy, x);
        check(parseBlobTrustPolicy, x);
      }),
      { numRuns: 2000 },
    );
  });

  it('some generated documents are valid (the generator reaches the success path)', () => {
    const d = { version: '1.0', trustPolicies: [stmt({ signatureVerification: { level: 'audit', override: { revocation: 'skip' } } })] };
    expect(parseOciTrustPolicy(d).trustPolicies).toHaveLength(1);
  });
});
