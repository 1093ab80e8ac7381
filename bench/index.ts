import { benchAdmissionRegistryDown, benchAdmissionVerifications, benchAdmissionWarm } from './admission.js';
import { benchAdmissionCosign } from './admission-cosign.js';
import { benchBlob } from './blob.js';
import { apiServerRole, benchRegistryRequests, benchScan10k } from './controller.js';
import { benchCosignVerifyWarm } from './cosign-verify-warm.js';
import { benchRegistry } from './registry.js';
import { benchVerifyWarm } from './verify-warm.js';
import { benchWebhook } from './webhook.js';
import { benchWebhookInProcess } from './webhook-inprocess.js';

if (process.env.VOUCH_BENCH_ROLE === 'apiserver') {
  // the child process of the cluster-mode benchmark (the fake API server, kept out of the measured RSS)
  await apiServerRole();
  await new Promise(() => undefined);
}
const only = process.argv.slice(2);
const benches: Record<string, () => Promise<void>> = {
  'verify-warm-es256-vs-crypto': () => benchVerifyWarm('EC-256', 'ES256', 'verify-warm-es256-vs-crypto'),
  'verify-warm-ps384-vs-crypto': () => benchVerifyWarm('RSA-3072', 'PS384', 'verify-warm-ps384-vs-crypto'),
  'cosign-verify-warm-vs-crypto': () => benchCosignVerifyWarm('cosign-verify-warm-vs-crypto'),
  'blob-1gib': () => benchBlob(),
  'admission-warm-p99-ms': benchAdmissionWarm,
  'admission-verifications-per-review': benchAdmissionVerifications,
  'admission-registry-down-peak-rss-mib': benchAdmissionRegistryDown,
  'admission-cosign-review-vs-verify': () => benchAdmissionCosign('admission-cosign-review-vs-verify'),
  'scan-10k-pods-peak-rss-mib': benchScan10k,
  'controller-registry-requests-per-verification': benchRegistryRequests,
  'webhook-inprocess-cpu-vs-bare': benchWebhookInProcess,
};
for (const [name, run] of Object.entries(benches)) {
  if (only.length && !only.includes(name)) continue;
  await run();
}
await benchRegistry(only);
await benchWebhook(only);
