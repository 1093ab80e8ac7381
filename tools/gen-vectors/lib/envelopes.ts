/**
 * test-vectors/envelopes/{jws,cose}/: valid envelopes for the six algorithms and both signing
 * schemes (made with the package's own `sign`), and one negative envelope per envelope rule
 * (hand-built and signed with the real key, so only the intended rule is broken). Adds the
 * `envelope` and `verify-signature` cases.
 */

import { KEY_SPECS } from '@vouch/core';
import { type ExtendedAttribute, localRawSigner, type SigningScheme } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { type Certificate, signatureAlgorithmOf } from '@vouch/x509';
import { Entries, encode, Raw, Tag } from './cbor.js';
import { add, sha256hex, T, utf8, write } from './common.js';
import {
  type Alg,
  buildCose,
  buildJws,
  CTY,
  coseProtectedEntries,
  type EnvelopeSpec,
  encodeCoseProtected,
  type Header,
  N,
  PerFormat,
  type SignerKey,
  setHeader,
  stdHeader,
} from './envelope-builder.js';
import { type Pkis, specSlug } from './pki.js';

export type Format = 'jws' | 'cose';
export const FORMATS: Format[] = ['jws', 'cose'];
export const EXT: Record<Format, string> = { jws: 'jws', cose: 'cose' };

/** The artifact every envelope vector signs (a made-up image manifest descriptor). */
export const ARTIFACT = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${sha256hex(utf8('vouch vectors artifact'))}`,
  size: 1234,
};

export function payloadFor(d: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }): Uint8Array {
  return utf8(JSON.stringify({ targetArtifact: d }));
}

export interface SignOptions {
  format: Format;
  chain: readonly Certificate[];
  privateKey: CryptoKey;
  scheme?: SigningScheme;
  time?: Date;
  expiry?: Date;
  artifact?: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> };
  extended?: ExtendedAttribute[];
}

/** Sign with the package (`jws.sign` / `cose.sign`), as a real signer would. */
export async function packageSign(o: SignOptions): Promise<Uint8Array> {
  const codec = o.format === 'jws' ? jws : cose;
  return codec.sign({
    payload: { targetArtifact: o.artifact ?? ARTIFACT },
    signingScheme: o.scheme ?? 'notary.x509',
    signingTime: o.time ?? T.signingTime,
    ...(o.expiry ? { expiry: o.expiry } : {}),
    ...(o.extended ? { extendedAttributes: o.extended } : {}),
    signingAgent: 'vouch-vectors/1.0',
    signer: localRawSigner(o.privateKey, [...o.chain]),
  });
}

export function build(format: Format, spec: EnvelopeSpec): Promise<Uint8Array> {
  return format === 'jws' ? buildJws(spec) : buildCose(spec);
}

export function envPath(format: Format, name: string): string {
  return `envelopes/${format}/${name}.${EXT[format]}`;
}

/** Paths of envelopes other modules use. */
export interface EnvelopeIndex {
  valid: Record<string, Record<Format, string>>;
  negative: Record<string, Record<Format, string>>;
}

const MAL = { code: 'ERR_ENVELOPE_MALFORMED' } as const;
const UNS = { code: 'ERR_ENVELOPE_UNSUPPORTED' } as const;
const INT = { code: 'ERR_SIGNATURE_INTEGRITY' } as const;
const CHAIN = { code: 'ERR_CERT_CHAIN_INVALID' } as const;

interface NegCase {
  id: string;
  description: string;
  rule: string;
  expect: { code: string };
  only?: Format;
  spec: (f: Format) => EnvelopeSpec | Promise<EnvelopeSpec>;
}

export async function generateEnvelopes(pkis: Pkis): Promise<EnvelopeIndex> {
  const index: EnvelopeIndex = { valid: {}, negative: {} };
  const record = (bucket: 'valid' | 'negative', name: string, format: Format, rel: string) => {
    index[bucket][name] ??= {} as Record<Format, string>;
    index[bucket][name]![format] = rel;
  };
  const ec = pkis.bySpec['EC-256'];

  // ---------------------------------------------------------------- valid (package-signed)
  const valid: {
    name: string;
    description: string;
    rule: string;
    opts: Omit<SignOptions, 'format'>;
    expectExtra: Record<string, unknown>;
  }[] = [];
  for (const spec of KEY_SPECS) {
    const p = pkis.bySpec[spec];
    const alg = signatureAlgorithmOf(spec);
    valid.push({
      name: `valid-${specSlug(spec)}-x509`,
      description: `${alg} (${spec} leaf), notary.x509, no expiry`,
      rule: 'envelope: both envelope formats, six algorithms, notary.x509',
      opts: { chain: p.chain, privateKey: p.leaf.privateKey },
      expectExtra: { algorithm: alg, signingScheme: 'notary.x509' },
    });
    valid.push({
      name: `valid-${specSlug(spec)}-signing-authority`,
      description: `${alg} (${spec} leaf), notary.x509.signingAuthority with authenticSigningTime and expiry`,
      rule: 'envelope: both envelope formats, six algorithms, signingAuthority',
      opts: { chain: p.chain, privateKey: p.leaf.privateKey, scheme: 'notary.x509.signingAuthority', expiry: T.expiryFuture },
      expectExtra: { algorithm: alg, signingScheme: 'notary.x509.signingAuthority' },
    });
  }
  valid.push(
    {
      name: 'valid-ec-256-x509-expiry',
      description: 'ES256, notary.x509 with a future expiry',
      rule: 'envelope: expiry is critical',
      opts: { chain: ec.chain, privateKey: ec.leaf.privateKey, expiry: T.expiryFuture },
      expectExtra: { algorithm: 'ES256', signingScheme: 'notary.x509' },
    },
    {
      name: 'valid-ec-256-signing-authority-no-expiry',
      description: 'ES256, notary.x509.signingAuthority without expiry',
      rule: 'envelope: signingAuthority',
      opts: { chain: ec.chain, privateKey: ec.leaf.privateKey, scheme: 'notary.x509.signingAuthority' },
      expectExtra: { algorithm: 'ES256', signingScheme: 'notary.x509.signingAuthority' },
    },
    {
      name: 'valid-ec-256-extended-attributes',
      description: 'ES256 with a non-critical extended signed attribute and a signing agent',
      rule: 'envelope: extended attributes (non-critical) are accepted',
      opts: { chain: ec.chain, privateKey: ec.leaf.privateKey, extended: [{ key: 'com.example.note', value: 'vectors', critical: false }] },
      expectExtra: { algorithm: 'ES256', signingScheme: 'notary.x509' },
    },
    {
      name: 'valid-ec-256-annotations',
      description: 'ES256 whose payload carries user metadata (annotations buildId=123, team=vouch)',
      rule: 'envelope: payload annotations',
      opts: {
        chain: ec.chain,
        privateKey: ec.leaf.privateKey,
        artifact: { ...ARTIFACT, annotations: { buildId: '123', team: 'vouch' } },
      },
      expectExtra: { algorithm: 'ES256', signingScheme: 'notary.x509' },
    },
    {
      name: 'valid-self-signed',
      description: 'ES256 signed by a single self-signed certificate (generate-test style)',
      rule: 'certificates: single-cert chain',
      opts: { chain: [pkis.selfSigned.certificate], privateKey: pkis.selfSigned.privateKey },
      expectExtra: { algorithm: 'ES256', signingScheme: 'notary.x509' },
    },
  );
  for (const v of valid) {
    for (const format of FORMATS) {
      const rel = write(envPath(format, v.name), await packageSign({ ...v.opts, format }));
      record('valid', v.name, format, rel);
      add({
        id: `envelope-${format}-${v.name}`,
        kind: 'envelope',
        description: `${format.toUpperCase()}: ${v.description}`,
        rule: v.rule,
        inputs: { envelope: rel },
        expect: { ok: true, ...v.expectExtra },
      });
    }
  }

  // ---------------------------------------------------------------- negative (hand-built)
  const S: SignerKey = { alg: 'ES256', privateKey: ec.leaf.privateKey, chain: ec.chain };
  const payload = payloadFor(ARTIFACT);
  const base = (o: Partial<Parameters<typeof stdHeader>[0]> = {}): Header => stdHeader({ alg: 'ES256', time: T.signingTime, ...o });
  const spec = (header: Header, more: Partial<EnvelopeSpec> = {}): EnvelopeSpec => ({ header, payload, signer: S, ...more });
  const withCrit = (h: Header, crit: string[] | PerFormat) => setHeader(h, 'crit', crit);
  const ext = pkis.extra;
  const der = (c: Certificate) => c.der;

  const cases: NegCase[] = [
    {
      id: 'handbuilt-valid',
      description: 'the hand-built baseline every negative case mutates (must be valid)',
      rule: 'baseline',
      expect: { code: '' },
      spec: () => spec(base({ expiry: T.expiryFuture })),
    },
    {
      id: 'alg-mismatch-curve',
      description: 'alg ES384 while the leaf key is P-256',
      rule: 'envelope: alg must match the leaf key',
      expect: MAL,
      spec: () => spec(setHeader(base(), 'alg', 'ES384')),
    },
    {
      id: 'alg-mismatch-type',
      description: 'alg PS256 while the leaf key is EC P-256',
      rule: 'envelope: alg must match the leaf key',
      expect: MAL,
      spec: () => spec(setHeader(base(), 'alg', 'PS256')),
    },
    {
      id: 'alg-rsa-size-mismatch',
      description: 'alg PS256 with an RSA-3072 leaf (which implies PS384)',
      rule: 'envelope: alg must match the leaf key size',
      expect: MAL,
      spec: () => {
        const p = pkis.bySpec['RSA-3072'];
        return spec(stdHeader({ alg: 'PS256', time: T.signingTime }), {
          signer: { alg: 'PS384', privateKey: p.leaf.privateKey, chain: p.chain },
        });
      },
    },
    {
      id: 'alg-missing',
      description: 'no alg header',
      rule: 'envelope: alg required',
      expect: MAL,
      spec: () => spec(setHeader(base(), 'alg', undefined)),
    },
    {
      id: 'alg-unsupported',
      description: 'alg RS256 (RSASSA-PKCS1-v1_5) / COSE -257',
      rule: 'envelope: only the six algorithms',
      expect: UNS,
      spec: () => spec(setHeader(base(), 'alg', new PerFormat('RS256', -257))),
    },
    {
      id: 'alg-none',
      description: 'alg none',
      rule: 'envelope: alg none rejected',
      expect: UNS,
      only: 'jws',
      spec: () => spec(setHeader(base(), 'alg', 'none')),
    },
    {
      id: 'alg-hmac',
      description: 'alg HS256 / COSE 5 (HMAC 256/256)',
      rule: 'envelope: HMAC rejected',
      expect: UNS,
      spec: () => spec(setHeader(base(), 'alg', new PerFormat('HS256', 5))),
    },
    {
      id: 'leaf-key-rsa-1024',
      description: 'leaf with an RSA-1024 key, alg PS256',
      rule: 'envelope: leaf key type and size',
      expect: UNS,
      spec: () => {
        const l = ext['leaf-rsa-1024']!;
        return spec(stdHeader({ alg: 'PS256', time: T.signingTime }), {
          signer: { alg: 'PS256', privateKey: l.privateKey, chain: [l.certificate, ec.intermediate.certificate, ec.root.certificate] },
        });
      },
    },
    {
      id: 'cty-wrong',
      description: 'cty application/json',
      rule: 'envelope: cty must be the Notary payload type',
      expect: MAL,
      spec: () => spec(setHeader(base(), 'cty', 'application/json')),
    },
    {
      id: 'cty-missing',
      description: 'no cty header',
      rule: 'envelope: cty required',
      expect: MAL,
      spec: () => spec(setHeader(base(), 'cty', undefined)),
    },
    {
      id: 'cty-not-text',
      description: 'COSE content type as an integer (CoAP 50)',
      rule: 'envelope: cty must be a text string',
      expect: MAL,
      only: 'cose',
      spec: () => spec(setHeader(base(), 'cty', 50)),
    },
    {
      id: 'crit-missing',
      description: 'no crit header',
      rule: 'envelope: crit required',
      expect: MAL,
      spec: () => spec(setHeader(base(), 'crit', undefined)),
    },
    {
      id: 'crit-empty',
      description: 'crit is an empty list',
      rule: 'envelope: crit lists signingScheme',
      expect: MAL,
      spec: () => spec(withCrit(base(), [])),
    },
    {
      id: 'crit-missing-signing-scheme',
      description: 'crit lists expiry but not io.cncf.notary.signingScheme',
      rule: 'envelope: crit must include signingScheme',
      expect: MAL,
      spec: () => spec(withCrit(base({ expiry: T.expiryFuture }), [N.expiry])),
    },
    {
      id: 'crit-missing-expiry',
      description: 'expiry present but not listed in crit',
      rule: 'envelope: crit must include every present critical attribute (expiry)',
      expect: MAL,
      spec: () => spec(withCrit(base({ expiry: T.expiryFuture }), [N.scheme])),
    },
    {
      id: 'crit-missing-authentic-signing-time',
      description: 'signingAuthority scheme, authenticSigningTime not listed in crit',
      rule: 'envelope: crit must include every present critical attribute (authenticSigningTime)',
      expect: MAL,
      spec: () => spec(withCrit(base({ scheme: 'notary.x509.signingAuthority' }), [N.scheme])),
    },
    {
      id: 'crit-missing-verification-plugin',
      description: 'io.cncf.notary.verificationPlugin present but not critical',
      rule: 'envelope: crit must include every present critical attribute (verificationPlugin)',
      expect: MAL,
      spec: () => spec(base({ extended: [[N.plugin, 'com.example.plugin', false]] })),
    },
    {
      id: 'crit-lists-absent-header',
      description: 'crit lists a header that is not present',
      rule: 'envelope: every crit entry must be present',
      expect: MAL,
      spec: () => spec(withCrit(base(), [N.scheme, 'com.example.absent'])),
    },
    {
      id: 'crit-lists-signing-time',
      description: 'crit lists io.cncf.notary.signingTime (informational, must not be critical)',
      rule: 'envelope: crit must not list non-critical Notary attributes',
      expect: MAL,
      spec: () => spec(withCrit(base(), [N.scheme, N.signingTime])),
    },
    {
      id: 'crit-lists-registered-header',
      description: 'crit lists alg (JWS) / label 1 (COSE)',
      rule: 'envelope: crit must not list registered headers',
      expect: MAL,
      spec: () => spec(withCrit(base(), new PerFormat([N.scheme, 'alg'], [N.scheme, 1]))),
    },
    {
      id: 'crit-duplicate',
      description: 'crit lists signingScheme twice',
      rule: 'envelope: crit entries unique',
      expect: MAL,
      spec: () => spec(withCrit(base(), [N.scheme, N.scheme])),
    },
    {
      id: 'unknown-critical-header',
      description: 'an unknown signed attribute marked critical (no verification plugin processes it)',
      rule: 'envelope: any unknown critical header fails',
      expect: UNS,
      spec: () => spec(base({ extended: [['com.example.critical', 'must-understand', true]] })),
    },
    {
      id: 'verification-plugin',
      description: 'io.cncf.notary.verificationPlugin (critical) names a plugin this verifier does not have',
      rule: 'envelope: critical attributes must be processed',
      expect: UNS,
      spec: () => spec(base({ extended: [[N.plugin, 'com.example.plugin', true]] })),
    },
    {
      id: 'signing-scheme-missing',
      description: 'no io.cncf.notary.signingScheme',
      rule: 'envelope: signingScheme required',
      expect: MAL,
      spec: () => spec(withCrit(setHeader(base({ expiry: T.expiryFuture }), N.scheme, undefined), [N.expiry])),
    },
    {
      id: 'signing-scheme-unknown',
      description: 'signingScheme notary.x509.unknown',
      rule: 'envelope: unknown signing scheme fails',
      expect: UNS,
      spec: () => spec(setHeader(base(), N.scheme, 'notary.x509.unknown')),
    },
    {
      id: 'x509-missing-signing-time',
      description: 'notary.x509 without io.cncf.notary.signingTime',
      rule: 'envelope: signingTime required for notary.x509',
      expect: MAL,
      spec: () => spec(setHeader(base(), N.signingTime, undefined)),
    },
    {
      id: 'x509-with-authentic-signing-time',
      description: 'notary.x509 carrying authenticSigningTime (critical) besides signingTime',
      rule: 'envelope: authenticSigningTime must be absent for notary.x509',
      expect: MAL,
      spec: () => spec(withCrit(setHeader(base(), N.authenticSigningTime, T.signingTime), [N.scheme, N.authenticSigningTime])),
    },
    {
      id: 'signing-authority-missing-authentic-signing-time',
      description: 'notary.x509.signingAuthority with signingTime instead of authenticSigningTime',
      rule: 'envelope: authenticSigningTime required for signingAuthority',
      expect: MAL,
      spec: () =>
        spec(
          withCrit(
            setHeader(
              setHeader(base({ scheme: 'notary.x509.signingAuthority' }), N.authenticSigningTime, undefined),
              N.signingTime,
              T.signingTime,
            ),
            [N.scheme],
          ),
        ),
    },
    {
      id: 'signing-authority-with-signing-time',
      description: 'notary.x509.signingAuthority carrying both authenticSigningTime and signingTime',
      rule: 'envelope: signingTime must be absent for signingAuthority',
      expect: MAL,
      spec: () => spec(setHeader(base({ scheme: 'notary.x509.signingAuthority' }), N.signingTime, T.signingTime)),
    },
    {
      id: 'expiry-before-signing-time',
      description: 'expiry earlier than the signing time',
      rule: 'envelope: expiry later than signing time',
      expect: MAL,
      spec: () => spec(base({ expiry: new Date('2025-05-01T00:00:00Z') })),
    },
    {
      id: 'signing-time-wrong-type',
      description: 'signingTime as a number (JWS) / as a tag-0 RFC 3339 string (COSE)',
      rule: 'envelope: time encoding',
      expect: MAL,
      spec: () => spec(setHeader(base(), N.signingTime, new PerFormat(1748779200, new Tag(0, '2025-06-01T12:00:00Z')))),
    },
    {
      id: 'signing-time-untagged',
      description: 'COSE signingTime as a bare integer (no tag 1)',
      rule: 'envelope: COSE times are tag 1',
      expect: MAL,
      only: 'cose',
      spec: () => spec(setHeader(base(), N.signingTime, 1748779200)),
    },
    {
      id: 'payload-not-json',
      description: 'payload is not JSON',
      rule: 'envelope: payload is the Notary payload',
      expect: MAL,
      spec: () => spec(base(), { payload: utf8('not json at all') }),
    },
    {
      id: 'payload-not-object',
      description: 'payload is a JSON array',
      rule: 'envelope: payload is a JSON object',
      expect: MAL,
      spec: () => spec(base(), { payload: utf8('[1,2,3]') }),
    },
    {
      id: 'payload-no-target-artifact',
      description: 'payload without targetArtifact',
      rule: 'envelope: payload has a targetArtifact',
      expect: MAL,
      spec: () => spec(base(), { payload: utf8(JSON.stringify({ subject: ARTIFACT })) }),
    },
    {
      id: 'payload-target-artifact-no-digest',
      description: 'targetArtifact without digest',
      rule: 'envelope: targetArtifact is a descriptor',
      expect: MAL,
      spec: () =>
        spec(base(), { payload: utf8(JSON.stringify({ targetArtifact: { mediaType: ARTIFACT.mediaType, size: ARTIFACT.size } })) }),
    },
    {
      id: 'tampered-payload',
      description: 'payload changed after signing',
      rule: 'envelope: integrity',
      expect: INT,
      spec: () => spec(base(), { tamper: 'payload' }),
    },
    {
      id: 'tampered-signature',
      description: 'signature value altered',
      rule: 'envelope: integrity',
      expect: INT,
      spec: () => spec(base(), { tamper: 'signature' }),
    },
    {
      id: 'tampered-protected-header',
      description: 'protected header (signing time) changed after signing',
      rule: 'envelope: integrity',
      expect: INT,
      spec: () => spec(base(), { tamper: 'protected' }),
    },
    {
      id: 'wrong-signing-key',
      description: "signed with another PKI's key, chain of the EC-256 PKI",
      rule: 'envelope: integrity',
      expect: INT,
      spec: () => spec(base(), { signer: { ...S, privateKey: pkis.other.leaf.privateKey } }),
    },
    {
      id: 'chain-empty',
      description: 'x5c / x5chain is an empty array',
      rule: 'envelope: certificate chain required',
      expect: MAL,
      spec: () => spec(base(), { chain: [] }),
    },
    {
      id: 'chain-missing',
      description: 'no x5c / x5chain',
      rule: 'envelope: certificate chain required',
      expect: MAL,
      spec: () =>
        spec(base(), {
          jwsPost: (e) => ({ ...e, header: { [N.agent]: 'vouch-vectors/1.0' } }),
          cosePost: (p) => encode(new Tag(18, [p.protectedBytes, new Entries([[N.agent, 'vouch-vectors/1.0']]), p.payload, p.signature])),
        }),
    },
    {
      id: 'chain-bad-certificate',
      description: 'the leaf entry of the chain is not a certificate',
      rule: 'envelope: certificates in the chain must parse',
      expect: MAL,
      spec: () => spec(base(), { chain: [utf8('not a certificate'), ec.intermediate.certificate.der, ec.root.certificate.der] }),
    },
    {
      id: 'chain-out-of-order',
      description: 'chain leaf, root, intermediate',
      rule: 'certificates/envelope: envelope chain must be a valid chain',
      expect: CHAIN,
      spec: () => spec(base(), { chain: [ec.leaf.certificate, ec.root.certificate, ec.intermediate.certificate].map(der) }),
    },
    {
      id: 'chain-leaf-only',
      description: 'chain holds only the (not self-signed) leaf',
      rule: 'certificates/envelope: envelope chain must end in a root',
      expect: CHAIN,
      spec: () => spec(base(), { chain: [ec.leaf.certificate.der] }),
    },
    {
      id: 'chain-leaf-wrong-eku',
      description: 'leaf with EKU serverAuth (same key), signed correctly',
      rule: 'certificates/envelope: envelope chain leaf profile',
      expect: CHAIN,
      spec: () =>
        spec(base(), { chain: [ext['leaf-eku-server-auth']!.certificate, ec.intermediate.certificate, ec.root.certificate].map(der) }),
    },
    // JWS-only structure
    {
      id: 'jws-extra-member',
      description: 'flattened JWS with an extra top-level member',
      rule: 'envelope: JWS has exactly payload, protected, header, signature',
      expect: MAL,
      only: 'jws',
      spec: () => spec(base(), { jwsPost: (e) => ({ ...e, unprotected: {} }) }),
    },
    {
      id: 'jws-general-serialization',
      description: 'general JWS JSON serialization (signatures array)',
      rule: 'envelope: flattened serialization only',
      expect: MAL,
      only: 'jws',
      spec: () =>
        spec(base(), {
          jwsPost: (e) => ({ payload: e.payload, signatures: [{ protected: e.protected, header: e.header, signature: e.signature }] }),
        }),
    },
    {
      id: 'jws-compact-serialization',
      description: 'compact JWS serialization',
      rule: 'envelope: flattened serialization only',
      expect: MAL,
      only: 'jws',
      spec: () => spec(base(), { jwsPost: (e) => `${e.protected}.${e.payload}.${e.signature}` }),
    },
    {
      id: 'jws-padded-base64url',
      description: 'signature written with base64 padding',
      rule: 'envelope: unpadded base64url',
      expect: MAL,
      only: 'jws',
      spec: () =>
        spec(base(), {
          jwsPost: (e) => ({
            ...e,
            signature: `${e.signature as string}${'='.repeat((4 - ((e.signature as string).length % 4)) % 4 || 4)}`,
          }),
        }),
    },
    {
      id: 'jws-header-in-both',
      description: 'cty in both the protected and the unprotected header',
      rule: 'envelope: protected and unprotected headers are disjoint',
      expect: MAL,
      only: 'jws',
      spec: () => spec(base(), { jwsPost: (e) => ({ ...e, header: { ...(e.header as object), cty: CTY } }) }),
    },
    {
      id: 'jws-x5c-in-protected-only',
      description: 'x5c in the protected header instead of the unprotected one',
      rule: 'envelope: x5c is an unprotected header',
      expect: MAL,
      only: 'jws',
      spec: () =>
        spec(
          setHeader(
            base(),
            'x5c',
            ec.chain.map((c) => Buffer.from(c.der).toString('base64')),
          ),
          {
            jwsPost: (e) => ({ ...e, header: { [N.agent]: 'vouch-vectors/1.0' } }),
          },
        ),
    },
    {
      id: 'jws-duplicate-protected-member',
      description: 'protected header JSON with a duplicate member name',
      rule: 'envelope: strict JSON',
      expect: MAL,
      only: 'jws',
      spec: () => {
        const h = base();
        const text = JSON.stringify(Object.fromEntries(h.map(([k, v]) => [k, v instanceof Date ? `${v.toISOString().slice(0, 19)}Z` : v])));
        return spec(h, { jwsProtectedText: `${text.slice(0, -1)},"cty":"application/json"}` });
      },
    },
    {
      id: 'jws-x5c-not-base64',
      description: 'x5c entry that is not base64',
      rule: 'envelope: x5c is standard base64 DER',
      expect: MAL,
      only: 'jws',
      spec: () => spec(base(), { jwsPost: (e) => ({ ...e, header: { x5c: ['%%% not base64 %%%'] } }) }),
    },
    {
      id: 'jws-unencoded-payload',
      description: 'protected header b64=false (RFC 7797) listed in crit',
      rule: 'envelope: unencoded payloads are not Notary envelopes',
      expect: MAL,
      only: 'jws',
      spec: () => spec(withCrit(setHeader(base(), 'b64', new PerFormat(false, undefined)), [N.scheme, 'b64'])),
    },
    // COSE-only structure
    {
      id: 'cose-untagged',
      description: 'COSE_Sign1 without tag 18',
      rule: 'envelope: COSE_Sign1_Tagged',
      expect: MAL,
      only: 'cose',
      spec: () => spec(base(), { cosePost: (p) => encode([p.protectedBytes, p.unprotected, p.payload, p.signature]) }),
    },
    {
      id: 'cose-wrong-tag',
      description: 'tag 98 (COSE_Sign) instead of 18',
      rule: 'envelope: COSE_Sign1_Tagged',
      expect: MAL,
      only: 'cose',
      spec: () => spec(base(), { cosePost: (p) => encode(new Tag(98, [p.protectedBytes, p.unprotected, p.payload, p.signature])) }),
    },
    {
      id: 'cose-duplicate-protected-label',
      description: 'protected header map with label 3 twice',
      rule: 'envelope: strict CBOR (no duplicate keys)',
      expect: MAL,
      only: 'cose',
      spec: () => {
        const h = base();
        const bytes = encodeCoseProtected([...h, ['cty', 'application/json']]);
        return spec(h, { coseProtectedBytes: bytes });
      },
    },
    {
      id: 'cose-indefinite-length',
      description: 'unprotected header as an indefinite-length map',
      rule: 'envelope: strict CBOR (no indefinite lengths)',
      expect: MAL,
      only: 'cose',
      spec: () =>
        spec(base(), {
          cosePost: (p) => {
            const inner = encode(p.unprotected).subarray(1);
            const indef = new Raw(Uint8Array.from([0xbf, ...inner, 0xff]));
            return encode(new Tag(18, [p.protectedBytes, indef, p.payload, p.signature]));
          },
        }),
    },
    {
      id: 'cose-x5chain-single-bstr',
      description: 'x5chain as a single byte string instead of an array',
      rule: 'envelope: x5chain is an array of certificates',
      expect: MAL,
      only: 'cose',
      spec: () =>
        spec(base(), {
          cosePost: (p) => encode(new Tag(18, [p.protectedBytes, new Entries([[33, ec.leaf.certificate.der]]), p.payload, p.signature])),
        }),
    },
    {
      id: 'cose-x5chain-protected-only',
      description: 'x5chain in the protected header only',
      rule: 'envelope: x5chain is read from the unprotected header',
      expect: MAL,
      only: 'cose',
      spec: () => {
        const h = base();
        return spec(h, {
          coseProtectedBytes: encode(new Entries([...coseProtectedEntries(h), [33, ec.chain.map(der)]])),
          cosePost: (p) => encode(new Tag(18, [p.protectedBytes, new Entries([[N.agent, 'vouch-vectors/1.0']]), p.payload, p.signature])),
        });
      },
    },
    {
      id: 'cose-detached-payload',
      description: 'payload nil (detached)',
      rule: 'envelope: embedded payload',
      expect: MAL,
      only: 'cose',
      spec: () => spec(base(), { cosePost: (p) => encode(new Tag(18, [p.protectedBytes, p.unprotected, null, p.signature])) }),
    },
    {
      id: 'cose-signed-attribute-unprotected',
      description: 'expiry in the unprotected header (not signed)',
      rule: 'envelope: signed attributes are protected',
      expect: MAL,
      only: 'cose',
      spec: () =>
        spec(base(), {
          cosePost: (p) =>
            encode(
              new Tag(18, [
                p.protectedBytes,
                new Entries([...p.unprotected.entries, [N.expiry, new Tag(1, 1893456000)]]),
                p.payload,
                p.signature,
              ]),
            ),
        }),
    },
  ];

  for (const c of cases) {
    for (const format of FORMATS) {
      if (c.only && c.only !== format) continue;
      const bytes = await build(format, await c.spec(format));
      const rel = write(envPath(format, c.id), bytes);
      record(c.id === 'handbuilt-valid' ? 'valid' : 'negative', c.id, format, rel);
      add({
        id: `envelope-${format}-${c.id}`,
        kind: 'envelope',
        description: `${format.toUpperCase()}: ${c.description}`,
        rule: c.rule,
        inputs: { envelope: rel },
        expect: c.id === 'handbuilt-valid' ? { ok: true, algorithm: 'ES256', signingScheme: 'notary.x509' } : c.expect,
      });
    }
  }

  // ---------------------------------------------------------------- envelopes for policy checks
  const special: { name: string; opts: Omit<SignOptions, 'format'> }[] = [
    { name: 'expired-signature', opts: { chain: ec.chain, privateKey: ec.leaf.privateKey, expiry: T.expiryPast } },
    {
      name: 'leaf-expired',
      opts: {
        chain: [ext['leaf-expired']!.certificate, ec.intermediate.certificate, ec.root.certificate],
        privateKey: ec.leaf.privateKey,
        time: new Date('2020-06-01T00:00:00Z'),
      },
    },
    {
      name: 'leaf-not-yet-valid',
      opts: {
        chain: [ext['leaf-not-yet-valid']!.certificate, ec.intermediate.certificate, ec.root.certificate],
        privateKey: ec.leaf.privateKey,
      },
    },
    {
      name: 'signing-authority-time-outside-validity',
      opts: {
        chain: ec.chain,
        privateKey: ec.leaf.privateKey,
        scheme: 'notary.x509.signingAuthority',
        time: new Date('2024-06-01T00:00:00Z'),
      },
    },
    { name: 'untrusted-signer', opts: { chain: pkis.other.chain, privateKey: pkis.other.leaf.privateKey } },
  ];
  for (const s of special) {
    for (const format of FORMATS) record('valid', s.name, format, write(envPath(format, s.name), await packageSign({ ...s.opts, format })));
  }
  return index;
}

export type { Alg };
