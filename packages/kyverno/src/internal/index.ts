/**
 * `@vouch/kyverno/internal`: what vouch's own packages and suites share beyond the public API —
 * the background scan the controller runs (`@vouch/node/controller`), the report and failure-policy
 * helpers of the CLI, and the engine pieces the Kyverno conformance cases exercise one by one.
 *
 * For vouch's own packages: this subpath is not part of the public API and may change in any
 * release.
 *
 * @packageDocumentation
 */

// Background scan (the controller)
export {
  backgroundPolicies,
  buildScanReport,
  type ContainerImage,
  containerImages,
  fingerprintsDiffer,
  policyFingerprints,
  REPORT_MANAGED_BY,
  REPORT_RESOURCE_UID_LABEL,
  type ResourceRef,
  type ResourceScan,
  reportChanged,
  reportName,
  type ScanOptions,
  type ScanReport,
  type ScanResult,
  scanInputFingerprint,
  scannedKinds,
  scanResource,
  WORKLOAD_KINDS,
  type WorkloadKind,
  workloadApiVersion,
} from '../background/background.js';
export { policyKey } from '../policy/key.js';
export { type CachedOutcome, isInconclusive } from '../verifier/cache.js';
export { cosignAttestorMaterial } from '../verifier/cosign-material.js';
export {
  combineNotaryCertificates,
  kyvernoNotaryTrustPolicy,
  matchesArtifactType,
  materialKey,
  type NotaryAttestorMaterial,
} from '../verifier/verifier.js';

// The webhook's warm path (the CLI)
export { admissionAnswer } from '../admission/admission.js';

// Reports, exceptions and failure policies (the CLI)
export { buildApplyReports, buildPolicyReports, toReportResult } from '../report/report.js';
export { policyExceptionFromObject } from '../policy/exceptions.js';
export { policyFailurePolicy, ruleFailureAction } from '../engine/failure.js';

// Engine pieces (the Kyverno conformance cases)
export { evaluateResource, verifyAndPatchImages } from '../engine/engine.js';
export { checkKind, getKindFromGVK, parseKindSelector } from '../match/kinds.js';
export { checkAnnotations, checkName, checkNamespace, checkSelector, checkSubjects, matchRule } from '../match/match.js';
export { matchesAny, wildcardMatch } from '../match/wildcard.js';
export {
  autogenRuleName,
  canAutoGen,
  computeRules,
  generateAutogenRules,
  isAutogenRuleName,
  POD_CONTROLLERS,
  policyRules,
  rewriteFields,
} from '../policy/autogen.js';
export { assertSupported, unsupportedValidateFeatures } from '../policy/support.js';
export { addDefaultRegistry, getImageInfo } from '../resource/images.js';
export { applyJsonPatch } from '../resource/jsonpatch.js';
export {
  imageMetadataPatches,
  isImageVerified,
  isImageVerifiedForPolicy,
  mergeImageVerification,
  parseImageMetadata,
} from '../resource/metadata.js';
export { createJmesEngine } from '../variables/jmespath.js';
