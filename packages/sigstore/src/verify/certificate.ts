/**
 * Certificate signers: the leaf chains to a trusted CA at every proven signing time (the CA's
 * own validity window included), carries the code-signing EKU, has enough embedded SCTs signed by
 * trusted CT logs, and names an accepted identity.
 */
import { isVouchError, VouchError } from '@vouch/core';
import { buildCertificatePath, type Certificate } from '@vouch/x509';
import { OID } from '@vouch/x509/internal';
import { checkIdentityPolicy, identityMismatch, signingCertificateIdentity } from '../cert/identity.js';
import { verifyEmbeddedScts } from '../cert/sct.js';
import { missing } from '../internal/missing.js';
import type { CertificateAuthority, CertificateIdentity, FulcioExtensions, TrustMaterial } from '../types.js';

const CODE_SIGNING = OID.codeSigning;
const ANY_EKU = OID.anyExtendedKeyUsage;

function inWindow(ca: CertificateAuthority, t: Date): boolean {
  const v = ca.validFor;
  return (v.start === undefined || v.start.getTime() <= t.getTime()) && (v.end === undefined || t.getTime() <= v.end.getTime());
}

/**
 * The leaf rules of a Sigstore signing certificate. GAP: Go's x509 accepts a leaf without an
 * extended key usage extension as "any"; vouch requires code signing to be stated (Fulcio always does).
 */
function checkLeaf(leaf: Certificate): void {
  const eku = leaf.extKeyUsage?.oids ?? [];
  if (!eku.includes(CODE_SIGNING) && !eku.includes(ANY_EKU)) {
    throw new VouchError(
      'ERR_CERT_CHAIN_INVALID',
      `the signing certificate ${JSON.stringify(leaf.subject)} does not allow code signing (extended key usage)`,
      {
        details: { rule: 'leaf-ext-key-usage' },
      },
    );
  }
  if (leaf.keyUsage && !leaf.keyUsage.usages.includes('digitalSignature')) {
    throw new VouchError(
      'ERR_CERT_CHAIN_INVALID',
      `the signing certificate ${JSON.stringify(leaf.subject)} does not allow digital signatures (key usage)`,
      {
        details: { rule: 'leaf-key-usage' },
      },
    );
  }
}

/** Chain `leaf` to a trusted CA at each of `times`; resolves the chain found at the first time. */
export async function checkChain(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  trust: TrustMaterial,
  times: readonly Date[],
): Promise<Certificate[]> {
  checkLeaf(leaf);
  if (trust.certificateAuthorities.length === 0) throw missing('roots', trust);
  let chain: Certificate[] | undefined;
  for (const at of times) {
    const cas = trust.certificateAuthorities.filter((ca) => inWindow(ca, at));
    if (cas.length === 0) {
      throw new VouchError('ERR_CERT_UNTRUSTED', `no trusted certificate authority was valid at the signing time ${at.toISOString()}`, {
        details: { at: at.toISOString() },
      });
    }
    let found: Certificate[] | undefined;
    let last: unknown;
    for (const ca of cas) {
      try {
        found = await buildCertificatePath(leaf, {
          anchors: [ca.certChain[ca.certChain.length - 1]!],
          intermediates: [...ca.certChain.slice(0, -1), ...intermediates],
          at,
          extendedKeyUsage: CODE_SIGNING,
        });
        break;
      } catch (e) {
        if (!isVouchError(e)) throw e;
        // an expired chain explains more than "no path" from another CA
        if (!isVouchError(last) || e.code === 'ERR_CERT_EXPIRED') last = e;
      }
    }
    if (!found) {
      const e = last as VouchError;
      throw new VouchError(e.code, `the signing certificate is not valid at the signing time ${at.toISOString()}: ${e.message}`, {
        cause: e,
        details: { ...(e.details ?? {}), at: at.toISOString() },
      });
    }
    chain ??= found;
  }
  return chain!;
}

/** Require `threshold` verified embedded SCTs. Resolves the count. */
export async function checkScts(
  leaf: Certificate,
  chain: readonly Certificate[],
  trust: TrustMaterial,
  threshold: number,
): Promise<number> {
  if (trust.ctlogs.length === 0) throw missing('ctlog', trust);
  const issuer = chain[1] ?? chain[0]!;
  const { verified, problems } = await verifyEmbeddedScts(leaf, issuer, trust.ctlogs);
  if (verified < threshold) {
    throw new VouchError(
      'ERR_SCT_INVALID',
      `the signing certificate has ${verified} verified SCT(s), ${threshold} required: ${problems.join('; ') || 'none'}`,
      { details: { verified, threshold, problems } },
    );
  }
  return verified;
}

/** Require one of `identities` to accept the leaf's identity; resolves that identity. */
export function checkIdentity(
  leaf: Certificate,
  identities: CertificateIdentity | readonly CertificateIdentity[] | 'any',
): { subjectAlternativeNames: string[]; extensions: FulcioExtensions } {
  const id = signingCertificateIdentity(leaf);
  if (identities === 'any') return id;
  const list: readonly CertificateIdentity[] = Array.isArray(identities) ? identities : [identities as CertificateIdentity];
  if (list.length === 0) throw new VouchError('ERR_INVALID_ARGUMENT', "identity: give at least one identity (or 'any')");
  list.forEach(checkIdentityPolicy);
  const reasons = list.map((i) => identityMismatch(i, id));
  if (reasons.every((r) => r !== undefined)) {
    throw new VouchError(
      'ERR_IDENTITY_UNTRUSTED',
      `the signing certificate's identity (SANs ${JSON.stringify(id.subjectAlternativeNames)}, issuer ${JSON.stringify(id.extensions.issuer ?? null)}) matches no accepted identity: ${reasons.join('; ')}`,
      { details: { subjectAlternativeNames: id.subjectAlternativeNames, issuer: id.extensions.issuer ?? null } },
    );
  }
  return id;
}
