import { type FetchLike, MediaType, utf8 } from '@vouch/core';
import { toHex } from '@vouch/core/internal';
import { localRawSigner } from '@vouch/envelope';
import { jws } from '@vouch/envelope/jws';
import { memoryRepository } from '@vouch/registry';
import { createTestPki, type TestPki } from '@vouch/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { rfc3161Timestamper, sign, signBlob } from './index.js';
import { checkTimestampAuthority } from './timestamp-sign.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki({ keySpec: 'EC-256' });
});

/** A transport that records requests and answers with `reply`. */
function fakeFetch(reply: { status: number; type: string; body: Uint8Array }) {
  const seen: { url: string; type?: string; body?: Uint8Array }[] = [];
  const fetch: FetchLike = async (url, init) => {
    const headers = new Headers(init?.headers as HeadersInit);
    seen.push({ url, type: headers.get('content-type') ?? undefined, body: init?.body as Uint8Array });
    return new Response(reply.body as BodyInit, { status: reply.status, headers: { 'content-type': reply.type } }) as never;
  };
  return { fetch, seen };
}

describe('TimestampAuthority configuration', () => {
  it('needs a URL, a fetch and exactly one self-signed root', () => {
    const fetch = fakeFetch({ status: 500, type: 'text/plain', body: new Uint8Array() }).fetch;
    const root = pki.root.certificate;
    const ok = { url: 'http://127.0.0.1:1/tsa', rootCertificates: [root], fetch };
    expect(() => checkTimestampAuthority(ok)).not.toThrow();
    const bad = [
      { ...ok, url: '' },
      { ...ok, url: 'ftp://tsa.example' },
      { ...ok, url: 'not a url' },
      { ...ok, rootCertificates: [] },
      { ...ok, rootCertificates: [root, root] },
      { ...ok, rootCertificates: [pki.intermediate.certificate] },
      { ...ok, fetch: undefined as unknown as FetchLike },
      { ...ok, timeoutMs: 0 },
    ];
    for (const b of bad) expect(() => rfc3161Timestamper(b)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('timestamping failures fail signing', () => {
  it('a TSA error fails sign() and signBlob() with ERR_TIMESTAMP_INVALID, after posting a timestamp query', async () => {
    const { fetch, seen } = fakeFetch({ status: 503, type: 'text/plain', body: utf8('down') });
    const tsa = { url: 'http://127.0.0.1:9/tsa', rootCertificates: [pki.root.certificate], fetch };
    const signer = localRawSigner(pki.leaf.privateKey, pki.chain);
    const e = await signBlob(utf8('x'), { signer, envelope: jws, timestamper: tsa }).catch((x) => x);
    expect(e.code).toBe('ERR_TIMESTAMP_INVALID');
    expect(e.details.step).toBe('request');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.type).toBe('application/timestamp-query');
    // an ES256 signature is stamped with SHA-256: the OID 2.16.840.1.101.3.4.2.1 is in the query
    expect(toHex(seen[0]!.body!)).toContain('0609608648016503040201');

    const repo = memoryRepository();
    const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
    const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [] }));
    const d = await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: 'v1' });
    await expect(sign(d.digest, { repository: repo, signer, envelope: jws, timestamper: tsa })).toRejectWithCode('ERR_TIMESTAMP_INVALID');
    // nothing was pushed
    const pages: unknown[] = [];
    for await (const p of repo.referrers(d)) pages.push(...p);
    expect(pages).toEqual([]);
  });

  it('a garbage reply fails; a signingAuthority signature cannot be timestamped', async () => {
    const { fetch } = fakeFetch({ status: 200, type: 'application/timestamp-reply', body: utf8('garbage') });
    const tsa = { url: 'http://127.0.0.1:9/tsa', rootCertificates: [pki.root.certificate], fetch };
    const signer = localRawSigner(pki.leaf.privateKey, pki.chain);
    await expect(signBlob(utf8('x'), { signer, envelope: jws, timestamper: tsa })).toRejectWithCode('ERR_TIMESTAMP_INVALID');
    await expect(
      signBlob(utf8('x'), { signer, envelope: jws, timestamper: tsa, signingScheme: 'notary.x509.signingAuthority' }),
    ).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(signBlob(utf8('x'), { signer, envelope: jws, timestamper: { ...tsa, rootCertificates: [] } })).toRejectWithCode(
      'ERR_INVALID_ARGUMENT',
    );
  });
});
