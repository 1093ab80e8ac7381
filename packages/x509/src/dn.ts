/**
 * Distinguished names (RFC 4514 strings) and the `x509.subject:` trusted identities of the
 * Notary trust policy.
 *
 * Parsing is a single linear pass with a length cap: no regular-expression backtracking and
 * no BER decoding of `#hex` values (the cause of CVE-2023-25656 in the Go reference), so any
 * input returns a result or throws a {@link VouchError}.
 */
import { VouchError } from '@vouch/core';
import type { Certificate, DnAttribute } from './types.js';

/** Longest DN string accepted (characters); longer input is ERR_MALFORMED_INPUT. */
export const MAX_DN_LENGTH = 16 * 1024;

/** The prefix of X.509 subject trusted identities in a trust policy. */
export const X509_SUBJECT_PREFIX = 'x509.subject:';

/** Attribute types a trusted identity must contain (after `S` → `ST`). */
export const MANDATORY_IDENTITY_ATTRIBUTES: readonly string[] = ['C', 'ST', 'O'];

interface RawAttribute {
  type: string;
  value: string;
  /** Written as `#hex` (a BER-encoded value). */
  hex: boolean;
}

const DESCR = /^[A-Za-z][A-Za-z0-9-]*$/;
const NUMERICOID = /^(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+$/;
const HEX = /^[0-9A-Fa-f]$/;
/** Characters that may follow a backslash as themselves (RFC 4514 `escaped`, plus `=` and leading `#`/space). */
const ESCAPABLE = new Set([' ', '"', '#', '+', ',', ';', '<', '=', '>', '\\']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

function malformed(input: string, why: string): VouchError {
  const shown = input.length > 200 ? `${input.slice(0, 200)}…` : input;
  return new VouchError('ERR_MALFORMED_INPUT', `parsing distinguished name (DN) ${JSON.stringify(shown)} failed: ${why}`, {
    details: { reason: why },
  });
}

function parseRaw(input: string): RawAttribute[][] {
  if (typeof input !== 'string') throw new VouchError('ERR_INVALID_ARGUMENT', 'a distinguished name must be a string');
  if (input.length > MAX_DN_LENGTH) {
    throw new VouchError('ERR_MALFORMED_INPUT', `distinguished name is ${input.length} characters long; the limit is ${MAX_DN_LENGTH}`);
  }
  const n = input.length;
  let i = 0;
  const skipSpaces = () => {
    while (i < n && input[i] === ' ') i++;
  };
  skipSpaces();
  if (i === n) return [];

  const rdns: RawAttribute[][] = [];
  let rdn: RawAttribute[] = [];
  for (;;) {
    // attributeType
    skipSpaces();
    const typeStart = i;
    while (i < n && input[i] !== '=' && input[i] !== ',' && input[i] !== '+' && input[i] !== ';') i++;
    const type = input.slice(typeStart, i).trim();
    if (i === n || input[i] !== '=') {
      throw malformed(input, type === '' ? 'incomplete type, value pair' : `attribute type "${type}" has no "=value"`);
    }
    if (type === '') throw malformed(input, 'incomplete type, value pair');
    if (!DESCR.test(type) && !NUMERICOID.test(type)) {
      throw malformed(input, `invalid attribute type "${type}" (expected a name such as CN or a dotted OID)`);
    }
    i++; // '='
    skipSpaces();

    // attributeValue
    let value = '';
    let hex = false;
    if (i < n && input[i] === '#') {
      hex = true;
      const start = i + 1;
      i = start;
      while (i < n && HEX.test(input[i]!)) i++;
      const digits = input.slice(start, i);
      if (digits.length === 0 || digits.length % 2 !== 0) throw malformed(input, `attribute "${type}" has an invalid #hex value`);
      value = `#${digits}`;
      skipSpaces();
      if (i < n && input[i] !== ',' && input[i] !== '+' && input[i] !== ';') {
        throw malformed(input, `attribute "${type}" has an invalid #hex value`);
      }
    } else {
      let out = '';
      let pending: number[] = [];
      let trailingSpaces = 0;
      const flush = () => {
        if (pending.length === 0) return;
        try {
          out += utf8.decode(Uint8Array.from(pending));
        } catch {
          throw malformed(input, `attribute "${type}" has escaped bytes that are not valid UTF-8`);
        }
        pending = [];
      };
      while (i < n) {
        const c = input[i]!;
        if (c === ',' || c === '+' || c === ';') break;
        if (c === '\\') {
          const next = input[i + 1];
          if (next === undefined) throw malformed(input, 'got corrupted escaped character');
          if (ESCAPABLE.has(next)) {
            flush();
            out += next;
            i += 2;
          } else if (HEX.test(next) && i + 2 < n && HEX.test(input[i + 2]!)) {
            pending.push(Number.parseInt(input.slice(i + 1, i + 3), 16));
            i += 3;
          } else {
            throw malformed(input, `invalid escape sequence "\\${next}"`);
          }
          trailingSpaces = 0;
          continue;
        }
        flush();
        if (c === ' ') trailingSpaces++;
        else trailingSpaces = 0;
        out += c;
        i++;
      }
      flush();
      value = trailingSpaces > 0 ? out.slice(0, out.length - trailingSpaces) : out;
    }
    rdn.push({ type, value, hex });

    if (i === n) {
      rdns.push(rdn);
      return rdns;
    }
    const sep = input[i]!;
    i++;
    if (sep === ',' || sep === ';') {
      rdns.push(rdn);
      rdn = [];
    }
    skipSpaces();
    if (i === n) throw malformed(input, `DN ends with "${sep}" and no type, value pair after it`);
  }
}

/**
 * Parse an RFC 4514 distinguished name string into RDNs, in the order written (most specific
 * first, as in `CN=…,O=…,C=…`); each RDN holds one attribute, or several when joined with `+`.
 *
 * - Escapes: `\,` `\+` `\;` `\\` `\"` `\<` `\>` `\=` `\#` `\ ` and `\XX` hex pairs (UTF-8).
 * - Unescaped spaces around types, after `=` and at the end of a value are ignored (as
 *   notation's parser does, so `C=US, ST=WA` works); escaped ones are kept.
 * - `;` is accepted as an RDN separator (RFC 2253); unescaped `"`, `<`, `>` and `=` inside a
 *   value are accepted literally (notation accepts them too).
 * - A `#hex` value is checked (even number of hex digits) and returned verbatim, `#` included:
 *   it is never BER-decoded.
 * - The empty string is the empty DN (`[]`). A trailing separator, a missing `=`, an empty
 *   type or an invalid type (not a name or a dotted OID) is ERR_MALFORMED_INPUT.
 */
export function parseDistinguishedName(s: string): DnAttribute[][] {
  return parseRaw(s).map((rdn) => rdn.map(({ type, value }) => ({ type, value })));
}

/** A parsed `x509.subject:` trusted identity. */
export interface TrustedIdentity {
  /** The DN as written in the policy (after the prefix, trimmed). */
  readonly dn: string;
  /** Attribute type → value; `S` is stored as `ST`. Order-free. */
  readonly attributes: ReadonlyMap<string, string>;
}

function invalidIdentity(dn: string, why: string, cause?: unknown): VouchError {
  return new VouchError('ERR_TRUST_POLICY_INVALID', why, { cause, details: { identity: dn } });
}

/**
 * Parse the value of an `x509.subject:` trusted identity (with or without the
 * `x509.subject:` prefix; spaces after the colon are ignored) and apply notation's rules:
 *
 * - any `=#` (hex-encoded BER value) is rejected before parsing, and so is a `#hex` value
 *   written with spaces after `=` (notation would read that one as literal text — vouch is stricter);
 * - the DN must parse as RFC 4514 (see {@link parseDistinguishedName});
 * - multi-valued RDNs (`+`) are rejected;
 * - `S` is an alias of `ST`; an attribute type may appear only once;
 * - `C`, `ST` and `O` are mandatory and must not be empty.
 *
 * Attribute type names are compared case-sensitively, as notation does.
 * Throws ERR_TRUST_POLICY_INVALID with notation's wording.
 */
export function parseTrustedIdentity(value: string): TrustedIdentity {
  if (typeof value !== 'string') throw new VouchError('ERR_INVALID_ARGUMENT', 'a trusted identity must be a string');
  const dn = (value.startsWith(X509_SUBJECT_PREFIX) ? value.slice(X509_SUBJECT_PREFIX.length) : value).trim();
  const q = JSON.stringify(dn.length > 200 ? `${dn.slice(0, 200)}…` : dn);
  if (dn.includes('=#')) {
    throw invalidIdentity(
      dn,
      `unsupported distinguished name (DN) ${q}, notation does not support x509.subject identities containing "=#"`,
    );
  }
  let rdns: RawAttribute[][];
  try {
    rdns = parseRaw(dn);
  } catch (e) {
    const why = e instanceof VouchError && typeof e.details?.reason === 'string' ? e.details.reason : (e as Error).message;
    throw invalidIdentity(
      dn,
      `parsing distinguished name (DN) ${q} failed with err: ${why}. A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard`,
      e,
    );
  }
  const attributes = new Map<string, string>();
  for (const rdn of rdns) {
    if (rdn.length > 1) {
      throw invalidIdentity(
        dn,
        `distinguished name (DN) ${q} has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported`,
      );
    }
    const attr = rdn[0]!;
    if (attr.hex) {
      throw invalidIdentity(
        dn,
        `unsupported distinguished name (DN) ${q}, notation does not support x509.subject identities with "#" hex-encoded values`,
      );
    }
    const type = attr.type === 'S' ? 'ST' : attr.type;
    if (attributes.has(type)) {
      throw invalidIdentity(
        dn,
        `distinguished name (DN) ${q} has duplicate RDN attribute for ${JSON.stringify(type)}, DN can only have unique RDN attributes`,
      );
    }
    attributes.set(type, attr.value);
  }
  for (const field of MANDATORY_IDENTITY_ATTRIBUTES) {
    if (!attributes.get(field)) {
      throw invalidIdentity(
        dn,
        `distinguished name (DN) ${q} has no mandatory RDN attribute for ${JSON.stringify(field)}, it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum`,
      );
    }
  }
  return Object.freeze({ dn, attributes });
}

/** Leaf-subject attribute types notation can match, by every name vouch may use for them. */
const MATCHABLE_TYPES: ReadonlyMap<string, string> = new Map([
  ['CN', 'CN'],
  ['2.5.4.3', 'CN'],
  ['SERIALNUMBER', 'SERIALNUMBER'],
  ['2.5.4.5', 'SERIALNUMBER'],
  ['C', 'C'],
  ['2.5.4.6', 'C'],
  ['L', 'L'],
  ['2.5.4.7', 'L'],
  ['ST', 'ST'],
  ['S', 'ST'],
  ['2.5.4.8', 'ST'],
  ['STREET', 'STREET'],
  ['2.5.4.9', 'STREET'],
  ['O', 'O'],
  ['2.5.4.10', 'O'],
  ['OU', 'OU'],
  ['2.5.4.11', 'OU'],
  ['POSTALCODE', 'POSTALCODE'],
  ['2.5.4.17', 'POSTALCODE'],
]);

type SubjectInput = string | readonly (readonly DnAttribute[])[] | Pick<Certificate, 'subjectRdns'>;

function untrustedSubject(why: string): VouchError {
  return new VouchError('ERR_IDENTITY_UNTRUSTED', `error while parsing the certificate subject from the digital signature: ${why}`);
}

/**
 * The attribute map of a signing certificate's subject, checked as notation checks it before
 * matching trusted identities. Throws ERR_IDENTITY_UNTRUSTED when the subject cannot be used:
 *
 * - an attribute type other than CN, O, OU, L, ST, C, STREET, POSTALCODE, SERIALNUMBER
 *   (notation renders those as `OID=#hex`, which its `=#` guard rejects; such certificates
 *   can only be trusted with the `*` identity);
 * - a value containing `=#` (same guard);
 * - an attribute type present twice (e.g. two OUs);
 * - a missing or empty C, ST or O.
 *
 * Multi-valued RDNs are flattened (notation's certificate model does the same).
 * A string subject is parsed with {@link parseDistinguishedName} first.
 */
export function subjectAttributes(subject: SubjectInput): ReadonlyMap<string, string> {
  let rdns: readonly (readonly DnAttribute[])[];
  if (typeof subject === 'string') {
    if (subject.includes('=#')) throw untrustedSubject(`subject ${JSON.stringify(subject)} contains "=#"`);
    try {
      rdns = parseDistinguishedName(subject);
    } catch (e) {
      throw new VouchError(
        'ERR_IDENTITY_UNTRUSTED',
        `error while parsing the certificate subject from the digital signature: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  } else if (Array.isArray(subject)) {
    rdns = subject as readonly (readonly DnAttribute[])[];
  } else if (subject && typeof subject === 'object' && Array.isArray((subject as Pick<Certificate, 'subjectRdns'>).subjectRdns)) {
    rdns = (subject as Pick<Certificate, 'subjectRdns'>).subjectRdns;
  } else {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'subject must be a DN string, an RDN array or a certificate');
  }
  const out = new Map<string, string>();
  for (const rdn of rdns) {
    for (const attr of rdn) {
      const type = MATCHABLE_TYPES.get(attr.type);
      if (type === undefined) {
        throw untrustedSubject(
          `attribute ${JSON.stringify(attr.type)} cannot be matched against x509.subject identities (only CN, O, OU, L, ST, C, STREET, POSTALCODE and SERIALNUMBER can); trust this signer with the "*" identity instead`,
        );
      }
      if (attr.value.includes('=#')) throw untrustedSubject(`attribute ${type} value ${JSON.stringify(attr.value)} contains "=#"`);
      if (out.has(type)) throw untrustedSubject(`the subject has more than one ${type} attribute, so it cannot be matched`);
      out.set(type, attr.value);
    }
  }
  for (const field of MANDATORY_IDENTITY_ATTRIBUTES) {
    if (!out.get(field)) {
      throw untrustedSubject(`the subject has no ${field} attribute; x509.subject identities need C, ST and O in the signing certificate`);
    }
  }
  return out;
}

/**
 * True when every attribute of `identity` is present with an equal value (exact,
 * case-sensitive) in the certificate subject; order is irrelevant and extra subject attributes
 * are fine. `identity` may be a parsed identity or an `x509.subject:` string (parsed with
 * {@link parseTrustedIdentity}, throwing ERR_TRUST_POLICY_INVALID when bad). Throws
 * ERR_IDENTITY_UNTRUSTED when the subject cannot be matched at all (see {@link subjectAttributes}).
 */
export function matchesTrustedIdentity(identity: TrustedIdentity | string, subject: SubjectInput): boolean {
  const id = typeof identity === 'string' ? parseTrustedIdentity(identity) : identity;
  const leaf = subjectAttributes(subject);
  return isAttributeSubset(id.attributes, leaf);
}

/** True when every (type, value) of `a` is in `b` (an identity's attributes against a subject's: {@link subjectAttributes}). */
export function isAttributeSubset(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/**
 * True when one identity's attributes are a subset of the other's (equal identities overlap
 * too). A trust policy statement with overlapping identities is invalid.
 */
export function trustedIdentitiesOverlap(a: TrustedIdentity, b: TrustedIdentity): boolean {
  return isAttributeSubset(a.attributes, b.attributes) || isAttributeSubset(b.attributes, a.attributes);
}
