/**
 * test-vectors/pki/: a test CA per allowed key type (root → intermediate → code-signing leaf,
 * plus a TSA leaf), an unrelated "other" PKI, and bad-profile chains for every rule of the Notary
 * Project certificate requirements (code-signing and timestamping profiles). Adds the `x509-chain`, `trusted-identity`, `identity-match` and
 * `trust-store` cases.
 */
import { createSign } from 'node:crypto';
import { KEY_SPECS, type KeySpec } from '@vouch/core';
import { ecdsaP1363ToDer } from '@vouch/core/internal';
import { type Certificate, type CreateCertificateOptions, certificatesToPem, createCertificate, parseCertificate } from '@vouch/x509';
import { add, serialFor, T, write } from './common.js';
import { ALGORITHM_ID, corruptSignature, resign, subjectName } from './der.js';
import { type KeyKind, type KeyMaterial, key } from './keys.js';

export interface Issued {
  name: string;
  certificate: Certificate;
  privateKey: CryptoKey;
  key: KeyMaterial;
}

type Profile = Omit<CreateCertificateOptions, 'subject' | 'publicKey' | 'issuer' | 'privateKey'>;

export const ROOT: Profile = { basicConstraints: { ca: true, pathLen: 1 }, keyUsage: { usages: ['keyCertSign', 'cRLSign'] } };
export const INTERMEDIATE: Profile = { basicConstraints: { ca: true, pathLen: 0 }, keyUsage: { usages: ['keyCertSign', 'cRLSign'] } };
export const LEAF: Profile = {
  basicConstraints: { ca: false },
  keyUsage: { usages: ['digitalSignature'] },
  extKeyUsage: { usages: ['codeSigning'] },
};
export const TSA: Profile = {
  basicConstraints: { ca: false },
  keyUsage: { usages: ['digitalSignature'] },
  extKeyUsage: { usages: ['timeStamping'], critical: true },
};

/** Issue a certificate named `name` (self-signed without `issuer`). */
export async function issue(
  name: string,
  o: { subject: string; key: KeyMaterial; issuer?: Issued; profile: Profile; signerKey?: CryptoKey },
): Promise<Issued> {
  if (!o.key.publicKey || !o.key.privateKey) throw new Error(`key ${o.key.name} cannot be used by the builder`);
  const opts: CreateCertificateOptions = {
    notBefore: T.notBefore,
    notAfter: T.notAfter,
    serialNumber: serialFor(name),
    ...o.profile,
    subject: o.subject,
    publicKey: o.key.publicKey,
  };
  if (o.issuer) opts.issuer = { certificate: o.issuer.certificate, privateKey: o.signerKey ?? o.issuer.privateKey };
  else opts.privateKey = o.signerKey ?? o.key.privateKey;
  const certificate = await createCertificate(opts);
  return { name, certificate, privateKey: o.key.privateKey, key: o.key };
}

export function writeCerts(rel: string, certs: readonly Certificate[]): string {
  return write(rel, certificatesToPem(certs));
}

export interface Pki {
  spec: KeySpec;
  /** Directory under test-vectors/ (`pki/ec-256`). */
  dir: string;
  root: Issued;
  intermediate: Issued;
  leaf: Issued;
  tsa: Issued;
  chain: Certificate[];
}

export const specSlug = (spec: string) => spec.toLowerCase();

/** Subject of the code-signing leaf of a PKI. */
export const leafSubject = (label: string) => `CN=vouch vectors ${label} signer,OU=Vectors,O=vouch,L=Seattle,ST=WA,C=US`;

async function buildPki(label: string, spec: KeySpec, slug: string): Promise<Pki> {
  const dir = `pki/${slug}`;
  const root = await issue(`${slug}-root`, {
    subject: `CN=vouch vectors ${label} root,O=vouch,ST=WA,C=US`,
    key: await key(`${slug}-root`, spec),
    profile: ROOT,
  });
  const intermediate = await issue(`${slug}-intermediate`, {
    subject: `CN=vouch vectors ${label} intermediate,O=vouch,ST=WA,C=US`,
    key: await key(`${slug}-intermediate`, spec),
    issuer: root,
    profile: INTERMEDIATE,
  });
  const leaf = await issue(`${slug}-leaf`, {
    subject: leafSubject(label),
    key: await key(`${slug}-leaf`, spec),
    issuer: intermediate,
    profile: LEAF,
  });
  const tsa = await issue(`${slug}-tsa`, {
    subject: `CN=vouch vectors ${label} tsa,O=vouch,ST=WA,C=US`,
    key: await key(`${slug}-tsa`, spec),
    issuer: intermediate,
    profile: TSA,
  });
  for (const c of [root, intermediate, leaf, tsa]) writeCerts(`${dir}/${c.name.slice(slug.length + 1)}.pem`, [c.certificate]);
  const chain = [leaf.certificate, intermediate.certificate, root.certificate];
  writeCerts(`${dir}/chain.pem`, chain);
  writeCerts(`${dir}/tsa-chain.pem`, [tsa.certificate, intermediate.certificate, root.certificate]);
  return { spec, dir, root, intermediate, leaf, tsa, chain };
}

export interface Pkis {
  bySpec: Record<KeySpec, Pki>;
  /** An unrelated EC-256 PKI (untrusted signer, broken links). */
  other: Pki;
  /** Self-signed code-signing certificate, as `notation cert generate-test` makes (EC-256 key). */
  selfSigned: Issued;
  /** Leaves of the EC-256 PKI with special subjects/profiles, by name (for envelopes). */
  extra: Record<string, Issued>;
}

function chainCase(
  id: string,
  description: string,
  rule: string,
  chain: readonly Certificate[],
  expect: { ok: true } | { code: string },
  profile: 'signing' | 'timestamping' = 'signing',
  extra: { knownIssue?: string } = {},
): void {
  const rel = writeCerts(`pki/chains/${id}.pem`, chain);
  add({ id: `x509-${id}`, kind: 'x509-chain', description, rule, inputs: { chain: rel }, params: { profile }, expect, ...extra });
}

const INVALID = { code: 'ERR_CERT_CHAIN_INVALID' } as const;
const EXPIRED = { code: 'ERR_CERT_EXPIRED' } as const;
const OK = { ok: true } as const;

/** Sign `tbs` for a certificate with an RSA key using SHA-1 (node:crypto; WebCrypto would too, but this keeps it explicit). */
function sha1RsaSigner(k: KeyMaterial) {
  return async (tbs: Uint8Array) => {
    const s = createSign('sha1');
    s.update(tbs);
    return new Uint8Array(s.sign({ key: Buffer.from(k.pkcs8), format: 'der', type: 'pkcs8' }));
  };
}

function ecdsaSigner(k: KeyMaterial) {
  return async (tbs: Uint8Array) =>
    ecdsaP1363ToDer(new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, k.privateKey!, tbs as BufferSource)));
}

export async function generatePki(): Promise<Pkis> {
  const bySpec = {} as Record<KeySpec, Pki>;
  for (const spec of KEY_SPECS) bySpec[spec] = await buildPki(spec, spec, specSlug(spec));
  const other = await buildPki('other EC-256', 'EC-256', 'other');
  const ec = bySpec['EC-256'];
  const rsa = bySpec['RSA-2048'];
  const leafKey = ec.leaf.key;
  const [root, int] = [ec.root, ec.intermediate];
  const leafWith = (name: string, profile: Profile, subject = leafSubject(`EC-256 ${name}`), issuer: Issued = int, k = leafKey) =>
    issue(`bad-${name}`, { subject, key: k, issuer, profile });
  const caWith = (name: string, profile: Profile, issuer: Issued = root) =>
    issue(`bad-${name}`, { subject: `CN=vouch vectors EC-256 ${name},O=vouch,ST=WA,C=US`, key: int.key, issuer, profile });
  const extra: Record<string, Issued> = {};

  // ---- good chains: every key type, both profiles
  for (const spec of KEY_SPECS) {
    const p = bySpec[spec];
    add({
      id: `x509-valid-${specSlug(spec)}-signing`,
      kind: 'x509-chain',
      description: `${spec} root → intermediate → code-signing leaf`,
      rule: 'certificates: chain of every allowed key type',
      inputs: { chain: `${p.dir}/chain.pem` },
      params: { profile: 'signing' },
      expect: OK,
    });
    add({
      id: `x509-valid-${specSlug(spec)}-timestamping`,
      kind: 'x509-chain',
      description: `${spec} root → intermediate → TSA leaf (EKU timeStamping, critical)`,
      rule: 'certificates: timestamping chain of every allowed key type',
      inputs: { chain: `${p.dir}/tsa-chain.pem` },
      params: { profile: 'timestamping' },
      expect: OK,
    });
  }
  add({
    id: 'x509-code-signing-leaf-as-tsa',
    kind: 'x509-chain',
    description: 'a code-signing chain validated with the timestamping profile',
    rule: 'certificates: TSA leaf EKU must be timeStamping',
    inputs: { chain: `${ec.dir}/chain.pem` },
    params: { profile: 'timestamping' },
    expect: INVALID,
  });
  add({
    id: 'x509-tsa-leaf-as-code-signing',
    kind: 'x509-chain',
    description: 'a TSA chain validated with the code-signing profile (timeStamping EKU is forbidden for code signing)',
    rule: 'certificates: code-signing leaf EKU must not contain timeStamping',
    inputs: { chain: `${ec.dir}/tsa-chain.pem` },
    params: { profile: 'signing' },
    expect: INVALID,
  });

  // ---- self-signed single certificates
  const selfSigned = await issue('self-signed', {
    subject: 'CN=vouch vectors self-signed,O=Notary,L=Seattle,ST=WA,C=US',
    key: leafKey,
    profile: { keyUsage: { usages: ['digitalSignature'] }, extKeyUsage: { usages: ['codeSigning'] } },
  });
  writeCerts('pki/self-signed/cert.pem', [selfSigned.certificate]);
  chainCase(
    'self-signed-leaf',
    'single self-signed code-signing certificate (generate-test style)',
    'certificates: single-cert chain satisfies leaf rules',
    [selfSigned.certificate],
    OK,
  );
  chainCase(
    'self-signed-root-alone',
    'a CA root alone is not a valid signing chain (leaf rules apply)',
    'certificates: single-cert chain satisfies leaf rules',
    [root.certificate],
    INVALID,
  );
  chainCase(
    'leaf-alone-not-self-signed',
    'a leaf alone that is not self-signed',
    'certificates: chain must end in a self-signed root',
    [ec.leaf.certificate],
    INVALID,
  );
  chainCase(
    'missing-root',
    'leaf → intermediate without the root',
    'certificates: chain must end in a self-signed root',
    [ec.leaf.certificate, int.certificate],
    INVALID,
  );
  chainCase(
    'out-of-order',
    'leaf, root, intermediate',
    'certificates: chain order',
    [ec.leaf.certificate, root.certificate, int.certificate],
    INVALID,
  );
  chainCase(
    'reversed',
    'root, intermediate, leaf',
    'certificates: chain order',
    [root.certificate, int.certificate, ec.leaf.certificate],
    INVALID,
  );
  chainCase(
    'unrelated-cert-appended',
    'valid chain followed by an unrelated root',
    'certificates: no unrelated certificates',
    [...ec.chain, other.root.certificate],
    INVALID,
  );
  const selfSignedMiddle = await issue('bad-self-signed-leaf-in-chain', {
    subject: leafSubject('EC-256 self-signed-in-chain'),
    key: leafKey,
    profile: LEAF,
  });
  chainCase(
    'self-signed-leaf-in-chain',
    'a self-signed (non-CA) leaf followed by an intermediate and root: it is not issued by the intermediate',
    'certificates: each certificate is issued by the next',
    [selfSignedMiddle.certificate, int.certificate, root.certificate],
    INVALID,
  );

  // ---- links and signatures
  chainCase(
    'broken-link-other-pki',
    "leaf of another PKI with this PKI's intermediate and root (issuer name and signature differ)",
    'certificates: issuer/subject link',
    [other.leaf.certificate, int.certificate, root.certificate],
    INVALID,
  );
  const wrongKey = await leafWith('wrong-issuer-key', LEAF, leafSubject('EC-256 wrong-issuer-key'), int);
  const wrongKeyDer = await resign(wrongKey.certificate.der, { sign: ecdsaSigner(other.intermediate.key) });
  chainCase(
    'broken-link-signature',
    "leaf naming the intermediate as issuer but signed by another CA's key",
    'certificates: certificate signature by the next certificate',
    [parseCertificate(wrongKeyDer), int.certificate, root.certificate],
    INVALID,
  );
  const wrongName = await resign(ec.leaf.certificate.der, {
    replace: { issuer: subjectName(other.intermediate.certificate.der) },
    sign: ecdsaSigner(int.key),
  });
  chainCase(
    'broken-link-issuer-name',
    "leaf signed by the intermediate's key but naming another issuer",
    'certificates: issuer/subject link',
    [parseCertificate(wrongName), int.certificate, root.certificate],
    INVALID,
  );
  chainCase(
    'bad-leaf-signature',
    'leaf whose signature value was altered',
    'certificates: certificate signature by the next certificate',
    [parseCertificate(corruptSignature(ec.leaf.certificate.der)), int.certificate, root.certificate],
    INVALID,
  );
  chainCase(
    'bad-root-signature',
    'root whose self-signature was altered',
    'certificates: chain must end in a valid self-signed root',
    [ec.leaf.certificate, int.certificate, parseCertificate(corruptSignature(root.certificate.der))],
    INVALID,
  );
  const sha1Leaf = await resign(
    (await leafWith('sha1-signed', LEAF, leafSubject('EC-256 sha1-signed'), rsa.intermediate)).certificate.der,
    { sigAlg: ALGORITHM_ID.sha1WithRSA, sign: sha1RsaSigner(rsa.intermediate.key) },
  );
  chainCase(
    'sha1-signed-leaf',
    'leaf signed with sha1WithRSAEncryption by the RSA-2048 intermediate',
    'certificates: SHA-1 certificate signatures are rejected',
    [parseCertificate(sha1Leaf), rsa.intermediate.certificate, rsa.root.certificate],
    INVALID,
  );

  // ---- CA rules
  const caNoBc = await caWith('ca-no-basic-constraints', { keyUsage: INTERMEDIATE.keyUsage });
  const caBcNotCritical = await caWith('ca-basic-constraints-not-critical', {
    ...INTERMEDIATE,
    basicConstraints: { ca: true, pathLen: 0, critical: false },
  });
  const caFalse = await caWith('ca-basic-constraints-ca-false', { ...INTERMEDIATE, basicConstraints: { ca: false } });
  const caNoKu = await caWith('ca-no-key-usage', { basicConstraints: INTERMEDIATE.basicConstraints });
  const caNoKeyCertSign = await caWith('ca-no-keycertsign', { ...INTERMEDIATE, keyUsage: { usages: ['cRLSign', 'digitalSignature'] } });
  const caKuNotCritical = await caWith('ca-key-usage-not-critical', {
    ...INTERMEDIATE,
    keyUsage: { usages: ['keyCertSign', 'cRLSign'], critical: false },
  });
  for (const [ca, desc, rule] of [
    [caNoBc, 'intermediate without basicConstraints', 'certificates: CA basicConstraints present'],
    [
      caBcNotCritical,
      'intermediate with non-critical basicConstraints (GAP: notation does not check criticality)',
      'certificates: CA basicConstraints critical',
    ],
    [caFalse, 'intermediate with cA=false', 'certificates: CA basicConstraints cA=true'],
    [caNoKu, 'intermediate without keyUsage', 'certificates: CA keyUsage present'],
    [caNoKeyCertSign, 'intermediate whose keyUsage lacks keyCertSign', 'certificates: CA keyUsage keyCertSign'],
    [caKuNotCritical, 'intermediate with non-critical keyUsage (code signing requires critical)', 'certificates: CA keyUsage critical'],
  ] as const) {
    const leaf = await leafWith(`leaf-under-${ca.name.slice(4)}`, LEAF, leafSubject(`EC-256 under ${ca.name.slice(4)}`), ca);
    chainCase(ca.name.slice(4), desc, rule, [leaf.certificate, ca.certificate, root.certificate], INVALID);
  }
  // TSA chains: CA keyUsage criticality is a SHOULD (not enforced).
  {
    const tsaLeaf = await issue('bad-tsa-under-ca-ku-not-critical', {
      subject: 'CN=vouch vectors EC-256 tsa under ku-not-critical,O=vouch,ST=WA,C=US',
      key: ec.tsa.key,
      issuer: caKuNotCritical,
      profile: TSA,
    });
    chainCase(
      'tsa-ca-key-usage-not-critical',
      'TSA chain whose intermediate has non-critical keyUsage (SHOULD only for TSA chains)',
      'certificates: TSA CA keyUsage criticality not enforced',
      [tsaLeaf.certificate, caKuNotCritical.certificate, root.certificate],
      OK,
      'timestamping',
    );
  }
  // Path length: root → int1 → int2 → leaf.
  {
    const rootNoLimit = await issue('pathlen-root-unbounded', {
      subject: 'CN=vouch vectors EC-256 pathlen root,O=vouch,ST=WA,C=US',
      key: root.key,
      profile: { ...ROOT, basicConstraints: { ca: true } },
    });
    const k2 = await key('ec-256-intermediate2', 'EC-256');
    const mk = async (tag: string, parentPathLen: number | undefined) => {
      const int1 = await issue(`pathlen-${tag}-int1`, {
        subject: `CN=vouch vectors EC-256 pathlen ${tag} int1,O=vouch,ST=WA,C=US`,
        key: int.key,
        issuer: rootNoLimit,
        profile: { ...INTERMEDIATE, basicConstraints: { ca: true, ...(parentPathLen === undefined ? {} : { pathLen: parentPathLen }) } },
      });
      const int2 = await issue(`pathlen-${tag}-int2`, {
        subject: `CN=vouch vectors EC-256 pathlen ${tag} int2,O=vouch,ST=WA,C=US`,
        key: k2,
        issuer: int1,
        profile: INTERMEDIATE,
      });
      const leaf = await leafWith(`pathlen-${tag}-leaf`, LEAF, leafSubject(`EC-256 pathlen ${tag}`), int2);
      return [leaf.certificate, int2.certificate, int1.certificate, rootNoLimit.certificate];
    };
    chainCase(
      'pathlen-ok',
      'four-certificate chain, upper intermediate pathLen 1',
      'certificates: pathLenConstraint',
      await mk('ok', 1),
      OK,
    );
    chainCase(
      'pathlen-unbounded',
      'four-certificate chain without pathLen limits',
      'certificates: pathLenConstraint optional',
      await mk('unbounded', undefined),
      OK,
    );
    chainCase(
      'pathlen-exceeded',
      'four-certificate chain, upper intermediate pathLen 0 with a CA below it',
      'certificates: pathLenConstraint',
      await mk('exceeded', 0),
      INVALID,
    );
  }

  // ---- leaf rules (code signing)
  const leafCases: [string, string, string, Profile, { ok: true } | { code: string }][] = [
    [
      'leaf-ca-true',
      'leaf with basicConstraints cA=true',
      'certificates: leaf basicConstraints cA=false',
      { ...LEAF, basicConstraints: { ca: true } },
      INVALID,
    ],
    [
      'leaf-no-basic-constraints',
      'leaf without basicConstraints (optional)',
      'certificates: leaf basicConstraints optional',
      { ...LEAF, basicConstraints: undefined },
      OK,
    ],
    [
      'leaf-no-eku',
      'leaf without extendedKeyUsage (optional)',
      'certificates: code-signing EKU optional',
      { ...LEAF, extKeyUsage: undefined },
      OK,
    ],
    [
      'leaf-eku-critical',
      'leaf with a critical codeSigning EKU',
      'certificates: code-signing EKU may be critical',
      { ...LEAF, extKeyUsage: { usages: ['codeSigning'], critical: true } },
      OK,
    ],
    ['leaf-no-key-usage', 'leaf without keyUsage', 'certificates: leaf keyUsage present', { ...LEAF, keyUsage: undefined }, INVALID],
    [
      'leaf-key-usage-not-critical',
      'leaf with non-critical keyUsage',
      'certificates: code-signing leaf keyUsage critical',
      { ...LEAF, keyUsage: { usages: ['digitalSignature'], critical: false } },
      INVALID,
    ],
    [
      'leaf-no-digital-signature',
      'leaf keyUsage without digitalSignature',
      'certificates: leaf keyUsage digitalSignature',
      { ...LEAF, keyUsage: { usages: ['nonRepudiation'] } },
      INVALID,
    ],
    [
      'leaf-keycertsign',
      'leaf keyUsage with keyCertSign',
      'certificates: leaf keyUsage forbidden bits',
      { ...LEAF, keyUsage: { usages: ['digitalSignature', 'keyCertSign'] } },
      INVALID,
    ],
    [
      'leaf-key-encipherment',
      'leaf keyUsage with keyEncipherment',
      'certificates: leaf keyUsage forbidden bits',
      { ...LEAF, keyUsage: { usages: ['digitalSignature', 'keyEncipherment'] } },
      INVALID,
    ],
    [
      'leaf-crlsign',
      'leaf keyUsage with cRLSign',
      'certificates: leaf keyUsage forbidden bits',
      { ...LEAF, keyUsage: { usages: ['digitalSignature', 'cRLSign'] } },
      INVALID,
    ],
    [
      'leaf-eku-server-auth',
      'leaf EKU serverAuth only',
      'certificates: code-signing EKU',
      { ...LEAF, extKeyUsage: { usages: ['serverAuth'] } },
      INVALID,
    ],
    [
      'leaf-eku-client-auth',
      'leaf EKU codeSigning + clientAuth',
      'certificates: code-signing EKU',
      { ...LEAF, extKeyUsage: { usages: ['codeSigning', 'clientAuth'] } },
      INVALID,
    ],
    [
      'leaf-eku-email-protection',
      'leaf EKU emailProtection',
      'certificates: code-signing EKU',
      { ...LEAF, extKeyUsage: { usages: ['emailProtection'] } },
      INVALID,
    ],
    [
      'leaf-eku-timestamping',
      'code-signing leaf with EKU timeStamping',
      'certificates: code-signing EKU',
      { ...LEAF, extKeyUsage: { usages: ['codeSigning', 'timeStamping'] } },
      INVALID,
    ],
    [
      'leaf-eku-any',
      'leaf EKU anyExtendedKeyUsage (GAP: notation accepts it)',
      'certificates: anyEKU rejected',
      { ...LEAF, extKeyUsage: { usages: ['2.5.29.37.0'] } },
      INVALID,
    ],
    [
      'leaf-unknown-critical-extension',
      'leaf with an unknown critical extension (RFC 5280 §4.2; GAP: notation ignores it)',
      'certificates: unknown critical extension',
      { ...LEAF, extensions: [{ oid: '1.3.6.1.4.1.57264.99.1', critical: true, value: Uint8Array.of(0x05, 0x00) }] },
      INVALID,
    ],
    [
      'leaf-unknown-noncritical-extension',
      'leaf with an unknown non-critical extension (fail open)',
      'certificates: other extensions ignored',
      { ...LEAF, extensions: [{ oid: '1.3.6.1.4.1.57264.99.1', critical: false, value: Uint8Array.of(0x05, 0x00) }] },
      OK,
    ],
  ];
  for (const [name, desc, rule, profile, expect] of leafCases) {
    const leaf = await leafWith(name, profile);
    extra[name] = leaf;
    chainCase(name, desc, rule, [leaf.certificate, int.certificate, root.certificate], expect);
  }

  // ---- key types
  const rsa1024 = await key('rsa-1024-leaf', 'RSA-1024');
  const leaf1024 = await leafWith('leaf-rsa-1024', LEAF, leafSubject('RSA-1024'), int, rsa1024);
  extra['leaf-rsa-1024'] = leaf1024;
  chainCase(
    'leaf-rsa-1024',
    'leaf with an RSA-1024 key',
    'certificates: RSA ≥ 2048 and the six key types',
    [leaf1024.certificate, int.certificate, root.certificate],
    INVALID,
  );
  const p224 = await key('ec-224-leaf', 'EC-224');
  const p224Der = await resign((await leafWith('leaf-p224', LEAF, leafSubject('EC-224'))).certificate.der, {
    replace: { spki: p224.spki },
    sign: ecdsaSigner(int.key),
  });
  chainCase(
    'leaf-ec-p224',
    'leaf with a P-224 key (unsupported curve)',
    'certificates: the six key types',
    [parseCertificate(p224Der), int.certificate, root.certificate],
    INVALID,
  );

  // ---- validity at the verification time
  const expiredLeaf = await issue('bad-leaf-expired', {
    subject: leafSubject('EC-256 expired'),
    key: leafKey,
    issuer: int,
    profile: { ...LEAF, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') },
  });
  extra['leaf-expired'] = expiredLeaf;
  const futureLeaf = await issue('bad-leaf-not-yet-valid', {
    subject: leafSubject('EC-256 not-yet-valid'),
    key: leafKey,
    issuer: int,
    profile: { ...LEAF, notBefore: new Date('2030-01-01T00:00:00Z'), notAfter: new Date('2031-01-01T00:00:00Z') },
  });
  extra['leaf-not-yet-valid'] = futureLeaf;
  const expiredInt = await issue('bad-intermediate-expired', {
    subject: 'CN=vouch vectors EC-256 expired intermediate,O=vouch,ST=WA,C=US',
    key: int.key,
    issuer: root,
    profile: { ...INTERMEDIATE, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z') },
  });
  const underExpired = await leafWith(
    'leaf-under-expired-intermediate',
    LEAF,
    leafSubject('EC-256 under expired intermediate'),
    expiredInt,
  );
  const outliving = await issue('bad-leaf-outlives-issuer', {
    subject: leafSubject('EC-256 outlives issuer'),
    key: leafKey,
    issuer: int,
    profile: { ...LEAF, notAfter: new Date('2040-01-01T00:00:00Z') },
  });
  chainCase(
    'leaf-expired',
    'leaf valid 2020–2021, verified in 2026',
    'certificates: validity at a given time',
    [expiredLeaf.certificate, int.certificate, root.certificate],
    EXPIRED,
  );
  chainCase(
    'leaf-not-yet-valid',
    'leaf valid 2030–2031, verified in 2026',
    'certificates: validity at a given time',
    [futureLeaf.certificate, int.certificate, root.certificate],
    EXPIRED,
  );
  chainCase(
    'intermediate-expired',
    'intermediate valid 2020–2021, verified in 2026',
    'certificates: validity at a given time',
    [underExpired.certificate, expiredInt.certificate, root.certificate],
    EXPIRED,
  );
  chainCase(
    'validity-not-nested',
    'leaf outliving its issuer (nesting is not enforced)',
    'certificates: validity nesting not enforced',
    [outliving.certificate, int.certificate, root.certificate],
    OK,
  );

  // ---- TSA leaf rules
  const tsaCases: [string, string, Profile, { ok: true } | { code: string }][] = [
    [
      'tsa-eku-not-critical',
      'TSA leaf with a non-critical timeStamping EKU',
      { ...TSA, extKeyUsage: { usages: ['timeStamping'], critical: false } },
      INVALID,
    ],
    ['tsa-no-eku', 'TSA leaf without EKU', { ...TSA, extKeyUsage: undefined }, INVALID],
    [
      'tsa-eku-code-signing',
      'TSA leaf with EKU codeSigning instead of timeStamping',
      { ...TSA, extKeyUsage: { usages: ['codeSigning'], critical: true } },
      INVALID,
    ],
    [
      'tsa-eku-extra',
      'TSA leaf with timeStamping and another EKU',
      { ...TSA, extKeyUsage: { usages: ['timeStamping', 'codeSigning'], critical: true } },
      INVALID,
    ],
    [
      'tsa-key-usage-not-critical',
      'TSA leaf with non-critical keyUsage (SHOULD only)',
      { ...TSA, keyUsage: { usages: ['digitalSignature'], critical: false } },
      OK,
    ],
    ['tsa-ca-true', 'TSA leaf with cA=true', { ...TSA, basicConstraints: { ca: true } }, INVALID],
    [
      'tsa-no-digital-signature',
      'TSA leaf keyUsage without digitalSignature',
      { ...TSA, keyUsage: { usages: ['nonRepudiation'] } },
      INVALID,
    ],
  ];
  for (const [name, desc, profile, expect] of tsaCases) {
    const t = await issue(`bad-${name}`, {
      subject: `CN=vouch vectors EC-256 ${name},O=vouch,ST=WA,C=US`,
      key: ec.tsa.key,
      issuer: int,
      profile,
    });
    chainCase(name, desc, 'certificates: TSA leaf rules', [t.certificate, int.certificate, root.certificate], expect, 'timestamping');
  }

  // ---- trusted identities (DN rules)
  const subjects: [string, string | { type: string; value: string }[]][] = [
    ['subject-no-st', 'CN=vouch vectors no ST,O=vouch,L=Seattle,C=US'],
    ['subject-two-ou', 'CN=vouch vectors two OU,OU=A,OU=B,O=vouch,ST=WA,C=US'],
    [
      'subject-email',
      [
        { type: 'CN', value: 'vouch vectors email' },
        { type: '1.2.840.113549.1.9.1', value: 'signer@example.com' },
        { type: 'O', value: 'vouch' },
        { type: 'ST', value: 'WA' },
        { type: 'C', value: 'US' },
      ],
    ],
    ['subject-escaped', 'CN=vouch\\, vectors,O=vouch\\, Inc.,ST=WA,C=US'],
  ];
  const certs: Record<string, string> = { standard: `${ec.dir}/leaf.pem` };
  for (const [name, subject] of subjects) {
    const c = await issue(`id-${name}`, { subject: subject as string, key: leafKey, issuer: int, profile: LEAF });
    certs[name] = writeCerts(`pki/identity/${name}.pem`, [c.certificate]);
  }
  identityCases(certs);
  trustStoreCases(ec, other, selfSigned);
  write('pki/other/README', 'An unrelated EC-256 PKI: its root is in no trust store of the vectors.\n');
  return { bySpec, other, selfSigned, extra };
}

function identityCases(certs: Record<string, string>): void {
  const TPI = { code: 'ERR_TRUST_POLICY_INVALID' } as const;
  const parse: [string, string, { ok: true } | { code: string }, string][] = [
    ['valid', 'x509.subject: C=US, ST=WA, O=vouch', OK, 'C, ST and O present'],
    ['valid-no-space', 'x509.subject:C=US,ST=WA,O=vouch,CN=vouch vectors EC-256 signer', OK, 'whitespace after the colon is optional'],
    ['s-alias', 'x509.subject: C=US, S=WA, O=vouch', OK, 'S is an alias of ST'],
    ['escaped-comma', 'x509.subject: C=US, ST=WA, O=vouch\\, Inc.', OK, 'escaped comma in a value'],
    ['missing-c', 'x509.subject: ST=WA, O=vouch', TPI, 'C is mandatory'],
    ['missing-st', 'x509.subject: C=US, O=vouch', TPI, 'ST is mandatory'],
    ['missing-o', 'x509.subject: C=US, ST=WA', TPI, 'O is mandatory'],
    ['hex-value', 'x509.subject: C=US, ST=WA, O=#0c05766f756368', TPI, '"=#" hex values rejected (CVE-2023-25656)'],
    ['multi-valued', 'x509.subject: C=US, ST=WA, O=vouch+OU=Vectors', TPI, 'multi-valued RDNs rejected'],
    ['duplicate', 'x509.subject: C=US, ST=WA, O=vouch, O=other', TPI, 'duplicate attribute types rejected'],
    ['duplicate-s-st', 'x509.subject: C=US, ST=WA, S=OR, O=vouch', TPI, 'S and ST are the same attribute'],
    ['garbage', 'x509.subject: this is not a DN', TPI, 'not RFC 4514'],
    ['trailing-separator', 'x509.subject: C=US, ST=WA, O=vouch,', TPI, 'trailing separator'],
  ];
  for (const [id, identity, expect, rule] of parse) {
    add({
      id: `identity-parse-${id}`,
      kind: 'trusted-identity',
      description: `parse ${JSON.stringify(identity)}`,
      rule: `certificates: DN rules: ${rule}`,
      inputs: {},
      params: { identity },
      expect,
    });
  }
  const UNTRUSTED = { code: 'ERR_IDENTITY_UNTRUSTED' } as const;
  const match: [string, string[], string, { ok: true } | { code: string }, string][] = [
    ['order-insensitive', ['x509.subject: C=US, ST=WA, O=vouch'], 'standard', OK, 'attributes compared as a set'],
    [
      'full-subject',
      ['x509.subject: C=US, ST=WA, L=Seattle, O=vouch, OU=Vectors, CN=vouch vectors EC-256 signer'],
      'standard',
      OK,
      'full subject in another order',
    ],
    ['s-alias', ['x509.subject: C=US, S=WA, O=vouch'], 'standard', OK, 'S matches ST'],
    [
      'second-identity',
      ['x509.subject: C=US, ST=WA, O=other', 'x509.subject: C=US, ST=WA, O=vouch, OU=Vectors'],
      'standard',
      OK,
      'any identity may match',
    ],
    ['wildcard', ['*'], 'standard', OK, '"*" trusts any leaf'],
    ['wildcard-email-subject', ['*'], 'subject-email', OK, '"*" trusts a subject that cannot be matched'],
    ['value-mismatch', ['x509.subject: C=US, ST=WA, O=other'], 'standard', UNTRUSTED, 'values compared exactly'],
    ['case-sensitive', ['x509.subject: C=US, ST=WA, O=VOUCH'], 'standard', UNTRUSTED, 'values are case-sensitive'],
    [
      'extra-attribute',
      ['x509.subject: C=US, ST=WA, O=vouch, OU=Other'],
      'standard',
      UNTRUSTED,
      'every identity attribute must be in the subject',
    ],
    ['leaf-missing-st', ['x509.subject: C=US, ST=WA, O=vouch'], 'subject-no-st', UNTRUSTED, 'the leaf subject needs C, ST and O'],
    ['leaf-two-ou', ['x509.subject: C=US, ST=WA, O=vouch'], 'subject-two-ou', UNTRUSTED, 'duplicate attributes in the leaf subject'],
    [
      'leaf-email-attribute',
      ['x509.subject: C=US, ST=WA, O=vouch'],
      'subject-email',
      UNTRUSTED,
      'attributes outside CN,O,OU,L,ST,C,STREET,POSTALCODE,SERIALNUMBER',
    ],
    ['escaped-value', ['x509.subject: C=US, ST=WA, O=vouch\\, Inc.'], 'subject-escaped', OK, 'escaped comma matches the decoded value'],
    ['foreign-prefix-only', ['x509.other: C=US'], 'standard', UNTRUSTED, 'no x509.subject identity configured'],
  ];
  for (const [id, identities, cert, expect, rule] of match) {
    add({
      id: `identity-match-${id}`,
      kind: 'identity-match',
      description: `${JSON.stringify(identities)} against ${cert}`,
      rule: `certificates: DN matching: ${rule}`,
      inputs: { certificate: certs[cert]! },
      params: { identities },
      expect,
    });
  }
}

function trustStoreCases(ec: Pki, other: Pki, selfSigned: Issued): void {
  const INVALID_STORE = { code: 'ERR_TRUST_STORE_INVALID' } as const;
  const cases: [string, string, 'ca' | 'signingAuthority' | 'tsa', string, string, { ok: true } | { code: string }][] = [
    ['ca-root', 'a root in a ca store', 'ca', 'vectors', `${ec.dir}/root.pem`, OK],
    ['ca-intermediate', 'an intermediate CA in a ca store (pinning)', 'ca', 'vectors', `${ec.dir}/intermediate.pem`, OK],
    ['ca-self-signed-leaf', 'a self-signed leaf in a ca store', 'ca', 'vectors', 'pki/self-signed/cert.pem', OK],
    ['ca-leaf', 'a leaf that is neither CA nor self-signed in a ca store', 'ca', 'vectors', `${ec.dir}/leaf.pem`, INVALID_STORE],
    ['signing-authority-root', 'a root in a signingAuthority store', 'signingAuthority', 'vectors', `${ec.dir}/root.pem`, OK],
    ['tsa-root', 'a root in a tsa store', 'tsa', 'vectors', `${other.dir}/root.pem`, OK],
    [
      'tsa-intermediate',
      'an intermediate in a tsa store (tsa stores hold roots only)',
      'tsa',
      'vectors',
      `${ec.dir}/intermediate.pem`,
      INVALID_STORE,
    ],
    ['bad-name', 'a store name outside [a-zA-Z0-9_.-]', 'ca', 'bad name!', `${ec.dir}/root.pem`, INVALID_STORE],
  ];
  for (const [id, description, type, name, file, expect] of cases) {
    add({
      id: `trust-store-${id}`,
      kind: 'trust-store',
      description,
      rule: 'trust policy: trust store',
      inputs: { certificates: file },
      params: { type, name },
      expect,
    });
  }
  const badRoot = writeCerts('pki/chains/bad-root-signature-alone.pem', [parseCertificate(corruptSignature(ec.root.certificate.der))]);
  const badSelfSigned = writeCerts('pki/chains/bad-self-signed-leaf-alone.pem', [
    parseCertificate(corruptSignature(selfSigned.certificate.der)),
  ]);
  const badCases: [string, string, 'ca' | 'tsa', string, { ok: true } | { code: string }][] = [
    ['tsa-bad-self-signature', 'a tsa root whose self-signature does not verify', 'tsa', badRoot, INVALID_STORE],
    [
      'ca-self-signed-leaf-bad-signature',
      'a self-signed (non-CA) certificate whose self-signature does not verify',
      'ca',
      badSelfSigned,
      INVALID_STORE,
    ],
    [
      'ca-root-bad-signature',
      'a CA root with a broken self-signature is accepted in a ca store (only CA-ness is checked, as notation does; a chain ending in it never validates)',
      'ca',
      badRoot,
      OK,
    ],
  ];
  for (const [id, description, type, file, expect] of badCases) {
    add({
      id: `trust-store-${id}`,
      kind: 'trust-store',
      description,
      rule: 'trust policy: trust store',
      inputs: { certificates: file },
      params: { type, name: 'vectors' },
      expect,
    });
  }
  add({
    id: 'trust-store-missing',
    kind: 'trust-store',
    description: 'a store that does not exist',
    rule: 'trust policy: trust store',
    inputs: { certificates: `${ec.dir}/root.pem` },
    params: { type: 'ca', name: 'vectors', lookup: 'absent' },
    expect: { code: 'ERR_TRUST_STORE_NOT_FOUND' },
  });
}

export type { KeyKind };
