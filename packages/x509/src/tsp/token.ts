import { VouchError } from '@vouch/core';
import * as asn1 from '@vouch/core/asn1';
import { bytesEqual, hashOfOid } from '@vouch/core/internal';
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
  signedAttrs: Map<string, asn1.Asn1Node[]>;
  /** Attribute OIDs in order, to detect duplicates. */
  signedAttrCount: number;
  signatureAlgorithm: asn1.Asn1Node;
  signature: Uint8Array;
}

/** Internal full parse of a token. */
export interface ParsedToken {
  token: TimestampToken;
  eContentType: string;
  eContent: Uint8Array;
  signerInfos: ParsedSignerInfo[];
}

function parseAlgId(n: asn1.Asn1Node | undefined, what: string): string {
  return asn1.readOid(asn1.seq(n, what)[0], what);
}

function parseAttributes(n: asn1.Asn1Node): { map: Map<string, asn1.Asn1Node[]>; count: number } {
  const map = new Map<string, asn1.Asn1Node[]>();
  for (const a of n.children) {
    const parts = asn1.seq(a, 'attribute');
    const type = asn1.readOid(parts[0], 'attribute type');
    const values = asn1.expectTag(parts[1], asn1.TAG.SET, 'attribute values').children;
    if (map.has(type)) throw new asn1.Asn1Error(`duplicate signed attribute ${type}`);
    map.set(type, [...values]);
  }
  return { map, count: n.children.length };
}

function parseSignerInfo(n: asn1.Asn1Node): ParsedSignerInfo {
  const p = asn1.seq(n, 'SignerInfo');
  let i = 0;
  const version = asn1.readSmallInt(p[i++], 'SignerInfo version');
  const sidNode = p[i++];
  let sid: ParsedSignerInfo['sid'];
  if (sidNode?.tag === asn1.TAG.SEQUENCE) {
    const s = sidNode.children;
    sid = { issuer: asn1.expectTag(s[0], asn1.TAG.SEQUENCE, 'sid issuer').raw, serial: asn1.readInteger(s[1], 'sid serial') };
  } else if (!asn1.isContext(sidNode, 0)) throw new asn1.Asn1Error('SignerInfo sid: unexpected ASN.1 tag');
  const digestAlgorithm = parseAlgId(p[i++], 'SignerInfo digestAlgorithm');
  let signedAttrsRaw: Uint8Array | undefined;
  let signedAttrs = new Map<string, asn1.Asn1Node[]>();
  let signedAttrCount = 0;
  if (asn1.isContext(p[i], 0)) {
    const a = p[i++]!;
    if (!a.constructed) throw new asn1.Asn1Error('signedAttrs must be constructed');
    signedAttrsRaw = a.raw;
    const parsed = parseAttributes(a);
    signedAttrs = parsed.map;
    signedAttrCount = parsed.count;
  }
  const signatureAlgorithm = asn1.expectTag(p[i++], asn1.TAG.SEQUENCE, 'SignerInfo signatureAlgorithm');
  const signature = asn1.readOctets(p[i++], 'SignerInfo signature');
  return { version, sid, digestAlgorithm, signedAttrsRaw, signedAttrs, signedAttrCount, signatureAlgorithm, signature };
}

function parseAccuracy(n: asn1.Asn1Node): TimestampAccuracy {
  const acc: TimestampAccuracy = { seconds: 0, millis: 0, micros: 0 };
  for (const c of asn1.seq(n, 'accuracy')) {
    if (c.tag === asn1.TAG.INTEGER) acc.seconds = asn1.readSmallInt(c, 'accuracy seconds');
    else if (asn1.isContext(c, 0)) acc.millis = asn1.readSmallInt(c, 'accuracy millis', null);
    else if (asn1.isContext(c, 1)) acc.micros = asn1.readSmallInt(c, 'accuracy micros', null);
    else throw new asn1.Asn1Error('accuracy: unexpected field');
  }
  if (acc.seconds < 0 || acc.millis < 0 || acc.millis > 999 || acc.micros < 0 || acc.micros > 999) {
    throw new asn1.Asn1Error('accuracy: value out of range');
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
  const p = asn1.seq(asn1.decode(bytes, BER), 'TSTInfo');
  let i = 0;
  const version = asn1.readSmallInt(p[i++], 'TSTInfo version');
  const policy = asn1.readOid(p[i++], 'TSTInfo policy');
  const mi = asn1.seq(p[i++], 'TSTInfo messageImprint');
  const hashAlgorithmOid = parseAlgId(mi[0], 'messageImprint hashAlgorithm');
  const messageImprint = asn1.readOctets(mi[1], 'messageImprint hashedMessage');
  const serialNumber = asn1.intHex(asn1.readInteger(p[i++], 'TSTInfo serialNumber'));
  const gt = p[i++];
  if (gt?.tag !== asn1.TAG.GENERALIZED_TIME) throw new asn1.Asn1Error('TSTInfo genTime: expected GeneralizedTime');
  const genTime = asn1.readTime(gt, 'TSTInfo genTime');
  let accuracyField: TimestampAccuracy | undefined;
  let ordering = false;
  let nonce: string | undefined;
  if (p[i]?.tag === asn1.TAG.SEQUENCE) accuracyField = parseAccuracy(p[i++]!);
  if (p[i]?.tag === asn1.TAG.BOOLEAN) ordering = asn1.readBoolean(p[i++], 'TSTInfo ordering');
  if (p[i]?.tag === asn1.TAG.INTEGER) nonce = asn1.intHex(asn1.readInteger(p[i++], 'TSTInfo nonce'));
  if (asn1.isContext(p[i], 0)) i++;
  if (asn1.isContext(p[i], 1)) i++;
  if (i !== p.length) throw new asn1.Asn1Error('TSTInfo: unexpected trailing fields');
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
export async function resolveSigningCertificate(
  parsed: ParsedToken,
  si: ParsedSignerInfo,
  extra: readonly Certificate[] = [],
): Promise<Certificate> {
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
    const certs = asn1.seq(asn1.seq(values[0], 'SigningCertificateV2')[0], 'SigningCertificateV2 certs');
    if (certs.length === 0) throw tsError(step, 'the signing-certificate-v2 attribute lists no certificate');
    const id = asn1.seq(certs[0], 'ESSCertIDv2');
    let j = 0;
    if (id[j]?.tag === asn1.TAG.SEQUENCE && id[j + 1]?.tag === asn1.TAG.OCTET_STRING)
      hashOid = parseAlgId(id[j++], 'ESSCertIDv2 hashAlgorithm');
    certHash = asn1.readOctets(id[j++], 'ESSCertIDv2 certHash');
    if (id[j]) {
      const is = asn1.seq(id[j], 'IssuerSerial');
      const names = asn1.seq(is[0], 'IssuerSerial issuer');
      const dn = names.find((g) => asn1.isContext(g, 4));
      if (!dn?.children[0]) throw tsError(step, 'the issuer name is missing in the signing-certificate-v2 IssuerSerial');
      issuerSerial = {
        issuer: asn1.expectTag(dn.children[0], asn1.TAG.SEQUENCE, 'IssuerSerial directoryName').raw,
        serial: asn1.readInteger(is[1], 'IssuerSerial serial'),
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
  const cert = findByIssuerSerial(parsed.token.certificates, ref.issuer, ref.serial) ?? findByIssuerSerial(extra, ref.issuer, ref.serial);
  if (!cert) {
    throw tsError(
      step,
      `the TSA signing certificate is not included in the timestamp token${extra.length ? ' nor among the given TSA certificates' : ''}`,
    );
  }
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
    const ci = asn1.seq(asn1.decode(bytes, BER), 'ContentInfo');
    const ct = asn1.readOid(ci[0], 'ContentInfo contentType');
    if (ct !== OID.signedData) throw tsError('parse', `the timestamp token is not CMS SignedData (content type ${ct})`);
    if (!asn1.isContext(ci[1], 0)) throw new asn1.Asn1Error('ContentInfo content missing');
    const sd = asn1.seq(ci[1].children[0], 'SignedData');
    let i = 0;
    asn1.readSmallInt(sd[i++], 'SignedData version');
    asn1.expectTag(sd[i++], asn1.TAG.SET, 'SignedData digestAlgorithms');
    const encap = asn1.seq(sd[i++], 'EncapsulatedContentInfo');
    eContentType = asn1.readOid(encap[0], 'eContentType');
    if (eContentType !== OID.tstInfo) {
      throw tsError('parse', `unexpected content type ${eContentType} in the timestamp token; expected id-ct-TSTInfo (${OID.tstInfo})`, {
        contentType: eContentType,
      });
    }
    if (!asn1.isContext(encap[1], 0)) throw new asn1.Asn1Error('the timestamp token has no encapsulated TSTInfo');
    eContent = asn1.readOctets(encap[1].children[0], 'eContent');
    if (asn1.isContext(sd[i], 0)) {
      certDers = sd[i++]!.children.filter((c) => c.tag === asn1.TAG.SEQUENCE).map((c) => c.raw);
    }
    if (asn1.isContext(sd[i], 1)) i++;
    signerInfos = asn1.expectTag(sd[i++], asn1.TAG.SET, 'SignedData signerInfos').children.map(parseSignerInfo);
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
