/**
 * verify-warm-<alg>-vs-crypto: warm `createVerifier().verify()` throughput on an OCI layout on
 * disk, with no result cache (every call re-reads the layout, re-parses the envelope and
 * re-verifies the envelope signature and every chain signature), divided by the throughput of
 * the raw WebCrypto signature checks that verification must do (envelope + 3 chain links,
 * with keys imported once), measured in the same process. Target ≥ 0.5.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaType, utf8 } from '@vouch/core';
import { localRawSigner, type SignatureAlgorithm } from '@vouch/envelope';
import { jws } from '@vouch/envelope/jws';
import { cose } from '@vouch/envelope/cose';
import { createVerifier, sign } from '@vouch/notation';
import { nodeOciLayout } from '@vouch/node';
import { memoryTrustStore } from '@vouch/trust-policy';
import { createTestPki, type KeySpec } from '@vouch/x509';
import { emit, measure } from './util.js';

const SCOPE = 'bench.local/app';

async function rawBaseline(pki: Awaited<ReturnType<typeof createTestPki>>, alg: SignatureAlgorithm): Promise<() => Promise<void>> {
  const subtle = globalThis.crypto.subtle;
  const data = utf8('x'.repeat(600));
  const rsa = alg.startsWith('PS');
  const hash = `SHA-${alg.slice(2)}`;
  const params = rsa ? { name: 'RSA-PSS', saltLength: Number(alg.slice(2)) / 8 } : { name: 'ECDSA', hash };
  const pairs = [pki.leaf, pki.intermediate, pki.root];
  // One signature per check the verifier must do: envelope by leaf, leaf by intermediate,
  // intermediate by root, root by itself.
  const keys = await Promise.all(
    pairs.map(async (p) => {
      const pub = await subtle.importKey('spki', p.certificate.publicKey.spki as Uint8Array<ArrayBuffer>, rsa ? { name: 'RSA-PSS', hash } : { name: 'ECDSA', namedCurve: p.certificate.publicKey.curve! }, false, ['verify']);
      const sig = new Uint8Array(await subtle.sign(params, p.privateKey, data));
      return { pub, sig };
    }),
  );
  const checks = [keys[0]!, keys[1]!, keys[2]!, keys[2]!];
  return async () => {
    for (const k of checks) {
      if (!(await subtle.verify(params, k.pub, k.sig, data))) throw new Error('baseline verify failed');
    }
  };
}

export async function benchVerifyWarm(keySpec: KeySpec, alg: SignatureAlgorithm, name: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-bench-'));
  try {
    const pki = await createTestPki({ keySpec });
    const repo = nodeOciLayout(dir);
    const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
    const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8('bench layer'));
    const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
    const target = await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: 'v1' });
    await sign(target.digest, { repository: repo, signer: localRawSigner(pki.leaf.privateKey, pki.chain), envelope: jws });
    const verifier = createVerifier({
      trustPolicy: { version: '1.0', trustPolicies: [{ name: 'b', registryScopes: [SCOPE], signatureVerification: { level: 'strict' }, trustStores: ['ca:b'], trustedIdentities: ['*'] }] },
      trustStore: memoryTrustStore({ ca: { b: [pki.root.certificate] } }),
      envelopes: [jws, cose],
      // Certificates without OCSP/CRL URLs are non-revokable; the check still runs but makes no request.
      ...(process.env.BENCH_NO_REVOCATION ? { revocation: false as const } : {}),
    });
    // a fresh repository object per run: nothing carried over but what the verifier caches
    const fresh = nodeOciLayout(dir);
    const once = async () => {
      await verifier.verify(target.digest, { repository: fresh, scope: SCOPE });
    };
    await once();
    const raw = await rawBaseline(pki, alg);
    const [ours, base] = [await measure(once), await measure(raw)];
    emit(name, ours.opsPerSec / base.opsPerSec, `${ours.opsPerSec.toFixed(0)} verify/s vs ${base.opsPerSec.toFixed(0)} raw/s (envelope+3 chain checks); target >= 0.5`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
