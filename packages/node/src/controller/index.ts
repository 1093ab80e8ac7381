/**
 * @vouch/node/controller — vouch's cluster mode (Node only): the background scanner that reads Kyverno
 * policies from the cluster, re-verifies the images of running workloads and writes wgpolicyk8s.io
 * PolicyReports ({@link startController}); the cluster policy source the admission webhook can share
 * ({@link clusterPolicySource}); and the Kubernetes client it runs on ({@link kubeClient}).
 */
export {
  type Controller,
  type ControllerLogEntry,
  type ControllerOptions,
  type ScanRunStats,
  startController,
} from './controller.js';
export { type KubeClient, type KubeListPage, type KubeWatchEvent, kubeClient, kubeStatus, loadKubeConfig } from './kube.js';
export { type LeaderElection, type LeaderElectionOptions, startLeaderElection } from './lease.js';
export { type VerificationLedger, type VerificationLedgerOptions, verificationLedger } from './ledger.js';
export { type ControllerMetrics, controllerMetrics } from './metrics.js';
export {
  type ClusterPolicySourceOptions,
  clusterPolicySource,
  type PolicyChange,
  type PolicyProblem,
  type PolicySource,
  staticPolicySource,
} from './policy-source.js';
export { concurrencyGate, rateLimitedFetch, type TokenBucket, tokenBucket } from './rate.js';
export { listPaged, type Reflector, type ReflectorHandlers, type ReflectorOptions, startReflector } from './reflector.js';
