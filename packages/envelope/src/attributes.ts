import { VouchError } from '@vouch/core';
import { isSemver } from '@vouch/core/internal';
import { type ExtendedAttribute, HeaderName, type SignedAttributes, type SigningScheme, type SignRequest } from './model.js';

/** The two signing schemes. */
export const SIGNING_SCHEMES: readonly SigningScheme[] = ['notary.x509', 'notary.x509.signingAuthority'];

/** True when `s` is a known signing scheme. */
export function isSigningScheme(s: unknown): s is SigningScheme {
  return s === 'notary.x509' || s === 'notary.x509.signingAuthority';
}

const malformed = (msg: string, details?: Record<string, unknown>) =>
  new VouchError('ERR_ENVELOPE_MALFORMED', msg, details ? { details } : {});

/**
 * Signed attribute names that have a fixed meaning in Notary and may never be used as
 * extended attributes (verificationPlugin and its min version are extended attributes by design).
 */
const NOTARY_FIXED = new Set<string>([
  HeaderName.SIGNING_SCHEME,
  HeaderName.SIGNING_TIME,
  HeaderName.AUTHENTIC_SIGNING_TIME,
  HeaderName.EXPIRY,
]);

/** Unsigned attribute names: never allowed in the signed bucket. */
const NOTARY_UNSIGNED = new Set<string>([HeaderName.SIGNING_AGENT, HeaderName.TIMESTAMP_SIGNATURE]);

/**
 * JOSE registered header parameter names (RFC 7515 §4.1, RFC 7797, RFC 7516): a signer may not
 * use them as extended attributes and `crit` may not list them.
 */
export const JOSE_REGISTERED = new Set<string>([
  'alg',
  'jku',
  'jwk',
  'kid',
  'x5u',
  'x5c',
  'x5t',
  'x5t#S256',
  'typ',
  'cty',
  'crit',
  'b64',
  'enc',
  'zip',
  'epk',
  'apu',
  'apv',
  'iv',
  'tag',
  'p2s',
  'p2c',
]);

/** The protected header of an envelope, decoded by a codec into a format-neutral view. */
export interface ProtectedView {
  /** Validated by the codec as a list of text labels. */
  crit: readonly string[];
  /** Raw value of `io.cncf.notary.signingScheme` (undefined when absent). */
  signingScheme: unknown;
  /** Parsed times: present iff the header is present (the codec rejects badly typed values). */
  signingTime?: Date;
  authenticSigningTime?: Date;
  expiry?: Date;
  /** Every other text-labelled protected entry, in header order. */
  extended: readonly (readonly [string, unknown])[];
  /** Names (besides the Notary ones) that `crit` may never list in this format. */
  reserved: ReadonlySet<string>;
}

/**
 * Apply the Notary signed-attribute rules shared by JWS and COSE and build the model:
 * scheme known; signingTime (x509) xor authenticSigningTime (signingAuthority); crit lists
 * signingScheme, expiry (if present) and authenticSigningTime (signingAuthority), and otherwise
 * only present extended attributes; verification plugin attributes are critical strings;
 * expiry later than the signing time.
 */
export function buildSignedAttributes(v: ProtectedView): SignedAttributes {
  const scheme = v.signingScheme;
  if (scheme === undefined) throw malformed(`the protected header has no ${HeaderName.SIGNING_SCHEME}`);
  if (typeof scheme !== 'string') throw malformed(`${HeaderName.SIGNING_SCHEME} must be a string`);
  if (!isSigningScheme(scheme)) {
    throw new VouchError(
      'ERR_ENVELOPE_UNSUPPORTED',
      `signing scheme ${JSON.stringify(scheme)} is not supported; expected notary.x509 or notary.x509.signingAuthority`,
      { details: { signingScheme: scheme } },
    );
  }
  if (scheme === 'notary.x509') {
    if (v.signingTime === undefined) throw malformed(`${HeaderName.SIGNING_TIME} is required for the notary.x509 signing scheme`);
    if (v.authenticSigningTime !== undefined) {
      throw malformed(`${HeaderName.AUTHENTIC_SIGNING_TIME} must not be present for the notary.x509 signing scheme`);
    }
  } else {
    if (v.authenticSigningTime === undefined) {
      throw malformed(`${HeaderName.AUTHENTIC_SIGNING_TIME} is required for the notary.x509.signingAuthority signing scheme`);
    }
    if (v.signingTime !== undefined) {
      throw malformed(`${HeaderName.SIGNING_TIME} must not be present for the notary.x509.signingAuthority signing scheme`);
    }
  }

  if (v.crit.length === 0) throw malformed('the "crit" header must list at least io.cncf.notary.signingScheme');
  const required = new Set<string>([HeaderName.SIGNING_SCHEME]);
  if (v.expiry !== undefined) required.add(HeaderName.EXPIRY);
  if (scheme === 'notary.x509.signingAuthority') required.add(HeaderName.AUTHENTIC_SIGNING_TIME);
  const extendedKeys = new Set(v.extended.map(([k]) => k));
  const listed = new Set<string>();
  for (const name of v.crit) {
    if (listed.has(name)) throw malformed(`"crit" lists ${JSON.stringify(name)} twice`);
    listed.add(name);
    if (required.has(name)) continue;
    if (NOTARY_FIXED.has(name) || NOTARY_UNSIGNED.has(name) || v.reserved.has(name)) {
      throw malformed(`"crit" must not list ${JSON.stringify(name)}`, { header: name });
    }
    if (!extendedKeys.has(name))
      throw malformed(`${JSON.stringify(name)} is marked critical but not present in the protected header`, { header: name });
  }
  const missing = [...required].filter((n) => !listed.has(n));
  if (missing.length > 0) throw malformed(`these headers must be marked critical: ${missing.join(', ')}`, { headers: missing });

  const extended: ExtendedAttribute[] = [];
  for (const [key, value] of v.extended) {
    if (NOTARY_UNSIGNED.has(key)) throw malformed(`${key} is an unsigned attribute and must not be in the protected header`);
    const critical = listed.has(key);
    if (key === HeaderName.VERIFICATION_PLUGIN || key === HeaderName.VERIFICATION_PLUGIN_MIN_VERSION) {
      if (typeof value !== 'string' || value.trim() === '') throw malformed(`${key} must be a non-empty string`);
      if (!critical) throw malformed(`${key} must be marked critical`);
      if (key === HeaderName.VERIFICATION_PLUGIN_MIN_VERSION && !isSemver(value)) {
        throw malformed(`${key} ${JSON.stringify(value)} is not a SemVer version`);
      }
    }
    extended.push({ key, value, critical });
  }
  const minVersion = extendedKeys.has(HeaderName.VERIFICATION_PLUGIN_MIN_VERSION);
  if (minVersion && !extendedKeys.has(HeaderName.VERIFICATION_PLUGIN)) {
    throw malformed(`${HeaderName.VERIFICATION_PLUGIN_MIN_VERSION} is present without ${HeaderName.VERIFICATION_PLUGIN}`);
  }

  const signed = (v.signingTime ?? v.authenticSigningTime) as Date;
  if (v.expiry !== undefined && v.expiry.getTime() <= signed.getTime()) {
    throw malformed('the expiry must be later than the signing time', {
      expiry: v.expiry.toISOString(),
      signingTime: signed.toISOString(),
    });
  }
  const out: SignedAttributes = { signingScheme: scheme, extended };
  if (v.signingTime) out.signingTime = v.signingTime;
  if (v.authenticSigningTime) out.authenticSigningTime = v.authenticSigningTime;
  if (v.expiry) out.expiry = v.expiry;
  return out;
}

/**
 * Names of critical extended attributes that are not in `processed`. Per the Notary signature
 * specification a verifier must fail when this is non-empty (unless a verification plugin
 * processed them). `io.cncf.notary.verificationPlugin`/`…MinVersion` are listed too: a verifier
 * that handled the plugin passes them in `processed`.
 */
export function unprocessedCriticalAttributes(attrs: SignedAttributes, processed: Iterable<string> = []): string[] {
  const done = new Set(processed);
  return attrs.extended.filter((a) => a.critical && !done.has(a.key)).map((a) => a.key);
}

/**
 * Throw ERR_ENVELOPE_UNSUPPORTED when the envelope carries critical extended attributes that
 * are not in `processed` (see {@link unprocessedCriticalAttributes}).
 */
export function assertCriticalAttributesProcessed(attrs: SignedAttributes, processed: Iterable<string> = []): void {
  const left = unprocessedCriticalAttributes(attrs, processed);
  if (left.length > 0) {
    throw new VouchError(
      'ERR_ENVELOPE_UNSUPPORTED',
      `the signature has critical attributes this verifier does not understand: ${left.join(', ')}; a verification plugin must process them`,
      { details: { attributes: left } },
    );
  }
}

/** Whole seconds, as notation truncates times before encoding. */
export function truncateToSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function validDate(d: unknown, what: string): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new VouchError('ERR_INVALID_ARGUMENT', `${what} must be a valid Date`);
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new VouchError('ERR_INVALID_ARGUMENT', `${what} must be between year 0 and 9999`);
  return truncateToSeconds(d);
}

/**
 * Validate a sign request's attributes and build the signed attributes notation would write
 * (times truncated to seconds; `authenticSigningTime` = `signingTime` for signingAuthority).
 * `reserved` holds the format's registered names. Throws ERR_INVALID_ARGUMENT.
 */
export function signedAttributesForRequest(req: SignRequest, reserved: ReadonlySet<string>): SignedAttributes {
  if (!isSigningScheme(req.signingScheme)) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      `signingScheme must be notary.x509 or notary.x509.signingAuthority, got ${JSON.stringify(req.signingScheme)}`,
    );
  }
  const time = validDate(req.signingTime, 'signingTime');
  const out: SignedAttributes = { signingScheme: req.signingScheme, extended: [] };
  if (req.signingScheme === 'notary.x509') out.signingTime = time;
  else out.authenticSigningTime = time;
  if (req.expiry !== undefined) {
    const expiry = validDate(req.expiry, 'expiry');
    if (expiry.getTime() <= time.getTime()) {
      throw new VouchError('ERR_INVALID_ARGUMENT', 'expiry must be later than the signing time (after truncation to whole seconds)');
    }
    out.expiry = expiry;
  }
  const seen = new Set<string>();
  for (const a of req.extendedAttributes ?? []) {
    if (typeof a?.key !== 'string' || a.key === '')
      throw new VouchError('ERR_INVALID_ARGUMENT', 'extended attribute keys must be non-empty strings');
    if (NOTARY_FIXED.has(a.key) || NOTARY_UNSIGNED.has(a.key) || reserved.has(a.key)) {
      throw new VouchError(
        'ERR_INVALID_ARGUMENT',
        `extended attribute ${JSON.stringify(a.key)} collides with a registered or Notary header`,
      );
    }
    if (seen.has(a.key)) throw new VouchError('ERR_INVALID_ARGUMENT', `extended attribute ${JSON.stringify(a.key)} is given twice`);
    seen.add(a.key);
    if (a.value === undefined) throw new VouchError('ERR_INVALID_ARGUMENT', `extended attribute ${JSON.stringify(a.key)} has no value`);
    out.extended.push({ key: a.key, value: a.value, critical: a.critical === true });
  }
  // Round-trip through the shared rules so a request can never produce an envelope that fails to parse.
  try {
    buildSignedAttributes({
      crit: critOrder(out, 'jws'),
      signingScheme: out.signingScheme,
      signingTime: out.signingTime,
      authenticSigningTime: out.authenticSigningTime,
      expiry: out.expiry,
      extended: out.extended.map((a) => [a.key, a.value] as const),
      reserved,
    });
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `cannot sign: ${(e as Error).message}`, { cause: e });
  }
  return out;
}

/**
 * The `crit` list notation writes. JWS: signingScheme, critical extended attributes,
 * authenticSigningTime, expiry. COSE: signingScheme, authenticSigningTime, expiry, critical
 * extended attributes.
 */
export function critOrder(a: SignedAttributes, format: 'jws' | 'cose'): string[] {
  const ext = a.extended.filter((x) => x.critical).map((x) => x.key);
  const fixed: string[] = [];
  if (a.signingScheme === 'notary.x509.signingAuthority') fixed.push(HeaderName.AUTHENTIC_SIGNING_TIME);
  if (a.expiry !== undefined) fixed.push(HeaderName.EXPIRY);
  return format === 'jws' ? [HeaderName.SIGNING_SCHEME, ...ext, ...fixed] : [HeaderName.SIGNING_SCHEME, ...fixed, ...ext];
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parse an RFC 3339 date-time (uppercase `T`/`Z`, numeric offsets accepted, fractional seconds
 * tolerated and truncated to milliseconds). Returns undefined when invalid.
 */
export function parseRfc3339(s: string): Date | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [, ys, mos, ds, hs, mis, ss, frac, , sign, ohs, oms] = m;
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  const h = Number(hs);
  const mi = Number(mis);
  const sec = Number(ss);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return undefined;
  const dim = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1] as number;
  if (d > dim) return undefined;
  let offset = 0;
  if (sign) {
    const oh = Number(ohs);
    const om = Number(oms);
    if (oh > 23 || om > 59) return undefined;
    offset = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const base = new Date(0);
  base.setUTCFullYear(y, mo - 1, d);
  base.setUTCHours(h, mi, sec, ms);
  return new Date(base.getTime() - offset * 60_000);
}

/** Format as RFC 3339 in UTC with whole seconds (`2022-08-29T13:50:00Z`), as notation's Go encoder does for UTC times. */
export function formatRfc3339(d: Date): string {
  return `${truncateToSeconds(d).toISOString().slice(0, 19)}Z`;
}
