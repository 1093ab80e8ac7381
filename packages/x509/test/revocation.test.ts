/**
 * OCSP and CRL checks against real openssl peers (./services.ts) through the public API of
 * @vouch/x509/revocation: good, revoked, unknown, unreachable, oversized and expired-CRL
 * cases for leaf, intermediate and TSA certificates.
 */
import type { FetchLike } from '@vouch/core';
import { parseCertificate } from '@vouch/x509';
import { checkRevocation, memoryCrlCache, revocationOutcome } from '@vouch/x509/revocation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** globalThis.fetch as a FetchLike (the DOM and FetchLike types differ only nominally). */
const http: FetchLike = (url, init) => fetch(url, init as RequestInit) as unknown as ReturnType<FetchLike>;

import { type OpensslPki, type PkiCertName, type PkiHttpServer, requireOpenssl, startPkiServer } from '@vouch/testing/pki';

const ok = await requireOpenssl('OCSP/CRL tests');

describe.skipIf(!ok)('revocation with real openssl OCSP and CRL peers', () => {
  let server: PkiHttpServer;
  let pki: OpensslPki;
  const chain = (...names: PkiCertName[]) => names.map((n) => parseCertificate(pki.certs[n].der));
  const leafChain = (n: PkiCertName) => chain(n, 'int', 'root');

  beforeAll(async () => {
    server = await startPkiServer();
    pki = await server.addPki('pki', 'p256');
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('leaf good via OCSP (delegated responder); intermediate good via OCSP signed by the root', async () => {
    const r = await checkRevocation(leafChain('leaf'), { fetch: http });
    expect(r.result).toBe('ok');
    expect(r.certificates.map((c) => [c.result, c.via])).toEqual([
      ['ok', 'ocsp'],
      ['ok', 'ocsp'],
    ]);
    expect(revocationOutcome(r)).toMatchObject({ result: 'ok', nonRevokable: [] });
    // short requests use the RFC 6960 GET form
    expect(server.log.some((l) => l.method === 'GET' && l.path.startsWith('/pki/ocsp/int/'))).toBe(true);
  });

  it('leaf revoked via OCSP', async () => {
    const r = await checkRevocation(leafChain('leafRevoked'), { fetch: http });
    expect(r.result).toBe('revoked');
    expect(r.certificates[0]).toMatchObject({ result: 'revoked', via: 'ocsp', reason: 'keyCompromise' });
    const o = revocationOutcome(r);
    expect(o.code).toBe('ERR_CERT_REVOKED');
    expect(o.message).toBe(`signing certificate with subject "${r.certificates[0]!.subject}" is revoked`);
  });

  it('leaf with only a CRL: good and revoked (CRL is primary)', async () => {
    const good = await checkRevocation(leafChain('leafCrlOnly'), { fetch: http });
    expect(good.certificates[0]).toMatchObject({ result: 'ok', via: 'crl' });
    const bad = await checkRevocation(leafChain('leafCrlOnlyRevoked'), { fetch: http });
    expect(bad.certificates[0]).toMatchObject({ result: 'revoked', via: 'crl', reason: 'keyCompromise' });
  });

  it('leaf unknown to the OCSP responder (no CRL to fall back to) is unknown', async () => {
    const r = await checkRevocation(leafChain('leafUnknown'), { fetch: http });
    expect(r.result).toBe('unknown');
    expect(r.certificates[0]).toMatchObject({ result: 'unknown', via: 'ocsp' });
    expect(revocationOutcome(r).code).toBe('ERR_REVOCATION_UNKNOWN');
  });

  it('unreachable OCSP and CRL (closed port) give unknown after the CRL fallback', async () => {
    const r = await checkRevocation(leafChain('leafUnreachable'), { fetch: http });
    expect(r.certificates[0]).toMatchObject({ result: 'unknown', via: 'crl', fallback: true });
    expect(r.certificates[0]!.attempts.map((a) => a.via)).toEqual(['ocsp', 'crl']);
  });

  it('oversized OCSP (> 20 KiB) and CRL (> 32 MiB) bodies give unknown', async () => {
    const r = await checkRevocation(leafChain('leafOversized'), { fetch: http });
    expect(r.certificates[0]).toMatchObject({ result: 'unknown', via: 'crl', fallback: true });
    expect(r.certificates[0]!.attempts.every((a) => /limit/.test(a.outcome))).toBe(true);
    expect(r.certificates[0]!.error?.code).toBe('ERR_SIZE_LIMIT_EXCEEDED');
  });

  it('expired CRL gives unknown', async () => {
    const fresh = await checkRevocation(leafChain('leafShortCrl'), { fetch: http });
    expect(fresh.certificates[0]).toMatchObject({ result: 'ok', via: 'crl' });
    const later = await checkRevocation(leafChain('leafShortCrl'), { fetch: http, at: new Date(Date.now() + 2 * 3600_000) });
    expect(later.certificates[0]).toMatchObject({ result: 'unknown', via: 'crl' });
    expect(later.certificates[0]!.error?.message).toMatch(/expired CRL/);
  });

  it('expired OCSP response (past nextUpdate) falls back to the CRL', async () => {
    const at = new Date(Date.now() + 2 * 86400_000);
    const r = await checkRevocation(leafChain('leaf'), { fetch: http, at });
    expect(r.certificates[0]).toMatchObject({ result: 'ok', via: 'crl', fallback: true });
    expect(r.certificates[0]!.attempts[0]!.outcome).toBe('unknown');
  });

  it('intermediate revoked (root OCSP) and intermediate unknown', async () => {
    const r = await checkRevocation(chain('leafUnderRevoked', 'intRevoked', 'root'), { fetch: http });
    expect(r.certificates.map((c) => c.result)).toEqual(['non-revokable', 'revoked']);
    expect(revocationOutcome(r)).toMatchObject({ result: 'revoked', nonRevokable: [r.certificates[0]!.subject] });
    const u = await checkRevocation(chain('leafUnderUnknown', 'intUnknown', 'root'), { fetch: http });
    expect(u.certificates.map((c) => c.result)).toEqual(['non-revokable', 'unknown']);
  });

  it('intermediate revoked via the root CRL when OCSP is unreachable', async () => {
    // same intermediate, but the OCSP responder fails: fetch rejects every OCSP call
    const noOcsp: FetchLike = (input, init) =>
      String(input).includes('/ocsp/') ? Promise.reject(new Error('connection refused')) : http(input, init);
    const r = await checkRevocation(chain('leafUnderRevoked', 'intRevoked', 'root'), { fetch: noOcsp });
    expect(r.certificates[1]).toMatchObject({ result: 'revoked', via: 'crl', fallback: true });
  });

  it('TSA chain: good and revoked TSA certificates (timestamping mode)', async () => {
    const good = await checkRevocation(chain('tsa', 'int', 'root'), { fetch: http, mode: 'timestamping' });
    expect(good.result).toBe('ok');
    const bad = await checkRevocation(chain('tsaRevoked', 'int', 'root'), { fetch: http, mode: 'timestamping' });
    expect(bad.result).toBe('revoked');
    expect(revocationOutcome(bad).message).toMatch(/^timestamping certificate with subject ".*" is revoked$/);
  });

  it('a certificate with neither OCSP nor CRL is non-revokable (reported for a warning)', async () => {
    const r = await checkRevocation(leafChain('leafNoRevocationInfo'), { fetch: http });
    expect(r.certificates[0]!.result).toBe('non-revokable');
    expect(r.result).toBe('ok');
    expect(revocationOutcome(r).nonRevokable).toEqual([r.certificates[0]!.subject]);
  });

  it('re-validates the chain for its purpose first (a code-signing leaf is not a TSA chain)', async () => {
    const e = await checkRevocation(leafChain('leaf'), { fetch: http, mode: 'timestamping' }).catch((x) => x);
    expect(e.code).toBe('ERR_CERT_CHAIN_INVALID');
  });

  it('serves CRLs from the cache while they are valid', async () => {
    const cache = memoryCrlCache();
    const count = () => server.log.filter((l) => l.path === '/pki/int.crl').length;
    const before = count();
    await checkRevocation(leafChain('leafCrlOnly'), { fetch: http, crlCache: cache });
    await checkRevocation(leafChain('leafCrlOnly'), { fetch: http, crlCache: cache });
    expect(count() - before).toBe(1);
  });

  it('a live revocation (certificateHold) shows up in the regenerated CRL', async () => {
    await pki.revoke('leafCrlOnly', 'certificateHold');
    const r = await checkRevocation(leafChain('leafCrlOnly'), { fetch: http });
    expect(r.certificates[0]).toMatchObject({ result: 'revoked', via: 'crl', reason: 'certificateHold' });
  });

  it('rejects a chain that is not a chain', async () => {
    const e = await checkRevocation(chain('leaf', 'root'), { fetch: http }).catch((x) => x);
    expect(e.code).toBe('ERR_CERT_CHAIN_INVALID');
  });
});
