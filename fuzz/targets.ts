/**
 * Fuzz targets: every parser that reads input vouch does not control. Each target has an input
 * generator (fast-check arbitraries: random bytes and values, structure-aware shapes, and
 * mutations of valid inputs) and a check that throws when a property is broken:
 * - parsers return or throw a VouchError (or, for the webhook's request decoder, an Error with a
 *   message) — never another exception;
 * - every input is handled within a time bound;
 * - the webhook answers every decoded review with a response for its uid, and never admits a
 *   Pod running an unsigned image under an Enforce policy, whatever else the request holds.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf, isVouchError, MediaType, utf8, VouchError } from '@vouch/core';
import { toBase64, toBase64Url } from '@vouch/core/internal';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { createKyvernoEngine, handleAdmissionReview, type KyvernoEngine, type NotaryImageVerifier, parsePolicies } from '@vouch/kyverno';
import { dockerCredentials } from '@vouch/node';
import { type LayoutFs, ociLayoutRepository, parseSignatureManifest } from '@vouch/registry';
import { inferManifestMediaType, parseWwwAuthenticate, summarizeManifest } from '@vouch/registry/internal';
import { admissionReviewFor, seedPolicyYaml, workloads } from '@vouch/testing';
import { request, testSigner } from '@vouch/testing/envelope';
import { certificatesToPem, createTestPki } from '@vouch/x509';
import fc from 'fast-check';
import { stringify as yamlStringify } from 'yaml';
import { decodeReview } from '../packages/cli/src/webhook/server.js';

/** One fuzz target. */
export interface FuzzTarget<T = unknown> {
  name: string;
  /** Inputs. */
  arbitrary: fc.Arbitrary<T>;
  /** Throws when a property is broken. */
  check(input: T): Promise<void> | void;
}

/** Longest time one input may take. */
export const INPUT_TIME_LIMIT_MS = 2000;

/** Only VouchErrors may escape a parser. */
function onlyVouchErrors(e: unknown, what: string): void {
  if (!isVouchError(e))
    throw new Error(`${what}: a ${(e as Error)?.name ?? typeof e} escaped instead of a VouchError: ${(e as Error)?.message ?? String(e)}`, {
      cause: e,
    });
}

async function expectVouch(what: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (e) {
    onlyVouchErrors(e, what);
  }
}

// ---- mutations of valid inputs ---------------------------------------------------------------

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 32 }) }),
  fc.record({
    kind: fc.constant('repeat' as const),
    at: fc.nat(),
    n: fc.integer({ min: 1, max: 64 }),
    times: fc.integer({ min: 2, max: 50 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(input: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let out = input.slice();
  for (const m of ms) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    const join2 = (...parts: Uint8Array[]) => {
      const n = new Uint8Array(parts.reduce((k, p) => k + p.length, 0));
      let o = 0;
      for (const p of parts) {
        n.set(p, o);
        o += p.length;
      }
      return n;
    };
    switch (m.kind) {
      case 'flip':
        if (out.length) out[at] = out[at]! ^ (1 << m.bit);
        break;
      case 'set':
        if (out.length) out[at] = m.value;
        break;
      case 'truncate':
        out = out.slice(0, at);
        break;
      case 'insert':
        out = join2(out.subarray(0, at), m.bytes, out.subarray(at));
        break;
      case 'delete':
        out = join2(out.subarray(0, at), out.subarray(Math.min(out.length, at + m.n)));
        break;
      case 'repeat': {
        const piece = out.subarray(at, Math.min(out.length, at + m.n));
        out = join2(out.subarray(0, at), ...Array.from({ length: m.times }, () => piece), out.subarray(at));
        break;
      }
    }
  }
  return out;
}

/** Bytes: random, or mutations of one of `seeds`. */
function bytesAround(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }))
        .map(([i, ms]) => mutate(seeds[i]!, ms)),
    },
  );
}

/** JSON text: random values, `shapes`, or mutations of them as text. */
function jsonAround(shapes: fc.Arbitrary<unknown>, seeds: readonly unknown[]): fc.Arbitrary<Uint8Array> {
  const seedBytes = seeds.map((s) => utf8(JSON.stringify(s)));
  return fc.oneof(
    fc.jsonValue().map((v) => utf8(JSON.stringify(v) ?? 'null')),
    shapes.map((v) => utf8(JSON.stringify(v) ?? 'null')),
    bytesAround(seedBytes),
  );
}

/** An arbitrary JSON-ish value mixed into known fields. */
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string(), fc.integer(), fc.constant(null), fc.boolean());

// ---- targets -----------------------------------------------------------------------------------

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const descriptor = fc.record(
  {
    mediaType: fc.oneof(
      fc.constantFrom(MediaType.OCI_MANIFEST, MediaType.OCI_INDEX, 'application/vnd.cncf.notary.signature', 'application/jose+json'),
      fc.string(),
    ),
    digest: fc.oneof(fc.constant(DIGEST_A), fc.string(), fc.constant(`sha512:${'b'.repeat(128)}`)),
    size: fc.oneof(fc.integer(), fc.double(), fc.string()),
    artifactType: fc.string(),
    annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), anyJson),
  },
  { requiredKeys: [] },
);

function manifestTargets(): FuzzTarget<Uint8Array>[] {
  const signatureManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    artifactType: 'application/vnd.cncf.notary.signature',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digestOf(utf8('{}')), size: 2 },
    layers: [{ mediaType: 'application/jose+json', digest: DIGEST_A, size: 1234 }],
    subject: { mediaType: MediaType.OCI_MANIFEST, digest: DIGEST_A, size: 10 },
    annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': `["${'c'.repeat(64)}"]` },
  };
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_INDEX,
    manifests: [
      { mediaType: MediaType.OCI_MANIFEST, digest: DIGEST_A, size: 10, platform: { os: 'linux', architecture: 'amd64' } },
      {
        mediaType: MediaType.OCI_MANIFEST,
        digest: DIGEST_A,
        size: 11,
        artifactType: 'application/vnd.cncf.notary.signature',
        annotations: { a: 'b' },
      },
    ],
  };
  const manifestShape = fc.record(
    {
      schemaVersion: fc.oneof(fc.constant(2), anyJson),
      mediaType: fc.oneof(fc.constant(MediaType.OCI_MANIFEST), fc.string()),
      artifactType: fc.oneof(fc.constant('application/vnd.cncf.notary.signature'), fc.string()),
      config: fc.oneof(descriptor, anyJson),
      layers: fc.oneof(fc.array(descriptor, { maxLength: 4 }), anyJson),
      subject: fc.oneof(descriptor, anyJson),
      annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), anyJson),
    },
    { requiredKeys: [] },
  );
  const indexShape = fc.record(
    {
      schemaVersion: fc.oneof(fc.constant(2), anyJson),
      mediaType: fc.oneof(fc.constant(MediaType.OCI_INDEX), fc.string()),
      manifests: fc.oneof(fc.array(descriptor, { maxLength: 6 }), anyJson),
      subject: fc.oneof(descriptor, anyJson),
      annotations: fc.oneof(fc.dictionary(fc.string(), fc.string()), anyJson),
    },
    { requiredKeys: [] },
  );
  return [
    {
      name: 'manifest',
      arbitrary: jsonAround(manifestShape, [signatureManifest]),
      async check(bytes) {
        await expectVouch('parseSignatureManifest', () => parseSignatureManifest(bytes));
        await expectVouch('parseSignatureManifest(jws)', () => parseSignatureManifest(bytes, 'application/jose+json'));
        await expectVouch('summarizeManifest', () => summarizeManifest(bytes));
        await expectVouch('inferManifestMediaType', () => inferManifestMediaType(bytes));
      },
    },
    {
      name: 'oci-index',
      arbitrary: jsonAround(indexShape, [index]),
      async check(bytes) {
        await expectVouch('summarizeManifest(index)', () => summarizeManifest(bytes, 'index'));
        // an OCI image layout whose index.json is the input
        const files = new Map<string, Uint8Array>([
          ['oci-layout', utf8('{"imageLayoutVersion":"1.0.0"}')],
          ['index.json', bytes],
        ]);
        const fs: LayoutFs = {
          readFile: async (p) => files.get(p),
          writeFile: async (p, d) => {
            files.set(p, d);
          },
          exists: async (p) => files.has(p),
        };
        const repo = ociLayoutRepository(fs);
        await expectVouch('layout resolve(tag)', () => repo.resolve('v1'));
        await expectVouch('layout resolve(digest)', () => repo.resolve(DIGEST_A));
        await expectVouch('layout referrers', () => repo.referrers({ mediaType: MediaType.OCI_MANIFEST, digest: DIGEST_A, size: 10 }));
      },
    },
  ];
}

function wwwAuthenticateTarget(): FuzzTarget<string> {
  const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{0,12}$/);
  const quoted = fc.string({ maxLength: 20 }).map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`);
  const param = fc.tuple(token, fc.oneof(token, quoted, fc.string({ maxLength: 8 }))).map(([k, v]) => `${k}=${v}`);
  const challenge = fc
    .tuple(
      fc.constantFrom('Bearer', 'Basic', 'bearer', 'Digest', ''),
      fc.array(param, { maxLength: 5 }),
      fc.constantFrom(',', ', ', ' ,', ',,'),
    )
    .map(([s, ps, sep]) => `${s} ${ps.join(sep)}`);
  const header = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.array(challenge, { maxLength: 3 }).map((cs) => cs.join(', ')),
    fc.constant('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'),
  );
  return {
    name: 'www-authenticate',
    arbitrary: header,
    check(h) {
      let challenges: ReturnType<typeof parseWwwAuthenticate>;
      try {
        challenges = parseWwwAuthenticate(h);
      } catch (e) {
        onlyVouchErrors(e, 'parseWwwAuthenticate');
        return;
      }
      for (const c of challenges) {
        if (typeof c.scheme !== 'string') throw new Error('a challenge without a scheme string');
        for (const [k, v] of Object.entries(c.params)) if (typeof v !== 'string') throw new Error(`parameter ${k} is not a string`);
      }
    },
  };
}

function dockerConfigTarget(): FuzzTarget<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-fuzz-docker-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'config.json');
  const provider = dockerCredentials({ configPath: path, helperTimeoutMs: 500 });
  const entry = fc.record(
    {
      auth: fc.oneof(
        fc.string().map((s) => toBase64(utf8(s))),
        fc.string(),
        anyJson,
        fc.constant(toBase64(utf8('user:pass'))),
      ),
      username: fc.oneof(fc.string(), anyJson),
      password: fc.oneof(fc.string(), anyJson),
      identitytoken: fc.oneof(fc.string(), anyJson),
      registrytoken: fc.oneof(fc.string(), anyJson),
    },
    { requiredKeys: [] },
  );
  const key = fc.constantFrom(
    'registry.example.com',
    'https://registry.example.com/v1/',
    'https://index.docker.io/v1/',
    'docker.io',
    'REGISTRY.example.com:443',
  );
  // helper names that cannot exist: a lookup that reaches one fails fast (no such executable)
  const helper = fc.constantFrom('vouch-fuzz-absent', '../x', '', 'a b');
  const shape = fc.record(
    {
      auths: fc.oneof(fc.dictionary(key, fc.oneof(entry, anyJson)), anyJson),
      credsStore: fc.oneof(helper, anyJson),
      credHelpers: fc.oneof(fc.dictionary(key, fc.oneof(helper, anyJson)), anyJson),
    },
    { requiredKeys: [] },
  );
  return {
    name: 'docker-config',
    arbitrary: jsonAround(shape, [{ auths: { 'registry.example.com': { auth: toBase64(utf8('user:pass')) } } }]),
    async check(bytes) {
      writeFileSync(path, bytes);
      for (const registry of ['registry.example.com', 'docker.io']) {
        await expectVouch(`docker config get(${registry})`, () => provider.get(registry));
      }
    },
  };
}

async function envelopeTargets(): Promise<FuzzTarget<Uint8Array>[]> {
  const ts = await testSigner('EC-256');
  const req = request(ts.signer, { extendedAttributes: [{ key: 'x', value: { a: [1, 'b'] }, critical: true }] });
  const goodJws = await jws.sign(req);
  const goodCose = await cose.sign(req);
  const jwsShape = fc.record(
    {
      payload: fc.oneof(
        fc.string().map((s) => toBase64Url(utf8(s))),
        fc.jsonValue().map((v) => toBase64Url(utf8(JSON.stringify(v)))),
      ),
      protected: fc.oneof(
        fc.jsonValue().map((v) => toBase64Url(utf8(JSON.stringify(v)))),
        fc.string(),
      ),
      header: fc.oneof(fc.object(), anyJson),
      signature: fc.string().map((s) => toBase64Url(utf8(s))),
    },
    { requiredKeys: [] },
  );
  const check = (codec: typeof jws) => async (bytes: Uint8Array) => {
    await expectVouch(`${codec.mediaType} parse+verifyIntegrity`, async () => {
      const env = codec.parse(bytes);
      await codec.verifyIntegrity(env);
    });
  };
  return [
    {
      name: 'envelope-jws',
      arbitrary: fc.oneof(
        bytesAround([goodJws]),
        jwsShape.map((v) => utf8(JSON.stringify(v))),
      ),
      check: check(jws),
    },
    { name: 'envelope-cose', arbitrary: bytesAround([goodCose, new Uint8Array([0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x40])]), check: check(cose) },
  ];
}

async function policyTarget(certPem: string): Promise<FuzzTarget<string>> {
  const seed = seedPolicyYaml({ certPem });
  const seedDoc = parsePolicies(seed)[0]! as unknown as Record<string, unknown>;
  // structure-aware: the seed policy with one field replaced by an arbitrary value
  const paths: string[][] = [];
  const walk = (v: unknown, p: string[]) => {
    paths.push(p);
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk({ apiVersion: seedDoc.apiVersion, kind: seedDoc.kind, metadata: seedDoc.metadata, spec: seedDoc.spec }, []);
  const replaced = fc.tuple(fc.integer({ min: 0, max: paths.length - 1 }), anyJson, fc.boolean()).map(([i, value, asKey]) => {
    const doc = structuredClone({
      apiVersion: seedDoc.apiVersion,
      kind: seedDoc.kind,
      metadata: seedDoc.metadata,
      spec: seedDoc.spec,
    }) as Record<string, unknown>;
    const path = paths[i]!;
    if (path.length === 0) return yamlStringify(value);
    let o = doc as Record<string, unknown>;
    for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
    if (asKey && o[path.at(-1)!] && typeof o[path.at(-1)!] === 'object') (o[path.at(-1)!] as Record<string, unknown>)['x-fuzz'] = value;
    else o[path.at(-1)!] = value;
    return yamlStringify(doc);
  });
  const yamlish = fc
    .array(
      fc.constantFrom(
        'a',
        ':',
        ' ',
        '\n',
        '-',
        '{',
        '}',
        '[',
        ']',
        '"',
        "'",
        '&',
        '*',
        '!',
        '|',
        '>',
        '#',
        'kind',
        'ClusterPolicy',
        'spec',
        'rules',
      ),
      {
        maxLength: 120,
      },
    )
    .map((parts) => parts.join(''));
  return {
    name: 'policy-yaml',
    arbitrary: fc.oneof(
      { weight: 4, arbitrary: replaced },
      { weight: 2, arbitrary: bytesAround([utf8(seed)]).map((b) => new TextDecoder().decode(b)) },
      { weight: 1, arbitrary: yamlish },
      { weight: 1, arbitrary: fc.jsonValue().map((v) => yamlStringify(v)) },
    ),
    check(text) {
      try {
        parsePolicies(text);
      } catch (e) {
        onlyVouchErrors(e, 'parsePolicies');
      }
    },
  };
}

const SIGNED = 'registry.example.com/signed:v1';
const UNSIGNED = 'registry.example.com/unsigned:v1';

function fakeVerifier(): NotaryImageVerifier {
  return {
    async verifyImage(req) {
      if (req.image.startsWith('registry.example.com/signed')) return { digest: DIGEST_A };
      throw new VouchError('ERR_SIGNATURE_NOT_FOUND', `no signature is associated with "${req.image}"`);
    },
    async resolveDigest() {
      return DIGEST_A;
    },
  };
}

async function answerOf(engine: KyvernoEngine, bytes: Uint8Array) {
  let decoded: ReturnType<typeof decodeReview>;
  try {
    decoded = decodeReview(bytes);
  } catch (e) {
    if (!(e instanceof Error) || e.message === '') throw new Error(`decodeReview threw without a message: ${String(e)}`);
    return undefined;
  }
  let out: Awaited<ReturnType<typeof handleAdmissionReview>>;
  try {
    out = await handleAdmissionReview(decoded.review, engine);
  } catch (e) {
    throw new Error(`handleAdmissionReview threw: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  const res = out?.response;
  if (!res || res.uid !== decoded.review.request.uid || typeof res.allowed !== 'boolean') {
    throw new Error(`no well-formed response for uid ${JSON.stringify(decoded.review.request.uid)}: ${JSON.stringify(out).slice(0, 300)}`);
  }
  return { review: decoded.review, response: res };
}

function admissionTargets(certPem: string): FuzzTarget<Uint8Array>[] {
  const engine = createKyvernoEngine({ policies: parsePolicies(seedPolicyYaml({ certPem })), verifier: fakeVerifier() });
  const seeds = [...workloads(SIGNED), ...workloads(UNSIGNED)].map((w) => admissionReviewFor(w));
  const reviewShape = fc.record(
    {
      apiVersion: fc.oneof(fc.constant('admission.k8s.io/v1'), fc.string()),
      kind: fc.oneof(fc.constant('AdmissionReview'), fc.string()),
      request: fc.record(
        {
          uid: fc.oneof(fc.uuid(), fc.string(), anyJson),
          kind: fc.oneof(
            fc.record({ group: fc.string(), version: fc.string(), kind: fc.constantFrom('Pod', 'Deployment', 'CronJob', 'Job', '') }),
            anyJson,
          ),
          operation: fc.oneof(fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'), anyJson),
          namespace: fc.oneof(fc.constant('default'), fc.string(), anyJson),
          name: fc.oneof(fc.string(), anyJson),
          object: fc.oneof(fc.object({ maxDepth: 4 }), anyJson),
          oldObject: fc.oneof(fc.object({ maxDepth: 3 }), anyJson),
          userInfo: fc.oneof(fc.record({ username: fc.string(), groups: fc.array(fc.string()) }), anyJson),
          dryRun: anyJson,
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  );

  // Pods with at least one unsigned image among noise: must be denied
  const container = (image: fc.Arbitrary<string>) =>
    fc
      .tuple(fc.string({ maxLength: 8 }), image, fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 3 }))
      .map(([name, img, extra]) => ({
        ...extra,
        name,
        image: img,
      }));
  const anyImage = fc.oneof(
    fc.constant(SIGNED),
    fc.constant(`registry.example.com/signed@${DIGEST_A}`),
    fc.constant('docker.io/library/nginx'),
    fc.string({ maxLength: 30 }),
  );
  const annotations = fc.dictionary(
    fc.oneof(
      fc.constantFrom('kyverno.io/verify-images', 'kyverno.io/verify-images-scoped', 'policies.kyverno.io/skip'),
      fc.string({ maxLength: 10 }),
    ),
    fc.oneof(
      fc.constant(JSON.stringify({ [UNSIGNED]: 'pass' })),
      fc.constant(JSON.stringify({ policies: { '/check-image-signature': { 'verify-signature': { [UNSIGNED]: 'pass' } } } })),
      fc.string(),
    ),
    { maxKeys: 3 },
  );
  const unsignedPod = fc
    .record({
      list: fc.constantFrom('containers', 'initContainers', 'ephemeralContainers'),
      before: fc.array(container(anyImage), { maxLength: 3 }),
      after: fc.array(container(anyImage), { maxLength: 3 }),
      others: fc.array(container(anyImage), { maxLength: 3 }),
      unsignedName: fc.string({ maxLength: 8 }),
      annotations,
      labels: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
      extraSpec: fc.dictionary(fc.string({ maxLength: 8 }), anyJson, { maxKeys: 3 }),
      operation: fc.constantFrom('CREATE', 'UPDATE'),
      name: fc.string({ maxLength: 12 }),
    })
    .map((g) => {
      // container names are unique and non-empty, as Kubernetes validates them (the engine keys results by name)
      let n = 0;
      const named = (cs: Record<string, unknown>[]) => cs.map((c) => ({ ...c, name: `c${n++}-${String(c.name)}` }));
      const spec: Record<string, unknown> = { ...g.extraSpec, containers: named(g.others) };
      spec[g.list] = named([...g.before, { name: g.unsignedName, image: UNSIGNED }, ...g.after]);
      const object = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: g.name || 'p', namespace: 'default', annotations: g.annotations, labels: g.labels },
        spec,
      };
      const review = admissionReviewFor(object, 'fuzz-uid');
      (review.request as Record<string, unknown>).operation = g.operation;
      if (g.operation === 'UPDATE')
        (review.request as Record<string, unknown>).oldObject = { ...object, spec: { containers: [{ name: 'c', image: SIGNED }] } };
      return utf8(JSON.stringify(review));
    });
  return [
    {
      name: 'admission-review',
      arbitrary: jsonAround(reviewShape, seeds),
      async check(bytes) {
        await answerOf(engine, bytes);
      },
    },
    {
      name: 'admission-unsigned-pod-denied',
      arbitrary: unsignedPod,
      async check(bytes) {
        const a = await answerOf(engine, bytes);
        if (!a) throw new Error('a well-formed review was refused by the decoder');
        if (a.response.allowed) throw new Error(`a Pod running ${UNSIGNED} was admitted: ${JSON.stringify(a.response).slice(0, 400)}`);
      },
    },
  ];
}

/** Every target, set up. */
export async function fuzzTargets(): Promise<FuzzTarget[]> {
  const pki = await createTestPki({ keySpec: 'EC-256' });
  const certPem = certificatesToPem([pki.root.certificate]);
  return [
    ...admissionTargets(certPem),
    await policyTarget(certPem),
    ...(await envelopeTargets()),
    ...manifestTargets(),
    wwwAuthenticateTarget(),
    dockerConfigTarget(),
  ] as FuzzTarget[];
}
