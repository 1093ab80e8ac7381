/**
 * Trust over time against real services (openssl TSA, OCSP responder and CRLs behind
 * ../testing/services.ts on 127.0.0.1): timestamping at signing (RSA and ECDSA TSA chains),
 * verification after the signing certificate expired, the `tsa` store / `verifyTimestamp`
 * rules, and revocation outcomes per verification level, through @vouch/notation's public API.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FetchLike, isVouchError, MediaType, utf8, type VouchError } from '@vouch/core';
import { type EnvelopeCodec, localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import {
  createBlobVerifier,
  createVerifier,
  ocspCrlRevocation,
  type RevocationChecker,
  rfc3161Timestamp,
  sign,
  signBlob,
  type TimestampAuthority,
} from '@vouch/notation';
import { memoryRepository } from '@vouch/registry';
import { type OpensslPki, type PkiCertName, type PkiHttpServer, requireOpenssl, startPkiServer } from '@vouch/testing/pki';
import { memoryTrustStore } from '@vouch/trust-policy';
import { type Certificate, importPrivateKey, parseCertificates } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crlCacheKey, fileCrlCache } from '../crl-cache/index.js';

/** globalThis.fetch as a FetchLike. */
const http: FetchLike = (url, init) => fetch(url, init as RequestInit) as unknown as ReturnType<FetchLike>;

const ok = await requireOpenssl('timestamp and revocation tests');

/** openssl `-startdate/-enddate` format. */
function asn1Time(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

async function failure(p: Promise<unknown>): Promise<VouchError> {
  try {
    await p;
  } catch (e) {
    if (isVouchError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

interface Fixture {
  pki: OpensslPki;
  alg: 'PS256' | 'ES256';
  cert(n: PkiCertName | string): Certificate;
  key(n: string): Promise<CryptoKey>;
  /** Issue another code-signing leaf from the intermediate database with the given validity, reusing leaf.csr/leaf.key. */
  issueLeaf(name: string, notBefore: Date, notAfter: Date): Promise<Certificate>;
  tsa: TimestampAuthority;
}

describe.skipIf(!ok)('trust over time with real TSA / OCSP / CRL services', () => {
  let server: PkiHttpServer;
  const fx: Record<'rsa' | 'ec', Fixture> = {} as never;
  const scratch = mkdtempSync(join(tmpdir(), 'vouch-tsa-io-'));

  beforeAll(async () => {
    server = await startPkiServer();
    const [rsa, ec] = await Promise.all([server.addPki('rsa', 'rsa2048'), server.addPki('ec', 'p256')]);
    for (const [name, pki, alg] of [
      ['rsa', rsa, 'PS256'],
      ['ec', ec, 'ES256'],
    ] as const) {
      const cert = (n: string) => parseCertificates(readFileSync(join(pki.dir, `${n}.crt`)))[0]!;
      fx[name] = {
        pki,
        alg,
        cert,
        key: (n) => importPrivateKey(readFileSync(join(pki.dir, `${n}.key`), 'utf8'), alg),
        async issueLeaf(n, notBefore, notAfter) {
          await pki.run([
            'ca',
            '-batch',
            '-config',
            'ca.cnf',
            '-name',
            'intca',
            '-extensions',
            'v3_codesign',
            '-in',
            'leaf.csr',
            '-out',
            `${n}.crt`,
            '-notext',
            '-startdate',
            asn1Time(notBefore),
            '-enddate',
            asn1Time(notAfter),
          ]);
          return cert(n);
        },
        tsa: { url: `${server.url}/${name}/tsa`, rootCertificates: [cert('root')], fetch: http },
      };
    }
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const signerFor = async (f: Fixture, leaf: string | Certificate, keyName = typeof leaf === 'string' ? leaf : 'leaf') => {
    const leafCert = typeof leaf === 'string' ? f.cert(leaf) : leaf;
    const issuer =
      leafCert.issuer === f.cert('int').subject ? 'int' : leafCert.issuer === f.cert('intRevoked').subject ? 'intRevoked' : 'intUnknown';
    return localRawSigner(await f.key(keyName), [leafCert, f.cert(issuer), f.cert('root')]);
  };

  const policy = (signatureVerification: Record<string, unknown>, stores: string[] = ['ca:ca', 'tsa:tsa']) => ({
    version: '1.0',
    trustPolicies: [{ name: 'p', globalPolicy: true, signatureVerification, trustStores: stores, trustedIdentities: ['*'] }],
  });
  const verifierFor = (
    f: Fixture,
    signatureVerification: Record<string, unknown>,
    opts: { now?: Date; stores?: string[]; revocation?: RevocationChecker | false } = {},
  ) =>
    createBlobVerifier({
      trustPolicy: policy(signatureVerification, opts.stores),
      trustStore: memoryTrustStore({ ca: { ca: [f.cert('root')] }, tsa: { tsa: [f.cert('root')] } }),
      envelopes: [jws, cose],
      ...(opts.now ? { now: () => opts.now! } : {}),
      ...(opts.revocation !== undefined ? { revocation: opts.revocation } : {}),
    });

  for (const name of ['rsa', 'ec'] as const) {
    describe(`${name} PKI`, () => {
      for (const envelope of [jws, cose] as EnvelopeCodec[]) {
        it(`${envelope.mediaType}: a timestamped signature verifies after the signing certificate expired; an untimestamped one does not`, async () => {
          const f = fx[name];
          const now = Date.now();
          const short = await f.issueLeaf(`short-${envelope === jws ? 'j' : 'c'}`, new Date(now - 3_600_000), new Date(now + 120_000));
          const signer = await signerFor(f, short, 'leaf');
          const blob = utf8(`artifact for ${name}`);
          const stamped = await signBlob(blob, { signer, envelope, timestamper: f.tsa });
          const plain = await signBlob(blob, { signer, envelope });
          const afterExpiry = new Date(short.notAfter.getTime() + 60_000);

          const strict = verifierFor(f, { level: 'strict' }, { now: afterExpiry });
          const r = await strict.verifyBlob(blob, stamped.envelope);
          expect(r.signature?.checks.find((c) => c.type === 'authenticTimestamp')).toMatchObject({ result: 'passed', action: 'enforce' });
          expect(r.signature?.checks.find((c) => c.type === 'revocation')).toMatchObject({ result: 'passed' });
          const e = await failure(strict.verifyBlob(blob, plain.envelope));
          expect(e.code).toBe('ERR_TIMESTAMP_INVALID'); // the tsa store makes the timestamp mandatory
          // without a tsa store, the expired certificate itself fails the check
          const noTsa = verifierFor(f, { level: 'strict' }, { now: afterExpiry, stores: ['ca:ca'] });
          await expect(noTsa.verifyBlob(blob, plain.envelope)).toRejectWithCode('ERR_CERT_EXPIRED');
          await expect(noTsa.verifyBlob(blob, stamped.envelope)).toRejectWithCode('ERR_CERT_EXPIRED');
          // before expiry both verify without a tsa store
          const before = verifierFor(f, { level: 'strict' }, { stores: ['ca:ca'] });
          expect((await before.verifyBlob(blob, plain.envelope)).skipped).toBe(false);
        });
      }

      it('sign() (OCI) attaches a verified timestamp; verify() accepts it after expiry', async () => {
        const f = fx[name];
        const now = Date.now();
        const short = await f.issueLeaf('short-oci', new Date(now - 3_600_000), new Date(now + 120_000));
        const repo = memoryRepository();
        const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
        const m = await repo.pushManifest(
          MediaType.OCI_MANIFEST,
          utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [] })),
        );
        const signed = await sign(m.digest, {
          repository: repo,
          signer: await signerFor(f, short, 'leaf'),
          envelope: cose,
          timestamper: f.tsa,
        });
        expect(cose.parse(signed.envelope).unsignedAttributes.timestampSignature?.length).toBeGreaterThan(100);
        const v = createVerifier({
          trustPolicy: {
            version: '1.0',
            trustPolicies: [
              {
                name: 'oci',
                registryScopes: ['*'],
                signatureVerification: { level: 'strict' },
                trustStores: ['ca:ca', 'tsa:tsa'],
                trustedIdentities: ['*'],
              },
            ],
          },
          trustStore: memoryTrustStore({ ca: { ca: [f.cert('root')] }, tsa: { tsa: [f.cert('root')] } }),
          envelopes: [cose],
          // verify.ts checks `config.timestamp` instead of its rfc3161Timestamp default: pass it explicitly
          timestamp: rfc3161Timestamp,
          now: () => new Date(short.notAfter.getTime() + 60_000),
        });
        const r = await v.verify(m.digest, { repository: repo, scope: 'local/app' });
        expect(r.signature?.checks.find((c) => c.type === 'authenticTimestamp')?.result).toBe('passed');
      });
    });
  }

  describe('verifyTimestamp and the tsa store', () => {
    it('always + tsa store: mandatory; afterCertExpiry: only once a certificate expired', async () => {
      const f = fx.ec;
      const now = Date.now();
      const short = await f.issueLeaf('short-after', new Date(now - 3_600_000), new Date(now + 120_000));
      const signer = await signerFor(f, short, 'leaf');
      const blob = utf8('after cert expiry');
      const plain = await signBlob(blob, { signer, envelope: jws });
      const stamped = await signBlob(blob, { signer, envelope: jws, timestamper: f.tsa });
      const expired = new Date(short.notAfter.getTime() + 60_000);

      await expect(verifierFor(f, { level: 'strict', verifyTimestamp: 'always' }).verifyBlob(blob, plain.envelope)).toRejectWithCode(
        'ERR_TIMESTAMP_INVALID',
      );
      const lazy = verifierFor(f, { level: 'strict', verifyTimestamp: 'afterCertExpiry' });
      const r = await lazy.verifyBlob(blob, plain.envelope);
      expect(r.signature?.checks.find((c) => c.type === 'authenticTimestamp')?.result).toBe('passed');
      const lazyExpired = verifierFor(f, { level: 'strict', verifyTimestamp: 'afterCertExpiry' }, { now: expired });
      await expect(lazyExpired.verifyBlob(blob, plain.envelope)).toRejectWithCode('ERR_TIMESTAMP_INVALID');
      expect((await lazyExpired.verifyBlob(blob, stamped.envelope)).skipped).toBe(false);
      // permissive: the missing timestamp is only logged
      const permissive = verifierFor(f, { level: 'permissive' }, { now: expired });
      const logged = await permissive.verifyBlob(blob, plain.envelope);
      expect(logged.warnings.map((w) => w.code)).toContain('ERR_TIMESTAMP_INVALID');
    });

    it('a timestamp outside the signing certificate validity fails', async () => {
      const f = fx.rsa;
      const now = Date.now();
      // not yet valid when signed and stamped
      const future = await f.issueLeaf('future', new Date(now + 3_600_000), new Date(now + 7_200_000));
      const blob = utf8('stamped before the certificate existed');
      const signed = await signBlob(blob, { signer: await signerFor(f, future, 'leaf'), envelope: jws, timestamper: f.tsa });
      const v = verifierFor(f, { level: 'strict' }, { now: new Date(now + 5_400_000) });
      const e = await failure(v.verifyBlob(blob, signed.envelope));
      expect(e.code).toBe('ERR_TIMESTAMP_INVALID');
      expect(e.message).toMatch(/not within certificate/);
    });
  });

  describe('timestamping at signing verifies the token first', () => {
    /** A transport that answers `<url>/<pki>/tsa-revoked` with `openssl ts -reply` signed by tsaRevoked. */
    const revokedTsaFetch = (f: Fixture): FetchLike => {
      writeFileSync(
        join(f.pki.dir, 'tsa-revoked.cnf'),
        readFileSync(join(f.pki.dir, 'tsa.cnf'), 'utf8').replace('./tsa.crt', './tsaRevoked.crt').replace('./tsa.key', './tsaRevoked.key'),
      );
      return async (url, init) => {
        if (!url.endsWith('/tsa-revoked')) return http(url, init);
        const dir = mkdtempSync(join(scratch, 'q-'));
        writeFileSync(join(dir, 'q.der'), init!.body as Uint8Array);
        await f.pki.run([
          'ts',
          '-reply',
          '-config',
          'tsa-revoked.cnf',
          '-section',
          'tsa_config',
          '-queryfile',
          join(dir, 'q.der'),
          '-out',
          join(dir, 'r.der'),
        ]);
        return new Response(readFileSync(join(dir, 'r.der')), {
          status: 200,
          headers: { 'content-type': 'application/timestamp-reply' },
        }) as unknown as Awaited<ReturnType<FetchLike>>;
      };
    };

    it('a revoked TSA certificate fails signing; with TSA revocation off the token is attached but fails verification', async () => {
      const f = fx.rsa;
      const fetchR = revokedTsaFetch(f);
      const tsa = { ...f.tsa, url: `${server.url}/rsa/tsa-revoked`, fetch: fetchR };
      const signer = await signerFor(f, 'leaf');
      const blob = utf8('revoked tsa');
      const e = await failure(signBlob(blob, { signer, envelope: jws, timestamper: tsa }));
      expect(e.code).toBe('ERR_TIMESTAMP_INVALID');
      expect(e.details?.reason).toBe('ERR_CERT_REVOKED');
      const signed = await signBlob(blob, { signer, envelope: jws, timestamper: { ...tsa, revocation: false } });
      const v = verifierFor(f, { level: 'strict' });
      const ve = await failure(v.verifyBlob(blob, signed.envelope));
      expect(ve.code).toBe('ERR_CERT_REVOKED');
      expect(ve.message).toMatch(/timestamping certificate .* is revoked/);
    });

    it('unknown TSA revocation (responders unreachable) fails signing; a wrong root fails signing', async () => {
      const f = fx.ec;
      const signer = await signerFor(f, 'leaf');
      const onlyTsa: FetchLike = async (url, init) => {
        if (url.endsWith('/tsa')) return http(url, init);
        throw new TypeError('fetch failed: connection refused');
      };
      const e = await failure(signBlob(utf8('x'), { signer, envelope: cose, timestamper: { ...f.tsa, fetch: onlyTsa } }));
      expect(e.code).toBe('ERR_TIMESTAMP_INVALID');
      expect(e.details?.reason).toBe('ERR_REVOCATION_UNKNOWN');
      const wrongRoot = await failure(
        signBlob(utf8('x'), { signer, envelope: cose, timestamper: { ...f.tsa, rootCertificates: [fx.rsa.cert('root')] } }),
      );
      expect(wrongRoot.code).toBe('ERR_TIMESTAMP_INVALID');
      expect(wrongRoot.details?.step).toBe('verify');
    });
  });

  describe('revocation of the signing chain through verification', () => {
    const cases: { leaf: string; result: 'ok' | 'revoked' | 'unknown'; what: string }[] = [
      { leaf: 'leaf', result: 'ok', what: 'good leaf (OCSP)' },
      { leaf: 'leafCrlOnly', result: 'ok', what: 'good leaf (CRL only)' },
      { leaf: 'leafRevoked', result: 'revoked', what: 'revoked leaf (OCSP)' },
      { leaf: 'leafCrlOnlyRevoked', result: 'revoked', what: 'revoked leaf (CRL)' },
      { leaf: 'leafUnknown', result: 'unknown', what: 'leaf unknown to the responder' },
      { leaf: 'leafUnreachable', result: 'unknown', what: 'leaf with unreachable OCSP and CRL' },
      { leaf: 'leafUnderRevoked', result: 'revoked', what: 'revoked intermediate' },
      { leaf: 'leafUnderUnknown', result: 'unknown', what: 'intermediate unknown to the responder' },
    ];
    const expectedCode = { revoked: 'ERR_CERT_REVOKED', unknown: 'ERR_REVOCATION_UNKNOWN' } as const;

    for (const c of cases) {
      it(`${c.what}: strict enforces, permissive and audit log, override skip skips`, async () => {
        const f = fx.ec;
        const blob = utf8(`revocation ${c.leaf}`);
        const signed = await signBlob(blob, { signer: await signerFor(f, c.leaf), envelope: jws });
        const stores = { stores: ['ca:ca'] };
        const strict = verifierFor(f, { level: 'strict' }, stores).verifyBlob(blob, signed.envelope);
        if (c.result === 'ok') await strict;
        else await expect(strict).toRejectWithCode(expectedCode[c.result]);
        for (const level of ['permissive', 'audit']) {
          const r = await verifierFor(f, { level }, stores).verifyBlob(blob, signed.envelope);
          const check = r.signature?.checks.find((x) => x.type === 'revocation');
          expect(check?.action).toBe('log');
          expect(check?.result).toBe(c.result === 'ok' ? 'passed' : 'failed');
          if (c.result !== 'ok') expect(r.warnings.map((w) => w.code)).toContain(expectedCode[c.result]);
        }
        const skipped = await verifierFor(f, { level: 'strict', override: { revocation: 'skip' } }, stores).verifyBlob(
          blob,
          signed.envelope,
        );
        // the revocation step does not run: even a revoked chain verifies
        expect(skipped.signature?.checks.find((x) => x.type === 'revocation')?.result ?? 'skipped').toBe('skipped');
        expect(skipped.warnings).toEqual([]);
      });
    }
  });

  it('the file CRL cache (notation layout) serves a CRL-only chain when the CRL server is unreachable', async () => {
    const f = fx.ec;
    const dir = join(scratch, 'crl-cache');
    const blob = utf8('cached crl');
    const signed = await signBlob(blob, { signer: await signerFor(f, 'leafCrlOnlyRevoked'), envelope: jws });
    const crlFetches: string[] = [];
    const counting: FetchLike = async (url, init) => {
      crlFetches.push(url);
      return http(url, init);
    };
    const refusing: FetchLike = async (url) => {
      throw new TypeError(`offline: ${url}`);
    };
    const run = (fetchImpl: FetchLike) =>
      verifierFor(
        f,
        { level: 'strict' },
        { stores: ['ca:ca'], revocation: ocspCrlRevocation({ fetch: fetchImpl, crlCache: fileCrlCache(dir) }) },
      ).verifyBlob(blob, signed.envelope);
    await expect(run(counting)).toRejectWithCode('ERR_CERT_REVOKED');
    expect(crlFetches.some((u) => u.endsWith('/int.crl'))).toBe(true);
    const file = join(dir, crlCacheKey(`${server.url}/ec/int.crl`));
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).toEqual(['baseCRL']);
    // second run: no network for CRLs, the cached CRL still says revoked (not unknown)
    await expect(run(refusing)).toRejectWithCode('ERR_CERT_REVOKED');
    // a corrupt entry is ignored: without network the status becomes unknown, and the entry is gone
    writeFileSync(file, '{"baseCRL":"not base64!"}');
    await expect(run(refusing)).toRejectWithCode('ERR_REVOCATION_UNKNOWN');
    expect(() => readFileSync(file)).toThrow();
  });
});
