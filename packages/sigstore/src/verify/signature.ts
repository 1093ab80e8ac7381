/**
 * Integrity and binding: the signature verifies over the signed bytes with the signer's key, and
 * the signed bytes describe the artifact (a message's digest, an in-toto subject).
 */

import { type DigestAlgorithm, type ParsedDigest, parseDigest, VouchError } from '@vouch/core';
import { bytesEqual, hashBytes } from '@vouch/core/internal';
import { IN_TOTO_PAYLOAD_TYPE, parseInTotoStatement, preAuthEncoding } from '../dsse.js';
import { verifyWithKey } from '../internal/keys.js';
import type { InTotoStatement, SigstorePublicKey } from '../types.js';
import type { SignedEntity } from './entity.js';

/** What the signature was checked over. */
export interface SignedBytes {
  /** The signature that verified. */
  readonly signature: Uint8Array;
  /** The bytes it covers (the message, or the DSSE PAE). */
  readonly data: Uint8Array;
}

/** The signed bytes and signature(s) of an entity, before any check. */
export function signedBytesOf(entity: SignedEntity): { data: Uint8Array | undefined; signatures: Uint8Array[] } {
  const c = entity.content;
  if (c.type === 'message') return { data: c.data, signatures: [c.signature] };
  return { data: preAuthEncoding(c.envelope.payloadType, c.envelope.payload), signatures: c.envelope.signatures.map((s) => s.sig) };
}

/**
 * Find which of `keys` made a signature of `entity`. Throws ERR_SIGNATURE_INTEGRITY when none
 * does, ERR_INVALID_ARGUMENT when a message signature comes without its bytes.
 */
export async function checkIntegrity(
  entity: SignedEntity,
  keys: readonly SigstorePublicKey[],
): Promise<{ key: SigstorePublicKey; signed: SignedBytes }> {
  const { data, signatures } = signedBytesOf(entity);
  if (!data) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      'a message signature is checked over the artifact bytes: pass `artifact` (a digest alone cannot be checked with WebCrypto, which has no pre-hashed ECDSA)',
    );
  }
  const c = entity.content;
  const hint = c.type === 'message' ? c.claimedDigest?.hash : undefined;
  if (c.type === 'message' && c.claimedDigest) {
    const actual = hashBytes(data, digestName(c.claimedDigest.hash));
    if (!bytesEqual(actual, c.claimedDigest.value)) {
      throw new VouchError(
        'ERR_ARTIFACT_MISMATCH',
        `the ${entity.origin}'s message digest is not the ${c.claimedDigest.hash} of the artifact`,
        {
          details: { check: 'messageDigest' },
        },
      );
    }
  }
  // Independent checks: start them together (WebCrypto may run them concurrently).
  const attempts = keys.flatMap((key) =>
    signatures.map((signature) => ({ key, signature, ok: verifyWithKey(key, data, signature, hint).catch(() => false) })),
  );
  for (const a of attempts) {
    if (await a.ok) return { key: a.key, signed: { signature: a.signature, data } };
  }
  const what = c.type === 'message' ? 'the artifact' : 'the DSSE envelope';
  throw new VouchError(
    'ERR_SIGNATURE_INTEGRITY',
    keys.length === 1
      ? `the signature over ${what} does not verify with the signer's key: the artifact or the signature was altered, or another key signed`
      : `the signature over ${what} verifies with none of the ${keys.length} keys given`,
    { details: { check: 'signature' } },
  );
}

export function digestName(hash: 'SHA-256' | 'SHA-384' | 'SHA-512'): DigestAlgorithm {
  return hash === 'SHA-256' ? 'sha256' : hash === 'SHA-384' ? 'sha384' : 'sha512';
}

/**
 * For DSSE content: the in-toto statement, one of whose subjects must carry the artifact's
 * digest (computed from `artifact`, or the given `digest`). sigstore-js leaves this to the
 * caller; vouch checks it.
 *
 * @throws VouchError ERR_ARTIFACT_MISMATCH when no subject matches or the payload is not an
 *   in-toto statement; ERR_INVALID_ARGUMENT when neither artifact nor digest was given.
 */
export function checkSubject(
  payloadType: string,
  payload: Uint8Array,
  subject: { artifact?: Uint8Array | undefined; digest?: string | undefined },
): InTotoStatement {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new VouchError(
      'ERR_ARTIFACT_MISMATCH',
      `the DSSE payload type is "${payloadType}", not an in-toto statement (${IN_TOTO_PAYLOAD_TYPE}): nothing binds it to the artifact`,
      { details: { check: 'subject' } },
    );
  }
  const statement = parseInTotoStatement(payload);
  let wanted: ParsedDigest[];
  if (subject.digest !== undefined) wanted = [parseDigest(subject.digest)];
  else if (subject.artifact) {
    const algs = new Set<DigestAlgorithm>();
    for (const s of statement.subject)
      for (const a of Object.keys(s.digest)) if (a === 'sha256' || a === 'sha384' || a === 'sha512') algs.add(a);
    const artifact = subject.artifact;
    wanted = [...algs].map((algorithm) => ({ algorithm, hex: toHexOf(hashBytes(artifact, algorithm)) }));
  } else {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      'a DSSE attestation is bound to an artifact by its in-toto subject: pass `artifact` or `digest`',
    );
  }
  const match = statement.subject.some((s) => wanted.some((w) => s.digest[w.algorithm]?.toLowerCase() === w.hex));
  if (!match) {
    throw new VouchError(
      'ERR_ARTIFACT_MISMATCH',
      `no subject of the in-toto statement has the artifact's digest (${wanted.map((w) => `${w.algorithm}:${w.hex}`).join(', ') || 'no sha256/384/512 subject digest'})`,
      { details: { check: 'subject', subjects: statement.subject.map((s) => s.name) } },
    );
  }
  return statement;
}

function toHexOf(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
