import { isVouchError } from '@vouch/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_DN_LENGTH,
  matchesTrustedIdentity,
  parseDistinguishedName,
  parseTrustedIdentity,
  subjectAttributes,
  trustedIdentitiesOverlap,
} from './dn.js';

describe('parseDistinguishedName', () => {
  it('parses RDNs in written order', () => {
    expect(parseDistinguishedName('CN=Alice,O=Acme,C=US')).toEqual([
      [{ type: 'CN', value: 'Alice' }],
      [{ type: 'O', value: 'Acme' }],
      [{ type: 'C', value: 'US' }],
    ]);
  });

  it('returns the empty DN for an empty or blank string', () => {
    expect(parseDistinguishedName('')).toEqual([]);
    expect(parseDistinguishedName('   ')).toEqual([]);
  });

  it('ignores unescaped spaces around types and values, keeps inner spaces', () => {
    expect(parseDistinguishedName(' C = US ,  ST=WA, O=  My.  Org  ')).toEqual([
      [{ type: 'C', value: 'US' }],
      [{ type: 'ST', value: 'WA' }],
      [{ type: 'O', value: 'My.  Org' }],
    ]);
  });

  it('decodes RFC 4514 escapes', () => {
    const [[o]] = [parseDistinguishedName('O=My "special" Org \\, \\; \\\\ others')[0]!];
    expect(o).toEqual({ type: 'O', value: 'My "special" Org , ; \\ others' });
    expect(parseDistinguishedName('CN=a\\+b\\<c\\>d\\=e\\#f\\"g')[0]![0]!.value).toBe('a+b<c>d=e#f"g');
    expect(parseDistinguishedName('CN=\\#lead')[0]![0]!.value).toBe('#lead');
  });

  it('keeps escaped leading and trailing spaces', () => {
    expect(parseDistinguishedName('CN=\\ a \\ ')[0]![0]!.value).toBe(' a  ');
    expect(parseDistinguishedName('CN=a\\ ,O=b')[0]![0]!.value).toBe('a ');
  });

  it('decodes hex-pair escapes as UTF-8', () => {
    expect(parseDistinguishedName('CN=Lu\\C4\\8Di\\c4\\87')[0]![0]!.value).toBe('Lučić');
    expect(parseDistinguishedName('CN=\\41BC')[0]![0]!.value).toBe('ABC');
  });

  it('rejects invalid UTF-8 in hex escapes and bad escapes', () => {
    expect(() => parseDistinguishedName('CN=\\C4')).toThrowWithCode('ERR_MALFORMED_INPUT');
    expect(() => parseDistinguishedName('CN=\\zz')).toThrowWithCode('ERR_MALFORMED_INPUT');
    expect(() => parseDistinguishedName('CN=\\4')).toThrowWithCode('ERR_MALFORMED_INPUT');
    expect(() => parseDistinguishedName('CN=abc\\')).toThrowWithCode('ERR_MALFORMED_INPUT');
  });

  it('parses multi-valued RDNs', () => {
    expect(parseDistinguishedName('CN=a+OU=b,O=c')).toEqual([
      [
        { type: 'CN', value: 'a' },
        { type: 'OU', value: 'b' },
      ],
      [{ type: 'O', value: 'c' }],
    ]);
  });

  it('accepts ; as a separator and dotted-OID types', () => {
    expect(parseDistinguishedName('CN=a;2.5.4.10=b')).toEqual([[{ type: 'CN', value: 'a' }], [{ type: '2.5.4.10', value: 'b' }]]);
  });

  it('keeps #hex values verbatim and never BER-decodes them', () => {
    expect(parseDistinguishedName('1.2.840.113549.1.9.1=#160b61406578616d706c652e636f6d,CN=x')[0]![0]).toEqual({
      type: '1.2.840.113549.1.9.1',
      value: '#160b61406578616d706c652e636f6d',
    });
    expect(() => parseDistinguishedName('CN=#abc')).toThrowWithCode('ERR_MALFORMED_INPUT');
    expect(() => parseDistinguishedName('CN=#')).toThrowWithCode('ERR_MALFORMED_INPUT');
    expect(() => parseDistinguishedName('CN=#abzz')).toThrowWithCode('ERR_MALFORMED_INPUT');
  });

  it('accepts empty values', () => {
    expect(parseDistinguishedName('CN=,O=x')).toEqual([[{ type: 'CN', value: '' }], [{ type: 'O', value: 'x' }]]);
  });

  it.each([',,,', 'C=US,', 'C=US+', '=US', 'CUS', 'C=US,O', 'C N=US', '1.=x', '01.2=x', 'C-=x,-C=y'])('rejects %j', (dn) => {
    expect(() => parseDistinguishedName(dn)).toThrowWithCode('ERR_MALFORMED_INPUT');
  });

  it('rejects input over the length limit', () => {
    expect(() => parseDistinguishedName(`CN=${'a'.repeat(MAX_DN_LENGTH)}`)).toThrowWithCode('ERR_MALFORMED_INPUT');
  });

  it('rejects non-strings with ERR_INVALID_ARGUMENT', () => {
    expect(() => parseDistinguishedName(42 as unknown as string)).toThrowWithCode('ERR_INVALID_ARGUMENT');
  });

  it('returns a result or throws VouchError for any string (property)', () => {
    const alphabet = fc.constantFrom(...'CNOSTU=,+;\\#"<> 0123456789abcdefABCDEF.-é'.split(''));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.array(alphabet, { maxLength: 80 }).map((a) => a.join('')),
        ),
        (s) => {
          try {
            const r = parseDistinguishedName(s);
            expect(Array.isArray(r)).toBe(true);
          } catch (e) {
            expect(isVouchError(e)).toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('handles huge adversarial input near the limit', () => {
    const ok = `CN=${'\\'.repeat(MAX_DN_LENGTH - 10)}`;
    expect(parseDistinguishedName(ok)[0]![0]!.value).toBe('\\'.repeat((MAX_DN_LENGTH - 10) / 2));
    const s = `CN=${'\\'.repeat(MAX_DN_LENGTH - 11)}`;
    expect(() => parseDistinguishedName(s)).toThrowWithCode('ERR_MALFORMED_INPUT');
    const t = 'C=#'.padEnd(MAX_DN_LENGTH, 'a'); // odd number of hex digits
    expect(() => parseDistinguishedName(t)).toThrowWithCode('ERR_MALFORMED_INPUT');
  });
});

describe('parseTrustedIdentity', () => {
  it('parses with or without the x509.subject: prefix, tolerating spaces after the colon', () => {
    const a = parseTrustedIdentity('x509.subject: C=US, ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools');
    expect(a.dn).toBe('C=US, ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools');
    expect(Object.fromEntries(a.attributes)).toEqual({ C: 'US', ST: 'WA', L: 'Seattle', O: 'wabbit-networks.io', OU: 'Security Tools' });
    const b = parseTrustedIdentity('C=US,ST=WA,O=x');
    expect(Object.fromEntries(b.attributes)).toEqual({ C: 'US', ST: 'WA', O: 'x' });
  });

  it('treats S as ST', () => {
    expect(parseTrustedIdentity('x509.subject:C=US,S=WA,O=x').attributes.get('ST')).toBe('WA');
    expect(() => parseTrustedIdentity('x509.subject:C=US,S=WA,ST=WA,O=x')).toThrowWithCode('ERR_TRUST_POLICY_INVALID');
  });

  it('accepts optional and custom attributes', () => {
    expect(parseTrustedIdentity('x509.subject:C=US,ST=WA,O=MyOrg,CustomRDN=CustomValue').attributes.get('CustomRDN')).toBe('CustomValue');
  });

  it.each([
    ['=# anywhere', 'x509.subject:C=bad=#identity,O=LOL,ST=LOL', 'notation does not support x509.subject identities containing "=#"'],
    ['hex value after spaces', 'x509.subject:C=US,ST=WA,O= #0c01', 'hex-encoded'],
    ['multi-valued RDN', 'x509.subject:C=US+ST=WA,O=MyOrg', 'has multi-valued RDN attributes'],
    ['duplicate type', 'x509.subject:C=US,C=IN', 'has duplicate RDN attribute for "C"'],
    ['missing O', 'x509.subject:C=US,ST=WA', 'has no mandatory RDN attribute for "O"'],
    ['missing C', 'x509.subject:ST=WA,O=x', 'has no mandatory RDN attribute for "C"'],
    ['empty O', 'x509.subject:C=US,ST=WA,O=', 'has no mandatory RDN attribute for "O"'],
    ['unparseable', 'x509.subject:,,,', 'failed with err: incomplete type, value pair'],
    ['empty', 'x509.subject:', 'has no mandatory RDN attribute for "C"'],
  ])('rejects %s', (_, id, message) => {
    let err: unknown;
    try {
      parseTrustedIdentity(id);
    } catch (e) {
      err = e;
    }
    expect(err).toBeVouchError('ERR_TRUST_POLICY_INVALID');
    expect((err as Error).message).toContain(message);
  });

  it('rejects =# quickly even for huge input (CVE-2023-25656)', () => {
    const huge = `C=#${'30'.repeat(100_000)}`;
    expect(() => parseTrustedIdentity(huge)).toThrowWithCode('ERR_TRUST_POLICY_INVALID');
  });

  it('returns a result or throws VouchError for any string (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        const parse = () => parseTrustedIdentity(`x509.subject:${s}`);
        try {
          parse();
        } catch {
          expect(parse).toThrowWithCode('ERR_TRUST_POLICY_INVALID');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

const leafRdns = [
  [{ type: 'C', value: 'US' }],
  [{ type: 'ST', value: 'WA' }],
  [{ type: 'L', value: 'Seattle' }],
  [{ type: 'O', value: 'SomeOrg' }],
  [{ type: 'OU', value: 'SomeOU' }],
  [{ type: 'CN', value: 'SomeCN' }],
];

describe('matchesTrustedIdentity', () => {
  it('matches when every identity attribute is in the subject, in any order', () => {
    expect(matchesTrustedIdentity('x509.subject:C=US,O=SomeOrg,ST=WA', leafRdns)).toBe(true);
    expect(matchesTrustedIdentity('x509.subject:CN=SomeCN,OU=SomeOU,O=SomeOrg,L=Seattle,ST=WA,C=US', { subjectRdns: leafRdns })).toBe(true);
    expect(matchesTrustedIdentity(parseTrustedIdentity('C=US,S=WA,O=SomeOrg'), 'CN=SomeCN,OU=SomeOU,O=SomeOrg,L=Seattle,ST=WA,C=US')).toBe(
      true,
    );
  });

  it('does not match a different value, a missing attribute or a different case', () => {
    expect(matchesTrustedIdentity('x509.subject:C=IND,O=SomeOrg,ST=TS', leafRdns)).toBe(false);
    expect(matchesTrustedIdentity('x509.subject:C=US,O=SomeOrg,ST=WA,X=Y', leafRdns)).toBe(false);
    expect(matchesTrustedIdentity('x509.subject:C=US,O=someorg,ST=WA', leafRdns)).toBe(false);
    expect(matchesTrustedIdentity('x509.subject:C=US,O=SomeOrg,ST=WA,cn=SomeCN', leafRdns)).toBe(false);
  });

  it('maps OID attribute types of the leaf to notation names', () => {
    const rdns = [[{ type: '2.5.4.6', value: 'US' }], [{ type: '2.5.4.8', value: 'WA' }], [{ type: '2.5.4.10', value: 'Org' }]];
    expect(matchesTrustedIdentity('x509.subject:C=US,ST=WA,O=Org', rdns)).toBe(true);
  });

  it('flattens multi-valued leaf RDNs', () => {
    const rdns = [
      [
        { type: 'C', value: 'US' },
        { type: 'ST', value: 'WA' },
      ],
      [{ type: 'O', value: 'Org' }],
    ];
    expect(matchesTrustedIdentity('x509.subject:C=US,ST=WA,O=Org', rdns)).toBe(true);
  });

  it.each([
    ['a value with =#', [...leafRdns.slice(0, 5), [{ type: 'CN', value: 'Bad=#CN' }]]],
    ['an attribute notation renders as OID=#hex', [...leafRdns, [{ type: '1.2.840.113549.1.9.1', value: 'a@example.com' }]]],
    ['two OUs', [...leafRdns, [{ type: 'OU', value: 'Other' }]]],
    ['no ST', leafRdns.filter((r) => r[0]!.type !== 'ST')],
  ])('throws ERR_IDENTITY_UNTRUSTED for a leaf subject with %s', (_, rdns) => {
    expect(() => matchesTrustedIdentity('x509.subject:C=US,O=SomeOrg,ST=WA', rdns)).toThrowWithCode('ERR_IDENTITY_UNTRUSTED');
  });

  it('throws ERR_IDENTITY_UNTRUSTED for an unparseable subject string', () => {
    expect(() => subjectAttributes('O=SomeOrg,OU=SomeOU,CN=Bad=#CN,L=Seattle,ST=WA,C=US')).toThrowWithCode('ERR_IDENTITY_UNTRUSTED');
    expect(() => subjectAttributes('C=US,,')).toThrowWithCode('ERR_IDENTITY_UNTRUSTED');
  });

  it('throws ERR_TRUST_POLICY_INVALID for a bad identity string', () => {
    expect(() => matchesTrustedIdentity('x509.subject:C=US', leafRdns)).toThrowWithCode('ERR_TRUST_POLICY_INVALID');
  });
});

describe('trustedIdentitiesOverlap', () => {
  it('detects subsets in both directions and equality', () => {
    const a = parseTrustedIdentity('C=US,ST=WA,O=MyOrg');
    const b = parseTrustedIdentity('C=US,ST=WA,O=MyOrg,X=Y');
    const c = parseTrustedIdentity('C=US,ST=WA,O=Other');
    expect(trustedIdentitiesOverlap(a, b)).toBe(true);
    expect(trustedIdentitiesOverlap(b, a)).toBe(true);
    expect(trustedIdentitiesOverlap(a, parseTrustedIdentity('O=MyOrg, ST=WA, C=US'))).toBe(true);
    expect(trustedIdentitiesOverlap(a, c)).toBe(false);
  });
});
