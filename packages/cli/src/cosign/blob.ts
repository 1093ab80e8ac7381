/** `vouch cosign verify-blob` and `vouch cosign sign-blob`. */
import { readFile } from 'node:fs/promises';
import { utf8, VouchError } from '@vouch/core';
import { signCosignBlob as signBlob, verifyCosignBlob } from '@vouch/cosign';
import { writeSignatureFile } from '@vouch/node';
import type { Opts } from '../command.js';
import { type CliContext, UsageError } from '../context.js';
import { cosignSigner, signingCertificates, warnOfflineSigning } from './sign.js';
import { cosignPolicy, readFlagFile } from './trust.js';

async function readBlob(ctx: CliContext, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(ctx.resolvePath(path)));
  } catch (e) {
    throw new VouchError('ERR_IO', `reading ${path}: ${(e as Error).message}`, { cause: e, details: { path } });
  }
}

/** `vouch cosign verify-blob <blob>` */
export async function runCosignVerifyBlob(ctx: CliContext, blob: string | undefined, opts: Opts): Promise<void> {
  if (!blob) throw new UsageError('a blob to verify is required');
  const { policy, certificate, chain } = await cosignPolicy(ctx, opts);
  const str = (k: string) => (typeof opts[k] === 'string' && opts[k] !== '' ? (opts[k] as string) : undefined);
  const bundlePath = str('bundle');
  const signaturePath = str('signature');
  if (!bundlePath && !signaturePath) throw new UsageError('either --bundle or --signature must be set');
  if (bundlePath && signaturePath) throw new UsageError('--bundle and --signature cannot be used together: the bundle holds the signature');
  if (str('rfc3161Timestamp')) {
    throw new VouchError(
      'ERR_UNSUPPORTED',
      '--rfc3161-timestamp (a detached timestamp file) is not supported: use a bundle holding the timestamp',
    );
  }
  if (policy.ignoreTlog) {
    ctx.warn(
      'WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob.',
    );
  }
  const data = await readBlob(ctx, blob);
  const result = await verifyCosignBlob({
    ...policy,
    data,
    ...(bundlePath ? { bundle: await readFlagFile(ctx, bundlePath, '--bundle') } : {}),
    ...(signaturePath ? { signature: await readFlagFile(ctx, signaturePath, '--signature') } : {}),
    ...(certificate ? { certificate } : {}),
    ...(chain ? { chain } : {}),
  });
  if (ctx.json) {
    const v = result.verification;
    ctx.result({
      blob,
      verified: true,
      form: result.form,
      signer:
        v.signer.type === 'key' ? { type: 'key' } : { type: 'certificate', subjectAlternativeNames: v.signer.subjectAlternativeNames },
      times: v.times.map((t) => ({ source: t.source, time: t.time.toISOString() })),
      tlogEntries: v.tlogEntries.length,
      warnings: v.warnings.map((w) => ({ code: w.code, message: w.message })),
    });
    return;
  }
  ctx.warn('Verified OK');
}

/** `vouch cosign sign-blob <blob>` */
export async function runCosignSignBlob(ctx: CliContext, blob: string | undefined, opts: Opts): Promise<void> {
  if (!blob) throw new UsageError('a blob to sign is required');
  const signer = await cosignSigner(ctx, opts);
  warnOfflineSigning(ctx, opts);
  const data = await readBlob(ctx, blob);
  ctx.warn(`Using payload from: ${blob}`);
  const certs = await signingCertificates(ctx, opts, signer);
  const signed = await signBlob({ signer, data, ...(certs ? { certificates: certs } : {}) });
  const str = (k: string) => (typeof opts[k] === 'string' && opts[k] !== '' ? (opts[k] as string) : undefined);
  const bundlePath = str('bundle');
  const sigPath = str('outputSignature');
  if (bundlePath) {
    await writeSignatureFile(ctx.resolvePath(bundlePath), utf8(signed.bundle), { overwrite: true });
    ctx.warn(`Wrote bundle to file ${bundlePath}`);
  }
  if (sigPath) {
    await writeSignatureFile(ctx.resolvePath(sigPath), utf8(signed.signature), { overwrite: true });
    ctx.warn(`Wrote signature to file ${sigPath}`);
  }
  if (ctx.json) {
    ctx.result({
      blob,
      signature: signed.signature,
      ...(bundlePath ? { bundle: bundlePath } : {}),
      ...(sigPath ? { signatureFile: sigPath } : {}),
    });
    return;
  }
  if (!bundlePath && !sigPath) ctx.stdout.write(`${signed.signature}\n`);
}
