import { KEY_SPECS, utf8 } from '@vouch/core';
import { fromBase64, toBase64 } from '@vouch/core/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  validateErrorBody,
  validateRequest,
  validateResponse,
} from './codec.js';
import { coseAlgorithmOf, jwsAlgorithmOf, SIGNING_ALGORITHMS, signingAlgorithmFromJws } from './constants.js';
import { toErrorBody } from './errors.js';
import { hashAlgorithmForKeySpec, isPluginError, PluginError, signingAlgorithmForKeySpec } from './index.js';

const cv = '1.0';
const sigReq = { contractVersion: cv, keyId: 'k', keySpec: 'EC-256', hashAlgorithm: 'SHA-256', payload: toBase64(utf8('a.b')) };
const verifyReq = {
  contractVersion: cv,
  signature: {
    criticalAttributes: { contentType: 'application/vnd.cncf.notary.payload.v1+json', signingScheme: 'notary.x509' },
    unprocessedAttributes: ['x'],
    certificateChain: [toBase64(new Uint8Array([0x30, 0]))],
  },
  trustPolicy: { trustedIdentities: ['*'], signatureVerification: ['SIGNATURE_VERIFIER.TRUSTED_IDENTITY'] },
};
const metadata = {
  name: 'com.example.p',
  description: 'd',
  version: '1.0.0',
  url: 'https://example.com',
  supportedContractVersions: ['1.0'],
  capabilities: ['SIGNATURE_GENERATOR.RAW'],
};

function validationError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isPluginError(e)).toBe(true);
    return (e as PluginError).pluginErrorCode;
  }
  throw new Error('expected a validation error');
}

function protocolError(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeVouchError('ERR_PLUGIN_PROTOCOL');
}

describe('constants', () => {
  it('maps key specs to hash and signing algorithms as the spec says', () => {
    expect(KEY_SPECS.map((k) => [k, hashAlgorithmForKeySpec(k), signingAlgorithmForKeySpec(k)])).toEqual([
      ['RSA-2048', 'SHA-256', 'RSASSA-PSS-SHA-256'],
      ['RSA-3072', 'SHA-384', 'RSASSA-PSS-SHA-384'],
      ['RSA-4096', 'SHA-512', 'RSASSA-PSS-SHA-512'],
      ['EC-256', 'SHA-256', 'ECDSA-SHA-256'],
      ['EC-384', 'SHA-384', 'ECDSA-SHA-384'],
      ['EC-521', 'SHA-512', 'ECDSA-SHA-512'],
    ]);
  });
  it('maps signing algorithms to JWS and COSE algorithm identifiers and back', () => {
    expect(SIGNING_ALGORITHMS.map(jwsAlgorithmOf)).toEqual(['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']);
    expect(SIGNING_ALGORITHMS.map(coseAlgorithmOf)).toEqual([-37, -38, -39, -7, -35, -36]);
    for (const a of SIGNING_ALGORITHMS) expect(signingAlgorithmFromJws(jwsAlgorithmOf(a))).toBe(a);
    expect(signingAlgorithmFromJws('RS256')).toBeUndefined();
  });
});

describe('request validation', () => {
  it('accepts good requests and drops unknown fields', () => {
    expect(validateRequest('describe-key', { contractVersion: cv, keyId: 'k', future: 1 })).toEqual({ contractVersion: cv, keyId: 'k' });
    expect(validateRequest('generate-signature', { ...sigReq, pluginConfig: { a: 'b' } })).toEqual({ ...sigReq, pluginConfig: { a: 'b' } });
    expect(validateRequest('get-plugin-metadata', {})).toEqual({});
    expect(validateRequest('get-plugin-metadata', null)).toEqual({});
    expect(validateRequest('verify-signature', verifyReq)).toEqual(verifyReq);
  });

  it.each([
    ['describe-key', { keyId: 'k' }, 'missing contractVersion'],
    ['describe-key', { contractVersion: 'one', keyId: 'k' }, 'malformed contractVersion'],
    ['describe-key', { contractVersion: cv }, 'missing keyId'],
    ['describe-key', { contractVersion: cv, keyId: '' }, 'empty keyId'],
    ['describe-key', { contractVersion: cv, keyId: 7 }, 'keyId number'],
    ['describe-key', { contractVersion: cv, keyId: 'k', pluginConfig: { a: 1 } }, 'pluginConfig value not a string'],
    ['describe-key', 'text', 'not an object'],
    ['describe-key', [], 'array'],
    ['generate-signature', { ...sigReq, keySpec: 'RSA-1024' }, 'unknown key spec'],
    ['generate-signature', { ...sigReq, hashAlgorithm: 'SHA-1' }, 'unknown hash'],
    ['generate-signature', { ...sigReq, payload: 'YWJj' + '=' }, 'bad base64 padding'],
    ['generate-signature', { ...sigReq, payload: '' }, 'empty payload'],
    ['generate-signature', { ...sigReq, payload: 'YW-j' }, 'base64url, not base64'],
    ['generate-envelope', { contractVersion: cv, keyId: 'k', payload: 'e30=', payloadType: 't' }, 'missing envelope type'],
    [
      'generate-envelope',
      { contractVersion: cv, keyId: 'k', payload: 'e30=', payloadType: 't', signatureEnvelopeType: 'x', expiryDurationInSeconds: -1 },
      'negative expiry',
    ],
    [
      'generate-envelope',
      { contractVersion: cv, keyId: 'k', payload: 'e30=', payloadType: 't', signatureEnvelopeType: 'x', expiryDurationInSeconds: 1.5 },
      'fractional expiry',
    ],
    ['verify-signature', { ...verifyReq, trustPolicy: undefined }, 'missing trustPolicy'],
    ['verify-signature', { ...verifyReq, trustPolicy: { trustedIdentities: [], signatureVerification: [] } }, 'no capability'],
    [
      'verify-signature',
      { ...verifyReq, trustPolicy: { trustedIdentities: [], signatureVerification: ['SIGNATURE_GENERATOR.RAW'] } },
      'generator capability',
    ],
    ['verify-signature', { ...verifyReq, signature: { ...verifyReq.signature, certificateChain: [] } }, 'empty chain'],
    [
      'verify-signature',
      { ...verifyReq, signature: { ...verifyReq.signature, criticalAttributes: { contentType: 'x' } } },
      'missing signingScheme',
    ],
    [
      'verify-signature',
      {
        ...verifyReq,
        signature: { ...verifyReq.signature, criticalAttributes: { ...verifyReq.signature.criticalAttributes, expiry: 'tomorrow' } },
      },
      'bad time',
    ],
    [
      'verify-signature',
      {
        ...verifyReq,
        signature: {
          ...verifyReq.signature,
          criticalAttributes: { ...verifyReq.signature.criticalAttributes, extendedAttributes: { a: { b: 1 } } },
        },
      },
      'complex extended attribute',
    ],
  ] as const)('%s rejects %s (%s) with VALIDATION_ERROR', (command, request, _why) => {
    expect(validationError(() => validateRequest(command, request))).toBe('VALIDATION_ERROR');
  });

  it('rejects an unknown command with VALIDATION_ERROR', () => {
    expect(validationError(() => validateRequest('sign-everything' as 'describe-key', {}))).toBe('VALIDATION_ERROR');
  });

  it('reads Go nil arrays (null) as empty and Go zero time as no expiry', () => {
    const req = decodeRequest('verify-signature', {
      ...verifyReq,
      signature: {
        ...verifyReq.signature,
        unprocessedAttributes: null,
        criticalAttributes: {
          ...verifyReq.signature.criticalAttributes,
          expiry: '0001-01-01T00:00:00Z',
          authenticSigningTime: '2022-04-06T07:01:20+02:00',
        },
      },
      trustPolicy: { trustedIdentities: null, signatureVerification: ['SIGNATURE_VERIFIER.REVOCATION_CHECK'] },
    });
    expect(req.signature.unprocessedAttributes).toEqual([]);
    expect(req.trustPolicy.trustedIdentities).toEqual([]);
    expect(req.signature.criticalAttributes.expiry).toBeUndefined();
    expect(req.signature.criticalAttributes.authenticSigningTime?.toISOString()).toBe('2022-04-06T05:01:20.000Z');
  });
});

describe('response validation', () => {
  it('accepts a good metadata response and drops unknown fields', () => {
    expect(validateResponse('get-plugin-metadata', { ...metadata, extra: true })).toEqual(metadata);
  });
  it.each([
    ['get-plugin-metadata', { ...metadata, capabilities: ['SIGNATURE_GENERATOR.MAGIC'] }, 'unknown capability'],
    ['get-plugin-metadata', { ...metadata, capabilities: [] }, 'no capability'],
    ['get-plugin-metadata', { ...metadata, supportedContractVersions: ['2.0'] }, 'no 1.0'],
    ['get-plugin-metadata', { ...metadata, name: '' }, 'empty name'],
    ['get-plugin-metadata', { ...metadata, url: undefined }, 'missing url'],
    ['describe-key', { keyId: 'k', keySpec: 'RSA-1024' }, 'unknown key spec'],
    ['generate-signature', { keyId: 'k', signature: 'AA==', signingAlgorithm: 'RS256', certificateChain: ['AA=='] }, 'unknown algorithm'],
    ['generate-signature', { keyId: 'k', signature: 'AA==', signingAlgorithm: 'ECDSA-SHA-256', certificateChain: [] }, 'empty chain'],
    [
      'generate-signature',
      { keyId: 'k', signature: 'not base64!', signingAlgorithm: 'ECDSA-SHA-256', certificateChain: ['AA=='] },
      'bad base64',
    ],
    [
      'generate-envelope',
      { signatureEnvelope: 'e30=', signatureEnvelopeType: 'application/jose+json', annotations: { a: 1 } },
      'non-string annotation',
    ],
    ['verify-signature', { verificationResults: {}, processedAttributes: [] }, 'no results'],
    [
      'verify-signature',
      { verificationResults: { 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY': { success: 'yes' } }, processedAttributes: [] },
      'success not boolean',
    ],
    [
      'verify-signature',
      { verificationResults: { 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY': { success: false } }, processedAttributes: [] },
      'failure without reason',
    ],
    [
      'verify-signature',
      { verificationResults: { 'SIGNATURE_VERIFIER.OTHER': { success: true } }, processedAttributes: [] },
      'unknown result key',
    ],
    ['verify-signature', [], 'array'],
  ] as const)('%s rejects %s (%s) with ERR_PLUGIN_PROTOCOL', (command, response, _why) => {
    protocolError(() => validateResponse(command, response));
  });

  it('validates error bodies strictly', () => {
    expect(validateErrorBody({ errorCode: 'THROTTLED', errorMessage: 'slow down', errorMetadata: { retryAfter: '5' } })).toEqual({
      errorCode: 'THROTTLED',
      errorMessage: 'slow down',
      errorMetadata: { retryAfter: '5' },
    });
    protocolError(() => validateErrorBody({ errorCode: 'OOPS', errorMessage: 'x' }));
    protocolError(() => validateErrorBody({ errorCode: 'ERROR' }));
    protocolError(() => validateErrorBody({ errorCode: 'ERROR', errorMessage: 'x', errorMetadata: { n: 1 } }));
  });
});

describe('codec round trip', () => {
  it('encodes and decodes generate-signature bytes exactly', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 50 }), { minLength: 1 }),
        (payload, chain) => {
          const wire = encodeRequest('generate-signature', { keyId: 'k', keySpec: 'RSA-3072', hashAlgorithm: 'SHA-384', payload });
          expect(wire.contractVersion).toBe('1.0');
          expect(fromBase64(wire.payload)).toEqual(payload);
          const back = decodeRequest('generate-signature', JSON.parse(JSON.stringify(wire)));
          expect(back.payload).toEqual(payload);
          const res = encodeResponse('generate-signature', {
            keyId: 'k',
            signature: payload,
            signingAlgorithm: 'RSASSA-PSS-SHA-384',
            certificateChain: chain,
          });
          const dec = decodeResponse('generate-signature', JSON.parse(JSON.stringify(res)));
          expect(dec.signature).toEqual(payload);
          expect(dec.certificateChain).toEqual(chain);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('encodes verify-signature times as RFC 3339 and omits absent ones', () => {
    const wire = encodeRequest('verify-signature', {
      signature: {
        criticalAttributes: { contentType: 'c', signingScheme: 'notary.x509', expiry: new Date('2030-01-02T03:04:05Z') },
        unprocessedAttributes: [],
        certificateChain: [new Uint8Array([1])],
      },
      trustPolicy: { trustedIdentities: [], signatureVerification: ['SIGNATURE_VERIFIER.REVOCATION_CHECK'] },
    });
    expect(wire.signature.criticalAttributes).toEqual({ contentType: 'c', signingScheme: 'notary.x509', expiry: '2030-01-02T03:04:05Z' });
    expect(wire.signature.certificateChain).toEqual(['AQ==']);
  });

  it('omits a zero expiryDurationInSeconds, like notation', () => {
    const wire = encodeRequest('generate-envelope', {
      keyId: 'k',
      payload: utf8('{}'),
      payloadType: 'application/vnd.cncf.notary.payload.v1+json',
      signatureEnvelopeType: 'application/jose+json',
      expiryDurationInSeconds: 0,
    });
    expect('expiryDurationInSeconds' in wire).toBe(false);
  });

  it('refuses to encode a bad request with ERR_INVALID_ARGUMENT', () => {
    let thrown: unknown;
    try {
      encodeRequest('generate-signature', {
        keyId: 'k',
        keySpec: 'RSA-1' as 'RSA-2048',
        hashAlgorithm: 'SHA-256',
        payload: new Uint8Array(1),
      });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeVouchError('ERR_INVALID_ARGUMENT');
  });

  it('refuses to encode a response whose bytes are not Uint8Array', () => {
    protocolError(() =>
      encodeResponse('generate-signature', {
        keyId: 'k',
        signature: 'abc' as unknown as Uint8Array,
        signingAlgorithm: 'ECDSA-SHA-256',
        certificateChain: [],
      }),
    );
  });
});

describe('error bodies', () => {
  it('keeps a PluginError code and metadata, maps other errors to ERROR', () => {
    expect(toErrorBody(new PluginError('ACCESS_DENIED', 'no', { metadata: { a: 'b' } }))).toEqual({
      errorCode: 'ACCESS_DENIED',
      errorMessage: 'no',
      errorMetadata: { a: 'b' },
    });
    expect(toErrorBody(new Error('boom'))).toEqual({ errorCode: 'ERROR', errorMessage: 'boom' });
    const e = new PluginError('THROTTLED', 'later');
    expect(e.code).toBe('ERR_PLUGIN_FAILED');
    expect(e.details).toEqual({ pluginErrorCode: 'THROTTLED' });
    expect(e.retryable).toBe(true);
  });
});
