import { bytesEqual, toHex } from '@vouch/core/internal';
import type { ParsedEnvelope } from '@vouch/envelope';
import { nodeHasher } from '@vouch/node';
import type { Certificate } from '@vouch/x509';
import { parseTimestampToken, type TimestampToken } from '@vouch/x509/tsp';
import { formatAnsic, formatRfc3339 } from './time.js';
import { add, addPair, type TreeNode } from './tree.js';

// Pieces of notation's signature display shared by `vouch inspect` and `vouch blob inspect`.

/** notation's display names of the signature algorithms. */
export const ALGORITHM_NAMES: Readonly<Record<string, string>> = {
  PS256: 'RSASSA-PSS-SHA-256',
  PS384: 'RSASSA-PSS-SHA-384',
  PS512: 'RSASSA-PSS-SHA-512',
  ES256: 'ECDSA-SHA-256',
  ES384: 'ECDSA-SHA-384',
  ES512: 'ECDSA-SHA-512',
};

const DIGEST_OF: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = {
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

/** What inspect shows of the timestamp countersignature: the token, or why it is unusable. */
export interface TimestampView {
  token?: TimestampToken;
  error?: string;
}

/** Parse the countersignature and check that its message imprint covers this signature (as notation does before showing it). */
export async function readTimestamp(env: ParsedEnvelope): Promise<TimestampView | undefined> {
  const bytes = env.unsignedAttributes.timestampSignature;
  if (!bytes) return undefined;
  try {
    const token = await parseTimestampToken(bytes);
    const alg = DIGEST_OF[token.hashAlgorithm];
    if (!alg) return { error: `failed to parse timestamp countersignature: unsupported hash algorithm ${token.hashAlgorithm}` };
    if (!bytesEqual(nodeHasher(alg).update(env.signature).digest(), token.messageImprint)) {
      return { error: 'failed to parse timestamp countersignature: invalid TSTInfo: mismatched message' };
    }
    return { token };
  } catch (e) {
    return { error: `failed to parse timestamp countersignature: ${(e as Error).message}` };
  }
}

/** An extended signed attribute's value as text. */
export function attributeValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return toHex(v);
  return JSON.stringify(v) ?? String(v);
}

/** The `certificates` subtree (fingerprint, subject, issuer, expiry per certificate). */
export function addCertificates(parent: TreeNode, chain: readonly Certificate[]): void {
  const certs = add(parent, 'certificates');
  for (const c of chain) {
    const cn = addPair(certs, 'SHA256 fingerprint', c.sha256Fingerprint);
    addPair(cn, 'issued to', c.subject);
    addPair(cn, 'issued by', c.issuer);
    addPair(cn, 'expiry', formatAnsic(c.notAfter));
  }
}

/** A certificate in inspect's JSON shape. */
export function certJson(c: Certificate): Record<string, string> {
  return { SHA256Fingerprint: c.sha256Fingerprint, issuedTo: c.subject, issuedBy: c.issuer, expiry: formatRfc3339(c.notAfter) };
}

/** Go's RFC 3339 with nanoseconds (as `time.Time` marshals to JSON): fractional seconds without trailing zeros. */
export function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d+)Z$/, (_m, frac: string) => {
    const f = frac.replace(/0+$/, '');
    return f ? `.${f}Z` : 'Z';
  });
}

/** An object with its entries sorted by key (Go prints maps sorted). */
export function sortedObject(entries: [string, unknown][]): Record<string, unknown> {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
