/**
 * Just enough DER to take a certificate apart and put it back together, for the bad-profile
 * certificates @vouch/x509's builder cannot make on purpose (an unsupported curve, a SHA-1
 * signature, a wrong issuer name with a valid signature). Independent of the package's own
 * encoder so the vectors do not share its bugs.
 */

export interface Tlv {
  tag: number;
  /** Whole element (header + content). */
  raw: Uint8Array;
  content: Uint8Array;
}

export function readTlv(b: Uint8Array, off = 0): Tlv {
  const tag = b[off]!;
  let len = b[off + 1]!;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[off + 2 + i]!;
    hdr += n;
  }
  return { tag, raw: b.subarray(off, off + hdr + len), content: b.subarray(off + hdr, off + hdr + len) };
}

export function children(content: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let off = 0; off < content.length; ) {
    const t = readTlv(content, off);
    out.push(t);
    off += t.raw.length;
  }
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(...content);
  const n = body.length;
  let head: number[];
  if (n < 0x80) head = [tag, n];
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    head = [tag, 0x80 | bytes.length, ...bytes];
  }
  return concat(Uint8Array.from(head), body);
}

export const seq = (...items: Uint8Array[]) => tlv(0x30, ...items);

const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (h) => Number.parseInt(h, 16));

/** AlgorithmIdentifier DER of the certificate signature algorithms the generator writes. */
export const ALGORITHM_ID = {
  sha1WithRSA: hex('300d06092a864886f70d0101050500'),
  sha256WithRSA: hex('300d06092a864886f70d01010b0500'),
  ecdsaWithSHA256: hex('300a06082a8648ce3d040302'),
} as const;

/** The parts of a certificate: TBS fields (raw elements), signature algorithm and signature value. */
export function certificateFields(der: Uint8Array): { tbsFields: Uint8Array[]; sigAlg: Uint8Array; signature: Uint8Array } {
  const [tbs, sigAlg, sig] = children(readTlv(der).content);
  return { tbsFields: children(tbs!.content).map((t) => t.raw), sigAlg: sigAlg!.raw, signature: sig!.content.subarray(1) };
}

/** Index of TBSCertificate fields (v3 certificates, version present). */
export const TBS = { version: 0, serial: 1, signature: 2, issuer: 3, validity: 4, subject: 5, spki: 6, extensions: 7 } as const;

/** Subject Name DER of a certificate (to use as another certificate's issuer). */
export function subjectName(der: Uint8Array): Uint8Array {
  return certificateFields(der).tbsFields[TBS.subject]!;
}

/**
 * Rebuild `der` with some TBS fields replaced and sign it again with `sign` (which returns the
 * signature value bytes as they go into the BIT STRING, e.g. DER for ECDSA).
 */
export async function resign(
  der: Uint8Array,
  opts: { replace?: Partial<Record<keyof typeof TBS, Uint8Array>>; sigAlg?: Uint8Array; sign: (tbs: Uint8Array) => Promise<Uint8Array> },
): Promise<Uint8Array> {
  const { tbsFields, sigAlg } = certificateFields(der);
  const alg = opts.sigAlg ?? sigAlg;
  const fields = [...tbsFields];
  fields[TBS.signature] = alg;
  for (const [k, v] of Object.entries(opts.replace ?? {})) fields[TBS[k as keyof typeof TBS]] = v!;
  const tbs = seq(...fields);
  const sig = await opts.sign(tbs);
  return seq(tbs, alg, tlv(0x03, new Uint8Array([0]), sig));
}

/** A copy of `der` with the last byte of the signature value flipped (the signature no longer verifies). */
export function corruptSignature(der: Uint8Array): Uint8Array {
  const out = der.slice();
  out[out.length - 1]! ^= 0x01;
  return out;
}
