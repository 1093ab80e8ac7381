import { isHashAlgorithm, VouchError } from '@vouch/core';
import { readOctets, readOid, readTime } from '@vouch/core/asn1';
import { bytesEqual, hashOfOid, oidOfHash, SignatureCheckError, verifySignature } from '@vouch/core/internal';
import { type Certificate, digest, OID, signedBy, validateTimestampingChain } from '../internal/index.js';
import {
  type ParsedSignerInfo,
  type ParsedToken,
  parseTokenInternal,
  resolveSigningCertificate,
  timestampRange,
  tsError,
} from './token.js';
import type { TimestampToken, VerifiedTimestamp, VerifyTimestampOptions } from './types.js';

const MAX_CHAIN = 10;

/**
 * Build a chain from `leaf` to one of `roots` using `pool` as intermediates (depth-first,
 * so cross-certified paths are found). Returns undefined when no path exists.
 */
export async function buildChain(
  leaf: Certificate,
  pool: readonly Certificate[],
  roots: readonly Certificate[],
): Promise<Certificate[] | undefined> {
  const isRoot = (c: Certificate) => roots.some((r) => bytesEqual(r.der, c.der));
  const walk = async (path: Certificate[]): Promise<Certificate[] | undefined> => {
    const cur = path[path.length - 1]!;
    if (isRoot(cur)) return path;
    if (path.length >= MAX_CHAIN) return undefined;
    for (const cand of [...roots, ...pool]) {
      if (path.some((p) => bytesEqual(p.der, cand.der))) continue;
      if (!(await signedBy(cur, cand))) continue;
      const found = await walk([...path, cand]);
      if (found) return found;
    }
    return undefined;
  };
  return walk([leaf]);
}

function attr(si: ParsedSignerInfo, oid: string, what: string) {
  const v = si.signedAttrs.get(oid);
  if (!v) return undefined;
  if (v.length !== 1) throw tsError('signedAttributes', `the ${what} signed attribute must have exactly one value`);
  return v[0]!;
}

async function verifySigner(
  parsed: ParsedToken,
  si: ParsedSignerInfo,
  roots: readonly Certificate[],
  at: Date,
  extra: readonly Certificate[],
) {
  if (si.version !== 1) {
    throw tsError('signerInfo', `SignerInfo version ${si.version} is not supported; version 1 (issuer and serial number) is required`);
  }
  // RFC 5652 §5.3: signed attributes are mandatory when eContentType is not id-data (Quarkslab INFO-6).
  if (!si.signedAttrsRaw || si.signedAttrCount === 0) {
    throw tsError('signedAttributes', 'the timestamp token has no signed attributes');
  }
  const signer = await resolveSigningCertificate(parsed, si, extra);
  let ct: string;
  let md: Uint8Array;
  try {
    const ctNode = attr(si, OID.contentTypeAttribute, 'content-type');
    if (!ctNode) throw tsError('signedAttributes', 'the content-type signed attribute is missing');
    ct = readOid(ctNode, 'content-type attribute');
    const mdNode = attr(si, OID.messageDigestAttribute, 'message-digest');
    if (!mdNode) throw tsError('signedAttributes', 'the message-digest signed attribute is missing');
    md = readOctets(mdNode, 'message-digest attribute');
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw tsError('signedAttributes', `a signed attribute is malformed: ${(e as Error).message}`, {}, e);
  }
  if (ct !== parsed.eContentType) {
    throw tsError(
      'signedAttributes',
      `the content-type signed attribute (${ct}) differs from the encapsulated content type (${parsed.eContentType})`,
    );
  }
  const hash = hashOfOid(si.digestAlgorithm);
  if (!hash || hash === 'SHA-1') {
    throw tsError('signedAttributes', `unsupported SignerInfo digest algorithm ${si.digestAlgorithm} (SHA-256/384/512 are accepted)`);
  }
  if (!bytesEqual(await digest(hash, parsed.eContent), md)) {
    throw tsError('signedAttributes', 'the message-digest signed attribute does not match the hash of the TSTInfo content');
  }

  // Signature over the DER SET OF signed attributes (the [0] IMPLICIT tag replaced by SET).
  const signedBytes = si.signedAttrsRaw.slice();
  signedBytes[0] = 0x31;
  let ok: boolean;
  try {
    ok = await verifySignature({
      key: signer.publicKey,
      algorithm: si.signatureAlgorithm,
      digestAlgorithm: si.digestAlgorithm,
      data: signedBytes,
      signature: si.signature,
    });
  } catch (e) {
    const why = e instanceof SignatureCheckError ? e.message : (e as Error).message;
    throw tsError('signature', `the timestamp token signature cannot be checked: ${why}`, {}, e);
  }
  if (!ok) throw tsError('signature', 'the timestamp token signature does not verify with the TSA signing certificate');

  const chain = await buildChain(signer, [...parsed.token.certificates, ...extra], roots);
  if (!chain) {
    throw tsError('chain', `the TSA certificate "${signer.subject}" does not chain to a trusted TSA root`, { signer: signer.subject });
  }
  for (const c of chain) {
    if (at < c.notBefore || at > c.notAfter) {
      throw tsError(
        'chain',
        `TSA chain certificate "${c.subject}" is not valid at ${at.toISOString()} (valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()})`,
        {
          subject: c.subject,
        },
      );
    }
  }
  try {
    await validateTimestampingChain(chain);
  } catch (e) {
    throw tsError('chain', `the TSA chain breaks the timestamping certificate profile: ${(e as Error).message}`, {}, e);
  }

  const st = attr(si, OID.signingTimeAttribute, 'signing-time');
  if (st) {
    let t: Date;
    try {
      t = readTime(st, 'signing-time attribute');
    } catch (e) {
      throw tsError('signedAttributes', `the signing-time signed attribute is malformed: ${(e as Error).message}`, {}, e);
    }
    const outside = chain.find((c) => t < c.notBefore || t > c.notAfter);
    if (outside) {
      throw tsError('signedAttributes', `the signing-time attribute ${t.toISOString()} is outside the validity of "${outside.subject}"`);
    }
  }
  return { signer, chain };
}

/**
 * Verify an RFC 3161 timestamp token over `message` (for Notary signatures: the primitive
 * signature bytes) against trusted TSA roots.
 *
 * Checks, in order, for each SignerInfo until one passes: SignerInfo version 1; the ESS
 * signing-certificate-v2 binding (issuerSerial or sid, certificate hash); signed attributes
 * present, content-type equal to id-ct-TSTInfo, message-digest equal to the hash of TSTInfo;
 * the CMS signature; a chain from the signer to a trusted self-signed root, every
 * certificate valid at `at` (default genTime), passing the Notary timestamping profile
 * (EKU exactly timeStamping and critical, …); the optional signing-time attribute inside
 * the chain's validity. Only then are TSTInfo values used: version 1, an accepted hash
 * algorithm (SHA-256/384/512) and a message imprint equal to the hash of `message`.
 * Revocation of the TSA chain is not checked here (use `@vouch/x509/revocation`).
 *
 * @returns the token, its chain and the time range [genTime − accuracy, genTime + accuracy].
 * @throws VouchError ERR_TIMESTAMP_INVALID, `details.step` naming the failed check
 *   (parse, signerInfo, signingCertificate, signedAttributes, signature, chain, tstinfo,
 *   messageImprint); ERR_INVALID_ARGUMENT for missing options.
 */
export async function verifyTimestampToken(
  token: Uint8Array | TimestampToken,
  options: VerifyTimestampOptions,
): Promise<VerifiedTimestamp> {
  if (!options || !(options.message instanceof Uint8Array)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'verifyTimestampToken needs options.message (the timestamped bytes)');
  }
  if (!Array.isArray(options.trustedRoots) || options.trustedRoots.length === 0) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'verifyTimestampToken needs at least one trusted TSA root certificate');
  }
  const parsed = await parseTokenInternal(token instanceof Uint8Array ? token : token.der);
  const roots = options.trustedRoots.filter((r) => r.selfSigned);
  if (roots.length === 0) {
    throw tsError('chain', 'none of the trusted TSA certificates is a self-signed root; TSA trust anchors must be roots');
  }
  if (parsed.signerInfos.length === 0) throw tsError('signerInfo', 'the timestamp token has no SignerInfo');
  const at = options.at ?? parsed.token.genTime;
  let verified: { signer: Certificate; chain: Certificate[] } | undefined;
  const failures: { step: unknown; message: string }[] = [];
  let lastError: unknown;
  for (const si of parsed.signerInfos) {
    try {
      verified = await verifySigner(parsed, si, roots, at, options.certificates ?? []);
      break;
    } catch (e) {
      lastError = e;
      failures.push({ step: (e as VouchError).details?.step ?? 'internal', message: (e as Error).message });
    }
  }
  if (!verified) {
    if (lastError instanceof VouchError && parsed.signerInfos.length === 1) throw lastError;
    const last = failures[failures.length - 1]!;
    throw tsError(String(last.step), `no SignerInfo of the timestamp token verifies: ${last.message}`, { signers: failures }, lastError);
  }
  const t = parsed.token;
  if (t.version !== 1) throw tsError('tstinfo', `TSTInfo version must be 1, found ${t.version}`);
  const hash = hashOfOid(hashOidOf(t));
  if (!hash || hash === 'SHA-1') {
    throw tsError('tstinfo', `unsupported message imprint hash algorithm ${t.hashAlgorithm} (SHA-256/384/512 are accepted)`);
  }
  const expected = await digest(hash, options.message);
  if (!bytesEqual(expected, t.messageImprint)) {
    throw tsError('messageImprint', 'the timestamp does not cover this message: the message imprint differs from its hash');
  }
  return {
    token: { ...t, signerCertificate: verified.signer },
    chain: verified.chain,
    signerCertificate: verified.signer,
    range: timestampRange(t),
  };
}

/** OID of a token's imprint hash algorithm. */
export function hashOidOf(t: Pick<TimestampToken, 'hashAlgorithm'>): string {
  const h = t.hashAlgorithm;
  return h === 'SHA-1' || isHashAlgorithm(h) ? oidOfHash(h) : h;
}
