/**
 * Certificate builder for tests, demos and `vouch cert generate-test`: WebCrypto keys, DER
 * written by vouch's own encoder. Runs in browsers, Deno, Bun, Node and edge runtimes.
 */
import { isVouchError, VouchError } from '@vouch/core';
import {
  contextTag,
  decode,
  encBitString,
  encBool,
  encInt,
  encNull,
  encOctets,
  encOid,
  encSeq,
  encTime,
  readBitString,
  seq,
  tlv,
} from '@vouch/core/asn1';
import { toHex } from '@vouch/core/internal';
import { certificatePartsOf, parseCertificate } from './certificate.js';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_NAMES, type KeyUsageName, OID } from './internal/oids.js';
import {
  type CertificateSignatureAlgorithm,
  ecdsaP1363ToDer,
  exportPrivateKeyPkcs8,
  importPrivateKey,
  type KeySpec,
  signatureAlgorithmOf,
} from './keys.js';
import { encodeName, parseSimpleDn } from './names.js';
import type { Certificate, DnAttribute } from './types.js';

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new VouchError('ERR_UNSUPPORTED', 'WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return s;
}

const buf = (b: Uint8Array): Uint8Array<ArrayBuffer> => b as Uint8Array<ArrayBuffer>;

/**
 * Generate an extractable key pair for a Notary key spec: RSA keys are RSA-PSS keys with the
 * hash the spec pairs with the size (2048 → SHA-256, 3072 → SHA-384, 4096 → SHA-512), EC keys
 * are ECDSA keys on P-256/P-384/P-521.
 */
export async function generateKeyPair(keySpec: KeySpec): Promise<CryptoKeyPair> {
  const alg = signatureAlgorithmOf(keySpec);
  const params: RsaHashedKeyGenParams | EcKeyGenParams = keySpec.startsWith('RSA')
    ? {
        name: 'RSA-PSS',
        modulusLength: Number(keySpec.slice(4)),
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: `SHA-${alg.slice(2)}`,
      }
    : { name: 'ECDSA', namedCurve: `P-${keySpec.slice(3)}` };
  return (await subtle().generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** A certificate together with the private key of its subject. */
export interface CertificateWithKey {
  certificate: Certificate;
  privateKey: CryptoKey;
}

/** Options of {@link createCertificate}. */
export interface CreateCertificateOptions {
  /** Subject DN: RFC 4514 text (`CN=leaf,O=Example,C=US`) or attributes, most specific first. */
  subject: string | readonly DnAttribute[];
  /** The subject's public key. */
  publicKey: CryptoKey;
  /** The issuing CA; omit for a self-signed certificate (then `privateKey` signs). */
  issuer?: CertificateWithKey;
  /** The subject's private key; required for a self-signed certificate. */
  privateKey?: CryptoKey;
  /** Serial number as lowercase hex (positive); default 16 random bytes. */
  serialNumber?: string;
  /** Default: now minus one minute. */
  notBefore?: Date;
  /** Default: `notBefore` plus 365 days. */
  notAfter?: Date;
  /** Omit for no basicConstraints extension. `critical` defaults to true. */
  basicConstraints?: { ca: boolean; pathLen?: number; critical?: boolean };
  /** Omit for no keyUsage extension. `critical` defaults to true. */
  keyUsage?: { usages: readonly KeyUsageName[]; critical?: boolean };
  /** EKU names (codeSigning, timeStamping, serverAuth, …) or dotted OIDs. `critical` defaults to false. */
  extKeyUsage?: { usages: readonly string[]; critical?: boolean };
  ocspUrls?: readonly string[];
  crlUrls?: readonly string[];
  /** Extra raw extensions (e.g. an unknown critical one for negative tests). */
  extensions?: readonly { oid: string; critical: boolean; value: Uint8Array }[];
  /**
   * How the issuer signs: RSA keys sign with PKCS#1 v1.5 (`RS256`, default) or PSS (`PS256`, …);
   * EC keys with the curve's hash (`ES256` for P-256, …, the default).
   */
  signatureAlgorithm?: CertificateSignatureAlgorithm;
}

const SIG_OID: Record<CertificateSignatureAlgorithm, string> = {
  RS256: OID.sha256WithRsa,
  RS384: OID.sha384WithRsa,
  RS512: OID.sha512WithRsa,
  PS256: OID.rsassaPss,
  PS384: OID.rsassaPss,
  PS512: OID.rsassaPss,
  ES256: OID.ecdsaWithSha256,
  ES384: OID.ecdsaWithSha384,
  ES512: OID.ecdsaWithSha512,
};

const HASH_OID = { '256': OID.sha256, '384': OID.sha384, '512': OID.sha512 } as const;

function algorithmIdentifier(alg: CertificateSignatureAlgorithm): Uint8Array {
  if (alg.startsWith('PS')) {
    const bits = alg.slice(2) as '256' | '384' | '512';
    const hashAlg = encSeq(encOid(HASH_OID[bits]), encNull());
    const params = encSeq(
      tlv(contextTag(0, true), hashAlg),
      tlv(contextTag(1, true), encSeq(encOid(OID.mgf1), hashAlg)),
      tlv(contextTag(2, true), encInt(Number(bits) / 8)),
    );
    return encSeq(encOid(OID.rsassaPss), params);
  }
  if (alg.startsWith('RS')) return encSeq(encOid(SIG_OID[alg]), encNull());
  return encSeq(encOid(SIG_OID[alg]));
}

function defaultSigningAlgorithm(key: CryptoKey): CertificateSignatureAlgorithm {
  const a = key.algorithm as KeyAlgorithm & { namedCurve?: string };
  if (a.name === 'ECDSA') return ({ 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' } as const)[a.namedCurve as 'P-256'];
  return 'RS256';
}

/** Re-import `key` for `alg` when WebCrypto bound it to another algorithm (e.g. an RSA-PSS key signing PKCS#1). */
async function signingKeyFor(key: CryptoKey, alg: CertificateSignatureAlgorithm): Promise<CryptoKey> {
  const a = key.algorithm as KeyAlgorithm & { hash?: { name: string } };
  const wantName = alg.startsWith('PS') ? 'RSA-PSS' : alg.startsWith('RS') ? 'RSASSA-PKCS1-v1_5' : 'ECDSA';
  const wantHash = `SHA-${alg.slice(2)}`;
  if (a.name === wantName && (wantName === 'ECDSA' || a.hash?.name === wantHash)) return key;
  if (!key.extractable) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `the issuer key is a ${a.name} key and is not extractable, so it cannot sign with ${alg}`);
  }
  return importPrivateKey(await exportPrivateKeyPkcs8(key), alg);
}

async function sign(key: CryptoKey, alg: CertificateSignatureAlgorithm, data: Uint8Array): Promise<Uint8Array> {
  const k = await signingKeyFor(key, alg);
  const hash = `SHA-${alg.slice(2)}`;
  let params: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
  if (alg.startsWith('PS')) params = { name: 'RSA-PSS', saltLength: Number(alg.slice(2)) / 8 };
  else if (alg.startsWith('RS')) params = { name: 'RSASSA-PKCS1-v1_5' };
  else params = { name: 'ECDSA', hash };
  const sig = new Uint8Array(await subtle().sign(params, k, buf(data)));
  return alg.startsWith('ES') ? ecdsaP1363ToDer(sig) : sig;
}

function keyUsageBits(usages: readonly KeyUsageName[]): Uint8Array {
  let n = 0;
  let last = -1;
  for (const u of usages) {
    const bit = KEY_USAGE_NAMES.indexOf(u);
    if (bit < 0) throw new VouchError('ERR_INVALID_ARGUMENT', `unknown key usage "${u}"`);
    n |= 1 << bit;
    last = Math.max(last, bit);
  }
  if (last < 0) return encBitString(new Uint8Array(0));
  const bytes = new Uint8Array(last >= 8 ? 2 : 1);
  for (let bit = 0; bit <= last; bit++) if (n & (1 << bit)) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = bytes.length * 8 - (last + 1);
  return encBitString(bytes, unused);
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? encSeq(encOid(oid), encBool(true), encOctets(value)) : encSeq(encOid(oid), encOctets(value));
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

async function sha1(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-1', buf(data)));
}

/** The subjectPublicKey BIT STRING contents (what RFC 5280 §4.2.1.2 method 1 hashes). */
function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  return readBitString(seq(decode(spki), 'SubjectPublicKeyInfo')[1], 'subjectPublicKey').bytes;
}

function randomSerial(): Uint8Array {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b;
}

/**
 * Create and sign an X.509 v3 certificate and return it parsed. Self-signed when `issuer` is
 * omitted (then `privateKey` must be the subject's key). Key identifiers are added
 * (subjectKeyIdentifier always, authorityKeyIdentifier when the issuer has one).
 *
 * @throws VouchError ERR_INVALID_ARGUMENT for bad options (unknown attribute, key usage, …).
 */
export async function createCertificate(options: CreateCertificateOptions): Promise<Certificate> {
  try {
    return await build(options);
  } catch (e) {
    if (isVouchError(e)) throw e;
    throw new VouchError('ERR_INVALID_ARGUMENT', `certificate could not be created: ${(e as Error).message}`, { cause: e });
  }
}

async function build(o: CreateCertificateOptions): Promise<Certificate> {
  const signerKey = o.issuer?.privateKey ?? o.privateKey;
  if (!signerKey) throw new VouchError('ERR_INVALID_ARGUMENT', 'a self-signed certificate needs `privateKey`');
  const alg = o.signatureAlgorithm ?? defaultSigningAlgorithm(signerKey);
  const subjectAttrs = typeof o.subject === 'string' ? parseSimpleDn(o.subject) : o.subject;
  const subject = encodeName(subjectAttrs);
  const issuerName = o.issuer ? issuerNameOf(o.issuer.certificate) : subject;
  const spki = new Uint8Array(await subtle().exportKey('spki', o.publicKey));
  const notBefore = o.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = o.notAfter ?? new Date(notBefore.getTime() + 365 * 86_400_000);
  let serial: Uint8Array;
  if (o.serialNumber !== undefined) {
    if (!/^[0-9a-f]+$/i.test(o.serialNumber)) throw new VouchError('ERR_INVALID_ARGUMENT', 'serialNumber must be hex');
    const hex = o.serialNumber.length % 2 ? `0${o.serialNumber}` : o.serialNumber;
    serial = Uint8Array.from(hex.match(/../g)!, (h) => Number.parseInt(h, 16));
  } else serial = randomSerial();

  const exts: Uint8Array[] = [];
  if (o.basicConstraints) {
    const bc = o.basicConstraints;
    const body = encSeq(...(bc.ca ? [encBool(true)] : []), ...(bc.pathLen !== undefined ? [encInt(bc.pathLen)] : []));
    exts.push(extension(OID.basicConstraints, bc.critical ?? true, body));
  }
  if (o.keyUsage) exts.push(extension(OID.keyUsage, o.keyUsage.critical ?? true, keyUsageBits(o.keyUsage.usages)));
  if (o.extKeyUsage) {
    const oids = o.extKeyUsage.usages.map((u) => {
      const oid = EXT_KEY_USAGE_OIDS[u] ?? (/^\d+(\.\d+)+$/.test(u) ? u : undefined);
      if (!oid) throw new VouchError('ERR_INVALID_ARGUMENT', `unknown extended key usage "${u}"`);
      return encOid(oid);
    });
    exts.push(extension(OID.extKeyUsage, o.extKeyUsage.critical ?? false, encSeq(...oids)));
  }
  const ski = await sha1(subjectPublicKeyBits(spki));
  exts.push(extension(OID.subjectKeyIdentifier, false, encOctets(ski)));
  const aki = o.issuer ? o.issuer.certificate.subjectKeyIdentifier : toHex(ski);
  if (aki) {
    const kid = Uint8Array.from(aki.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
    exts.push(extension(OID.authorityKeyIdentifier, false, encSeq(tlv(0x80, kid))));
  }
  if (o.ocspUrls?.length) {
    const ads = o.ocspUrls.map((u) => encSeq(encOid(OID.accessOcsp), tlv(0x86, ascii(u))));
    exts.push(extension(OID.authorityInfoAccess, false, encSeq(...ads)));
  }
  if (o.crlUrls?.length) {
    const dps = o.crlUrls.map((u) => encSeq(tlv(contextTag(0, true), tlv(contextTag(0, true), tlv(0x86, ascii(u))))));
    exts.push(extension(OID.crlDistributionPoints, false, encSeq(...dps)));
  }
  for (const e of o.extensions ?? []) exts.push(extension(e.oid, e.critical, e.value));

  const sigAlg = algorithmIdentifier(alg);
  const tbs = encSeq(
    tlv(contextTag(0, true), encInt(2)),
    encInt(serial),
    sigAlg,
    issuerName,
    encSeq(encTime(notBefore), encTime(notAfter)),
    subject,
    spki,
    tlv(contextTag(3, true), encSeq(...exts)),
  );
  const signature = await sign(signerKey, alg, tbs);
  return parseCertificate(encSeq(tbs, sigAlg, encBitString(signature)));
}

/** The issuer field must repeat the issuer's subject bytes exactly. */
function issuerNameOf(cert: Certificate): Uint8Array {
  return certificatePartsOf(cert).rawSubject;
}

/** Options of {@link generateTestCertificate}. */
export interface GenerateTestCertificateOptions {
  /** Default RSA-2048 (notation's default). */
  keySpec?: KeySpec;
  /** Validity in days from now; default 1, as notation's generate-test. */
  days?: number;
  /** Override "now" (tests). */
  now?: Date;
}

/** A generated certificate, its private key, and the key as PKCS#8 DER. */
export interface GeneratedCertificate extends CertificateWithKey {
  pkcs8: Uint8Array;
}

/**
 * What `notation cert generate-test NAME` produces: a self-signed, non-CA code-signing
 * certificate for subject `CN=NAME,O=Notary,L=Seattle,ST=WA,C=US`, keyUsage digitalSignature
 * (critical), EKU codeSigning (non-critical), no basicConstraints, valid from now for `days`
 * (default 1), signed with SHA-256 (RSA PKCS#1 v1.5) or the curve's ECDSA hash, plus its key.
 */
export async function generateTestCertificate(name: string, options: GenerateTestCertificateOptions = {}): Promise<GeneratedCertificate> {
  if (typeof name !== 'string' || name.length === 0) throw new VouchError('ERR_INVALID_ARGUMENT', 'generate-test needs a common name');
  const keySpec = options.keySpec ?? 'RSA-2048';
  const days = options.days ?? 1;
  if (!(days > 0)) throw new VouchError('ERR_INVALID_ARGUMENT', 'days must be positive');
  const now = options.now ?? new Date();
  const pair = await generateKeyPair(keySpec);
  const certificate = await createCertificate({
    subject: [
      { type: 'CN', value: name },
      { type: 'O', value: 'Notary' },
      { type: 'L', value: 'Seattle' },
      { type: 'ST', value: 'WA' },
      { type: 'C', value: 'US' },
    ],
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    notBefore: now,
    notAfter: new Date(now.getTime() + days * 86_400_000),
    keyUsage: { usages: ['digitalSignature'] },
    extKeyUsage: { usages: ['codeSigning'] },
  });
  return { certificate, privateKey: pair.privateKey, pkcs8: await exportPrivateKeyPkcs8(pair.privateKey) };
}

/** Options of {@link createTestPki}. */
export interface CreateTestPkiOptions {
  /** Key spec for every certificate; default RSA-2048. */
  keySpec?: KeySpec;
  /** Name prefix for subjects; default "vouch test". */
  name?: string;
  /** Subject suffix appended to every CN (RFC 4514); default `O=vouch,ST=WA,C=US` (so trusted identities match). */
  subjectSuffix?: string;
  notBefore?: Date;
  notAfter?: Date;
  ocspUrls?: readonly string[];
  crlUrls?: readonly string[];
}

/** A root → intermediate → leaves test PKI, with keys. */
export interface TestPki {
  root: CertificateWithKey;
  intermediate: CertificateWithKey;
  /** Code-signing leaf issued by the intermediate. */
  leaf: CertificateWithKey;
  /** Timestamping leaf (EKU timeStamping, critical) issued by the intermediate. */
  tsaLeaf: CertificateWithKey;
  /** [leaf, intermediate, root]: a Notary signing chain. */
  chain: Certificate[];
  /** [tsaLeaf, intermediate, root]: a Notary timestamping chain. */
  tsaChain: Certificate[];
}

/**
 * Build a small PKI for tests and demos: a root CA (pathLen 1), an intermediate CA (pathLen 0),
 * a code-signing leaf and a timestamping leaf, all passing the Notary profiles.
 */
export async function createTestPki(options: CreateTestPkiOptions = {}): Promise<TestPki> {
  const keySpec = options.keySpec ?? 'RSA-2048';
  const name = options.name ?? 'vouch test';
  const suffix = options.subjectSuffix ?? 'O=vouch,ST=WA,C=US';
  const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 365 * 86_400_000);
  const dn = (cn: string) => `CN=${cn.replace(/([,+"\\<>;])/g, '\\$1')},${suffix}`;
  const common = { notBefore, notAfter };
  const [rk, ik, lk, tk] = await Promise.all([1, 2, 3, 4].map(() => generateKeyPair(keySpec)));
  const rootCert = await createCertificate({
    ...common,
    subject: dn(`${name} root`),
    publicKey: rk!.publicKey,
    privateKey: rk!.privateKey,
    basicConstraints: { ca: true, pathLen: 1 },
    keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
  });
  const root = { certificate: rootCert, privateKey: rk!.privateKey };
  const revocation = { ocspUrls: options.ocspUrls, crlUrls: options.crlUrls };
  const intCert = await createCertificate({
    ...common,
    ...revocation,
    subject: dn(`${name} intermediate`),
    publicKey: ik!.publicKey,
    issuer: root,
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
  });
  const intermediate = { certificate: intCert, privateKey: ik!.privateKey };
  const leafCert = await createCertificate({
    ...common,
    ...revocation,
    subject: dn(`${name} signer`),
    publicKey: lk!.publicKey,
    issuer: intermediate,
    basicConstraints: { ca: false },
    keyUsage: { usages: ['digitalSignature'] },
    extKeyUsage: { usages: ['codeSigning'] },
  });
  const tsaCert = await createCertificate({
    ...common,
    ...revocation,
    subject: dn(`${name} tsa`),
    publicKey: tk!.publicKey,
    issuer: intermediate,
    basicConstraints: { ca: false },
    keyUsage: { usages: ['digitalSignature'] },
    extKeyUsage: { usages: ['timeStamping'], critical: true },
  });
  return {
    root,
    intermediate,
    leaf: { certificate: leafCert, privateKey: lk!.privateKey },
    tsaLeaf: { certificate: tsaCert, privateKey: tk!.privateKey },
    chain: [leafCert, intCert, rootCert],
    tsaChain: [tsaCert, intCert, rootCert],
  };
}
