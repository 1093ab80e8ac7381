import { VouchError } from '@vouch/core';
import type { Attestor, AttestorSet, ImageVerification } from '../types.js';
import {
  type CosignAttestorMaterial,
  cosignAttestorMaterial,
  cosignEntryPath,
  cosignMaterialIdentity,
  cosignMaterialKey,
  expandStaticKeys,
} from '../verifier/cosign-material.js';
import { materialKey, type NotaryAttestation, type NotaryAttestorMaterial } from '../verifier/verifier.js';
import type { KyvernoEngineOptions } from './types.js';

/**
 * What the engine asks of the verifier of one verifyImages type, `M` being that type's attestor
 * material: `NotaryImageVerifier` is an `AttestorVerifier<NotaryAttestorMaterial>`,
 * `CosignImageVerifier` an `AttestorVerifier<CosignAttestorMaterial>`.
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
 * calls what is here.
 */
export interface AttestorType<M extends object = object> {
  /** The verifyImages `type` (`Notary`, `Cosign`, `SigstoreBundle`). */
  readonly name: string;
  /** The configured verifier; without one every attestor check of the type fails. */
  readonly verifier: AttestorVerifier<M> | undefined;
  /** The error of an attestor check when no verifier (or one without `verifyAttestations`) is configured. */
  noVerifier(): VouchError;
  noAttestations(): VouchError;
  /** The error of an attestor whose verified attestations hold none of the attestation's type. */
  noAttestationOfType(image: string, type: string): VouchError;
  /** The trust material of one attestor entry of the verifyImages entry `iv` (the engine keeps one per entry). */
  material(entry: Attestor, iv: ImageVerification): M;
  /** The texts that identify the material: equal texts, equal material (the engine memoizes keys by them). */
  identity(material: M): readonly string[];
  /** A stable hash of the material and trust policy, for verification cache keys. */
  key(material: M, trustPolicy: unknown): string;
  /** Kyverno's suffix of the entry's error path (`.keys` for a Cosign key entry; nothing for Notary). */
  entryPath(entry: Attestor): string;
  /** The entries of an attestor set as counted (Cosign: a `publicKeys` with several keys is one entry per key). */
  entries(set: AttestorSet): readonly Attestor[];
}

function setEntries(set: AttestorSet): readonly Attestor[] {
  return set.entries ?? [];
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
    noAttestationOfType: (image, type) =>
      new VouchError('ERR_SIGNATURE_NOT_FOUND', `no matching attestations found for image ${image} with type ${type}`),
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
    entryPath: () => '',
    entries: setEntries,
  };
}

/** Types Cosign and SigstoreBundle: `keys`, `certificates`, `keyless`, checked by the engine's `cosignVerifier`. */
function cosignAttestors(options: KyvernoEngineOptions, name: 'Cosign' | 'SigstoreBundle'): AttestorType<CosignAttestorMaterial> {
  return {
    name,
    get verifier() {
      return options.cosignVerifier;
    },
    noVerifier: () =>
      new VouchError('ERR_INVALID_ARGUMENT', `no CosignImageVerifier is configured for the Kyverno engine (verifyImages type ${name})`),
    noAttestations: () => new VouchError('ERR_UNSUPPORTED', 'the configured CosignImageVerifier cannot verify attestations'),
    // Kyverno's message, typo included
    noAttestationOfType: (_image, type) => new VouchError('ERR_SIGNATURE_NOT_FOUND', `attestions not found for predicate type ${type}`),
    material: (entry, iv) => cosignAttestorMaterial(entry, iv),
    identity: cosignMaterialIdentity,
    key: (m) => cosignMaterialKey(m),
    entryPath: cosignEntryPath,
    entries: expandStaticKeys,
  };
}

/** The verifyImages types the engine evaluates, by name. */
export function attestorTypes(options: KyvernoEngineOptions): ReadonlyMap<string, AttestorType> {
  return new Map<string, AttestorType>([
    ['Notary', notaryAttestors(options) as AttestorType],
    ['Cosign', cosignAttestors(options, 'Cosign') as AttestorType],
    ['SigstoreBundle', cosignAttestors(options, 'SigstoreBundle') as AttestorType],
  ]);
}

/**
 * How `mutateDigest` resolves a tag to its digest: the configured Notary verifier's `resolveDigest`,
 * else the Cosign verifier's; throws when there is none.
 */
export function digestResolver(options: KyvernoEngineOptions): (image: string, signal?: AbortSignal) => Promise<string> {
  const verifier = options.verifier?.resolveDigest ? options.verifier : options.cosignVerifier;
  const resolve = verifier?.resolveDigest;
  if (!resolve) throw new VouchError('ERR_INVALID_ARGUMENT', 'no digest resolver is configured (NotaryImageVerifier.resolveDigest)');
  return (image, signal) => resolve.call(verifier, image, signal);
}
