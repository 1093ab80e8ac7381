/**
 * Verify a blob signature as `cosign verify-blob` does, offline: a Sigstore bundle (`--bundle`,
 * v0.1 to v0.3, what `cosign sign-blob --bundle` writes since cosign 3), cosign's older bundle
 * (`{"base64Signature","cert","rekorBundle"}`, cosign ≤ 2 without `--new-bundle-format`), or a
 * bare signature (`--signature`, base64) with a key or certificate. The cryptography is
 * `@vouch/sigstore`'s.
 */

import { isVouchError, VouchError } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';
import { parseBundle, type SigstoreVerification, type VerifyPolicyOptions, verifyBundle, verifyCosignSignature } from '@vouch/sigstore';
import { checkGivenCertificate } from './verify.js';

/** Options of {@link verifyCosignBlob}. */
export interface VerifyCosignBlobOptions extends VerifyPolicyOptions {
  /** The blob's bytes. */
  data: Uint8Array;
  /** The bundle file's content (either bundle format). */
  bundle?: string | Uint8Array;
  /** The signature (`--signature`): base64 text (as cosign writes it) or raw bytes. */
  signature?: string | Uint8Array;
  /** The signing certificate (`--certificate`), PEM; used when the bundle carries none. */
  certificate?: string;
  /** Intermediates and root for `certificate` (`--certificate-chain`), PEM. */
  chain?: string;
}

/** Which input form was verified. */
export type CosignBlobForm = 'sigstore-bundle' | 'cosign-bundle' | 'signature';

/** A blob verification that succeeded. */
export interface CosignBlobResult {
  form: CosignBlobForm;
  verification: SigstoreVerification;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A signature file's content: base64 (cosign's form; whitespace ignored), else the raw bytes. */
export function decodeSignatureFile(input: string | Uint8Array): Uint8Array {
  const text = typeof input === 'string' ? input : fromUtf8(input);
  const compact = text.replace(/\s+/g, '');
  if (compact !== '' && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    try {
      return fromBase64(compact);
    } catch {
      // not canonical base64: fall through to raw bytes
    }
  }
  if (typeof input === 'string') throw new VouchError('ERR_MALFORMED_INPUT', 'the signature is not base64');
  return input;
}

/** cosign's older blob bundle, parsed. */
interface CosignBlobBundle {
  signature: Uint8Array;
  certificate?: string;
  rekorBundle?: string;
  rfc3161Timestamp?: string;
}

function parseCosignBlobBundle(doc: Record<string, unknown>): CosignBlobBundle {
  if (typeof doc.base64Signature !== 'string' || doc.base64Signature === '') {
    throw new VouchError('ERR_MALFORMED_INPUT', 'the cosign bundle has no base64Signature');
  }
  const out: CosignBlobBundle = { signature: fromBase64(doc.base64Signature) };
  if (typeof doc.cert === 'string' && doc.cert !== '') {
    // cosign writes the PEM certificate base64-encoded
    out.certificate = doc.cert.includes('-----BEGIN') ? doc.cert : fromUtf8(fromBase64(doc.cert));
  }
  if (isObject(doc.rekorBundle)) out.rekorBundle = JSON.stringify(doc.rekorBundle);
  if (isObject(doc.rfc3161Timestamp)) out.rfc3161Timestamp = JSON.stringify(doc.rfc3161Timestamp);
  return out;
}

function policyOf(o: VerifyCosignBlobOptions): VerifyPolicyOptions {
  const { data: _d, bundle: _b, signature: _s, certificate: _c, chain: _ch, ...policy } = o;
  return policy;
}

/**
 * Verify a blob. Resolves with what was proven, rejects with the reason (`ERR_SIGNATURE_INTEGRITY`
 * for a signature that does not verify, `ERR_TLOG_ENTRY_MISSING` without a log entry unless
 * `ignoreTlog`, …). Give `bundle`, or `signature` with a key or certificate.
 */
export async function verifyCosignBlob(options: VerifyCosignBlobOptions): Promise<CosignBlobResult> {
  const policy = policyOf(options);
  if (options.bundle !== undefined) {
    const text = typeof options.bundle === 'string' ? options.bundle : fromUtf8(options.bundle);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new VouchError('ERR_MALFORMED_INPUT', `the bundle is not JSON: ${(e as Error).message}`, { cause: e });
    }
    if (!isObject(doc)) throw new VouchError('ERR_MALFORMED_INPUT', 'the bundle is not a JSON object');
    // a certificate given beside a bundle must be the one the bundle was signed with, never a second opinion
    if (typeof doc.mediaType === 'string') {
      const bundle = parseBundle(text);
      checkGivenCertificate(bundle.certificate?.der, options.certificate);
      return { form: 'sigstore-bundle', verification: await verifyBundle(bundle, { ...policy, artifact: options.data }) };
    }
    const old = parseCosignBlobBundle(doc);
    if (old.certificate !== undefined) checkGivenCertificate(old.certificate, options.certificate);
    const certificate = old.certificate ?? options.certificate;
    const verification = await verifyCosignSignature(
      {
        content: { type: 'message', payload: options.data, signature: old.signature },
        ...(certificate ? { certificate } : {}),
        ...(options.chain ? { chain: options.chain } : {}),
        ...(old.rekorBundle ? { rekorBundle: old.rekorBundle } : {}),
        ...(old.rfc3161Timestamp ? { rfc3161Timestamp: old.rfc3161Timestamp } : {}),
      },
      policy,
    );
    return { form: 'cosign-bundle', verification };
  }
  if (options.signature === undefined) {
    throw new VouchError('ERR_INVALID_ARGUMENT', 'nothing to verify: give a bundle (--bundle) or a signature (--signature)');
  }
  let signature: Uint8Array;
  try {
    signature = decodeSignatureFile(options.signature);
  } catch (e) {
    throw isVouchError(e) ? e : new VouchError('ERR_MALFORMED_INPUT', String(e));
  }
  const verification = await verifyCosignSignature(
    {
      content: { type: 'message', payload: options.data, signature },
      ...(options.certificate ? { certificate: options.certificate } : {}),
      ...(options.chain ? { chain: options.chain } : {}),
    },
    policy,
  );
  return { form: 'signature', verification };
}
