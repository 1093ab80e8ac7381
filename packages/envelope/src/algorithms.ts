/**
 * The Notary algorithm table as the envelope codecs use it (the table itself lives in
 * @vouch/core): which algorithm a leaf key implies, its hash and COSE identifier, and a
 * RawSigner over a local WebCrypto key.
 */
import { type HashAlgorithm, isVouchError, type PublicKeyInfo, type SignatureAlgorithm, VouchError } from '@vouch/core';
import { keySpecInfo, keySpecOfKey, signatureAlgorithmFromCose, signatureAlgorithmInfo, signatureScheme } from '@vouch/core/internal';
import type { Certificate } from '@vouch/x509';
import type { RawSigner } from './model.js';

export { isSignatureAlgorithm, SIGNATURE_ALGORITHMS } from '@vouch/core';

/**
 * The signature algorithm implied by a public key (the Notary key table):
 * RSA-2048/3072/4096 → PS256/384/512, EC P-256/384/521 → ES256/384/512.
 * Any other key throws ERR_ENVELOPE_UNSUPPORTED.
 */
export function algorithmForKey(pub: PublicKeyInfo): SignatureAlgorithm {
  const spec = keySpecOfKey(pub);
  if (spec) return keySpecInfo(spec).algorithm;
  throw new VouchError(
    'ERR_ENVELOPE_UNSUPPORTED',
    `key ${pub.type} ${pub.bits}${pub.curve ? ` (${pub.curve})` : ''} is not supported by the Notary Project; use RSA 2048/3072/4096 or EC P-256/P-384/P-521`,
    { details: { keyType: pub.type, bits: pub.bits, curve: pub.curve } },
  );
}

/** The hash function of an algorithm (also the RFC 3161 message-imprint hash for timestamps). */
export function hashForAlgorithm(alg: SignatureAlgorithm): HashAlgorithm {
  return signatureAlgorithmInfo(alg).hash;
}

/** COSE `alg` identifier of a signature algorithm (−37/−38/−39/−7/−35/−36). */
export function coseAlgorithmId(alg: SignatureAlgorithm): number {
  return signatureAlgorithmInfo(alg).cose!;
}

/** Inverse of {@link coseAlgorithmId}; undefined for any other identifier. */
export function algorithmFromCoseId(id: number): SignatureAlgorithm | undefined {
  return signatureAlgorithmFromCose(id);
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new VouchError('ERR_UNSUPPORTED', 'WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return s;
}

function signParams(alg: SignatureAlgorithm): RsaPssParams | EcdsaParams {
  const scheme = signatureScheme(alg);
  return scheme.kind === 'RSA-PSS' ? { name: 'RSA-PSS', saltLength: scheme.saltLength } : { name: 'ECDSA', hash: scheme.hash };
}

/**
 * A {@link RawSigner} over a WebCrypto private key. The key must be an RSA-PSS key imported with
 * the hash of the leaf's algorithm (RSA-2048 → SHA-256, 3072 → SHA-384, 4096 → SHA-512) or an
 * ECDSA key on the leaf's curve. Throws ERR_INVALID_ARGUMENT when key and certificate disagree.
 * @example
 * ```ts
 * import { localRawSigner } from '@vouch/envelope';
 * import { jws } from '@vouch/envelope/jws';
 * import { createTestPki } from '@vouch/x509';
 *
 * const pki = await createTestPki({ keySpec: 'RSA-3072' });
 * const signer = localRawSigner(pki.leaf.privateKey, pki.chain); // PS384, implied by the leaf key
 * const envelope = await jws.sign({ payload, signingScheme: 'notary.x509', signingTime: new Date(), signer });
 * ```
 */
export function localRawSigner(privateKey: CryptoKey, certificateChain: Certificate[]): RawSigner {
  const leaf = certificateChain[0];
  if (!leaf) throw new VouchError('ERR_INVALID_ARGUMENT', 'localRawSigner: the certificate chain is empty; pass the leaf first');
  const algorithm = algorithmForKey(leaf.publicKey);
  const spec = keySpecInfo(signatureAlgorithmInfo(algorithm).keySpec!);
  const ka = privateKey.algorithm as { name?: string; hash?: { name?: string }; namedCurve?: string };
  const ok =
    privateKey.type === 'private' &&
    (spec.type === 'RSA' ? ka.name === 'RSA-PSS' && ka.hash?.name === spec.hash : ka.name === 'ECDSA' && ka.namedCurve === spec.curve);
  if (!ok) {
    const want = spec.type === 'RSA' ? `an RSA-PSS private key imported with hash ${spec.hash}` : `an ECDSA ${spec.curve} private key`;
    throw new VouchError('ERR_INVALID_ARGUMENT', `localRawSigner: the leaf certificate implies ${algorithm}, which needs ${want}`, {
      details: { algorithm, key: { type: privateKey.type, name: ka.name, hash: ka.hash?.name, curve: ka.namedCurve } },
    });
  }
  return {
    certificateChain,
    algorithm,
    async sign(toBeSigned: Uint8Array): Promise<Uint8Array> {
      try {
        return new Uint8Array(await subtle().sign(signParams(algorithm), privateKey, toBeSigned as BufferSource));
      } catch (e) {
        if (isVouchError(e)) throw e;
        throw new VouchError('ERR_SIGNING_FAILED', `signing with the local ${algorithm} key failed`, { cause: e });
      }
    },
  };
}
