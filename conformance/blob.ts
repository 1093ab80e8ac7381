/**
 * Conformance handler for kind `blob-verify` (notation-go TestVerifyBlob / TestVerifyBlob_Error).
 *
 * The 12-byte blob behind upstream's VerifyBlob test is not stored (vectors README), but every
 * case gives the descriptor upstream's descriptor generator returns; the cases are replayed
 * through `verifyBlobDescriptor` of @vouch/notation, the lower-level form of `verifyBlob` that
 * runs the same algorithm after the streaming digest (policy selection, skip, envelope parse,
 * the per-signature checks, the blob binding on digest/size/media type, user metadata). Only the
 * streaming digest of the blob bytes themselves cannot be replayed, and no case asserts on it.
 *
 * Trust store: "every lookup returns trustedCert.pem". Revocation runs for real over a transport
 * with no network (the signing certificate is self-signed: nothing to fetch).
 */
import { type FetchLike, isVouchError, type VouchError } from '@vouch/core';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { ocspCrlRevocation, verifyBlobDescriptor } from '@vouch/notation';
import type { TrustStore } from '@vouch/trust-policy';
import { parseCertificates } from '@vouch/x509';
import type { CaseOutcome, Handlers, VectorCase } from './types.js';

const offline: FetchLike = async (url) => {
  throw new TypeError(`conformance runs offline: no request to ${url}`);
};

function describe(e: unknown): string {
  return isVouchError(e) ? `${e.code}: ${e.message}` : String(e);
}

/** Expected vouch code for each upstream rejection message. */
const CODE_FOR_MESSAGE: [RegExp, string][] = [
  [/integrity check failed/, 'ERR_ARTIFACT_MISMATCH'],
  [/unable to find specified metadata/, 'ERR_USER_METADATA_MISMATCH'],
  [/unable to parse the digital signature/, 'ERR_ENVELOPE_MALFORMED'],
];

async function blobCase(c: VectorCase, ctx: Parameters<Handlers[string]>[1]): Promise<CaseOutcome> {
  const inputs = c.inputs as {
    signatureMediaType: string;
    signature: string;
    trustPolicyName?: string;
    blobTrustPolicy: { version: string; trustPolicies: Record<string, unknown>[] };
    blobDescriptorFromDescGenFunc: { mediaType: string; digest: string; size: number };
    userMetadata: Record<string, string> | null;
  };
  const certFile = c.files.find((f) => f.endsWith('trustedCert.pem'));
  if (!certFile) return { status: 'failed', reason: 'case lists no trustedCert.pem' };
  const trusted = parseCertificates(await ctx.readFile(certFile));
  const trustStore: TrustStore = { getCertificates: async () => trusted };

  const sigFile = c.files.find((f) => f.endsWith(inputs.signature));
  const signature = sigFile ? await ctx.readFile(sigFile) : new Uint8Array(0);
  if (!sigFile && !/empty/.test(inputs.signature)) return { status: 'failed', reason: `signature file ${inputs.signature} not listed` };

  // Upstream sets level skip after building the verifier, so its statement keeps stores and
  // identities; a skip statement with them is an invalid document for vouch (and notation), so
  // they are dropped here: the statement verifies nothing either way.
  let note = '';
  const trustPolicy = {
    ...inputs.blobTrustPolicy,
    trustPolicies: inputs.blobTrustPolicy.trustPolicies.map((s) => {
      const level = (s.signatureVerification as { level?: string } | undefined)?.level;
      if (level !== 'skip') return s;
      note = 'skip statement replayed without trustStores/trustedIdentities (document validation forbids them)';
      const { trustStores: _t, trustedIdentities: _i, ...rest } = s;
      return rest;
    }),
  };

  let result: Awaited<ReturnType<typeof verifyBlobDescriptor>> | undefined;
  let error: unknown;
  try {
    result = await verifyBlobDescriptor(inputs.blobDescriptorFromDescGenFunc, signature, {
      trustPolicy,
      ...(inputs.trustPolicyName ? { policyName: inputs.trustPolicyName } : {}),
      trustStore,
      envelopes: [jws, cose],
      envelopeMediaType: inputs.signatureMediaType,
      ...(inputs.userMetadata ? { userMetadata: inputs.userMetadata } : {}),
      revocation: ocspCrlRevocation({ fetch: offline }),
      ...(ctx.verificationTime ? { now: () => ctx.verificationTime! } : {}),
    });
  } catch (e) {
    error = e;
  }

  if (c.expect.result === 'valid') {
    if (!result) return { status: 'failed', reason: `expected valid, vouch rejected: ${describe(error)}` };
    const level = (trustPolicy.trustPolicies[0]?.signatureVerification as { level?: string } | undefined)?.level;
    if (level === 'skip' && !result.skipped) return { status: 'failed', reason: 'level skip did not give a skipped result' };
    if (level !== 'skip' && (result.skipped || !result.signature)) return { status: 'failed', reason: 'signature was not verified' };
    return note ? { status: 'passed', note } : { status: 'passed' };
  }
  if (result) return { status: 'failed', reason: `expected ${c.expect.result}, vouch accepted the signature` };
  if (!isVouchError(error)) return { status: 'failed', reason: `non-VouchError escaped: ${String(error)}` };
  const msg = c.expect.errorMessage ?? '';
  const want = CODE_FOR_MESSAGE.find(([re]) => re.test(msg))?.[1];
  const e = error as VouchError;
  if (want && e.code !== want) return { status: 'failed', reason: `expected ${want}, got ${describe(e)}` };
  const core = msg.replace(/, error : .*$/, '');
  if (core && !e.message.includes(core)) {
    return { status: 'failed', reason: `message differs: expected to contain ${JSON.stringify(core)}, got ${JSON.stringify(e.message)}` };
  }
  return { status: 'passed', note: `rejected: ${e.code}` };
}

export const handlers: Handlers = {
  'blob-verify': async (c, ctx) => {
    try {
      return await blobCase(c, ctx);
    } catch (e) {
      return { status: 'failed', reason: `unexpected: ${describe(e)}` };
    }
  },
};
