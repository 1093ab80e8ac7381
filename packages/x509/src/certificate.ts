/**
 * Certificate parsing: DER or PEM (one or many certificates) into the plain {@link Certificate}
 * model. Parsing is synchronous, strict about the certificate structure (like Go's
 * `x509.ParseCertificate`) and lenient about extensions it does not interpret.
 */
import { BytesCache, decodePem, encodePem, hashBytes, hashOfBytes, isVouchError, toHex, VouchError } from '@vouch/core';
import {
  children,
  DerError,
  decodeBitString,
  decodeBoolean,
  decodeOid,
  decodeSmallInt,
  decodeTime,
  expectTag,
  parseOne,
  readTlv,
  seq,
  TAG,
  type Tlv,
} from './der.js';
import { formatGoName, type ParsedAttribute, parseName } from './names.js';
import { KEY_USAGE_NAMES, OID } from './oids.js';
import type { Certificate, CertificateExtension, NamedCurve, PublicKeyInfo } from './types.js';

/** The signed parts of a certificate, for signature checks (internal). */
export interface CertificateParts {
  tbs: Uint8Array;
  signatureAlgorithm: string;
  /** DER of the AlgorithmIdentifier parameters, when present. */
  signatureParams?: Uint8Array;
  signature: Uint8Array;
  rawIssuer: Uint8Array;
  rawSubject: Uint8Array;
}

/** Extract the TBS bytes, signature algorithm and value, and raw names from certificate DER. */
export function certificateParts(der: Uint8Array): CertificateParts {
  try {
    const [tbs, alg, sig] = seq(parseOne(der), 'Certificate');
    const algParts = seq(alg, 'signatureAlgorithm');
    const fields = seq(tbs, 'TBSCertificate');
    const off = fields[0]?.tag === 0xa0 ? 1 : 0;
    const { unused, bytes } = decodeBitString(expectTag(sig, TAG.BIT_STRING, 'signatureValue'));
    if (unused !== 0) throw new DerError('signature BIT STRING has unused bits');
    return {
      tbs: tbs!.raw,
      signatureAlgorithm: decodeOid(algParts[0]!),
      signatureParams: algParts[1]?.raw,
      signature: bytes,
      rawIssuer: fields[off + 2]!.raw,
      rawSubject: fields[off + 4]!.raw,
    };
  } catch (e) {
    throw new VouchError('ERR_CERT_INVALID', `certificate could not be decoded: ${(e as Error).message}`, { cause: e });
  }
}

const CURVES: Record<string, { curve?: NamedCurve; bits: number; coord: number }> = {
  [OID.p224]: { bits: 224, coord: 28 },
  [OID.p256]: { curve: 'P-256', bits: 256, coord: 32 },
  [OID.p384]: { curve: 'P-384', bits: 384, coord: 48 },
  [OID.p521]: { curve: 'P-521', bits: 521, coord: 66 },
};

function bitLength(magnitude: Uint8Array): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  if (i === magnitude.length) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i]!));
}

function parsePublicKey(spki: Tlv): PublicKeyInfo {
  const [alg, key, extra] = seq(spki, 'SubjectPublicKeyInfo');
  if (extra) throw new DerError('SubjectPublicKeyInfo has trailing fields');
  const [algOid, params] = seq(alg, 'SubjectPublicKeyInfo.algorithm');
  const oid = decodeOid(algOid!);
  const { unused, bytes } = decodeBitString(expectTag(key, TAG.BIT_STRING, 'subjectPublicKey'));
  if (unused !== 0) throw new DerError('subjectPublicKey has unused bits');
  if (oid === OID.rsaEncryption) {
    if (params && params.tag !== TAG.NULL) throw new DerError('RSA key parameters must be NULL');
    const [n, e, more] = seq(parseOne(bytes), 'RSAPublicKey');
    expectTag(n, TAG.INTEGER, 'RSA modulus');
    expectTag(e, TAG.INTEGER, 'RSA exponent');
    if (more) throw new DerError('RSAPublicKey has trailing fields');
    if (n!.value.length === 0 || n!.value[0]! & 0x80) throw new DerError('RSA modulus is not positive');
    return { type: 'RSA', bits: bitLength(n!.value), spki: spki.raw };
  }
  if (oid === OID.ecPublicKey) {
    if (!params || params.tag !== TAG.OID) throw new DerError('EC key must name its curve');
    const curveOid = decodeOid(params);
    const c = CURVES[curveOid];
    if (!c) throw new DerError(`unsupported elliptic curve ${curveOid}`);
    if (bytes.length !== 1 + 2 * c.coord || bytes[0] !== 0x04) throw new DerError('EC public key is not an uncompressed point');
    const info: PublicKeyInfo = { type: 'EC', bits: c.bits, spki: spki.raw, curveOid };
    if (c.curve) info.curve = c.curve;
    return info;
  }
  throw new DerError(`unsupported public key algorithm ${oid} (vouch supports RSA and EC keys)`);
}

interface MutableExtras {
  basicConstraints?: { critical: boolean; ca: boolean; pathLenConstraint?: number };
  keyUsage?: { critical: boolean; usages: string[] };
  extKeyUsage?: { critical: boolean; oids: string[] };
  ocspUrls: string[];
  crlUrls: string[];
  issuingCertificateUrls: string[];
  subjectKeyIdentifier?: string;
  authorityKeyIdentifier?: string;
  malformed: string[];
}

function parseExtension(ext: CertificateExtension, out: MutableExtras): void {
  const v = () => parseOne(ext.value);
  switch (ext.oid) {
    case OID.basicConstraints: {
      const f = seq(v(), 'BasicConstraints');
      let i = 0;
      let ca = false;
      if (f[i]?.tag === TAG.BOOLEAN) ca = decodeBoolean(f[i++]!);
      let pathLen: number | undefined;
      if (f[i]?.tag === TAG.INTEGER) pathLen = decodeSmallInt(f[i++]!);
      if (i !== f.length) throw new DerError('BasicConstraints has unexpected fields');
      out.basicConstraints = { critical: ext.critical, ca };
      if (pathLen !== undefined) out.basicConstraints.pathLenConstraint = pathLen;
      return;
    }
    case OID.keyUsage: {
      const { bytes } = decodeBitString(v());
      const usages: string[] = [];
      KEY_USAGE_NAMES.forEach((name, bit) => {
        const byte = bytes[bit >> 3];
        if (byte !== undefined && byte & (0x80 >> (bit & 7))) usages.push(name);
      });
      out.keyUsage = { critical: ext.critical, usages };
      return;
    }
    case OID.extKeyUsage: {
      const oids = seq(v(), 'ExtKeyUsageSyntax').map(decodeOid);
      if (oids.length === 0) throw new DerError('ExtKeyUsageSyntax is empty');
      out.extKeyUsage = { critical: ext.critical, oids };
      return;
    }
    case OID.authorityInfoAccess: {
      for (const ad of seq(v(), 'AuthorityInfoAccessSyntax')) {
        const [method, location] = seq(ad, 'AccessDescription');
        const m = decodeOid(method!);
        if (!location) throw new DerError('AccessDescription without location');
        if (location.tag !== 0x86) continue; // only uniformResourceIdentifier names are used
        const url = latin1(location.value);
        if (m === OID.accessOcsp) out.ocspUrls.push(url);
        else if (m === OID.accessCaIssuers) out.issuingCertificateUrls.push(url);
      }
      return;
    }
    case OID.crlDistributionPoints: {
      for (const dp of seq(v(), 'CRLDistributionPoints')) {
        const fields = seq(dp, 'DistributionPoint');
        const name = fields.find((f) => f.tag === 0xa0);
        if (!name) continue;
        for (const choice of children(name)) {
          if (choice.tag !== 0xa0) continue; // nameRelativeToCRLIssuer is not a URL
          for (const gn of children(choice)) if (gn.tag === 0x86) out.crlUrls.push(latin1(gn.value));
        }
      }
      return;
    }
    case OID.subjectKeyIdentifier: {
      out.subjectKeyIdentifier = toHex(expectTag(v(), TAG.OCTET_STRING, 'SubjectKeyIdentifier').value);
      return;
    }
    case OID.authorityKeyIdentifier: {
      const kid = seq(v(), 'AuthorityKeyIdentifier').find((f) => f.tag === 0x80);
      if (kid) out.authorityKeyIdentifier = toHex(kid.value);
      return;
    }
    default:
      return;
  }
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

/** Extensions whose malformed value makes the whole certificate unusable even when non-critical. */
const PROFILE_EXTENSIONS = new Set<string>([OID.basicConstraints, OID.keyUsage, OID.extKeyUsage]);

function parseDer(der: Uint8Array): Certificate {
  const top = parseOne(der);
  const [tbs, outerAlg, sigValue, extra] = seq(top, 'Certificate');
  if (extra) throw new DerError('Certificate has trailing fields');
  const f = seq(tbs, 'TBSCertificate');
  let i = 0;
  let version = 1;
  if (f[i]?.tag === 0xa0) {
    const [vInt, more] = children(f[i++]!);
    if (!vInt || more) throw new DerError('invalid version field');
    version = decodeSmallInt(vInt) + 1;
    if (version < 1 || version > 3) throw new DerError(`unsupported certificate version ${version}`);
  }
  const serial = expectTag(f[i++], TAG.INTEGER, 'serialNumber');
  if (serial.value.length === 0 || serial.value.length > 64) throw new DerError('invalid serialNumber');
  const innerAlg = expectTag(f[i++], TAG.SEQUENCE, 'signature');
  const issuer = f[i++];
  const validity = seq(f[i++], 'Validity');
  const subject = f[i++];
  const spki = f[i++];
  if (!issuer || !subject || !spki || validity.length !== 2) throw new DerError('TBSCertificate is incomplete');
  const rawExts: Tlv[] = [];
  for (; i < f.length; i++) {
    const t = f[i]!;
    if (t.tag === 0x81 || t.tag === 0x82 || t.tag === 0xa1 || t.tag === 0xa2) {
      if (version < 2) throw new DerError('unique identifiers require version 2 or 3');
      continue;
    }
    if (t.tag === 0xa3) {
      if (version !== 3) throw new DerError('extensions require version 3');
      const [exts, more] = children(t);
      if (more) throw new DerError('invalid extensions field');
      rawExts.push(...seq(exts, 'Extensions'));
      continue;
    }
    throw new DerError(`unexpected field (tag 0x${t.tag.toString(16)}) in TBSCertificate`);
  }
  // Go rejects a certificate whose inner and outer signature algorithms differ.
  const outer = expectTag(outerAlg, TAG.SEQUENCE, 'signatureAlgorithm');
  if (!bytesEq(outer.raw, innerAlg.raw)) throw new DerError("inner and outer signature algorithm identifiers don't match");
  const [sigOid] = seq(outer, 'signatureAlgorithm');
  const signatureAlgorithm = decodeOid(expectTag(sigOid, TAG.OID, 'signatureAlgorithm.algorithm'));
  decodeBitString(expectTag(sigValue, TAG.BIT_STRING, 'signatureValue'));

  const subjectRdns = parseName(subject);
  const issuerRdns = parseName(issuer);
  const publicKey = parsePublicKey(spki);

  const extensions: CertificateExtension[] = [];
  const seen = new Set<string>();
  for (const e of rawExts) {
    const parts = seq(e, 'Extension');
    const oid = decodeOid(expectTag(parts[0], TAG.OID, 'extnID'));
    let j = 1;
    let critical = false;
    if (parts[j]?.tag === TAG.BOOLEAN) critical = decodeBoolean(parts[j++]!);
    const value = expectTag(parts[j++], TAG.OCTET_STRING, 'extnValue').value;
    if (j !== parts.length) throw new DerError('Extension has trailing fields');
    if (seen.has(oid)) throw new DerError(`certificate contains duplicate extension ${oid}`);
    seen.add(oid);
    extensions.push({ oid, critical, value });
  }

  const x: MutableExtras = { ocspUrls: [], crlUrls: [], issuingCertificateUrls: [], malformed: [] };
  for (const ext of extensions) {
    try {
      parseExtension(ext, x);
    } catch (e) {
      if (!(e instanceof DerError)) throw e;
      // A critical extension we interpret must decode; non-critical ones are recorded and skipped.
      if (ext.critical) throw new DerError(`critical extension ${ext.oid} is malformed: ${e.message}`);
      x.malformed.push(ext.oid);
      if (ext.oid === OID.crlDistributionPoints) x.crlUrls.length = 0;
      if (ext.oid === OID.authorityInfoAccess) {
        x.ocspUrls.length = 0;
        x.issuingCertificateUrls.length = 0;
      }
      if (PROFILE_EXTENSIONS.has(ext.oid)) {
        if (ext.oid === OID.basicConstraints) x.basicConstraints = undefined;
        if (ext.oid === OID.keyUsage) x.keyUsage = undefined;
        if (ext.oid === OID.extKeyUsage) x.extKeyUsage = undefined;
      }
    }
  }

  const cert: {
    -readonly [K in keyof Certificate]: Certificate[K];
  } = {
    der,
    subject: formatGoName(subjectRdns),
    issuer: formatGoName(issuerRdns),
    subjectRdns: subjectRdns.map((r) => r.map(publicAttr)),
    issuerRdns: issuerRdns.map((r) => r.map(publicAttr)),
    serialNumber: serialHex(serial.value),
    notBefore: decodeTime(validity[0]!),
    notAfter: decodeTime(validity[1]!),
    publicKey,
    signatureAlgorithm,
    sha256Fingerprint: toHex(hashBytes(der, 'sha256')),
    // Decided on names only (parsing is synchronous): raw subject DER equals raw issuer DER.
    // Chain validation verifies the self-signature where it matters.
    selfSigned: bytesEq(subject.raw, issuer.raw),
    criticalExtensions: extensions.filter((e) => e.critical).map((e) => e.oid),
    ocspUrls: x.ocspUrls,
    crlUrls: x.crlUrls,
    version,
    extensions,
    malformedExtensions: x.malformed,
    issuingCertificateUrls: x.issuingCertificateUrls,
  };
  if (x.basicConstraints) cert.basicConstraints = x.basicConstraints;
  if (x.keyUsage) cert.keyUsage = x.keyUsage;
  if (x.extKeyUsage) cert.extKeyUsage = x.extKeyUsage;
  if (x.subjectKeyIdentifier !== undefined) cert.subjectKeyIdentifier = x.subjectKeyIdentifier;
  if (x.authorityKeyIdentifier !== undefined) cert.authorityKeyIdentifier = x.authorityKeyIdentifier;
  return cert;
}

function publicAttr(a: ParsedAttribute): { type: string; value: string } {
  return { type: a.type, value: a.value };
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lowercase hex of a serial number's INTEGER content, without sign-padding zero bytes. */
export function serialHex(content: Uint8Array): string {
  let i = 0;
  while (i < content.length - 1 && content[i] === 0) i++;
  return toHex(content.subarray(i));
}

/**
 * Parse one DER-encoded X.509 certificate.
 *
 * `subject`/`issuer` are rendered exactly as Go's `pkix.Name.String()` renders them (and so
 * as notation prints them): known attribute types by short name (CN, O, OU, C, ST, L,
 * STREET, POSTALCODE, SERIALNUMBER) in Go's order, others as `OID=#hex`.
 * `selfSigned` means the raw subject and issuer names are byte-equal; it does not check the
 * signature (use {@link verifyCertificateSignature} or chain validation for that).
 *
 * @throws VouchError ERR_CERT_INVALID when the bytes are not one well-formed certificate, the
 *   key is neither RSA nor EC on a supported curve, or a critical extension is malformed.
 */
export function parseCertificate(der: Uint8Array): Certificate {
  if (!(der instanceof Uint8Array)) throw new VouchError('ERR_INVALID_ARGUMENT', 'parseCertificate expects DER bytes (Uint8Array)');
  const hash = hashOfBytes(der);
  let t = PARSED.get(der, hash);
  if (!t) {
    let cert: Certificate;
    try {
      cert = parseDer(der);
    } catch (e) {
      if (isVouchError(e)) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new VouchError('ERR_CERT_INVALID', `certificate could not be parsed: ${why}`, { cause: e });
    }
    t = templateOf(cert);
    PARSED.set(t.der, t, hash, true);
  }
  return instantiate(t, der);
}

// ---------------------------------------------------------------- parsed-certificate memo
//
// Parsing is a pure function of the DER bytes, and warm verification sees the same chain on
// every call: certificates are parsed once per distinct DER (compared byte for byte, not by a
// digest) and each call gets its own object. Everything an object shares with other calls'
// objects (names, RDNs, URL lists, extension summaries) is frozen; its `der` (and the `spki`
// and extension values, views into it) are the caller's own bytes, and its dates are fresh.
// (The per-call objects themselves are not frozen: they are not shared, and freezing a new
// object costs more than parsing saves.)

interface CertificateTemplate {
  /** A private copy of the DER the model was parsed from. */
  readonly der: Uint8Array;
  /**
   * The model with frozen shared parts; byte and date fields are filled in per object. Never
   * handed out (and not itself frozen, so that copying it stays on V8's fast path).
   */
  readonly shared: Certificate;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly spki: readonly [number, number];
  readonly extensions: readonly { oid: string; critical: boolean; start: number; end: number }[];
  parts?: CertificateParts;
  /** Values derived from the DER alone (imported keys, signature plans), see {@link certificateMemo}. */
  memo?: Map<string, unknown>;
}

const NO_BYTES = new Uint8Array(0);
const NO_DATE = new Date(0);
const PARSED = new BytesCache<CertificateTemplate>(1024);
/** The template of each object handed out, with the `der` and `publicKey` it was given. */
const TEMPLATES = new WeakMap<Certificate, { t: CertificateTemplate; der: Uint8Array; publicKey: PublicKeyInfo }>();

function deepFreeze<T>(v: T): T {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v) || ArrayBuffer.isView(v) || v instanceof Date) return v;
  for (const x of Object.values(v)) deepFreeze(x);
  return Object.freeze(v);
}

/** Freeze the values of `o` (not `o` itself). */
function freezeValues<T extends object>(o: T): T {
  for (const x of Object.values(o)) deepFreeze(x);
  return o;
}

function span(view: Uint8Array, der: Uint8Array): [number, number] {
  const start = view.byteOffset - der.byteOffset;
  return [start, start + view.length];
}

function templateOf(cert: Certificate): CertificateTemplate {
  const der = cert.der;
  const exts = (cert.extensions ?? []).map((e) => {
    const [start, end] = span(e.value, der);
    return { oid: e.oid, critical: e.critical, start, end };
  });
  const { spki: _spki, ...publicKey } = cert.publicKey;
  // Placeholders keep the property order; `instantiate` fills them in for each object.
  const shared = { ...cert, der: NO_BYTES, notBefore: NO_DATE, notAfter: NO_DATE, publicKey: publicKey as PublicKeyInfo, extensions: [] };
  return {
    der: der.slice(),
    shared: freezeValues(shared),
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
    spki: span(cert.publicKey.spki, der),
    extensions: exts,
  };
}

function instantiate(t: CertificateTemplate, der: Uint8Array): Certificate {
  const publicKey = { ...t.shared.publicKey, spki: der.subarray(t.spki[0], t.spki[1]) };
  const cert: Certificate = {
    ...t.shared,
    der,
    notBefore: new Date(t.notBefore),
    notAfter: new Date(t.notAfter),
    publicKey,
    extensions: t.extensions.map((e) => ({ oid: e.oid, critical: e.critical, value: der.subarray(e.start, e.end) })),
  };
  TEMPLATES.set(cert, { t, der, publicKey });
  return cert;
}

/**
 * A scratch map shared by every object parsed from the same DER, for values that are a pure
 * function of that DER (internal: imported public keys, prepared signature checks). Undefined
 * for objects not from {@link parseCertificate}, or whose `der` or `publicKey` was replaced.
 */
export function certificateMemo(cert: Certificate): Map<string, unknown> | undefined {
  const known = TEMPLATES.get(cert);
  if (!known || known.der !== cert.der || known.publicKey !== cert.publicKey) return undefined;
  known.t.memo ??= new Map();
  return known.t.memo;
}

/**
 * {@link certificateParts} of a certificate (internal). For an object from
 * {@link parseCertificate} these are the parts of the bytes its model was parsed from, decoded
 * once per distinct DER; for any other object they are decoded from `cert.der`.
 */
export function certificatePartsOf(cert: Certificate): CertificateParts {
  const known = TEMPLATES.get(cert);
  // An object whose `der` was replaced is decoded from what it holds now.
  if (!known || known.der !== cert.der) return certificateParts(cert.der);
  const t = known.t;
  t.parts ??= Object.freeze(certificateParts(t.der));
  return t.parts;
}

function splitDer(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < buf.length) {
    let t: Tlv;
    try {
      t = readTlv(buf, p);
    } catch (e) {
      throw new VouchError('ERR_CERT_INVALID', `input is neither PEM nor DER certificates: ${(e as Error).message}`, { cause: e });
    }
    if (t.tag !== TAG.SEQUENCE) {
      throw new VouchError('ERR_CERT_INVALID', `input is neither PEM nor DER certificates (byte ${p} is not a DER SEQUENCE)`);
    }
    out.push(t.raw);
    p += t.raw.length;
  }
  return out;
}

function looksLikePem(bytes: Uint8Array): boolean {
  const needle = '-----BEGIN ';
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle.charCodeAt(j)) continue outer;
    return true;
  }
  return false;
}

/**
 * Parse every certificate in `input`: PEM text or bytes with one or more `CERTIFICATE`
 * blocks (other block types are ignored), or DER bytes holding one or several concatenated
 * certificates — the formats notation accepts for trust-store files.
 *
 * @throws VouchError ERR_CERT_INVALID when the input is empty, holds no certificate, or any
 *   certificate in it is malformed.
 */
export function parseCertificates(input: Uint8Array | string): Certificate[] {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'parseCertificates expects PEM text or DER bytes');
  }
  const isText = typeof input === 'string';
  if (input.length === 0) throw new VouchError('ERR_CERT_INVALID', 'no certificate found: the input is empty');
  let ders: Uint8Array[];
  if (isText || looksLikePem(input)) {
    const text = isText ? input : latin1(input);
    let blocks: { label: string; der: Uint8Array }[];
    try {
      blocks = decodePem(text);
    } catch (e) {
      throw new VouchError('ERR_CERT_INVALID', `PEM could not be decoded: ${(e as Error).message}`, { cause: e });
    }
    ders = blocks.filter((b) => b.label === 'CERTIFICATE').map((b) => b.der);
    if (ders.length === 0) {
      throw new VouchError('ERR_CERT_INVALID', 'no certificate found: the input has no "-----BEGIN CERTIFICATE-----" block');
    }
  } else {
    ders = splitDer(input);
  }
  return ders.map((d, i) => {
    try {
      return parseCertificate(d);
    } catch (e) {
      if (isVouchError(e) && ders.length > 1) {
        throw new VouchError(e.code, `certificate #${i + 1}: ${e.message}`, { cause: e });
      }
      throw e;
    }
  });
}

/** Encode certificates as PEM text (`-----BEGIN CERTIFICATE-----` blocks, in order). */
export function certificatesToPem(certs: readonly Certificate[]): string {
  return certs.map((c) => encodePem('CERTIFICATE', c.der)).join('');
}
