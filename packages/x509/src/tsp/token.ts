import { bytesEqual, VouchError } from '@vouch/core';
import {
  Asn1Error,
  type Asn1Node,
  decode,
  expectTag,
  intHex,
  isContext,
  readBoolean,
  readInteger,
  readOctets,
  readOid,
  readSmallInt,
  readTime,
  seq,
  TAG,
} from '@vouch/core/asn1';
import { hashOfOid } from '@vouch/core/internal';
import { type Certificate, certificatePartsOf, digest, OID, parseCertificate } from '../internal/index.js';
import type { TimestampAccuracy, TimestampToken } from './types.js';

/** RFC 3161 tokens are BER in the wild (indefinite lengths, constructed OCTET STRINGs): read them in BER mode. */
export const BER = { encoding: 'ber' } as const;

/** A timestamp verification failure; `step` names the check that failed. */
export function tsError(step: string, message: string, extra: Record<string, unknown> = {}, cause?: unknown): VouchError {
  return new VouchError('ERR_TIMESTAMP_INVALID', message, { cause, details: { step, ...extra } });
}

/** One SignerInfo with the raw parts needed to verify it. */
export interface ParsedSignerInfo {
  version: number;
  /** IssuerAndSerialNumber (version 1) */
  sid?: { issuer: Uint8Array; serial: bigint };
  digestAlgorithm: string;
  /** Raw [0] IMPLICIT signedAttrs (tag byte still 0xA0). */
  signedAttrsRaw?: Uint8Array;
  signedAttrs: Map<string, Asn1Node[]>;
  /** Attribute OIDs in order, to detect duplicates. */
  signedAttrCount: number;
  signatureAlgorithm: Asn1Node;
  signature: Uint8Array;
}

/** Internal full parse of a token. */
export interface ParsedToken {
  token: TimestampToken;
  eContentType: string;
  eContent: Uint8Array;
  signerInfos: ParsedSignerInfo[];
}

function parseAlgId(n: Asn1Node | undefined, what: string): string {
  return readOid(seq(n, what)[0], what);
}

function parseAttributes(n: Asn1Node): { map: Map<string, Asn1Node[]>; count: number } {
  const map = new Map<string, Asn1Node[]>();
  for (const a of n.children) {
    const parts = seq(a, 'attribute');
    const type = readOid(parts[0], 'attribute type');
    const values = expectTag(parts[1], TAG.SET, 'attribute values').children;
    if (map.has(type)) throw new Asn1Error(`duplicate signed attribute ${type}`);
    map.set(type, [...values]);
  }
  return { map, count: n.children.length };
}

function parseSignerInfo(n: Asn1Node): ParsedSignerInfo {
  const p = seq(n, 'SignerInfo');
  let i = 0;
  const version = readSmallInt(p[i++], 'SignerInfo version');
  const sidNode = p[i++];
  let sid: ParsedSignerInfo['sid'];
  if (sidNode?.tag === TAG.SEQUENCE) {
    const s = sidNode.children;
    sid = { issuer: expectTag(s[0], TAG.SEQUENCE, 'sid issuer').raw, serial: readInteger(s[1], 'sid serial') };
  } else if (!isContext(sidNode, 0)) throw new Asn1Error('SignerInfo sid: unexpected ASN.1 tag');
  const digestAlgorithm = parseAlgId(p[i++], 'SignerInfo digestAlgorithm');
  let signedAttrsRaw: Uint8Array | undefined;
  let signedAttrs = new Map<string, Asn1Node[]>();
  let signedAttrCount = 0;
  if (isContext(p[i], 0)) {
    const a = p[i++]!;
    if (!a.constructed) throw new Asn1Error('signedAttrs must be constructed');
    signedAttrsRaw = a.raw;
    const parsed = parseAttributes(a);
    signedAttrs = parsed.map;
    signedAttrCount = parsed.count;
  }
  const signatureAlgorithm = expectTag(p[i++], TAG.SEQUENCE, 'SignerInfo signatureAlgorithm');
  const signature = readOctets(p[i++], 'SignerInfo signature');
  return { version, sid, digestAlgorithm, signedAttrsRaw, signedAttrs, signedAttrCount, signatureAlgorithm, signature };
}

function parseAccuracy(n: Asn1Node): TimestampAccuracy {
  const acc: TimestampAccuracy = { seconds: 0, millis: 0, micros: 0 };
  for (const c of seq(n, 'accuracy')) {
    if (c.tag === TAG.INTEGER) acc.seconds = readSmallInt(c, 'accuracy seconds');
    else if (isContext(c, 0)) acc.millis = readSmallInt(c, 'accuracy millis', null);
    else if (isContext(c, 1)) acc.micros = readSmallInt(c, 'accuracy micros', null);
    else throw new Asn1Error('accuracy: unexpected field');
  }
  if (acc.seconds < 0 || acc.millis < 0 || acc.millis > 999 || acc.micros < 0 || acc.micros > 999) {
    throw new Asn1Error('accuracy: value out of range');
  }
  return acc;
}

interface TstInfo {
  version: number;
  policy: string;
  hashAlgorithmOid: string;
  messageImprint: Uint8Array;
  serialNumber: string;
  genTime: Date;
  accuracyField?: TimestampAccuracy;
  ordering: boolean;
  nonce?: string;
}

function parseTstInfo(bytes: Uint8Array): TstInfo {
  const p = seq(decode(bytes, BER), 'TSTInfo');
  let i = 0;
  const version = readSmallInt(p[i++], 'TSTInfo version');
  const policy = readOid(p[i++], 'TSTInfo policy');
  const mi = seq(p[i++], 'TSTInfo messageImprint');
  const hashAlgorithmOid = parseAlgId(mi[0], 'messageImprint hashAlgorithm');
  const messageImprint = readOctets(mi[1], 'messageImprint hashedMessage');
  const serialNumber = intHex(readInteger(p[i++], 'TSTInfo serialNumber'));
  const gt = p[i++];
  if (gt?.tag !== TAG.GENERALIZED_TIME) throw new Asn1Error('TSTInfo genTime: expected GeneralizedTime');
  const genTime = readTime(gt, 'TSTInfo genTime');
  let accuracyField: TimestampAccuracy | undefined;
  let ordering = false;
  let nonce: string | undefined;
  if (p[i]?.tag === TAG.SEQUENCE) accuracyField = parseAccuracy(p[i++]!);
  if (p[i]?.tag === TAG.BOOLEAN) ordering = readBoolean(p[i++], 'TSTInfo ordering');
  if (p[i]?.tag === TAG.INTEGER) nonce = intHex(readInteger(p[i++], 'TSTInfo nonce'));
  if (isContext(p[i], 0)) i++;
  if (isContext(p[i], 1)) i++;
  if (i !== p.length) throw new Asn1Error('TSTInfo: unexpected trailing fields');
  return { version, policy, hashAlgorithmOid, messageImprint, serialNumber, genTime, accuracyField, ordering, nonce };
}

/** Effective accuracy in ms per the Notary rules. */
function effectiveAccuracy(info: TstInfo): number {
  const a = info.accuracyField;
  if (a && (a.seconds || a.millis || a.micros)) return a.seconds * 1000 + a.millis + a.micros / 1000;
  return info.policy === OID.baselineTimestampPolicy ? 1000 : 0;
}

/** The certificate of `certs` with this issuer Name (DER) and serial. */
export function findByIssuerSerial(certs: readonly Certificate[], issuer: Uint8Array, serial: bigint): Certificate | undefined {
  return certs.find((c) => {
    const parts = certificatePartsOf(c);
    return parts.serial === serial && bytesEqual(parts.rawIssuer, issuer);
  });
}

/**
 * Resolve the signing certificate of a SignerInfo through its ESS signing-certificate-v2
 * attribute (RFC 5035): issuerSerial if present, else the sid; the certificate hash must
 * match. Throws ERR_TIMESTAMP_INVALID (step 'signingCertificate').
 */
export async function resolveSigningCertificate(parsed: ParsedToken, si: ParsedSignerInfo): Promise<Certificate> {
  const step = 'signingCertificate';
  const values = si.signedAttrs.get(OID.signingCertificateV2Attribute);
  if (!values || values.length === 0) {
    const v1 = si.signedAttrs.has(OID.signingCertificateAttribute);
    throw tsError(
      step,
      `the timestamp token has no ESS signing-certificate-v2 attribute${v1 ? ' (only the SHA-1 based v1 attribute, which is not accepted)' : ''}; the TSA signing certificate cannot be bound to the signature`,
    );
  }
  if (values.length !== 1) throw tsError(step, 'the signing-certificate-v2 attribute must have exactly one value');
  let certHash: Uint8Array;
  let hashOid: string = OID.sha256;
  let issuerSerial: { issuer: Uint8Array; serial: bigint } | undefined;
  try {
    const certs = seq(seq(values[0], 'SigningCertificateV2')[0], 'SigningCertificateV2 certs');
    if (certs.length === 0) throw tsError(step, 'the signing-certificate-v2 attribute lists no certificate');
    const id = seq(certs[0], 'ESSCertIDv2');
    let j = 0;
    if (id[j]?.tag === TAG.SEQUENCE && id[j + 1]?.tag === TAG.OCTET_STRING) hashOid = parseAlgId(id[j++], 'ESSCertIDv2 hashAlgorithm');
    certHash = readOctets(id[j++], 'ESSCertIDv2 certHash');
    if (id[j]) {
      const is = seq(id[j], 'IssuerSerial');
      const names = seq(is[0], 'IssuerSerial issuer');
      const dn = names.find((g) => isContext(g, 4));
      if (!dn?.children[0]) throw tsError(step, 'the issuer name is missing in the signing-certificate-v2 IssuerSerial');
      issuerSerial = {
        issuer: expectTag(dn.children[0], TAG.SEQUENCE, 'IssuerSerial directoryName').raw,
        serial: readInteger(is[1], 'IssuerSerial serial'),
      };
    }
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw tsError(step, `the signing-certificate-v2 attribute is malformed: ${(e as Error).message}`, { malformed: true }, e);
  }
  const hash = hashOfOid(hashOid);
  if (!hash || hash === 'SHA-1') {
    throw tsError(
      step,
      `unsupported certificate hash algorithm ${hashOid} in the signing-certificate-v2 attribute (SHA-256/384/512 are accepted)`,
    );
  }
  const ref = issuerSerial ?? si.sid;
  if (!ref)
    throw tsError(step, 'the signer is identified by subject key identifier, which is not supported (SignerInfo version 1 is required)');
  const cert = findByIssuerSerial(parsed.token.certificates, ref.issuer, ref.serial);
  if (!cert) throw tsError(step, 'the TSA signing certificate is not included in the timestamp token');
  if (!bytesEqual(await digest(hash, cert.der), certHash)) {
    throw tsError(step, 'the TSA signing certificate does not match the hash in the signing-certificate-v2 attribute');
  }
  // The (unsigned) sid must name the same certificate as the signed ESS reference.
  if (si.sid && issuerSerial) {
    const parts = certificatePartsOf(cert);
    if (parts.serial !== si.sid.serial || !bytesEqual(parts.rawIssuer, si.sid.issuer)) {
      throw tsError(step, 'the SignerInfo identifier names a different certificate than the signing-certificate-v2 attribute');
    }
  }
  return cert;
}

/** Internal: parse a token fully. Throws ERR_TIMESTAMP_INVALID (step 'parse'). */
export async function parseTokenInternal(bytes: Uint8Array): Promise<ParsedToken> {
  if (!(bytes instanceof Uint8Array)) throw new VouchError('ERR_INVALID_ARGUMENT', 'timestamp token must be a Uint8Array');
  let eContentType: string;
  let eContent: Uint8Array;
  let certDers: Uint8Array[] = [];
  let signerInfos: ParsedSignerInfo[];
  let info: TstInfo;
  try {
    const ci = seq(decode(bytes, BER), 'ContentInfo');
    const ct = readOid(ci[0], 'ContentInfo contentType');
    if (ct !== OID.signedData) throw tsError('parse', `the timestamp token is not CMS SignedData (content type ${ct})`);
    if (!isContext(ci[1], 0)) throw new Asn1Error('ContentInfo content missing');
    const sd = seq(ci[1].children[0], 'SignedData');
    let i = 0;
    readSmallInt(sd[i++], 'SignedData version');
    expectTag(sd[i++], TAG.SET, 'SignedData digestAlgorithms');
    const encap = seq(sd[i++], 'EncapsulatedContentInfo');
    eContentType = readOid(encap[0], 'eContentType');
    if (eContentType !== OID.tstInfo) {
      throw tsError('parse', `unexpected content type ${eContentType} in the timestamp token; expected id-ct-TSTInfo (${OID.tstInfo})`, {
        contentType: eContentType,
      });
    }
    if (!isContext(encap[1], 0)) throw new Asn1Error('the timestamp token has no encapsulated TSTInfo');
    eContent = readOctets(encap[1].children[0], 'eContent');
    if (isContext(sd[i], 0)) {
      certDers = sd[i++]!.children.filter((c) => c.tag === TAG.SEQUENCE).map((c) => c.raw);
    }
    if (isContext(sd[i], 1)) i++;
    signerInfos = expectTag(sd[i++], TAG.SET, 'SignedData signerInfos').children.map(parseSignerInfo);
    info = parseTstInfo(eContent);
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw tsError('parse', `the timestamp token is malformed: ${(e as Error).message}`, {}, e);
  }
  let certificates: Certificate[];
  try {
    certificates = certDers.map((d) => parseCertificate(d));
  } catch (e) {
    throw tsError('parse', `a certificate in the timestamp token cannot be parsed: ${(e as Error).message}`, {}, e);
  }
  const token: TimestampToken = {
    der: bytes,
    version: info.version,
    policy: info.policy,
    hashAlgorithm: hashOfOid(info.hashAlgorithmOid) ?? info.hashAlgorithmOid,
    messageImprint: info.messageImprint,
    serialNumber: info.serialNumber,
    genTime: info.genTime,
    ...(info.accuracyField ? { accuracyField: info.accuracyField } : {}),
    accuracy: effectiveAccuracy(info),
    ordering: info.ordering,
    ...(info.nonce !== undefined ? { nonce: info.nonce } : {}),
    certificates,
  };
  return { token, eContentType, eContent, signerInfos };
}

/**
 * Parse an RFC 3161 TimeStampToken (CMS ContentInfo with SignedData over TSTInfo, BER or
 * DER) without verifying it. Nothing in the result is trustworthy until
 * {@link verifyTimestampToken} succeeds.
 *
 * @throws VouchError ERR_TIMESTAMP_INVALID when the bytes are not a timestamp token.
 */
export async function parseTimestampToken(bytes: Uint8Array): Promise<TimestampToken> {
  const parsed = await parseTokenInternal(bytes);
  const si = parsed.signerInfos[0];
  if (!si) return parsed.token;
  try {
    const signerCertificate = await resolveSigningCertificate(parsed, si);
    return { ...parsed.token, signerCertificate };
  } catch {
    return parsed.token;
  }
}

/** The range [genTime − accuracy, genTime + accuracy] of a token (accuracy in ms), widened outward to whole milliseconds. */
export function timestampRange(t: { genTime: Date; accuracy: number }): { earliest: Date; latest: Date } {
  const g = t.genTime.getTime();
  return { earliest: new Date(Math.floor(g - t.accuracy)), latest: new Date(Math.ceil(g + t.accuracy)) };
}
