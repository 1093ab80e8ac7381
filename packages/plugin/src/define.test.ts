import { hasCode } from '@vouch/core';
import { describe, expect, it } from 'vitest';
import { definePlugin, type PluginDefinition, type PluginMetadata, servePluginRequest } from './index.js';

const md = (capabilities: string[], extra: Partial<PluginMetadata> = {}): PluginMetadata => ({
  name: 'com.example.p',
  description: 'd',
  version: '1.0.0',
  url: 'https://example.com',
  supportedContractVersions: ['1.0'],
  capabilities: capabilities as PluginMetadata['capabilities'],
  ...extra,
});

const raw = {
  describeKey: (r: { keyId: string }) => ({ keyId: r.keyId, keySpec: 'EC-256' as const }),
  generateSignature: () => ({
    keyId: 'k',
    signature: new Uint8Array(64),
    signingAlgorithm: 'ECDSA-SHA-256' as const,
    certificateChain: [new Uint8Array(3)],
  }),
};

function invalid(def: unknown): boolean {
  try {
    definePlugin(def as PluginDefinition);
    return false;
  } catch (e) {
    return hasCode(e, 'ERR_INVALID_ARGUMENT');
  }
}

describe('definePlugin', () => {
  it('accepts a RAW signer and freezes it', () => {
    const p = definePlugin({ metadata: md(['SIGNATURE_GENERATOR.RAW']), ...raw });
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.metadata)).toBe(true);
    expect(Object.isFrozen(p.metadata.capabilities)).toBe(true);
  });

  it('rejects invalid metadata', () => {
    expect(invalid({ metadata: md(['SIGNATURE_GENERATOR.RAW'], { supportedContractVersions: ['2.0'] }), ...raw })).toBe(true);
    expect(invalid({ metadata: md(['SIGNATURE_GENERATOR.TELEPATHY']), ...raw })).toBe(true);
    expect(invalid({ metadata: md(['SIGNATURE_GENERATOR.RAW'], { name: '../evil' }), ...raw })).toBe(true);
    expect(invalid({ metadata: md(['SIGNATURE_GENERATOR.RAW'], { version: '' }), ...raw })).toBe(true);
    expect(invalid(null)).toBe(true);
  });

  it('requires the handlers of every advertised capability', () => {
    expect(invalid({ metadata: md(['SIGNATURE_GENERATOR.RAW']), describeKey: raw.describeKey })).toBe(true);
    expect(invalid({ metadata: md(['SIGNATURE_GENERATOR.ENVELOPE']) })).toBe(true);
    expect(invalid({ metadata: md(['SIGNATURE_VERIFIER.REVOCATION_CHECK']) })).toBe(true);
    expect(invalid({ metadata: md(['SIGNATURE_GENERATOR.RAW']), ...raw, describeKey: 'not a function' })).toBe(true);
  });

  it('rejects handlers whose capability is not advertised', () => {
    expect(invalid({ metadata: md(['SIGNATURE_GENERATOR.RAW']), ...raw, verifySignature: () => ({}) })).toBe(true);
    expect(
      invalid({
        metadata: md(['SIGNATURE_VERIFIER.TRUSTED_IDENTITY']),
        verifySignature: () => ({}),
        generateSignature: raw.generateSignature,
      }),
    ).toBe(true);
  });
});

describe('servePluginRequest', () => {
  const plugin = definePlugin({
    metadata: md(['SIGNATURE_GENERATOR.RAW']),
    describeKey(r) {
      if (r.keyId === 'crash') throw new Error('disk on fire');
      if (r.keyId === 'bad') return { keyId: r.keyId, keySpec: 'RSA-1' as 'RSA-2048' };
      return { keyId: r.keyId, keySpec: 'EC-256' };
    },
    generateSignature: raw.generateSignature,
  });

  it('answers metadata with or without a request', async () => {
    expect(await servePluginRequest(plugin, 'get-plugin-metadata', {})).toEqual({ ok: true, response: md(['SIGNATURE_GENERATOR.RAW']) });
    expect((await servePluginRequest(plugin, 'get-plugin-metadata', undefined)).ok).toBe(true);
  });

  it.each([
    ['unknown command', 'sign-it', {}, 'VALIDATION_ERROR'],
    ['command without a capability', 'verify-signature', { contractVersion: '1.0' }, 'VALIDATION_ERROR'],
    ['other major contract version', 'describe-key', { contractVersion: '2.0', keyId: 'k' }, 'UNSUPPORTED_CONTRACT_VERSION'],
    ['missing contract version', 'describe-key', { keyId: 'k' }, 'VALIDATION_ERROR'],
    ['handler throwing a plain Error', 'describe-key', { contractVersion: '1.0', keyId: 'crash' }, 'ERROR'],
    ['handler returning an invalid response', 'describe-key', { contractVersion: '1.0', keyId: 'bad' }, 'ERROR'],
  ])('%s → %s', async (_what, command, request, code) => {
    const r = await servePluginRequest(plugin, command, request);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.errorCode).toBe(code);
  });

  it('accepts a newer minor contract version of the same major', async () => {
    expect(await servePluginRequest(plugin, 'describe-key', { contractVersion: '1.7', keyId: 'k' })).toEqual({
      ok: true,
      response: { keyId: 'k', keySpec: 'EC-256' },
    });
  });
});
