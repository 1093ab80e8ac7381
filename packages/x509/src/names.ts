/**
 * X.501 Name decoding, rendering the way Go's `pkix.Name.String()` does (notation prints
 * subjects that way in every message and trusted-identity comparison), and encoding for the
 * certificate builder. Internal module.
 */
import { Asn1Error, type Asn1Node, encOid, encSeq, encSet, expectTag, readOid, TAG, tlv } from '@vouch/core/asn1';
import type { DnAttribute } from './types.js';

/** The attribute types Go's pkix package knows by short name; everything else prints as `OID=#hex`. */
export const ATTRIBUTE_SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.17': 'POSTALCODE',
};

const SHORT_TO_OID: Record<string, string> = Object.fromEntries(Object.entries(ATTRIBUTE_SHORT_NAMES).map(([oid, name]) => [name, oid]));
SHORT_TO_OID.S = '2.5.4.8';

/** A decoded attribute with what is needed to render it like Go. */
export interface ParsedAttribute extends DnAttribute {
  oid: string;
}

function ascii(b: Uint8Array, what: string): string {
  let s = '';
  for (const c of b) {
    if (c > 0x7f) throw new Asn1Error(`${what} holds a non-ASCII byte`);
    s += String.fromCharCode(c);
  }
  return s;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Decode an attribute value of one of the string types Go's x509 parser accepts. */
export function decodeDirectoryString(t: Asn1Node): string {
  switch (t.tag) {
    case TAG.PRINTABLE_STRING:
      return ascii(t.value, 'PrintableString');
    case TAG.IA5_STRING:
      return ascii(t.value, 'IA5String');
    case TAG.NUMERIC_STRING:
      return ascii(t.value, 'NumericString');
    case TAG.VISIBLE_STRING:
      return ascii(t.value, 'VisibleString');
    case TAG.T61_STRING: {
      let s = '';
      for (const c of t.value) s += String.fromCharCode(c);
      return s;
    }
    case TAG.UTF8_STRING:
      try {
        return utf8Decoder.decode(t.value);
      } catch {
        throw new Asn1Error('UTF8String is not valid UTF-8');
      }
    case TAG.BMP_STRING: {
      if (t.value.length % 2 !== 0) throw new Asn1Error('BMPString has an odd length');
      let s = '';
      for (let i = 0; i < t.value.length; i += 2) s += String.fromCharCode((t.value[i]! << 8) | t.value[i + 1]!);
      return s;
    }
    default:
      throw new Asn1Error(`unsupported attribute value type (tag 0x${t.raw[0]!.toString(16)})`);
  }
}

/** Parse a Name (SEQUENCE OF SET OF AttributeTypeAndValue) into RDNs in certificate order. */
export function parseName(t: Asn1Node): ParsedAttribute[][] {
  const rdns: ParsedAttribute[][] = [];
  for (const set of expectTag(t, TAG.SEQUENCE, 'Name').children) {
    expectTag(set, TAG.SET, 'RelativeDistinguishedName');
    const rdn: ParsedAttribute[] = [];
    for (const atv of set.children) {
      const [type, value, extra] = expectTag(atv, TAG.SEQUENCE, 'AttributeTypeAndValue').children;
      if (!type || !value || extra) throw new Asn1Error('AttributeTypeAndValue must hold a type and a value');
      const oid = readOid(type, 'AttributeType');
      rdn.push({ oid, type: ATTRIBUTE_SHORT_NAMES[oid] ?? oid, value: decodeDirectoryString(value) });
    }
    if (rdn.length > 0) rdns.push(rdn);
  }
  return rdns;
}

function isPrintableChar(c: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]$/.test(c);
}

function isPrintableString(s: string): boolean {
  for (const c of s) if (!isPrintableChar(c)) return false;
  return true;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** The DER Go's asn1.Marshal produces for a plain string: PrintableString when possible, else UTF8String. */
function goMarshalString(s: string): Uint8Array {
  if (isPrintableString(s))
    return tlv(
      TAG.PRINTABLE_STRING,
      Uint8Array.from(s, (c) => c.charCodeAt(0)),
    );
  return tlv(TAG.UTF8_STRING, new TextEncoder().encode(s));
}

/** Escape a value as Go's RDNSequence.String() does. */
export function escapeGoValue(value: string): string {
  let out = '';
  const chars = [...value];
  let byteLen = 0;
  for (const c of chars) byteLen += utf8Length(c);
  let k = 0;
  for (const c of chars) {
    let esc = false;
    if (',+"\\<>;'.includes(c)) esc = true;
    else if (c === ' ') esc = k === 0 || k === byteLen - 1;
    else if (c === '#') esc = k === 0;
    out += esc ? `\\${c}` : c;
    k += utf8Length(c);
  }
  return out;
}

/** UTF-8 length of one code point (as a string from the string iterator). */
function utf8Length(c: string): number {
  const cp = c.codePointAt(0)!;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

function renderAttribute(a: ParsedAttribute): string {
  const short = ATTRIBUTE_SHORT_NAMES[a.oid];
  if (!short) return `${a.oid}=#${hex(goMarshalString(a.value))}`;
  return `${short}=${escapeGoValue(a.value)}`;
}

const STANDARD_ORDER = ['2.5.4.6', '2.5.4.8', '2.5.4.7', '2.5.4.9', '2.5.4.17', '2.5.4.10', '2.5.4.11'];

/**
 * Render RDNs exactly like Go's `pkix.Name.String()` for a parsed certificate name:
 * known attributes regrouped in Go's fixed order (SERIALNUMBER, CN, OU, O, POSTALCODE,
 * STREET, L, ST, C when printed), repeated values of one type joined with `+`, only the
 * last CN and SERIALNUMBER kept, and unknown attribute types appended as `OID=#hex`.
 */
export function formatGoName(rdns: readonly (readonly ParsedAttribute[])[]): string {
  const flat = rdns.flat();
  const seqn: ParsedAttribute[][] = [];
  for (const a of flat) if (!ATTRIBUTE_SHORT_NAMES[a.oid]) seqn.push([a]);
  for (const oid of STANDARD_ORDER) {
    const group = flat.filter((a) => a.oid === oid);
    if (group.length > 0) seqn.push(group);
  }
  for (const oid of ['2.5.4.3', '2.5.4.5']) {
    const last = flat.filter((a) => a.oid === oid).at(-1);
    if (last && last.value.length > 0) seqn.push([last]);
  }
  return seqn
    .reverse()
    .map((rdn) => rdn.map(renderAttribute).join('+'))
    .join(',');
}

// ---------------------------------------------------------------- encoding (builder)

/** Split an RFC 4514 string (`CN=a,O=b\, Inc.,C=US`) into attributes, most specific first. */
export function parseSimpleDn(dn: string): DnAttribute[] {
  const out: DnAttribute[] = [];
  let cur = '';
  const parts: string[] = [];
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) {
      cur += c + dn[i + 1];
      i++;
    } else if (c === ',') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '' || parts.length > 0) parts.push(cur);
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Asn1Error(`"${p}" is not TYPE=VALUE`);
    const type = p.slice(0, eq).trim();
    const raw = p.slice(eq + 1).trim();
    out.push({ type, value: raw.replace(/\\(.)/g, '$1') });
  }
  return out;
}

/** Encode attributes given most specific first (RFC 4514 order) as a DER Name. */
export function encodeName(attrs: readonly DnAttribute[]): Uint8Array {
  const rdns: Uint8Array[] = [];
  for (const a of [...attrs].reverse()) {
    const oid = SHORT_TO_OID[a.type.toUpperCase()] ?? (/^\d+(\.\d+)+$/.test(a.type) ? a.type : undefined);
    if (!oid) throw new Asn1Error(`unknown attribute type "${a.type}"`);
    if ((oid === '2.5.4.6' || oid === '2.5.4.5') && !isPrintableString(a.value)) {
      throw new Asn1Error(`${a.type} must be a PrintableString`);
    }
    rdns.push(encSet(encSeq(encOid(oid), goMarshalString(a.value))));
  }
  return encSeq(...rdns);
}
