import type { ImageExtractorConfig } from './resource/images.js';
import type { ConditionBlock } from './variables/variables.js';

/** Kubernetes label selector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** RBAC subject (User, Group, ServiceAccount). */
export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

/** `resources` of a match/exclude filter. */
export interface ResourceDescription {
  kinds?: string[];
  /** Deprecated single name. */
  name?: string;
  names?: string[];
  namespaces?: string[];
  annotations?: Record<string, string>;
  selector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  operations?: string[];
}

/** One match/exclude filter (resources + user info). */
export interface ResourceFilter {
  resources?: ResourceDescription;
  subjects?: Subject[];
  roles?: string[];
  clusterRoles?: string[];
}

/** `match` / `exclude`: `any` XOR `all`, or the deprecated inline form (v1). */
export interface MatchResources extends ResourceFilter {
  any?: ResourceFilter[];
  all?: ResourceFilter[];
}

/** `certificates` of an attestor entry. */
export interface CertificateAttestor {
  /** PEM certificate (a trust anchor for type Notary). */
  cert?: string;
  /** PEM bundle (more trust anchors / chain for type Notary). */
  certChain?: string;
  /** vouch extension: PEM bundle of trusted TSA roots; enables RFC 3161 timestamp checks for type Notary. */
  tsaCertChain?: string;
  rekor?: unknown;
  ctlog?: unknown;
}

/** One attestor entry. Exactly one of `keys`, `certificates`, `keyless`, `attestor`. */
export interface Attestor {
  keys?: Record<string, unknown>;
  certificates?: CertificateAttestor;
  keyless?: Record<string, unknown>;
  attestor?: AttestorSet;
  annotations?: Record<string, string>;
  repository?: string;
  signatureAlgorithm?: string;
}

/** A set of attestors; `count` of them must verify (all when unset or 0). Sets are ANDed. */
export interface AttestorSet {
  count?: number;
  entries: Attestor[];
}

/** `verifyImages[].attestations[]`. */
export interface Attestation {
  name?: string;
  type?: string;
  /** Deprecated alias of `type`. */
  predicateType?: string;
  attestors?: AttestorSet[];
  conditions?: ConditionBlock[];
}

/** `verifyImages[]` (ImageVerification) with CRD defaults applied. */
export interface ImageVerification {
  type?: 'Cosign' | 'SigstoreBundle' | 'Notary';
  failureAction?: 'Audit' | 'Enforce';
  imageReferences: string[];
  skipImageReferences?: string[];
  attestors?: AttestorSet[];
  attestations?: Attestation[];
  repository?: string;
  mutateDigest: boolean;
  verifyDigest: boolean;
  required: boolean;
  useCache: boolean;
  imageRegistryCredentials?: { allowInsecureRegistry?: boolean; providers?: string[]; secrets?: string[] };
  validate?: { message?: string; deny?: { conditions?: ConditionBlock } };
  [deprecated: string]: unknown;
}

/** A rule `context` entry. */
export interface ContextEntry {
  name: string;
  configMap?: { name: string; namespace?: string };
  apiCall?: Record<string, unknown>;
  variable?: { value?: unknown; jmesPath?: string; default?: unknown };
  imageRegistry?: Record<string, unknown>;
  globalReference?: Record<string, unknown>;
}

/** One policy rule. */
export interface Rule {
  name: string;
  context?: ContextEntry[];
  match: MatchResources;
  exclude?: MatchResources;
  preconditions?: ConditionBlock;
  celPreconditions?: unknown[];
  imageExtractors?: Record<string, ImageExtractorConfig[]>;
  verifyImages?: ImageVerification[];
  validate?: Record<string, unknown>;
  mutate?: Record<string, unknown>;
  generate?: Record<string, unknown>;
  skipBackgroundRequests?: boolean;
  reportProperties?: Record<string, string>;
}

/** `spec.validationFailureActionOverrides[]`. */
export interface FailureActionOverride {
  action?: string;
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
}

/** Policy `spec` with CRD defaults applied. */
export interface PolicySpec {
  rules: Rule[];
  applyRules?: 'All' | 'One';
  validationFailureAction: string;
  validationFailureActionOverrides?: FailureActionOverride[];
  failurePolicy?: 'Fail' | 'Ignore';
  webhookTimeoutSeconds?: number;
  webhookConfiguration?: { failurePolicy?: 'Fail' | 'Ignore'; timeoutSeconds?: number; matchConditions?: unknown[] };
  admission: boolean;
  background: boolean;
  emitWarning: boolean;
  [other: string]: unknown;
}

/** Object metadata of a policy. */
export interface PolicyMetadata {
  name: string;
  namespace?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  [other: string]: unknown;
}

/** A Kyverno `ClusterPolicy` or `Policy` (kyverno.io/v1 or v2beta1). */
export interface KyvernoPolicy {
  apiVersion: string;
  kind: 'ClusterPolicy' | 'Policy';
  metadata: PolicyMetadata;
  spec: PolicySpec;
  status?: unknown;
}

/**
 * A Kyverno `PolicyException` (kyverno.io/v2, v2beta1 or v2alpha1): the rules it names
 * (`exceptions[].policyName` = policy key, `ruleNames` = wildcard patterns) are skipped for the
 * resources its `match` (and `conditions`) select.
 */
export interface PolicyException {
  apiVersion: string;
  kind: 'PolicyException';
  metadata: { name: string; namespace?: string; [other: string]: unknown };
  spec: {
    exceptions: { policyName: string; ruleNames: string[] }[];
    match: MatchResources;
    conditions?: ConditionBlock;
    background?: boolean;
    podSecurity?: unknown[];
    [other: string]: unknown;
  };
}

/** A Kubernetes object (loosely typed). */
export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
};

/** Request user info (AdmissionReview `userInfo` + RBAC roles resolved by the caller). */
export interface RequestInfo {
  roles?: string[];
  clusterRoles?: string[];
  userInfo?: { username?: string; uid?: string; groups?: string[] };
}

/** Engine rule statuses. */
export type RuleStatus = 'pass' | 'fail' | 'warning' | 'error' | 'skip';

/** Engine rule types. */
export type RuleType = 'Mutation' | 'Validation' | 'Generation' | 'ImageVerify';

/** One rule response (a rule may emit several: per image, per entry, per phase). */
export interface RuleResponse {
  name: string;
  type: RuleType;
  status: RuleStatus;
  message: string;
  /** Whether Kyverno would surface it as an admission warning. */
  emitWarning?: boolean;
  /** Structured cause (the verifier's VouchError, JSON form) when there is one. */
  details?: Record<string, unknown>;
  /**
   * Set on an `error` caused by the infrastructure (network, timeout, deadline): only such errors
   * are decided by the policy's failurePolicy. Any other `error` (a missing context value, a bad
   * JMESPath expression, a bug) also blocks under Enforce, whatever the failurePolicy.
   */
  infrastructure?: boolean;
  /**
   * The image this response is about (normalized, as in the message: `registry/path:tag` or
   * `registry/path@digest`) when it is about one image; rule-level responses (context, preconditions) have none.
   */
  image?: string;
}

/** All rule responses of one policy for one resource. */
export interface PolicyResponse {
  policy: KyvernoPolicy;
  resource: KubeObject;
  rules: RuleResponse[];
}
