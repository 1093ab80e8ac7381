/**
 * Registry benchmarks against a real CNCF distribution registry started here on 127.0.0.1
 * (Debian `docker-registry`; no Referrers API, so signatures are found through the referrers
 * tag schema). 200 distinct images are pushed and signed with vouch's own API first.
 *
 * - registry-cold-vs-raw-http: time to verify all 200 images cold (a fresh registry client,
 *   concurrency 16) divided by the time to issue the same HTTP requests (recorded during the
 *   verification) through the bare undici transport (`undiciFetch`: undici `request` over a
 *   keep-alive Agent, no auth, retries, caching or verification) with the same concurrency.
 *   Target <= 1.3.
 * - registry-requests-cold: HTTP requests per cold verification (target: the minimum, resolve +
 *   referrers or tag index + signature manifest + envelope, plus one Referrers API probe per
 *   client and token requests once per repository; this registry is anonymous).
 * - registry-requests-warm: requests per verification on a second pass by digest with the same
 *   client (target 0: content and trust are immutable per digest).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type FetchInit, type FetchLike, MediaType, utf8 } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { jws } from '@vouch/envelope/jws';
import { undiciFetch } from '@vouch/node';
import { createVerifier, sign } from '@vouch/notation';
import { createRegistryClient, remoteRepository } from '@vouch/registry';
import { registryBinary, startRegistry } from '@vouch/testing/registry';
import { memoryTrustStore } from '@vouch/trust-policy';
import { createTestPki } from '@vouch/x509';
import { emit, pool } from './util.js';

const IMAGES = 200;
const CONCURRENCY = 16;

interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
}

export async function benchRegistry(only: readonly string[]): Promise<void> {
  const wanted = ['registry-cold-vs-raw-http', 'registry-requests-cold', 'registry-requests-warm'];
  if (only.length && !wanted.some((w) => only.includes(w))) return;
  if (!registryBinary()) {
    console.log('bench registry-*: skipped (docker-registry is not installed)');
    return;
  }
  const registry = await startRegistry();
  const transport = undiciFetch({ connections: CONCURRENCY });
  try {
    const pki = await createTestPki({ keySpec: 'EC-256' });
    const name = `${registry.host}/bench/app`;
    // 1. push and sign 200 distinct images with vouch's API
    const pushClient = createRegistryClient({ fetch: transport });
    const repo = remoteRepository(pushClient, name);
    const signer = localRawSigner(pki.leaf.privateKey, pki.chain);
    const config = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
    const digests: string[] = new Array(IMAGES);
    await pool([...Array(IMAGES).keys()], CONCURRENCY, async (i) => {
      const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(`bench layer ${i}`));
      const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config, layers: [layer] }));
      const d = await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag: `v${i}` });
      await sign(`${name}@${d.digest}`, { repository: repo, signer, envelope: jws });
      digests[i] = d.digest;
    });

    const verifier = createVerifier({
      trustPolicy: {
        version: '1.0',
        trustPolicies: [
          {
            name: 'b',
            registryScopes: [name],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:b'],
            trustedIdentities: ['*'],
          },
        ],
      },
      trustStore: memoryTrustStore({ ca: { b: [pki.root.certificate] } }),
      envelopes: [jws],
      revocation: false,
    });

    // 2. cold pass: a fresh client, every request counted and recorded per image
    const image = new AsyncLocalStorage<number>();
    const recorded: Recorded[][] = Array.from({ length: IMAGES }, () => []);
    let requests = 0;
    let recording = true;
    const counting: FetchLike = (url: string, init?: FetchInit) => {
      requests++;
      const i = image.getStore();
      if (recording && i !== undefined) recorded[i]!.push({ method: init?.method ?? 'GET', url, headers: { ...(init?.headers ?? {}) } });
      return transport(url, init);
    };
    let coldRepo = remoteRepository(createRegistryClient({ fetch: counting }), name);
    const coldPass = async (): Promise<number> => {
      coldRepo = remoteRepository(createRegistryClient({ fetch: counting }), name);
      const t0 = performance.now();
      await pool(digests, CONCURRENCY, (d, i) =>
        image.run(i, async () => {
          await verifier.verify(`${name}@${d}`, { repository: coldRepo });
        }),
      );
      return performance.now() - t0;
    };
    const coldTimes = [await coldPass()];
    const coldRequests = requests;
    recording = false;

    // 3. the same requests through the bare transport, per image in order, same concurrency
    const byMethod = new Map<string, number[]>();
    const rawPass = async (): Promise<number> => {
      const t1 = performance.now();
      await pool(recorded, CONCURRENCY, async (list) => {
        for (const r of list) {
          const s0 = performance.now();
          const res = await transport(r.url, { method: r.method, headers: r.headers });
          await res.arrayBuffer();
          if (process.env.BENCH_DEBUG) {
            const k = `${r.method} ${r.url.includes('/blobs/') ? 'blob' : r.url.includes('/referrers/') ? 'referrers' : 'manifest'}`;
            byMethod.set(k, [...(byMethod.get(k) ?? []), performance.now() - s0]);
          }
        }
      });
      return performance.now() - t1;
    };
    // alternate the two, so that neither profits from the registry warming up; keep the best of each
    const rawTimes = [await rawPass()];
    coldTimes.push(await coldPass());
    rawTimes.push(await rawPass());
    const cold = Math.min(...coldTimes);
    const raw = Math.min(...rawTimes);
    if (process.env.BENCH_DEBUG)
      for (const [k, v] of byMethod) console.log(k, v.length, (v.reduce((a, b) => a + b, 0) / v.length).toFixed(1));

    // 4. warm pass: the same (last cold) client, by digest
    requests = 0;
    await pool(digests, CONCURRENCY, async (d) => {
      await verifier.verify(`${name}@${d}`, { repository: coldRepo });
    });
    const warmRequests = requests;

    const perImage = recorded.map((l) => l.length);
    const minimum = Math.min(...perImage);
    emit(
      'registry-cold-vs-raw-http',
      cold / raw,
      `${IMAGES} images, concurrency ${CONCURRENCY}: vouch ${cold.toFixed(0)} ms vs bare undici ${raw.toFixed(0)} ms for the same ${coldRequests} requests; target <= 1.3`,
    );
    emit(
      'registry-requests-cold',
      coldRequests / IMAGES,
      `${coldRequests} requests for ${IMAGES} cold verifications (per image ${minimum}..${Math.max(...perImage)}; minimum 4 = resolve, tag-schema index, signature manifest, envelope, plus Referrers API probes until the client learns this registry lacks it; anonymous registry, no token requests)`,
    );
    emit(
      'registry-requests-warm',
      warmRequests / IMAGES,
      `${warmRequests} requests for ${IMAGES} warm verifications by digest with the same client; target 0`,
    );
  } finally {
    await transport.close();
    await registry.stop();
  }
}
