/**
 * test-vectors/trust-policies/: valid documents, one invalid document per validation rule of
 * item 5 (OCI and blob), selection expectations and the level table. Also the policy and the
 * trust store (test-vectors/truststore/, notation's layout) used by the verification cases.
 */

import { KEY_SPECS } from '@vouch/core';
import { certificatesToPem } from '@vouch/x509';
import { add, write, writeJson } from './common.js';
import type { Pkis } from './pki.js';

const TPI = { code: 'ERR_TRUST_POLICY_INVALID' } as const;
const OK = { ok: true } as const;
const ID = 'x509.subject: C=US, ST=WA, O=vouch';

type Statement = Record<string, unknown>;
const st = (name: string, scopes: unknown, more: Statement = {}): Statement => ({
  name,
  registryScopes: scopes,
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:vectors'],
  trustedIdentities: [ID],
  ...more,
});
const doc = (...trustPolicies: unknown[]) => ({ version: '1.0', trustPolicies });

export function generatePolicies(): void {
  const oci: [string, string, unknown, { ok: true } | { code: string }][] = [
    [
      'spec-example',
      'the example of the trust policy specification',
      doc(
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
      ),
      OK,
    ],
    [
      'all-levels',
      'strict, permissive, audit, skip and a wildcard statement',
      doc(
        st('strict', ['r.example/strict']),
        st('permissive', ['r.example/permissive'], { signatureVerification: { level: 'permissive' } }),
        st('audit', ['r.example/audit', 'localhost:5000/a/b'], { signatureVerification: { level: 'audit' } }),
        { name: 'skip', registryScopes: ['r.example/skip'], signatureVerification: { level: 'skip' } },
        st('global', ['*'], { trustedIdentities: ['*'] }),
      ),
      OK,
    ],
    [
      'revocation-skip-override',
      'override revocation: skip (the only skippable validation)',
      doc(st('p', ['r.example/a'], { signatureVerification: { level: 'strict', override: { revocation: 'skip', authenticity: 'log' } } })),
      OK,
    ],
    [
      'identity-s-alias-and-foreign-prefix',
      'S alias and an identity with an unknown prefix (ignored)',
      doc(st('p', ['r.example/a'], { trustedIdentities: ['x509.subject: C=US, S=WA, O=vouch', 'x509.other: anything'] })),
      OK,
    ],
    [
      'signing-authority-and-tsa-stores',
      'ca, signingAuthority and tsa stores',
      doc(st('p', ['r.example/a'], { trustStores: ['ca:a', 'signingAuthority:b', 'tsa:c.d_e-f'] })),
      OK,
    ],
    // invalid: document
    ['version-missing', 'no version', { trustPolicies: [st('p', ['r.example/a'])] }, TPI],
    ['version-unsupported', 'version 2.0', { version: '2.0', trustPolicies: [st('p', ['r.example/a'])] }, TPI],
    ['no-statements', 'empty trustPolicies', doc(), TPI],
    ['trust-policies-not-array', 'trustPolicies is an object', { version: '1.0', trustPolicies: { name: 'p' } }, TPI],
    ['statement-not-object', 'a statement that is a string', doc('p'), TPI],
    // names
    ['name-missing', 'statement without a name', doc({ ...st('p', ['r.example/a']), name: undefined }), TPI],
    ['name-duplicate', 'two statements named alike', doc(st('p', ['r.example/a']), st('p', ['r.example/b'])), TPI],
    // signatureVerification
    ['level-missing', 'no signatureVerification', doc({ ...st('p', ['r.example/a']), signatureVerification: undefined }), TPI],
    ['level-unknown', 'level "lenient"', doc(st('p', ['r.example/a'], { signatureVerification: { level: 'lenient' } })), TPI],
    [
      'override-on-skip',
      'override with level skip',
      doc({ name: 'p', registryScopes: ['r.example/a'], signatureVerification: { level: 'skip', override: { expiry: 'log' } } }),
      TPI,
    ],
    [
      'override-integrity',
      'override integrity',
      doc(st('p', ['r.example/a'], { signatureVerification: { level: 'strict', override: { integrity: 'log' } } })),
      TPI,
    ],
    [
      'override-unknown-type',
      'override "signature"',
      doc(st('p', ['r.example/a'], { signatureVerification: { level: 'strict', override: { signature: 'log' } } })),
      TPI,
    ],
    [
      'override-unknown-action',
      'override expiry "warn"',
      doc(st('p', ['r.example/a'], { signatureVerification: { level: 'strict', override: { expiry: 'warn' } } })),
      TPI,
    ],
    [
      'override-skip-not-revocation',
      'override expiry "skip" (only revocation may be skipped)',
      doc(st('p', ['r.example/a'], { signatureVerification: { level: 'strict', override: { expiry: 'skip' } } })),
      TPI,
    ],
    [
      'verify-timestamp-invalid',
      'verifyTimestamp "never"',
      doc(st('p', ['r.example/a'], { signatureVerification: { level: 'strict', verifyTimestamp: 'never' } })),
      TPI,
    ],
    // stores and identities vs level
    [
      'skip-with-trust-stores',
      'skip statement with trustStores',
      doc({ name: 'p', registryScopes: ['r.example/a'], signatureVerification: { level: 'skip' }, trustStores: ['ca:vectors'] }),
      TPI,
    ],
    [
      'skip-with-identities',
      'skip statement with trustedIdentities',
      doc({ name: 'p', registryScopes: ['r.example/a'], signatureVerification: { level: 'skip' }, trustedIdentities: ['*'] }),
      TPI,
    ],
    ['strict-without-trust-stores', 'strict statement without trustStores', doc({ ...st('p', ['r.example/a']), trustStores: [] }), TPI],
    [
      'strict-without-identities',
      'strict statement without trustedIdentities',
      doc({ ...st('p', ['r.example/a']), trustedIdentities: undefined }),
      TPI,
    ],
    // trust store references
    ['trust-store-no-type', 'trust store reference without a type', doc(st('p', ['r.example/a'], { trustStores: ['vectors'] })), TPI],
    ['trust-store-unknown-type', 'trust store type "x509"', doc(st('p', ['r.example/a'], { trustStores: ['x509:vectors'] })), TPI],
    ['trust-store-bad-name', 'trust store name with a space', doc(st('p', ['r.example/a'], { trustStores: ['ca:my store'] })), TPI],
    // identities
    [
      'identity-wildcard-with-others',
      '"*" together with an x509 identity',
      doc(st('p', ['r.example/a'], { trustedIdentities: ['*', ID] })),
      TPI,
    ],
    ['identity-empty', 'empty identity string', doc(st('p', ['r.example/a'], { trustedIdentities: [''] })), TPI],
    [
      'identity-missing-separator',
      'identity without "prefix:"',
      doc(st('p', ['r.example/a'], { trustedIdentities: ['C=US, ST=WA, O=vouch'] })),
      TPI,
    ],
    [
      'identity-x509-empty-value',
      '"x509.subject:" without a DN',
      doc(st('p', ['r.example/a'], { trustedIdentities: ['x509.subject:'] })),
      TPI,
    ],
    [
      'identity-missing-mandatory',
      'DN without ST',
      doc(st('p', ['r.example/a'], { trustedIdentities: ['x509.subject: C=US, O=vouch'] })),
      TPI,
    ],
    [
      'identity-hex-value',
      'DN with "=#" (CVE-2023-25656)',
      doc(st('p', ['r.example/a'], { trustedIdentities: ['x509.subject: C=US, ST=WA, O=#0c05766f756368'] })),
      TPI,
    ],
    [
      'identity-multi-valued',
      'DN with a multi-valued RDN',
      doc(st('p', ['r.example/a'], { trustedIdentities: ['x509.subject: C=US, ST=WA, O=vouch+OU=x'] })),
      TPI,
    ],
    [
      'identity-duplicate-attribute',
      'DN with O twice',
      doc(st('p', ['r.example/a'], { trustedIdentities: ['x509.subject: C=US, ST=WA, O=a, O=b'] })),
      TPI,
    ],
    [
      'identity-overlap',
      'one identity a subset of another',
      doc(st('p', ['r.example/a'], { trustedIdentities: [ID, `${ID}, OU=Vectors`] })),
      TPI,
    ],
    ['identity-not-string', 'identity that is a number', doc(st('p', ['r.example/a'], { trustedIdentities: [42] })), TPI],
    // registry scopes
    ['scopes-missing', 'no registryScopes', doc({ ...st('p', undefined) }), TPI],
    ['scopes-empty', 'registryScopes []', doc(st('p', [])), TPI],
    ['scope-wildcard-with-others', '"*" with another scope', doc(st('p', ['*', 'r.example/a'])), TPI],
    ['scope-partial-wildcard', 'scope "r.example/*"', doc(st('p', ['r.example/*'])), TPI],
    ['scope-with-tag', 'scope with a tag', doc(st('p', ['r.example/a:v1'])), TPI],
    ['scope-with-digest', 'scope with a digest', doc(st('p', [`r.example/a@sha256:${'0'.repeat(64)}`])), TPI],
    ['scope-with-scheme', 'scope with https://', doc(st('p', ['https://r.example/a'])), TPI],
    ['scope-without-repository', 'scope that is only a host', doc(st('p', ['r.example'])), TPI],
    ['scope-uppercase-repository', 'repository path with upper-case letters', doc(st('p', ['r.example/MyRepo'])), TPI],
    ['scope-duplicate', 'a scope in two statements', doc(st('p', ['r.example/a']), st('q', ['r.example/a'])), TPI],
    ['scope-wildcard-twice', '"*" in two statements', doc(st('p', ['*']), st('q', ['*'])), TPI],
    [
      'scope-wildcard-skip',
      '"*" with level skip (spec forbids; GAP: notation accepts)',
      doc({ name: 'p', registryScopes: ['*'], signatureVerification: { level: 'skip' } }),
      TPI,
    ],
  ];
  for (const [id, description, value, expect] of oci) {
    const rel = writeJson(`trust-policies/oci/${'ok' in expect ? 'valid' : 'invalid'}/${id}.json`, value);
    add({
      id: `trust-policy-oci-${id}`,
      kind: 'trust-policy',
      description,
      rule: 'trust policy: OCI trust policy validation',
      inputs: { policy: rel },
      params: { type: 'oci' },
      expect,
    });
  }
  const malformed = write('trust-policies/oci/invalid/malformed-json.json', '{"version": "1.0", "trustPolicies": [\n');
  add({
    id: 'trust-policy-oci-malformed-json',
    kind: 'trust-policy',
    description: 'not JSON',
    rule: 'trust policy: OCI trust policy validation',
    inputs: { policy: malformed },
    params: { type: 'oci' },
    expect: TPI,
  });

  const blobSt = (name: string, more: Statement = {}): Statement => ({
    name,
    signatureVerification: { level: 'strict' },
    trustStores: ['ca:vectors'],
    trustedIdentities: [ID],
    ...more,
  });
  const blob: [string, string, unknown, { ok: true } | { code: string }][] = [
    [
      'spec-example',
      'the blob example of the specification',
      doc(
        blobSt('wabbit-networks-blobs'),
        blobSt('global-policy-for-all-blobs', { globalPolicy: true, signatureVerification: { level: 'audit' }, trustedIdentities: ['*'] }),
      ),
      OK,
    ],
    ['no-global', 'named statements only', doc(blobSt('a'), blobSt('b', { signatureVerification: { level: 'permissive' } })), OK],
    ['two-global', 'two globalPolicy statements', doc(blobSt('a', { globalPolicy: true }), blobSt('b', { globalPolicy: true })), TPI],
    [
      'global-skip',
      'global statement with level skip (GAP: notation never rejects it)',
      doc({ name: 'a', globalPolicy: true, signatureVerification: { level: 'skip' } }),
      TPI,
    ],
    ['registry-scopes', 'a blob statement with registryScopes', doc(blobSt('a', { registryScopes: ['r.example/a'] })), TPI],
    ['global-not-boolean', 'globalPolicy "yes"', doc(blobSt('a', { globalPolicy: 'yes' })), TPI],
    ['name-duplicate', 'two statements named alike', doc(blobSt('a'), blobSt('a')), TPI],
    [
      'skip-with-identities',
      'skip statement with identities',
      doc({ name: 'a', signatureVerification: { level: 'skip' }, trustedIdentities: ['*'] }),
      TPI,
    ],
  ];
  for (const [id, description, value, expect] of blob) {
    const rel = writeJson(`trust-policies/blob/${'ok' in expect ? 'valid' : 'invalid'}/${id}.json`, value);
    add({
      id: `trust-policy-blob-${id}`,
      kind: 'trust-policy',
      description,
      rule: 'trust policy: blob trust policy validation',
      inputs: { policy: rel },
      params: { type: 'blob' },
      expect,
    });
  }

  // ---- selection
  const sel = writeJson(
    'trust-policies/select/oci.json',
    doc(
      st('exact', ['registry.example/team/app', 'localhost:5000/app']),
      st('other', ['registry.example/team/other']),
      { name: 'unsigned', registryScopes: ['registry.example/team/unsigned'], signatureVerification: { level: 'skip' } },
      st('global', ['*'], { trustedIdentities: ['*'] }),
    ),
  );
  const noWildcard = writeJson('trust-policies/select/oci-no-wildcard.json', doc(st('exact', ['registry.example/team/app'])));
  const selections: [string, string, Record<string, unknown>, { ok: true; statement: string } | { code: string }][] = [
    ['exact', sel, { scope: 'registry.example/team/app' }, { ok: true, statement: 'exact' }],
    ['exact-with-port', sel, { scope: 'localhost:5000/app' }, { ok: true, statement: 'exact' }],
    ['exact-beats-wildcard', sel, { scope: 'registry.example/team/other' }, { ok: true, statement: 'other' }],
    ['skip-statement', sel, { scope: 'registry.example/team/unsigned' }, { ok: true, statement: 'unsigned' }],
    ['wildcard', sel, { scope: 'registry.example/team/unknown' }, { ok: true, statement: 'global' }],
    ['no-prefix-match', noWildcard, { scope: 'registry.example/team/app/sub' }, { code: 'ERR_NO_APPLICABLE_TRUST_POLICY' }],
    ['no-expansion', noWildcard, { scope: 'registry.example/team' }, { code: 'ERR_NO_APPLICABLE_TRUST_POLICY' }],
    ['reference', sel, { reference: `registry.example/team/app@sha256:${'a'.repeat(64)}` }, { ok: true, statement: 'exact' }],
    ['reference-wildcard', sel, { reference: `docker.io/library/alpine@sha256:${'a'.repeat(64)}` }, { ok: true, statement: 'global' }],
    ['reference-with-tag', sel, { reference: 'registry.example/team/app:v1' }, { code: 'ERR_INVALID_REFERENCE' }],
    ['invalid-scope', sel, { scope: 'not a scope' }, { code: 'ERR_INVALID_REFERENCE' }],
  ];
  for (const [id, policy, params, expect] of selections) {
    add({
      id: `trust-policy-select-oci-${id}`,
      kind: 'trust-policy-select',
      description: `select for ${JSON.stringify(params)}`,
      rule: 'trust policy: policy selection',
      inputs: { policy },
      params: { type: 'oci', ...params },
      expect,
    });
  }
  const blobSel = 'trust-policies/blob/valid/spec-example.json';
  const blobNoGlobal = 'trust-policies/blob/valid/no-global.json';
  const blobSelections: [string, string, Record<string, unknown>, { ok: true; statement: string } | { code: string }][] = [
    ['by-name', blobSel, { name: 'wabbit-networks-blobs' }, { ok: true, statement: 'wabbit-networks-blobs' }],
    ['global', blobSel, {}, { ok: true, statement: 'global-policy-for-all-blobs' }],
    ['unknown-name', blobSel, { name: 'nope' }, { code: 'ERR_NO_APPLICABLE_TRUST_POLICY' }],
    ['no-global', blobNoGlobal, {}, { code: 'ERR_NO_APPLICABLE_TRUST_POLICY' }],
  ];
  for (const [id, policy, params, expect] of blobSelections) {
    add({
      id: `trust-policy-select-blob-${id}`,
      kind: 'trust-policy-select',
      description: `select blob policy ${JSON.stringify(params)}`,
      rule: 'trust policy: blob policy selection',
      inputs: { policy },
      params: { type: 'blob', ...params },
      expect,
    });
  }

  // ---- level table
  const E = 'enforce';
  const L = 'log';
  const S = 'skip';
  const levels: [string, Record<string, unknown>, Record<string, string>][] = [
    ['strict', { level: 'strict' }, { integrity: E, authenticity: E, authenticTimestamp: E, expiry: E, revocation: E }],
    ['permissive', { level: 'permissive' }, { integrity: E, authenticity: E, authenticTimestamp: L, expiry: L, revocation: L }],
    ['audit', { level: 'audit' }, { integrity: E, authenticity: L, authenticTimestamp: L, expiry: L, revocation: L }],
    ['skip', { level: 'skip' }, { integrity: S, authenticity: S, authenticTimestamp: S, expiry: S, revocation: S }],
    [
      'strict-override',
      { level: 'strict', override: { expiry: 'log', revocation: 'skip' } },
      { integrity: E, authenticity: E, authenticTimestamp: E, expiry: L, revocation: S },
    ],
    [
      'audit-override',
      { level: 'audit', override: { authenticity: 'enforce' } },
      { integrity: E, authenticity: E, authenticTimestamp: L, expiry: L, revocation: L },
    ],
  ];
  for (const [id, sv, actions] of levels) {
    add({
      id: `level-${id}`,
      kind: 'verification-level',
      description: `actions of ${JSON.stringify(sv)}`,
      rule: 'trust policy: level → enforce/log/skip per validation type',
      inputs: {},
      params: { signatureVerification: sv },
      expect: { ok: true, level: sv.level, custom: 'override' in sv, actions },
    });
  }
}

/** Scopes of the verification policy, by statement name. */
export const VERIFY_SCOPES = {
  strict: 'local/strict',
  identity: 'local/identity',
  identityMismatch: 'local/identity-mismatch',
  permissive: 'local/permissive',
  audit: 'local/audit',
  skip: 'local/skip',
  signingAuthority: 'local/signing-authority',
  ec256Only: 'local/ec256-only',
  tsa: 'local/tsa',
  tsaAfterExpiry: 'local/tsa-after-expiry',
  expiryLog: 'local/expiry-log',
  missingStore: 'local/missing-store',
  selfSigned: 'local/self-signed',
} as const;

/** The trust store of the verification cases, in notation's directory layout, and the policy. */
export function generateVerifyPolicy(pkis: Pkis): { policy: string; truststore: string } {
  for (const spec of KEY_SPECS) {
    const root = pkis.bySpec[spec].root.certificate;
    write(`truststore/x509/ca/vectors-all/${spec.toLowerCase()}.pem`, certificatesToPem([root]));
    write(`truststore/x509/signingAuthority/vectors-all/${spec.toLowerCase()}.pem`, certificatesToPem([root]));
  }
  write('truststore/x509/ca/vectors-ec256/root.pem', certificatesToPem([pkis.bySpec['EC-256'].root.certificate]));
  write('truststore/x509/ca/vectors-self-signed/cert.pem', certificatesToPem([pkis.selfSigned.certificate]));
  write('truststore/x509/tsa/vectors-tsa/root.pem', certificatesToPem([pkis.other.root.certificate]));
  const s = (name: string, scope: string, more: Statement = {}): Statement => ({
    name,
    registryScopes: [scope],
    signatureVerification: { level: 'strict' },
    trustStores: ['ca:vectors-all'],
    trustedIdentities: ['*'],
    ...more,
  });
  const V = VERIFY_SCOPES;
  const policy = writeJson(
    'trust-policies/verify.oci.json',
    doc(
      s('strict', V.strict),
      s('identity', V.identity, { trustedIdentities: [ID] }),
      s('identity-mismatch', V.identityMismatch, { trustedIdentities: ['x509.subject: C=US, ST=WA, O=someone-else'] }),
      s('permissive', V.permissive, { signatureVerification: { level: 'permissive' } }),
      s('audit', V.audit, { signatureVerification: { level: 'audit' } }),
      { name: 'skip', registryScopes: [V.skip], signatureVerification: { level: 'skip' } },
      s('signing-authority', V.signingAuthority, { trustStores: ['signingAuthority:vectors-all'] }),
      s('ec256-only', V.ec256Only, { trustStores: ['ca:vectors-ec256'] }),
      s('tsa', V.tsa, { trustStores: ['ca:vectors-all', 'tsa:vectors-tsa'] }),
      s('tsa-after-expiry', V.tsaAfterExpiry, {
        trustStores: ['ca:vectors-all', 'tsa:vectors-tsa'],
        signatureVerification: { level: 'strict', verifyTimestamp: 'afterCertExpiry' },
      }),
      s('expiry-log', V.expiryLog, { signatureVerification: { level: 'strict', override: { expiry: 'log' } } }),
      s('missing-store', V.missingStore, { trustStores: ['ca:does-not-exist'] }),
      s('self-signed', V.selfSigned, { trustStores: ['ca:vectors-self-signed'] }),
    ),
  );
  return { policy, truststore: 'truststore' };
}
