/**
 * Transparency log checks of one entry: the log is trusted, its SET verifies, its inclusion
 * proof leads to the root of a checkpoint the log signed, and its body describes this
 * signature, this certificate or key, and this artifact digest (or DSSE payload).
 */

import { VouchError } from '@vouch/core';
import { bytesEqual, hashBytes } from '@vouch/core/internal';
import type { Certificate } from '@vouch/x509';
import { sameKey } from '../internal/keys.js';
import { type BodyClaims, type BodyVerifier, readBody } from '../tlog/body.js';
import { noteKeyId, parseCheckpoint, verifyCheckpoint } from '../tlog/checkpoint.js';
import { leafHash, rootFromInclusionProof } from '../tlog/merkle.js';
import { verifySet } from '../tlog/set.js';
import type { SigstorePublicKey, TlogEntry, TransparencyLogKey, VerifiedTlogEntry } from '../types.js';
import type { SignedEntity } from './entity.js';
import { digestName, type SignedBytes } from './signature.js';

function invalid(message: string, check: string, entry: TlogEntry, cause?: unknown): VouchError {
  return new VouchError('ERR_TLOG_INVALID', message, {
    ...(cause === undefined ? {} : { cause }),
    details: { check, logIndex: entry.logIndex, kind: `${entry.kind}/${entry.version}` },
  });
}

/** The trusted log an entry is from, or undefined. */
export function findLog(entry: TlogEntry, logs: readonly TransparencyLogKey[]): TransparencyLogKey | undefined {
  const byId = logs.find((l) => bytesEqual(l.logId, entry.logId));
  if (byId) return byId;
  // A Rekor v2 (Ed25519) key given as PEM has no name: its log ID is the signed-note key ID
  // under the name the entry's checkpoint gives.
  const cp = entry.inclusionProof?.checkpoint;
  if (!cp) return undefined;
  const origin = cp.slice(0, cp.indexOf('\n'));
  for (const l of logs) {
    if (l.key.type !== 'Ed25519' || l.checkpointName !== undefined) continue;
    if (bytesEqual(noteKeyId(origin, l.key), entry.logId)) return { ...l, logId: entry.logId, checkpointName: origin };
  }
  return undefined;
}

function within(log: TransparencyLogKey, seconds: number): boolean {
  const t = seconds * 1000;
  return (
    (log.validFor.start === undefined || log.validFor.start.getTime() <= t) &&
    (log.validFor.end === undefined || t <= log.validFor.end.getTime())
  );
}

/** The signer material the body must name: this certificate, or this key (or a certificate for it). */
export interface EntrySigner {
  readonly certificate?: Certificate;
  readonly key: SigstorePublicKey;
}

function verifierMatches(v: BodyVerifier, signer: EntrySigner): boolean {
  if ('certificate' in v) return signer.certificate !== undefined && bytesEqual(v.certificate, signer.certificate.der);
  return (
    bytesEqual(v.key, signer.key.spki) ||
    (signer.certificate !== undefined && sameKey({ spki: v.key } as SigstorePublicKey, signer.certificate.publicKey as SigstorePublicKey))
  );
}

/** Check that `claims` describe this signature by this signer over this content. */
export function checkBody(claims: BodyClaims, entity: SignedEntity, signed: SignedBytes, signer: EntrySigner, entry: TlogEntry): void {
  const c = entity.content;
  const id = `${claims.kind}/${claims.version}`;
  const isDsse = c.type === 'dsse';
  const fits = claims.kind === 'hashedrekord' ? !isDsse || claims.version === '0.0.2' : isDsse;
  if (!fits) throw invalid(`a ${id} entry cannot record a ${isDsse ? 'DSSE envelope' : 'message signature'}`, 'body', entry);
  const sig = claims.signatures.find((s) => bytesEqual(s.signature, signed.signature));
  if (!sig) throw invalid(`the ${id} entry records another signature than this one`, 'body-signature', entry);
  if (claims.signatures.length !== 1)
    throw invalid(`the ${id} entry records ${claims.signatures.length} signatures; one is expected`, 'body-signature', entry);
  if (!verifierMatches(sig.verifier, signer)) {
    throw invalid(
      `the ${id} entry names another ${'certificate' in sig.verifier ? 'certificate' : 'key'} than the signer's`,
      'body-verifier',
      entry,
    );
  }
  if (claims.digest) {
    // hashedrekord: the digest of the signed bytes (the artifact, or PAE for DSSE in Rekor v2)
    const actual = hashBytes(signed.data, digestName(claims.digest.hash));
    if (!bytesEqual(actual, claims.digest.value))
      throw invalid(`the ${id} entry records another ${claims.digest.hash} digest than the signed artifact's`, 'body-digest', entry);
  }
  if (isDsse && (claims.payloadHash || claims.payload)) {
    const payload = c.envelope.payload;
    if (claims.payloadHash && !bytesEqual(hashBytes(payload, digestName(claims.payloadHash.hash)), claims.payloadHash.value)) {
      throw invalid(`the ${id} entry records another payload hash than the DSSE envelope's`, 'body-payload', entry);
    }
    if (claims.payload && !bytesEqual(claims.payload, payload))
      throw invalid(`the ${id} entry records another payload than the DSSE envelope's`, 'body-payload', entry);
  } else if (isDsse && !claims.digest) throw invalid(`the ${id} entry records no payload hash`, 'body-payload', entry);
}

/**
 * Verify one entry against `log`. Returns what proved inclusion and the integrated time the SET
 * proves (when it does).
 */
export async function verifyEntry(
  entry: TlogEntry,
  log: TransparencyLogKey,
  entity: SignedEntity,
  signed: SignedBytes,
  signer: EntrySigner,
  now: Date,
): Promise<VerifiedTlogEntry & { setTime?: Date }> {
  const proof: ('set' | 'inclusion-proof')[] = [];
  const checks: Promise<void>[] = [];
  let setTime: Date | undefined;
  if (entry.signedEntryTimestamp) {
    if (entry.integratedTime === undefined) throw invalid('the entry has a SET but no integrated time', 'set', entry);
    if (!within(log, entry.integratedTime)) {
      throw invalid(
        `the entry was integrated at ${new Date(entry.integratedTime * 1000).toISOString()}, outside the validity of the log's key`,
        'log-validity',
        entry,
      );
    }
    if (entry.integratedTime * 1000 > now.getTime() + 5 * 60_000)
      throw invalid("the entry's integrated time is in the future", 'set', entry);
    // dispatched before the body is read, so WebCrypto works while the body is checked
    const check = verifySet(entry, log).then((ok) => {
      if (!ok) throw invalid("the signed entry timestamp (SET) does not verify with the log's key", 'set', entry);
    });
    check.catch(() => undefined); // awaited below; a body error may be thrown first
    checks.push(check);
    proof.push('set');
    setTime = new Date(entry.integratedTime * 1000);
  }
  let claims: BodyClaims;
  try {
    claims = readBody(entry);
  } catch (e) {
    if (e instanceof VouchError && e.code === 'ERR_UNSUPPORTED') throw e;
    throw invalid(`the entry body is malformed: ${(e as Error).message}`, 'body', entry, e);
  }
  checkBody(claims, entity, signed, signer, entry);

  const ip = entry.inclusionProof;
  if (ip) {
    const root = rootFromInclusionProof(ip.logIndex, ip.treeSize, leafHash(entry.canonicalizedBody), ip.hashes);
    if (typeof root === 'string') throw invalid(`the inclusion proof is malformed: ${root}`, 'inclusion-proof', entry);
    if (!bytesEqual(root, ip.rootHash))
      throw invalid('the inclusion proof does not lead to its root hash: the entry is not in that tree', 'inclusion-proof', entry);
    if (ip.checkpoint !== undefined) {
      const cp = parseCheckpoint(ip.checkpoint);
      if (cp.treeSize !== ip.treeSize || !bytesEqual(cp.rootHash, ip.rootHash)) {
        throw invalid('the checkpoint is for another tree than the inclusion proof (size or root hash differ)', 'checkpoint', entry);
      }
      const check = verifyCheckpoint(cp, log);
      check.catch(() => undefined); // awaited below
      checks.push(check);
      proof.push('inclusion-proof');
    }
  }
  if (proof.length === 0) {
    throw invalid(
      entry.inclusionProof
        ? 'the inclusion proof has no signed checkpoint and the entry has no SET: nothing proves inclusion'
        : 'the entry has neither a SET nor an inclusion proof',
      'inclusion',
      entry,
    );
  }
  if (entry.integratedTime === undefined && !proof.includes('inclusion-proof'))
    throw invalid('a Rekor v2 entry needs an inclusion proof with a checkpoint', 'inclusion', entry);
  await Promise.all(checks);
  const out: VerifiedTlogEntry & { setTime?: Date } = {
    logId: entry.logId,
    logIndex: entry.logIndex,
    kind: entry.kind,
    version: entry.version,
    proof,
    ...(entry.integratedTime !== undefined ? { integratedTime: entry.integratedTime } : {}),
    ...(setTime ? { setTime } : {}),
  };
  return out;
}
