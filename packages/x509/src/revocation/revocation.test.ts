import type { FetchInit, FetchResponse } from '@vouch/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestPki } from '../builder.js';
import { checkRevocation, inspectCrl, memoryCrlCache, revocationOutcome } from './index.js';

const response = (status: number, body = new Uint8Array()): FetchResponse => ({
  status,
  headers: { get: () => null },
  body: null,
  arrayBuffer: async () => body.slice().buffer,
  text: async () => '',
});

describe('checkRevocation (fake transport)', () => {
  it('treats any CRL status other than 200 as unknown (Quarkslab INFO-10)', async () => {
    const pki = await createTestPki({ keySpec: 'EC-256', crlUrls: ['http://crl.example/int.crl'] });
    for (const status of [204, 206, 299, 404]) {
      const r = await checkRevocation(pki.chain, { fetch: async () => response(status) });
      expect(r.certificates[0]).toMatchObject({ result: 'unknown', via: 'crl' });
    }
  });

  it('uses only http:// URLs: an https OCSP responder is not contacted and the CRL decides', async () => {
    const pki = await createTestPki({ keySpec: 'EC-256', ocspUrls: ['https://ocsp.example'], crlUrls: ['https://crl.example/x.crl'] });
    const urls: string[] = [];
    const r = await checkRevocation(pki.chain, {
      fetch: async (u: string) => {
        urls.push(u);
        return response(500);
      },
    });
    expect(urls).toEqual([]);
    expect(r.result).toBe('unknown');
    expect(r.certificates[0]!.attempts.map((a) => a.outcome)).toEqual(['skipped: not http://', 'skipped: not http://']);
  });

  it('checks the certificates of the chain in parallel', async () => {
    const pki = await createTestPki({ keySpec: 'EC-256', ocspUrls: ['http://ocsp.example'] });
    let inFlight = 0;
    let peak = 0;
    const fetch = async (_u: string, _i?: FetchInit) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return response(500);
    };
    const r = await checkRevocation(pki.chain, { fetch });
    expect(r.certificates).toHaveLength(2);
    expect(peak).toBe(2);
  });

  it('names the first revoked certificate in chain order', () => {
    const o = revocationOutcome({
      result: 'revoked',
      mode: 'code-signing',
      certificates: [
        { index: 0, subject: 'CN=leaf', serialNumber: '1', result: 'revoked', via: 'ocsp', attempts: [] },
        { index: 1, subject: 'CN=int', serialNumber: '2', result: 'revoked', via: 'crl', attempts: [] },
      ],
    });
    expect(o).toMatchObject({ result: 'revoked', code: 'ERR_CERT_REVOKED', subject: 'CN=leaf' });
    expect(o.message).toBe('signing certificate with subject "CN=leaf" is revoked');
  });

  it('rejects an aborted check with ERR_ABORTED', async () => {
    const pki = await createTestPki({ keySpec: 'EC-256', ocspUrls: ['http://ocsp.example'] });
    const ctl = new AbortController();
    ctl.abort();
    await expect(checkRevocation(pki.chain, { fetch: async () => response(500), signal: ctl.signal })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    });
  });
});

describe('memoryCrlCache', () => {
  it('evicts the least recently used entry', async () => {
    const c = memoryCrlCache({ maxEntries: 2 });
    await c.set('a', { base: new Uint8Array([1]) });
    await c.set('b', { base: new Uint8Array([2]) });
    await c.get('a');
    await c.set('c', { base: new Uint8Array([3]) });
    expect(await c.get('b')).toBeUndefined();
    expect((await c.get('a'))?.base).toEqual(new Uint8Array([1]));
  });
});

describe('inspectCrl', () => {
  it('throws only ERR_MALFORMED_INPUT on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          inspectCrl(b);
        } catch (e) {
          expect(e).toBeVouchError('ERR_MALFORMED_INPUT');
        }
      }),
      { numRuns: 300 },
    );
  });
});
