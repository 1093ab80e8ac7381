/**
 * Where cosign keeps signatures and attestations of an image, and reading them through a
 * {@link Repository} (remote registry, OCI image layout, memory):
 *
 * - `sig-tag`: the legacy tag `sha256-<hex>.sig`, an image manifest whose layers are
 *   simple-signing payloads (`application/vnd.dev.cosign.simplesigning.v1+json`), one per
 *   signature, each with its signature and material in annotations
 *   (`dev.cosignproject.cosign/signature`, `dev.sigstore.cosign/certificate`, `…/chain`,
 *   `…/bundle` (the Rekor SET), `…/rfc3161timestamp`). cosign ≤ 2 writes it.
 * - `att-tag`: the legacy tag `sha256-<hex>.att`, whose layers are DSSE envelopes
 *   (`application/vnd.dsse.envelope.v1+json`) of in-toto statements, same annotations.
 * - `bundle-referrer`: cosign 3's default, a manifest with `artifactType`
 *   `application/vnd.dev.sigstore.bundle.v0.3+json` whose `subject` is the image and whose layer
 *   is a Sigstore bundle; found through the Referrers API or the referrers tag schema (the
 *   registry client picks). The manifest annotation `dev.sigstore.bundle.predicateType` says
 *   whether it is an image signature (`https://sigstore.dev/cosign/sign/v1`) or an attestation.
 * - `oci11-referrer`: cosign 2's experimental OCI 1.1 signature referrer
 *   (`--registry-referrers-mode=oci-1-1`), an image manifest with config media type
 *   `application/vnd.dev.cosign.artifact.sig.v1+json` and simple-signing layers.
 *
 * Reading never verifies: it returns what it found (and, per signature, why it could not read
 * it) for the verifier to judge. go-containerregistry writes the tag-schema index entry of a
 * bundle referrer with the config media type (`application/vnd.oci.empty.v1+json`) as its
 * artifactType, so referrers are listed unfiltered and classified from their manifests.
 */
import { type Descriptor, isVouchError, MediaType, parseDigest, VouchError } from '@vouch/core';
import { fromBase64 } from '@vouch/core/internal';
import type { Repository } from '@vouch/registry';
import { parseJsonObject } from '@vouch/registry/internal';
import { SIMPLE_SIGNING_MEDIA_TYPE } from './simple-signing.js';

/** The annotations cosign puts on signature layers. */
export const CosignAnnotation = {
  SIGNATURE: 'dev.cosignproject.cosign/signature',
  CERTIFICATE: 'dev.sigstore.cosign/certificate',
  CHAIN: 'dev.sigstore.cosign/chain',
  BUNDLE: 'dev.sigstore.cosign/bundle',
  RFC3161_TIMESTAMP: 'dev.sigstore.cosign/rfc3161timestamp',
  /** On `.att` layers: the statement's predicate type. */
  PREDICATE_TYPE: 'predicateType',
  /** On bundle referrer manifests: `dsse-envelope` or `message-signature`. */
  BUNDLE_CONTENT: 'dev.sigstore.bundle.content',
  /** On bundle referrer manifests: the in-toto predicate type. */
  BUNDLE_PREDICATE_TYPE: 'dev.sigstore.bundle.predicateType',
} as const;

/** Media types of cosign's formats. */
export const CosignMediaType = {
  SIMPLE_SIGNING: SIMPLE_SIGNING_MEDIA_TYPE,
  DSSE_ENVELOPE: 'application/vnd.dsse.envelope.v1+json',
  BUNDLE_V03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  /** Config media type (and so artifactType) of cosign 2's experimental OCI 1.1 signature referrers. */
  OCI11_SIGNATURE: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  /** The config cosign writes in `.sig` / `.att` manifests. */
  IMAGE_CONFIG: 'application/vnd.oci.image.config.v1+json',
} as const;

/** Every spelling of a Sigstore bundle media type a referrer layer may carry. */
export const BUNDLE_LAYER_MEDIA_TYPES: readonly string[] = Object.freeze([
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
]);

/** The predicate type cosign 3 gives an image signature (a DSSE statement over the image digest). */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';

/** Where a signature was found. */
export type CosignForm = 'sig-tag' | 'att-tag' | 'bundle-referrer' | 'oci11-referrer';
/** Image signature or attestation. */
export type CosignKind = 'signature' | 'attestation';

/** The forms of each kind, in the order they are read. */
export const FORMS_OF: Readonly<Record<CosignKind, readonly CosignForm[]>> = Object.freeze({
  signature: Object.freeze(['bundle-referrer', 'sig-tag', 'oci11-referrer'] as const),
  attestation: Object.freeze(['bundle-referrer', 'att-tag'] as const),
});

/** One signature (or attestation) as found in the repository, not yet verified. */
export interface FoundSignature {
  readonly form: CosignForm;
  /** `undefined` for a bundle referrer whose kind its manifest does not say (decided once the bundle is read). */
  readonly kind: CosignKind | undefined;
  /** The manifest holding it (`.sig` / `.att` manifest, or the referrer). */
  readonly manifest: Descriptor;
  /** The layer holding it. */
  readonly layer?: Descriptor;
  /** Legacy forms: the layer's bytes (the simple-signing payload, or the DSSE envelope JSON). */
  readonly payload?: Uint8Array;
  /** Legacy message signatures: `dev.cosignproject.cosign/signature`, base64-decoded. */
  readonly signature?: Uint8Array;
  /** `dev.sigstore.cosign/certificate` (PEM). */
  readonly certificate?: string;
  /** `dev.sigstore.cosign/chain` (PEM, intermediates then root). */
  readonly chain?: string;
  /** `dev.sigstore.cosign/bundle` (the Rekor bundle JSON). */
  readonly rekorBundle?: string;
  /** `dev.sigstore.cosign/rfc3161timestamp` (JSON). */
  readonly rfc3161Timestamp?: string;
  /** Bundle referrers: the bundle JSON bytes. */
  readonly bundle?: Uint8Array;
  /** The layer's annotations (legacy forms) or the manifest's (bundle referrers). */
  readonly annotations: Readonly<Record<string, string>>;
  /** Why it could not be read (it then counts as a failed signature, never as none). */
  readonly error?: VouchError;
}

/** Options of {@link findCosignSignatures}. */
export interface FindCosignSignaturesOptions {
  /** The repository of the image. */
  repository: Repository;
  /** The image manifest (its digest names the `.sig` tag; referrers have it as `subject`). */
  subject: Descriptor;
  /** Image signatures or attestations. */
  kind: CosignKind;
  /** Where signatures are stored (cosign's `COSIGN_REPOSITORY`, Kyverno's `repository`); default `repository`. */
  signatureRepository?: Repository;
  /** The forms to read (default: all of the kind, see `FORMS_OF`). */
  forms?: readonly CosignForm[];
  /** At most this many signatures are read (default 100, as notation's limit); more fail with ERR_SIGNATURE_LIMIT_EXCEEDED. */
  maxSignatures?: number;
  signal?: AbortSignal;
}

/** `sha256-<hex>.sig` / `.att` for a digest. */
export function cosignTag(digest: string, suffix: 'sig' | 'att' | 'sbom'): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm}-${hex}.${suffix}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

interface ParsedManifest {
  artifactType?: string;
  configMediaType?: string;
  layers: Descriptor[];
  annotations: Record<string, string>;
  subject?: Descriptor;
}

function asDescriptor(v: unknown): Descriptor | undefined {
  if (!isObject(v) || typeof v.mediaType !== 'string' || typeof v.digest !== 'string' || !Number.isSafeInteger(v.size)) return undefined;
  const d: Descriptor = { mediaType: v.mediaType, digest: v.digest, size: v.size as number };
  const ann = stringRecord(v.annotations);
  if (Object.keys(ann).length > 0) d.annotations = ann;
  return d;
}

function parseManifest(bytes: Uint8Array, what: string): ParsedManifest {
  const m = parseJsonObject(bytes, what);
  if (!Array.isArray(m.layers)) throw new VouchError('ERR_MALFORMED_INPUT', `${what}: no "layers" array`);
  const layers: Descriptor[] = [];
  for (const [i, l] of m.layers.entries()) {
    const d = asDescriptor(l);
    if (!d) throw new VouchError('ERR_MALFORMED_INPUT', `${what}: layers[${i}] is not a descriptor`);
    layers.push(d);
  }
  const out: ParsedManifest = { layers, annotations: stringRecord(m.annotations) };
  if (typeof m.artifactType === 'string' && m.artifactType !== '') out.artifactType = m.artifactType;
  if (isObject(m.config) && typeof m.config.mediaType === 'string') out.configMediaType = m.config.mediaType;
  const subject = asDescriptor(m.subject);
  if (subject) out.subject = subject;
  return out;
}

function readError(e: unknown, what: string): VouchError {
  if (isVouchError(e) && (e.code === 'ERR_ABORTED' || e.code === 'ERR_NETWORK' || e.code === 'ERR_TIMEOUT')) throw e;
  return new VouchError('ERR_SIGNATURE_RETRIEVAL_FAILED', `${what}: ${(e as Error).message}`, { cause: e });
}

function decodeSignature(value: string | undefined): Uint8Array | undefined {
  if (value === undefined || value === '') return undefined;
  return fromBase64(value);
}

/** The material of a legacy signature layer's annotations. */
function legacyMaterial(annotations: Record<string, string>): Partial<FoundSignature> {
  const out: {
    certificate?: string;
    chain?: string;
    rekorBundle?: string;
    rfc3161Timestamp?: string;
  } = {};
  const a = annotations;
  if (a[CosignAnnotation.CERTIFICATE]) out.certificate = a[CosignAnnotation.CERTIFICATE];
  if (a[CosignAnnotation.CHAIN]) out.chain = a[CosignAnnotation.CHAIN];
  if (a[CosignAnnotation.BUNDLE]) out.rekorBundle = a[CosignAnnotation.BUNDLE];
  if (a[CosignAnnotation.RFC3161_TIMESTAMP]) out.rfc3161Timestamp = a[CosignAnnotation.RFC3161_TIMESTAMP];
  return out;
}

/** Read the signature layers of a legacy manifest (`.sig`, `.att`, OCI 1.1 referrer). */
async function legacyLayers(
  repo: Repository,
  manifest: Descriptor,
  form: CosignForm,
  kind: CosignKind,
  signal: AbortSignal | undefined,
): Promise<FoundSignature[]> {
  let parsed: ParsedManifest;
  try {
    const { bytes } = await repo.fetchManifest(manifest, { signal });
    parsed = parseManifest(bytes, `${form} manifest ${manifest.digest}`);
  } catch (e) {
    return [{ form, kind, manifest, annotations: {}, error: readError(e, `reading the ${form} manifest ${manifest.digest}`) }];
  }
  const layerType = kind === 'signature' ? CosignMediaType.SIMPLE_SIGNING : CosignMediaType.DSSE_ENVELOPE;
  const layers = parsed.layers.filter((l) => l.mediaType === layerType);
  return Promise.all(
    layers.map(async (layer): Promise<FoundSignature> => {
      const annotations = { ...(layer.annotations ?? {}) };
      const base = { form, kind, manifest, layer, annotations, ...legacyMaterial(annotations) };
      try {
        const payload = await repo.fetchBlob(layer, { signal });
        const signature = kind === 'signature' ? decodeSignature(annotations[CosignAnnotation.SIGNATURE]) : undefined;
        if (kind === 'signature' && !signature) {
          return {
            ...base,
            payload,
            error: new VouchError(
              'ERR_ENVELOPE_MALFORMED',
              `signature layer ${layer.digest} has no ${CosignAnnotation.SIGNATURE} annotation`,
            ),
          };
        }
        return { ...base, payload, ...(signature ? { signature } : {}) };
      } catch (e) {
        return { ...base, error: readError(e, `reading the signature layer ${layer.digest}`) };
      }
    }),
  );
}

function kindOfBundleManifest(annotations: Record<string, string>): CosignKind | undefined {
  const pt = annotations[CosignAnnotation.BUNDLE_PREDICATE_TYPE];
  if (pt === undefined) return undefined;
  return pt === COSIGN_SIGN_PREDICATE_TYPE ? 'signature' : 'attestation';
}

/** Read one referrer: a bundle, an OCI 1.1 signature, or nothing of cosign's (undefined). */
async function readReferrer(
  repo: Repository,
  descriptor: Descriptor,
  subject: Descriptor,
  kind: CosignKind,
  forms: readonly CosignForm[],
  signal: AbortSignal | undefined,
): Promise<FoundSignature[]> {
  const at = descriptor.artifactType;
  const maybeBundle = at === undefined || at === MediaType.OCI_EMPTY || BUNDLE_LAYER_MEDIA_TYPES.includes(at);
  const maybeOci11 = at === undefined || at === CosignMediaType.OCI11_SIGNATURE;
  if (!(maybeBundle && forms.includes('bundle-referrer')) && !(maybeOci11 && forms.includes('oci11-referrer') && kind === 'signature')) {
    return [];
  }
  let parsed: ParsedManifest;
  try {
    const { bytes } = await repo.fetchManifest(descriptor, { signal });
    parsed = parseManifest(bytes, `referrer ${descriptor.digest}`);
  } catch (e) {
    // an unreadable referrer of unknown type is not necessarily cosign's: report only typed ones
    if (at === undefined || at === MediaType.OCI_EMPTY) return [];
    const form: CosignForm = at === CosignMediaType.OCI11_SIGNATURE ? 'oci11-referrer' : 'bundle-referrer';
    return [{ form, kind, manifest: descriptor, annotations: {}, error: readError(e, `reading the referrer ${descriptor.digest}`) }];
  }
  if (parsed.subject && parsed.subject.digest !== subject.digest) return [];
  const effective = parsed.artifactType ?? parsed.configMediaType;
  if (effective === CosignMediaType.OCI11_SIGNATURE) {
    if (!forms.includes('oci11-referrer') || kind !== 'signature') return [];
    return legacyLayers(repo, descriptor, 'oci11-referrer', 'signature', signal);
  }
  const bundleLayers = parsed.layers.filter((l) => BUNDLE_LAYER_MEDIA_TYPES.includes(l.mediaType));
  const isBundle = bundleLayers.length > 0 && (parsed.artifactType === undefined || BUNDLE_LAYER_MEDIA_TYPES.includes(parsed.artifactType));
  if (!isBundle || !forms.includes('bundle-referrer')) return [];
  const manifestKind = kindOfBundleManifest(parsed.annotations);
  if (manifestKind !== undefined && manifestKind !== kind) return [];
  return Promise.all(
    bundleLayers.map(async (layer): Promise<FoundSignature> => {
      const base = { form: 'bundle-referrer' as const, kind: manifestKind, manifest: descriptor, layer, annotations: parsed.annotations };
      try {
        return { ...base, bundle: await repo.fetchBlob(layer, { signal }) };
      } catch (e) {
        return { ...base, error: readError(e, `reading the bundle ${layer.digest}`) };
      }
    }),
  );
}

async function tagged(repo: Repository, tag: string, signal: AbortSignal | undefined): Promise<Descriptor | undefined> {
  try {
    return await repo.resolve(tag, { signal });
  } catch (e) {
    if (isVouchError(e) && e.code === 'ERR_REGISTRY_NOT_FOUND') return undefined;
    throw e;
  }
}

/**
 * Find the signatures (or attestations) of an image in every cosign form, without verifying
 * them. A signature that cannot be read is returned with its `error`; a registry that cannot be
 * reached fails the whole call (ERR_NETWORK …), since "no signature" must never be concluded from
 * an outage.
 */
export async function findCosignSignatures(options: FindCosignSignaturesOptions): Promise<FoundSignature[]> {
  const { subject, kind, signal } = options;
  const repo = options.signatureRepository ?? options.repository;
  const forms = (options.forms ?? FORMS_OF[kind]).filter((f) => FORMS_OF[kind].includes(f));
  const max = options.maxSignatures ?? 100;
  const found: FoundSignature[] = [];
  const add = (list: FoundSignature[]) => {
    found.push(...list);
    if (found.length > max) {
      throw new VouchError('ERR_SIGNATURE_LIMIT_EXCEEDED', `more than ${max} ${kind}s are attached to ${subject.digest}`, {
        details: { limit: max },
      });
    }
  };
  if (forms.includes('bundle-referrer') || forms.includes('oci11-referrer')) {
    for await (const page of repo.referrers(subject, { signal })) {
      const lists = await Promise.all(page.map((d) => readReferrer(repo, d, subject, kind, forms, signal)));
      for (const l of lists) add(l);
    }
  }
  const legacy: CosignForm = kind === 'signature' ? 'sig-tag' : 'att-tag';
  if (forms.includes(legacy)) {
    const manifest = await tagged(repo, cosignTag(subject.digest, kind === 'signature' ? 'sig' : 'att'), signal);
    if (manifest) add(await legacyLayers(repo, manifest, legacy, kind, signal));
  }
  return found;
}
