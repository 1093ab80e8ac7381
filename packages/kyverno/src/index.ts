/**
 * @vouch/kyverno — Kyverno ClusterPolicy/Policy `verifyImages` (type Notary) evaluation: policy parsing
 * with CRD defaults and source positions, match/exclude, autogen, image extraction and normalization,
 * signature and attestation checks over an injected verifier, AdmissionReview handling, policy reports
 * and the `kyverno-test.yaml` runner. Runs in any JavaScript runtime (no Node APIs).
 */
export * from './admission.js';
export * from './apply.js';
export * from './autogen.js';
export * from './background.js';
export {
  type ContextLoader,
  createKyvernoEngine,
  type EngineRequest,
  type EvaluationResult,
  evaluateResource,
  type KyvernoEngine,
  type KyvernoEngineOptions,
  policyFailurePolicy,
  policyRules,
  ruleFailureAction,
  scopedAnnotation,
  unsupportedValidateFeatures,
  type VerifyImagesResult,
  validateResource,
  verifyAndPatchImages,
} from './engine.js';
export * from './exceptions.js';
export {
  addDefaultRegistry,
  type ExtractedImages,
  extractImages,
  getImageInfo,
  type ImageConfig,
  type ImageExtractorConfig,
  type ImageInfo,
  imageInfoString,
  listImages,
} from './images.js';
export { createJmesEngine, type JmesEngine } from './jmespath.js';
export { applyJsonPatch } from './jsonpatch.js';
export * from './kinds.js';
export * from './match.js';
export * from './metadata.js';
export { type NotationImageVerifierOptions, notationImageVerifier } from './notary-verifier.js';
export { matchPattern, type PatternResult } from './pattern.js';
export * from './policy.js';
export * from './support.js';
export * from './types.js';
export * from './variables.js';
export * from './verifier.js';
export * from './wildcard.js';
