import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fileTrustStore, readTrustStoreCertificates } from './file-trust-store.js';
import {
  addTrustStoreCertificate,
  deleteTrustStore,
  deleteTrustStoreCertificate,
  listTrustStoreCertificates,
  showTrustStoreCertificate,
} from './manage.js';

const shared = resolve(process.env.VOUCH_SHARED_DIR ?? join(import.meta.dirname, '..', '..', '..', '..', '..', 'shared'));
const testdata = join(shared, 'vectors', 'notation-go', 'verifier', 'testdata');
const present = existsSync(join(testdata, 'truststore', 'x509'));
if (!present) {
  if (process.env.CI === 'true') throw new Error(`${testdata} is missing; under CI=true the shared vectors are required`);
  console.warn(`NOTICE: ${testdata} not found (set VOUCH_SHARED_DIR); trust store tests skipped`);
}

const x509 = (cfg: string, ...p: string[]): string => join(cfg, 'truststore', 'x509', ...p);
const SRC = (...p: string[]): string => join(testdata, 'truststore', 'x509', ...p);

let root: string;
let cfg: string;
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-truststore-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));
beforeEach(async () => {
  cfg = join(root, `cfg${n++}`);
  await mkdir(cfg, { recursive: true });
  if (present) await cp(join(testdata, 'truststore'), join(cfg, 'truststore'), { recursive: true });
});

describe.skipIf(!present)('fileTrustStore (notation layout)', () => {
  it('loads every certificate of a valid store, PEM and DER', async () => {
    const store = fileTrustStore(cfg);
    expect(await store.getCertificates('ca', 'valid-trust-store')).toHaveLength(6);
    expect(await store.getCertificates('signingAuthority', 'valid-trust-store')).toHaveLength(3);
    expect(await store.getCertificates('tsa', 'test-timestamp')).toHaveLength(1);
  });
  it('rejects unparsable files, leaf certificates and non-root TSA certificates', async () => {
    const store = fileTrustStore(cfg);
    await expect(store.getCertificates('ca', 'trust-store-with-invalid-certs')).toRejectWithCode('ERR_TRUST_STORE_INVALID');
    await expect(store.getCertificates('ca', 'trust-store-with-leaf-certs')).toRejectWithCode('ERR_TRUST_STORE_INVALID');
    await expect(store.getCertificates('ca', 'trust-store-with-leaf-certs-in-single-file')).toRejectWithCode('ERR_TRUST_STORE_INVALID');
    await expect(store.getCertificates('tsa', 'test-nonCA')).toRejectWithCode('ERR_TRUST_STORE_INVALID');
    await expect(store.getCertificates('tsa', 'test-nonSelfIssued')).toRejectWithCode('ERR_TRUST_STORE_INVALID');
    const err = await store.getCertificates('ca', 'trust-store-with-leaf-certs').catch((e) => e);
    expect(err.message).toContain('non-ca.crt');
  });
  it('reports absent or empty stores as ERR_TRUST_STORE_NOT_FOUND and bad names as ERR_INVALID_ARGUMENT', async () => {
    const store = fileTrustStore(cfg);
    await expect(store.getCertificates('ca', 'absent')).toRejectWithCode('ERR_TRUST_STORE_NOT_FOUND');
    await mkdir(x509(cfg, 'ca', 'empty'));
    await expect(store.getCertificates('ca', 'empty')).toRejectWithCode('ERR_TRUST_STORE_NOT_FOUND');
    await expect(store.getCertificates('ca', '../ca')).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(store.getCertificates('ca', '..')).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(store.getCertificates('bogus' as 'ca', 'x')).toRejectWithCode('ERR_INVALID_ARGUMENT');
  });
  it('rejects symlinked certificate files, symlinked stores and sub-directories', async () => {
    const store = fileTrustStore(cfg);
    await mkdir(x509(cfg, 'ca', 'with-link'));
    await symlink(SRC('ca', 'valid-trust-store', 'GlobalSignRootCA.crt'), x509(cfg, 'ca', 'with-link', 'link.crt'));
    await expect(store.getCertificates('ca', 'with-link')).toRejectWithCode('ERR_TRUST_STORE_INVALID');
    await symlink(x509(cfg, 'ca', 'valid-trust-store'), x509(cfg, 'ca', 'linked-store'));
    await expect(store.getCertificates('ca', 'linked-store')).toRejectWithCode('ERR_TRUST_STORE_INVALID');
    await mkdir(x509(cfg, 'ca', 'valid-trust-store-2', 'sub-dir'));
    await expect(store.getCertificates('ca', 'valid-trust-store-2')).toRejectWithCode('ERR_TRUST_STORE_INVALID');
  });
  it('caches a store and re-reads it when its files change', async () => {
    const store = fileTrustStore(cfg);
    const first = await store.getCertificates('ca', 'valid-trust-store-2');
    expect(first).toHaveLength(2);
    expect(await store.getCertificates('ca', 'valid-trust-store-2')).toBe(first);
    await cp(SRC('ca', 'valid-trust-store', 'NotationTestRoot.pem'), x509(cfg, 'ca', 'valid-trust-store-2', 'NotationTestRoot.pem'));
    const later = new Date(Date.now() + 5000);
    await utimes(x509(cfg, 'ca', 'valid-trust-store-2'), later, later);
    expect(await store.getCertificates('ca', 'valid-trust-store-2')).toHaveLength(3);
    // an edited file invalidates too
    await writeFile(x509(cfg, 'ca', 'valid-trust-store-2', 'NotationTestRoot.pem'), 'garbage');
    await expect(store.getCertificates('ca', 'valid-trust-store-2')).toRejectWithCode('ERR_TRUST_STORE_INVALID');
    // with revalidate off, the first read stays
    const frozen = fileTrustStore(cfg, { revalidate: false });
    const a = await frozen.getCertificates('ca', 'valid-trust-store');
    await rm(x509(cfg, 'ca', 'valid-trust-store', 'GlobalSign.der'));
    expect(await frozen.getCertificates('ca', 'valid-trust-store')).toBe(a);
    frozen.invalidate('ca', 'valid-trust-store');
    expect(await frozen.getCertificates('ca', 'valid-trust-store')).toHaveLength(5);
  });
  it('shares one read between concurrent first calls', async () => {
    const store = fileTrustStore(cfg);
    const [a, b] = await Promise.all([store.getCertificates('ca', 'valid-trust-store'), store.getCertificates('ca', 'valid-trust-store')]);
    expect(a).toBe(b);
  });
  it('readTrustStoreCertificates reads without a cache', async () => {
    expect(await readTrustStoreCertificates(cfg, 'ca', 'valid-trust-store-self-signed')).toHaveLength(1);
  });
});

describe.skipIf(!present)('trust store management (vouch cert)', () => {
  it('adds CA and self-signed certificates, rejects duplicates, leaves and missing files', async () => {
    const empty = join(root, `mgmt${n++}`);
    const e = await addTrustStoreCertificate(empty, 'ca', 'acme', SRC('ca', 'valid-trust-store', 'GlobalSign.der'));
    expect(e).toMatchObject({ type: 'ca', store: 'acme', file: 'GlobalSign.der' });
    await addTrustStoreCertificate(empty, 'ca', 'acme', SRC('ca', 'valid-trust-store', 'wabbit-networks.io.crt'));
    await expect(addTrustStoreCertificate(empty, 'ca', 'acme', SRC('ca', 'valid-trust-store', 'GlobalSign.der'))).toRejectWithCode(
      'ERR_INVALID_ARGUMENT',
    );
    await expect(addTrustStoreCertificate(empty, 'ca', 'acme', SRC('ca', 'trust-store-with-leaf-certs', 'non-ca.crt'))).toRejectWithCode(
      'ERR_TRUST_STORE_INVALID',
    );
    await expect(addTrustStoreCertificate(empty, 'ca', 'acme', join(root, 'nope.pem'))).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(addTrustStoreCertificate(empty, 'ca', 'acme', SRC('ca', 'trust-store-with-invalid-certs', 'invalid'))).toRejectWithCode(
      'ERR_CERT_INVALID',
    );
    await expect(addTrustStoreCertificate(empty, 'tsa', 'ts', SRC('ca', 'valid-trust-store', 'wabbit-networks.io.crt'))).toRejectWithCode(
      'ERR_TRUST_STORE_INVALID',
    );
    await expect(addTrustStoreCertificate(empty, 'ca', 'bad/name', SRC('ca', 'valid-trust-store', 'GlobalSign.der'))).toRejectWithCode(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await fileTrustStore(empty).getCertificates('ca', 'acme')).toHaveLength(2);
  });
  it('lists by type and store, shows, deletes a file and a whole store', async () => {
    const all = await listTrustStoreCertificates(cfg);
    // the unparsable 'invalid' file is not listed
    expect(all.some((e) => e.file === 'invalid')).toBe(false);
    expect(all.filter((e) => e.type === 'ca' && e.store === 'valid-trust-store')).toHaveLength(6);
    expect((await listTrustStoreCertificates(cfg, { type: 'tsa' })).every((e) => e.type === 'tsa')).toBe(true);
    const byStore = await listTrustStoreCertificates(cfg, { store: 'valid-trust-store' });
    expect(new Set(byStore.map((e) => e.type))).toEqual(new Set(['ca', 'signingAuthority']));
    expect(await listTrustStoreCertificates(join(root, 'nothing-here'))).toEqual([]);
    const shown = await showTrustStoreCertificate(cfg, 'ca', 'valid-trust-store', 'NotationTestRoot.pem');
    expect(shown.certificates[0]?.subject).toContain('Notation Test Root');
    await expect(showTrustStoreCertificate(cfg, 'ca', 'valid-trust-store', 'absent.pem')).toRejectWithCode('ERR_TRUST_STORE_NOT_FOUND');
    await expect(showTrustStoreCertificate(cfg, 'ca', 'valid-trust-store', '../x')).toRejectWithCode('ERR_INVALID_ARGUMENT');
    const p = await deleteTrustStoreCertificate(cfg, 'ca', 'valid-trust-store', 'GlobalSign.der');
    expect(p).toBe(x509(cfg, 'ca', 'valid-trust-store', 'GlobalSign.der'));
    expect(await readdir(x509(cfg, 'ca', 'valid-trust-store'))).not.toContain('GlobalSign.der');
    await expect(deleteTrustStoreCertificate(cfg, 'ca', 'valid-trust-store', 'GlobalSign.der')).toRejectWithCode(
      'ERR_TRUST_STORE_NOT_FOUND',
    );
    await deleteTrustStore(cfg, 'ca', 'valid-trust-store');
    expect(existsSync(x509(cfg, 'ca', 'valid-trust-store'))).toBe(false);
    await expect(deleteTrustStore(cfg, 'ca', 'valid-trust-store')).toRejectWithCode('ERR_TRUST_STORE_NOT_FOUND');
    // a store that cannot be reached is an I/O error, not "does not exist" (a symlink loop here; a
    // permission error for a non-root user takes the same path)
    await symlink('loop', x509(cfg, 'ca', 'loop'));
    await expect(deleteTrustStoreCertificate(cfg, 'ca', 'loop', 'a.crt')).toRejectWithCode('ERR_IO');
    await expect(showTrustStoreCertificate(cfg, 'ca', 'loop', 'a.crt')).toRejectWithCode('ERR_IO');
  });
});
