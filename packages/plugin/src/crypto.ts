import { VouchError } from '@vouch/core';
import {
  type HashAlgorithm,
  hashAlgorithmOf,
  type KeySpec,
  keySpecInfo,
  type SigningAlgorithm,
  signingAlgorithmForKeySpec,
} from './constants.js';
import type { GenerateSignatureRequest, GenerateSignatureResponse } from './types.js';

/*
 * Just enough DER to find a certificate's SubjectPublicKeyInfo and describe its key, so that
 * this L1 package can check a plugin's raw signature with WebCrypto without depending on
 * @vouch/x509 (same layer). Full certificate parsing and chain validation are @vouch/x509's.
 */

interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  body: number;
  /** Offset just past the content. */
  end: number;
}

function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new Error('truncated DER');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('multi-byte DER tags are not expected here');
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    if (p + n > limit) throw new Error('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > limit) throw new Error('DER element runs past its container');
  return { tag, start: offset, body: p, end: p + len };
}

function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.body; p < parent.end; ) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

const OID_RSA = '2a864886f70d010101';
const OID_EC = '2a8648ce3d0201';
const CURVES: Record<string, 'P-256' | 'P-384' | 'P-521'> = {
  '2a8648ce3d030107': 'P-256',
  '2b81040022': 'P-384',
  '2b81040023': 'P-521',
};

function hex(buf: Uint8Array, t: Tlv): string {
  let s = '';
  for (let i = t.body; i < t.end; i++) s += buf[i]!.toString(16).padStart(2, '0');
  return s;
}

/** The public key of a certificate, as far as the plugin contract cares. */
export interface CertificateKey {
  type: 'RSA' | 'EC';
  /** RSA modulus bits, or the EC field size (256, 384, 521). */
  bits: number;
  curve?: 'P-256' | 'P-384' | 'P-521';
  /** DER SubjectPublicKeyInfo, importable with WebCrypto `importKey('spki', …)`. */
  spki: Uint8Array;
}

/**
 * Find the SubjectPublicKeyInfo of a DER X.509 certificate and describe the key (RSA or EC
 * P-256/384/521). Throws VouchError `ERR_CERT_INVALID` when the bytes are not a certificate
 * or the key type is not one the Notary specification allows.
 */
export function certificateKey(der: Uint8Array): CertificateKey {
  try {
    const cert = readTlv(der, 0);
    if (cert.tag !== 0x30 || cert.end !== der.length) throw new Error('not a single DER SEQUENCE');
    const [tbs] = children(der, cert);
    if (tbs?.tag !== 0x30) throw new Error('no tbsCertificate');
    const fields = children(der, tbs);
    const i = fields[0]?.tag === 0xa0 ? 1 : 0; // optional [0] version
    const spkiTlv = fields[i + 5];
    if (spkiTlv?.tag !== 0x30) throw new Error('no subjectPublicKeyInfo');
    const spki = der.slice(spkiTlv.start, spkiTlv.end);
    const [algId, bits] = children(der, spkiTlv);
    if (algId?.tag !== 0x30 || !bits || bits.tag !== 0x03) throw new Error('malformed subjectPublicKeyInfo');
    const [oid, params] = children(der, algId);
    if (oid?.tag !== 0x06) throw new Error('malformed algorithm identifier');
    const alg = hex(der, oid);
    if (alg === OID_RSA) {
      const rsaKey = readTlv(der, bits.body + 1, bits.end);
      const [n] = children(der, rsaKey);
      if (n?.tag !== 0x02) throw new Error('malformed RSA public key');
      let p = n.body;
      while (p < n.end && der[p] === 0) p++;
      const size = p === n.end ? 0 : (n.end - p - 1) * 8 + (32 - Math.clz32(der[p]!));
      return { type: 'RSA', bits: size, spki };
    }
    if (alg === OID_EC) {
      const curve = params && params.tag === 0x06 ? CURVES[hex(der, params)] : undefined;
      if (!curve) throw new Error('EC key on a curve other than P-256, P-384 or P-521');
      return { type: 'EC', bits: curve === 'P-521' ? 521 : Number(curve.slice(2)), curve, spki };
    }
    throw new Error(`public key algorithm ${alg} is neither RSA nor EC`);
  } catch (e) {
    throw new VouchError('ERR_CERT_INVALID', `cannot read the public key of the certificate: ${(e as Error).message}`, { cause: e });
  }
}

/** The key spec of a certificate's key (`RSA-3072`, `EC-256`, …), or undefined when the contract has none for it. */
export function keySpecOfCertificate(der: Uint8Array): KeySpec | undefined {
  const k = certificateKey(der);
  const spec = `${k.type}-${k.bits}`;
  return (['RSA-2048', 'RSA-3072', 'RSA-4096', 'EC-256', 'EC-384', 'EC-521'] as const).find((s) => s === spec);
}

const HASH_LEN: Record<HashAlgorithm, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

/**
 * Verify a raw signature (RSASSA-PSS with salt = hash length, or ECDSA `r||s`) over `payload`
 * with the public key of a DER certificate, using WebCrypto. Resolves false when it does not
 * verify; throws `ERR_CERT_INVALID` when the key cannot be used with `signingAlgorithm`.
 */
export async function verifyRawSignature(input: {
  payload: Uint8Array;
  signature: Uint8Array;
  signingAlgorithm: SigningAlgorithm;
  certificate: Uint8Array;
}): Promise<boolean> {
  const key = certificateKey(input.certificate);
  const hash = hashAlgorithmOf(input.signingAlgorithm);
  const rsa = input.signingAlgorithm.startsWith('RSASSA-PSS');
  if (rsa !== (key.type === 'RSA')) {
    throw new VouchError('ERR_CERT_INVALID', `a ${key.type} key cannot verify a ${input.signingAlgorithm} signature`);
  }
  let pub: CryptoKey;
  try {
    pub = await globalThis.crypto.subtle.importKey(
      'spki',
      new Uint8Array(key.spki),
      rsa ? { name: 'RSA-PSS', hash } : { name: 'ECDSA', namedCurve: key.curve! },
      false,
      ['verify'],
    );
  } catch (e) {
    throw new VouchError('ERR_CERT_INVALID', `WebCrypto rejected the certificate's ${key.type} key: ${(e as Error).message}`, { cause: e });
  }
  try {
    return await globalThis.crypto.subtle.verify(
      rsa ? { name: 'RSA-PSS', saltLength: HASH_LEN[hash] } : { name: 'ECDSA', hash },
      pub,
      new Uint8Array(input.signature),
      new Uint8Array(input.payload),
    );
  } catch {
    return false;
  }
}

function lie(message: string, check: string): VouchError {
  return new VouchError('ERR_PLUGIN_PROTOCOL', message, { details: { check } });
}

/**
 * The checks the spec puts on the caller of `generate-signature` (RAW), except certificate
 * chain validation (the caller does that with @vouch/x509 and the signing time):
 *  - `keyId` echoes the request;
 *  - `signingAlgorithm` is the one the requested key spec implies (RSA-3072 → RSASSA-PSS-SHA-384 …)
 *    and uses the requested `hashAlgorithm`;
 *  - the leaf certificate's key has the requested key spec;
 *  - the signature verifies over the payload with the leaf's key.
 * Throws VouchError `ERR_PLUGIN_PROTOCOL` with `details.check` naming the failed check
 * (`keyId`, `signingAlgorithm`, `hashAlgorithm`, `keySpec`, `certificate`, `signature`).
 */
export async function verifyGenerateSignatureResponse(
  request: GenerateSignatureRequest,
  response: GenerateSignatureResponse,
): Promise<void> {
  if (response.keyId !== request.keyId) {
    throw lie(`the plugin signed with key "${response.keyId}" but "${request.keyId}" was requested`, 'keyId');
  }
  const expected = signingAlgorithmForKeySpec(request.keySpec);
  if (response.signingAlgorithm !== expected) {
    throw lie(
      `the plugin reports signing algorithm ${response.signingAlgorithm}, but key spec ${request.keySpec} requires ${expected}`,
      'signingAlgorithm',
    );
  }
  if (hashAlgorithmOf(response.signingAlgorithm) !== request.hashAlgorithm) {
    throw lie(`the plugin signed with ${response.signingAlgorithm} but hash ${request.hashAlgorithm} was requested`, 'hashAlgorithm');
  }
  const leaf = response.certificateChain[0];
  if (!leaf) throw lie('the plugin returned an empty certificate chain', 'certificate');
  let leafKey: CertificateKey;
  try {
    leafKey = certificateKey(leaf);
  } catch (e) {
    throw new VouchError('ERR_PLUGIN_PROTOCOL', `the plugin's leaf certificate is unusable: ${(e as Error).message}`, {
      cause: e,
      details: { check: 'certificate' },
    });
  }
  const want = keySpecInfo(request.keySpec);
  if (leafKey.type !== want.type || leafKey.bits !== want.bits) {
    throw lie(
      `the plugin's leaf certificate holds a ${leafKey.type}-${leafKey.bits} key, but key spec ${request.keySpec} was requested`,
      'keySpec',
    );
  }
  const ok = await verifyRawSignature({
    payload: request.payload,
    signature: response.signature,
    signingAlgorithm: response.signingAlgorithm,
    certificate: leaf,
  });
  if (!ok) {
    throw lie(
      `the signature returned by the plugin does not verify over the payload with the key of its leaf certificate (${response.signingAlgorithm}); the certificate does not belong to the signing key`,
      'signature',
    );
  }
}
