/**
 * The one place where the CLI picks the implementations it runs on (envelope codecs,
 * repositories, trust material). Pieces that are not available in this build throw
 * ERR_UNSUPPORTED here, so wiring them later is one change in this file.
 */
import { existsSync, statSync } from 'node:fs';
import { type KeySpec, VouchError } from '@vouch/core';
import type { EnvelopeCodec } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { nodeOciLayout } from '@vouch/node';
import { type OciLayoutRepository, parseLayoutReference, type Repository } from '@vouch/registry';
import { type Certificate, generateTestCertificate } from '@vouch/x509';
import type { CliContext } from './context.js';
import { openRemoteRepository, type RegistryFlags } from './registry.js';

/** The envelope codecs vouch verifies and inspects with. */
export function envelopeCodecs(): EnvelopeCodec[] {
  return [jws, cose];
}

/** Codec for an envelope media type, or undefined. */
export function codecFor(mediaType: string): EnvelopeCodec | undefined {
  return envelopeCodecs().find((c) => c.mediaType === mediaType);
}

/** Where an artifact lives, as the CLI was asked. */
export interface ArtifactTarget {
  /** An OCI layout is also writable (signing). */
  repository: Repository | OciLayoutRepository;
  /** What to pass to verify/list (tag or digest inside a layout, or the full remote reference). */
  reference: string;
  /** How to print the artifact (`<path>` for layouts, `registry/repo` for remote), without tag/digest. */
  display: string;
  /** True when the user named a tag rather than a digest. */
  isTag: boolean;
  /** The tag the user named, if any. */
  tag?: string;
  layout: boolean;
}

/**
 * Open the artifact named on the command line: `--oci-layout` with `<path>@<digest>` or
 * `<path>:<tag>`, else a remote registry reference.
 */
export function openTarget(
  ctx: CliContext,
  reference: string,
  options: { ociLayout?: boolean; writable?: boolean; registry?: RegistryFlags },
): ArtifactTarget {
  if (options.ociLayout) {
    const { path, reference: ref } = parseLayoutReference(reference);
    const dir = ctx.resolvePath(path);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `the OCI layout directory ${path} does not exist or is not a directory`, {
        details: { path: dir },
      });
    }
    const isTag = !ref.includes(':');
    return { repository: nodeOciLayout(dir), reference: ref, display: path, isTag, ...(isTag ? { tag: ref } : {}), layout: true };
  }
  const { ref, repository } = openRemoteRepository(ctx, reference, options.registry ?? {});
  if (!ref.digest && !ref.tag) {
    throw new VouchError(
      'ERR_INVALID_REFERENCE',
      `"${reference}": invalid reference: missing tag or digest; use ${reference}@sha256:<digest>`,
      {
        details: { reference },
      },
    );
  }
  return {
    repository,
    reference,
    display: `${ref.registry}/${ref.repository}`,
    isTag: !ref.digest,
    ...(ref.digest ? {} : { tag: ref.tag! }),
    layout: false,
  };
}

/**
 * What `notation cert generate-test` makes: a self-signed RSA code-signing certificate
 * (`CN=<name>,O=Notary,L=Seattle,ST=WA,C=US`, notation's validity) and its PKCS#8 key.
 */
export async function generateTestCertificateAndKey(
  name: string,
  bits: number,
  now: Date,
): Promise<{ certificate: Certificate; privateKeyPkcs8: Uint8Array }> {
  const keySpec = `RSA-${bits}` as KeySpec;
  const g = await generateTestCertificate(name, { keySpec, now });
  return { certificate: g.certificate, privateKeyPkcs8: g.pkcs8 };
}
