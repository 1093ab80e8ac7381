/**
 * The one Sigstore verification, whatever the signature came in (bundle, cosign registry form):
 *
 * 1. the signer: the certificate, or the key(s) the caller or the trust material gives;
 * 2. integrity: the signature verifies over the signed bytes, which describe the artifact
 *    (message digest, in-toto subject);
 * 3. the transparency log: each entry from a trusted log, its SET and/or inclusion proof with a
 *    signed checkpoint, its body naming this signature, signer and digest; enough entries;
 * 4. RFC 3161 timestamps against trusted TSAs;
 * 5. a certificate signer: chain to a trusted CA at every proven time, code-signing EKU,
 *    embedded SCTs, identity.
 *
 * Fails closed: every check that cannot be made is a failure with its own code, never a pass.
 */

import { VouchError } from '@vouch/core';
import { toHex } from '@vouch/core/internal';
import { parsePublicKey, sameKey } from '../internal/keys.js';
import { missing } from '../internal/missing.js';
import type {
  InTotoStatement,
  SigstorePublicKey,
  SigstoreVerification,
  TrustedPublicKey,
  VerifiedSigner,
  VerifiedTime,
  VerifiedTlogEntry,
  VerifyPolicyOptions,
} from '../types.js';
import { checkChain, checkIdentity, checkScts } from './certificate.js';
import type { SignedEntity } from './entity.js';
import { checkIntegrity, checkSubject, type SignedBytes, signedBytesOf } from './signature.js';
import { verifyTimestamp } from './timestamps.js';
import { type EntrySigner, findLog, verifyEntry } from './tlog.js';

/** What the artifact is, for binding checks. */
export interface Subject {
  readonly artifact?: Uint8Array | undefined;
  readonly digest?: string | undefined;
}

function threshold(v: number | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 0) throw new VouchError('ERR_INVALID_ARGUMENT', `${name} must be a non-negative integer`);
  return v;
}

function inWindow(k: TrustedPublicKey, t: Date): boolean {
  const v = k.validFor;
  return (v.start === undefined || v.start.getTime() <= t.getTime()) && (v.end === undefined || t.getTime() <= v.end.getTime());
}

/** The keys a key-signed entity may have been signed with, with their trust windows. */
function candidateKeys(entity: SignedEntity, options: VerifyPolicyOptions): { keys: SigstorePublicKey[]; trusted: TrustedPublicKey[] } {
  if (options.key !== undefined) {
    const given = (Array.isArray(options.key) ? options.key : [options.key]) as Parameters<typeof parsePublicKey>[0][];
    if (given.length === 0) throw new VouchError('ERR_INVALID_ARGUMENT', 'key: give at least one public key');
    const keys = given.map(parsePublicKey);
    return { keys, trusted: keys.map((key) => ({ key, validFor: {} })) };
  }
  const all = options.trust.publicKeys;
  if (all.length === 0) throw missing('key', options.trust);
  const hint = entity.keyHint;
  const trusted = hint ? all.filter((k) => k.hint === undefined || k.hint === hint) : [...all];
  if (trusted.length === 0) {
    throw new VouchError('ERR_SIGNATURE_INTEGRITY', `the bundle names key "${hint}", which is not among the trusted keys`, {
      details: { check: 'key-hint' },
    });
  }
  return { keys: trusted.map((k) => k.key), trusted };
}

/** The transparency log checks of every entry (none with ignoreTlog, with a warning when entries are skipped). */
async function checkTlog(
  entity: SignedEntity,
  options: VerifyPolicyOptions,
  now: Date,
  warnings: VouchError[],
  signed: SignedBytes,
  signer: EntrySigner,
): Promise<Awaited<ReturnType<typeof verifyEntry>>[]> {
  const trust = options.trust;
  if (options.ignoreTlog === true) {
    if (entity.tlogEntries.length) {
      warnings.push(
        new VouchError(
          'ERR_TLOG_INVALID',
          `${entity.tlogEntries.length} transparency log entry(ies) not checked: the transparency log is ignored (ignoreTlog)`,
        ),
      );
    }
    return [];
  }
  if (entity.tlogEntries.length === 0) {
    throw new VouchError(
      'ERR_TLOG_ENTRY_MISSING',
      `the ${entity.origin} has no transparency log entry and vouch does not search Rekor online: attach the entry (a bundle, or the SET annotation), or set \`rekor.ignoreTlog: true\` (cosign: --insecure-ignore-tlog)`,
    );
  }
  if (trust.tlogs.length === 0) throw missing('rekor', trust);
  return Promise.all(
    entity.tlogEntries.map((entry) => {
      const log = findLog(entry, trust.tlogs);
      if (!log) {
        return Promise.reject(
          new VouchError(
            'ERR_TLOG_INVALID',
            `the transparency log entry ${entry.logIndex} is from a log that is not trusted (log ID ${toHex(entry.logId)})${trust.source === 'pem' ? ': check `rekor.pubkey`' : ''}`,
            { details: { check: 'log', logId: toHex(entry.logId) } },
          ),
        );
      }
      return verifyEntry(entry, log, entity, signed, signer, now);
    }),
  );
}

export async function verifyEntity(entity: SignedEntity, options: VerifyPolicyOptions, subject: Subject): Promise<SigstoreVerification> {
  if (!options || typeof options !== 'object' || !options.trust)
    throw new VouchError('ERR_INVALID_ARGUMENT', 'verification needs options.trust (trust material)');
  const trust = options.trust;
  const now = options.now ?? new Date();
  const ignoreTlog = options.ignoreTlog === true;
  const tlogThreshold = threshold(options.tlogThreshold, 'tlogThreshold', ignoreTlog ? 0 : 1);
  const ctlogThreshold = threshold(options.ctlogThreshold, 'ctlogThreshold', 1);
  if (tlogThreshold === 0 && !ignoreTlog)
    throw new VouchError('ERR_INVALID_ARGUMENT', 'tlogThreshold 0 is only accepted with ignoreTlog: true');
  const warnings: VouchError[] = [];

  // 1. the signer
  const byCertificate = entity.certificate !== undefined && options.key === undefined;
  if (byCertificate && options.identity === undefined) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      "the signature was made with a certificate: pass `identity` (subject/issuer, as cosign's --certificate-identity and --certificate-oidc-issuer), or identity: 'any'",
    );
  }
  if (!byCertificate && options.identity !== undefined && options.identity !== 'any') {
    // An identity is a constraint a key check cannot meet: never dropped silently. A certificate
    // that comes with a key-verified signature is not checked against a root, so its names prove
    // nothing either.
    if (options.key === undefined)
      throw missing('key', trust, 'an identity was given, but the signature was made with a key, not a certificate');
    throw new VouchError(
      'ERR_IDENTITY_UNTRUSTED',
      entity.certificate === undefined
        ? 'an identity was required, but the signature was made with a key: no certificate names who signed'
        : 'an identity was required, but the signature is checked with a key: the certificate it carries is not verified against a root, so its identity is not trusted',
      { details: { check: 'identity' } },
    );
  }
  const candidates = byCertificate
    ? { keys: [entity.certificate!.publicKey as SigstorePublicKey], trusted: [] }
    : candidateKeys(entity, options);

  // 2. integrity and binding, and 3. the transparency log. With one candidate key and one
  // signature the signer is known before the signature is checked, so the log checks (SET,
  // checkpoint) start at once and their WebCrypto work runs alongside; an integrity failure is
  // still the one reported.
  const times: VerifiedTime[] = [];
  const tlogEntries: VerifiedTlogEntry[] = [];
  const tlogStep = (signed: SignedBytes, signer: EntrySigner) => checkTlog(entity, options, now, warnings, signed, signer);
  // the signature check is dispatched first: WebCrypto works while the log entries are read
  const integrity = checkIntegrity(entity, candidates.keys);
  integrity.catch(() => undefined); // awaited below
  const known = signedBytesOf(entity);
  const early =
    !ignoreTlog && known.data && candidates.keys.length === 1 && known.signatures.length === 1
      ? tlogStep(
          { signature: known.signatures[0]!, data: known.data },
          entity.certificate ? { certificate: entity.certificate, key: candidates.keys[0]! } : { key: candidates.keys[0]! },
        )
      : undefined;
  early?.catch(() => undefined); // awaited below; an integrity failure may be thrown first
  const { key, signed } = await integrity;
  let statement: InTotoStatement | undefined;
  if (entity.content.type === 'dsse')
    statement = checkSubject(entity.content.envelope.payloadType, entity.content.envelope.payload, subject);
  if (entity.certificate && !byCertificate && !sameKey(entity.certificate.publicKey as SigstorePublicKey, key)) {
    throw new VouchError('ERR_SIGNATURE_INTEGRITY', 'the certificate that comes with the signature is not for the key that verified it', {
      details: { check: 'certificate-key' },
    });
  }
  const signer: EntrySigner = entity.certificate ? { certificate: entity.certificate, key } : { key };
  for (const r of await (early ?? tlogStep(signed, signer))) {
    const { setTime, ...entry } = r;
    tlogEntries.push(entry);
    if (setTime) times.push({ source: 'tlog', time: setTime });
  }
  if (!ignoreTlog && tlogEntries.length < tlogThreshold) {
    throw new VouchError('ERR_TLOG_INVALID', `${tlogEntries.length} transparency log entries verified, ${tlogThreshold} required`);
  }

  // 4. RFC 3161 timestamps
  if (entity.timestamps.length) {
    if (trust.timestampAuthorities.length === 0) {
      const needed = byCertificate && times.length === 0 && !ignoreTlog;
      if (needed) throw missing('tsa', trust);
      warnings.push(
        new VouchError(
          'ERR_TIMESTAMP_INVALID',
          `${entity.timestamps.length} RFC 3161 timestamp(s) not checked: no timestamping authority in the trust material`,
        ),
      );
    } else {
      for (const token of entity.timestamps)
        times.push({ source: 'timestamp-authority', time: await verifyTimestamp(token, signed.signature, trust.timestampAuthorities) });
    }
  }

  // 5. the signer's material
  let verifiedSigner: VerifiedSigner;
  let verifiedScts = 0;
  if (byCertificate) {
    const leaf = entity.certificate!;
    let at = times.map((t) => t.time);
    if (at.length === 0) {
      if (!ignoreTlog) {
        throw new VouchError(
          'ERR_TIMESTAMP_INVALID',
          'nothing proves when the signature was made: the log entry has no integrated time (Rekor v2) and there is no verified RFC 3161 timestamp',
          { details: { step: 'signing-time' } },
        );
      }
      at = [now];
      warnings.push(
        new VouchError(
          'ERR_TIMESTAMP_INVALID',
          `no verified signing time (ignoreTlog): the certificate was checked at ${now.toISOString()}`,
        ),
      );
    }
    const chain = await checkChain(leaf, entity.intermediates, trust, at);
    if (!options.ignoreSct) verifiedScts = await checkScts(leaf, chain, trust, ctlogThreshold);
    const id = checkIdentity(leaf, options.identity!);
    verifiedSigner = {
      type: 'certificate',
      certificate: leaf,
      chain,
      subjectAlternativeNames: id.subjectAlternativeNames,
      extensions: id.extensions,
    };
  } else {
    const t = candidates.trusted.find((k) => sameKey(k.key, key));
    const at = times.length ? times.map((x) => x.time) : [now];
    if (t && at.some((x) => !inWindow(t, x))) {
      throw new VouchError(
        'ERR_CERT_EXPIRED',
        'the signing key was not trusted at the signing time (outside its validity window in the trust material)',
        {
          details: { check: 'key-validity' },
        },
      );
    }
    verifiedSigner = t?.hint ? { type: 'key', key, hint: t.hint } : { type: 'key', key };
  }

  const content: SigstoreVerification['content'] =
    entity.content.type === 'message'
      ? { type: 'message' }
      : {
          type: 'dsse',
          payloadType: entity.content.envelope.payloadType,
          payload: entity.content.envelope.payload,
          ...(statement ? { statement } : {}),
        };
  return { signer: verifiedSigner, content, times, tlogEntries, verifiedScts, warnings };
}
