/**
 * `@vouch/kyverno`: Kyverno ClusterPolicy/Policy `verifyImages` evaluation (attestor types Notary,
 * Cosign and SigstoreBundle) in any JavaScript runtime (no Node APIs).
 *
 * - Parse policies and exceptions ({@link parsePolicies}), with CRD defaults, autogen and source
 *   positions; what vouch cannot evaluate is refused, never skipped.
 * - Evaluate them over an injected image verifier ({@link createKyvernoEngine}) built on notation
 *   ({@link notationImageVerifier}) or cosign/Sigstore ({@link cosignImageVerifier}).
 * - Answer admission reviews ({@link handleAdmissionReview}), run `kyverno apply`
 *   ({@link applyPolicies}) and `kyverno test` ({@link runKyvernoTest}), and write policy reports.
 *
 * Helpers the CLI, the controller and the conformance suites share live in `@vouch/kyverno/internal`,
 * which is not part of the public API.
 *
 * @packageDocumentation
 */

// Policies: the model and parsing
export type {
  Attestation,
  Attestor,
  AttestorSet,
  ImageVerification,
  KubeObject,
  KyvernoPolicy,
  PolicyException,
  PolicyResponse,
  PolicySpec,
  RequestInfo,
  Rule,
  RuleResponse,
  RuleStatus,
} from './types.js';
export { type ParsePolicyOptions, parsePolicies, policyFromObject } from './policy/parse.js';
export { parsePolicyExceptions } from './policy/exceptions.js';

// The engine
export { createKyvernoEngine } from './engine/engine.js';
export type {
  ContextLoader,
  EngineRequest,
  EvaluationResult,
  KyvernoEngine,
  KyvernoEngineOptions,
  VerifyImagesResult,
} from './engine/types.js';

// Image verifiers: notation, cosign/Sigstore, and the verification cache
export { type NotationImageVerifierOptions, notationImageVerifier } from './verifier/notary.js';
export type { NotaryImageVerifier } from './verifier/verifier.js';
export {
  type CosignImageVerifier,
  type CosignImageVerifierOptions,
  type CosignKeyRequest,
  cosignImageVerifier,
} from './verifier/cosign.js';
export { createVerificationCache, type VerificationCache, type VerificationCacheOptions } from './verifier/cache.js';

// Admission
export {
  type AdmissionOptions,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReview,
  handleAdmissionReview,
} from './admission/admission.js';

// `kyverno apply` and `kyverno test` (parseYamlObjects reads the YAML documents of policy and resource files)
export { type ApplyOptions, applyPolicies, type KyvernoValues, type ResourceResult } from './apply/apply.js';
export {
  type KyvernoTestFile,
  parseKyvernoTest,
  parseYamlObjects,
  type RunTestOptions,
  runKyvernoTest,
  type TestRow,
  type TestRunResult,
} from './apply/test-runner.js';

// Policy reports
export { type ApplyReport, buildMergedReport, type PolicyReport, type PolicyReportResult, type ReportOptions } from './report/report.js';

// Images in a resource
export { extractImages, listImages } from './resource/images.js';
