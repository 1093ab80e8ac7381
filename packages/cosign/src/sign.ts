/**
 * Key-based signing, offline, in cosign's formats: image signatures as cosign 3 writes them (a
 * Sigstore bundle v0.3 holding a DSSE envelope of an in-toto statement with predicate type
 * `https://sigstore.dev/cosign/sign/v1`, pushed as an OCI referrer of the image) or as cosign 2
 * writes them (a simple-signing layer added to the `sha256-<hex>.sig` tag), and blob signatures
 * (a bundle v0.3 with a message signature, or a bare base64 signature). No transparency log and
 * no certificate authority are contacted: the bundle carries the key hint (or the certificate
 * given), and verifiers need `--insecure-ignore-tlog`, as for cosign's own offline signatures.
 */
import { type Descriptor, encodePem, type HashAlgorithm, isVouchError, MediaType, parseDigest, utf8, VouchError } from '@vouch/core';
import { toBase64 } from '@vouch/core/internal';
import { EMPTY_CONFIG_BYTES, type WritableRepository } from '@vouch/registry';
import { EMPTY_CONFIG, parseJsonObject } from '@vouch/registry/internal';
import { preAuthEncoding } from '@vouch/sigstore';
import { COSIGN_SIGN_PREDICATE_TYPE, CosignAnnotation, CosignMediaType, cosignTag } from './formats.js';
import { type CosignSigner, defaultHashOf, publicKeyHint } from './keys.js';
import { buildSimpleSigning } from './simple-signing.js';

/** DSSE payload type of in-toto statements. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** The signer's certificate material, for signatures made with `--certificate` / `--certificate-chain`. */
export interface SigningCertificates {
  /** The signing certificate, DER. Its public key must be the signer's. */
  certificate: Uint8Array;
  /** The rest of the chain, DER, intermediates then root (legacy form only: bundles v0.3 hold the leaf alone). */
  chain?: readonly Uint8Array[];
}

function signingHash(signer: CosignSigner): HashAlgorithm {
  return defaultHashOf(signer.publicKey) ?? 'SHA-256';
}

async function verificationMaterial(signer: CosignSigner, certs: SigningCertificates | undefined): Promise<Record<string, unknown>> {
  if (certs) return { certificate: { rawBytes: toBase64(certs.certificate) } };
  return { publicKey: { hint: await publicKeyHint(signer.publicKey) } };
}

/** An in-toto statement (v1) over one image digest, as cosign 3 writes it (subject without a name). */
export function inTotoStatement(options: {
  digest: string;
  predicateType: string;
  predicate?: unknown;
  annotations?: Readonly<Record<string, string>>;
}): Uint8Array {
  const { algorithm, hex } = parseDigest(options.digest);
  const annotations: Record<string, string> = {};
  for (const k of Object.keys(options.annotations ?? {}).sort()) annotations[k] = options.annotations![k]!;
  return utf8(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { [algorithm]: hex }, annotations }],
      predicateType: options.predicateType,
      predicate: options.predicate ?? {},
    }),
  );
}

/** Options of {@link buildDsseBundle}. */
export interface BuildDsseBundleOptions {
  signer: CosignSigner;
  /** The statement (payload) to sign. */
  statement: Uint8Array;
  payloadType?: string;
  certificates?: SigningCertificates;
}

/** A Sigstore bundle v0.3 (JSON text) holding a DSSE envelope signed with `signer`. */
export async function buildDsseBundle(options: BuildDsseBundleOptions): Promise<string> {
  const payloadType = options.payloadType ?? IN_TOTO_PAYLOAD_TYPE;
  const { signer } = options;
  if (signer.publicKey.type === 'Ed25519' && options.certificates) {
    throw new VouchError('ERR_UNSUPPORTED', 'Ed25519 keys cannot sign with a certificate in a Sigstore bundle');
  }
  const sig = await signer.sign(preAuthEncoding(payloadType, options.statement), signingHash(signer));
  return JSON.stringify({
    mediaType: CosignMediaType.BUNDLE_V03,
    verificationMaterial: await verificationMaterial(signer, options.certificates),
    dsseEnvelope: { payload: toBase64(options.statement), payloadType, signatures: [{ sig: toBase64(sig) }] },
  });
}

/** Options of {@link signBlob}. */
export interface SignBlobOptions {
  signer: CosignSigner;
  /** The blob. */
  data: Uint8Array;
  certificates?: SigningCertificates;
}

/** What {@link signBlob} made. */
export interface SignedBlob {
  /** The raw signature, base64 (what `cosign sign-blob` prints and `--output-signature` writes). */
  signature: string;
  /** A Sigstore bundle v0.3 with a message signature (JSON text), as `cosign sign-blob --bundle` writes it. */
  bundle: string;
}

/**
 * Sign a blob as `cosign sign-blob --key` does: a message signature over the blob, hashed with
 * the key's hash (SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521), returned both
 * bare and in a bundle v0.3. Ed25519 keys are refused, as cosign 3 refuses them for blobs (a
 * bundle's message signature needs a digest the key signs; Ed25519 signs whole messages).
 */
export async function signBlob(options: SignBlobOptions): Promise<SignedBlob> {
  const { signer, data } = options;
  if (signer.publicKey.type === 'Ed25519') {
    throw new VouchError(
      'ERR_UNSUPPORTED',
      'Ed25519 keys cannot sign blobs into a Sigstore bundle (cosign refuses them too): use an EC or RSA key',
    );
  }
  const hash = signingHash(signer);
  const sig = await signer.sign(data, hash);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest(hash, data as Uint8Array<ArrayBuffer>));
  const bundle = JSON.stringify({
    mediaType: CosignMediaType.BUNDLE_V03,
    verificationMaterial: await verificationMaterial(signer, options.certificates),
    messageSignature: {
      messageDigest: { algorithm: hash.replace('SHA-', 'SHA2_'), digest: toBase64(digest) },
      signature: toBase64(sig),
    },
  });
  return { signature: toBase64(sig), bundle };
}

/** Options of {@link signImage}. */
export interface SignImageOptions {
  /** Where the signature is pushed (the image's repository, or cosign's `COSIGN_REPOSITORY`). */
  repository: WritableRepository;
  /** The image manifest signed. */
  subject: Descriptor;
  /** The repository name as cosign writes it into the claim (`registry/repository`). */
  dockerReference: string;
  signer: CosignSigner;
  /** `bundle` (cosign 3's default: a Sigstore bundle referrer) or `legacy` (cosign 2: the `.sig` tag). */
  format?: 'bundle' | 'legacy';
  /** `cosign sign -a k=v`: simple-signing `optional` (legacy) or the statement subject's annotations (bundle). */
  annotations?: Readonly<Record<string, string>>;
  certificates?: SigningCertificates;
  /** Creation time written into the referrer manifest (default now). */
  now?: Date;
  signal?: AbortSignal;
}

/** What {@link signImage} pushed. */
export interface SignedImage {
  format: 'bundle' | 'legacy';
  /** The signature manifest (the referrer, or the `.sig` manifest after the append). */
  manifest: Descriptor;
  /** The `.sig` tag (legacy). */
  tag?: string;
  /** The layer holding the signature. */
  layer: Descriptor;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function pushBundleReferrer(o: SignImageOptions): Promise<SignedImage> {
  const statement = inTotoStatement({ digest: o.subject.digest, predicateType: COSIGN_SIGN_PREDICATE_TYPE, annotations: o.annotations });
  const bundle = utf8(await buildDsseBundle({ signer: o.signer, statement, ...(o.certificates ? { certificates: o.certificates } : {}) }));
  const repo = o.repository;
  await repo.pushBlob(EMPTY_CONFIG.mediaType, EMPTY_CONFIG_BYTES, { signal: o.signal });
  const layer = await repo.pushBlob(CosignMediaType.BUNDLE_V03, bundle, { signal: o.signal });
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    artifactType: CosignMediaType.BUNDLE_V03,
    config: { mediaType: EMPTY_CONFIG.mediaType, digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    annotations: {
      [CosignAnnotation.BUNDLE_CONTENT]: 'dsse-envelope',
      [CosignAnnotation.BUNDLE_PREDICATE_TYPE]: COSIGN_SIGN_PREDICATE_TYPE,
      'org.opencontainers.image.created': rfc3339(o.now ?? new Date()),
    },
    subject: { mediaType: o.subject.mediaType, digest: o.subject.digest, size: o.subject.size },
  };
  const descriptor = await repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(manifest)), { signal: o.signal });
  return { format: 'bundle', manifest: descriptor, layer };
}

/** cosign's `.sig` manifest config: an image config whose rootfs lists the layers. */
function sigConfig(layers: readonly Descriptor[]): Uint8Array {
  return utf8(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
}

async function existingLayers(repo: WritableRepository, tag: string, signal?: AbortSignal): Promise<Descriptor[]> {
  let bytes: Uint8Array;
  try {
    bytes = (await repo.fetchManifest(tag, { signal })).bytes;
  } catch (e) {
    if (isVouchError(e) && e.code === 'ERR_REGISTRY_NOT_FOUND') return [];
    throw e;
  }
  const m = parseJsonObject(bytes, `signature manifest ${tag}`);
  if (!Array.isArray(m.layers)) throw new VouchError('ERR_MALFORMED_INPUT', `signature manifest ${tag} has no layers`);
  return m.layers as Descriptor[];
}

async function pushLegacySignature(o: SignImageOptions): Promise<SignedImage> {
  const repo = o.repository;
  const payload = buildSimpleSigning({ dockerReference: o.dockerReference, digest: o.subject.digest, annotations: o.annotations });
  // cosign's default for the legacy form: SHA-256 whatever the curve (--signature-digest-algorithm)
  const signature = await o.signer.sign(payload, 'SHA-256');
  const annotations: Record<string, string> = { [CosignAnnotation.SIGNATURE]: toBase64(signature) };
  if (o.certificates) {
    annotations[CosignAnnotation.CERTIFICATE] = encodePem('CERTIFICATE', o.certificates.certificate);
    if (o.certificates.chain?.length)
      annotations[CosignAnnotation.CHAIN] = o.certificates.chain.map((c) => encodePem('CERTIFICATE', c)).join('');
  }
  const tag = cosignTag(o.subject.digest, 'sig');
  const pushed = await repo.pushBlob(CosignMediaType.SIMPLE_SIGNING, payload, { signal: o.signal });
  const layer: Descriptor = { ...pushed, annotations };
  const previous = await existingLayers(repo, tag, o.signal);
  // the same payload signed the same way again replaces nothing: cosign dedupes identical layers
  const sameAs = (d: Descriptor) => d.digest === layer.digest && JSON.stringify(d.annotations ?? {}) === JSON.stringify(annotations);
  const layers = previous.some(sameAs) ? previous : [...previous, layer];
  const config = sigConfig(layers);
  const configDesc = await repo.pushBlob(CosignMediaType.IMAGE_CONFIG, config, { signal: o.signal });
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    config: { mediaType: configDesc.mediaType, size: configDesc.size, digest: configDesc.digest },
    layers: layers.map((l) => ({
      mediaType: l.mediaType,
      size: l.size,
      digest: l.digest,
      ...(l.annotations ? { annotations: l.annotations } : {}),
    })),
  };
  const descriptor = await repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(manifest)), { tag, signal: o.signal });
  return { format: 'legacy', manifest: descriptor, tag, layer };
}

/**
 * Sign an image with a key and push the signature: as a Sigstore bundle referrer (default, as
 * cosign 3) or into the `.sig` tag (legacy, as cosign 2; existing signatures are kept).
 */
export async function signImage(options: SignImageOptions): Promise<SignedImage> {
  parseDigest(options.subject.digest);
  return (options.format ?? 'bundle') === 'legacy' ? pushLegacySignature(options) : pushBundleReferrer(options);
}
