import { isCliStep, type Scenario } from './types.js';

/**
 * The only reasons a scenario may be skipped (issue 3); the runner prints them all with counts.
 * `referrersApi` is unused since `assert_registry_referrers` reads the referrers tag schema on a
 * registry without the API; it stays in the list that issue 3 fixed.
 */
export const SKIP_REASONS = {
  // issue 11: vouch has no NOTATION_EXPERIMENTAL gate (docs/compatibility.md C10)
  stableFlags: 'tests the NOTATION_EXPERIMENTAL gate, which vouch does not have (--oci-layout and --scope are stable)',
  internet: 'needs internet',
  nonRoot: 'needs a non-root user',
  referrersApi: 'needs a registry with the Referrers API',
  goText: 'checks Go-specific text (error chains, %q quoting)',
  specStrict: 'vouch follows the spec where notation-go is lax (GAP)',
  brokenUpstream: 'broken upstream (upstream skips it)',
  // issue 11: where notation 2 (this suite's upstream) and notation 1.3.2 differ, vouch does as 1.3.2
  notation13: "expects notation 2's output where vouch keeps notation 1.3.2's (docs/compatibility.md)",
} as const;

export type SkipReason = (typeof SKIP_REASONS)[keyof typeof SKIP_REASONS];

/**
 * Scenarios whose expectations are text that only the Go implementation produces. Each entry
 * says which text; everything else in those scenarios is exercised by sibling scenarios.
 */
export const GO_SPECIFIC: Readonly<Record<string, string>> = {
  // `signing agent: notation-go/`: the signing agent names the Go library that signed
  'command/inspect/all-signatures-of-an-image': 'expects the signing agent "notation-go/"',
  'command/inspect/sign-with-force-referrers-tag-set': 'expects the signing agent "notation-go/"',
  'command/inspect/sign-with-force-referrers-tag-set-to-false': 'expects the signing agent "notation-go/"',
  'command/inspect/all-signatures-of-an-image-with-tls': 'expects the signing agent "notation-go/"',
  'command/inspect/all-signatures-of-an-image-with-insecure-registry-flag': 'expects the signing agent "notation-go/"',
  // Go's cms/asn1 error chain for a corrupt timestamp token, byte for byte
  'command/inspect/with-invalid-timestamp-signature-in-text-format': 'expects the Go cms/asn1 parse error chain',
  'command/inspect/with-invalid-timestamp-signature-in-json-format': 'expects the Go cms/asn1 parse error chain',
  // Go time.RFC1123Z rendering of the certificate expiry ("Tue, 27 Jun 2023 06:10:00 +0000") inside the verifier message
  'trustpolicy/verification_level/permissive-level-with-expired-authentic-timestamp': 'expects Go time.RFC1123Z text',
  'trustpolicy/verification_level/audit-level-with-expired-authentic-timestamp': 'expects Go time.RFC1123Z text',
  'trustpolicy/verification_level/strict-level-with-authentic-timestamp-overridden-as-log-level': 'expects Go time.RFC1123Z text',
  // the trusted identity value is quoted with %q including the blank after "x509.subject:"
  'trustpolicy/trusted_identity/with-trusted-identities-missing-organization': 'quotes the untrimmed DN with %q',
  'trustpolicy/trusted_identity/with-trusted-identities-missing-state': 'quotes the untrimmed DN with %q',
  'trustpolicy/trusted_identity/with-trusted-identities-missing-country': 'quotes the untrimmed DN with %q',
  // store name and type quoted with %q in the Go error text
  'trustpolicy/trust_store/invalid-trust-store': 'quotes store name and type with %q',
  // notation-go's revocation debug log lines and Go HTTP trace dumps under -d; vouch prints the same
  // CRL file-cache and OCSP-fallback lines, but its own HTTP trace. Exit codes and every other
  // expectation pass (E2E_CHECK_GO_TEXT=relaxed).
  'scenario/crl/succesfully-completed-with-the-crl-in-the-cache-expired-and-a-roundtrip':
    "expects notation-go's expired-cache debug line and its Go HTTP trace (%q-quoted method and URL)",
  'scenario/crl/failed-with-crl-in-the-cache-expired-and-a-roundtrip-to-download-a-revoked-crl':
    "expects notation-go's expired-cache debug line and its Go HTTP trace (%q-quoted method and URL)",
  // run only as a non-root user (the cache directory is made unwritable)
  'scenario/crl/successfully-completed-with-cache-creation-error-in-warning-message':
    'expects the Go HTTP trace (%q-quoted method and URL)',
  'scenario/crl/failed-with-revoked-leaf-certificate-and-cache-creation-error-in-warning-message':
    'expects the Go HTTP trace (%q-quoted method and URL)',
  'scenario/crl/successfully-completed-with-cache-get-and-set-error-in-debug-log': 'expects the Go HTTP trace (%q-quoted method and URL)',
  'scenario/ocsp/successfully': "expects the Go HTTP response header dump and notation-go's revocation debug log line",
  'scenario/ocsp/with-leaf-certificate-revoked': "expects notation-go's per-server revocation log line (%q-quoted subject and URL)",
  'scenario/ocsp/with-unknown-status': 'expects notation-go\'s revocation error log line ("error: signing certificate …")',
  // notation-go's own verification error texts for a tampered plugin response
  'plugin/sign/with-capability-signature-generator-raw-and-tampered-signature': 'expects the Go crypto/rsa error text',
  'plugin/sign/with-capability-signature-generator-envelope-and-tampered-signature-envelope':
    'expects notation-core-go\'s JWS parse error for {} ("certificate chain is not present")',
};

/**
 * For the Go-specific scenarios above whose other expectations vouch meets: the expected
 * substrings that only notation-go prints. With E2E_CHECK_GO_TEXT=relaxed the runner runs these
 * scenarios with exactly these expectations left out, to show that nothing else differs.
 */
export const GO_ONLY_TEXT: Readonly<Record<string, readonly string[]>> = (() => {
  const trace = ['"GET" "http://localhost:10086/intermediate.crl"', '"GET" "http://localhost:10086/leaf.crl"'];
  const expired = ['CRL bundle retrieved from file cache has expired at 2023-12-25', '"GET" "http://localhost:10086/leaf.crl"'];
  return {
    'scenario/crl/succesfully-completed-with-the-crl-in-the-cache-expired-and-a-roundtrip': expired,
    'scenario/crl/failed-with-crl-in-the-cache-expired-and-a-roundtrip-to-download-a-revoked-crl': expired,
    'scenario/crl/successfully-completed-with-cache-creation-error-in-warning-message': trace,
    'scenario/crl/failed-with-revoked-leaf-certificate-and-cache-creation-error-in-warning-message': trace,
    'scenario/crl/successfully-completed-with-cache-get-and-set-error-in-debug-log': trace,
    'scenario/ocsp/successfully': [
      '"Content-Type": "application/ocsp-response"',
      'No verification impacting errors encountered while checking revocation, status is OK',
    ],
    'scenario/ocsp/with-leaf-certificate-revoked': [
      'Certificate #1 in chain with subject "CN=LeafCert,OU=OrgUnit,O=Organization,L=City,ST=State,C=US" encountered an error for revocation method OCSP at URL "http://localhost:10087": certificate is revoked via OCSP',
    ],
    'scenario/ocsp/with-unknown-status': [
      'error: signing certificate with subject "CN=LeafCert,OU=OrgUnit,O=Organization,L=City,ST=State,C=US" revocation status is unknown',
    ],
    'plugin/sign/with-capability-signature-generator-raw-and-tampered-signature': [
      'generated signature failed verification: signature is invalid. Error: crypto/rsa: verification error',
    ],
    'plugin/sign/with-capability-signature-generator-envelope-and-tampered-signature-envelope': [
      'generated signature failed verification: certificate chain is not present',
    ],
  };
})();

const DEBUG_STACK =
  'with -d vouch prints the stack trace and details of the error after the "Error: …" line (packages/cli/src/run.ts); notation prints the Error line only, and the scenario compares stderr byte for byte';

const BLOB_SKIP_POLICY =
  'imports skip_trustpolicy.json, an OCI trust policy (registryScopes ["*"]), as the blob trust policy: registryScopes is not a blob trust policy field and vouch rejects the statement, notation-go ignores unknown fields';

/**
 * Scenarios skipped because vouch follows the Notary Project specification where notation-go
 * is lax (DESIGN.md: spec-strict, GAP in notary-spec-notes.md). Each entry says what the spec
 * forbids.
 */
export const SPEC_STRICT: Readonly<Record<string, string>> = {
  'trustpolicy/verification_level/skip-level-with-invalid-integrity':
    'the policy uses level "skip" with registry scope "*", which the trust policy spec forbids and vouch rejects (notation-go accepts it)',
  'command/policy/importing-configuration-with-existing-trust-policy-configuration/should-cancel-import-with-n':
    'imports skip_trustpolicy.json (level "skip" with registry scope "*"), which the spec forbids and vouch rejects',
  'command/policy/importing-configuration-with-existing-trust-policy-configuration/should-cancel-import-by-default':
    'imports skip_trustpolicy.json (level "skip" with registry scope "*"), which the spec forbids and vouch rejects',
  'command/policy/importing-configuration-with-existing-trust-policy-configuration/should-skip-confirmation-if-existing-policy-is-malformed':
    'imports skip_trustpolicy.json (level "skip" with registry scope "*"), which the spec forbids and vouch rejects',
  'command/policy/importing-configuration-with-existing-trust-policy-configuration/should-confirm-import':
    'imports skip_trustpolicy.json (level "skip" with registry scope "*"), which the spec forbids and vouch rejects',
  'command/policy/importing-configuration-with-existing-trust-policy-configuration/should-confirm-import-by-force':
    'imports skip_trustpolicy.json (level "skip" with registry scope "*"), which the spec forbids and vouch rejects',
  // the blob twins import the same OCI policy file as the blob trust policy
  'command/blob/policy/importing-configuration-with-existing-trust-policy-configuration/should-cancel-import-with-n': BLOB_SKIP_POLICY,
  'command/blob/policy/importing-configuration-with-existing-trust-policy-configuration/should-cancel-import-by-default': BLOB_SKIP_POLICY,
  'command/blob/policy/importing-configuration-with-existing-trust-policy-configuration/should-skip-confirmation-if-existing-policy-is-malformed':
    BLOB_SKIP_POLICY,
  'command/blob/policy/importing-configuration-with-existing-trust-policy-configuration/should-confirm-import': BLOB_SKIP_POLICY,
  'command/blob/policy/importing-configuration-with-existing-trust-policy-configuration/should-confirm-import-by-force': BLOB_SKIP_POLICY,
  'command/blob/sign/with-specified-media-type':
    'signs with --media-type other-media-type; a descriptor media type must be type/subtype (RFC 6838, OCI descriptor spec) and vouch rejects it, notation-go accepts any string',
};

/**
 * Scenarios that assert what notation 2 changed from notation 1.3.2, where vouch keeps 1.3.2's
 * behaviour because the real notation 1.3.2 is its target (issue 11; the interop suite,
 * conformance/interop, checks the 1.3.2 side against the real tool). Each entry says what differs.
 */
export const NOTATION_13: Readonly<Record<string, string>> = {
  'command/inspect/with-timestamped-oci-layout':
    'notation 2 labels the envelope type "signature envelope type" and adds "content type"; notation 1.3.2 prints "media type" and the attribute keys (signingScheme, signingAgent)',
  'command/inspect/with-timestamped-oci-layout-and-output-in-json':
    'notation 2 writes "signatures" and "signatureEnvelopeType"; notation 1.3.2 writes "Signatures" and the envelope type as "mediaType"',
  'command/inspect/with-no-signature-in-json-format': 'notation 2 writes "signatures": []; notation 1.3.2 writes "Signatures": []',
  'command/list/oci-layout-with-no-signature':
    'notation 2 says "has no associated signatures"; notation 1.3.2 says "has no associated signature"',
  'command/policy/showing-configuration/should-show-exist-policy':
    'notation 2 calls trustpolicy.json deprecated; it is the only file notation 1.3.2 reads, and the one vouch reads first (no warning)',
  'command/policy/importing-configuration-with-existing-trust-policy-configuration/should-warn-when-failed-to-delete-old-trust-policy':
    'notation 2 imports into trustpolicy.oci.json and deletes trustpolicy.json; vouch writes trustpolicy.json (notation 1.3.2 reads only it) and never deletes it, so a directory in its place fails the import',
  'trustpolicy/registry_scope/invalid-registryscope':
    'notation 2 says "no applicable oci trust policy statement"; notation 1.3.2 says "no applicable trust policy statement"',
};

/** Scenarios that cannot pass in any implementation; upstream skips them too. Each entry says why. */
export const BROKEN_UPSTREAM: Readonly<Record<string, string>> = {
  'trustpolicy/trust_store/overlapped-trust-stores':
    'upstream skips it ("overlapped trust stores were not checked"); its setup configures no signing key, so its first step (sign) cannot succeed',
};

/**
 * Scenarios that run and that vouch is known to fail, for a reason outside the e2e runner; the
 * failure message is prefixed with this explanation.
 */
export const KNOWN_DEVIATIONS: Readonly<Record<string, string>> = {
  // packages/cli/src/run.ts: with -d, an error's stack trace and details follow the Error line
  'plugin/install/with-zip-bomb-single-file-exceeds-256-mib-size-limit-in-zip-format': DEBUG_STACK,
  'plugin/install/with-zip-bomb-single-file-exceeds-256-mib-size-limit-in-tar-gz-format': DEBUG_STACK,
  'plugin/install/with-zip-slip': DEBUG_STACK,
};

/** A step takes permissions away (chmod, or mkdir without full owner access): root ignores them. */
function dropsPermissions(s: Scenario): boolean {
  return s.steps.some(
    (st) =>
      !isCliStep(st) &&
      (st.action === 'chmod' || (st.action === 'mkdir' && (Number.parseInt(String(st.mode ?? '755'), 8) & 0o700) !== 0o700)),
  );
}

/**
 * notation's warning for its experimental flags. vouch's `--oci-layout` and `--scope` are stable
 * (docs/compatibility.md C10): no scenario is held to the warning, and the two scenarios about the
 * gate itself are skipped.
 */
export const EXPERIMENTAL_WARNING =
  'Warning: This feature is experimental and may not be fully tested or completed and may be deprecated. Report any issues to "https://github/notaryproject/notation"\n';

export const STABLE_FLAGS: Readonly<Record<string, string>> = {
  'command/sign/by-digest-with-oci-layout-but-without-experimental':
    'expects sign --oci-layout to be refused without NOTATION_EXPERIMENTAL=1',
  'command/verify/by-digest-with-oci-layout-but-without-experimental':
    'expects verify --oci-layout --scope to be refused without NOTATION_EXPERIMENTAL=1',
};

/** Why a scenario is skipped, or undefined when it runs. `root`: the runner runs as uid 0. */
export function skipReason(s: Scenario, opts: { root: boolean }): SkipReason | undefined {
  if (STABLE_FLAGS[s.id]) return SKIP_REASONS.stableFlags;
  const needs = new Set(s.needs);
  if (BROKEN_UPSTREAM[s.id]) return SKIP_REASONS.brokenUpstream;
  if (SPEC_STRICT[s.id]) return SKIP_REASONS.specStrict;
  if (NOTATION_13[s.id]) return SKIP_REASONS.notation13;
  // a public TSA (GlobalSign / DigiCert) whose chain is also checked online, or a plugin URL on GitHub
  if (needs.has('network') || needs.has('tsa')) return SKIP_REASONS.internet;
  if (opts.root && dropsPermissions(s)) return SKIP_REASONS.nonRoot;
  // E2E_CHECK_GO_TEXT=1 runs them anyway (to re-check the list); =relaxed runs those listed in
  // GO_ONLY_TEXT without their Go-only expectations
  const check = process.env.E2E_CHECK_GO_TEXT;
  if (GO_SPECIFIC[s.id] && check !== '1' && !(check === 'relaxed' && GO_ONLY_TEXT[s.id])) return SKIP_REASONS.goText;
  return undefined;
}
