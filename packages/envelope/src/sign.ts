import { isVouchError, Limits, type PublicKeyInfo, type SignatureAlgorithm, VouchError } from '@vouch/core';
import { verifySignature } from '@vouch/core/internal';
import type { Certificate } from '@vouch/x509';
import { parseCertificate } from '@vouch/x509';
import { algorithmForKey } from './algorithms.js';
import { signedAttributesForRequest } from './attributes.js';
import type { EnvelopeCodec, EnvelopeParts, ParsedEnvelope, SignRequest, UnsignedAttributes } from './model.js';
import { encodePayload } from './payload.js';

/** Reject inputs above notation's 32 MiB envelope limit before decoding anything. */
export function checkEnvelopeSize(bytes: Uint8Array, mediaType: string): void {
  if (!(bytes instanceof Uint8Array)) throw new VouchError('ERR_INVALID_ARGUMENT', 'envelope bytes must be a Uint8Array');
  if (bytes.length > Limits.MAX_ENVELOPE_BYTES) {
    throw new VouchError(
      'ERR_SIZE_LIMIT_EXCEEDED',
      `the ${mediaType} envelope is ${bytes.length} bytes, over the ${Limits.MAX_ENVELOPE_BYTES}-byte limit`,
    );
  }
}

/** Parse the DER certificates of an envelope (leaf first); any failure is ERR_ENVELOPE_MALFORMED. */
export function parseChain(ders: Uint8Array[]): Certificate[] {
  if (ders.length === 0) throw new VouchError('ERR_ENVELOPE_MALFORMED', 'the envelope has an empty certificate chain');
  return ders.map((der, i) => {
    try {
      return parseCertificate(der);
    } catch (e) {
      throw new VouchError(
        'ERR_ENVELOPE_MALFORMED',
        `certificate #${i + 1} of the envelope's chain could not be parsed: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  });
}

/**
 * Check that `alg` is what the leaf key implies (algorithm-substitution defence).
 * Throws ERR_ENVELOPE_UNSUPPORTED for an unsupported leaf key, ERR_ENVELOPE_MALFORMED on mismatch.
 */
export function checkAlgorithmMatchesLeaf(alg: string, leaf: Certificate): void {
  const expected = algorithmForKey(leaf.publicKey);
  if (expected !== alg) {
    throw new VouchError(
      'ERR_ENVELOPE_MALFORMED',
      `the envelope's algorithm ${alg} does not match the signing certificate's ${leaf.publicKey.type} ${leaf.publicKey.bits}-bit key, which implies ${expected}`,
      { details: { algorithm: alg, expected } },
    );
  }
}

/** What a codec contributes to the shared signing flow. */
export interface SignHooks {
  payloadStyle: 'struct' | 'sorted';
  reserved: ReadonlySet<string>;
}

/**
 * The signing flow shared by both codecs: validate the request, encode, call the raw signer,
 * verify its signature against the leaf key (a lying signer is caught), optionally timestamp
 * the signature, serialise, and re-parse the result.
 */
export async function signEnvelope(codec: EnvelopeCodec, hooks: SignHooks, req: SignRequest): Promise<Uint8Array> {
  if (!req || typeof req !== 'object') throw new VouchError('ERR_INVALID_ARGUMENT', 'sign expects a SignRequest object');
  const signer = req.signer;
  if (!signer || typeof signer.sign !== 'function' || !Array.isArray(signer.certificateChain)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'SignRequest.signer must be a RawSigner ({ certificateChain, algorithm, sign })');
  }
  const leaf = signer.certificateChain[0];
  if (!leaf)
    throw new VouchError('ERR_INVALID_ARGUMENT', "the signer's certificate chain is empty; it must start with the signing certificate");
  const algorithm = algorithmForKey(leaf.publicKey);
  if (signer.algorithm !== algorithm) {
    throw new VouchError(
      'ERR_SIGNING_FAILED',
      `the signer reports algorithm ${signer.algorithm} but its certificate's key implies ${algorithm}`,
      {
        details: { reported: signer.algorithm, expected: algorithm },
      },
    );
  }
  if (req.signingAgent !== undefined && typeof req.signingAgent !== 'string') {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'signingAgent must be a string');
  }
  if (req.timestamper !== undefined && req.signingScheme !== 'notary.x509') {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'RFC 3161 timestamps apply to the notary.x509 signing scheme only');
  }
  const signedAttributes = signedAttributesForRequest(req, hooks.reserved);
  const payloadBytes = encodePayload(req.payload, hooks.payloadStyle);
  const input = codec.encodeSigningInput({ payloadBytes, algorithm, signedAttributes });

  let signature: Uint8Array;
  try {
    signature = await signer.sign(input.toBeSigned);
  } catch (e) {
    if (isVouchError(e)) throw e;
    throw new VouchError('ERR_SIGNING_FAILED', `the signer failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (!(signature instanceof Uint8Array) || signature.length === 0) {
    throw new VouchError('ERR_SIGNING_FAILED', 'the signer returned no signature bytes');
  }
  if (!(await signatureVerifies(leaf.publicKey, algorithm, input.toBeSigned, signature))) {
    throw new VouchError(
      'ERR_SIGNING_FAILED',
      `the signature returned by the signer does not verify with the signing certificate's key (${algorithm}); the key and certificate do not match or the signer is faulty`,
    );
  }

  const unsigned: UnsignedAttributes = {};
  if (req.signingAgent) unsigned.signingAgent = req.signingAgent;
  if (req.timestamper) {
    let token: Uint8Array;
    try {
      token = await req.timestamper(signature, algorithm);
    } catch (e) {
      if (isVouchError(e)) throw e;
      throw new VouchError('ERR_TIMESTAMP_INVALID', `timestamping the signature failed: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
    if (!(token instanceof Uint8Array) || token.length === 0)
      throw new VouchError('ERR_TIMESTAMP_INVALID', 'the timestamper returned no token');
    unsigned.timestampSignature = token;
  }
  const bytes = codec.serialize({
    protectedHeader: input.protectedHeader,
    payloadBytes: input.payloadBytes,
    signature,
    certificateChain: signer.certificateChain.map((c) => c.der),
    unsignedAttributes: unsigned,
  });
  try {
    codec.parse(bytes);
  } catch (e) {
    throw new VouchError('ERR_SIGNING_FAILED', `the produced envelope does not parse: ${(e as Error).message}`, { cause: e });
  }
  return bytes;
}

/**
 * `attachTimestamp` of both codecs: re-serialize the envelope with the token as its
 * `timestampSignature` (notary.x509 only), keeping the protected header bytes exactly as signed
 * (`protectedHeaderOf` recovers them from the codec's encoding).
 */
export function attachTimestampWith(
  envelope: Uint8Array,
  token: Uint8Array,
  codec: {
    parse(bytes: Uint8Array): ParsedEnvelope;
    serialize(parts: EnvelopeParts): Uint8Array;
    protectedHeaderOf(envelope: Uint8Array, parsed: ParsedEnvelope): Uint8Array;
  },
): Uint8Array {
  if (!(token instanceof Uint8Array) || token.length === 0)
    throw new VouchError('ERR_INVALID_ARGUMENT', 'the timestamp token must be non-empty bytes');
  const env = codec.parse(envelope);
  if (env.signedAttributes.signingScheme !== 'notary.x509') {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'RFC 3161 timestamps apply to the notary.x509 signing scheme only');
  }
  return codec.serialize({
    protectedHeader: codec.protectedHeaderOf(envelope, env),
    payloadBytes: env.payloadBytes,
    signature: env.signature,
    certificateChain: env.certificateChain.map((c) => c.der),
    unsignedAttributes: { ...env.unsignedAttributes, timestampSignature: token },
  });
}

/** The envelope's signing certificate; ERR_SIGNATURE_INTEGRITY when there is none. */
export function signingLeaf(env: ParsedEnvelope): Certificate {
  const leaf = env?.certificateChain?.[0];
  if (!leaf) throw new VouchError('ERR_SIGNATURE_INTEGRITY', 'the envelope has no signing certificate');
  return leaf;
}

/**
 * Whether a raw envelope signature (RSASSA-PSS with salt = hash length, or ECDSA r||s) verifies
 * over `data` with `key`, which must have the key spec `algorithm` implies. The one verification
 * function of vouch decides; a key that cannot be used is ERR_ENVELOPE_UNSUPPORTED.
 */
async function signatureVerifies(
  key: PublicKeyInfo,
  algorithm: SignatureAlgorithm,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  try {
    return await verifySignature({ key, algorithm, data, signature });
  } catch (e) {
    throw new VouchError(
      'ERR_ENVELOPE_UNSUPPORTED',
      `the signing certificate's ${key.type} key cannot verify ${algorithm}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

/** The signature over `toBeSigned` must verify with the leaf's key (WebCrypto), else ERR_SIGNATURE_INTEGRITY. */
export async function verifyLeafSignature(env: ParsedEnvelope, leaf: Certificate, format: 'JWS' | 'COSE'): Promise<void> {
  if (!(await signatureVerifies(leaf.publicKey, env.algorithm, env.toBeSigned, env.signature))) {
    throw new VouchError(
      'ERR_SIGNATURE_INTEGRITY',
      `the ${format} signature (${env.algorithm}) does not verify with the signing certificate's key: the envelope was altered`,
    );
  }
}
