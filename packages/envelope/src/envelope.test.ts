import { SIGNATURE_ALGORITHMS, utf8 } from '@vouch/core';
import { fromUtf8 } from '@vouch/core/internal';
import { PAYLOAD, testSigner } from '@vouch/testing/envelope';
import { generateKeyPair } from '@vouch/x509';
import { describe, expect, it } from 'vitest';
import { algorithmForKey, algorithmFromCoseId, coseAlgorithmId } from './algorithms.js';
import { formatRfc3339, parseRfc3339 } from './attributes.js';
import { cose } from './cose/index.js';
import { codecForMediaType, encodePayload, localRawSigner, parsePayload } from './index.js';
import { encodeGoJson, parseStrictJson } from './json.js';
import { jws } from './jws/index.js';

const spki = new Uint8Array(0);

describe('algorithm table', () => {
  it('maps the six key types and sizes', () => {
    expect(algorithmForKey({ type: 'RSA', bits: 2048, spki })).toBe('PS256');
    expect(algorithmForKey({ type: 'RSA', bits: 3072, spki })).toBe('PS384');
    expect(algorithmForKey({ type: 'RSA', bits: 4096, spki })).toBe('PS512');
    expect(algorithmForKey({ type: 'EC', bits: 256, curve: 'P-256', spki })).toBe('ES256');
    expect(algorithmForKey({ type: 'EC', bits: 384, curve: 'P-384', spki })).toBe('ES384');
    expect(algorithmForKey({ type: 'EC', bits: 521, curve: 'P-521', spki })).toBe('ES512');
  });

  it.each([
    ['RSA', 1024],
    ['RSA', 2049],
    ['RSA', 8192],
    ['EC', 224],
    ['EC', 512],
  ] as const)('rejects %s-%d', (type, bits) => {
    expect(() => algorithmForKey({ type, bits, spki })).toThrowWithCode('ERR_ENVELOPE_UNSUPPORTED');
  });

  it('COSE identifiers round-trip and unknown ones are undefined', () => {
    expect(SIGNATURE_ALGORITHMS.map(coseAlgorithmId)).toEqual([-37, -38, -39, -7, -35, -36]);
    for (const a of SIGNATURE_ALGORITHMS) expect(algorithmFromCoseId(coseAlgorithmId(a))).toBe(a);
    expect(algorithmFromCoseId(-257)).toBeUndefined();
  });
});

describe('localRawSigner', () => {
  it('refuses a key that does not fit the certificate', async () => {
    const ts = await testSigner('RSA-2048');
    const wrongHash = await generateKeyPair('RSA-3072');
    expect(() => localRawSigner(wrongHash.privateKey, [ts.certificate])).toThrowWithCode('ERR_INVALID_ARGUMENT');
    expect(() => localRawSigner(ts.privateKey, [])).toThrowWithCode('ERR_INVALID_ARGUMENT');
    const ec = await testSigner('EC-256');
    expect(() => localRawSigner(ec.privateKey, [ts.certificate])).toThrowWithCode('ERR_INVALID_ARGUMENT');
    expect(localRawSigner(ts.privateKey, [ts.certificate]).algorithm).toBe('PS256');
  });
});

describe('codecForMediaType', () => {
  it('picks a passed codec and rejects others with notation wording', () => {
    expect(codecForMediaType('application/cose', [jws, cose])).toBe(cose);
    expect(codecForMediaType('application/jose+json', [jws])).toBe(jws);
    expect(() => codecForMediaType('application/cose', [jws])).toThrowWithCode('ERR_ENVELOPE_UNSUPPORTED');
    try {
      codecForMediaType('application/unsupported+json', [jws, cose]);
    } catch (e) {
      expect((e as Error).message).toContain('signature envelope format with media type "application/unsupported+json" is not supported');
    }
  });
});

describe('payload', () => {
  it('parses a Notary payload and ignores other members', () => {
    const p = parsePayload(utf8(`{"targetArtifact":${JSON.stringify(PAYLOAD.targetArtifact)},"other":1}`));
    expect(p).toEqual(PAYLOAD);
  });

  it('encodes in notation struct order or sorted order', () => {
    const d = { mediaType: 'm/t', digest: `sha256:${'a'.repeat(64)}`, size: 3 };
    expect(fromUtf8(encodePayload({ targetArtifact: d }, 'struct'))).toBe(
      `{"targetArtifact":{"mediaType":"m/t","digest":"sha256:${'a'.repeat(64)}","size":3}}`,
    );
    expect(fromUtf8(encodePayload({ targetArtifact: d }, 'sorted'))).toBe(
      `{"targetArtifact":{"digest":"sha256:${'a'.repeat(64)}","mediaType":"m/t","size":3}}`,
    );
    expect(fromUtf8(encodePayload({ targetArtifact: { ...d, annotations: {} } }, 'struct'))).not.toContain('annotations');
    expect(() => encodePayload({ targetArtifact: { ...d, size: -1 } }, 'struct')).toThrowWithCode('ERR_INVALID_ARGUMENT');
  });
});

describe('RFC 3339', () => {
  it.each([
    ['2022-08-29T13:50:00Z', '2022-08-29T13:50:00.000Z'],
    ['2024-09-17T10:40:47-07:00', '2024-09-17T17:40:47.000Z'],
    ['2024-09-17T10:40:47+05:30', '2024-09-17T05:10:47.000Z'],
    ['2024-02-29T00:00:00.123456789Z', '2024-02-29T00:00:00.123Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ])('parses %s', (s, iso) => {
    expect(parseRfc3339(s)?.toISOString()).toBe(iso);
  });

  it.each([
    '2022-08-29 13:50:00Z',
    '2022-08-29T13:50:00',
    '2022-08-29t13:50:00z',
    '2023-02-29T00:00:00Z',
    '2022-13-01T00:00:00Z',
    '2022-01-01T24:00:00Z',
    '2022-01-01T00:60:00Z',
    '2022-01-01T00:00:60Z',
    '2022-01-01T00:00:00+24:00',
    '22-01-01T00:00:00Z',
    '',
  ])('rejects %j', (s) => {
    expect(parseRfc3339(s)).toBeUndefined();
  });

  it('formats whole seconds in UTC', () => {
    expect(formatRfc3339(new Date('2022-08-29T13:50:00.999Z'))).toBe('2022-08-29T13:50:00Z');
  });
});

describe('JSON helpers', () => {
  it('encode like Go: HTML-safe escapes, sorted keys by UTF-8, control characters', () => {
    expect(encodeGoJson({ b: '<&>', a: '\u2028\n\u0001\b\f"\\', é: 1, z: 2, '\u{1F600}': 3, '\uFFFF': 4 })).toBe(
      '{"a":"\\u2028\\n\\u0001\\b\\f\\"\\\\","b":"\\u003c\\u0026\\u003e","z":2,"é":1,"\uFFFF":4,"\u{1F600}":3}',
    );
    expect(encodeGoJson([1.5, 1e21, 1e-7, -0, null, true])).toBe('[1.5,1e+21,1e-7,-0,null,true]');
    expect(() => encodeGoJson('\ud800')).toThrowWithCode('ERR_INVALID_ARGUMENT');
    expect(() => encodeGoJson(new Date())).toThrowWithCode('ERR_INVALID_ARGUMENT');
    expect(() => encodeGoJson(1n)).toThrowWithCode('ERR_INVALID_ARGUMENT');
  });

  it('parse strictly', () => {
    expect(parseStrictJson(' {"a":[1,-2.5e3,"x\\u0041\\n"],"__proto__":{"b":null}} ', 'ERR_ENVELOPE_MALFORMED', 'x')).toEqual(
      JSON.parse('{"a":[1,-2.5e3,"xA\\n"],"__proto__":{"b":null}}'),
    );
    const o = parseStrictJson('{"__proto__":{"polluted":true}}', 'ERR_ENVELOPE_MALFORMED', 'x') as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(o, '__proto__')).toBe(true);
    for (const bad of [
      '{"a":1,"a":2}',
      '{"a":1,}',
      '[1,]',
      '01',
      '1.',
      '"\\x"',
      '"a\nb"',
      '{a:1}',
      'nul',
      '[',
      '"',
      '1 2',
      'NaN',
      '1e999',
      '[[[[' + '[]'.repeat(1) + ']]]]x',
    ]) {
      expect(() => parseStrictJson(bad, 'ERR_ENVELOPE_MALFORMED', 'x')).toThrowWithCode('ERR_ENVELOPE_MALFORMED');
    }
    expect(() => parseStrictJson('['.repeat(100) + ']'.repeat(100), 'ERR_ENVELOPE_MALFORMED', 'x')).toThrowWithCode(
      'ERR_ENVELOPE_MALFORMED',
    );
  });
});
