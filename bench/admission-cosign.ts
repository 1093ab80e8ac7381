/**
 * admission-cosign-review-vs-verify: an AdmissionReview of a Pod with 8 containers of one image,
 * judged by a ClusterPolicy with a `type: Cosign` rule (a key attestor; the image carries a
 * cosign `.sig` with a Rekor SET, checked against the policy's `rekor.pubkey`), with the
 * cross-review cache off so that every review verifies, divided by the throughput of the one
 * verification the review needs (`cosignImageVerifier().verifyImage` on the same image with the
 * same attestor), measured in the same process in interleaved rounds (bench/util.ts). A review
 * that verifies once per digest, as vouch does, costs about one verification plus the engine's
 * own work; one that verifies per container, as Kyverno does, would score about 1/8. Target ≥ 0.5.
 * The details report the verifier calls per review (target 1).
 */
import { encodePem } from '@vouch/core';
import {
  type AdmissionReview,
  type CosignImageVerifier,
  cosignImageVerifier,
  createKyvernoEngine,
  handleAdmissionReview,
  policyFromObject,
} from '@vouch/kyverno';
import { cosignAttestorMaterial } from '@vouch/kyverno/internal';
import { memoryRepository } from '@vouch/registry';
import { admissionReviewFor, pushTestImage } from '@vouch/testing';
import { cosignSignatureLayer, createTestSigstore, generateEcdsa, pushCosignTag, spkiOf } from '@vouch/testing/sigstore';
import { emit, measureRounds, median } from './util.js';

const IMAGE = 'bench.example.com/app:v1';
const CONTAINERS = 8;

export async function benchAdmissionCosign(name: string): Promise<void> {
  const stack = await createTestSigstore();
  const signer = { keyPair: await generateEcdsa() };
  const keyPem = encodePem('PUBLIC KEY', await spkiOf(signer.keyPair.publicKey));
  const repo = memoryRepository();
  const subject = await pushTestImage(repo, 'v1', 'bench-cosign');
  await pushCosignTag(repo, subject, 'sig', [
    await cosignSignatureLayer(stack, { dockerReference: 'bench.example.com/app', digest: subject.digest }, { signer }),
  ]);
  const entry = { keys: { publicKeys: keyPem, rekor: { url: 'https://rekor.test', pubkey: stack.rekor.publicKeyPem } } };
  const policy = policyFromObject({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'verify-cosign' },
    spec: {
      rules: [
        {
          name: 'cosign',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          verifyImages: [{ imageReferences: ['bench.example.com/*'], failureAction: 'Enforce', attestors: [{ entries: [entry] }] }],
        },
      ],
    },
  });
  let calls = 0;
  const inner = cosignImageVerifier({ repositoryFor: () => repo });
  const counting: CosignImageVerifier = {
    verifyImage: (r) => {
      calls++;
      return inner.verifyImage(r);
    },
    verifyAttestations: (r) => inner.verifyAttestations(r),
    resolveDigest: (image, signal) => inner.resolveDigest(image, signal),
  };
  const engine = createKyvernoEngine({ policies: [policy], cosignVerifier: counting, cache: false });
  const body = JSON.stringify(
    admissionReviewFor({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app', namespace: 'default' },
      spec: { containers: Array.from({ length: CONTAINERS }, (_, i) => ({ name: `c${i}`, image: IMAGE })) },
    }),
  );
  let uid = 0;
  const review = async () => {
    const r = await handleAdmissionReview(JSON.parse(body.replace('"uid":"', `"uid":"${uid++}-`)) as AdmissionReview, engine);
    if (r.response?.allowed !== true) throw new Error(`review not allowed: ${JSON.stringify(r.response)}`);
  };
  const iv = policy.spec.rules[0]!.verifyImages![0]!;
  const attestor = cosignAttestorMaterial(iv.attestors![0]!.entries![0]!, iv);
  const verify = async () => {
    const r = await inner.verifyImage({ image: IMAGE, attestor });
    if (r.digest !== subject.digest) throw new Error('wrong digest');
  };
  calls = 0;
  await review();
  const perReview = calls;
  const [ours, base] = await measureRounds([review, verify]);
  const ratios = ours!.rate.map((v, r) => v / base!.rate[r]!);
  emit(
    name,
    median(ratios),
    `median of ${ratios.length} interleaved rounds; ${median(ours!.rate).toFixed(0)} reviews/s vs ${median(base!.rate).toFixed(0)} verifications/s; CPU ${median(ours!.cpuMicros).toFixed(0)} µs/review vs ${median(base!.cpuMicros).toFixed(0)} µs/verification; ${perReview} verifier call(s) per review (target 1; Kyverno: ${CONTAINERS}); Pod with ${CONTAINERS} containers of one image, one Cosign key rule with a Rekor SET, no cross-review cache; target >= 0.5`,
  );
}
