/**
 * `@vouch/core/asn1`: the one ASN.1 reader and writer of vouch, used for certificates, keys,
 * CMS/RFC 3161 timestamps, OCSP, CRLs and plugin certificates.
 *
 * - Reading is strict DER unless the caller asks for BER (`decode(bytes, { encoding: 'ber' })`,
 *   for RFC 3161 tokens): DER refuses indefinite and non-minimal lengths, non-minimal tags and
 *   INTEGERs, BOOLEANs other than 0x00/0xff, non-zero BIT STRING padding and constructed strings.
 * - Writing is always DER.
 * - Errors are {@link Asn1Error}; callers turn them into a `VouchError` with their own code.
 *
 * For vouch's own packages: this subpath is not part of the public API and may change in any
 * release.
 *
 * @packageDocumentation
 */
export {
  type Asn1DecodeOptions,
  type Asn1Encoding,
  Asn1Error,
  type Asn1Node,
  type ContextNode,
  decode,
  expectTag,
  intHex,
  isContext,
  MAX_DEPTH,
  readBitString,
  readBoolean,
  readInteger,
  readOctets,
  readOid,
  readSmallInt,
  readTime,
  readTlv,
  seq,
  stringContent,
  TAG,
} from './reader.js';
export { contextTag, encBitString, encBool, encInt, encNull, encOctets, encOid, encSeq, encSet, encTime, tlv } from './writer.js';
