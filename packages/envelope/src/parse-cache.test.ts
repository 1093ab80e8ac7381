import { request, testChainSigner } from '@vouch/testing/envelope';
import { describe, expect, it } from 'vitest';
import { cose } from './cose/index.js';
import { jws } from './jws/index.js';
import type { EnvelopeCodec } from './model.js';

describe.each([
  ['jws', jws],
  ['cose', cose],
] as [string, EnvelopeCodec][])('%s parse memo (same envelope parsed again)', (_name, codec) => {
  async function signed(): Promise<Uint8Array> {
    const ts = await testChainSigner();
    return codec.sign(
      request(ts.signer, {
        extendedAttributes: [{ key: 'com.example.nested', value: { list: [1, 'two'] }, critical: false }],
        timestamper: async () => new Uint8Array([1, 2, 3]),
      }),
    );
  }

  it('gives each call its own envelope: byte arrays, dates, certificates and attribute values are not shared', async () => {
    const bytes = await signed();
    const a = codec.parse(bytes);
    const b = codec.parse(bytes.slice());
    expect(b).toEqual(a);
    for (const k of ['payloadBytes', 'signature', 'toBeSigned'] as const) expect(b[k]).not.toBe(a[k]);
    expect(b.unsignedAttributes.timestampSignature).not.toBe(a.unsignedAttributes.timestampSignature);
    expect(b.signedAttributes.signingTime).not.toBe(a.signedAttributes.signingTime);
    expect(b.signedAttributes.extended[0]!.value).not.toBe(a.signedAttributes.extended[0]!.value);
    b.certificateChain.forEach((c, i) => {
      expect(c).not.toBe(a.certificateChain[i]);
      expect(c.der).not.toBe(a.certificateChain[i]!.der);
    });
    // the payload descriptor is shared, so it is frozen
    expect(Object.isFrozen(b.payload.targetArtifact)).toBe(true);

    // changes a caller makes to its envelope, or to the bytes it parsed, reach no other call
    a.payloadBytes.fill(0);
    a.signature.fill(0);
    a.toBeSigned.fill(0);
    a.certificateChain[0]!.der.fill(0);
    a.signedAttributes.signingTime!.setTime(0);
    (a.signedAttributes.extended[0]!.value as { list: unknown[] }).list.push('three');
    const c = codec.parse(bytes);
    expect(c).toEqual(b);
    await codec.verifyIntegrity(c);
  });

  it('matches on the exact bytes: a changed envelope is parsed on its own', async () => {
    const bytes = await signed();
    codec.parse(bytes);
    const cut = bytes.subarray(0, bytes.length - 1);
    expect(() => codec.parse(cut)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_/) }));
    const other = await codec.sign(request((await testChainSigner()).signer));
    expect(codec.parse(other).signedAttributes.extended).toEqual([]);
  });
});
