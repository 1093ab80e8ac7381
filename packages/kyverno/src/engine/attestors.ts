import { VouchError } from '@vouch/core';
import type { Attestor } from '../types.js';
import { materialKey, type NotaryAttestation, type NotaryAttestorMaterial } from '../verifier/verifier.js';
import type { KyvernoEngineOptions } from './types.js';

/**
 * What the engine asks of the verifier of one verifyImages type, `M` being that type's attestor
 * material: `NotaryImageVerifier` is an `AttestorVerifier<NotaryAttestorMaterial>`.
 */
export interface AttestorVerifier<M> {
  /** Verifies the image's signature with the attestor; resolves with the verified manifest digest. */
  verifyImage(request: { image: string; attestor: M; trustPolicy?: unknown; signal?: AbortSignal }): Promise<{ digest: string }>;
  /** Every verified attestation of `type` of the image (needed only for `attestations`). */
  verifyAttestations?(request: {
    image: string;
    type: string;
    attestor: M;
    trustPolicy?: unknown;
    signal?: AbortSignal;
  }): Promise<{ digest: string; attestations: NotaryAttestation[] }>;
}

/**
 * The seam between the rule code and signature verification: one `AttestorType` per verifyImages
 * `type` vouch evaluates. The rule code (verify-images.ts) looks the entry's type up and only ever
 * calls what is here, so a second type (Cosign) is one more entry in {@link attestorTypes} with its
 * verifier (and its `KYVERNO_SUPPORT` rows flipped), without touching the rules.
 */
export interface AttestorType<M extends object = object> {
  /** The verifyImages `type` (`Notary`). */
  readonly name: string;
  /** The configured verifier; without one every attestor check of the type fails. */
  readonly verifier: AttestorVerifier<M> | undefined;
  /** The error of an attestor check when no verifier (or one without `verifyAttestations`) is configured. */
  noVerifier(): VouchError;
  noAttestations(): VouchError;
  /** The trust material of one attestor entry (the engine keeps one per entry). */
  material(entry: Attestor): M;
  /** The texts that identify the material: equal texts, equal material (the engine memoizes keys by them). */
  identity(material: M): readonly string[];
  /** A stable hash of the material and trust policy, for verification cache keys. */
  key(material: M, trustPolicy: unknown): string;
}

/** Type Notary: `certificates.cert` / `certChain` (and vouch's `tsaCertChain`), checked by the engine's `verifier`. */
function notaryAttestors(options: KyvernoEngineOptions): AttestorType<NotaryAttestorMaterial> {
  return {
    name: 'Notary',
    get verifier() {
      return options.verifier;
    },
    noVerifier: () => new VouchError('ERR_INVALID_ARGUMENT', 'no NotaryImageVerifier is configured for the Kyverno engine'),
    noAttestations: () =>
      new VouchError('ERR_UNSUPPORTED', 'the configured NotaryImageVerifier cannot verify attestations (verifyAttestations is missing)'),
    material(entry) {
      const c = entry.certificates ?? {};
      const m: NotaryAttestorMaterial = {};
      if (c.cert) m.certificates = c.cert;
      if (c.certChain) m.certificateChain = c.certChain;
      if (c.tsaCertChain) m.tsaCertChain = c.tsaCertChain;
      return m;
    },
    identity: (m) => [m.certificates ?? '', m.certificateChain ?? '', m.tsaCertChain ?? ''],
    key: (m, trustPolicy) => materialKey(m, trustPolicy),
  };
}

/** The verifyImages types the engine evaluates, by name. */
export function attestorTypes(options: KyvernoEngineOptions): ReadonlyMap<string, AttestorType> {
  return new Map<string, AttestorType>([['Notary', notaryAttestors(options) as AttestorType]]);
}

/** How `mutateDigest` resolves a tag to its digest: the configured verifier's `resolveDigest`; throws when there is none. */
export function digestResolver(options: KyvernoEngineOptions): (image: string, signal?: AbortSignal) => Promise<string> {
  const verifier = options.verifier;
  const resolve = verifier?.resolveDigest;
  if (!resolve) throw new VouchError('ERR_INVALID_ARGUMENT', 'no digest resolver is configured (NotaryImageVerifier.resolveDigest)');
  return (image, signal) => resolve.call(verifier, image, signal);
}
