/**
 * Conformance handlers for kinds `jws-envelope` and `cose-envelope`: envelope encoding
 * (byte-exact with notation-core-go), parsing, the Notary envelope rules and signature
 * integrity, through the public API of @vouch/envelope. Cases whose expectation depends on the
 * full verification flow (trust store, trusted identity, expiry, plugins, user metadata) are
 * checked for envelope integrity here and then reported as skipped ("needs verify facade").
 */

import { isSignatureAlgorithm, isVouchError, type SignatureAlgorithm, utf8 } from '@vouch/core';
import { bytesEqual, fromBase64Url, fromHex } from '@vouch/core/internal';
import { codecForMediaType, type EnvelopeCodec, type ExtendedAttribute } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import type { CaseOutcome, Handler, Handlers, VectorCase } from './types.js';

const CODECS: readonly EnvelopeCodec[] = [jws, cose];

interface EncodingRequest {
  payload: string;
  signingScheme: 'notary.x509' | 'notary.x509.signingAuthority';
  signingTime: string | number;
  expiry?: string | number;
  extendedSignedAttributes?: ExtendedAttribute[];
  signingAgent?: string;
  signingKey: string;
}

function toDate(v: string | number): Date {
  return typeof v === 'number' ? new Date(v * 1000) : new Date(v);
}

function describe(e: unknown): string {
  return isVouchError(e) ? `${e.code}: ${e.message}` : String(e);
}

/** `sign-then-compare`: encode the upstream request and compare with the upstream bytes. */
async function encodingCase(c: VectorCase, codec: EnvelopeCodec, file: Uint8Array): Promise<CaseOutcome> {
  const req = c.inputs.signRequest as EncodingRequest;
  const alg = /\balg (\w+)/.exec(req.signingKey)?.[1];
  if (!isSignatureAlgorithm(alg)) return { status: 'failed', reason: `cannot tell the algorithm from ${JSON.stringify(req.signingKey)}` };
  const time = toDate(req.signingTime);
  const encoded = codec.encodeSigningInput({
    payloadBytes: utf8(req.payload),
    algorithm: alg as SignatureAlgorithm,
    signedAttributes: {
      signingScheme: req.signingScheme,
      ...(req.signingScheme === 'notary.x509' ? { signingTime: time } : { authenticSigningTime: time }),
      ...(req.expiry !== undefined ? { expiry: toDate(req.expiry) } : {}),
      extended: req.extendedSignedAttributes ?? [],
    },
  });
  const unsignedAttributes = req.signingAgent !== undefined ? { signingAgent: req.signingAgent } : {};
  if (codec === jws) {
    const expected = JSON.parse(new TextDecoder().decode(file));
    // The signature comes from a throw-away key: carry the upstream one so only encoding is compared.
    const signature = fromBase64Url(expected.signature as string);
    const out = JSON.parse(new TextDecoder().decode(codec.serialize({ ...encoded, signature, certificateChain: [], unsignedAttributes })));
    for (const k of ['protected', 'payload'] as const) {
      if (out[k] !== expected[k]) return { status: 'failed', reason: `JWS "${k}" differs: vouch ${out[k]} vs upstream ${expected[k]}` };
    }
    if (out.header['io.cncf.notary.signingAgent'] !== expected.header['io.cncf.notary.signingAgent']) {
      return { status: 'failed', reason: 'JWS signing agent differs' };
    }
    return { status: 'passed', note: 'protected header, payload and signing agent byte-identical' };
  }
  const expected = JSON.parse(new TextDecoder().decode(file));
  const expectedBytes = fromHex(expected.expectedOutput.cborHex);
  const protectedBytes = fromHex(expected.protectedHeaders.cborHex);
  if (!bytesEqual(encoded.protectedHeader, protectedBytes)) return { status: 'failed', reason: 'COSE protected header bytes differ' };
  // The signature is the message's last byte string; an RSA-PSS signature is as long as the modulus.
  const bits = Number(/RSA-(\d+)/.exec(req.signingKey)?.[1]);
  if (!bits) return { status: 'failed', reason: `cannot tell the signature length from ${JSON.stringify(req.signingKey)}` };
  const signature = expectedBytes.slice(expectedBytes.length - bits / 8);
  const out = codec.serialize({ ...encoded, signature, certificateChain: [], unsignedAttributes });
  if (!bytesEqual(out, expectedBytes)) return { status: 'failed', reason: 'COSE_Sign1 bytes differ from expectedOutput' };
  return { status: 'passed', note: 'COSE_Sign1 byte-identical (signature carried over)' };
}

/** Parse + verifyIntegrity; returns the error, or undefined when the envelope is intact. */
async function integrity(codec: EnvelopeCodec, bytes: Uint8Array): Promise<unknown> {
  try {
    await codec.verifyIntegrity(codec.parse(bytes));
    return undefined;
  } catch (e) {
    return e;
  }
}

const handler: Handler = async (c, ctx) => {
  const op = String(c.inputs.operation ?? '');
  const first = c.files[0];
  if (!first) return { status: 'failed', reason: 'case has no envelope file' };
  const bytes = await ctx.readFile(first);
  const defaultCodec = c.kind === 'cose-envelope' ? cose : jws;

  if (op.startsWith('sign-then-compare')) return encodingCase(c, defaultCodec, bytes);

  const mediaType = String(c.inputs.signatureMediaType ?? defaultCodec.mediaType);
  let codec: EnvelopeCodec;
  try {
    codec = codecForMediaType(mediaType, CODECS);
  } catch (e) {
    if (c.expect.result === 'error' && isVouchError(e) && e.code === 'ERR_ENVELOPE_UNSUPPORTED') {
      return { status: 'passed', note: `rejected: ${e.message}` };
    }
    return { status: 'failed', reason: `media type ${mediaType}: ${describe(e)}` };
  }
  const err = await integrity(codec, bytes);
  const expectIntegrityFailure = c.expect.result === 'invalid' && c.expect.validationType === 'integrity';
  if (expectIntegrityFailure) {
    if (!err) return { status: 'failed', reason: 'the envelope passed parse and integrity; upstream expects an integrity failure' };
    if (!isVouchError(err)) return { status: 'failed', reason: `non-VouchError: ${String(err)}` };
    return { status: 'passed', note: `integrity failure: ${err.code}` };
  }
  if (err) return { status: 'failed', reason: `parse/integrity failed, upstream expects ${c.expect.result}: ${describe(err)}` };
  if (op.startsWith('parse + integrity')) return { status: 'passed', note: 'parsed and verified with the embedded leaf key' };
  return { status: 'skipped', reason: 'needs verify facade (envelope parse + integrity pass)' };
};

/** Handlers for the envelope kinds. */
export const handlers: Handlers = {
  'jws-envelope': handler,
  'cose-envelope': handler,
};
