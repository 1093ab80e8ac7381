/**
 * Conformance handler for kind `envelope-timestamp` (notation-go TestAuthenticTimestamp): each
 * envelope goes through `createVerifier().verifySignature()` of @vouch/notation with the case's
 * OCI trust policy and notation-go's test config dir as a file trust store (@vouch/node).
 *
 * Revocation stub (vectors README): the TSA chain (GlobalSign, live OCSP upstream) is stubbed
 * to OK; the signing chain is checked for real over a transport that has no network — every
 * signing certificate of these cases is self-signed, so there is nothing to fetch.
 *
 * The cases name the authenticTimestamp step: a case passes when the outcome agrees and, for a
 * rejection, the failing check is `authenticTimestamp` (the artifact is the envelope's own
 * targetArtifact, so the payload binding never interferes). "error" cases that vouch reports as
 * a verification failure of that step (e.g. a missing tsa store) pass with a note.
 */
import { join } from 'node:path';
import { type FetchLike, isVouchError } from '@vouch/core';
import type { EnvelopeCodec } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { fileTrustStore } from '@vouch/node';
import { createVerifier, ocspCrlRevocation, type RevocationChecker, rfc3161Timestamp, type SignatureOutcome } from '@vouch/notation';
import { parseOciTrustPolicy, type TrustStore } from '@vouch/trust-policy';
import type { CaseOutcome, Handlers, VectorCase } from './types.js';

/** "any current time (2025/2026)": a fixed instant inside that window keeps runs reproducible. */
const DEFAULT_TIME = new Date('2025-06-01T00:00:00Z');

const offline: FetchLike = async (url) => {
  throw new TypeError(`conformance runs offline: no request to ${url}`);
};

function revocationStub(): RevocationChecker {
  const real = ocspCrlRevocation({ fetch: offline });
  return async (chain, o) => (o.mode === 'timestamping' ? { result: 'ok' } : real(chain, o));
}

function describe(e: unknown): string {
  return isVouchError(e) ? `${e.code}: ${e.message}` : String(e);
}

function failingCheck(o: SignatureOutcome): { type: string; message: string } | undefined {
  const c = o.checks.find((x) => x.result === 'failed' && x.action === 'enforce');
  return c ? { type: c.type, message: c.error?.message ?? '' } : undefined;
}

async function envelopeTimestampCase(c: VectorCase, ctx: Parameters<Handlers[string]>[1]): Promise<CaseOutcome> {
  const mediaType = String(c.inputs.signatureMediaType);
  const codec: EnvelopeCodec | undefined = mediaType === jws.mediaType ? jws : mediaType === cose.mediaType ? cose : undefined;
  if (!codec) return { status: 'failed', reason: `unknown signature media type ${mediaType}` };
  const sigFile = c.files.find((f) => f.endsWith('.sig'));
  if (!sigFile) return { status: 'failed', reason: 'case lists no .sig envelope' };
  let envelope = await ctx.readFile(sigFile);
  const mutation = typeof c.inputs.mutation === 'string' ? c.inputs.mutation : undefined;
  let mutationNote = '';
  if (mutation) {
    const tokenFile = c.files.find((f) => f.endsWith('.p7s'));
    if (!tokenFile) return { status: 'failed', reason: 'mutation names no .p7s token' };
    envelope = codec.attachTimestamp(envelope, await ctx.readFile(tokenFile));
    if (/signerInfo\.Signature/.test(mutation)) {
      // Upstream swaps the primitive signature for a fixed string after the envelope check;
      // through the public API the signature must stay intact (integrity runs first), so the
      // substituted token is checked against the real signature value instead.
      mutationNote = ' (token substituted; the envelope signature itself is kept intact)';
    }
  }

  const now = ctx.verificationTime ?? DEFAULT_TIME;
  // Upstream runs only the authenticTimestamp step, never authenticity. Some signing
  // certificates (CN=testTSA, expired or not yet valid) are not in ca:valid-trust-store, so the
  // envelope's own self-signed signing certificate is added to the `ca` stores here: the
  // authenticity step then passes and the step under test decides.
  const files = fileTrustStore(join(ctx.vectorsDir, 'notation-go/verifier/testdata'), { revalidate: false });
  const signingRoot = codec.parse(envelope).certificateChain.at(-1)!;
  const trustStore: TrustStore = {
    async getCertificates(type, name, o) {
      const certs = await files.getCertificates(type, name, o);
      if (type !== 'ca' || certs.some((x) => x.sha256Fingerprint === signingRoot.sha256Fingerprint)) return certs;
      return [...certs, signingRoot];
    },
  };
  let verifier: ReturnType<typeof createVerifier>;
  try {
    verifier = createVerifier({
      trustPolicy: c.inputs.trustPolicy as object,
      trustStore,
      envelopes: [jws, cose],
      revocation: revocationStub(),
      timestamp: rfc3161Timestamp,
      now: () => now,
    });
  } catch (e) {
    if (c.expect.result === 'error') {
      return isVouchError(e) && e.code === 'ERR_TRUST_POLICY_INVALID'
        ? { status: 'passed', note: `policy rejected: ${e.message}` }
        : { status: 'failed', reason: `expected a policy error, got ${describe(e)}` };
    }
    return { status: 'failed', reason: `createVerifier failed: ${describe(e)}` };
  }
  // The case's single statement (scope '*'), validated the same way createVerifier did.
  const statement = parseOciTrustPolicy(c.inputs.trustPolicy).trustPolicies[0]!;
  const artifact = codec.parse(envelope).payload.targetArtifact;
  let outcome: SignatureOutcome;
  try {
    outcome = await verifier.verifySignature({
      envelope,
      envelopeMediaType: codec.mediaType,
      descriptor: {
        mediaType: codec.mediaType,
        digest: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
        size: envelope.length,
      },
      artifact,
      statement,
    });
  } catch (e) {
    return { status: 'failed', reason: `verifySignature threw (it reports failures in the outcome): ${describe(e)}` };
  }
  const failed = failingCheck(outcome);
  if (c.expect.result === 'valid') {
    if (!outcome.error) return { status: 'passed', ...(mutationNote ? { note: mutationNote } : {}) };
    return { status: 'failed', reason: `expected valid, vouch rejected: ${describe(outcome.error)}` };
  }
  if (!outcome.error || !failed) return { status: 'failed', reason: `expected ${c.expect.result}, vouch accepted the signature` };
  const wantType = String(c.expect.validationType ?? 'authenticTimestamp');
  if (failed.type !== wantType) {
    return { status: 'failed', reason: `rejected by ${failed.type} (${failed.message}), expected ${wantType}` };
  }
  const kind = c.expect.result === 'error' ? 'upstream reports an error; vouch a failed check' : 'rejected';
  return { status: 'passed', note: `${kind} at ${failed.type}: ${outcome.error.code}: ${failed.message}${mutationNote}` };
}

export const handlers: Handlers = {
  'envelope-timestamp': async (c, ctx) => {
    try {
      return await envelopeTimestampCase(c, ctx);
    } catch (e) {
      return { status: 'failed', reason: `unexpected: ${describe(e)}` };
    }
  },
};
