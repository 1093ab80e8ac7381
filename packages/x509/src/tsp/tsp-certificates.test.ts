/**
 * `certificates` of verifyTimestampToken: a token that embeds no certificate (Sigstore's TSA by
 * default) verifies when the TSA's chain is given, and only then. Uses a real token from
 * sigstore-conformance (../shared, never copied); skips with a notice without it, except under
 * CI=true.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isVouchError } from '@vouch/core';
import { fromBase64 } from '@vouch/core/internal';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../certificate.js';
import { parseTimestampResponse, verifyTimestampToken } from './index.js';

const dir = join(
  process.env.VOUCH_SHARED_DIR ?? resolve(import.meta.dirname, '..', '..', '..', '..', '..', 'shared'),
  'sigstore-conformance',
  'bundle-verify',
  'rekor2-timestamp-without-embedded-cert',
);
const present = existsSync(join(dir, 'bundle.sigstore.json'));
if (!present) {
  if (process.env.CI === 'true') throw new Error(`${dir} is missing; under CI=true the shared data is required`);
  console.warn(`NOTICE: ${dir} not found (set VOUCH_SHARED_DIR); the TSA-certificates test is skipped`);
}

describe.skipIf(!present)('verifyTimestampToken: TSA certificates given by the caller', () => {
  it('a token without embedded certificates verifies with the TSA chain, not without it', async () => {
    const bundle = JSON.parse(readFileSync(join(dir, 'bundle.sigstore.json'), 'utf8'));
    const root = JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8'));
    const chain = root.timestampAuthorities[0].certChain.certificates.map((c: { rawBytes: string }) =>
      parseCertificate(fromBase64(c.rawBytes)),
    );
    const resp = fromBase64(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp);
    const { token } = await parseTimestampResponse(resp);
    expect(token.certificates).toEqual([]);
    const message = fromBase64(bundle.messageSignature.signature);
    const anchor = chain[chain.length - 1];
    const without = await verifyTimestampToken(token, { message, trustedRoots: [anchor] }).catch((e: unknown) => e);
    expect(isVouchError(without) && without.details?.step).toBe('signingCertificate');
    const v = await verifyTimestampToken(token, { message, trustedRoots: [anchor], certificates: chain });
    expect(v.signerCertificate.subject).toBe(chain[0].subject);
    expect(v.chain.map((c) => c.subject)).toEqual(chain.map((c: { subject: string }) => c.subject));
    // the given certificates are never anchors
    const e = await verifyTimestampToken(token, { message, trustedRoots: [chain[0]], certificates: chain }).catch((x: unknown) => x);
    expect(e).toBeVouchError('ERR_TIMESTAMP_INVALID');
  });
});
