/**
 * Conformance handlers for kinds `x509-parse`, `x509-chain` and `x509-cert`: the upstream
 * notation-core-go certificate fixtures run through @vouch/x509's public API. Expected Go error
 * strings are compared on their stable part (up to Go's ". Error: <crypto error>" tail).
 */
import { basename } from 'node:path';
import { isVouchError } from '@vouch/core';
import {
  type Certificate,
  parseCertificates,
  validateSigningChain,
  validateTimestampingChain,
  verifyCertificateSignature,
} from '@vouch/x509';
import { validateCaCertificate, validateSigningLeaf, validateSigningTime, validateTimestampingLeaf } from '@vouch/x509/internal';
import type { CaseContext, CaseOutcome, Handlers, VectorCase } from './types.js';

/** Short chain names used in index.json → fixture file names. */
const ALIASES: Record<string, string> = {
  leaf: 'codeSigningLeafPem.pem',
  int1: 'intermediateCertPem1.pem',
  int2: 'intermediateCertPem2.pem',
  root: 'rootCertPem.pem',
  unrelated: 'unrelatedCertPem.pem',
  altLeaf: 'codeSigningLeafInvalidPathLenPem.pem',
  altInt: 'intermediateCertInvalidPathLenPem.pem',
};

async function loadOne(c: VectorCase, ctx: CaseContext, name: string): Promise<Certificate> {
  const file = ALIASES[name] ?? name;
  const rel = c.files.find((f) => basename(f) === file);
  if (!rel) throw new Error(`case lists no file for chain entry "${name}"`);
  const certs = parseCertificates(await ctx.readFile(rel));
  if (certs.length !== 1) throw new Error(`${rel} holds ${certs.length} certificates, expected 1`);
  return certs[0]!;
}

/** Go's message without the crypto-library tail, JSON-decoded already by index.json parsing. */
function stablePart(goMessage: string): string {
  return goMessage.split('. Error: ')[0]!;
}

/** Compare vouch's outcome (undefined = accepted, else the error) with the case's expectation. */
function judge(c: VectorCase, err: unknown, expectedCodes: readonly string[]): CaseOutcome {
  const want = c.expect.result;
  if (want === 'valid') {
    if (err === undefined) return { status: 'passed' };
    return { status: 'failed', reason: `expected valid, vouch rejected: ${describe(err)}` };
  }
  if (want === 'invalid' || want === 'error') {
    if (err === undefined) return { status: 'failed', reason: `expected ${want}, vouch accepted` };
    if (!isVouchError(err)) return { status: 'failed', reason: `non-VouchError escaped: ${String(err)}` };
    if (!expectedCodes.includes(err.code)) {
      return { status: 'failed', reason: `code ${err.code}, expected one of ${expectedCodes.join(', ')} (${err.message})` };
    }
    const goMsg = c.expect.errorMessage;
    if (goMsg && !err.message.includes(stablePart(goMsg))) {
      return { status: 'failed', reason: `message differs.\n  vouch: ${err.message}\n  go:    ${goMsg}` };
    }
    return { status: 'passed' };
  }
  return { status: 'failed', reason: `unexpected expectation "${want}" for this kind` };
}

function describe(e: unknown): string {
  return isVouchError(e) ? `${e.code}: ${e.message}` : String(e);
}

async function outcome(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

const CHAIN_CODES = ['ERR_CERT_CHAIN_INVALID', 'ERR_CERT_EXPIRED'] as const;

export const handlers: Handlers = {
  'x509-parse': async (c, ctx) => {
    const file = c.files[0];
    if (!file) return { status: 'failed', reason: 'case lists no file' };
    const bytes = await ctx.readFile(file);
    let certs: Certificate[] = [];
    const err = await outcome(() => {
      certs = parseCertificates(bytes);
    });
    const verdict = judge(c, err, ['ERR_CERT_INVALID']);
    const count = c.expect.certificateCount;
    if (verdict.status === 'passed' && typeof count === 'number' && certs.length !== count) {
      return { status: 'failed', reason: `parsed ${certs.length} certificates, expected ${count}` };
    }
    return verdict;
  },

  'x509-chain': async (c, ctx) => {
    const names = (c.inputs.chain as string[] | undefined) ?? [];
    const chain = await Promise.all(names.map((n) => loadOne(c, ctx, n)));
    const signingTime = typeof c.inputs.signingTime === 'string' ? new Date(c.inputs.signingTime) : undefined;
    const op = c.inputs.operation;
    if (op === 'ValidateCodeSigningCertChain') {
      return judge(c, await outcome(() => validateSigningChain(chain, signingTime ? { signingTime } : {})), CHAIN_CODES);
    }
    if (op === 'ValidateTimestampingCertChain') {
      return judge(c, await outcome(() => validateTimestampingChain(chain, signingTime ? { signingTime } : {})), CHAIN_CODES);
    }
    return { status: 'failed', reason: `unknown x509-chain operation ${String(op)}` };
  },

  'x509-cert': async (c, ctx) => {
    const file = c.files[0];
    if (!file) return { status: 'failed', reason: 'case lists no file' };
    const cert = await loadOne(c, ctx, basename(file));
    const op = String(c.inputs.operation);
    const pathLen = Number(c.inputs.expectedPathLen ?? 0);
    if (op === 'validateCodeSigningLeafCertificate') return judge(c, await outcome(() => validateSigningLeaf(cert)), CHAIN_CODES);
    if (op === 'validateTimestampingLeafCertificate') return judge(c, await outcome(() => validateTimestampingLeaf(cert)), CHAIN_CODES);
    if (op === 'validateCodeSigningCACertificate') return judge(c, await outcome(() => validateCaCertificate(cert, pathLen)), CHAIN_CODES);
    if (op === 'validateTimestampingCACertificate') {
      return judge(c, await outcome(() => validateCaCertificate(cert, pathLen, { timestamping: true })), CHAIN_CODES);
    }
    if (op.startsWith('validateSigningTime')) {
      const t = new Date(String(c.inputs.signingTime));
      return judge(c, await outcome(() => validateSigningTime(cert, t)), ['ERR_CERT_EXPIRED']);
    }
    if (/root for live timestamping|trust anchor for live timestamping/.test(op)) {
      // A usable TSA trust anchor: a self-signed, self-issued CA whose self-signature verifies.
      const err = await outcome(async () => {
        if (!cert.selfSigned) throw new Error('not self-issued');
        if (!(await verifyCertificateSignature(cert, cert))) throw new Error('self-signature does not verify');
        validateCaCertificate(cert, 0, { timestamping: true });
      });
      return judge(c, err, CHAIN_CODES);
    }
    return { status: 'failed', reason: `unknown x509-cert operation ${op}` };
  },
};
