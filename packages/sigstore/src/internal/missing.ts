/**
 * The one place that says what to set when trust material is missing: the policy field
 * (Kyverno's names, or the trusted root for material from one) and the cosign equivalent.
 */
import { VouchError } from '@vouch/core';
import type { TrustMaterial } from '../types.js';

export type MaterialKind = 'rekor' | 'ctlog' | 'roots' | 'tsa' | 'key';

const FIELDS: Readonly<Record<MaterialKind, { what: string; policy: string; cosign: string; root: string }>> = {
  rekor: {
    what: 'a Rekor public key to verify the transparency log entry',
    policy: '`rekor.pubkey` (or `rekor.ignoreTlog: true` to not require the log)',
    cosign: 'SIGSTORE_REKOR_PUBLIC_KEY, or --trusted-root (or --insecure-ignore-tlog)',
    root: 'a `tlogs` entry',
  },
  ctlog: {
    what: "a CT log public key to verify the certificate's embedded SCT",
    policy: '`ctlog.pubkey` (or `ctlog.ignoreSCT: true` to not require an SCT)',
    cosign: 'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE, or --trusted-root (or --insecure-ignore-sct)',
    root: 'a `ctlogs` entry',
  },
  roots: {
    what: 'a root certificate to validate the signing certificate',
    policy: '`keyless.roots` (or `certificates.certChain`)',
    cosign: '--certificate-chain / SIGSTORE_ROOT_FILE, or --trusted-root',
    root: 'a `certificateAuthorities` entry',
  },
  tsa: {
    what: 'a timestamping authority chain to verify the RFC 3161 timestamp',
    policy: '`ctlog.tsaCertChain`',
    cosign: 'SIGSTORE_TSA_CERTIFICATE_FILE / --timestamp-certificate-chain, or --trusted-root',
    root: 'a `timestampAuthorities` entry',
  },
  key: {
    what: 'a public key: the signature was made with a key, not a certificate',
    policy: '`keys.publicKeys`',
    cosign: '--key',
    root: '(a trusted root holds no signing keys: pass the key)',
  },
};

/** ERR_TRUST_MATERIAL_MISSING, saying what to set for `kind` given where `trust` came from. */
export function missing(kind: MaterialKind, trust: TrustMaterial, why?: string): VouchError {
  const f = FIELDS[kind];
  const where =
    trust.source === 'trusted-root' && kind !== 'key'
      ? `the trusted root has no ${f.root.replace(/^a /, '')} that applies; use a trusted root with ${f.root}, or set ${f.policy} (cosign: ${f.cosign})`
      : `set ${f.policy} in the policy (cosign: ${f.cosign})`;
  return new VouchError(
    'ERR_TRUST_MATERIAL_MISSING',
    `verification needs ${f.what}${why ? ` (${why})` : ''}, and none was given: ${where}`,
    {
      details: { material: kind, source: trust.source },
    },
  );
}
