/**
 * What an engine derives once and reuses across reviews. Policies are treated as immutable, so
 * results keyed by a policy, a rule or one of their lists stay valid for the engine's life. The
 * caches keyed by request data (image strings, annotation texts, patches) are bounded, and the last
 * value is kept where warm reviews of one workload ask the same question again and again.
 */

import { utf8 } from '@vouch/core';
import { toBase64 } from '@vouch/core/internal';
import { checkKind, type GroupVersionKind } from '../match/kinds.js';
import { matchesAny } from '../match/wildcard.js';
import { policyRules } from '../policy/autogen.js';
import { policyNamespace } from '../policy/key.js';
import { getImageInfo, type ImageInfo } from '../resource/images.js';
import { type ImageVerificationMetadata, imageMetadataPatches, type JsonPatchOperation, parseImageMetadata } from '../resource/metadata.js';
import type { Attestor, AttestorSet, ImageVerification, KyvernoPolicy, PolicyException, Rule, RuleResponse } from '../types.js';
import type { JmesEngine } from '../variables/jmespath.js';
import { hasVariables, substituteVariables } from '../variables/variables.js';
import type { VerificationCache } from '../verifier/cache.js';
import { AnswerMemo, answerMemoEligible } from './answers.js';
import { type AttestorType, attestorTypes } from './attestors.js';
import { ruleResponse } from './responses.js';
import type { KyvernoEngineOptions, UnsupportedUse } from './types.js';

/**
 * The kinds a rule's match blocks require: a block with a non-empty `kinds` list that rejects the
 * request's GVK never matches, so the rule cannot match when one (`any`, inline) / every (`all`) such
 * block rejects it. `undefined` entries are blocks without kinds (they may match anything).
 */
interface KindGate {
  all: boolean;
  blocks: (readonly string[] | undefined)[];
  /** The last GVK/subresource asked about and its answer (requests mostly repeat the same kind). */
  last?: { group: string; version: string; kind: string; subresource: string; result: boolean };
}

function kindGateOf(rule: Rule): KindGate {
  const match = rule.match ?? {};
  const kindsOf = (f: { resources?: { kinds?: string[] } } | undefined) => {
    const k = f?.resources?.kinds;
    return Array.isArray(k) && k.length > 0 ? k : undefined;
  };
  if (match.any && match.any.length > 0) return { all: false, blocks: match.any.map(kindsOf) };
  if (match.all && match.all.length > 0) return { all: true, blocks: match.all.map(kindsOf) };
  return { all: false, blocks: [kindsOf(match)] };
}

/** A patch op as remembered for {@link EngineState.patchBase64}: the value itself when a string, else its JSON text. */
interface PatchKey {
  op: string;
  path: string;
  value: string | undefined;
  json: boolean;
}

function patchKey(p: { op: string; path: string; value?: unknown }): PatchKey {
  const json = typeof p.value !== 'string';
  return { op: p.op, path: p.path, value: json ? JSON.stringify(p.value) : (p.value as string), json };
}

/** The signature cache keys of one attestor entry on one image. */
interface SignatureKeys {
  image: string;
  trustPolicy: unknown;
  key: string;
  /** The digest the image verified with, and the key of its digest form. */
  digest?: string;
  byDigest?: string;
}

/** `registry/path@digest` for a tag reference `registry/path:tag` (undefined when already by digest). */
function digestForm(image: string, digest: string | undefined): string | undefined {
  if (!digest || image.includes('@')) return undefined;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const repo = colon > slash ? image.slice(0, colon) : image;
  return `${repo}@${digest}`;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * An engine's private state (the `#state` of the engine object): its configuration, what it decided
 * at creation (exceptions and unsupported constructs per rule, the attestor types), and the memos.
 */
export class EngineState {
  readonly policies: readonly KyvernoPolicy[];
  readonly options: KyvernoEngineOptions;
  readonly jmes: JmesEngine;
  /** The cross-review verification cache. */
  readonly cache: VerificationCache;
  /** The verifyImages types the engine evaluates (see attestors.ts). */
  readonly attestorTypes: ReadonlyMap<string, AttestorType>;
  /** The PolicyExceptions naming each rule (absent without exceptions). */
  exceptions?: Map<Rule, PolicyException[]>;
  /** Mode `fail` only: the rules using a construct vouch does not evaluate. */
  unsupported?: Map<Rule, UnsupportedUse[]>;

  readonly #rules = new WeakMap<KyvernoPolicy, Rule[]>();
  readonly #kindGates = new WeakMap<Rule, KindGate>();
  /** Rules whose `verifyImages` hold no `{{ }}` variable (substitution would only copy them). */
  readonly #constantImageVerifications = new WeakMap<Rule, boolean>();
  /** Rules whose phase-1 evaluation reads the JSON context (context entries, preconditions, variables, attestations). */
  readonly #needsContext = new WeakMap<Rule, boolean>();
  readonly #selectionKeys = new WeakMap<Rule, string>();
  readonly #scopedKeys = new WeakMap<KyvernoPolicy, string>();
  /** Wildcard results per pattern list (a rule's own `imageReferences` arrays) and image string. */
  readonly #refMatches = new WeakMap<readonly string[], Map<string, boolean>>();
  /** Parsed image references by image string (the engine's imageConfig). */
  readonly imageInfos = new Map<string, ImageInfo>();
  /** Attestor material per attestor entry. */
  readonly #materials = new WeakMap<object, object>();
  /** The entries of each attestor set as its type counts them (Cosign splits multi-key entries). */
  readonly #setEntries = new WeakMap<AttestorSet, readonly Attestor[]>();
  /** identity texts → … → material key (nested so that no long key string is built per lookup). */
  #materialKeys = new Map<string, unknown>();
  #materialCount = 0;
  /** Per attestor entry and image: the signature cache keys built (trust policy, key; digest and the key by digest). */
  readonly #signatureKeys = new WeakMap<object, Map<string, SignatureKeys>>();
  /** The frozen `image verified` phase-2 response per rule name. */
  readonly #verified = new Map<string, RuleResponse>();
  /** The last review's verify-images annotation ops and the outcome records they encode. */
  #lastAnnotations?: { records: string[]; hasAnnotations: boolean; ops: JsonPatchOperation[] };
  /** The last scoped verify-images annotation text read in phase 2 and its parsed form. */
  #lastScoped?: { raw: string; parsed: ImageVerificationMetadata };
  /** The last admission patch and its base64 (warm reviews of one workload repeat the same patch). */
  #lastPatch?: { ops: PatchKey[]; base64: string };
  /** The admission answer memo by review shape (see answers.ts). */
  readonly answers = new AnswerMemo();
  #answersEligible?: boolean;

  constructor(config: { policies: readonly KyvernoPolicy[]; options: KyvernoEngineOptions; jmes: JmesEngine; cache: VerificationCache }) {
    this.policies = config.policies;
    this.options = config.options;
    this.jmes = config.jmes;
    this.cache = config.cache;
    this.attestorTypes = attestorTypes(config.options);
  }

  /** True when the answer memo may serve this engine's reviews (see answers.ts), decided once. */
  get answersEligible(): boolean {
    this.#answersEligible ??= answerMemoEligible(this);
    return this.#answersEligible;
  }

  /** `policyRules(policy)`, computed once per policy. */
  rulesOf(policy: KyvernoPolicy): Rule[] {
    let r = this.#rules.get(policy);
    if (!r) {
      r = policyRules(policy);
      this.#rules.set(policy, r);
    }
    return r;
  }

  /** False only when the rule's kinds rule out the GVK (then matching the rule would fail too). */
  kindsMayMatch(rule: Rule, gvk: GroupVersionKind, subresource: string): boolean {
    let gate = this.#kindGates.get(rule);
    if (!gate) {
      gate = kindGateOf(rule);
      this.#kindGates.set(rule, gate);
    }
    const last = gate.last;
    if (last && last.kind === gvk.kind && last.group === gvk.group && last.version === gvk.version && last.subresource === subresource) {
      return last.result;
    }
    let result: boolean;
    if (gate.all) {
      result = true;
      for (const k of gate.blocks) {
        if (k && !checkKind(k, gvk, subresource, true)) {
          result = false;
          break;
        }
      }
    } else {
      result = false;
      for (const k of gate.blocks) {
        if (!k || checkKind(k, gvk, subresource, true)) {
          result = true;
          break;
        }
      }
    }
    gate.last = { group: gvk.group, version: gvk.version, kind: gvk.kind, subresource, result };
    return result;
  }

  /** The rule's verifyImages entries with variables substituted (the rule's own entries when there are none: read only). */
  imageVerificationsOf(rule: Rule, ctx: Record<string, unknown>): ImageVerification[] {
    const list = rule.verifyImages ?? [];
    let constant = this.#constantImageVerifications.get(rule);
    if (constant === undefined) {
      constant = !hasVariables(list);
      this.#constantImageVerifications.set(rule, constant);
    }
    if (constant) return list;
    return substituteVariables(list, ctx, this.jmes, { skipKeys: ['conditions', 'deny'] }) as ImageVerification[];
  }

  /** `matchesAny(patterns, img)`, memoized per pattern list (rules are immutable; substituted lists are new arrays). */
  matchRefs(patterns: readonly string[] | undefined, img: string): boolean {
    if (!patterns || patterns.length === 0) return false;
    let byImg = this.#refMatches.get(patterns);
    if (!byImg) this.#refMatches.set(patterns, (byImg = new Map()));
    let r = byImg.get(img);
    if (r === undefined) {
      r = matchesAny(patterns, img);
      if (byImg.size >= 256) byImg.clear();
      byImg.set(img, r);
    }
    return r;
  }

  /** True when phase 1 of `rule` reads the JSON context (else building it would be wasted work). */
  needsContext(rule: Rule): boolean {
    let v = this.#needsContext.get(rule);
    if (v === undefined) {
      const list = rule.verifyImages ?? [];
      v =
        (rule.context?.length ?? 0) > 0 ||
        rule.preconditions !== undefined ||
        (this.exceptions?.get(rule)?.some((e) => e.spec.conditions !== undefined) ?? false) ||
        hasVariables(list) ||
        list.some((iv) => (iv.attestations?.length ?? 0) > 0 || iv.validate !== undefined);
      this.#needsContext.set(rule, v);
    }
    return v;
  }

  /** The part of a rule the image selection depends on: its image reference patterns. */
  selectionKey(rule: Rule): string {
    let k = this.#selectionKeys.get(rule);
    if (k === undefined) {
      k = JSON.stringify((rule.verifyImages ?? []).map((iv) => iv.imageReferences ?? (typeof iv.image === 'string' ? [iv.image] : [])));
      this.#selectionKeys.set(rule, k);
    }
    return k;
  }

  /** `getImageInfo(image)` with the engine's imageConfig, kept by image string. */
  imageInfo(image: string): ImageInfo {
    let info = this.imageInfos.get(image);
    if (!info) {
      info = getImageInfo(image, this.options.imageConfig ?? {});
      if (this.imageInfos.size >= 1024) this.imageInfos.clear();
      this.imageInfos.set(image, info);
    }
    return info;
  }

  /** `<policy namespace>/<policy name>`: the policy's key in the scoped verify-images annotation. */
  scopedKey(policy: KyvernoPolicy): string {
    let k = this.#scopedKeys.get(policy);
    if (k === undefined) {
      k = `${policyNamespace(policy)}/${policy.metadata.name}`;
      this.#scopedKeys.set(policy, k);
    }
    return k;
  }

  /**
   * An attestor entry's material (one frozen object per entry: policies are immutable, and an entry
   * object belongs to one verifyImages entry `iv`).
   */
  materialOf<M extends object>(type: AttestorType<M>, entry: Attestor, iv: ImageVerification): M {
    let v = this.#materials.get(entry) as M | undefined;
    if (!v) {
      v = Object.freeze(type.material(entry, iv));
      this.#materials.set(entry, v);
    }
    return v;
  }

  /** `type.entries(set)`, once per set (the split entries keep their identity across reviews). */
  entriesOf(type: AttestorType, set: AttestorSet): readonly Attestor[] {
    let v = this.#setEntries.get(set);
    if (!v) {
      v = type.entries(set);
      this.#setEntries.set(set, v);
    }
    return v;
  }

  /** `type.key(material, trustPolicy)`, memoized by the material's identity (hashing the PEM text on every image would dominate warm reviews). */
  materialKeyOf<M extends object>(type: AttestorType<M>, material: M, trustPolicy: unknown): string {
    if (trustPolicy !== undefined) return type.key(material, trustPolicy);
    if (this.#materialCount >= 1024) {
      this.#materialKeys = new Map();
      this.#materialCount = 0;
    }
    const parts = type.identity(material);
    let level = this.#materialKeys.get(type.name) as Map<string, unknown> | undefined;
    if (!level) this.#materialKeys.set(type.name, (level = new Map()));
    for (let i = 0; i < parts.length - 1; i++) {
      let next = level.get(parts[i]!) as Map<string, unknown> | undefined;
      if (!next) level.set(parts[i]!, (next = new Map()));
      level = next;
    }
    const last = parts[parts.length - 1] ?? '';
    let k = level.get(last) as string | undefined;
    if (k === undefined) {
      k = type.key(material, trustPolicy);
      level.set(last, k);
      this.#materialCount++;
    }
    return k;
  }

  /** The cache key of an attestor entry's signature check on `image` (kept per entry and image: reviews repeat images). */
  signatureKey(type: AttestorType, entry: Attestor, iv: ImageVerification, image: string, trustPolicy: unknown): string {
    return this.#signatureKeysOf(type, entry, iv, image, trustPolicy).key;
  }

  /**
   * The cache key of the same check on the digest form `registry/path@digest` of a tag `image` that
   * verified with `digest` (undefined when `image` is already by digest); kept with {@link signatureKey}.
   */
  signatureKeyByDigest(
    type: AttestorType,
    entry: Attestor,
    iv: ImageVerification,
    image: string,
    trustPolicy: unknown,
    digest: string,
  ): string | undefined {
    const keys = this.#signatureKeysOf(type, entry, iv, image, trustPolicy);
    if (keys.digest !== digest) {
      const byDigest = digestForm(image, digest);
      keys.digest = digest;
      keys.byDigest = byDigest && `sig|${byDigest}|${this.materialKeyOf(type, this.materialOf(type, entry, iv), trustPolicy)}`;
    }
    return keys.byDigest;
  }

  #signatureKeysOf(type: AttestorType, entry: Attestor, iv: ImageVerification, image: string, trustPolicy: unknown): SignatureKeys {
    // kept per image: a review of several images asks for each in turn, and the same key string
    // (its hash computed once) is then looked up in the caches review after review
    let byImage = this.#signatureKeys.get(entry);
    if (!byImage) this.#signatureKeys.set(entry, (byImage = new Map()));
    const known = byImage.get(image);
    if (known && known.trustPolicy === trustPolicy) return known;
    const key = `sig|${image}|${this.materialKeyOf(type, this.materialOf(type, entry, iv), trustPolicy)}`;
    const keys: SignatureKeys = { image, trustPolicy, key };
    if (byImage.size >= 256) byImage.clear();
    byImage.set(image, keys);
    return keys;
  }

  /**
   * `imageMetadataPatches` for a review's outcome records (flat: policy key, rule, image, status, …).
   * Warm reviews of the same workload record the same outcomes: the last serialization is reused when
   * the records are equal, element by element.
   */
  annotationPatches(records: readonly string[], ivm: ImageVerificationMetadata, hasAnnotations: boolean): JsonPatchOperation[] {
    const last = this.#lastAnnotations;
    let ops: JsonPatchOperation[];
    if (last && last.hasAnnotations === hasAnnotations && sameStrings(last.records, records)) ops = last.ops;
    else {
      ops = imageMetadataPatches(ivm, hasAnnotations);
      this.#lastAnnotations = { records: records.slice(), hasAnnotations, ops };
    }
    // fresh op objects for the caller (values are strings, or the `{}` of an `add /metadata/annotations`)
    return ops.map((o) => ({ op: o.op, path: o.path, value: typeof o.value === 'string' ? o.value : {} }));
  }

  /** `parseImageMetadata(raw)` for a scoped annotation text; the same text comes back review after review (the result is only read). */
  scopedAnnotation(raw: string): ImageVerificationMetadata {
    const last = this.#lastScoped;
    if (last?.raw === raw) return last.parsed;
    const parsed = parseImageMetadata(raw);
    this.#lastScoped = { raw, parsed };
    return parsed;
  }

  /** The plain `image verified` phase-2 response of a rule: the same for every review, one frozen object per rule name. */
  verifiedResponse(ruleName: string): RuleResponse {
    let r = this.#verified.get(ruleName);
    if (!r) {
      r = Object.freeze(ruleResponse(ruleName, 'Validation', 'pass', 'image verified'));
      if (this.#verified.size >= 4096) this.#verified.clear();
      this.#verified.set(ruleName, r);
    }
    return r;
  }

  /** The base64 JSON text of `patches`, reused from the last review when every op is equal (op, path, value). */
  patchBase64(patches: readonly { op: string; path: string; value?: unknown }[]): string {
    const last = this.#lastPatch;
    if (last && last.ops.length === patches.length) {
      let same = true;
      for (let i = 0; i < patches.length && same; i++) {
        const a = last.ops[i]!;
        const b = patches[i]!;
        if (a.op !== b.op || a.path !== b.path) same = false;
        else if (typeof b.value === 'string') same = !a.json && a.value === b.value;
        else same = a.json && a.value === JSON.stringify(b.value);
      }
      if (same) return last.base64;
    }
    const base64 = toBase64(utf8(JSON.stringify(patches)));
    this.#lastPatch = { ops: patches.map(patchKey), base64 };
    return base64;
  }
}
