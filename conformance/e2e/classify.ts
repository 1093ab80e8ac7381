import { isCliStep, type Scenario } from './types.js';

/** The only reasons a scenario may be skipped (issue 3); the runner prints them with counts. */
export const SKIP_REASONS = {
  internet: 'needs internet',
  nonRoot: 'needs a non-root user',
  referrersApi: 'needs a registry with the Referrers API',
  goText: 'checks Go-specific text (error chains, %q quoting)',
  issue4: 'belongs to issue 4 (TSA/OCSP/CRL, blob)',
  issue5: 'belongs to issue 5 (plugins)',
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
};

/**
 * Scenarios vouch cannot pass by design; they run and fail with this explanation appended (no
 * reason of the fixed skip list applies). The lead decides whether the list grows.
 */
export const KNOWN_DEVIATIONS: Readonly<Record<string, string>> = {
  'trustpolicy/verification_level/skip-level-with-invalid-integrity':
    'the policy uses level "skip" with registry scope "*", which the trust policy spec forbids and vouch rejects (GAP: notation-go accepts it)',
  'command/policy/importing-configuration-with-existing-trust-policy-configuration/should-cancel-import-with-n':
    'imports skip_trustpolicy.json (level "skip" with registry scope "*"), which the spec forbids and vouch rejects (GAP)',
  'command/policy/importing-configuration-with-existing-trust-policy-configuration/should-cancel-import-by-default':
    'imports skip_trustpolicy.json (level "skip" with registry scope "*"), which the spec forbids and vouch rejects (GAP)',
  'command/policy/importing-configuration-with-existing-trust-policy-configuration/should-skip-confirmation-if-existing-policy-is-malformed':
    'imports skip_trustpolicy.json (level "skip" with registry scope "*"), which the spec forbids and vouch rejects (GAP)',
  'command/policy/importing-configuration-with-existing-trust-policy-configuration/should-confirm-import':
    'imports skip_trustpolicy.json (level "skip" with registry scope "*"), which the spec forbids and vouch rejects (GAP)',
  'command/policy/importing-configuration-with-existing-trust-policy-configuration/should-confirm-import-by-force':
    'imports skip_trustpolicy.json (level "skip" with registry scope "*"), which the spec forbids and vouch rejects (GAP)',
  'trustpolicy/trust_store/overlapped-trust-stores':
    'upstream skips it ("overlapped trust stores were not checked"); its setup configures no signing key, so its first step (sign) cannot succeed in any implementation',
};

function hasAction(s: Scenario, action: string): boolean {
  return s.steps.some((st) => !isCliStep(st) && st.action === action);
}

function usesFlag(s: Scenario, flag: string): boolean {
  return s.steps.some((st) => isCliStep(st) && st.args.includes(flag));
}

/** Why a scenario is skipped, or undefined when it runs. `root`: the runner runs as uid 0. */
export function skipReason(s: Scenario, opts: { root: boolean; referrersApi: boolean }): SkipReason | undefined {
  const needs = new Set(s.needs);
  if (needs.has('network') || needs.has('tsa')) return SKIP_REASONS.internet;
  if (needs.has('plugin') || s.command === 'plugin' || s.verbs.includes('plugin')) return SKIP_REASONS.issue5;
  if (needs.has('crl-server') || needs.has('ocsp-responder') || s.command === 'blob' || s.verbs.includes('blob')) {
    return SKIP_REASONS.issue4;
  }
  // requesting an RFC 3161 timestamp (both flags given): TSA client work of issue 4
  if (usesFlag(s, '--timestamp-url') && usesFlag(s, '--timestamp-root-cert')) return SKIP_REASONS.issue4;
  if (opts.root && hasAction(s, 'chmod')) return SKIP_REASONS.nonRoot;
  if (!opts.referrersApi && hasAction(s, 'assert_registry_referrers')) return SKIP_REASONS.referrersApi;
  // E2E_CHECK_GO_TEXT=1 runs them anyway (to re-check the list)
  if (GO_SPECIFIC[s.id] && process.env.E2E_CHECK_GO_TEXT !== '1') return SKIP_REASONS.goText;
  return undefined;
}
