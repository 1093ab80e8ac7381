/**
 * `vouch cosign sign --key`: sign an image offline with cosign's key file or a PEM key, as a
 * Sigstore bundle referrer (cosign 3's default) or, with `--new-bundle-format=false`, into the
 * legacy `.sig` tag (cosign 2's default). No transparency log upload and no Fulcio: keyless
 * signing is refused with the reason.
 */

import { decodePem, VouchError } from '@vouch/core';
import { bytesEqual } from '@vouch/core/internal';
import { type CosignSigner, loadSigner, type SigningCertificates, signImage } from '@vouch/cosign';
import type { WritableRepository } from '@vouch/registry';
import { parseCertificate } from '@vouch/x509';
import type { Opts } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { openCosignImage } from './registry.js';
import { keyText, readFlagFile } from './trust.js';
import { annotationFlags } from './verify.js';

/** Flags of keyless signing and online services: refused (vouch signs offline with keys only). */
const ONLINE_FLAGS: readonly [string, string][] = [
  ['identityToken', '--identity-token'],
  ['oidcIssuer', '--oidc-issuer'],
  ['oidcProvider', '--oidc-provider'],
  ['fulcioUrl', '--fulcio-url'],
  ['timestampServerUrl', '--timestamp-server-url'],
  ['issueCertificate', '--issue-certificate'],
  ['sk', '--sk'],
  ['slot', '--slot'],
];

/** The signer of `--key` (cosign.key with COSIGN_PASSWORD, or a PEM private key). */
export async function cosignSigner(ctx: CliContext, opts: Opts): Promise<CosignSigner> {
  for (const [flag, name] of ONLINE_FLAGS) {
    if (opts[flag] !== undefined && opts[flag] !== false && opts[flag] !== '') {
      throw new VouchError(
        'ERR_UNSUPPORTED',
        `${name}: vouch cosign signs offline with a key only (keyless signing with Fulcio is not supported); pass --key`,
      );
    }
  }
  const key = typeof opts.key === 'string' && opts.key !== '' ? opts.key : undefined;
  if (!key) {
    throw new VouchError(
      'ERR_UNSUPPORTED',
      'keyless signing (OIDC and Fulcio) is not supported by vouch cosign: pass --key cosign.key (or a PEM private key)',
    );
  }
  const text = await keyText(ctx, key);
  return loadSigner(text, ctx.env.COSIGN_PASSWORD !== undefined ? { password: ctx.env.COSIGN_PASSWORD } : {});
}

/** `--certificate` / `--certificate-chain` for signing: DER, and the certificate must hold the signer's key. */
export async function signingCertificates(ctx: CliContext, opts: Opts, signer: CosignSigner): Promise<SigningCertificates | undefined> {
  const cert = typeof opts.certificate === 'string' && opts.certificate !== '' ? opts.certificate : undefined;
  const chain = typeof opts.certificateChain === 'string' && opts.certificateChain !== '' ? opts.certificateChain : undefined;
  if (!cert) {
    if (chain) throw new UsageError('--certificate-chain needs --certificate');
    return undefined;
  }
  const leaf = decodePem(await readFlagFile(ctx, cert, '--certificate')).find((b) => b.label === 'CERTIFICATE');
  if (!leaf) throw new VouchError('ERR_CERT_INVALID', `--certificate ${cert}: no PEM CERTIFICATE found`);
  const parsed = parseCertificate(leaf.der);
  if (!bytesEqual(parsed.publicKey.spki, signer.publicKey.spki))
    throw new VouchError('ERR_SIGNING_FAILED', `--certificate ${cert}: the certificate's public key is not the signing key's`);
  const out: SigningCertificates = { certificate: leaf.der };
  if (chain)
    out.chain = decodePem(await readFlagFile(ctx, chain, '--certificate-chain'))
      .filter((b) => b.label === 'CERTIFICATE')
      .map((b) => b.der);
  return out;
}

/** cosign's flags that would upload to a transparency log or use a signing config's services: said to be ignored. */
export function warnOfflineSigning(ctx: CliContext, opts: Opts): void {
  if (opts.tlogUpload === true) {
    ctx.warn(
      'WARNING: vouch signs offline: --tlog-upload is ignored, nothing is uploaded to a transparency log (verify with --insecure-ignore-tlog)',
    );
  }
}

/** `vouch cosign sign <image>…` */
export async function runCosignSign(ctx: CliContext, images: readonly string[], opts: Opts): Promise<void> {
  if (images.length === 0) throw new UsageError('at least one image is required');
  if (opts.recursive === true) throw new VouchError('ERR_UNSUPPORTED', '--recursive is not supported: sign each manifest by digest');
  if (opts.upload === false)
    throw new VouchError('ERR_UNSUPPORTED', '--upload=false is not supported: vouch cosign sign always pushes the signature');
  if (typeof opts.registryReferrersMode === 'string' && opts.registryReferrersMode !== '' && opts.registryReferrersMode !== 'legacy') {
    throw new VouchError(
      'ERR_UNSUPPORTED',
      `--registry-referrers-mode=${opts.registryReferrersMode} is not supported: vouch writes bundle referrers (default) or the .sig tag (--new-bundle-format=false)`,
    );
  }
  const signer = await cosignSigner(ctx, opts);
  warnOfflineSigning(ctx, opts);
  const certificates = await signingCertificates(ctx, opts, signer);
  const annotations = annotationFlags(opts.annotations as string[] | undefined);
  const format = opts.newBundleFormat === false ? 'legacy' : 'bundle';
  const results: Record<string, unknown>[] = [];
  for (const image of images) {
    const target = openCosignImage(ctx, image, opts);
    const subject = await target.repository.resolve(target.reference);
    if (!target.layout && !image.includes('@')) {
      ctx.warn(`WARNING: Image reference ${image} uses a tag, not a digest, to identify the image to sign.`);
    }
    const repository = (target.signatureRepository ?? target.repository) as WritableRepository;
    if (typeof repository.pushManifest !== 'function')
      throw new VouchError('ERR_INVALID_ARGUMENT', `${image}: the repository is read-only`);
    if (format === 'bundle') ctx.warn('Signing artifact...');
    ctx.warn(`Pushing signature to: ${target.display}`);
    const signed = await signImage({
      repository,
      subject,
      dockerReference: target.display,
      signer,
      format,
      ...(annotations ? { annotations } : {}),
      ...(certificates ? { certificates } : {}),
      ...(ctx.io.now ? { now: ctx.io.now() } : {}),
    });
    results.push({
      reference: `${target.display}@${subject.digest}`,
      format: signed.format,
      signature: { manifest: signed.manifest.digest, layer: signed.layer.digest, ...(signed.tag ? { tag: signed.tag } : {}) },
    });
  }
  if (ctx.json) ctx.result(results.length === 1 ? results[0] : results);
}
