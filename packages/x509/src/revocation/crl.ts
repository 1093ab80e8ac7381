import { type FetchLike, VouchError } from '@vouch/core';
import * as asn1 from '@vouch/core/asn1';
import { bytesEqual, readLimited, verifySignature } from '@vouch/core/internal';
import { type Certificate, certificatePartsOf, fetchWithDeadline, OID, readExtensions } from '../internal/index.js';
import { CRL_REASONS } from './ocsp.js';
import type { CrlCache, CrlCacheEntry } from './types.js';

const KNOWN_CRL_EXTENSIONS = new Set<string>([
  OID.crlNumber,
  OID.deltaCrlIndicator,
  OID.issuingDistributionPoint,
  OID.freshestCrl,
  OID.authorityKeyIdentifier,
]);

/** A revoked entry of a CRL. */
export interface CrlEntry {
  serial: bigint;
  revokedAt: Date;
  reason?: number;
  invalidityDate?: Date;
}

/** A decoded (not yet validated) CRL. */
export interface ParsedCrl {
  tbs: Uint8Array;
  signatureAlgorithm: asn1.Asn1Node;
  signature: Uint8Array;
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate?: Date;
  crlNumber?: bigint;
  /** Base CRL number named by a delta CRL's Delta CRL Indicator. */
  deltaIndicator?: bigint;
  /** Freshest CRL (delta) URLs named by a base CRL. */
  freshestUrls: string[];
  unknownCriticalExtensions: string[];
  entries: CrlEntry[];
  /** Problems with individual entries (e.g. unknown critical entry extensions). */
  entryErrors: string[];
}

function crlError(message: string, cause?: unknown): VouchError {
  return new VouchError('ERR_REVOCATION_UNKNOWN', message, cause === undefined ? {} : { cause });
}

/**
 * URIs of a CRLDistributionPoints-syntax extension value (CRL DP or Freshest CRL): the
 * fullName `[6]` URIs of each point; collecting stops at the first non-URI name. Throws on
 * a malformed value.
 */
export function distributionPointUris(value: Uint8Array): string[] {
  const urls: string[] = [];
  for (const dp of asn1.seq(asn1.decode(value), 'CRLDistributionPoints')) {
    const fields = asn1.seq(dp, 'DistributionPoint');
    const name = fields.find((f) => asn1.isContext(f, 0));
    if (!name) continue;
    const full = name.children[0];
    if (!full) throw new asn1.Asn1Error('invalid CRL distribution point');
    if (!asn1.isContext(full, 0)) continue;
    for (const g of full.children) {
      if (!asn1.isContext(g, 6) || g.constructed) return urls;
      urls.push(new TextDecoder().decode(g.value));
    }
  }
  return urls;
}

/** Decode a DER CRL (RFC 5280 §5). Throws ERR_REVOCATION_UNKNOWN when malformed. */
export function parseCrl(bytes: Uint8Array): ParsedCrl {
  try {
    const top = asn1.seq(asn1.decode(bytes), 'CertificateList');
    const tbs = asn1.seq(top[0], 'TBSCertList');
    let i = 0;
    if (tbs[i]?.tag === asn1.TAG.INTEGER) i++;
    asn1.expectTag(tbs[i++], asn1.TAG.SEQUENCE, 'signature');
    const issuer = asn1.expectTag(tbs[i++], asn1.TAG.SEQUENCE, 'issuer').raw;
    const thisUpdate = asn1.readTime(tbs[i++], 'thisUpdate');
    let nextUpdate: Date | undefined;
    if (tbs[i]?.tag === asn1.TAG.UTC_TIME || tbs[i]?.tag === asn1.TAG.GENERALIZED_TIME) nextUpdate = asn1.readTime(tbs[i++], 'nextUpdate');
    const crl: ParsedCrl = {
      tbs: top[0]!.raw,
      signatureAlgorithm: asn1.expectTag(top[1], asn1.TAG.SEQUENCE, 'signatureAlgorithm'),
      signature: asn1.readBitString(top[2], 'signatureValue').bytes,
      issuer,
      thisUpdate,
      ...(nextUpdate ? { nextUpdate } : {}),
      freshestUrls: [],
      unknownCriticalExtensions: [],
      entries: [],
      entryErrors: [],
    };
    if (tbs[i]?.tag === asn1.TAG.SEQUENCE) {
      for (const r of tbs[i++]!.children) {
        const p = asn1.seq(r, 'revoked certificate');
        const entry: CrlEntry = { serial: asn1.readInteger(p[0], 'userCertificate'), revokedAt: asn1.readTime(p[1], 'revocationDate') };
        for (const e of readExtensions(p[2])) {
          if (e.oid === OID.crlReason) entry.reason = asn1.readSmallInt(asn1.decode(e.value), 'reasonCode', asn1.TAG.ENUMERATED);
          else if (e.oid === OID.invalidityDate) entry.invalidityDate = asn1.readTime(asn1.decode(e.value), 'invalidityDate');
          else if (e.oid === OID.certificateIssuer && e.critical)
            crl.entryErrors.push('indirect CRL entries (certificateIssuer) are not supported');
          else if (e.critical) crl.entryErrors.push(`unknown critical CRL entry extension ${e.oid}`);
        }
        crl.entries.push(entry);
      }
    }
    if (asn1.isContext(tbs[i], 0)) {
      for (const e of readExtensions(tbs[i]!.children[0])) {
        if (e.oid === OID.crlNumber) crl.crlNumber = asn1.readInteger(asn1.decode(e.value), 'CRL number');
        else if (e.oid === OID.deltaCrlIndicator) crl.deltaIndicator = asn1.readInteger(asn1.decode(e.value), 'delta CRL indicator');
        else if (e.oid === OID.freshestCrl) crl.freshestUrls = distributionPointUris(e.value);
        if (e.critical && !KNOWN_CRL_EXTENSIONS.has(e.oid)) crl.unknownCriticalExtensions.push(e.oid);
      }
    }
    return crl;
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw crlError(`the CRL is malformed: ${(e as Error).message}`, e);
  }
}

/** Check a CRL's issuer, signature, freshness and critical extensions against the issuing CA. */
export async function validateCrl(crl: ParsedCrl, issuer: Certificate, at: Date, what = 'CRL'): Promise<void> {
  if (!bytesEqual(crl.issuer, certificatePartsOf(issuer).rawSubject)) {
    throw crlError(`the ${what} is not issued by "${issuer.subject}" (indirect CRLs are not supported)`);
  }
  if (issuer.keyUsage && !issuer.keyUsage.usages.includes('cRLSign')) {
    throw crlError(`the ${what} issuer "${issuer.subject}" lacks the cRLSign key usage`);
  }
  let ok = false;
  try {
    ok = await verifySignature({ key: issuer.publicKey, algorithm: crl.signatureAlgorithm, data: crl.tbs, signature: crl.signature });
  } catch (e) {
    throw crlError(`the ${what} signature cannot be checked: ${(e as Error).message}`, e);
  }
  if (!ok) throw crlError(`the ${what} signature does not verify with the key of "${issuer.subject}"`);
  if (!crl.nextUpdate) throw crlError(`the ${what} has no nextUpdate`);
  if (at > crl.nextUpdate) throw crlError(`expired ${what}: nextUpdate ${crl.nextUpdate.toISOString()} is before ${at.toISOString()}`);
  if (crl.unknownCriticalExtensions.length) {
    throw crlError(`the ${what} has unknown critical extensions ${crl.unknownCriticalExtensions.join(', ')}`);
  }
}

export interface CrlFetchOptions {
  fetch: FetchLike;
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

/** GET a CRL (HTTP 200 only, Quarkslab INFO-10) within the size cap. */
export async function downloadCrl(url: string, opts: CrlFetchOptions): Promise<Uint8Array> {
  if (!url.startsWith('http://')) throw crlError(`CRL URL ${url} is not http:// (only plain HTTP CRL URLs are used)`);
  return fetchWithDeadline(opts.fetch, `CRL download from ${url}`, opts.timeoutMs, opts.signal, async (fetch, signal) => {
    const res = await fetch(url, { method: 'GET', signal, redirect: 'error' });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw crlError(`the CRL server ${url} answered HTTP ${res.status}; expected 200`);
    }
    return readLimited(res, opts.maxBytes, 'CRL');
  });
}

/** Base CRL plus its delta, both validated. */
export interface CrlSet {
  base: ParsedCrl;
  delta?: ParsedCrl;
}

/**
 * Obtain and validate the CRL at `url` for certificates issued by `issuer`: from the cache
 * while its nextUpdate has not passed, else downloaded; with its delta CRL when the base
 * names Freshest CRL URLs (a delta that cannot be fetched or validated makes the CRL
 * unusable). Successful downloads are written to the cache.
 */
export async function obtainCrl(url: string, issuer: Certificate, at: Date, opts: CrlFetchOptions & { cache?: CrlCache }): Promise<CrlSet> {
  let entry: CrlCacheEntry | undefined;
  if (opts.cache) {
    try {
      entry = await opts.cache.get(url);
    } catch {
      entry = undefined; // cache errors are discarded
    }
  }
  if (entry) {
    try {
      const set = await validateSet(entry, issuer, at);
      return set;
    } catch {
      entry = undefined; // stale or bad cache entry: download again
    }
  }
  const base = await downloadCrl(url, opts);
  const parsedBase = parseCrl(base);
  await validateCrl(parsedBase, issuer, at, 'CRL');
  const fresh: CrlCacheEntry = { base };
  if (parsedBase.freshestUrls.length) {
    let lastError: unknown;
    for (const du of parsedBase.freshestUrls) {
      try {
        fresh.delta = await downloadCrl(du, opts);
        break;
      } catch (e) {
        lastError = e;
      }
    }
    if (!fresh.delta) {
      throw crlError(`the delta CRL named by ${url} cannot be retrieved: ${(lastError as Error)?.message ?? 'no http:// URL'}`, lastError);
    }
  }
  const set = await validateSet(fresh, issuer, at);
  if (opts.cache) await opts.cache.set(url, fresh).catch(() => {});
  return set;
}

async function validateSet(entry: CrlCacheEntry, issuer: Certificate, at: Date): Promise<CrlSet> {
  const base = parseCrl(entry.base);
  await validateCrl(base, issuer, at, 'CRL');
  if (base.deltaIndicator !== undefined) throw crlError('the CRL at a distribution point is a delta CRL, expected a base CRL');
  if (base.freshestUrls.length && !entry.delta) throw crlError('the base CRL names a delta CRL that was not obtained');
  if (!entry.delta) return { base };
  const delta = parseCrl(entry.delta);
  await validateCrl(delta, issuer, at, 'delta CRL');
  if (delta.deltaIndicator === undefined) throw crlError('the delta CRL has no Delta CRL Indicator');
  if (base.crlNumber === undefined || delta.crlNumber === undefined) throw crlError('base and delta CRLs must carry CRL numbers');
  if (delta.crlNumber <= base.crlNumber) throw crlError('the delta CRL is not newer than the base CRL');
  if (delta.deltaIndicator > base.crlNumber) throw crlError('the delta CRL refers to a base CRL newer than the one obtained');
  return { base, delta };
}

/** Revocation status of `cert` in a validated base(+delta) CRL set. */
export function lookupCrl(
  set: CrlSet,
  cert: Certificate,
  signingTime?: Date,
): { status: 'ok' } | { status: 'revoked'; revokedAt: Date; reason?: string } {
  const serial = certificatePartsOf(cert).serial;
  const errors = [...set.base.entryErrors, ...(set.delta?.entryErrors ?? [])];
  if (errors.length) throw crlError(`the CRL cannot be used: ${errors[0]}`);
  const baseEntry = set.base.entries.find((e) => e.serial === serial);
  const deltaEntry = set.delta?.entries.find((e) => e.serial === serial);
  // A delta entry supersedes the base entry; removeFromCRL lifts a certificateHold.
  const entry = deltaEntry ?? baseEntry;
  if (!entry) return { status: 'ok' };
  if (entry.reason === 8) return { status: 'ok' };
  if (signingTime && entry.invalidityDate && signingTime < entry.invalidityDate) return { status: 'ok' };
  const reason = entry.reason !== undefined ? (CRL_REASONS[entry.reason] ?? `reason ${entry.reason}`) : undefined;
  return { status: 'revoked', revokedAt: entry.revokedAt, ...(reason ? { reason } : {}) };
}

/** Plain-data view of a CRL (see {@link inspectCrl}). */
export interface CrlInfo {
  thisUpdate: Date;
  nextUpdate?: Date;
  /** CRL number, lowercase hex. */
  crlNumber?: string;
  /** For a delta CRL: the base CRL number it applies to, lowercase hex. */
  deltaCrlIndicator?: string;
  /** Delta CRL URLs of the Freshest CRL extension. */
  freshestCrlUrls: string[];
  /** Critical extensions vouch does not understand (such a CRL is not used). */
  unknownCriticalExtensions: string[];
  entries: { serialNumber: string; revokedAt: Date; reason?: string; invalidityDate?: Date }[];
}

/**
 * Decode a DER CRL into plain data without validating it (no signature, issuer or freshness
 * check: `checkRevocation` does those). For diagnostics and tooling.
 *
 * @throws VouchError ERR_MALFORMED_INPUT when the bytes are not a CRL.
 */
export function inspectCrl(der: Uint8Array): CrlInfo {
  let crl: ParsedCrl;
  try {
    crl = parseCrl(der);
  } catch (e) {
    throw new VouchError('ERR_MALFORMED_INPUT', (e as Error).message, { cause: e });
  }
  const hex = (v: bigint) => (v < 0n ? `-${(-v).toString(16)}` : v.toString(16));
  return {
    thisUpdate: crl.thisUpdate,
    ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate } : {}),
    ...(crl.crlNumber !== undefined ? { crlNumber: hex(crl.crlNumber) } : {}),
    ...(crl.deltaIndicator !== undefined ? { deltaCrlIndicator: hex(crl.deltaIndicator) } : {}),
    freshestCrlUrls: crl.freshestUrls,
    unknownCriticalExtensions: crl.unknownCriticalExtensions,
    entries: crl.entries.map((e) => ({
      serialNumber: hex(e.serial),
      revokedAt: e.revokedAt,
      ...(e.reason !== undefined ? { reason: CRL_REASONS[e.reason] ?? `reason ${e.reason}` } : {}),
      ...(e.invalidityDate ? { invalidityDate: e.invalidityDate } : {}),
    })),
  };
}
