/**
 * Certificate parsing: DER or PEM (one or many certificates) into the plain {@link Certificate}
 * model. Parsing is synchronous, strict about the certificate structure (like Go's
 * `x509.ParseCertificate`) and lenient about extensions it does not interpret.
 */

import { decodePem, encodePem, isVouchError, VouchError } from '@vouch/core';
import {
  Asn1Error,
  type Asn1Node,
  decode,
  expectTag,
  readBitString,
  readBoolean,
  readOid,
  readSmallInt,
  readTime,
  readTlv,
  seq,
  TAG,
} from '@vouch/core/asn1';
import { BytesCache, describePublicKey, hashBytes, hashOfBytes, toHex } from '@vouch/core/internal';
import { type CertificateParts, decodeCertificateParts, readExtensions } from './internal/cert-parts.js';
import { KEY_USAGE_NAMES, OID } from './internal/oids.js';
import { formatGoName, type ParsedAttribute, parseName } from './names.js';
import type { Certificate, CertificateExtension, PublicKeyInfo } from './types.js';

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
  const v = () => decode(ext.value);
  switch (ext.oid) {
    case OID.basicConstraints: {
      const f = seq(v(), 'BasicConstraints');
      let i = 0;
      let ca = false;
      if (f[i]?.tag === TAG.BOOLEAN) ca = readBoolean(f[i++], 'BasicConstraints.cA');
      let pathLen: number | undefined;
      if (f[i]?.tag === TAG.INTEGER) pathLen = readSmallInt(f[i++], 'BasicConstraints.pathLenConstraint');
      if (pathLen !== undefined && pathLen < 0) throw new Asn1Error('BasicConstraints.pathLenConstraint is negative');
      if (i !== f.length) throw new Asn1Error('BasicConstraints has unexpected fields');
      out.basicConstraints = { critical: ext.critical, ca };
      if (pathLen !== undefined) out.basicConstraints.pathLenConstraint = pathLen;
      return;
    }
    case OID.keyUsage: {
      const { bytes } = readBitString(v(), 'KeyUsage');
      const usages: string[] = [];
      KEY_USAGE_NAMES.forEach((name, bit) => {
        const byte = bytes[bit >> 3];
        if (byte !== undefined && byte & (0x80 >> (bit & 7))) usages.push(name);
      });
      out.keyUsage = { critical: ext.critical, usages };
      return;
    }
    case OID.extKeyUsage: {
      const oids = seq(v(), 'ExtKeyUsageSyntax').map((o) => readOid(o, 'KeyPurposeId'));
      if (oids.length === 0) throw new Asn1Error('ExtKeyUsageSyntax is empty');
      out.extKeyUsage = { critical: ext.critical, oids };
      return;
    }
    case OID.authorityInfoAccess: {
      for (const ad of seq(v(), 'AuthorityInfoAccessSyntax')) {
        const [method, location] = seq(ad, 'AccessDescription');
        const m = readOid(method, 'accessMethod');
        if (!location) throw new Asn1Error('AccessDescription without location');
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
        for (const choice of name.children) {
          if (choice.tag !== 0xa0) continue; // nameRelativeToCRLIssuer is not a URL
          for (const gn of choice.children) if (gn.tag === 0x86) out.crlUrls.push(latin1(gn.value));
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
  const top = decode(der);
  const [tbs, outerAlg, sigValue, extra] = seq(top, 'Certificate');
  if (extra) throw new Asn1Error('Certificate has trailing fields');
  const f = seq(tbs, 'TBSCertificate');
  let i = 0;
  let version = 1;
  if (f[i]?.tag === 0xa0) {
    const [vInt, more] = f[i++]!.children;
    if (!vInt || more) throw new Asn1Error('invalid version field');
    version = readSmallInt(vInt, 'version') + 1;
    if (version < 1 || version > 3) throw new Asn1Error(`unsupported certificate version ${version}`);
  }
  const serial = expectTag(f[i++], TAG.INTEGER, 'serialNumber');
  if (serial.value.length === 0 || serial.value.length > 64) throw new Asn1Error('invalid serialNumber');
  const innerAlg = expectTag(f[i++], TAG.SEQUENCE, 'signature');
  const issuer = f[i++];
  const validity = seq(f[i++], 'Validity');
  const subject = f[i++];
  const spki = f[i++];
  if (!issuer || !subject || !spki || validity.length !== 2) throw new Asn1Error('TBSCertificate is incomplete');
  const extensions: CertificateExtension[] = [];
  for (; i < f.length; i++) {
    const t = f[i]!;
    if (t.tag === 0x81 || t.tag === 0x82 || t.tag === 0xa1 || t.tag === 0xa2) {
      if (version < 2) throw new Asn1Error('unique identifiers require version 2 or 3');
      continue;
    }
    if (t.tag === 0xa3) {
      if (version !== 3) throw new Asn1Error('extensions require version 3');
      const [exts, more] = t.children;
      if (more) throw new Asn1Error('invalid extensions field');
      extensions.push(...readExtensions(exts));
      continue;
    }
    throw new Asn1Error(`unexpected field (tag 0x${t.raw[0]!.toString(16)}) in TBSCertificate`);
  }
  // Go rejects a certificate whose inner and outer signature algorithms differ.
  const outer = expectTag(outerAlg, TAG.SEQUENCE, 'signatureAlgorithm');
  if (!bytesEq(outer.raw, innerAlg.raw)) throw new Asn1Error("inner and outer signature algorithm identifiers don't match");
  const [sigOid] = seq(outer, 'signatureAlgorithm');
  const signatureAlgorithm = readOid(sigOid, 'signatureAlgorithm.algorithm');
  readBitString(sigValue, 'signatureValue');

  const subjectRdns = parseName(subject);
  const issuerRdns = parseName(issuer);
  const publicKey = describePublicKey(spki);

  const seen = new Set<string>();
  for (const { oid } of extensions) {
    if (seen.has(oid)) throw new Asn1Error(`certificate contains duplicate extension ${oid}`);
    seen.add(oid);
  }

  const x: MutableExtras = { ocspUrls: [], crlUrls: [], issuingCertificateUrls: [], malformed: [] };
  for (const ext of extensions) {
    try {
      parseExtension(ext, x);
    } catch (e) {
      if (!(e instanceof Asn1Error)) throw e;
      // A critical extension we interpret must decode; non-critical ones are recorded and skipped.
      if (ext.critical) throw new Asn1Error(`critical extension ${ext.oid} is malformed: ${e.message}`);
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
    notBefore: readTime(validity[0], 'notBefore'),
    notAfter: readTime(validity[1], 'notAfter'),
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
 * The raw {@link CertificateParts} of a certificate (internal). For an object from
 * {@link parseCertificate} these are the parts of the bytes its model was parsed from, decoded
 * once per distinct DER; for any other object they are decoded from `cert.der`.
 */
export function certificatePartsOf(cert: Certificate): CertificateParts {
  const known = TEMPLATES.get(cert);
  // An object whose `der` was replaced is decoded from what it holds now.
  if (!known || known.der !== cert.der) return decodeCertificateParts(cert.der);
  const t = known.t;
  t.parts ??= Object.freeze(decodeCertificateParts(t.der));
  return t.parts;
}

function splitDer(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < buf.length) {
    let t: Asn1Node;
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
 * @example
 * ```ts
 * import { parseCertificates } from '@vouch/x509';
 *
 * const [leaf, ...rest] = parseCertificates(await (await fetch('https://example.com/chain.pem')).text());
 * console.log(leaf?.subject, leaf?.sha256Fingerprint, rest.length);
 * ```
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
