import { createKyvernoEngine, extractImages, policyFromObject } from '@vouch/kyverno';
import {
  addDefaultRegistry,
  autogenRuleName,
  canAutoGen,
  checkAnnotations,
  checkKind,
  checkName,
  checkNamespace,
  checkSelector,
  checkSubjects,
  combineNotaryCertificates,
  computeRules,
  createJmesEngine,
  getImageInfo,
  getKindFromGVK,
  imageMetadataPatches,
  isAutogenRuleName,
  isImageVerified,
  isImageVerifiedForPolicy,
  kyvernoNotaryTrustPolicy,
  matchesAny,
  matchesArtifactType,
  matchRule,
  mergeImageVerification,
  POD_CONTROLLERS,
  parseImageMetadata,
  parseKindSelector,
  rewriteFields,
  verifyAndPatchImages,
  wildcardMatch,
} from '@vouch/kyverno/internal';
import type { CaseWorld } from './recreated-images.js';
import { assertEqual, assertTrue, subsetMismatch } from './util.js';

// biome-ignore lint/suspicious/noExplicitAny: upstream JSON tables are untyped
type Json = Record<string, any>;

/** One runnable row: either `run` or a `skip` reason. */
export interface CaseRow {
  name: string;
  skip?: string;
  run?: () => void | Promise<void>;
}

const IMAGE_FIELDS = [
  'registry',
  'name',
  'path',
  'tag',
  'digest',
  'reference',
  'referenceWithTag',
  'jsonPointer',
  'imagePullSecrets',
] as const;

function normImage(v: Json): Json {
  const o: Json = {};
  for (const f of IMAGE_FIELDS) o[f] = v[f] ?? (f === 'imagePullSecrets' ? [] : '');
  return o;
}

function throws(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch {
    return true;
  }
}

function wildcardRows(t: Json): CaseRow[] {
  return t.cases.map((c: Json, i: number) => ({
    name: `${i} ${c.name}`,
    run: () => assertEqual(wildcardMatch(c.pattern, c.text), c.matched, `wildcardMatch(${c.pattern}, ${c.text})`),
  }));
}

function imageInfoRows(t: Json): CaseRow[] {
  return t.cases.map((c: Json, i: number) => ({
    name: `${i} ${c.kind} ${c.input}`,
    run: () => {
      const cfg = c.config;
      switch (c.kind) {
        case 'getImageInfo': {
          const info = getImageInfo(c.input, cfg);
          const e = c.expected;
          assertEqual(
            { name: info.name, path: info.path, registry: info.registry, tag: info.tag, digest: info.digest, string: info.reference },
            e,
            'image info',
          );
          return;
        }
        case 'referenceWithTag':
          return assertEqual(getImageInfo(c.input, cfg).referenceWithTag, c.expected.referenceWithTag, 'referenceWithTag');
        case 'reference': {
          const info = getImageInfo(c.input, cfg);
          return assertEqual({ reference: info.reference, referenceWithTag: info.referenceWithTag }, c.expected, 'reference');
        }
        case 'parseError':
          return assertTrue(
            throws(() => getImageInfo(c.input, cfg)),
            'expected a parse error',
          );
        case 'addDefaultRegistry':
          return assertEqual(addDefaultRegistry(c.input, cfg), c.expected.withDefaultRegistry, 'addDefaultRegistry');
        default:
          throw new Error(`unknown kind ${c.kind}`);
      }
    },
  }));
}

function imageExtractionRows(t: Json): CaseRow[] {
  const jmes = createJmesEngine();
  return t.cases.map((c: Json, i: number) => ({
    name: `${i} ${c.resource.kind} ${c.resource.metadata?.name ?? ''}`,
    run: () => {
      const got = extractImages(
        c.resource,
        c.imageExtractors,
        { defaultRegistry: 'docker.io', enableDefaultRegistryMutation: true },
        (e, v) => jmes.search(e, v),
      );
      const norm = (m: Json) =>
        Object.fromEntries(
          Object.entries(m).map(([k, v]) => [
            k,
            Object.fromEntries(Object.entries(v as Json).map(([kk, vv]) => [kk, normImage(vv as Json)])),
          ]),
        );
      assertEqual(norm(got), norm(c.expectedImages), 'extracted images');
    },
  }));
}

function matchPrimitiveRows(t: Json): CaseRow[] {
  const rows: CaseRow[] = [];
  for (const [group, g] of Object.entries<Json>(t.groups)) {
    g.cases.forEach((c: Json, i: number) => {
      rows.push({
        name: `${group} ${i} ${c.name ?? c.input ?? JSON.stringify(c.kinds ?? c.pattern ?? c.expected ?? c.selector ?? '')}`,
        run: () => {
          switch (group) {
            case 'checkKind':
              return assertEqual(checkKind(c.kinds, c.gvk, c.subresource, c.allowEphemeralContainers), c.want, 'checkKind');
            case 'parseKindSelector':
              return assertEqual(parseKindSelector(c.input), c.want, 'parseKindSelector');
            case 'getKindFromGVK':
              return assertEqual(getKindFromGVK(c.input), c.want, 'getKindFromGVK');
            case 'checkName':
              return assertEqual(checkName(c.pattern, c.name), c.want, 'checkName');
            case 'checkAnnotations':
              return assertEqual(checkAnnotations(c.expected, c.actual), c.want, 'checkAnnotations');
            case 'checkSelector': {
              if (c.wantErr)
                return assertTrue(
                  throws(() => checkSelector(c.selector, c.labels)),
                  'expected a selector error',
                );
              return assertEqual(checkSelector(c.selector, c.labels), c.want, 'checkSelector');
            }
            case 'checkSubjects':
              return assertEqual(checkSubjects(c.subjects, c.userInfo), c.want, 'checkSubjects');
            case 'imageMatches':
              return assertEqual(matchesAny(c.patterns, c.image), c.want, 'imageMatches');
            case 'checkNamespace':
              return assertEqual(checkNamespace(c.namespaces, c.resource), c.want, 'checkNamespace');
            default:
              throw new Error(`unknown group ${group}`);
          }
        },
      });
    });
  }
  return rows;
}

function matchesDescriptionRows(t: Json): CaseRow[] {
  return t.cases.map((c: Json, i: number) => ({
    name: `${i} ${c.test}: ${c.description}`,
    run: () => {
      const input = {
        resource: c.resource,
        operation: c.operation || 'CREATE',
        requestInfo: c.requestInfo ?? {},
        namespaceLabels: c.namespaceLabels ?? undefined,
        subresource: c.subresource ?? '',
      };
      if (c.rule) {
        return assertEqual(matchRule(c.rule, input).matched, c.expectMatch, 'rule matched');
      }
      const policy = policyFromObject(c.policy, { validate: false, applyDefaults: false });
      const rules = computeRules(policy, '');
      for (const rule of rules) {
        const r = matchRule(rule, { ...input, policyNamespace: policy.kind === 'Policy' ? (policy.metadata.namespace ?? 'default') : '' });
        assertEqual(r.matched, !c.expectNoMatchForEveryComputedRule, `rule ${rule.name} matched (${r.reasons.join('; ')})`);
      }
    },
  }));
}

function autogenRows(t: Json): CaseRow[] {
  const rows: CaseRow[] = [];
  for (const [group, g] of Object.entries<Json>(t.groups)) {
    g.cases.forEach((c: Json, i: number) => {
      rows.push({
        name: `${group} ${i} ${c.name ?? c.input ?? ''}`,
        run: () => {
          switch (group) {
            case 'autogenRuleName':
              return assertEqual(autogenRuleName(c.prefix, c.ruleName), c.expected, 'autogen rule name');
            case 'isAutogenRuleName':
              return assertEqual(isAutogenRuleName(c.ruleName), c.expected, 'isAutogenRuleName');
            case 'canAutoGen': {
              const p = policyFromObject(c.policy, { validate: false, applyDefaults: false });
              const r = canAutoGen(p);
              return assertEqual(r.apply ? r.controllers : ['none'], c.expectedControllers, 'controllers');
            }
            case 'updateFields':
              return assertEqual(rewriteFields(c.input, c.kind, c.cel), c.expected, 'rewritten');
            case 'computeRules': {
              const p = policyFromObject(c.policy, { validate: false, applyDefaults: false });
              const rules = computeRules(p, c.kind);
              if (c.expectedRuleCount !== undefined) return assertEqual(rules.length, c.expectedRuleCount, 'rule count');
              assertEqual(rules.length, c.expectedRules.length, 'rule count');
              const m = subsetMismatch(JSON.parse(JSON.stringify(rules)), c.expectedRules);
              if (m) throw new Error(`computed rules differ: ${m}`);
              return;
            }
            default:
              throw new Error(`unknown group ${group}`);
          }
        },
      });
    });
  }
  void POD_CONTROLLERS;
  return rows;
}

function metadataRows(t: Json): CaseRow[] {
  const rows: CaseRow[] = [];
  for (const [group, g] of Object.entries<Json>(t.groups)) {
    g.cases.forEach((c: Json, i: number) => {
      rows.push({
        name: `${group} ${i}`,
        run: () => {
          switch (group) {
            case 'parse': {
              if (c.wantErr)
                return assertTrue(
                  throws(() => parseImageMetadata(c.input)),
                  'expected a parse error',
                );
              const m = parseImageMetadata(c.input);
              if (c.expected.policies) return assertEqual(m.policies, c.expected.policies, 'policies');
              return assertEqual(m.data, c.expected.data, 'data');
            }
            case 'patches': {
              const ops = imageMetadataPatches({ data: c.data, policies: c.policies }, c.hasAnnotations);
              if (c.expectedOps)
                return assertEqual(
                  ops.map((o) => JSON.stringify(o)),
                  c.expectedOps,
                  'patch ops',
                );
              assertEqual(ops.length, c.expectedOpCount, 'op count');
              assertEqual(ops[0]!.value, c.expectedFirstValue, 'first value');
              assertEqual(ops[1]!.path, c.expectedSecondPath, 'second path');
              const second = JSON.parse(ops[1]!.value as string);
              assertEqual(second, { version: 1, policies: c.policies }, 'scoped value');
              assertTrue((ops[1]!.value as string).startsWith('{"version":1,"policies":'), 'key order version, policies');
              return;
            }
            case 'merge':
              return assertEqual(mergeImageVerification({ data: c.base }, { data: c.other }).data, c.expected, 'merged');
            case 'isImageVerifiedForPolicy': {
              const st = isImageVerifiedForPolicy(c.annotations, '', c.policy, c.rule, c.image);
              return assertEqual(st, c.expected, 'status');
            }
            case 'isImageVerified': {
              const resource = c.resource === null ? null : { metadata: { annotations: c.annotations } };
              if (c.wantErr)
                return assertTrue(
                  throws(() => isImageVerified(resource, c.image)),
                  'expected an error',
                );
              return assertEqual(isImageVerified(resource, c.image), c.expected, 'status');
            }
            default:
              throw new Error(`unknown group ${group}`);
          }
        },
      });
    });
  }
  return rows;
}

function notaryHelperRows(t: Json): CaseRow[] {
  const rows: CaseRow[] = [];
  for (const [group, g] of Object.entries<Json>(t.groups)) {
    g.cases.forEach((c: Json, i: number) => {
      rows.push({
        name: `${group} ${i} ${c.name ?? ''}`,
        run: () => {
          switch (group) {
            case 'combineCerts':
              return assertEqual(combineNotaryCertificates(c.cert, c.certChain), c.expected, 'combined');
            case 'matchArtifactType':
              return assertEqual(matchesArtifactType(c.descriptorArtifactType, c.expectedType), c.wantMatch, 'match');
            case 'trustPolicyDocument':
              return assertEqual(kyvernoNotaryTrustPolicy(), c.expected, 'trust policy');
            default:
              throw new Error(`unknown group ${group}`);
          }
        },
      });
    });
  }
  return rows;
}

/** The registry rows of image_verify_engine.json: Notary signatures and attestations of the test image, which the world re-creates. */
const NOTARY_ROWS = new Set(['Test_SkipImageReferences/pass', 'Test_ImageVerifyCacheNotary', 'Test_changePolicyCacheVerificationNotary']);

/** Registry rows the world re-creates but that cannot run as upstream does, and why. */
const NO_CONFIGMAP_RESOLVER =
  "upstream runs this row without a ConfigMap resolver, which drops the policy's ConfigMap context entry (keys, unused: the certificates are inline); vouch has no such mode, a declared ConfigMap must load (compatibility K22). Run with the ConfigMap supplied in kyverno-recreated-images.test.ts: pass, as upstream";
const DIFFERENT_ROWS: Readonly<Record<string, string>> = {
  Test_MultipleImageVerificationAttestationPass: NO_CONFIGMAP_RESOLVER,
  Test_MultipleImageVerificationAttestationFail: NO_CONFIGMAP_RESOLVER,
};

function imageVerifyEngineRows(t: Json, world?: () => Promise<CaseWorld>): CaseRow[] {
  return t.cases.map((c: Json) => {
    const local = c.needsRegistry && world && NOTARY_ROWS.has(c.id);
    if (DIFFERENT_ROWS[c.id]) return { name: c.id, skip: DIFFERENT_ROWS[c.id] };
    if (c.needsRegistry && !local) {
      return { name: c.id, skip: `needs internet: ${c.id} reads images that are not re-created locally` };
    }
    return {
      name: c.id,
      run: async () => {
        const w = local ? await world!() : undefined;
        const policy = policyFromObject(w ? w.rewriteValue(c.policy) : c.policy, { validate: false, applyDefaults: false });
        // Kyverno's engine unit tests include Cosign rules: evaluate them as `kyverno apply` would (mode fail)
        const engine = createKyvernoEngine({
          policies: [policy],
          cache: c.expected.secondCallServedFromCache ? {} : false,
          unsupported: 'fail',
          ...(w ? { verifier: w.notaryVerifier() } : {}),
        });
        const r = await verifyAndPatchImages(engine, { resource: c.resource, operation: 'CREATE' });
        const rules = r.responses.flatMap((p) => p.rules);
        assertEqual(rules.length, c.expected.ruleResponses, `rule responses (${JSON.stringify(rules)})`);
        if (c.expected.status) assertEqual(rules[0]!.status, c.expected.status, `status (${rules[0]!.message})`);
        if (c.expected.message) assertEqual(rules[0]!.message, c.expected.message, 'message');
        if (c.expected.messageFormat && !c.expected.message) {
          const image = c.resource.spec.containers[0].image as string;
          assertEqual(rules[0]!.message, String(c.expected.messageFormat).replace('%s', image), 'message');
        }
        if (c.expected.ivmNonEmpty) assertTrue(r.patches.length > 0, 'the verification is recorded (annotation patch)');
        if (c.expected.secondCallServedFromCache) {
          const misses = engine.cache.misses;
          const again = await verifyAndPatchImages(engine, { resource: c.resource, operation: 'CREATE' });
          assertEqual(again.responses.flatMap((p) => p.rules)[0]!.status, 'pass', 'second call status');
          assertEqual(engine.cache.misses, misses, 'the second call is served from the cache');
        }
      },
    };
  });
}

/** Rows of one engine table file, by file name; `world` re-creates the images registry rows need. */
export function tableRows(file: string, table: Json, world?: () => Promise<CaseWorld>): CaseRow[] {
  switch (file) {
    case 'wildcard_match.json':
      return wildcardRows(table);
    case 'image_info.json':
      return imageInfoRows(table);
    case 'image_extraction.json':
      return imageExtractionRows(table);
    case 'match_primitives.json':
      return matchPrimitiveRows(table);
    case 'matches_resource_description.json':
      return matchesDescriptionRows(table);
    case 'autogen.json':
      return autogenRows(table);
    case 'image_verification_metadata.json':
      return metadataRows(table);
    case 'notary_helpers.json':
      return notaryHelperRows(table);
    case 'image_verify_engine.json':
      return imageVerifyEngineRows(table, world);
    default:
      return [{ name: file, skip: `no runner for engine table ${file}` }];
  }
}
