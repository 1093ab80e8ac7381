/**
 * sigstore-conformance `bundle-verify` cases replayed through @vouch/sigstore's public API, the
 * same way in Node and in the browser/Deno/Bun/workerd runs (no Node built-ins here: the files
 * of a case are handed in as bytes). A case whose name ends in `_fail` must be refused — with a
 * VouchError of an expected code, so a harness mistake never counts as a pass — and every other
 * case must verify.
 */

import { isVouchError } from '@vouch/core';
import { fromUtf8 } from '@vouch/core/internal';
import { type CertificateIdentity, parseTrustedRoot, verifyBundle } from '@vouch/sigstore';

/** The files of one case directory (bundle.sigstore.json and the optional ones), by name. */
export interface SigstoreCase {
  readonly id: string;
  readonly files: Readonly<Record<string, Uint8Array>>;
}

/** What every case falls back to: the default artifact (a.txt) and the public-good trusted root. */
export interface SigstoreDefaults {
  readonly artifact: Uint8Array;
  /** The Sigstore public-good trusted root (from @sigstore/tuf's seed data), JSON text. */
  readonly trustedRoot: string;
}

export interface SigstoreCaseResult {
  readonly id: string;
  readonly status: 'passed' | 'failed';
  /** `verified`, or the code vouch refused with (and the message, when it did not meet expectations). */
  readonly detail: string;
}

/** The conformance suite's default identity. */
export const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
export const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * The code each `_fail` case must be refused with (the first check that catches it, in vouch's
 * order: bundle rules, signature and binding, log, timestamps, certificate, identity).
 */
export const EXPECTED_CODES: Readonly<Record<string, readonly string[]>> = {
  'bundle-empty-certificate-chain_fail': ['ERR_BUNDLE_INVALID'],
  'bundle-from-wrong-instance_fail': ['ERR_TLOG_INVALID'],
  'bundle-invalid-base64-signature_fail': ['ERR_BUNDLE_INVALID'],
  'bundle-malformed-json_fail': ['ERR_BUNDLE_INVALID'],
  'bundle-negative-log-index_fail': ['ERR_BUNDLE_INVALID'],
  'bundle-unknown-version_fail': ['ERR_BUNDLE_INVALID'],
  'bundle-with-root-cert_fail': ['ERR_BUNDLE_INVALID'],
  'checkpoint-bad-keyhint_fail': ['ERR_TLOG_INVALID'],
  'checkpoint-wrong-roothash_fail': ['ERR_TLOG_INVALID'],
  'dsse-invalid-sig_fail': ['ERR_SIGNATURE_INTEGRITY'],
  'dsse-mismatch-envelope_fail': ['ERR_TLOG_INVALID'],
  'dsse-mismatch-sig_fail': ['ERR_TLOG_INVALID'],
  'inclusion-proof-corrupted-hash_fail': ['ERR_TLOG_INVALID'],
  'incorrect-public-key_fail': ['ERR_TLOG_INVALID'],
  'integrated-time-in-future_fail': ['ERR_CERT_EXPIRED'],
  'intoto-expired-certificate_fail': ['ERR_CERT_EXPIRED'],
  'intoto-log-entry-mismatch_fail': ['ERR_TLOG_INVALID'],
  'intoto-missing-inclusion-proof_fail': ['ERR_BUNDLE_INVALID'],
  'intoto-set-outside-signing-cert-validity_fail': ['ERR_CERT_EXPIRED'],
  'intoto-tsa-timestamp-outside-cert-validity_fail': ['ERR_CERT_EXPIRED'],
  'invalid-checkpoint-signature_fail': ['ERR_TLOG_INVALID'],
  'invalid-ct-key_fail': ['ERR_SCT_INVALID'],
  'invalid-inclusion-proof_fail': ['ERR_BUNDLE_INVALID'],
  'managed-key-no-key_fail': ['ERR_TRUST_MATERIAL_MISSING'],
  'managed-key-wrong-key_fail': ['ERR_MALFORMED_INPUT', 'ERR_SIGNATURE_INTEGRITY'],
  'message-digest-mismatch_fail': ['ERR_ARTIFACT_MISMATCH'],
  'rekor2-checkpoint-missing-log-signature_fail': ['ERR_TLOG_INVALID'],
  'rekor2-checkpoint-missing-origin_fail': ['ERR_TLOG_INVALID'],
  'rekor2-checkpoint-missing-root-hash_fail': ['ERR_TLOG_INVALID'],
  'rekor2-checkpoint-missing-size_fail': ['ERR_TLOG_INVALID'],
  'rekor2-checkpoint-no-matching-signature_fail': ['ERR_TLOG_INVALID'],
  'rekor2-dsse-invalid-sig_fail': ['ERR_SIGNATURE_INTEGRITY'],
  'rekor2-dsse-mismatch-envelope_fail': ['ERR_TLOG_INVALID'],
  'rekor2-dsse-mismatch-sig_fail': ['ERR_TLOG_INVALID'],
  'rekor2-no-inclusion-proof_fail': ['ERR_BUNDLE_INVALID'],
  'rekor2-no-timestamp_fail': ['ERR_TIMESTAMP_INVALID'],
  'rekor2-timestamp-outside-trust-root-tsa-validity_fail': ['ERR_TIMESTAMP_INVALID'],
  'rekor2-timestamp-outside-tsa-cert-validity_fail': ['ERR_TIMESTAMP_INVALID'],
  'rekor2-timestamp-payload-mismatch_fail': ['ERR_TIMESTAMP_INVALID'],
  'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': ['ERR_TIMESTAMP_INVALID'],
  'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': ['ERR_TIMESTAMP_INVALID'],
  'rekor2-timestamp-with-incorrect-time_fail': ['ERR_CERT_EXPIRED'],
  'set-invalid-signature_fail': ['ERR_TLOG_INVALID'],
  'signature-mismatch_fail': ['ERR_SIGNATURE_INTEGRITY'],
  'trust-root-tlog-missing-validity-start_fail': ['ERR_CONFIG_INVALID'],
  'wrong-hashedrekord-artifact_fail': ['ERR_TLOG_INVALID'],
  'wrong-hashedrekord-cert-and-sig_fail': ['ERR_TLOG_INVALID'],
  'wrong-hashedrekord-entry_fail': ['ERR_TLOG_INVALID'],
  'wrong-material_fail': ['ERR_ARTIFACT_MISMATCH'],
};

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : fromUtf8(b).trim());

/** Replay one case. Never throws. */
export async function runSigstoreCase(c: SigstoreCase, defaults: SigstoreDefaults): Promise<SigstoreCaseResult> {
  const mustFail = c.id.endsWith('_fail');
  const f = c.files;
  let outcome: { ok: true } | { ok: false; code: string; message: string };
  try {
    const trust = parseTrustedRoot(f['trusted_root.json'] ?? defaults.trustedRoot);
    const bundle = f['bundle.sigstore.json'];
    if (!bundle) throw new Error('the case has no bundle.sigstore.json');
    const key = text(f['key.pub']);
    const identity: CertificateIdentity = { subject: text(f.identity) ?? DEFAULT_IDENTITY, issuer: text(f.issuer) ?? DEFAULT_ISSUER };
    await verifyBundle(bundle, { artifact: f.artifact ?? defaults.artifact, trust, ...(key ? { key } : { identity }) });
    outcome = { ok: true };
  } catch (e) {
    outcome = isVouchError(e) ? { ok: false, code: e.code, message: e.message } : { ok: false, code: 'non-VouchError', message: String(e) };
  }
  if (outcome.ok) return { id: c.id, status: mustFail ? 'failed' : 'passed', detail: 'verified' };
  const expected = EXPECTED_CODES[c.id];
  const harness = outcome.code === 'non-VouchError' || outcome.code === 'ERR_INVALID_ARGUMENT' || outcome.code === 'ERR_INTERNAL';
  // a new upstream _fail case without an expected code here fails until one is recorded
  const good = mustFail && !harness && expected?.includes(outcome.code);
  return { id: c.id, status: good ? 'passed' : 'failed', detail: good ? outcome.code : `${outcome.code}: ${outcome.message}` };
}
