/**
 * The one closed set of error codes of vouch. Every error any package throws is a
 * {@link VouchError} carrying one of these codes. Codes are API (tests and callers
 * branch on them); messages are for people and may change.
 *
 * Each code's doc comment is used to generate `docs/errors.md` (tools/gen-error-docs.mjs),
 * so keep them one sentence that says when it happens and what to do.
 */
export const ERROR_CODES = {
  /** An argument or option is missing, of the wrong type or out of range; fix the call or flag. */
  ERR_INVALID_ARGUMENT: 'invalid argument',
  /** An artifact reference (registry/repository[:tag|@digest]) could not be parsed; write it as `host/repo@sha256:<hex>`. */
  ERR_INVALID_REFERENCE: 'invalid artifact reference',
  /** A digest string is malformed or uses an unsupported algorithm (sha256, sha384, sha512 are supported). */
  ERR_INVALID_DIGEST: 'invalid digest',
  /** Content did not hash to the digest that names it; the content was tampered with or truncated and is not used. */
  ERR_DIGEST_MISMATCH: 'digest mismatch',
  /** Content is larger than the configured limit (manifest 4 MiB, envelope 32 MiB, plugin output 64 MiB, …); raise the limit only if you trust the source. */
  ERR_SIZE_LIMIT_EXCEEDED: 'size limit exceeded',
  /** Input that should be PEM, DER, JSON or CBOR could not be decoded. */
  ERR_MALFORMED_INPUT: 'malformed input',
  /** A configuration file (trust policy, signingkeys.json, config.json, docker config) is malformed or inconsistent. */
  ERR_CONFIG_INVALID: 'invalid configuration',
  /** A file or directory could not be read or written. */
  ERR_IO: 'I/O error',
  /** The trust policy document violates a rule of the Notary trust policy specification; the message names the rule. */
  ERR_TRUST_POLICY_INVALID: 'invalid trust policy',
  /** No trust policy statement applies to the artifact (no matching registryScopes and no `*` statement). */
  ERR_NO_APPLICABLE_TRUST_POLICY: 'no applicable trust policy',
  /** A trust store named by the policy does not exist or is empty. */
  ERR_TRUST_STORE_NOT_FOUND: 'trust store not found',
  /** A trust store holds a file that is not a certificate, or a certificate not allowed in that store type. */
  ERR_TRUST_STORE_INVALID: 'invalid trust store',
  /** A certificate could not be parsed, or violates the Notary certificate profile. */
  ERR_CERT_INVALID: 'invalid certificate',
  /** The certificate chain is not a valid chain (order, links, signatures, constraints, key usage, EKU, key size). */
  ERR_CERT_CHAIN_INVALID: 'invalid certificate chain',
  /** The signature's certificate chain does not end in a certificate of the trust stores named by the policy. */
  ERR_CERT_UNTRUSTED: 'certificate not trusted',
  /** A certificate was not valid at the time that matters (signing time, timestamp or now). */
  ERR_CERT_EXPIRED: 'certificate expired or not yet valid',
  /** The signing certificate's subject matches none of the policy's trustedIdentities. */
  ERR_IDENTITY_UNTRUSTED: 'identity not trusted',
  /** A certificate was revoked by its issuer (OCSP or CRL). */
  ERR_CERT_REVOKED: 'certificate revoked',
  /** Revocation status could not be determined (responder unreachable, unknown status, bad response). */
  ERR_REVOCATION_UNKNOWN: 'revocation status unknown',
  /** The signature envelope is malformed or breaks an envelope rule (headers, crit, cty, payload). */
  ERR_ENVELOPE_MALFORMED: 'malformed signature envelope',
  /** The envelope media type, algorithm or key type is not supported by the Notary specification. */
  ERR_ENVELOPE_UNSUPPORTED: 'unsupported signature envelope',
  /** The signature does not verify against the signing certificate's key: the envelope was altered. */
  ERR_SIGNATURE_INTEGRITY: 'signature integrity check failed',
  /** The signature's expiry time has passed. */
  ERR_SIGNATURE_EXPIRED: 'signature expired',
  /** An RFC 3161 timestamp is malformed, does not cover the signature, or its TSA is not trusted. */
  ERR_TIMESTAMP_INVALID: 'invalid timestamp',
  /** A Sigstore bundle is malformed, has an unknown media type or version, or breaks a rule of its version (v0.2 and later need an inclusion proof with a checkpoint). */
  ERR_BUNDLE_INVALID: 'invalid Sigstore bundle',
  /** A transparency log entry does not verify: its signed entry timestamp, inclusion proof or checkpoint signature, or its body, which must describe this signature, key and artifact. */
  ERR_TLOG_INVALID: 'transparency log entry invalid',
  /** The signature has no transparency log entry and the policy requires one; vouch never searches Rekor online: attach the entry (bundle, SET annotation) or set `rekor.ignoreTlog` / `--insecure-ignore-tlog`. */
  ERR_TLOG_ENTRY_MISSING: 'transparency log entry missing',
  /** The signing certificate's embedded signed certificate timestamps (SCTs) are missing, malformed, or none verifies with a trusted CT log key. */
  ERR_SCT_INVALID: 'certificate transparency check failed',
  /** A check needs key material that was not given (Rekor key, CT log key, Fulcio roots, TSA chain, public key); the message names the policy field to set and the cosign flag. */
  ERR_TRUST_MATERIAL_MISSING: 'trust material missing',
  /** The signed payload does not describe the artifact being verified. */
  ERR_ARTIFACT_MISMATCH: 'payload does not match artifact',
  /** The user metadata required by the caller is not in the signed payload. */
  ERR_USER_METADATA_MISMATCH: 'user metadata mismatch',
  /** No signature is associated with the artifact. */
  ERR_SIGNATURE_NOT_FOUND: 'signature not found',
  /** A signature manifest or envelope could not be fetched. */
  ERR_SIGNATURE_RETRIEVAL_FAILED: 'signature retrieval failed',
  /** No signature satisfied the trust policy; `details.outcomes` lists every signature tried and why it failed. */
  ERR_VERIFICATION_FAILED: 'verification failed',
  /** The verification could not be decided (network, revocation unknown); distinct from a failed verification. */
  ERR_VERIFICATION_INCONCLUSIVE: 'verification inconclusive',
  /** The configured maximum number of signatures to evaluate was exceeded. */
  ERR_SIGNATURE_LIMIT_EXCEEDED: 'too many signatures',
  /** The registry refused the credentials (401/403); run `vouch login` or check the token's scope. */
  ERR_REGISTRY_UNAUTHORIZED: 'registry unauthorized',
  /** The registry has no such repository, manifest or blob. */
  ERR_REGISTRY_NOT_FOUND: 'not found in registry',
  /** The registry answered with an unexpected HTTP status or protocol error. */
  ERR_REGISTRY_HTTP: 'registry protocol error',
  /** The registry (or another remote service) could not be reached. */
  ERR_NETWORK: 'network error',
  /** An operation did not finish within its deadline. */
  ERR_TIMEOUT: 'timed out',
  /** The operation was cancelled through its AbortSignal. */
  ERR_ABORTED: 'aborted',
  /** Pushing a signature to the registry or OCI layout failed. */
  ERR_PUSH_SIGNATURE_FAILED: 'push signature failed',
  /** A signing key is not configured (signingkeys.json) or cannot be used. */
  ERR_KEY_NOT_FOUND: 'signing key not found',
  /** A signing operation failed (key and certificate do not match, unsupported key, …). */
  ERR_SIGNING_FAILED: 'signing failed',
  /** A plugin is not installed or the named plugin does not exist. */
  ERR_PLUGIN_NOT_FOUND: 'plugin not found',
  /** A plugin broke the plugin contract (bad JSON, wrong shape, oversized or slow output, lying response). */
  ERR_PLUGIN_PROTOCOL: 'plugin protocol violation',
  /** A plugin reported an error (its error body is in `details`). */
  ERR_PLUGIN_FAILED: 'plugin failed',
  /** A Kyverno policy is invalid; the message names the field and line and says what to write. */
  ERR_KYVERNO_POLICY_INVALID: 'invalid Kyverno policy',
  /** Fewer attestors than the attestor set's `count` verified the image. */
  ERR_ATTESTOR_COUNT_NOT_MET: 'attestor count not met',
  /** The Kubernetes API server refused or failed a request (`details.status`, `details.reason`); a 403 means the service account lacks an RBAC rule (see deploy/). */
  ERR_KUBERNETES_API: 'Kubernetes API error',
  /** The feature exists in the specification but is not supported by this build. */
  ERR_UNSUPPORTED: 'unsupported',
  /** A bug in vouch: please report it. */
  ERR_INTERNAL: 'internal error',
} as const;

export type VouchErrorCode = keyof typeof ERROR_CODES;

const BRAND = Symbol.for('vouch.error');

export interface VouchErrorOptions {
  cause?: unknown;
  /** JSON-safe facts: digests, names, outcomes. */
  details?: Record<string, unknown>;
}

/** The one error class of vouch. Branch on `code`, never on `message`. */
export class VouchError extends Error {
  readonly code: VouchErrorCode;
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(code: VouchErrorCode, message: string, options: VouchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VouchError';
    this.code = code;
    if (options.details) this.details = options.details;
    Object.defineProperty(this, BRAND, { value: true });
  }

  toJSON(): { name: string; code: VouchErrorCode; message: string; details?: unknown } {
    const out: { name: string; code: VouchErrorCode; message: string; details?: unknown } = {
      name: this.name,
      code: this.code,
      message: this.message,
    };
    if (this.details) out.details = this.details;
    return out;
  }
}

/** True for any VouchError, even one created by another copy of this package. */
export function isVouchError(e: unknown): e is VouchError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/** True when `e` is a VouchError with the given code. */
export function hasCode(e: unknown, code: VouchErrorCode): e is VouchError {
  return isVouchError(e) && e.code === code;
}

/**
 * Wrap anything thrown by a third-party library into a VouchError with `code`,
 * keeping a VouchError as it is.
 */
export function toVouchError(e: unknown, code: VouchErrorCode, message: string): VouchError {
  if (isVouchError(e)) return e;
  const why = e instanceof Error ? e.message : String(e);
  return new VouchError(code, `${message}: ${why}`, { cause: e });
}
