/**
 * RFC 3161 round trips against a real TSA (`openssl ts -reply` behind ./services.ts) with
 * RSA and ECDSA TSA chains, through the public API of @vouch/x509/tsp.
 */
import type { FetchLike } from '@vouch/core';
import { parseCertificate } from '@vouch/x509';
import {
  createTimestampRequest,
  parseTimestampToken,
  requestTimestamp,
  validateTimestampResponse,
  verifyTimestampToken,
} from '@vouch/x509/tsp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** globalThis.fetch as a FetchLike (the DOM and FetchLike types differ only nominally). */
const http: FetchLike = (url, init) => fetch(url, init as RequestInit) as unknown as ReturnType<FetchLike>;

import { type OpensslPki, type PkiHttpServer, requireOpenssl, startPkiServer } from '@vouch/testing/pki';

const ok = await requireOpenssl('TSA round-trip tests');

describe.skipIf(!ok)('RFC 3161 with a real openssl TSA', () => {
  let server: PkiHttpServer;
  const pkis: Record<string, OpensslPki> = {};

  beforeAll(async () => {
    server = await startPkiServer();
    const [rsa, ec] = await Promise.all([server.addPki('rsa', 'rsa2048'), server.addPki('ec', 'p256')]);
    pkis.rsa = rsa;
    pkis.ec = ec;
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  for (const name of ['rsa', 'ec']) {
    describe(`${name} TSA chain`, () => {
      const message = new TextEncoder().encode(`signature bytes ${name}`);
      const cert = (n: 'root' | 'int' | 'tsa') => parseCertificate(pkis[name]!.certs[n].der);

      it('requests a timestamp and verifies it against the root', async () => {
        const req = await createTimestampRequest({ message, hashAlgorithm: 'SHA-384' });
        expect(req.nonce).toMatch(/^[0-9a-f]+$/);
        const token = await requestTimestamp(`${server.url}/${name}/tsa`, req, { fetch: http });
        expect(token.nonce).toBe(req.nonce);
        expect(token.certificates.length).toBeGreaterThan(0);
        const v = await verifyTimestampToken(token.der, { message, trustedRoots: [cert('root')] });
        expect(v.chain.map((c) => c.subject)).toEqual([cert('tsa').subject, cert('int').subject, cert('root').subject]);
        expect(v.token.hashAlgorithm).toBe('SHA-384');
        // accuracy = secs:1, millisecs:500, microsecs:100 in tsa.cnf
        expect(v.token.accuracy).toBeCloseTo(1500.1, 5);
        expect(v.range.latest.getTime() - v.range.earliest.getTime()).toBe(3002);
        expect(Math.abs(v.token.genTime.getTime() - Date.now())).toBeLessThan(10 * 60_000);
        const reparsed = await parseTimestampToken(token.der);
        expect(reparsed.signerCertificate?.subject).toBe(cert('tsa').subject);
      });

      it('rejects the token for a different message', async () => {
        const req = await createTimestampRequest({ message });
        const token = await requestTimestamp(`${server.url}/${name}/tsa`, req, { fetch: http });
        const e = await verifyTimestampToken(token, { message: new TextEncoder().encode('other'), trustedRoots: [cert('root')] }).catch(
          (x) => x,
        );
        expect(e).toBeVouchError('ERR_TIMESTAMP_INVALID');
        expect(e.details.step).toBe('messageImprint');
      });

      it('rejects the token under an untrusted root', async () => {
        const other = parseCertificate(pkis[name === 'rsa' ? 'ec' : 'rsa']!.certs.root.der);
        const req = await createTimestampRequest({ message });
        const token = await requestTimestamp(`${server.url}/${name}/tsa`, req, { fetch: http });
        const e = await verifyTimestampToken(token, { message, trustedRoots: [other] }).catch((x) => x);
        expect(e).toBeVouchError('ERR_TIMESTAMP_INVALID');
        expect(e.details.step).toBe('chain');
      });

      it('does not accept an intermediate as a TSA trust anchor', async () => {
        const req = await createTimestampRequest({ message });
        const token = await requestTimestamp(`${server.url}/${name}/tsa`, req, { fetch: http });
        const e = await verifyTimestampToken(token, { message, trustedRoots: [cert('int')] }).catch((x) => x);
        expect(e).toBeVouchError('ERR_TIMESTAMP_INVALID');
      });

      it('rejects a TSA chain that is not valid at the requested instant', async () => {
        const req = await createTimestampRequest({ message });
        const token = await requestTimestamp(`${server.url}/${name}/tsa`, req, { fetch: http });
        const e = await verifyTimestampToken(token, { message, trustedRoots: [cert('root')], at: new Date('2001-01-01T00:00:00Z') }).catch(
          (x) => x,
        );
        expect(e).toBeVouchError('ERR_TIMESTAMP_INVALID');
        expect(e.details.step).toBe('chain');
      });
    });
  }

  it('detects a tampered token signature', async () => {
    const message = new TextEncoder().encode('tamper');
    const req = await createTimestampRequest({ message });
    const token = await requestTimestamp(`${server.url}/rsa/tsa`, req, { fetch: http });
    const bytes = token.der.slice();
    bytes[bytes.length - 5]! ^= 0x01; // inside the RSA signature value (last field of the token)
    const e = await verifyTimestampToken(bytes, { message, trustedRoots: [parseCertificate(pkis.rsa!.certs.root.der)] }).catch((x) => x);
    expect(e).toBeVouchError('ERR_TIMESTAMP_INVALID');
    expect(e.details.step).toBe('signature');
  });

  it('rejects a reply whose nonce differs from the request', async () => {
    const message = new TextEncoder().encode('nonce');
    const req = await createTimestampRequest({ message });
    const token = await requestTimestamp(`${server.url}/rsa/tsa`, req, { fetch: http });
    const other = await createTimestampRequest({ message });
    expect(other.nonce).not.toBe(req.nonce);
    expect(() => validateTimestampResponse(token, other)).toThrow(expect.objectContaining({ code: 'ERR_TIMESTAMP_INVALID' }));
  });

  it('reports a TSA rejection (unaccepted policy) as ERR_TIMESTAMP_INVALID', async () => {
    const req = await createTimestampRequest({ message: new Uint8Array([1]), policy: '1.2.3.4.99' });
    const e = await requestTimestamp(`${server.url}/rsa/tsa`, req, { fetch: http }).catch((x) => x);
    expect(e).toBeVouchError('ERR_TIMESTAMP_INVALID');
    expect(e.details.step).toBe('status');
  });

  it('fails with ERR_NETWORK when the TSA is unreachable and ERR_SIZE_LIMIT_EXCEEDED for oversized replies', async () => {
    const req = await createTimestampRequest({ message: new Uint8Array([1]) });
    const e1 = await requestTimestamp(`${server.closedUrl}/tsa`, req, { fetch: http }).catch((x) => x);
    expect(e1).toBeVouchError('ERR_NETWORK');
    const e2 = await requestTimestamp(`${server.url}/rsa/tsa`, req, { fetch: http, maxBytes: 100 }).catch((x) => x);
    expect(e2).toBeVouchError('ERR_SIZE_LIMIT_EXCEEDED');
  });
});
