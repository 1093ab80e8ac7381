/**
 * @vouch/kyverno — Kyverno ClusterPolicy/Policy `verifyImages` (types Notary, Cosign and SigstoreBundle) evaluation: policy parsing
 * with CRD defaults and source positions, match/exclude, autogen, image extraction and normalization,
 * signature and attestation checks over an injected verifier, AdmissionReview handling, policy reports
 * and the `kyverno-test.yaml` runner. Runs in any JavaScript runtime (no Node APIs).
 *
 * The source is arranged by job: `policy/` (parse, validate, defaults, autogen, exceptions, what vouch
 * evaluates), `match/` (match/exclude, kinds, wildcards, validate patterns), `resource/` (images, JSON
 * patches, verify-images annotations), `variables/` (JMESPath, `{{ }}` variables, conditions),
 * `verifier/` (the verifier interfaces, the notation-backed one and the cosign/Sigstore one), `engine/` (the two admission
 * phases), `admission/`, `apply/` (`kyverno apply|test`), `report/` and `background/` (the scan).
 */
export {
  type AdmissionOptions,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReview,
  blockedMessage,
  handleAdmissionReview,
  isBlocked,
} from './admission/admission.js';
export { type APIResource, type ApplyOptions, applyPolicies, type KyvernoValues, type ResourceResult } from './apply/apply.js';
export {
  type KyvernoTestFile,
  parseKyvernoTest,
  parseYamlObjects,
  type RunTestOptions,
  runKyvernoTest,
  type TestResultSpec,
  type TestRow,
  type TestRunResult,
} from './apply/test-runner.js';
export {
  type BuildReportOptions,
  backgroundPolicies,
  backgroundRequest,
  buildScanReport,
  type ContainerImage,
  containerImages,
  fingerprintsDiffer,
  isBackgroundPolicy,
  policyFingerprints,
  REPORT_MANAGED_BY,
  REPORT_RESOURCE_UID_LABEL,
  type ResourceRef,
  type ResourceScan,
  reportChanged,
  reportName,
  resourceRef,
  resultKey,
  type ScanOptions,
  type ScanReport,
  type ScanResult,
  sameResult,
  scanInputFingerprint,
  scannedKinds,
  scanResource,
  WORKLOAD_KINDS,
  type WorkloadKind,
  workloadApiVersion,
} from './background/background.js';
export { createKyvernoEngine, evaluateResource, validateResource, verifyAndPatchImages } from './engine/engine.js';
export { policyFailurePolicy, ruleFailureAction } from './engine/failure.js';
export type {
  ContextLoader,
  EngineRequest,
  EvaluationResult,
  KyvernoEngine,
  KyvernoEngineOptions,
  VerifyImagesResult,
} from './engine/types.js';
export { checkKind, type GroupVersionKind, getKindFromGVK, type KindSelector, parseKindSelector, splitApiVersion } from './match/kinds.js';
export {
  checkAnnotations,
  checkName,
  checkNamespace,
  checkSelector,
  checkSubjects,
  type MatchInput,
  type MatchResult,
  matchRule,
  resourceGVK,
  ruleMatchesInput,
} from './match/match.js';
export { matchPattern, type PatternResult } from './match/pattern.js';
export { containsWildcard, matchesAny, wildcardMatch } from './match/wildcard.js';
export {
  AUTOGEN_ANNOTATION,
  autogenControllers,
  autogenRuleName,
  canAutoGen,
  computeRules,
  generateAutogenRules,
  isAutogenRuleName,
  POD_CONTROLLERS,
  policyRules,
  rewriteFields,
} from './policy/autogen.js';
export { exceptionCovers, parsePolicyExceptions, policyExceptionFromObject, policyExceptionKey } from './policy/exceptions.js';
export { policyKey } from './policy/key.js';
export { type ParsePolicyOptions, parsePolicies, policyFromObject } from './policy/parse.js';
export {
  assertSupported,
  findUnsupported,
  formatConstructPath,
  KYVERNO_SUPPORT,
  type KyvernoConstruct,
  type UnsupportedConstruct,
  unsupportedInRule,
  unsupportedRuleMessage,
  unsupportedValidateFeatures,
} from './policy/support.js';
export {
  type ApplyReport,
  buildApplyReports,
  buildMergedReport,
  buildPolicyReports,
  type PolicyReport,
  type PolicyReportResult,
  type ReportOptions,
  toReportResult,
} from './report/report.js';
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
} from './resource/images.js';
export { applyJsonPatch } from './resource/jsonpatch.js';
export {
  addImageVerification,
  type ImageVerificationMetadata,
  type ImageVerificationStatus,
  imageMetadataPatches,
  isImageVerified,
  isImageVerifiedForPolicy,
  type JsonPatchOperation,
  mergeImageVerification,
  newImageVerificationMetadata,
  parseImageMetadata,
  scopedAnnotation,
  VERIFY_IMAGES_ANNOTATION,
  VERIFY_IMAGES_SCOPED_ANNOTATION,
} from './resource/metadata.js';
export type {
  Attestation,
  Attestor,
  AttestorSet,
  CertificateAttestor,
  ContextEntry,
  FailureActionOverride,
  ImageVerification,
  KubeObject,
  KyvernoPolicy,
  LabelSelector,
  MatchResources,
  PolicyException,
  PolicyMetadata,
  PolicyResponse,
  PolicySpec,
  RequestInfo,
  ResourceDescription,
  ResourceFilter,
  Rule,
  RuleResponse,
  RuleStatus,
  RuleType,
  Subject,
} from './types.js';
export { createJmesEngine, type JmesEngine } from './variables/jmespath.js';
export {
  type Condition,
  type ConditionBlock,
  type ConditionsResult,
  evaluateCondition,
  evaluateConditions,
  hasVariables,
  type SubstituteOptions,
  substituteVariables,
} from './variables/variables.js';
export {
  type CachedOutcome,
  createVerificationCache,
  isInconclusive,
  type VerificationCache,
  type VerificationCacheOptions,
} from './verifier/cache.js';
export {
  type CosignImageVerifier,
  type CosignImageVerifierOptions,
  type CosignKeyRequest,
  certificateMismatch,
  cosignImageVerifier,
} from './verifier/cosign.js';
export {
  type CosignAttestorMaterial,
  type CosignSignerForm,
  cosignAttestorMaterial,
  expandStaticKeys,
  splitPem,
} from './verifier/cosign-material.js';
export { type NotationImageVerifierOptions, notationImageVerifier } from './verifier/notary.js';
export {
  combineNotaryCertificates,
  isInfrastructureError,
  kyvernoNotaryTrustPolicy,
  matchesArtifactType,
  materialKey,
  type NotaryAttestation,
  type NotaryAttestationRequest,
  type NotaryAttestorMaterial,
  type NotaryImageVerifier,
  type NotaryVerifyRequest,
} from './verifier/verifier.js';
