import { parseDigest } from './digest.js';
import { VouchError } from './errors.js';

/** Media types and constants of the OCI image spec and the Notary Project. */
export const MediaType = {
  OCI_MANIFEST: 'application/vnd.oci.image.manifest.v1+json',
  OCI_INDEX: 'application/vnd.oci.image.index.v1+json',
  OCI_ARTIFACT_MANIFEST: 'application/vnd.oci.artifact.manifest.v1+json',
  OCI_EMPTY: 'application/vnd.oci.empty.v1+json',
  OCI_CONFIG: 'application/vnd.oci.image.config.v1+json',
  OCI_LAYER_TAR: 'application/vnd.oci.image.layer.v1.tar',
  OCI_LAYER_TAR_GZIP: 'application/vnd.oci.image.layer.v1.tar+gzip',
  DOCKER_MANIFEST: 'application/vnd.docker.distribution.manifest.v2+json',
  DOCKER_MANIFEST_LIST: 'application/vnd.docker.distribution.manifest.list.v2+json',
  NOTARY_SIGNATURE: 'application/vnd.cncf.notary.signature',
  NOTARY_PAYLOAD: 'application/vnd.cncf.notary.payload.v1+json',
  JWS: 'application/jose+json',
  COSE: 'application/cose',
} as const;

export type EnvelopeMediaType = typeof MediaType.JWS | typeof MediaType.COSE;

/** The 2-byte `{}` blob used as empty config. */
export const EMPTY_JSON = {
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
} as const;

/** Notary annotation keys. */
export const Annotation = {
  THUMBPRINT_S256: 'io.cncf.notary.x509chain.thumbprint#S256',
  CREATED: 'org.opencontainers.image.created',
  REF_NAME: 'org.opencontainers.image.ref.name',
  NOTARY_PREFIX: 'io.cncf.notary',
} as const;

export const Limits = {
  MAX_MANIFEST_BYTES: 4 * 1024 * 1024,
  MAX_ENVELOPE_BYTES: 32 * 1024 * 1024,
  MAX_SIGNATURE_ATTEMPTS: 100,
  MAX_PLUGIN_OUTPUT_BYTES: 64 * 1024 * 1024,
  OCSP_TIMEOUT_MS: 2000,
  CRL_TIMEOUT_MS: 5000,
  MAX_OCSP_BYTES: 20480,
  MAX_CRL_BYTES: 32 * 1024 * 1024,
  TSA_TIMEOUT_MS: 15000,
  MAX_TSA_RESPONSE_BYTES: 1024 * 1024,
} as const;

/** An OCI content descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  data?: string;
  platform?: Record<string, unknown>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/**
 * Validate an untrusted value as a descriptor (mediaType, digest, non-negative safe-integer size,
 * string-valued annotations). Throws ERR_MALFORMED_INPUT naming `where`.
 */
export function assertDescriptor(value: unknown, where = 'descriptor'): asserts value is Descriptor {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VouchError('ERR_MALFORMED_INPUT', `${where} must be an object`);
  }
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') {
    throw new VouchError('ERR_MALFORMED_INPUT', `${where}.mediaType must be a non-empty string`);
  }
  if (typeof d.digest !== 'string') throw new VouchError('ERR_MALFORMED_INPUT', `${where}.digest must be a string`);
  try {
    parseDigest(d.digest);
  } catch (e) {
    throw new VouchError('ERR_MALFORMED_INPUT', `${where}.digest: ${(e as Error).message}`, { cause: e });
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new VouchError('ERR_MALFORMED_INPUT', `${where}.size must be a non-negative integer`);
  }
  if (d.annotations !== undefined) {
    if (typeof d.annotations !== 'object' || d.annotations === null || Array.isArray(d.annotations)) {
      throw new VouchError('ERR_MALFORMED_INPUT', `${where}.annotations must be an object of strings`);
    }
    for (const [k, v] of Object.entries(d.annotations)) {
      if (typeof v !== 'string') throw new VouchError('ERR_MALFORMED_INPUT', `${where}.annotations["${k}"] must be a string`);
    }
  }
  if (d.artifactType !== undefined && typeof d.artifactType !== 'string') {
    throw new VouchError('ERR_MALFORMED_INPUT', `${where}.artifactType must be a string`);
  }
}

/** Equality used by Notary verification: mediaType, digest and size. */
export function sameContent(
  a: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>,
  b: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>,
): boolean {
  return a.mediaType === b.mediaType && a.digest === b.digest && a.size === b.size;
}
