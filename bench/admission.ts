/**
 * Admission benchmarks (reports, not tests):
 * - admission-warm-p99-ms: p99 latency of `handleAdmissionReview` for a Pod with 8 containers of
 *   one image against 20 policies, warm (verification cache filled), with a real Notary
 *   verifier over an in-memory repository holding a real signature; each review is a freshly
 *   parsed object (parsing not timed). Target < 1.
 * - admission-verifications-per-review: verifier calls for the same review on a cold engine
 *   (per-review de-duplication and single-flight). Target 1 (Kyverno does 8).
 * - admission-registry-down-peak-rss-mib: peak RSS while 1000 reviews run concurrently with the
 *   registry down (every fetch fails with ERR_NETWORK after a short delay); every answer must
 *   follow failurePolicy (half the reviews go to Fail policies, half to Ignore), violations are counted.
 */
import { type FetchLike, VouchError } from '@vouch/core';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import {
  type AdmissionReview,
  createKyvernoEngine,
  handleAdmissionReview,
  type KyvernoPolicy,
  type NotaryImageVerifier,
  notationImageVerifier,
  parsePolicies,
} from '@vouch/kyverno';
import { createRegistryClient, memoryRepository, remoteRepository } from '@vouch/registry';
import { admissionReviewFor, pushTestImage, seedPolicyYaml, signTestImage } from '@vouch/testing';
import { certificatesToPem, createTestPki } from '@vouch/x509';
import { emit } from './util.js';

const REGISTRY = 'bench.example.com';
const IMAGE = `${REGISTRY}/app:v1`;
const POLICIES = 20;
const CONTAINERS = 8;

function pod(image: string, name = 'app'): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: Array.from({ length: CONTAINERS }, (_, i) => ({ name: `c${i}`, image })) },
  };
}

function policies(certPem: string, opts: { failurePolicy?: 'Fail' | 'Ignore'; refs?: string[] } = {}): KyvernoPolicy[] {
  return Array.from({ length: POLICIES }, (_, i) =>
    parsePolicies(
      seedPolicyYaml({
        certPem,
        name: `verify-${i}`,
        imageReferences: opts.refs ?? [`${REGISTRY}/*`],
        failurePolicy: opts.failurePolicy ?? 'Fail',
      }),
    ),
  ).flat();
}

async function signedSetup() {
  const pki = await createTestPki({ keySpec: 'EC-256' });
  const repo = memoryRepository();
  const digest = (await pushTestImage(repo, 'v1', 'bench')).digest;
  await signTestImage(repo, digest, pki, 'jws');
  const certPem = certificatesToPem([pki.root.certificate]);
  let calls = 0;
  const newVerifier = (): NotaryImageVerifier => {
    const inner = notationImageVerifier({ repositoryFor: () => repo, envelopes: [jws, cose], revocation: false });
    return {
      verifyImage: (r) => {
        calls++;
        return inner.verifyImage(r);
      },
      resolveDigest: (image, signal) => {
        calls++;
        return inner.resolveDigest!(image, signal);
      },
    };
  };
  return { certPem, newVerifier, calls: () => calls, reset: () => (calls = 0) };
}

function expectAllowed(r: AdmissionReview, what: string): void {
  if (r.response?.allowed !== true) throw new Error(`${what}: expected allowed, got ${JSON.stringify(r.response)}`);
}

/** admission-warm-p99-ms */
export async function benchAdmissionWarm(): Promise<void> {
  const s = await signedSetup();
  const engine = createKyvernoEngine({ policies: policies(s.certPem), verifier: s.newVerifier() });
  // Each review is a freshly parsed object, as the webhook hands over (no memo keyed by object identity
  // carries over between reviews); parsing the body is the HTTP layer's work and is not timed.
  const body = JSON.stringify(admissionReviewFor(pod(IMAGE)));
  const fresh = (i: number): AdmissionReview => JSON.parse(body.replace('"uid":"', `"uid":"${i}-`)) as AdmissionReview;
  for (let i = 0; i < 200; i++) expectAllowed(await handleAdmissionReview(fresh(i), engine), 'warm-up');
  const n = 3000;
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const review = fresh(i);
    const t0 = performance.now();
    const r = await handleAdmissionReview(review, engine);
    times.push(performance.now() - t0);
    if (r.response?.allowed !== true) throw new Error('warm review was not allowed');
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const p = (q: number) => times[Math.min(n - 1, Math.floor(q * n))]!;
  emit(
    'admission-warm-p99-ms',
    p(0.99),
    `p50 ${p(0.5).toFixed(3)} ms, CPU ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms/review, p99 over ${n} reviews; Pod with ${CONTAINERS} containers of one image, ${POLICIES} policies, warm cache; target < 1`,
  );
}

/** admission-verifications-per-review */
export async function benchAdmissionVerifications(): Promise<void> {
  const s = await signedSetup();
  const runs = 5;
  const counts: number[] = [];
  for (let i = 0; i < runs; i++) {
    s.reset();
    const engine = createKyvernoEngine({ policies: policies(s.certPem), verifier: s.newVerifier() });
    expectAllowed(await handleAdmissionReview(admissionReviewFor(pod(IMAGE)), engine), 'cold review');
    counts.push(s.calls());
  }
  emit(
    'admission-verifications-per-review',
    Math.max(...counts),
    `verifier calls for one cold review (max of ${runs} fresh engines); Pod with ${CONTAINERS} containers of one image, ${POLICIES} policies; target 1 (Kyverno: ${CONTAINERS})`,
  );
}

/** admission-registry-down-peak-rss-mib */
export async function benchAdmissionRegistryDown(): Promise<void> {
  const pki = await createTestPki({ keySpec: 'EC-256' });
  const certPem = certificatesToPem([pki.root.certificate]);
  const down: FetchLike = (url) =>
    new Promise((_, reject) => setTimeout(() => reject(new VouchError('ERR_NETWORK', `connect ECONNREFUSED (${url})`)), 20));
  const client = createRegistryClient({ fetch: down, retry: { retries: 0 } });
  const verifier = notationImageVerifier({
    repositoryFor: (ref) => remoteRepository(client, `${ref.registry}/${ref.repository}`),
    envelopes: [jws, cose],
    revocation: false,
  });
  const fail = createKyvernoEngine({ policies: policies(certPem, { failurePolicy: 'Fail' }), verifier });
  const ignore = createKyvernoEngine({ policies: policies(certPem, { failurePolicy: 'Ignore' }), verifier });
  const total = Number(process.env.BENCH_TOTAL ?? 1000);
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.resourceUsage().maxRSS;
  const t0 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: total }, async (_, i) => {
      const expectAllowedAnswer = i % 2 === 1; // odd: Ignore, even: Fail
      // distinct tags: no single-flight across reviews, 1000 verifications in flight
      const review = admissionReviewFor(pod(`${REGISTRY}/app:v${i}`, `app-${i}`), `uid-${i}`);
      const r = await handleAdmissionReview(review, expectAllowedAnswer ? ignore : fail);
      return r.response?.uid === `uid-${i}` && r.response.allowed === expectAllowedAnswer;
    }),
  );
  const ms = performance.now() - t0;
  const violations = answers.filter((ok) => !ok).length;
  const peak = process.resourceUsage().maxRSS / 1024;
  emit(
    'admission-registry-down-peak-rss-mib',
    peak,
    `${total} concurrent reviews (Pod x${CONTAINERS} containers, ${POLICIES} policies, half failurePolicy Fail / half Ignore) with every registry fetch failing after 20 ms; failurePolicy violations: ${violations}; peak RSS before: ${(before / 1024).toFixed(1)} MiB; ${ms.toFixed(0)} ms`,
  );
  if (violations > 0) {
    console.error(`bench admission-registry-down-peak-rss-mib: ${violations} answers did not follow failurePolicy`);
    process.exitCode = 1;
  }
}
