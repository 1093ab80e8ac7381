/**
 * Conformance handlers for kinds `config` (notation's config.json / signingkeys.json) and
 * `trust-store` (notation's file trust store layout). Trust-store cases read
 * `notation-go/verifier/testdata` as a notation config dir through @vouch/node's
 * `fileTrustStore`; cases that need symlinks or a different layout are rebuilt in a temporary
 * config dir (the shared data is read-only and holds the upstream symlinks as plain files).
 */
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { isVouchError } from '@vouch/core';
import { fileTrustStore } from '@vouch/node';
import { loadNotationConfig, loadSigningKeys } from '@vouch/node/config';
import { type TrustStoreType, verifyTrustStoreCertificates } from '@vouch/trust-policy';
import { parseCertificates } from '@vouch/x509';
import type { CaseContext, CaseOutcome, Handlers, VectorCase } from './types.js';

const CONFIG_DIR = 'notation-go/verifier/testdata';

function describeError(e: unknown): string {
  return isVouchError(e) ? `${e.code}: ${e.message}` : `non-VouchError ${String(e)}`;
}

/** Compare "did it load" against expect.result valid/error (or invalid). */
async function expectOutcome(c: VectorCase, run: () => Promise<string | undefined>, errorCodes: readonly string[]): Promise<CaseOutcome> {
  let mismatch: string | undefined;
  let error: unknown;
  try {
    mismatch = await run();
  } catch (e) {
    error = e;
  }
  const wantValid = c.expect.result === 'valid';
  if (error === undefined) {
    if (!wantValid) return { status: 'failed', reason: `expected ${c.expect.result} (${c.expect.errorMessage ?? ''}), vouch accepted it` };
    return mismatch ? { status: 'failed', reason: mismatch } : { status: 'passed' };
  }
  if (wantValid) return { status: 'failed', reason: `expected valid, vouch rejected: ${describeError(error)}` };
  if (!isVouchError(error) || !errorCodes.includes(error.code)) {
    return { status: 'failed', reason: `expected one of ${errorCodes.join(', ')}, got ${describeError(error)}` };
  }
  return { status: 'passed', note: error.message };
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-conf-store-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function configCase(c: VectorCase, ctx: CaseContext): Promise<CaseOutcome> {
  const first = c.files[0];
  if (!first) return { status: 'failed', reason: 'case lists no files' };
  const dir = dirname(ctx.path(first));
  return expectOutcome(c, async () => {
    const names = c.files.map((f) => basename(f));
    if (names.includes('config.json')) await loadNotationConfig(dir);
    if (names.includes('signingkeys.json')) await loadSigningKeys(dir);
    return undefined;
  }, ['ERR_CONFIG_INVALID']).then((out) => {
    // notation's exact message is part of the contract here (scripts match on it).
    if (out.status === 'passed' && c.expect.errorMessage && out.note && !out.note.includes(c.expect.errorMessage)) {
      return { status: 'failed', reason: `message "${out.note}" does not say "${c.expect.errorMessage}"` };
    }
    return out;
  });
}

const STORE_ERRORS = ['ERR_TRUST_STORE_INVALID', 'ERR_TRUST_STORE_NOT_FOUND'] as const;

async function getCertificatesCase(c: VectorCase, ctx: CaseContext): Promise<CaseOutcome> {
  const type = c.inputs.storeType as TrustStoreType;
  const name = c.inputs.namedStore as string;
  const want = c.expect.certificateCount as number | undefined;
  return expectOutcome(
    c,
    async () => {
      const certs = await fileTrustStore(ctx.path(CONFIG_DIR)).getCertificates(type, name);
      if (want !== undefined && certs.length !== want) return `loaded ${certs.length} certificates, expected ${want}`;
      return undefined;
    },
    STORE_ERRORS,
  );
}

async function validateCertificatesCase(c: VectorCase, ctx: CaseContext): Promise<CaseOutcome> {
  const file = c.files[0];
  if (!file) return { status: 'failed', reason: 'case lists no files' };
  return expectOutcome(c, async () => {
    await verifyTrustStoreCertificates('ca', parseCertificates(await ctx.readFile(file)));
    return undefined;
  }, ['ERR_TRUST_STORE_INVALID']);
}

/** The upstream symlink/sub-directory fixtures, rebuilt with real symlinks: every variant must be rejected. */
async function staleFixturesCase(_c: VectorCase, ctx: CaseContext): Promise<CaseOutcome> {
  return withTempDir(async (cfg) => {
    const x509 = join(cfg, 'truststore', 'x509');
    const root = ctx.path(`${CONFIG_DIR}/truststore/x509/trust-store-with-cert-symlinks/GlobalSignRootCA.crt`);
    // 1. a store holding a symlinked certificate file
    await mkdir(join(x509, 'ca', 'trust-store-with-cert-symlinks'), { recursive: true });
    await copyFile(root, join(x509, 'ca', 'trust-store-with-cert-symlinks', 'GlobalSignRootCA.crt'));
    await symlink('GlobalSignRootCA.crt', join(x509, 'ca', 'trust-store-with-cert-symlinks', 'GlobalSignRootCA_SYMLINK.crt'));
    // 2. a store holding a sub-directory
    await mkdir(join(x509, 'ca', 'trust-store-with-directories', 'sub-dir'), { recursive: true });
    await copyFile(root, join(x509, 'ca', 'trust-store-with-directories', 'GlobalSignRootCA.crt'));
    // 3. a symlinked store directory
    await mkdir(join(x509, 'ca', 'valid-trust-store'), { recursive: true });
    await copyFile(root, join(x509, 'ca', 'valid-trust-store', 'GlobalSignRootCA.crt'));
    await symlink('valid-trust-store', join(x509, 'ca', 'valid-trust-store_SYMLINK'));
    const store = fileTrustStore(cfg);
    const sanity = await store.getCertificates('ca', 'valid-trust-store').catch((e) => e);
    if (!Array.isArray(sanity)) return { status: 'failed', reason: `control store failed to load: ${describeError(sanity)}` };
    const variants: [string, () => Promise<unknown>][] = [
      ['symlinked certificate file', () => store.getCertificates('ca', 'trust-store-with-cert-symlinks')],
      ['sub-directory in store', () => store.getCertificates('ca', 'trust-store-with-directories')],
      ['symlinked store directory', () => store.getCertificates('ca', 'valid-trust-store_SYMLINK')],
      // 4. the plain-file stand-in as shipped (a text file that is not a certificate)
      ['plain-file stand-in', () => fileTrustStore(ctx.path(CONFIG_DIR)).getCertificates('ca', 'valid-trust-store_SYMLINK')],
    ];
    for (const [what, p] of variants) {
      const r = await p().then(
        () => undefined,
        (e) => e,
      );
      if (r === undefined) return { status: 'failed', reason: `${what}: accepted, expected rejection` };
      if (!isVouchError(r) || r.code !== 'ERR_TRUST_STORE_INVALID') return { status: 'failed', reason: `${what}: ${describeError(r)}` };
    }
    return { status: 'passed' };
  });
}

async function singleCertStoreCase(c: VectorCase, ctx: CaseContext): Promise<CaseOutcome> {
  const file = c.files[0];
  if (!file) return { status: 'failed', reason: 'case lists no files' };
  return withTempDir((cfg) =>
    expectOutcome(
      c,
      async () => {
        const dir = join(cfg, 'truststore', 'x509', 'ca', 'kyverno');
        await mkdir(dir, { recursive: true });
        await copyFile(ctx.path(file), join(dir, basename(file)));
        const certs = await fileTrustStore(cfg).getCertificates('ca', 'kyverno');
        return certs.length === 1 ? undefined : `loaded ${certs.length} certificates, expected 1`;
      },
      STORE_ERRORS,
    ),
  );
}

async function trustStoreCase(c: VectorCase, ctx: CaseContext): Promise<CaseOutcome> {
  const op = String(c.inputs.operation ?? '');
  if (c.id.endsWith('/stale-symlink-and-directory-fixtures')) return staleFixturesCase(c, ctx);
  if (op.startsWith('X509TrustStore.GetCertificates(')) return getCertificatesCase(c, ctx);
  if (op.startsWith('ValidateCertificates(')) return validateCertificatesCase(c, ctx);
  if (op.startsWith('load as the single certificate of trust store')) return singleCertStoreCase(c, ctx);
  if (op.startsWith('loadX509TSATrustStores(')) {
    return {
      status: 'skipped',
      reason:
        'the signing-scheme half (no TSA store for notary.x509.signingAuthority) is a verifier rule of @vouch/notation, not a trust-store load; the store itself loads in case notation-go/truststore/tsa/test-timestamp',
    };
  }
  return { status: 'failed', reason: `no trust-store handler for operation "${op}"` };
}

export const handlers: Handlers = {
  config: configCase,
  'trust-store': trustStoreCase,
};
