import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { utf8, type VouchErrorCode } from '@vouch/core';
import { concatBytes, fromHex, fromUtf8, toHex } from '@vouch/core/internal';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCode, goodEnvelopes, request, type TestSigner, testChainSigner, testSigner, vectorsDir } from '../test/fixtures.js';
import { CborMap, CborTag, type CborValue, decodeCbor, encodeCbor } from './cbor.js';
import { cose } from './index.js';

interface Msg {
  prot: CborMap;
  /** Set to replace the encoded protected header verbatim. */
  protectedBytes?: Uint8Array;
  unprot: CborMap;
  payload: CborValue;
  signature: CborValue;
}

function open(bytes: Uint8Array): Msg & { protectedBytes: Uint8Array } {
  const m = (decodeCbor(bytes, 'test') as CborTag).value as CborValue[];
  return {
    protectedBytes: m[0] as Uint8Array,
    prot: decodeCbor(m[0] as Uint8Array, 'test') as CborMap,
    unprot: m[1] as CborMap,
    payload: m[2] as CborValue,
    signature: m[3] as CborValue,
  };
}

function set(map: CborMap, key: CborValue, value: CborValue): void {
  const e = map.entries.find(([k]) => k === key);
  if (e) e[1] = value;
  else map.entries.push([key, value]);
}

function del(map: CborMap, key: CborValue): void {
  const i = map.entries.findIndex(([k]) => k === key);
  if (i >= 0) map.entries.splice(i, 1);
}

function sig1(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

/** Mutate a good envelope and re-sign it, so only the rule under test is broken. */
async function mutate(good: Uint8Array, ts: TestSigner, fn: (m: Msg) => undefined | false): Promise<Uint8Array> {
  const o = open(good);
  const m: Msg = { prot: o.prot, unprot: o.unprot, payload: o.payload, signature: o.signature };
  const resign = fn(m) !== false;
  const protectedBytes = m.protectedBytes ?? encodeCbor(m.prot);
  let signature = m.signature;
  if (resign && m.payload instanceof Uint8Array) signature = await ts.signer.sign(sig1(protectedBytes, m.payload));
  return encodeCbor(new CborTag(18, [protectedBytes, m.unprot, m.payload as Uint8Array, signature as Uint8Array]));
}

const SCHEME = 'io.cncf.notary.signingScheme';
const STIME = 'io.cncf.notary.signingTime';
const ASTIME = 'io.cncf.notary.authenticSigningTime';
const EXP = 'io.cncf.notary.expiry';

describe('cose: byte layout', () => {
  it('writes notation byte layout: canonical maps, tag-1 times, struct-ordered payload, x5chain array', async () => {
    const ts = await testChainSigner();
    const bytes = await cose.sign(
      request(ts.signer, {
        signingScheme: 'notary.x509.signingAuthority',
        extendedAttributes: [
          { key: 'zz', value: new Uint8Array([1, 2]), critical: true },
          { key: 'a', value: { n: -5, big: 2 ** 40 }, critical: false },
        ],
        timestamper: undefined,
      }),
    );
    expect([bytes[0], bytes[1]]).toEqual([0xd2, 0x84]);
    const o = open(bytes);
    expect(o.prot.entries.map(([k]) => k)).toEqual([1, 2, 3, 'a', 'zz', EXP, SCHEME, ASTIME]);
    expect(o.prot.get(2)).toEqual([SCHEME, ASTIME, EXP, 'zz']);
    expect(o.prot.get(ASTIME)).toEqual(new CborTag(1, Date.parse('2024-05-01T10:20:30Z') / 1000));
    expect(o.unprot.entries.map(([k]) => k)).toEqual([33, 'io.cncf.notary.signingAgent']);
    expect(o.unprot.get(33)).toEqual(ts.chain.map((c) => c.der));
    expect(fromUtf8(o.payload as Uint8Array)).toBe(
      '{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
        '"digest":"sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333","size":16724,' +
        '"annotations":{"10":"ten","9":"nine","io.wabbit-networks.buildId":"123"}}}',
    );
    // Re-encoding the decoded message reproduces it exactly (canonical form).
    expect(toHex(encodeCbor(decodeCbor(bytes, 'x') as CborTag))).toBe(toHex(bytes));
    const env = cose.parse(bytes);
    await cose.verifyIntegrity(env);
    expect(env.certificateChain).toHaveLength(3);
    expect(env.signedAttributes.extended).toEqual([
      { key: 'a', value: { n: -5, big: 2 ** 40 }, critical: false },
      { key: 'zz', value: new Uint8Array([1, 2]), critical: true },
    ]);
  });

  it('timestamps: the token follows x5chain and the agent in the unprotected header; the protected bytes are kept', async () => {
    const ts = await testSigner('EC-521');
    const bytes = await cose.sign(request(ts.signer, { timestamper: async () => new Uint8Array([0x30, 0]) }));
    expect(open(bytes).unprot.entries.map(([k]) => k)).toEqual([33, 'io.cncf.notary.signingAgent', 'io.cncf.notary.timestampSignature']);
    const out = cose.attachTimestamp(bytes, new Uint8Array([7, 7]));
    expect(toHex(open(out).protectedBytes)).toBe(toHex(open(bytes).protectedBytes));
  });
});

describe('cose: parse rules (each envelope breaks exactly one rule)', () => {
  const f = goodEnvelopes(cose);

  it('re-signing without a change breaks nothing (the mutation helper is sound)', async () => {
    await cose.verifyIntegrity(cose.parse(await mutate(f.good, f.ts, () => undefined)));
  });

  const M: VouchErrorCode = 'ERR_ENVELOPE_MALFORMED';
  const U: VouchErrorCode = 'ERR_ENVELOPE_UNSUPPORTED';
  const crit = (m: Msg) => m.prot.get(2) as CborValue[];
  const cases: [string, (m: Msg) => undefined | false, VouchErrorCode][] = [
    ['protected header not a map', (m) => void (m.protectedBytes = encodeCbor([1, 2])), M],
    ['empty protected header', (m) => void (m.protectedBytes = new Uint8Array(0)), M],
    [
      'duplicate key in the protected header',
      (m) =>
        void (m.protectedBytes = concatBytes(
          new Uint8Array([0xa0 + m.prot.entries.length + 1]),
          ...m.prot.entries.flatMap(([k, v]) => [encodeCbor(k as never), encodeCbor(v as never)]),
          encodeCbor(1),
          encodeCbor(-7),
        )),
      M,
    ],
    [
      'indefinite-length map in the protected header',
      (m) =>
        void (m.protectedBytes = concatBytes(
          new Uint8Array([0xbf]),
          ...m.prot.entries.flatMap(([k, v]) => [encodeCbor(k as never), encodeCbor(v as never)]),
          new Uint8Array([0xff]),
        )),
      M,
    ],
    ['alg missing', (m) => void del(m.prot, 1), M],
    ['alg RS256 (-257)', (m) => void set(m.prot, 1, -257), U],
    ['alg as text', (m) => void set(m.prot, 1, 'ES256'), U],
    ['alg not the leaf key algorithm', (m) => void set(m.prot, 1, -35), M],
    ['alg of another key type', (m) => void set(m.prot, 1, -37), M],
    ['crit missing', (m) => void del(m.prot, 2), M],
    ['crit empty', (m) => void set(m.prot, 2, []), M],
    ['crit not an array', (m) => void set(m.prot, 2, SCHEME), M],
    ['crit lists COSE label 1', (m) => void set(m.prot, 2, [...crit(m), 1]), M],
    ['crit lists an absent integer label', (m) => void set(m.prot, 2, [...crit(m), 100]), M],
    [
      'crit lists an unknown integer label',
      (m) => {
        set(m.prot, 100, 'x');
        set(m.prot, 2, [...crit(m), 100]);
        return undefined;
      },
      U,
    ],
    ['crit lists a byte string', (m) => void set(m.prot, 2, [...crit(m), new Uint8Array([1])]), M],
    ['crit lists an absent text label', (m) => void set(m.prot, 2, [...crit(m), 'ghost']), M],
    ['crit lists signingTime', (m) => void set(m.prot, 2, [...crit(m), STIME]), M],
    ['crit without signingScheme', (m) => void set(m.prot, 2, [EXP]), M],
    ['expiry not critical', (m) => void set(m.prot, 2, [SCHEME]), M],
    ['cty missing', (m) => void del(m.prot, 3), M],
    ['cty as a CoAP content format integer', (m) => void set(m.prot, 3, 50), M],
    ['cty wrong', (m) => void set(m.prot, 3, 'application/json'), M],
    ['signingScheme missing', (m) => void del(m.prot, SCHEME), M],
    ['signingScheme unknown', (m) => void set(m.prot, SCHEME, 'notary.x509.v2'), U],
    ['signingScheme not text', (m) => void set(m.prot, SCHEME, 1), M],
    ['signingTime missing for notary.x509', (m) => void del(m.prot, STIME), M],
    ['signingTime as tag 0 (RFC 3339 text)', (m) => void set(m.prot, STIME, new CborTag(0, '2024-05-01T10:20:30Z')), M],
    ['signingTime untagged', (m) => void set(m.prot, STIME, 1714558830), M],
    ['signingTime tag 1 with text', (m) => void set(m.prot, STIME, new CborTag(1, '1714558830')), M],
    [
      'authenticSigningTime under notary.x509 (notation-core-go ignores it; vouch rejects)',
      (m) => {
        set(m.prot, ASTIME, new CborTag(1, 1714558830));
        set(m.prot, 2, [...crit(m), ASTIME]);
        return undefined;
      },
      M,
    ],
    ['expiry before signingTime', (m) => void set(m.prot, EXP, new CborTag(1, 1000)), M],
    ['unsigned attribute in the protected header', (m) => void set(m.prot, 'io.cncf.notary.timestampSignature', new Uint8Array([1])), M],
    ['x5chain missing', (m) => void del(m.unprot, 33), M],
    ['x5chain a bare byte string', (m) => void set(m.unprot, 33, (m.unprot.get(33) as Uint8Array[])[0] as Uint8Array), M],
    ['x5chain empty', (m) => void set(m.unprot, 33, []), M],
    ['x5chain with a text entry', (m) => void set(m.unprot, 33, ['cert']), M],
    ['x5chain entry not a certificate', (m) => void set(m.unprot, 33, [new Uint8Array([0x30, 0])]), M],
    [
      'x5chain only in the protected header',
      (m) => {
        set(m.prot, 33, m.unprot.get(33) as CborValue);
        del(m.unprot, 33);
        return undefined;
      },
      M,
    ],
    ['timestampSignature as text', (m) => void set(m.unprot, 'io.cncf.notary.timestampSignature', 'abc'), M],
    ['signingAgent as an integer', (m) => void set(m.unprot, 'io.cncf.notary.signingAgent', 1), M],
    ['label in both buckets', (m) => void set(m.unprot, 3, 'application/vnd.cncf.notary.payload.v1+json'), M],
    ['signed attribute in the unprotected header', (m) => void set(m.unprot, ASTIME, new CborTag(1, 1714558830)), M],
    ['unprotected header label of another type', (m) => void m.unprot.entries.push([new Uint8Array([1]), 1]), M],
    ['detached payload (nil)', (m) => void (m.payload = null), M],
    ['payload as text', (m) => void (m.payload = 'x'), M],
    [
      'empty signature',
      (m) => {
        m.signature = new Uint8Array(0);
        return false;
      },
      M,
    ],
    ['payload not JSON', (m) => void (m.payload = utf8('hello COSE')), M],
    ['payload without targetArtifact', (m) => void (m.payload = utf8('{"x":1}')), M],
  ];

  it.each(cases)('%s', async (_name, fn, code) => {
    await expectCode(async () => cose.parse(await mutate(f.good, f.ts, fn)), code);
  });

  it.each([
    [
      'signingAuthority without authenticSigningTime',
      (m: Msg) => {
        del(m.prot, ASTIME);
        set(m.prot, 2, [SCHEME, EXP]);
        return undefined;
      },
    ],
    ['signingAuthority with signingTime', (m: Msg) => void set(m.prot, STIME, new CborTag(1, 1714558830))],
    ['signingAuthority with authenticSigningTime not critical', (m: Msg) => void set(m.prot, 2, [SCHEME, EXP])],
  ])('%s', async (_name, fn) => {
    await expectCode(async () => cose.parse(await mutate(f.goodSa, f.ts, fn)), 'ERR_ENVELOPE_MALFORMED');
  });

  it('rejects untagged, wrongly tagged, short, trailing, indefinite and duplicate-key messages', async () => {
    const o = open(f.good);
    const parts = [o.protectedBytes, o.unprot, o.payload as Uint8Array, o.signature as Uint8Array] as const;
    await expectCode(() => cose.parse(encodeCbor([...parts])), M);
    await expectCode(() => cose.parse(encodeCbor(new CborTag(17, [...parts]))), M);
    await expectCode(() => cose.parse(encodeCbor(new CborTag(18, parts.slice(0, 3) as never))), M);
    await expectCode(() => cose.parse(concatBytes(f.good, new Uint8Array([0]))), M);
    await expectCode(() => cose.parse(f.good.subarray(0, f.good.length - 1)), M);
    await expectCode(() => cose.parse(new Uint8Array([0xd2, 0x9f, 0xff])), M);
    const indefUnprot = concatBytes(
      new Uint8Array([0xd2, 0x84]),
      encodeCbor(o.protectedBytes),
      new Uint8Array([0xbf]),
      ...o.unprot.entries.flatMap(([k, v]) => [encodeCbor(k as never), encodeCbor(v as never)]),
      new Uint8Array([0xff]),
      encodeCbor(o.payload as Uint8Array),
      encodeCbor(o.signature as Uint8Array),
    );
    await expectCode(() => cose.parse(indefUnprot), M);
    const dupUnprot = concatBytes(
      new Uint8Array([0xd2, 0x84]),
      encodeCbor(o.protectedBytes),
      new Uint8Array([0xa0 + o.unprot.entries.length + 1]),
      ...o.unprot.entries.flatMap(([k, v]) => [encodeCbor(k as never), encodeCbor(v as never)]),
      encodeCbor('io.cncf.notary.signingAgent'),
      encodeCbor('again'),
      encodeCbor(o.payload as Uint8Array),
      encodeCbor(o.signature as Uint8Array),
    );
    await expectCode(() => cose.parse(dupUnprot), M);
    await expectCode(() => cose.parse(new Uint8Array(0)), M);
  });

  it('ignores unknown unprotected labels and non-critical integer labels; keeps text extended attributes', async () => {
    const bytes = await mutate(f.good, f.ts, (m) => {
      set(m.unprot, 'x-vendor', [1, 2]);
      set(m.unprot, 99, 'x');
      set(m.prot, 4, new Uint8Array([0xab]));
      set(m.prot, 'ext', new Uint8Array([1]));
      set(m.prot, STIME, new CborTag(1, 1714558830.25));
      return undefined;
    });
    const env = cose.parse(bytes);
    await cose.verifyIntegrity(env);
    expect(env.signedAttributes.extended).toEqual([{ key: 'ext', value: new Uint8Array([1]), critical: false }]);
    expect(env.signedAttributes.signingTime?.toISOString()).toBe('2024-05-01T10:20:30.250Z');
  });
});

describe('cose: integrity', () => {
  let ts: TestSigner;
  let good: Uint8Array;
  beforeAll(async () => {
    ts = await testSigner('RSA-3072');
    good = await cose.sign(request(ts.signer));
  });

  it('a changed payload, protected header or signature fails integrity', async () => {
    const p = await mutate(good, ts, (m) => {
      const payload = JSON.parse(fromUtf8(m.payload as Uint8Array));
      payload.targetArtifact.size = 1;
      m.payload = utf8(JSON.stringify(payload));
      return false;
    });
    await expectCode(cose.verifyIntegrity(cose.parse(p)), 'ERR_SIGNATURE_INTEGRITY');
    const h = await mutate(good, ts, (m) => {
      set(m.prot, STIME, new CborTag(1, 1714558831));
      return false;
    });
    await expectCode(cose.verifyIntegrity(cose.parse(h)), 'ERR_SIGNATURE_INTEGRITY');
    const s = await mutate(good, ts, (m) => {
      const sig = (m.signature as Uint8Array).slice();
      sig[0] = (sig[0] as number) ^ 0x80;
      m.signature = sig;
      return false;
    });
    await expectCode(cose.verifyIntegrity(cose.parse(s)), 'ERR_SIGNATURE_INTEGRITY');
  });

  it('unsigned attributes may change without breaking integrity', async () => {
    const u = await mutate(good, ts, (m) => {
      set(m.unprot, 'io.cncf.notary.signingAgent', 'someone else');
      return false;
    });
    await cose.verifyIntegrity(cose.parse(u));
  });
});

describe('cose: upstream vectors', () => {
  const dir = vectorsDir();
  it.skipIf(!dir)('encodes the conformance request byte for byte', () => {
    const f = JSON.parse(readFileSync(join(dir as string, 'notation-core-go/signature/cose/testdata/conformance.json'), 'utf8'));
    const e = cose.encodeSigningInput({
      payloadBytes: fromHex(f.payload),
      algorithm: 'PS384',
      signedAttributes: {
        signingScheme: 'notary.x509',
        signingTime: new Date(f.signingTime * 1000),
        expiry: new Date(f.expiry * 1000),
        extended: [
          { key: 'signedCritKey1', value: 'signedCritValue1', critical: true },
          { key: 'signedKey1', value: 'signedValue1', critical: false },
        ],
      },
    });
    expect(toHex(e.protectedHeader)).toBe(f.protectedHeaders.cborHex.toLowerCase());
    const expected = fromHex(f.expectedOutput.cborHex);
    const signature = (open(expected).signature as Uint8Array).slice();
    const out = cose.serialize({
      ...e,
      signature,
      certificateChain: [],
      unsignedAttributes: { signingAgent: 'NotationConformanceTest/1.0.0' },
    });
    expect(toHex(out)).toBe(toHex(expected));
  });

  it.skipIf(!dir)('parses and verifies a notation-generated envelope', async () => {
    const env = cose.parse(new Uint8Array(readFileSync(join(dir as string, 'notation-go/internal/testdata/cose_signature.sig'))));
    await cose.verifyIntegrity(env);
    expect(env.algorithm).toBe('PS256');
    expect(env.payload.targetArtifact.size).toBe(481);
  });
});

describe('cbor codec', () => {
  const hex = (v: Parameters<typeof encodeCbor>[0]) => toHex(encodeCbor(v));
  it('encodes minimal heads, canonical maps and Go-style numbers', () => {
    expect(hex(0)).toBe('00');
    expect(hex(23)).toBe('17');
    expect(hex(24)).toBe('1818');
    expect(hex(-1)).toBe('20');
    expect(hex(-38)).toBe('3825');
    expect(hex(65536)).toBe('1a00010000');
    expect(hex(2 ** 40)).toBe('1b0000010000000000');
    expect(hex(-(2 ** 40))).toBe('3b000000ffffffffff');
    expect(hex(18446744073709551615n)).toBe('1bffffffffffffffff');
    expect(hex(1.5)).toBe('fb3ff8000000000000');
    expect(hex('a'.repeat(24))).toBe(`7818${'61'.repeat(24)}`);
    const m = new Map<string | number, number>([
      ['bb', 1],
      ['a', 2],
      [33, 3],
      [-1, 4],
    ]);
    expect(hex(m as never)).toBe('a4200418210361610262626201');
    expect(hex({ b: 1, a: [true, false, null] })).toBe('a2616183f5f4f6616201');
  });

  it('round-trips values', () => {
    for (const v of [
      0,
      1,
      -1,
      255,
      256,
      65535,
      65536,
      2 ** 32,
      -(2 ** 32),
      2 ** 53 - 1,
      -(2 ** 53) + 1,
      'héllo',
      new Uint8Array([1, 2, 3]),
      [1, [2, [3]]],
      true,
      false,
      null,
      0.1,
    ]) {
      const back = decodeCbor(encodeCbor(v as never), 'x');
      expect(back).toEqual(v);
    }
    expect(decodeCbor(encodeCbor(2n ** 63n), 'x')).toBe(2n ** 63n);
    expect(decodeCbor(encodeCbor(-(2n ** 64n)), 'x')).toBe(-(2n ** 64n));
    expect(decodeCbor(fromHex('f93c00'), 'x')).toBe(1);
    expect(decodeCbor(fromHex('fa3fc00000'), 'x')).toBe(1.5);
    expect(decodeCbor(fromHex('f7'), 'x')).toBeUndefined();
  });

  it.each([
    ['truncated', ''],
    ['truncated head', '19'],
    ['length beyond input', '5a00010000'],
    ['indefinite byte string', '5f41ff'],
    ['indefinite array', '9fff'],
    ['reserved additional info', '1c'],
    ['lone break', 'ff'],
    ['simple value 16', 'f0'],
    ['simple value with 1-byte argument', 'f820'],
    ['duplicate int keys', 'a201010102'],
    ['duplicate text keys', 'a2616101616102'],
    ['duplicate key with non-minimal encoding', 'a20101180102'],
    ['invalid UTF-8', '62c328'],
    ['trailing bytes', '0000'],
    ['map count beyond input', 'bb00000000ffffffff'],
    ['huge tag number', 'dbffffffffffffffff00'],
  ])('rejects %s', async (_name, h) => {
    await expectCode(() => decodeCbor(fromHex(h), 'x'), 'ERR_ENVELOPE_MALFORMED');
  });

  it('rejects nesting deeper than 32 and unencodable values', async () => {
    await expectCode(() => decodeCbor(new Uint8Array(40).fill(0x81), 'x'), 'ERR_ENVELOPE_MALFORMED');
    await expectCode(() => encodeCbor(Number.NaN), 'ERR_INVALID_ARGUMENT');
    await expectCode(() => encodeCbor(2n ** 64n), 'ERR_INVALID_ARGUMENT');
    await expectCode(() => encodeCbor(new Date() as never), 'ERR_INVALID_ARGUMENT');
    await expectCode(
      () =>
        encodeCbor(
          new CborMap([
            [1, 1],
            [1, 2],
          ]),
        ),
      'ERR_INVALID_ARGUMENT',
    );
  });
});
