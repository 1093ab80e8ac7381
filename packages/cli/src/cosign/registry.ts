/**
 * Images as `vouch cosign` verbs name them: a registry reference as cosign reads it (Docker Hub
 * short names; plain HTTP with `--allow-http-registry` and for loopback registries, as
 * go-containerregistry does), or `--oci-layout <path>@<digest>|<path>:<tag>` (vouch's addition).
 * `COSIGN_REPOSITORY` moves where signatures are read and written, as in cosign.
 */
import { VouchError } from '@vouch/core';
import type { Repository, WritableRepository } from '@vouch/registry';
import type { Opts } from '../command.js';
import type { CliContext } from '../context.js';
import { openTarget } from '../deps.js';
import { openRemoteRepository, type RegistryFlags } from '../registry.js';

/** An image named on a cosign verb's command line. */
export interface CosignImage {
  repository: WritableRepository | Repository;
  /** Tag or digest in `repository` (a full reference for remote images). */
  reference: string;
  /** `registry/repository` (remote) or the layout path. */
  display: string;
  layout: boolean;
  /** `COSIGN_REPOSITORY`: where the signatures live instead. */
  signatureRepository?: WritableRepository;
}

/** The registry flags of a cosign verb. */
export function cosignRegistryFlags(opts: Opts): RegistryFlags {
  const f: RegistryFlags = { normalize: true, plainHttpLoopback: true };
  if (opts.allowHttpRegistry === true) f.insecureRegistry = true;
  if (typeof opts.registryUsername === 'string' && opts.registryUsername !== '') f.username = opts.registryUsername;
  if (typeof opts.registryPassword === 'string' && opts.registryPassword !== '') f.password = opts.registryPassword;
  if (typeof opts.registryToken === 'string' && opts.registryToken !== '') f.registryToken = opts.registryToken;
  for (const flag of ['registryCacert', 'registryClientCert', 'registryClientKey', 'registryServerName'] as const) {
    if (typeof opts[flag] === 'string' && opts[flag] !== '') {
      throw new VouchError(
        'ERR_UNSUPPORTED',
        `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is not supported by vouch cosign: use NODE_EXTRA_CA_CERTS for a private registry CA`,
      );
    }
  }
  return f;
}

/** Open the image `image` of a cosign verb. */
export function openCosignImage(ctx: CliContext, image: string, opts: Opts): CosignImage {
  if (opts.localImage === true) {
    throw new VouchError(
      'ERR_UNSUPPORTED',
      '--local-image (a `cosign save` directory) is not supported: pass an OCI image layout with --oci-layout <path>@<digest>',
    );
  }
  const flags = cosignRegistryFlags(opts);
  const target = openTarget(ctx, image, { ociLayout: opts.ociLayout === true, registry: flags });
  const out: CosignImage = {
    repository: target.repository,
    // remote: the tag or digest alone (the client is already bound to the repository)
    reference: target.layout ? target.reference : (target.tag ?? image.slice(image.lastIndexOf('@') + 1)),
    display: target.display,
    layout: target.layout,
  };
  const elsewhere = ctx.env.COSIGN_REPOSITORY;
  if (elsewhere && !target.layout) {
    out.signatureRepository = openRemoteRepository(ctx, elsewhere, flags).repository;
  }
  return out;
}
