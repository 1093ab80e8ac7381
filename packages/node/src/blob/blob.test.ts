import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf } from '@vouch/core';
import { portableHasher } from '@vouch/core/internal';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { createBlobVerifier, digestBlob, signatureFileName, signBlob } from '@vouch/notation';
import { memoryTrustStore } from '@vouch/trust-policy';
import { createTestPki, type TestPki } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileStream, nodeHasher, readSignatureFile, writeSignatureFile } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'vouch-blob-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nodeHasher', () => {
  it('matches the portable hasher for every algorithm', () => {
    const data = randomBytes(100_000);
    for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
      const a = nodeHasher(alg).update(data.subarray(0, 10)).update(data.subarray(10)).digest();
      const b = portableHasher(alg).update(data).digest();
      expect(a).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    }
    expect(() => nodeHasher('md5' as 'sha256')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('fileStream', () => {
  it('yields chunk-sized pieces whose concatenation is the file', async () => {
    const p = join(dir, 'data.bin');
    const data = randomBytes(3 * 65536 + 17);
    writeFileSync(p, data);
    const sizes: number[] = [];
    const h = createHash('sha256');
    for await (const c of fileStream(p, { chunkSize: 65536 })) {
      sizes.push(c.length);
      h.update(c);
    }
    expect(sizes).toEqual([65536, 65536, 65536, 17]);
    expect(h.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(await digestBlob(fileStream(p), 'sha512', { hasher: nodeHasher })).toEqual({
      digest: digestOf(data, 'sha512'),
      size: data.length,
    });
  });

  it('an empty file yields nothing; errors are VouchErrors', async () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const chunks: Uint8Array[] = [];
    for await (const c of fileStream(empty)) chunks.push(c);
    expect(chunks).toEqual([]);
    const drain = async (it: AsyncIterable<Uint8Array>) => {
      for await (const _ of it) {
        /* drain */
      }
    };
    await expect(drain(fileStream(join(dir, 'missing')))).toRejectWithCode('ERR_IO');
    await expect(drain(fileStream(dir))).toRejectWithCode('ERR_IO');
    await expect(drain(fileStream(empty, { signal: AbortSignal.abort() }))).toRejectWithCode('ERR_ABORTED');
    expect(() => fileStream(empty, { chunkSize: 10 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('signature files', () => {
  it('writes atomically, refuses to overwrite without the flag, and reads back with the format from the name', async () => {
    const p = join(dir, 'sigs', signatureFileName('/x/app.tgz', 'cose'));
    await writeSignatureFile(p, new Uint8Array([1, 2, 3]));
    expect(readFileSync(p)).toEqual(Buffer.from([1, 2, 3]));
    expect(statSync(p).mode & 0o777).toBe(0o644);
    await expect(writeSignatureFile(p, new Uint8Array([4]))).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await writeSignatureFile(p, new Uint8Array([4]), { overwrite: true });
    expect(readFileSync(p)).toEqual(Buffer.from([4]));
    // no temporary files left behind
    expect(readdirSync(join(dir, 'sigs'))).toEqual(['app.tgz.cose.sig']);
    const r = await readSignatureFile(p);
    expect(r).toEqual({ bytes: new Uint8Array([4]), format: 'cose', envelopeMediaType: 'application/cose' });
    await expect(readSignatureFile(join(dir, 'sigs', 'app.sig'))).toRejectWithCode('ERR_INVALID_ARGUMENT');
    await expect(readSignatureFile(join(dir, 'sigs', 'app.tgz.sig'))).toRejectWithCode('ERR_ENVELOPE_UNSUPPORTED');
    await expect(readSignatureFile(join(dir, 'sigs', 'nope.jws.sig'))).toRejectWithCode('ERR_IO');
  });

  // root ignores directory permissions
  it.skipIf(process.getuid?.() === 0)('a failed write leaves the old file intact', async () => {
    const d = join(dir, 'ro');
    const p = join(d, 'a.jws.sig');
    await writeSignatureFile(p, new Uint8Array([9]));
    chmodSync(d, 0o500);
    try {
      await expect(writeSignatureFile(p, new Uint8Array([8]), { overwrite: true })).toRejectWithCode('ERR_IO');
      expect(readFileSync(p)).toEqual(Buffer.from([9]));
    } finally {
      chmodSync(d, 0o700);
    }
  });
});

describe('blob sign/verify over files (the Node path: fileStream + nodeHasher)', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki({ keySpec: 'EC-384' });
  });

  for (const envelope of [jws, cose]) {
    it(`${envelope.mediaType}: sign a file, write <blob>.<format>.sig, read it back and verify`, async () => {
      const blob = join(dir, `artifact-${envelope === jws ? 'j' : 'c'}.bin`);
      writeFileSync(blob, randomBytes(2 * 1024 * 1024 + 5));
      const signed = await signBlob(fileStream(blob), {
        signer: localRawSigner(pki.leaf.privateKey, pki.chain),
        envelope,
        hasher: nodeHasher,
        mediaType: 'application/vnd.example+bin',
      });
      expect(signed.descriptor.digest).toBe(digestOf(readFileSync(blob), 'sha384'));
      const sigPath = join(dir, signatureFileName(blob, envelope === jws ? 'jws' : 'cose'));
      await writeSignatureFile(sigPath, signed.envelope);
      const sig = await readSignatureFile(sigPath);
      const v = createBlobVerifier({
        trustPolicy: {
          version: '1.0',
          trustPolicies: [
            {
              name: 'files',
              globalPolicy: true,
              signatureVerification: { level: 'strict' },
              trustStores: ['ca:t'],
              trustedIdentities: ['*'],
            },
          ],
        },
        trustStore: memoryTrustStore({ ca: { t: [pki.root.certificate] } }),
        envelopes: [jws, cose],
        revocation: false,
        hasher: nodeHasher,
      });
      const r = await v.verifyBlob(fileStream(blob), sig.bytes, { envelopeMediaType: sig.envelopeMediaType });
      expect(r.artifact).toEqual({
        mediaType: 'application/vnd.example+bin',
        digest: signed.descriptor.digest,
        size: signed.descriptor.size,
      });
      // append one byte: wrong size and digest
      writeFileSync(blob, Buffer.concat([readFileSync(blob), Buffer.from([0])]));
      await expect(v.verifyBlob(fileStream(blob), sig.bytes, { envelopeMediaType: sig.envelopeMediaType })).toRejectWithCode(
        'ERR_ARTIFACT_MISMATCH',
      );
    });
  }
});
