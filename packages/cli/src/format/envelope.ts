import { bytesEqual, toHex } from '@vouch/core/internal';
import type { ParsedEnvelope } from '@vouch/envelope';
import { nodeHasher } from '@vouch/node';
import type { Certificate } from '@vouch/x509';
import { parseTimestampToken, type TimestampToken, timestampRange } from '@vouch/x509/tsp';
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

/** Entries sorted by key, in place (Go prints maps sorted). */
export function sortedEntries<T>(entries: [string, T][]): [string, T][] {
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** An object with its entries sorted by key (Go prints maps sorted). */
export function sortedObject(entries: [string, unknown][]): Record<string, unknown> {
  return Object.fromEntries(sortedEntries(entries));
}

/** The user-defined attributes (the payload's annotations), sorted by key; empty when there are none. */
function userAttributes(env: ParsedEnvelope): [string, string][] {
  return sortedEntries(Object.entries(env.payload.targetArtifact.annotations ?? {}));
}

/** The `user defined attributes` subtree, `(empty)` when there are none. */
function addUserAttributes(parent: TreeNode, env: ParsedEnvelope): void {
  const user = add(parent, 'user defined attributes');
  const annotations = userAttributes(env);
  if (annotations.length === 0) add(user, '(empty)');
  for (const [k, v] of annotations) addPair(user, k, v);
}

/** The `timestamp signature` subtree: the TSA's time range and certificates, or why the token is unusable. */
function addTimestamp(parent: TreeNode, ts: TimestampView): void {
  const tsNode = add(parent, 'timestamp signature');
  if (ts.token) {
    const { earliest, latest } = timestampRange(ts.token);
    addPair(tsNode, 'timestamp', `[${formatAnsic(earliest)}, ${formatAnsic(latest)}]`);
    addCertificates(tsNode, ts.token.certificates);
  } else {
    addPair(tsNode, 'error', ts.error ?? 'unknown error');
  }
}

/** The subtrees that end a signature's tree: its certificates and the signed artifact. */
function addChainAndArtifact(parent: TreeNode, env: ParsedEnvelope): void {
  addCertificates(parent, env.certificateChain);
  const artifact = add(parent, 'signed artifact');
  const t = env.payload.targetArtifact;
  addPair(artifact, 'media type', t.mediaType);
  addPair(artifact, 'digest', t.digest);
  addPair(artifact, 'size', String(t.size));
}

/** The `unsignedAttributes` of inspect's JSON: the signing agent and the timestamp (its range formatted by `time`). */
function unsignedJson(env: ParsedEnvelope, ts: TimestampView | undefined, time: (d: Date) => string): Record<string, unknown> {
  const unsigned: Record<string, unknown> = {};
  if (env.unsignedAttributes.signingAgent) unsigned.signingAgent = env.unsignedAttributes.signingAgent;
  if (ts?.token) {
    const { earliest, latest } = timestampRange(ts.token);
    unsigned.timestampSignature = { timestamp: `[${time(earliest)}, ${time(latest)}]`, certificates: ts.token.certificates.map(certJson) };
  } else if (ts?.error) {
    unsigned.timestampSignature = { error: ts.error };
  }
  return unsigned;
}

/** The `signedArtifact` of inspect's JSON. */
function signedArtifactJson(env: ParsedEnvelope): { mediaType: string; digest: string; size: number } {
  const t = env.payload.targetArtifact;
  return { mediaType: t.mediaType, digest: t.digest, size: t.size };
}

/** Where the two inspect commands differ in the part of the tree they share. */
export interface SignatureTailStyle {
  /** The label of the signing agent: `signing agent` (blob inspect) or `signingAgent` (inspect). */
  agentLabel: string;
  /** Show `(empty)` under the unsigned attributes when there are none (inspect). */
  markEmptyUnsigned: boolean;
}

/**
 * The subtrees after the signed attributes, as notation's `inspect` and `blob inspect` print them:
 * user defined attributes, unsigned attributes (signing agent, timestamp), certificates, signed artifact.
 */
export function addSignatureTail(parent: TreeNode, env: ParsedEnvelope, ts: TimestampView | undefined, style: SignatureTailStyle): void {
  addUserAttributes(parent, env);
  const unsigned = add(parent, 'unsigned attributes');
  if (env.unsignedAttributes.signingAgent) addPair(unsigned, style.agentLabel, env.unsignedAttributes.signingAgent);
  if (ts) addTimestamp(unsigned, ts);
  if (style.markEmptyUnsigned && unsigned.children.length === 0) add(unsigned, '(empty)');
  addChainAndArtifact(parent, env);
}

/** The members after `signedAttributes` in both inspect JSON documents, in notation's order (timestamp range formatted by `time`). */
export function signatureJsonTail(env: ParsedEnvelope, ts: TimestampView | undefined, time: (d: Date) => string): Record<string, unknown> {
  const annotations = userAttributes(env);
  return {
    userDefinedAttributes: annotations.length > 0 ? Object.fromEntries(annotations) : null,
    unsignedAttributes: unsignedJson(env, ts, time),
    certificates: env.certificateChain.map(certJson),
    signedArtifact: signedArtifactJson(env),
  };
}
