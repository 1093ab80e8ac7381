/**
 * blob-1gib-digest-vs-sha256sum: throughput of `verifyBlob` on Node — the path a user gets:
 * `fileStream(path)` + `nodeHasher`, SHA-256 (ES256 signature) — over a 1 GiB temporary file,
 * divided by the throughput of `sha256sum` on the same file in the same run (page cache warm for
 * both; best of 3 alternating rounds each). Target ≥ 0.8.
 *
 * blob-1gib-peak-rss-mib: peak RSS (`process.resourceUsage().maxRSS`) of a child process that
 * signs the 1 GiB file with `signBlob` and verifies it with `verifyBlob`, both streaming.
 * Target < 150.
 *
 * The child is this bundle again, started with VOUCH_BENCH_BLOB_CHILD=<file>; it runs only the
 * child work (below) and exits. VOUCH_BENCH_BLOB_MIB overrides the size (development only).
 * The temporary file is removed in every case.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localRawSigner } from '@vouch/envelope';
import { jws } from '@vouch/envelope/jws';
import { fileStream, nodeHasher } from '@vouch/node';
import { createBlobVerifier, signBlob } from '@vouch/notation';
import { memoryTrustStore } from '@vouch/trust-policy';
import { createTestPki } from '@vouch/x509';
import { emit } from './util.js';

const MIB = 1024 * 1024;

async function signAndVerifier(path: string) {
  const pki = await createTestPki({ keySpec: 'EC-256' });
  const signed = await signBlob(fileStream(path), {
    signer: localRawSigner(pki.leaf.privateKey, pki.chain),
    envelope: jws,
    hasher: nodeHasher,
  });
  const verifier = createBlobVerifier({
    trustPolicy: {
      version: '1.0',
      trustPolicies: [
        { name: 'bench', globalPolicy: true, signatureVerification: { level: 'strict' }, trustStores: ['ca:b'], trustedIdentities: ['*'] },
      ],
    },
    trustStore: memoryTrustStore({ ca: { b: [pki.root.certificate] } }),
    envelopes: [jws],
    revocation: false,
    hasher: nodeHasher,
  });
  return { signed, verify: () => verifier.verifyBlob(fileStream(path), signed.envelope, { envelopeMediaType: jws.mediaType }) };
}

async function writeFile(path: string, mib: number): Promise<void> {
  const chunk = randomBytes(MIB);
  const fh = await open(path, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      chunk[0] = i & 0xff; // not one repeated block
      await fh.write(chunk, 0, MIB);
    }
  } finally {
    await fh.close();
  }
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function timeSha256sum(path: string): Promise<number> {
  const t0 = performance.now();
  const r = await run('sha256sum', [path]);
  if (r.code !== 0) throw new Error(`sha256sum failed: ${r.stderr}`);
  return performance.now() - t0;
}

/** Both figures; needs `sha256sum` (coreutils). */
export async function benchBlob(): Promise<void> {
  const mib = Number(process.env.VOUCH_BENCH_BLOB_MIB ?? 1024);
  const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-blob-'));
  const path = join(dir, 'blob.bin');
  try {
    await writeFile(path, mib);
    const label = mib === 1024 ? '1 GiB' : `${mib} MiB`;
    let haveSha = true;
    try {
      await timeSha256sum(path); // also warms the page cache
    } catch {
      haveSha = false;
    }
    const { verify } = await signAndVerifier(path);
    if (haveSha) {
      let sha = Number.POSITIVE_INFINITY;
      let vouch = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        sha = Math.min(sha, await timeSha256sum(path));
        const t0 = performance.now();
        await verify();
        vouch = Math.min(vouch, performance.now() - t0);
      }
      const mbps = (ms: number) => ((mib * MIB) / MIB / (ms / 1000)).toFixed(0);
      emit(
        'blob-1gib-digest-vs-sha256sum',
        sha / vouch,
        `verifyBlob(fileStream+nodeHasher) ${mbps(vouch)} MiB/s vs sha256sum ${mbps(sha)} MiB/s over ${label}, best of 3; target >= 0.8`,
      );
    } else {
      console.log('bench blob-1gib-digest-vs-sha256sum: skipped (sha256sum not found)');
    }

    const child = await run(process.execPath, [process.argv[1]!, '__blob-rss-child__'], {
      ...process.env,
      VOUCH_BENCH_BLOB_CHILD: path,
    });
    const m = /VOUCH_BLOB_RSS_KIB=(\d+)/.exec(child.stdout);
    if (child.code !== 0 || !m) throw new Error(`blob RSS child failed (${child.code}): ${child.stderr || child.stdout}`);
    emit(
      'blob-1gib-peak-rss-mib',
      Number(m[1]) / 1024,
      `peak RSS of a child signing and verifying ${label} with signBlob/verifyBlob; target < 150`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Child mode: sign and verify the file, print the peak RSS, exit. */
async function childMain(path: string): Promise<void> {
  const { verify } = await signAndVerifier(path);
  const r = await verify();
  if (r.skipped || !r.signature) throw new Error('child: blob was not verified');
  console.log(`VOUCH_BLOB_RSS_KIB=${process.resourceUsage().maxRSS}`);
}

if (process.env.VOUCH_BENCH_BLOB_CHILD) {
  try {
    await childMain(process.env.VOUCH_BENCH_BLOB_CHILD);
    process.exit(0);
  } catch (e) {
    console.error(e);
    process.exit(1);
  }
}
