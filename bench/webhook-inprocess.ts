/**
 * webhook-inprocess-cpu-vs-bare (a report, not a test): the CPU a warm review costs the webhook's
 * request handling, without TLS or sockets, against the bare server's work on the same bodies, in
 * the same process. On a loaded machine wall time says little; `process.cpuUsage()` counts what
 * this process ran, so alternating rounds of the two give a ratio that holds still while other
 * processes take the cores.
 *
 * - bare: `JSON.parse` of each body and a fixed allowed answer, `JSON.stringify`d (what the bare
 *   HTTPS server of webhook-throughput-vs-bare-https does between reading and writing).
 * - vouch: the webhook's `decodeReview` (depth scan, parse, checks), `handleAdmissionReview` with
 *   20 Notary policies over a real Notary verifier (in-memory repository, warm caches) and the
 *   answer's bytes (`answerParts`), as `vouch webhook` serves it.
 *
 * A third, reported in the details: every review of a shape never seen before (a namespace of its
 * own), so the engine's answer memo never serves it: the full evaluation's cost.
 *
 * The value is bare CPU per review ÷ vouch CPU per review (median of the per-round ratios): 1
 * means vouch adds nothing; webhook-throughput-vs-bare-https ≥ 0.5 needs about 0.5 here too, as
 * TLS and HTTP cost both servers alike.
 */
import { type AdmissionReview, createKyvernoEngine, handleAdmissionReview } from '@vouch/kyverno';
import { answerParts, decodeReview } from '../packages/cli/src/webhook/server.js';
import { emit, median } from './util.js';
import { memorySetup, reviewBodies } from './webhook.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS_INPROC ?? 21);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 200);

/** The 48 bench bodies over the in-memory setup's images, and an engine for its policies. */
async function inProcessSetup() {
  const { images, policies, verifier } = await memorySetup();
  const engine = createKyvernoEngine({ policies, verifier });
  const bodies = reviewBodies(images).map((b) => new TextEncoder().encode(b));
  return { engine, bodies, policies, verifier };
}

export async function benchWebhookInProcess(): Promise<void> {
  const { engine, bodies, policies, verifier } = await inProcessSetup();
  const decoder = new TextDecoder();
  let sink = 0;
  const bare = async () => {
    for (const b of bodies) {
      const review = JSON.parse(decoder.decode(b)) as AdmissionReview;
      const out = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request!.uid, allowed: true } };
      sink += JSON.stringify(out).length;
    }
  };
  let answerBytes = 0;
  const vouch = async () => {
    for (const b of bodies) {
      const { review } = decodeReview(b);
      const out = await handleAdmissionReview(review, engine);
      if (out.response?.allowed !== true) throw new Error(`not allowed: ${JSON.stringify(out.response)}`);
      let bytes = 0;
      for (const part of answerParts(out)) bytes += part.length;
      answerBytes = bytes;
      sink += bytes;
    }
  };
  // every review a shape never seen (a namespace of its own): the full evaluation, the answer memo missing
  let distinctNs = 0;
  const vouchDistinct = async () => {
    for (const b of bodies) {
      const { review } = decodeReview(b);
      review.request.namespace = `ns-${distinctNs++}`;
      const out = await handleAdmissionReview(review, engine);
      if (out.response?.allowed !== true) throw new Error(`not allowed: ${JSON.stringify(out.response)}`);
      sink += answerParts(out).length;
    }
  };
  // warm the caches and check every body is allowed by a decision, without warnings
  for (const b of bodies) {
    const out = await handleAdmissionReview(decodeReview(b).review, engine);
    if (out.response?.allowed !== true || out.response.warnings)
      throw new Error(`warm-up review not allowed: ${JSON.stringify(out.response)}`);
  }
  // the answers (served by the answer memo now) are byte for byte those of a full evaluation without any cache
  const reference = createKyvernoEngine({ policies, verifier, cache: false });
  for (const b of bodies) {
    const got = JSON.stringify(await handleAdmissionReview(decodeReview(b).review, engine));
    const want = JSON.stringify(await handleAdmissionReview(decodeReview(b).review, reference));
    if (got !== want) throw new Error(`answer differs from an uncached engine's:\n${got}\n${want}`);
  }
  for (let i = 0; i < 10; i++) {
    await bare();
    await vouch();
    await vouchDistinct();
  }
  const cpu: [number[], number[], number[]] = [[], [], []];
  const ops = [bare, vouch, vouchDistinct];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, op] of ops.entries()) {
      let n = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      while (performance.now() - t0 < SLICE_MS) {
        await op();
        n += bodies.length;
      }
      const c = process.cpuUsage(c0);
      cpu[k]!.push((c.user + c.system) / n);
    }
  }
  const ratios = cpu[0].map((b, r) => b / cpu[1][r]!);
  const distinctRatios = cpu[0].map((b, r) => b / cpu[2][r]!);
  emit(
    'webhook-inprocess-cpu-vs-bare',
    median(ratios),
    `CPU per review: vouch ${median(cpu[1]).toFixed(1)} µs (decodeReview + handleAdmissionReview + answerParts, last answer ${answerBytes} bytes) vs bare ${median(cpu[0]).toFixed(1)} µs (JSON.parse + fixed answer); median of ${ROUNDS} alternating rounds of ${SLICE_MS} ms (per-round ratios ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}); ${bodies.length} bodies (Pods 1–8 containers, Deployments, CronJobs), ${policies.length} Notary policies, 16 signed images, warm caches, no TLS or sockets, answers byte-identical to an uncached engine's (checked${sink > 0 ? '' : '!'}); every review of a shape never seen (answer memo missing): ${median(cpu[2]).toFixed(1)} µs, ratio ${median(distinctRatios).toFixed(3)}; webhook-throughput-vs-bare-https >= 0.5 needs about 0.5`,
  );
}
