import { notYet } from '../stub.js';
import type { PublicKeyInput, SigstorePublicKey, TrustMaterial } from '../types.js';

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
  /** A TSA chain, leaf first (Kyverno `ctlog.tsaCertChain`, cosign `--timestamp-certificate-chain`). */
  tsaCertChain?: string;
}

/** Build trust material from PEM text. */
export function trustMaterialFromPem(options: PemTrustMaterialOptions): TrustMaterial {
  void options;
  return notYet('trustMaterialFromPem');
}

/** Read a public key: PEM (`PUBLIC KEY`), DER SubjectPublicKeyInfo, or an already parsed key. */
export function parsePublicKey(input: PublicKeyInput): SigstorePublicKey {
  void input;
  return notYet('parsePublicKey');
}
