/**
 * @vouch/kyverno — Kyverno ClusterPolicy/Policy `verifyImages` (type Notary) evaluation: policy parsing
 * with CRD defaults and source positions, match/exclude, autogen, image extraction and normalization,
 * signature and attestation checks over an injected verifier, AdmissionReview handling, policy reports
 * and the `kyverno-test.yaml` runner. Runs in any JavaScript runtime (no Node APIs).
 */
export * from './admission.js';
export * from './apply.js';
export * from './autogen.js';
export {
  type ContextLoader,
  type EngineRequest,
  type EvaluationResult,
  type KyvernoEngine,
  type KyvernoEngineOptions,
  type VerifyImagesResult,
  createKyvernoEngine,
  evaluateResource,
  policyFailurePolicy,
  policyRules,
  ruleFailureAction,
  scopedAnnotation,
  unsupportedValidateFeatures,
  validateResource,
  verifyAndPatchImages,
} from './engine.js';
export * from './images.js';
export { type JmesEngine, createJmesEngine } from './jmespath.js';
export { applyJsonPatch } from './jsonpatch.js';
export * from './kinds.js';
export * from './match.js';
export * from './metadata.js';
export { type PatternResult, matchPattern } from './pattern.js';
export * from './policy.js';
export * from './types.js';
export * from './variables.js';
export * from './verifier.js';
export * from './wildcard.js';
