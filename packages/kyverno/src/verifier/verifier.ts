import { digestOf, isVouchError, utf8 } from '@vouch/core';

/** Trust material of one Notary attestor entry (from `certificates.cert` / `certChain` / vouch's `tsaCertChain`). */
export interface NotaryAttestorMaterial {
  /** PEM certificate(s) from `certificates.cert`. */
  certificates?: string;
  /** PEM bundle from `certificates.certChain`. */
  certificateChain?: string;
  /** vouch extension: PEM bundle of trusted TSA roots (`certificates.tsaCertChain`). */
  tsaCertChain?: string;
}

/** Request to verify the Notary signature of one image. */
export interface NotaryVerifyRequest {
  /** Normalized image reference (`ImageInfo.String()`: `registry/path:tag` or `registry/path@digest`). */
  image: string;
  attestor: NotaryAttestorMaterial;
  /**
   * A full notation trust policy document to use instead of Kyverno's synthesized one (see
   * {@link kyvernoNotaryTrustPolicy}), when the engine was configured with one for this rule.
   */
  trustPolicy?: unknown;
  signal?: AbortSignal;
}

/** Request to fetch and verify the signed referrers (attestations) of one type. */
export interface NotaryAttestationRequest {
  /** Image reference, with digest when known. */
  image: string;
  /** Referrer `artifactType` to select (exact match). */
  type: string;
  attestor: NotaryAttestorMaterial;
  trustPolicy?: unknown;
  signal?: AbortSignal;
}

/**
 * One verified attestation: for type Notary the referrer manifest plus its predicate (the single
 * layer parsed as JSON); for type Cosign / SigstoreBundle the in-toto statement and its predicate.
 */
export interface NotaryAttestation {
  /** Digest of the referrer manifest. */
  digest: string;
  /** The referrer's artifactType. */
  type: string;
  /** The layer JSON. */
  predicate: unknown;
  /** The referrer manifest JSON (optional). */
  manifest?: Record<string, unknown>;
  /**
   * The statement attestation conditions see as `statement` (type Cosign: the in-toto statement
   * with `type` set to its predicate type, as Kyverno decodes it). Default: the manifest with
   * `type` and `predicate`.
   */
  statement?: Record<string, unknown>;
}

/**
 * The signature verifier the engine calls; implemented with @vouch/notation by the caller.
 * Implementations resolve when the image verifies and reject with a VouchError otherwise. A
 * rejection whose cause chain holds `ERR_NETWORK`, `ERR_TIMEOUT` or `ERR_ABORTED` is an
 * infrastructure error (rule status `error`, decided by the policy's failurePolicy, as Kyverno
 * does for network errors); every other rejection, including a thrown non-VouchError, is `fail`
 * (see `isInfrastructureError`).
 */
export interface NotaryImageVerifier {
  /** Verifies the image's Notary signature; resolves with the verified manifest digest. */
  verifyImage(request: NotaryVerifyRequest): Promise<{ digest: string }>;
  /**
   * Lists the image's referrers of `type`, verifies each one's Notary signature with the attestor, and
   * returns every verified one (an empty list when none exists). Needed only for `attestations`.
   */
  verifyAttestations?(request: NotaryAttestationRequest): Promise<{ digest: string; attestations: NotaryAttestation[] }>;
  /** Resolves a tag reference to its manifest digest (for `mutateDigest` without attestors). */
  resolveDigest?(image: string, signal?: AbortSignal): Promise<string>;
}

const INFRASTRUCTURE = new Set(['ERR_NETWORK', 'ERR_TIMEOUT', 'ERR_ABORTED']);

/**
 * True when `e` is an infrastructure failure as Kyverno defines it (its engine reports `error` only
 * for a network error in the error chain): a VouchError `ERR_NETWORK`, `ERR_TIMEOUT` or `ERR_ABORTED`
 * anywhere in the `cause` chain, or an `ERR_VERIFICATION_INCONCLUSIVE` whose every signature fetch
 * failed that way. Only such errors are left to the policy's failurePolicy; anything else (a
 * registry answering 401/404/5xx, unknown revocation status, a bug, a thrown non-VouchError) fails
 * closed.
 */
export function isInfrastructureError(e: unknown): boolean {
  let cur: unknown = e;
  for (let depth = 0; depth < 16 && cur !== undefined && cur !== null; depth++) {
    if (isVouchError(cur)) {
      if (INFRASTRUCTURE.has(cur.code)) return true;
      // notation reports revocation "unknown" as a verification failure (Kyverno: fail)
      if (cur.code === 'ERR_REVOCATION_UNKNOWN') return false;
      if (cur.code === 'ERR_VERIFICATION_INCONCLUSIVE') {
        const outcomes = cur.details?.outcomes;
        if (
          Array.isArray(outcomes) &&
          outcomes.length > 0 &&
          outcomes.every((o) => {
            const code = (o as { error?: { code?: unknown } } | null)?.error?.code;
            return typeof code === 'string' && INFRASTRUCTURE.has(code);
          })
        ) {
          return true;
        }
      }
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** Kyverno `combineCerts`: `cert`, then "\n", then `certChain` (each only if non-empty). */
export function combineNotaryCertificates(cert: string | undefined, certChain: string | undefined): string {
  const parts = [cert ?? '', certChain ?? ''].filter((s) => s !== '');
  return parts.join('\n');
}

/** Kyverno `matchArtifactType`: exact equality; an empty expected type never matches. */
export function matchesArtifactType(artifactType: string | undefined, expected: string): boolean {
  return expected !== '' && artifactType === expected;
}

/**
 * The notation trust policy Kyverno synthesises for every ClusterPolicy/Policy Notary attestor:
 * strict level, trust store `ca:kyverno` (plus `tsa:kyverno` when TSA roots are given), any identity.
 */
export function kyvernoNotaryTrustPolicy(options: { tsa?: boolean } = {}): {
  version: string;
  trustPolicies: {
    name: string;
    registryScopes: string[];
    signatureVerification: { level: string };
    trustStores: string[];
    trustedIdentities: string[];
  }[];
} {
  return {
    version: '1.0',
    trustPolicies: [
      {
        name: 'kyverno',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: options.tsa ? ['ca:kyverno', 'tsa:kyverno'] : ['ca:kyverno'],
        trustedIdentities: ['*'],
      },
    ],
  };
}

/** Stable hash of attestor material (+ trust policy), for cache keys. */
export function materialKey(material: NotaryAttestorMaterial, trustPolicy?: unknown): string {
  return digestOf(
    utf8(JSON.stringify([material.certificates ?? '', material.certificateChain ?? '', material.tsaCertChain ?? '', trustPolicy ?? null])),
  );
}
