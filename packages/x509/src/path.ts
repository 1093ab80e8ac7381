/**
 * Certificate path building for profiles other than the Notary Project's (Sigstore/cosign):
 * from a leaf through candidate intermediates to a trust anchor, with the RFC 5280 rules Go's
 * `x509.Verify` applies — issuer names and signatures, CA basic constraints, keyCertSign,
 * path length constraints, extended key usage nesting, unrecognised critical extensions, and
 * every certificate valid at one instant.
 */

import { VouchError } from '@vouch/core';
import { bytesEqual } from '@vouch/core/internal';
import { isValidAt, MAX_CHAIN_LENGTH, RECOGNISED_EXTENSIONS } from './chain.js';
import { OID } from './internal/oids.js';
import { signedBy } from './internal/verify.js';
import type { Certificate } from './types.js';

/** Options of {@link buildCertificatePath}. */
export interface CertificatePathOptions {
  /** Certificates a path may end at (by exact DER). Each is trusted as given: its own signature is not checked. */
  anchors: readonly Certificate[];
  /** Candidate intermediates, in any order. */
  intermediates?: readonly Certificate[];
  /** Every certificate of the path must be valid at this instant (both ends of validity included). */
  at: Date;
  /**
   * An extended key usage OID every CA certificate of the path that lists extended key usages
   * must allow (it, or anyExtendedKeyUsage), as Go's `x509.Verify` nests them. The leaf's own
   * EKU is the caller's rule.
   */
  extendedKeyUsage?: string;
}

const q = (s: string) => JSON.stringify(s);

/** Why `parent` cannot have issued `child` under the CA rules, or undefined. */
function caProblem(parent: Certificate, below: number, eku: string | undefined): string | undefined {
  const v3 = (parent.version ?? 3) === 3;
  if ((v3 && !parent.basicConstraints) || (parent.basicConstraints && !parent.basicConstraints.ca)) return 'it is not a CA';
  if ((parent.malformedExtensions ?? []).some((o) => o === OID.basicConstraints || o === OID.keyUsage || o === OID.extKeyUsage)) {
    return 'its basicConstraints, keyUsage or extKeyUsage extension is malformed';
  }
  if (parent.keyUsage && !parent.keyUsage.usages.includes('keyCertSign')) return 'its keyUsage lacks keyCertSign';
  const pathLen = parent.basicConstraints?.pathLenConstraint;
  if (pathLen !== undefined && below > pathLen)
    return `its path length constraint (${pathLen}) allows fewer CAs below it than the path has (${below})`;
  if (eku && parent.extKeyUsage && !parent.extKeyUsage.oids.some((o) => o === eku || o === OID.anyExtendedKeyUsage)) {
    return `its extended key usage does not allow ${eku}`;
  }
  return undefined;
}

function unknownCritical(cert: Certificate): string[] {
  return cert.criticalExtensions.filter((o) => !RECOGNISED_EXTENSIONS.has(o));
}

/**
 * Find a path from `leaf` to one of `options.anchors`, every link checked (names, signature,
 * CA rules, EKU nesting) and every certificate valid at `options.at`.
 *
 * @returns the path, leaf first, ending with the anchor (just `[leaf]` when the leaf is an anchor).
 * @throws VouchError ERR_CERT_EXPIRED when paths exist but none is valid at `at` (details name
 *   the certificate); ERR_CERT_UNTRUSTED when no path reaches an anchor; ERR_CERT_CHAIN_INVALID
 *   when the leaf has an unrecognised critical extension; ERR_INVALID_ARGUMENT without anchors.
 */
export async function buildCertificatePath(leaf: Certificate, options: CertificatePathOptions): Promise<Certificate[]> {
  if (!options || !Array.isArray(options.anchors) || !(options.at instanceof Date)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'buildCertificatePath needs options.anchors and options.at');
  }
  const anchors = options.anchors;
  const pool: Certificate[] = [];
  for (const c of [...anchors, ...(options.intermediates ?? [])]) if (!pool.some((p) => bytesEqual(p.der, c.der))) pool.push(c);
  const isAnchor = (c: Certificate) => anchors.some((a) => bytesEqual(a.der, c.der));
  const bad = unknownCritical(leaf);
  if (bad.length) {
    throw new VouchError(
      'ERR_CERT_CHAIN_INVALID',
      `certificate ${q(leaf.subject)} has unrecognised critical extension(s) ${bad.join(', ')}`,
      {
        details: { subject: leaf.subject, extensions: bad },
      },
    );
  }
  let timeless: Certificate[] | undefined;
  const refused: string[] = [];
  const walk = async (path: Certificate[]): Promise<Certificate[] | undefined> => {
    const cur = path[path.length - 1]!;
    if (isAnchor(cur)) {
      timeless ??= path;
      return path.every((c) => isValidAt(c, options.at)) ? path : undefined;
    }
    if (path.length >= MAX_CHAIN_LENGTH) return undefined;
    for (const cand of pool) {
      if (path.some((p) => bytesEqual(p.der, cand.der))) continue;
      if (!(await signedBy(cur, cand))) continue;
      const why =
        caProblem(cand, path.length - 1, options.extendedKeyUsage) ??
        (unknownCritical(cand).length ? 'it has an unrecognised critical extension' : undefined);
      if (why) {
        refused.push(`${q(cand.subject)} cannot issue ${q(cur.subject)}: ${why}`);
        continue;
      }
      const found = await walk([...path, cand]);
      if (found) return found;
    }
    return undefined;
  };
  const found = await walk([leaf]);
  if (found) return found;
  if (timeless) {
    const c = timeless.find((x) => !isValidAt(x, options.at))!;
    throw new VouchError(
      'ERR_CERT_EXPIRED',
      `certificate ${q(c.subject)} is not valid at ${options.at.toISOString()} (valid from ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()})`,
      {
        details: {
          subject: c.subject,
          at: options.at.toISOString(),
          notBefore: c.notBefore.toISOString(),
          notAfter: c.notAfter.toISOString(),
        },
      },
    );
  }
  throw new VouchError(
    'ERR_CERT_UNTRUSTED',
    `certificate ${q(leaf.subject)} (issuer ${q(leaf.issuer)}) does not chain to a trusted root${refused.length ? `: ${refused[0]}` : ''}`,
    { details: { subject: leaf.subject, issuer: leaf.issuer, ...(refused.length ? { refused } : {}) } },
  );
}
