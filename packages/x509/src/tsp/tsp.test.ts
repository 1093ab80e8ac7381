import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type FetchResponse, isVouchError } from '@vouch/core';
import { decode, encBitString, encInt, encOctets, encOid, encSeq, encTime, seq } from '@vouch/core/asn1';
import { concatBytes } from '@vouch/core/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestPki } from '../builder.js';
import { parseCertificate, parseCertificates } from '../certificate.js';
import { OID } from '../internal/oids.js';
import { inspectCrl } from '../revocation/index.js';
import {
  createTimestampRequest,
  parseTimestampResponse,
  parseTimestampToken,
  requestTimestamp,
  timestampRange,
  verifyTimestampToken,
} from './index.js';

const bytesResponse = (status: number, type: string, body: Uint8Array): FetchResponse => ({
  status,
  headers: {
    get: (n: string) => (n.toLowerCase() === 'content-type' ? type : n.toLowerCase() === 'content-length' ? String(body.length) : null),
  },
  body: null,
  arrayBuffer: async () => body.slice().buffer,
  text: async () => new TextDecoder().decode(body),
});

describe('createTimestampRequest', () => {
  it('hashes the message, sets certReq and a fresh nonce every time', async () => {
    const message = new TextEncoder().encode('notation');
    const a = await createTimestampRequest({ message });
    const b = await createTimestampRequest({ message });
    const expected = new Uint8Array(await crypto.subtle.digest('SHA-256', message));
    expect(a.messageImprint).toEqual(expected);
    expect(a.certReq).toBe(true);
    expect(a.nonce).toBeDefined();
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.der[0]).toBe(0x30);
    // the DER carries the imprint and ends with certReq TRUE
    expect(Array.from(a.der.slice(-3))).toEqual([1, 1, 0xff]);
  });

  it('accepts a digest of the right length only, and can omit the nonce', async () => {
    const r = await createTimestampRequest({ digest: new Uint8Array(48), hashAlgorithm: 'SHA-384', nonce: false });
    expect(r.nonce).toBeUndefined();
    await expect(createTimestampRequest({ digest: new Uint8Array(31) })).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(createTimestampRequest({})).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(createTimestampRequest({ message: new Uint8Array(1), hashAlgorithm: 'SHA-1' as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});

describe('requestTimestamp transport rules', () => {
  const req = createTimestampRequest({ message: new Uint8Array([1, 2, 3]) });

  it('rejects URLs without an http(s) scheme or host (Quarkslab INFO-3)', async () => {
    const fetch = async () => bytesResponse(200, 'application/timestamp-reply', new Uint8Array());
    for (const url of ['ftp://tsa.example', 'file:///tmp/x', 'tsa.example', 'http://']) {
      await expect(requestTimestamp(url, await req, { fetch })).toRejectWithCode('ERR_INVALID_ARGUMENT');
    }
  });

  it('posts application/timestamp-query and rejects non-200 and wrong content types', async () => {
    const seen: { method?: string; type?: string }[] = [];
    const fetch = async (_u: string, init?: { method?: string; headers?: Record<string, string> }) => {
      seen.push({ method: init?.method, type: init?.headers?.['content-type'] });
      return bytesResponse(500, 'text/plain', new Uint8Array([1]));
    };
    await expect(requestTimestamp('http://tsa.example/tsa', await req, { fetch })).toRejectWithCode('ERR_TIMESTAMP_INVALID');
    expect(seen[0]).toEqual({ method: 'POST', type: 'application/timestamp-query' });
    const wrongType = async () => bytesResponse(200, 'text/html', new Uint8Array([0x30, 0]));
    await expect(requestTimestamp('http://tsa.example/tsa', await req, { fetch: wrongType })).rejects.toMatchObject({
      code: 'ERR_TIMESTAMP_INVALID',
    });
  });

  it('enforces the size cap and the timeout', async () => {
    const big = async () => bytesResponse(200, 'application/timestamp-reply', new Uint8Array(2 * 1024 * 1024));
    await expect(requestTimestamp('http://tsa.example/tsa', await req, { fetch: big })).rejects.toMatchObject({
      code: 'ERR_SIZE_LIMIT_EXCEEDED',
    });
    const never = (_u: string, init?: { signal?: AbortSignal }) =>
      new Promise<FetchResponse>((_r, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    await expect(requestTimestamp('http://tsa.example/tsa', await req, { fetch: never, timeoutMs: 20 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
  });
});

describe('timestampRange', () => {
  it('is [genTime − accuracy, genTime + accuracy], widened to whole milliseconds', () => {
    const genTime = new Date('2021-09-17T14:09:10Z');
    expect(timestampRange({ genTime, accuracy: 2000 })).toEqual({
      earliest: new Date('2021-09-17T14:09:08Z'),
      latest: new Date('2021-09-17T14:09:12Z'),
    });
    const r = timestampRange({ genTime, accuracy: 0.1 });
    expect(r.latest.getTime() - r.earliest.getTime()).toBe(2);
  });
});

describe('parsers never throw anything but VouchError', () => {
  const check = async (f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (e) {
      if (!isVouchError(e)) throw e;
    }
  };
  it('parseTimestampToken / parseTimestampResponse / verifyTimestampToken on arbitrary bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (b) => {
        await check(() => parseTimestampToken(b));
        await check(() => parseTimestampResponse(b));
        await check(() => verifyTimestampToken(b, { message: b, trustedRoots: [] }));
      }),
      { numRuns: 300 },
    );
  });

  it('on DER-shaped input (nested sequences with random content)', async () => {
    const tlv = (tag: number, body: Uint8Array) => new Uint8Array([tag, body.length, ...body]);
    const arb = fc
      .uint8Array({ maxLength: 60 })
      .chain((inner) => fc.constantFrom(0x30, 0x31, 0xa0, 0x06, 0x02, 0x04).map((t) => tlv(0x30, tlv(t, inner))));
    await fc.assert(
      fc.asyncProperty(arb, async (b) => {
        await check(() => parseTimestampToken(b));
        await check(() => parseTimestampResponse(b));
      }),
      { numRuns: 300 },
    );
  });

  it('BER indefinite lengths are accepted by the reader (malformed content still fails typed)', async () => {
    // SEQUENCE (indefinite) { OID signedData } EOC: a ContentInfo without content
    const b = new Uint8Array([0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0x00, 0x00]);
    await expect(parseTimestampToken(b)).rejects.toMatchObject({ code: 'ERR_TIMESTAMP_INVALID', details: { step: 'parse' } });
  });
});

describe('BER only where RFC 3161 needs it', () => {
  const shared = resolve(process.env.VOUCH_SHARED_DIR ?? join(import.meta.dirname, '..', '..', '..', '..', '..', 'shared'));
  const tokenFile = join(shared, 'vectors', 'tspclient-go', 'testdata', 'TimeStampToken.p7s');
  const haveVectors = existsSync(tokenFile);
  if (!haveVectors) {
    if (process.env.CI === 'true') throw new Error(`${tokenFile} not found; under CI=true the shared vectors are required`);
    console.warn(`NOTICE: ${tokenFile} not found (set VOUCH_SHARED_DIR); the BER token test is skipped`);
  }

  /** A constructed TLV in BER indefinite-length form. */
  const indefinite = (tag: number, ...parts: Uint8Array[]) => concatBytes(new Uint8Array([tag, 0x80]), ...parts, new Uint8Array([0, 0]));

  /**
   * The token with every structure around the signed parts re-encoded the way BER TSAs write it:
   * indefinite lengths for ContentInfo, SignedData and EncapsulatedContentInfo, and the TSTInfo
   * as a constructed OCTET STRING of 100-byte segments. The signed attributes and certificates
   * keep their DER (the signature covers them).
   */
  function toBer(der: Uint8Array): Uint8Array {
    const [ctype, content] = seq(decode(der), 'ContentInfo');
    const [version, digestAlgorithms, encap, ...rest] = seq(content!.children[0], 'SignedData');
    const [etype, econtent] = seq(encap, 'EncapsulatedContentInfo');
    const tstInfo = econtent!.children[0]!.value;
    const segments: Uint8Array[] = [];
    for (let i = 0; i < tstInfo.length; i += 100) segments.push(encOctets(tstInfo.subarray(i, i + 100)));
    const ber = indefinite(
      0x30,
      ctype!.raw,
      indefinite(
        0xa0,
        indefinite(
          0x30,
          version!.raw,
          digestAlgorithms!.raw,
          indefinite(0x30, etype!.raw, indefinite(0xa0, indefinite(0x24, ...segments))),
          ...rest.map((n) => n.raw),
        ),
      ),
    );
    expect(() => decode(ber)).toThrow(/indefinite length is not allowed in DER/);
    return ber;
  }

  it.skipIf(!haveVectors)('a token in BER parses and verifies like its DER form', async () => {
    const der = new Uint8Array(readFileSync(tokenFile));
    const roots = parseCertificates(readFileSync(join(shared, 'vectors', 'tspclient-go', 'testdata', 'GlobalSignRootCA.crt'), 'utf8'));
    const options = { message: new TextEncoder().encode('notation'), trustedRoots: roots, at: new Date('2021-09-17T14:09:10Z') };
    const ber = toBer(der);
    const [a, b] = [await parseTimestampToken(der), await parseTimestampToken(ber)];
    expect({ ...b, der: undefined, certificates: b.certificates.map((c) => c.sha256Fingerprint), signerCertificate: undefined }).toEqual({
      ...a,
      der: undefined,
      certificates: a.certificates.map((c) => c.sha256Fingerprint),
      signerCertificate: undefined,
    });
    const [va, vb] = [await verifyTimestampToken(der, options), await verifyTimestampToken(ber, options)];
    expect(vb.chain.map((c) => c.subject)).toEqual(va.chain.map((c) => c.subject));
    expect(vb.chain).toHaveLength(4);
    expect(vb.range).toEqual(va.range);
  });

  it('certificates and CRLs stay strict DER (OCSP responses are read the same way)', async () => {
    const pki = await createTestPki({ keySpec: 'EC-256' });
    const cert = pki.leaf.certificate.der;
    const [tbs, alg, sig] = seq(decode(cert), 'Certificate');
    const berCert = indefinite(0x30, tbs!.raw, alg!.raw, sig!.raw);
    expect(() => parseCertificate(berCert)).toThrow(expect.objectContaining({ code: 'ERR_CERT_INVALID' }));
    const longForm = concatBytes(new Uint8Array([0x30, 0x83, 0]), cert.subarray(2)); // 0x30 0x82 LL LL → 0x30 0x83 00 LL LL
    expect(() => parseCertificate(longForm)).toThrow(/non-minimal length/);

    const crlAlg = encSeq(encOid(OID.ecdsaWithSha256));
    const tbsCrl = encSeq(encInt(1), crlAlg, seq(tbs, 'TBSCertificate')[3]!.raw, encTime(new Date('2030-01-01T00:00:00Z')));
    const crl = encSeq(tbsCrl, crlAlg, encBitString(new Uint8Array([1, 2, 3])));
    expect(inspectCrl(crl).thisUpdate.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(() => inspectCrl(indefinite(0x30, tbsCrl, crlAlg, encBitString(new Uint8Array([1, 2, 3]))))).toThrow(
      expect.objectContaining({ code: 'ERR_MALFORMED_INPUT' }),
    );
  });
});
