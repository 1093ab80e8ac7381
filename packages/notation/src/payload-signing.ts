// Internal: signing one Notary payload, shared by sign() and signBlob() (not exported from the package).
import type { Clock, Descriptor } from '@vouch/core';
import type { EnvelopeCodec, RawSigner, SigningScheme } from '@vouch/envelope';
import type { Certificate } from '@vouch/x509';
import { type EnvelopeSigner, isEnvelopeSigner } from './plugin-signer.js';
import { rfc3161Timestamper, type TimestampAuthority } from './timestamp-sign.js';

export const DEFAULT_SIGNING_AGENT = 'vouch/0.1.0';

/** The signing settings `sign()` and `signBlob()` share. */
export interface PayloadSigningOptions {
  signingScheme?: SigningScheme;
  expirySeconds?: number;
  signingAgent?: string;
  timestamper?: TimestampAuthority;
  now?: Clock;
  signal?: AbortSignal;
}

/**
 * Signs the Notary payload for `targetArtifact` with a local {@link RawSigner} (the codec builds the
 * envelope) or an {@link EnvelopeSigner} (a plugin: it returns the envelope, already checked, its
 * chain and manifest annotations). Errors are passed on unwrapped. `blob`: the payload describes a
 * blob (plugins then sign with their blob capabilities).
 */
export async function signPayload(
  signer: RawSigner | EnvelopeSigner,
  codec: EnvelopeCodec,
  targetArtifact: Descriptor,
  signingTime: Date,
  options: PayloadSigningOptions,
  blob = false,
): Promise<{ envelope: Uint8Array; certificateChain: readonly Certificate[]; annotations: Record<string, string> }> {
  const { signal } = options;
  const request = {
    payload: { targetArtifact },
    signingScheme: options.signingScheme ?? 'notary.x509',
    signingTime,
    ...(options.expirySeconds ? { expiry: new Date(signingTime.getTime() + options.expirySeconds * 1000) } : {}),
    signingAgent: options.signingAgent ?? DEFAULT_SIGNING_AGENT,
    ...(options.timestamper
      ? {
          timestamper: rfc3161Timestamper(options.timestamper, {
            ...(options.now ? { now: options.now } : {}),
            ...(signal ? { signal } : {}),
          }),
        }
      : {}),
  };
  if (isEnvelopeSigner(signer)) {
    const out = await signer.signEnvelope({ ...request, codec, ...(blob ? { blob } : {}), ...(signal ? { signal } : {}) });
    return { envelope: out.envelope, certificateChain: out.certificateChain, annotations: out.annotations ?? {} };
  }
  return { envelope: await codec.sign({ ...request, signer }), certificateChain: signer.certificateChain, annotations: {} };
}
