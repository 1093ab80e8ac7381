import { type Clock, isVouchError, parseReference, type Reference, VouchError } from '@vouch/core';
import { fromUtf8 } from '@vouch/core/internal';
import type { EnvelopeCodec } from '@vouch/envelope';
import { createVerifier, type RevocationChecker, type TimestampVerifier, type Verifier } from '@vouch/notation';
import type { Repository } from '@vouch/registry';
import { memoryTrustStore } from '@vouch/trust-policy';
import { parseCertificates } from '@vouch/x509';
import { errMessage } from '../util.js';
import {
  combineNotaryCertificates,
  kyvernoNotaryTrustPolicy,
  materialKey,
  type NotaryAttestation,
  type NotaryAttestationRequest,
  type NotaryImageVerifier,
  type NotaryVerifyRequest,
} from './verifier.js';

/** Options of {@link notationImageVerifier}. */
export interface NotationImageVerifierOptions {
  /** The repository holding `ref` (a remote registry client, an OCI layout mapped to the reference, …). */
  repositoryFor(ref: Reference): Repository;
  /** Envelope codecs (`jws`, `cose`). */
  envelopes: readonly EnvelopeCodec[];
  revocation?: RevocationChecker | false;
  timestamp?: TimestampVerifier;
  now?: Clock;
  /** Verifiers kept per distinct attestor material (default 256). */
  maxVerifiers?: number;
}

/**
 * The {@link NotaryImageVerifier} Kyverno's engine calls, implemented with @vouch/notation the
 * way Kyverno does it: the attestor's certificates (cert + certChain) form the trust store
 * `ca:kyverno` (and `tsaCertChain` the store `tsa:kyverno`), under the synthesized trust policy
 * (strict, scope `*`, any identity) unless a full notation policy is configured for the rule.
 * @example
 * ```ts
 * import { fetchLike } from '@vouch/core';
 * import { cose } from '@vouch/envelope/cose';
 * import { jws } from '@vouch/envelope/jws';
 * import { notationImageVerifier } from '@vouch/kyverno';
 * import { createRegistryClient, remoteRepository } from '@vouch/registry';
 *
 * const client = createRegistryClient({ fetch: fetchLike() });
 * const verifier = notationImageVerifier({
 *   repositoryFor: (ref) => remoteRepository(client, `${ref.registry}/${ref.repository}`),
 *   envelopes: [jws, cose],
 * });
 * ```
 */
export function notationImageVerifier(options: NotationImageVerifierOptions): NotaryImageVerifier {
  const max = options.maxVerifiers ?? 256;
  const verifiers = new Map<string, Verifier>();

  // materialKey hashes the PEM text; remember it per distinct material (no trust policy) instead of hashing per call
  const keys = new Map<string, string>();
  function keyOf(attestor: NotaryVerifyRequest['attestor'], trustPolicy: unknown): string {
    if (trustPolicy !== undefined) return materialKey(attestor, trustPolicy);
    const raw = `${attestor.certificates ?? ''}\u0000${attestor.certificateChain ?? ''}\u0000${attestor.tsaCertChain ?? ''}`;
    let k = keys.get(raw);
    if (k === undefined) {
      if (keys.size >= max) keys.clear();
      k = materialKey(attestor, trustPolicy);
      keys.set(raw, k);
    }
    return k;
  }

  function verifierFor(req: Pick<NotaryVerifyRequest, 'attestor' | 'trustPolicy'>): Verifier {
    const key = keyOf(req.attestor, req.trustPolicy);
    let v = verifiers.get(key);
    if (v) {
      verifiers.delete(key);
      verifiers.set(key, v); // LRU order
      return v;
    }
    const pem = combineNotaryCertificates(req.attestor.certificates, req.attestor.certificateChain);
    if (pem.trim() === '')
      throw new VouchError(
        'ERR_KYVERNO_POLICY_INVALID',
        'the Notary attestor has no certificates: set certificates.cert or certificates.certChain',
      );
    const ca = parseCertificates(pem);
    const tsa = req.attestor.tsaCertChain ? parseCertificates(req.attestor.tsaCertChain) : undefined;
    v = createVerifier({
      trustPolicy: req.trustPolicy ?? kyvernoNotaryTrustPolicy({ tsa: tsa !== undefined }),
      trustStore: memoryTrustStore({ ca: { kyverno: ca }, ...(tsa ? { tsa: { kyverno: tsa } } : {}) }),
      envelopes: options.envelopes,
      ...(options.revocation !== undefined ? { revocation: options.revocation } : {}),
      ...(options.timestamp ? { timestamp: options.timestamp } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    verifiers.set(key, v);
    if (verifiers.size > max) verifiers.delete(verifiers.keys().next().value!);
    return v;
  }

  /** Wraps `e` as Kyverno's Notary verifier does (`<prefix>: <error>`), keeping its code and details. */
  function wrap(e: unknown, prefix: string): VouchError {
    if (isVouchError(e))
      return new VouchError(e.code, `${prefix}: ${e.message}`, { cause: e, ...(e.details ? { details: e.details } : {}) });
    return new VouchError('ERR_INTERNAL', `${prefix}: ${errMessage(e)}`, { cause: e });
  }

  /**
   * Kyverno's flow: resolve the digest (`failed to resolve digest: …`), then verify the digest
   * reference (`failed to verify <registry/repo@digest>: <notation error>`).
   */
  async function verifyRef(
    ref: Reference,
    req: Pick<NotaryVerifyRequest, 'attestor' | 'trustPolicy' | 'signal'>,
    target: string,
  ): Promise<string> {
    const signal = req.signal ? { signal: req.signal } : undefined;
    const verifier = verifierFor(req);
    let repository: Repository;
    let digest: string;
    try {
      repository = options.repositoryFor(ref);
      digest = target.startsWith('@') ? target.slice(1) : (await repository.resolve(target.slice(1), signal)).digest;
    } catch (e) {
      throw wrap(e, 'failed to resolve digest');
    }
    const digestRef = `${ref.registry}/${ref.repository}@${digest}`;
    try {
      const r = await verifier.verify(digestRef, { repository, ...(req.signal ? { signal: req.signal } : {}) });
      return r.artifact.digest;
    } catch (e) {
      throw wrap(e, `failed to verify ${digestRef}`);
    }
  }

  return {
    async verifyImage(req) {
      const ref = parseReference(req.image, { normalize: true });
      const target = ref.digest ? `@${ref.digest}` : `:${ref.tag ?? 'latest'}`;
      return { digest: await verifyRef(ref, req, target) };
    },
    async verifyAttestations(req: NotaryAttestationRequest) {
      const ref = parseReference(req.image, { normalize: true });
      const repository = options.repositoryFor(ref);
      const subject = await repository.resolve(ref.digest ?? ref.tag ?? 'latest', req.signal ? { signal: req.signal } : undefined);
      const attestations: NotaryAttestation[] = [];
      for await (const page of repository.referrers(subject, { artifactType: req.type, ...(req.signal ? { signal: req.signal } : {}) })) {
        for (const d of page) {
          // each attestation must itself carry a trusted Notary signature
          await verifyRef(ref, req, `@${d.digest}`);
          const { bytes } = await repository.fetchManifest(d, req.signal ? { signal: req.signal } : undefined);
          const manifest = JSON.parse(fromUtf8(bytes)) as { layers?: { mediaType: string; digest: string; size: number }[] };
          const layer = manifest.layers?.[0];
          if (!layer) throw new VouchError('ERR_MALFORMED_INPUT', `attestation ${d.digest} has no layer`);
          const blob = await repository.fetchBlob(layer, req.signal ? { signal: req.signal } : undefined);
          let predicate: unknown;
          try {
            predicate = JSON.parse(fromUtf8(blob));
          } catch (e) {
            throw new VouchError('ERR_MALFORMED_INPUT', `attestation ${d.digest} is not JSON`, { cause: e });
          }
          attestations.push({ digest: d.digest, type: req.type, predicate, manifest: manifest as Record<string, unknown> });
        }
      }
      return { digest: subject.digest, attestations };
    },
    async resolveDigest(image, signal) {
      const ref = parseReference(image, { normalize: true });
      if (ref.digest) return ref.digest;
      const d = await options.repositoryFor(ref).resolve(ref.tag ?? 'latest', signal ? { signal } : undefined);
      return d.digest;
    },
  };
}
