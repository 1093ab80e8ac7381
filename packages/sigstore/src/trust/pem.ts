/**
 * Trust material straight from PEM, as a Kyverno policy carries it (`keys.publicKeys`,
 * `keyless.roots`, `rekor.pubkey`, `ctlog.pubkey`, `ctlog.tsaCertChain`) or cosign takes it from
 * flags and environment. PEM material has no validity windows: it is trusted at any time.
 */

import { VouchError } from '@vouch/core';
import { hashBytes } from '@vouch/core/internal';
import { type Certificate, parseCertificates } from '@vouch/x509';
import { keysFromPem } from '../internal/keys.js';
import type { CertificateAuthority, TransparencyLogKey, TrustMaterial } from '../types.js';

export { parsePublicKey } from '../internal/keys.js';

/** PEM material as a Kyverno policy (or cosign's flags and environment) carries it. */
export interface PemTrustMaterialOptions {
  /** Keys that sign artifacts directly: one or more `PUBLIC KEY` blocks (Kyverno `keys.publicKeys`, cosign `--key`). */
  publicKeys?: string;
  /**
   * CA certificates for certificate signers (Kyverno `keyless.roots` / `certificates.certChain`,
   * cosign `--certificate-chain` / `SIGSTORE_ROOT_FILE`): self-signed ones are trust anchors,
   * the others intermediates.
   */
  roots?: string;
  /** Rekor public keys (Kyverno `rekor.pubkey`, cosign `SIGSTORE_REKOR_PUBLIC_KEY`). */
  rekorPublicKeys?: string;
  /** CT log public keys (Kyverno `ctlog.pubkey`, cosign `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE`). */
  ctlogPublicKeys?: string;
  /** A TSA chain, leaf first, ending with its root (Kyverno `ctlog.tsaCertChain`, cosign `SIGSTORE_TSA_CERTIFICATE_FILE`). */
  tsaCertChain?: string;
}

const ALWAYS = Object.freeze({});

function logKeys(pem: string, what: string): TransparencyLogKey[] {
  return keysFromPem(pem, what).map((key) => ({ logId: hashBytes(key.spki, 'sha256'), key, validFor: ALWAYS }));
}

function certs(pem: string, what: string): Certificate[] {
  try {
    return parseCertificates(pem);
  } catch (e) {
    throw new VouchError('ERR_MALFORMED_INPUT', `${what}: ${(e as Error).message}`, { cause: e });
  }
}

/** One authority per self-signed certificate, each with every non-self-signed certificate as a candidate intermediate. */
function authorities(pem: string, what: string): CertificateAuthority[] {
  const all = certs(pem, what);
  const anchors = all.filter((c) => c.selfSigned);
  const intermediates = all.filter((c) => !c.selfSigned);
  if (anchors.length === 0)
    throw new VouchError('ERR_MALFORMED_INPUT', `${what}: no self-signed root certificate among the ${all.length} given`);
  return anchors.map((root) => ({ certChain: [...intermediates, root], validFor: ALWAYS }));
}

/**
 * Build trust material from PEM text. Every field is optional; what a verification needs but
 * was not given fails it with ERR_TRUST_MATERIAL_MISSING. A log ID is the SHA-256 of the key's
 * SubjectPublicKeyInfo (a Rekor v2 Ed25519 key is matched by its checkpoint name instead).
 *
 * @example
 * ```ts
 * const trust = trustMaterialFromPem({ publicKeys: cosignPub, rekorPublicKeys: rekorPub });
 * ```
 * @throws VouchError ERR_MALFORMED_INPUT when a field is not the PEM it should be.
 */
export function trustMaterialFromPem(options: PemTrustMaterialOptions): TrustMaterial {
  if (!options || typeof options !== 'object')
    throw new VouchError('ERR_INVALID_ARGUMENT', 'trustMaterialFromPem expects an options object');
  const o = options;
  return {
    source: 'pem',
    tlogs: o.rekorPublicKeys ? logKeys(o.rekorPublicKeys, 'rekor.pubkey') : [],
    ctlogs: o.ctlogPublicKeys ? logKeys(o.ctlogPublicKeys, 'ctlog.pubkey') : [],
    certificateAuthorities: o.roots ? authorities(o.roots, 'roots') : [],
    timestampAuthorities: o.tsaCertChain ? authorities(o.tsaCertChain, 'tsaCertChain') : [],
    publicKeys: o.publicKeys ? keysFromPem(o.publicKeys, 'publicKeys').map((key) => ({ key, validFor: ALWAYS })) : [],
  };
}
