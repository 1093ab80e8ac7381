import { hasCode, utf8 } from '@vouch/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateKey, keySpecOfCertificate, verifyGenerateSignatureResponse, verifyRawSignature } from './crypto.js';
import { createPluginClient, inProcessPlugin, isPluginError, type KeySpec, type PluginClient, pluginConformance } from './index.js';
import { makeTestKey, requireOpenssl, type TestKey } from './test/certs.js';
import { makeSdkPlugin } from './test/sdk-plugin.js';

const haveOpenssl = requireOpenssl();
const SPECS: KeySpec[] = ['RSA-2048', 'RSA-3072', 'EC-256', 'EC-384', 'EC-521'];
const keys = new Map<KeySpec, TestKey>();

beforeAll(() => {
  if (haveOpenssl) for (const s of SPECS) keys.set(s, makeTestKey(s));
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!haveOpenssl)('certificate keys and raw signatures (WebCrypto)', () => {
  it.each(SPECS)('reads the key spec of a %s certificate', (spec) => {
    expect(keySpecOfCertificate(keys.get(spec)!.certDer)).toBe(spec);
    expect(certificateKey(keys.get(spec)!.certDer).spki[0]).toBe(0x30);
  });

  it('rejects bytes that are not a certificate with ERR_CERT_INVALID', () => {
    expect(
      hasCode(
        (() => {
          try {
            certificateKey(new Uint8Array([0x30, 0x03, 1, 2, 3]));
          } catch (e) {
            return e;
          }
        })(),
        'ERR_CERT_INVALID',
      ),
    ).toBe(true);
    expect(
      hasCode(
        (() => {
          try {
            certificateKey(keys.get('EC-256')!.certDer.slice(0, 50));
          } catch (e) {
            return e;
          }
        })(),
        'ERR_CERT_INVALID',
      ),
    ).toBe(true);
  });

  it.each(SPECS)('verifies a %s signature from the SDK plugin, and not a tampered one', async (spec) => {
    const client = inProcessPlugin(makeSdkPlugin(keys.get(spec)!));
    const { keySpec } = await client.describeKey({ keyId: 'test-key' });
    const hashAlgorithm = (
      { 'RSA-2048': 'SHA-256', 'RSA-3072': 'SHA-384', 'EC-256': 'SHA-256', 'EC-384': 'SHA-384', 'EC-521': 'SHA-512' } as const
    )[spec as 'EC-256'];
    const req = { keyId: 'test-key', keySpec, hashAlgorithm, payload: utf8('header.payload') };
    const res = await client.generateSignature(req);
    await verifyGenerateSignatureResponse(req, res);
    expect(await verifyRawSignature({ ...res, payload: utf8('header.payloaD'), certificate: res.certificateChain[0]! })).toBe(false);
  });

  it('names the check a lying response fails', async () => {
    const key = keys.get('EC-256')!;
    const client = inProcessPlugin(makeSdkPlugin(key));
    const req = { keyId: 'test-key', keySpec: 'EC-256' as const, hashAlgorithm: 'SHA-256' as const, payload: utf8('x.y') };
    const res = await client.generateSignature(req);
    const check = async (r: typeof res, q = req) => {
      const e = await rejection(verifyGenerateSignatureResponse(q, r));
      expect(e).toBeVouchError('ERR_PLUGIN_PROTOCOL');
      return (e as { details: { check: string } }).details.check;
    };
    expect(await check({ ...res, signingAlgorithm: 'ECDSA-SHA-384' })).toBe('signingAlgorithm');
    expect(await check({ ...res, keyId: 'other' })).toBe('keyId');
    expect(await check({ ...res, certificateChain: [keys.get('EC-384')!.certDer] }, { ...req })).toBe('keySpec');
    expect(await check({ ...res, certificateChain: [makeTestKey('EC-256').certDer] })).toBe('signature');
    expect(await check({ ...res, certificateChain: [new Uint8Array([1, 2, 3])] })).toBe('certificate');
    expect(await check(res, { ...req, hashAlgorithm: 'SHA-512' as 'SHA-256' })).toBe('hashAlgorithm');
  });
});

describe.skipIf(!haveOpenssl)('inProcessPlugin', () => {
  let client: PluginClient;
  beforeAll(() => {
    client = inProcessPlugin(makeSdkPlugin(keys.get('EC-256')!));
  });

  it('drives every command of the SDK plugin', async () => {
    const md = await client.metadata();
    expect(md.name).toBe('io.vouch.test.sdk');
    expect(client.name).toBe('io.vouch.test.sdk');
    expect(await client.describeKey({ keyId: 'test-key', pluginConfig: { region: 'x' } })).toEqual({
      keyId: 'test-key',
      keySpec: 'EC-256',
    });
    const sig = await client.generateSignature({ keyId: 'test-key', keySpec: 'EC-256', hashAlgorithm: 'SHA-256', payload: utf8('a.b') });
    expect(sig.signature).toBeInstanceOf(Uint8Array);
    const ver = await client.verifySignature({
      signature: {
        criticalAttributes: {
          contentType: 'application/vnd.cncf.notary.payload.v1+json',
          signingScheme: 'notary.x509',
          expiry: new Date(),
        },
        unprocessedAttributes: ['io.example.attr'],
        certificateChain: sig.certificateChain,
      },
      trustPolicy: {
        trustedIdentities: ['x509.subject: CN=vouch plugin test'],
        signatureVerification: ['SIGNATURE_VERIFIER.TRUSTED_IDENTITY'],
      },
    });
    expect(ver).toEqual({
      verificationResults: { 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY': { success: true } },
      processedAttributes: ['io.example.attr'],
    });
  });

  it('turns error bodies into PluginError with the plugin code and metadata', async () => {
    const e = await rejection(client.describeKey({ keyId: 'denied' }));
    expect(isPluginError(e)).toBe(true);
    expect(e).toMatchObject({ code: 'ERR_PLUGIN_FAILED', pluginErrorCode: 'ACCESS_DENIED', details: { pluginErrorCode: 'ACCESS_DENIED' } });
    expect((e as { pluginErrorMetadata: unknown }).pluginErrorMetadata).toEqual({ keyId: 'denied' });
    const v = await rejection(client.call('describe-key', { contractVersion: '1.0' }));
    expect(v).toMatchObject({ pluginErrorCode: 'VALIDATION_ERROR' });
    const g = await rejection(
      client.generateEnvelope({ keyId: 'k', payload: utf8('{}'), payloadType: 't', signatureEnvelopeType: 'application/jose+json' }),
    );
    expect(g).toMatchObject({ pluginErrorCode: 'VALIDATION_ERROR' });
  });

  it('rejects a bad request before it is sent with ERR_INVALID_ARGUMENT', async () => {
    await expect(client.describeKey({ keyId: '' })).toRejectWithCode('ERR_INVALID_ARGUMENT');
  });

  it('honours an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(client.metadata({}, { signal: ac.signal })).toRejectWithCode('ERR_ABORTED');
  });

  it('passes the SDK conformance checks', async () => {
    const checks = await pluginConformance(client, { keyId: 'test-key', pluginConfig: { mode: 'test' } });
    expect(checks.filter((c) => c.status !== 'passed')).toEqual([]);
    expect(checks.length).toBeGreaterThan(20);
  });
});

describe('client-side response checks', () => {
  const transport = (answers: Record<string, unknown>) =>
    createPluginClient(async (command) => structuredClone(answers[command]), { name: 'com.example.p' });
  const metadata = {
    name: 'com.example.other',
    description: 'd',
    version: '1',
    url: 'u',
    supportedContractVersions: ['1.0'],
    capabilities: ['SIGNATURE_GENERATOR.RAW'],
  };

  it.each([
    ['metadata name differs from the expected name', (c: PluginClient) => c.metadata()],
    ['describe-key echoes another key id', (c: PluginClient) => c.describeKey({ keyId: 'k' })],
    [
      'generate-signature echoes another key id',
      (c: PluginClient) => c.generateSignature({ keyId: 'k', keySpec: 'EC-256', hashAlgorithm: 'SHA-256', payload: utf8('p') }),
    ],
    [
      'generate-envelope returns another envelope type',
      (c: PluginClient) =>
        c.generateEnvelope({ keyId: 'k', payload: utf8('{}'), payloadType: 't', signatureEnvelopeType: 'application/jose+json' }),
    ],
    [
      'verify-signature omits a requested capability',
      (c: PluginClient) =>
        c.verifySignature({
          signature: {
            criticalAttributes: { contentType: 'c', signingScheme: 's' },
            unprocessedAttributes: [],
            certificateChain: [utf8('c')],
          },
          trustPolicy: {
            trustedIdentities: [],
            signatureVerification: ['SIGNATURE_VERIFIER.TRUSTED_IDENTITY', 'SIGNATURE_VERIFIER.REVOCATION_CHECK'],
          },
        }),
    ],
  ])('%s → ERR_PLUGIN_PROTOCOL', async (_what, fn) => {
    const c = transport({
      'get-plugin-metadata': metadata,
      'describe-key': { keyId: 'other', keySpec: 'EC-256' },
      'generate-signature': { keyId: 'other', signature: 'AA==', signingAlgorithm: 'ECDSA-SHA-256', certificateChain: ['AA=='] },
      'generate-envelope': { signatureEnvelope: 'AA==', signatureEnvelopeType: 'application/cose' },
      'verify-signature': { verificationResults: { 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY': { success: true } }, processedAttributes: null },
    });
    await expect(fn(c)).toRejectWithCode('ERR_PLUGIN_PROTOCOL');
  });

  it('conformance reports a plugin that accepts everything', async () => {
    // A transport that answers success to everything, like a careless executable.
    const c = createPluginClient(async (command, request) => {
      const r = request as { keyId?: string };
      if (command === 'get-plugin-metadata') return { ...metadata, name: 'com.example.sloppy' };
      if (command === 'describe-key') return { keyId: r.keyId, keySpec: 'EC-256' };
      if (command === 'generate-signature')
        return { keyId: r.keyId, signature: 'AA==', signingAlgorithm: 'ECDSA-SHA-256', certificateChain: ['MAA='] };
      return {};
    });
    const checks = await pluginConformance(c, { keyId: 'k' });
    const failed = checks.filter((x) => x.status === 'failed').map((x) => x.name);
    expect(failed).toContain('unknown command: answered with an error body');
    expect(failed).toContain('describe-key: missing keyId → VALIDATION_ERROR');
    expect(failed).toContain('generate-signature: good request, signature verifies with the leaf certificate');
    expect(checks.find((x) => x.name === 'get-plugin-metadata: valid response')?.status).toBe('passed');
  });
});
