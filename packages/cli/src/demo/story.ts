/**
 * The `vouch demo` story, as data: every step runs real vouch code (no mocks) against an OCI
 * layout or a registry, records what happened, what it proves and whether that is what the
 * story expects. Rendering (text or JSON) is separate, see render.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Descriptor, encodePem, type FetchLike, isVouchError, MediaType, VouchError } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';
import { publicKeyToPem, signerFromPkcs8, signImage } from '@vouch/cosign';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import {
  type AdmissionReview,
  cosignImageVerifier,
  createKyvernoEngine,
  handleAdmissionReview,
  type KubeObject,
  notationImageVerifier,
  parsePolicies,
} from '@vouch/kyverno';
import { fileTrustStore } from '@vouch/node';
import { createVerifier, ocspCrlRevocation, sign, type VerifyResult } from '@vouch/notation';
import { buildSignatureManifest, EMPTY_CONFIG_BYTES, type WritableRepository } from '@vouch/registry';
import { memoryTrustStore, parseOciTrustPolicy } from '@vouch/trust-policy';
import { certificatesToPem, createTestPki, exportPrivateKeyPkcs8, type TestPki } from '@vouch/x509';
import { stringify } from 'yaml';
import { retargetJwsEnvelope } from './attack.js';
import { type DemoImage, pushDemoImage } from './image.js';

/** One step of the story and what came of it. */
export interface DemoStep {
  /** Stable id (`build-image`, `sign-jws`, `deny-unsigned` …). */
  id: string;
  title: string;
  /** What the step demonstrates when it behaves as expected. */
  proves: string;
  /** The outcome the story expects (`verified`, `rejected`, `admitted`, `denied` …). */
  expected: string;
  /** What happened (`error` when the step itself failed, `not run` after a failed prerequisite). */
  outcome: string;
  /** True when `outcome` is `expected` and the step's own checks hold. */
  ok: boolean;
  /** Human-readable account of what happened. */
  lines: string[];
  /** Machine-readable facts (digests, error codes, messages, patches). */
  details: Record<string, unknown>;
  /** The unexpected error that ended the step, if any. */
  error?: { code: string; message: string };
}

/** The whole run. */
export interface DemoReport {
  mode: 'oci-layout' | 'registry';
  /** Registry host used in image references (`registry.example.com` for the OCI layout, else HOST:PORT). */
  registry: string;
  /** Where the demo wrote its files. */
  dir: string;
  images: Record<'signed' | 'unsigned' | 'tampered', { reference: string; digest?: string }>;
  steps: DemoStep[];
  verdict: { ok: boolean; total: number; asExpected: number; unexpected: string[] };
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  mode: 'oci-layout' | 'registry';
  /** Registry part of every image reference. */
  registry: string;
  /** Directory for the files the demo writes (keys, certificates, trust policy, Kyverno policy). */
  dir: string;
  /** The repository `registry/<path>` is stored in (`demo/app` …). Called once per path. */
  openRepository(path: string): WritableRepository;
  now?: () => Date;
  /** Called after each step (for streaming output). */
  onStep?(step: DemoStep, index: number, total: number): void;
  /**
   * How a file the demo wrote is named in step lines and details (default: its path). The CLI
   * names them relative to a temporary directory it removes at the end, so that it never prints
   * a path that will not exist.
   */
  displayPath?(path: string): string;
}

/** The three repositories of the story. */
export const DEMO_REPOSITORIES = { signed: 'demo/app', unsigned: 'demo/unsigned', tampered: 'demo/tampered' } as const;
const TAG = 'v1';
const PLATFORMS = [
  { architecture: 'amd64', os: 'linux' },
  { architecture: 'arm64', os: 'linux' },
];

/** A fetch that refuses: the demo never needs the network for revocation (its certificates name no OCSP/CRL URL). */
const offlineFetch: FetchLike = async (url) => {
  throw new VouchError('ERR_NETWORK', `the demo does not use the network, but ${url} was requested`);
};

interface StepDef {
  id: string;
  title: string;
  proves: string;
  expected: string;
  /** Later steps cannot run when this one fails. */
  prerequisite?: boolean;
  run(): Promise<{ outcome: string; ok?: boolean; lines: string[]; details?: Record<string, unknown> }>;
}

/** A Pod rule verifying every image of `registry` with one attestor entry of `type`. */
function podRule(name: string, registry: string, type: 'Notary' | 'Cosign', entry: Record<string, unknown>): Record<string, unknown> {
  return {
    name,
    match: { any: [{ resources: { kinds: ['Pod'] } }] },
    verifyImages: [{ type, imageReferences: [`${registry}/*`], attestors: [{ count: 1, entries: [entry] }] }],
  };
}

/** An enforcing ClusterPolicy of `rules`, as YAML. */
function enforcingPolicy(name: string, rules: Record<string, unknown>[]): string {
  return stringify(
    {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name },
      spec: { validationFailureAction: 'Enforce', webhookTimeoutSeconds: 30, failurePolicy: 'Fail', rules },
    },
    { lineWidth: 0 },
  );
}

/** The seed policy (`check-image-signature`) with the demo CA as its Notary attestor certificate. */
export function demoClusterPolicy(registry: string, caPem: string): string {
  return enforcingPolicy('check-image-signature', [
    podRule('verify-signature', registry, 'Notary', { certificates: { cert: caPem.trim() } }),
  ]);
}

/**
 * The Cosign leg's policy: the demo's Notary rule and a `type: Cosign` rule with the demo's cosign
 * public key, both required. The key-signed bundle has no transparency-log entry (signed offline),
 * which the Cosign rule accepts with `rekor.ignoreTlog`.
 */
export function demoNotaryAndCosignPolicy(registry: string, caPem: string, cosignPub: string): string {
  return enforcingPolicy('check-notary-and-cosign', [
    podRule('verify-notary', registry, 'Notary', { certificates: { cert: caPem.trim() } }),
    podRule('verify-cosign', registry, 'Cosign', {
      keys: {
        publicKeys: cosignPub.trim(),
        rekor: { url: 'https://rekor.sigstore.dev', ignoreTlog: true },
        ctlog: { ignoreSCT: true },
      },
    }),
  ]);
}

function pod(name: string, image: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'app', image }] },
  };
}

function review(uid: string, object: KubeObject): AdmissionReview {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'default',
      name: object.metadata?.name as string,
      operation: 'CREATE',
      userInfo: { username: 'demo-user' },
      object,
    },
  };
}

function errorOf(e: unknown): { code: string; message: string } {
  return isVouchError(e)
    ? { code: e.code, message: e.message }
    : { code: 'ERR_INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** Codes of every signature outcome in a verification error's details. */
function outcomeCodes(e: unknown): string[] {
  const outcomes = (isVouchError(e) ? (e.details?.outcomes as { error?: { code?: string } }[] | undefined) : undefined) ?? [];
  return outcomes.map((o) => o.error?.code ?? 'none');
}

function short(digest: string): string {
  return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
}

/** What the steps of one run hand to each other. */
interface DemoState {
  /** The three images (`build-image`). */
  signed: DemoImage;
  unsigned: DemoImage;
  tampered: DemoImage;
  /** The demo's PKI, and an unrelated one for the wrong trust store (`create-pki`). */
  pki: TestPki;
  other: TestPki;
  /** The JWS envelope the attacker copies (`sign-jws`). */
  jwsEnvelope: Uint8Array;
  /** Signature manifests by envelope format (`sign-jws`, `sign-cose`). */
  signatures: Record<string, Descriptor>;
  /** The trust policy document written to the config dir, and parsed (first `verify-*` step). */
  policyDoc: { version: string; trustPolicies: { trustedIdentities: string[]; [k: string]: unknown }[] };
  trustPolicy: ReturnType<typeof parseOciTrustPolicy>;
  /** The Kyverno engine the admission steps share (`admit-signed`). */
  engine: ReturnType<typeof createKyvernoEngine>;
  /** The cosign public key (PEM) and the bundle referrer it signed (`sign-cosign`). */
  cosignPub: string;
  cosignSignature: Descriptor;
  /** The engine of the Notary-and-Cosign policy (`admit-notary-and-cosign`). */
  bothEngine: ReturnType<typeof createKyvernoEngine>;
}

/** Runs the story. Never throws for a step that misbehaves: the report says so. */
export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const now = options.now ?? (() => new Date());
  const reg = options.registry;
  const ref = (path: string) => `${reg}/${path}`;
  const repos = new Map<string, WritableRepository>();
  const repo = (path: string): WritableRepository => {
    let r = repos.get(path);
    if (!r) {
      r = options.openRepository(path);
      repos.set(path, r);
    }
    return r;
  };
  const images: DemoReport['images'] = {
    signed: { reference: `${ref(DEMO_REPOSITORIES.signed)}:${TAG}` },
    unsigned: { reference: `${ref(DEMO_REPOSITORIES.unsigned)}:${TAG}` },
    tampered: { reference: `${ref(DEMO_REPOSITORIES.tampered)}:${TAG}` },
  };
  const runId = crypto.randomUUID();
  const shown = options.displayPath ?? ((p: string) => p);
  const files = {
    ca: join(options.dir, 'pki', 'demo-ca.crt'),
    chain: join(options.dir, 'pki', 'demo-signer.crt'),
    key: join(options.dir, 'pki', 'demo-signer.key'),
    configDir: join(options.dir, 'notation'),
    policy: join(options.dir, 'kyverno', 'check-image-signature.yaml'),
    bothPolicy: join(options.dir, 'kyverno', 'check-notary-and-cosign.yaml'),
    cosignPub: join(options.dir, 'cosign', 'cosign.pub'),
    pods: join(options.dir, 'kyverno', 'pods.yaml'),
  };

  // What the steps make for later steps. Each field is set by one step; a step runs only when the
  // steps before it that are prerequisites succeeded, so later steps find what they read.
  const state = { signatures: {} } as DemoState;

  const scope = ref(DEMO_REPOSITORIES.signed);
  const pinned = () => `${ref(DEMO_REPOSITORIES.signed)}@${state.signed.index.digest}`;

  const verifyLines = (r: VerifyResult): string[] => {
    const sig = r.signature;
    const leaf = sig?.signer?.certificateChain[0];
    return [
      `verified ${r.reference}`,
      `trust policy "${r.policy.name}" at level ${r.policy.level}; signature ${short(sig?.descriptor.digest ?? '')} (${sig?.envelopeMediaType}) by "${leaf?.subject}"`,
      `checks: ${(sig?.checks ?? []).map((c) => `${c.type} ${c.result}`).join(', ')}`,
    ];
  };
  const verifyDetails = (r: VerifyResult): Record<string, unknown> => ({
    reference: r.reference,
    policy: r.policy,
    signature: r.signature?.descriptor.digest,
    envelopeMediaType: r.signature?.envelopeMediaType,
    signer: r.signature?.signer?.certificateChain[0]?.subject,
    checks: (r.signature?.checks ?? []).map((c) => ({ type: c.type, action: c.action, result: c.result })),
  });

  const expectRejection = async (
    what: Promise<unknown>,
    code: string,
  ): Promise<{ outcome: string; ok: boolean; lines: string[]; details: Record<string, unknown> }> => {
    try {
      const r = (await what) as VerifyResult;
      return { outcome: 'verified', ok: false, lines: [`unexpectedly verified ${r.reference}`], details: verifyDetails(r) };
    } catch (e) {
      const err = errorOf(e);
      const codes = outcomeCodes(e);
      const ok = err.code === 'ERR_VERIFICATION_FAILED' && codes.length > 0 && codes.every((c) => c === code);
      return {
        outcome: 'rejected',
        ok,
        lines: [`rejected: ${err.code}`, `per signature: ${codes.join(', ') || 'none'}`, err.message],
        details: { error: err, signatureErrors: codes },
      };
    }
  };

  const admission = async (name: string, image: string, engine = state.engine) => {
    const res = (await handleAdmissionReview(review(`demo-${name}`, pod(name, image)), engine)).response!;
    const patch = res.patch ? (JSON.parse(fromUtf8(fromBase64(res.patch))) as { op: string; path: string; value?: unknown }[]) : [];
    return { res, patch };
  };

  const notaryVerifier = () =>
    notationImageVerifier({
      repositoryFor: (r) => repo(r.repository),
      envelopes: [jws, cose],
      revocation: ocspCrlRevocation({ fetch: offlineFetch }),
      now,
    });

  /** The lines and details of a denial. */
  const denial = (res: { allowed: boolean; status?: { message: string } }) => ({
    outcome: res.allowed ? 'admitted' : 'denied',
    lines: res.allowed
      ? ['AdmissionReview response: allowed']
      : ['AdmissionReview response: denied:', ...(res.status?.message ?? '').trim().split('\n')],
    details: { allowed: res.allowed, ...(res.status ? { status: res.status } : {}) },
  });

  const defs: StepDef[] = [
    {
      id: 'build-image',
      title: 'Build an image into the store',
      proves: 'The artifact under protection. Its identity is the digest of its index: tags can move, digests cannot.',
      expected: 'built',
      prerequisite: true,
      async run() {
        const opts = { tag: TAG, runId, platforms: PLATFORMS };
        state.signed = await pushDemoImage(repo(DEMO_REPOSITORIES.signed), { ...opts, message: 'hello from a signed image' });
        state.unsigned = await pushDemoImage(repo(DEMO_REPOSITORIES.unsigned), { ...opts, message: 'nobody signed me' });
        state.tampered = await pushDemoImage(repo(DEMO_REPOSITORIES.tampered), { ...opts, message: 'malicious payload' });
        images.signed.digest = state.signed.index.digest;
        images.unsigned.digest = state.unsigned.index.digest;
        images.tampered.digest = state.tampered.index.digest;
        return {
          outcome: 'built',
          lines: [
            `${images.signed.reference} → ${state.signed.index.digest}`,
            `  image index for ${state.signed.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).join(' and ')}: one config and one tar layer each`,
            `${images.unsigned.reference} → ${short(state.unsigned.index.digest)} (will stay unsigned)`,
            `${images.tampered.reference} → ${short(state.tampered.index.digest)} (an attacker's image)`,
          ],
          details: {
            images: { signed: state.signed, unsigned: state.unsigned, tampered: state.tampered },
          },
        };
      },
    },
    {
      id: 'create-pki',
      title: 'Create a test CA and a signing key',
      proves: 'The signer’s identity: a root CA you decide to trust, and a leaf certificate (code-signing EKU) under it whose key signs.',
      expected: 'created',
      prerequisite: true,
      async run() {
        const t = now();
        [state.pki, state.other] = await Promise.all([
          createTestPki({ keySpec: 'EC-256', name: 'vouch demo', notBefore: new Date(t.getTime() - 3_600_000) }),
          createTestPki({ keySpec: 'EC-256', name: 'someone else', notBefore: new Date(t.getTime() - 3_600_000) }),
        ]);
        await mkdir(join(options.dir, 'pki'), { recursive: true });
        await writeFile(files.ca, certificatesToPem([state.pki.root.certificate]));
        await writeFile(files.chain, certificatesToPem(state.pki.chain));
        await writeFile(files.key, encodePem('PRIVATE KEY', await exportPrivateKeyPkcs8(state.pki.leaf.privateKey)), { mode: 0o600 });
        return {
          outcome: 'created',
          lines: [
            `CA      ${state.pki.root.certificate.subject} (SHA-256 ${state.pki.root.certificate.sha256Fingerprint.slice(0, 16)}…)`,
            `signer  ${state.pki.leaf.certificate.subject}, ECDSA P-256, via ${state.pki.intermediate.certificate.subject}`,
            `written ${shown(files.ca)}, ${shown(files.chain)}, ${shown(files.key)}`,
          ],
          details: {
            ca: {
              subject: state.pki.root.certificate.subject,
              sha256: state.pki.root.certificate.sha256Fingerprint,
              file: shown(files.ca),
            },
            signer: { subject: state.pki.leaf.certificate.subject, chainFile: shown(files.chain), keyFile: shown(files.key) },
          },
        };
      },
    },
    ...(['jws', 'cose'] as const).map(
      (format): StepDef => ({
        id: `sign-${format}`,
        title: `Sign the image by digest (${format.toUpperCase()} envelope)`,
        proves:
          format === 'jws'
            ? 'A Notary signature is an OCI referrer of the image: a manifest whose subject is the image digest, carrying an envelope that signs {mediaType, digest, size}.'
            : 'The same signature in the other Notary envelope format (COSE_Sign1); one image can carry several signatures.',
        expected: 'signed',
        prerequisite: true,
        async run() {
          const r = await sign(`${scope}@${state.signed.index.digest}`, {
            repository: repo(DEMO_REPOSITORIES.signed),
            signer: localRawSigner(state.pki.leaf.privateKey, state.pki.chain),
            envelope: format === 'jws' ? jws : cose,
            userMetadata: { 'dev.vouch.demo': 'true' },
            now,
          });
          state.signatures[format] = r.signatureManifest;
          if (format === 'jws') state.jwsEnvelope = r.envelope;
          return {
            outcome: 'signed',
            ok: r.artifact.digest === state.signed.index.digest,
            lines: [
              `signed ${r.reference}`,
              `signature manifest ${r.signatureManifest.digest}`,
              `envelope ${r.envelopeDescriptor.mediaType}, ${r.envelopeDescriptor.size} bytes, ${r.envelopeDescriptor.digest}`,
            ],
            details: {
              reference: r.reference,
              signatureManifest: r.signatureManifest.digest,
              envelope: { mediaType: r.envelopeDescriptor.mediaType, digest: r.envelopeDescriptor.digest, size: r.envelopeDescriptor.size },
            },
          };
        },
      }),
    ),
    {
      id: 'tamper',
      title: 'Forge a signature for the attacker’s image',
      proves:
        'Setting the stage: the attacker copies the JWS signature, rewrites its payload to name their own image and pushes it as that image’s signature. Nothing stops a push; verification must.',
      expected: 'forged',
      prerequisite: true,
      async run() {
        const r = repo(DEMO_REPOSITORIES.tampered);
        const forged = retargetJwsEnvelope(state.jwsEnvelope, state.tampered.index);
        // a hand-built signature manifest: its `{}` config must be in the repository first (registries
        // reject a manifest naming a missing blob)
        await r.pushBlob(MediaType.OCI_EMPTY, EMPTY_CONFIG_BYTES);
        const envelopeDescriptor = await r.pushBlob(MediaType.JWS, forged);
        // the form notation 1.3 writes and reads in OCI layouts (as `sign` writes it)
        const { bytes } = buildSignatureManifest({ subject: state.tampered.index, envelopeDescriptor, annotations: {}, form: 'legacy' });
        const manifest = await r.pushManifest(MediaType.OCI_MANIFEST, bytes);
        return {
          outcome: 'forged',
          lines: [
            `pushed signature ${short(manifest.digest)} for ${ref(DEMO_REPOSITORIES.tampered)}@${short(state.tampered.index.digest)}`,
          ],
          details: { signatureManifest: manifest.digest, envelope: envelopeDescriptor.digest },
        };
      },
    },
    ...(['jws', 'cose'] as const).map(
      (format): StepDef => ({
        id: `verify-${format}`,
        title: `Verify with a trust policy (${format.toUpperCase()} signature)`,
        proves:
          'At level strict every check is enforced: integrity (the signature covers a payload naming exactly this digest), authenticity (the chain ends at a CA in the trust store), trusted identity (the leaf subject is pinned), expiry.',
        expected: 'verified',
        async run() {
          if (!state.trustPolicy) {
            // notation's configuration layout, readable by `vouch verify --config-dir` and `notation verify`
            const doc = {
              version: '1.0',
              trustPolicies: [
                {
                  name: 'demo-images',
                  registryScopes: [scope],
                  signatureVerification: { level: 'strict' },
                  trustStores: ['ca:demo'],
                  trustedIdentities: [`x509.subject: ${state.pki.leaf.certificate.subject}`],
                },
              ],
            };
            const storeDir = join(files.configDir, 'truststore', 'x509', 'ca', 'demo');
            await mkdir(storeDir, { recursive: true });
            await writeFile(join(storeDir, 'demo-ca.crt'), certificatesToPem([state.pki.root.certificate]));
            // trustpolicy.json: the file notation 1.3 reads (notation 2 falls back to it)
            await writeFile(join(files.configDir, 'trustpolicy.json'), `${JSON.stringify(doc, null, 2)}\n`);
            state.policyDoc = doc;
            state.trustPolicy = parseOciTrustPolicy(doc);
          }
          // A verifier that reads only one envelope format, so each signature is verified on its own.
          const verifier = createVerifier({
            trustPolicy: state.trustPolicy,
            trustStore: fileTrustStore(files.configDir),
            envelopes: [format === 'jws' ? jws : cose],
            revocation: ocspCrlRevocation({ fetch: offlineFetch }),
            now,
          });
          const r = await verifier.verify(pinned(), {
            repository: repo(DEMO_REPOSITORIES.signed),
            userMetadata: { 'dev.vouch.demo': 'true' },
          });
          const want = format === 'jws' ? MediaType.JWS : MediaType.COSE;
          return {
            outcome: 'verified',
            ok: r.signature?.envelopeMediaType === want && r.signature?.descriptor.digest === state.signatures[format]?.digest,
            lines: [...verifyLines(r), `trust policy and store: ${shown(files.configDir)} (notation's layout)`],
            details: verifyDetails(r),
          };
        },
      }),
    ),
    {
      id: 'verify-wrong-store',
      title: 'Verify with a trust store holding a different CA',
      proves: 'A valid signature from a key you have not chosen to trust counts for nothing: authenticity fails for every signature.',
      expected: 'rejected',
      async run() {
        const verifier = createVerifier({
          trustPolicy: state.trustPolicy,
          trustStore: memoryTrustStore({ ca: { demo: [state.other.root.certificate] } }),
          envelopes: [jws, cose],
          revocation: false,
          now,
        });
        return expectRejection(verifier.verify(pinned(), { repository: repo(DEMO_REPOSITORIES.signed) }), 'ERR_CERT_UNTRUSTED');
      },
    },
    {
      id: 'verify-wrong-identity',
      title: 'Verify with a trusted identity the signer does not have',
      proves:
        'Trusting a CA is not trusting everyone it certifies: trustedIdentities pins the signer’s subject, and a chain to the right CA with another subject is rejected.',
      expected: 'rejected',
      async run() {
        const doc = structuredClone(state.policyDoc);
        doc.trustPolicies[0]!.trustedIdentities = ['x509.subject: CN=release-bot,O=vouch,ST=WA,C=US'];
        const verifier = createVerifier({
          trustPolicy: doc,
          trustStore: memoryTrustStore({ ca: { demo: [state.pki.root.certificate] } }),
          envelopes: [jws, cose],
          revocation: false,
          now,
        });
        return expectRejection(verifier.verify(pinned(), { repository: repo(DEMO_REPOSITORIES.signed) }), 'ERR_IDENTITY_UNTRUSTED');
      },
    },
    {
      id: 'admit-signed',
      title: 'Kyverno: admit a Pod running the signed image',
      proves:
        'The ClusterPolicy check-image-signature (verifyImages, type Notary) turns its certificate into trust store ca:kyverno under a strict, any-identity trust policy; the tag is replaced by tag@digest so the node runs exactly what was verified.',
      expected: 'admitted',
      prerequisite: true,
      async run() {
        const caPem = certificatesToPem([state.pki.root.certificate]);
        const policyYaml = demoClusterPolicy(reg, caPem);
        const pods = [
          pod('signed-app', images.signed.reference),
          pod('unsigned-app', images.unsigned.reference),
          pod('tampered-app', images.tampered.reference),
        ];
        await mkdir(join(options.dir, 'kyverno'), { recursive: true });
        await writeFile(files.policy, policyYaml);
        await writeFile(files.pods, pods.map((p) => stringify(p)).join('---\n'));
        state.engine = createKyvernoEngine({
          policies: parsePolicies(policyYaml, { source: files.policy }),
          verifier: notaryVerifier(),
          cache: false,
          now,
        });
        const { res, patch } = await admission('signed-app', images.signed.reference);
        const imageOp = patch.find((p) => p.path === '/spec/containers/0/image');
        const want = `${images.signed.reference}@${state.signed.index.digest}`;
        const ok = res.allowed === true && imageOp?.op === 'replace' && imageOp.value === want;
        return {
          outcome: res.allowed ? 'admitted' : 'denied',
          ok,
          lines: [
            `policy ${shown(files.policy)}`,
            res.allowed ? 'AdmissionReview response: allowed' : `AdmissionReview response: denied: ${res.status?.message ?? ''}`,
            `digest pinned: ${JSON.stringify(imageOp ?? null)}`,
            ...patch.filter((p) => p !== imageOp).map((p) => `  also: ${p.op} ${p.path}`),
          ],
          details: { allowed: res.allowed, patch, pinnedImage: imageOp?.value, ...(res.status ? { status: res.status } : {}) },
        };
      },
    },
    {
      id: 'deny-unsigned',
      title: 'Kyverno: deny a Pod running an unsigned image',
      proves: 'No signature, no admission: the policy is enforced and the reason names the image and the missing signature.',
      expected: 'denied',
      async run() {
        const { res } = await admission('unsigned-app', images.unsigned.reference);
        const message = res.status?.message ?? '';
        const ok =
          !res.allowed &&
          message.includes(`failed to verify image ${images.unsigned.reference}`) &&
          message.includes('no signature is associated with');
        return { ...denial(res), ok };
      },
    },
    {
      id: 'deny-tampered',
      title: 'Kyverno: deny a Pod running the image with the forged signature',
      proves:
        'A signature cannot be moved to other content: the rewritten payload no longer matches the signature, so integrity fails before any trust decision.',
      expected: 'denied',
      async run() {
        const { res } = await admission('tampered-app', images.tampered.reference);
        const message = res.status?.message ?? '';
        const ok =
          !res.allowed && message.includes(`failed to verify image ${images.tampered.reference}`) && /altered|integrity/.test(message);
        return { ...denial(res), ok };
      },
    },
    {
      id: 'sign-cosign',
      title: 'Sign the image with a cosign key as well (Sigstore bundle)',
      proves:
        'cosign’s format beside Notary’s: a key pair like `cosign generate-key-pair` makes (cosign.pub), and a Sigstore bundle v0.3 referrer of the image digest, as cosign 3 signs by default; offline, without Fulcio or Rekor.',
      expected: 'signed',
      prerequisite: true,
      async run() {
        const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
        const signer = await signerFromPkcs8(new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey)));
        state.cosignPub = publicKeyToPem(signer.publicKey);
        await mkdir(join(options.dir, 'cosign'), { recursive: true });
        await writeFile(files.cosignPub, state.cosignPub);
        const r = await signImage({
          repository: repo(DEMO_REPOSITORIES.signed),
          subject: state.signed.index,
          dockerReference: scope,
          signer,
          now: now(),
        });
        state.cosignSignature = r.manifest;
        return {
          outcome: 'signed',
          ok: r.format === 'bundle',
          lines: [
            `signed ${pinned()} with the key in ${shown(files.cosignPub)}`,
            `Sigstore bundle referrer ${r.manifest.digest} (no transparency-log entry: signed offline)`,
          ],
          details: { publicKeyFile: shown(files.cosignPub), format: r.format, signatureManifest: r.manifest.digest },
        };
      },
    },
    {
      id: 'admit-notary-and-cosign',
      title: 'Kyverno: admit the Pod under a policy with a Notary and a Cosign rule',
      proves:
        'One ClusterPolicy, two verifyImages rules, both required: type Notary with the demo CA, and type Cosign (Kyverno’s default type) with the cosign public key. The image carries both signatures, so both rules pass and the digest is pinned once.',
      expected: 'admitted',
      prerequisite: true,
      async run() {
        const policyYaml = demoNotaryAndCosignPolicy(reg, certificatesToPem([state.pki.root.certificate]), state.cosignPub);
        await writeFile(files.bothPolicy, policyYaml);
        state.bothEngine = createKyvernoEngine({
          policies: parsePolicies(policyYaml, { source: files.bothPolicy }),
          verifier: notaryVerifier(),
          cosignVerifier: cosignImageVerifier({ repositoryFor: (r) => repo(r.repository), now }),
          cache: false,
          now,
        });
        const { res, patch } = await admission('signed-app', images.signed.reference, state.bothEngine);
        const imageOp = patch.find((p) => p.path === '/spec/containers/0/image');
        const want = `${images.signed.reference}@${state.signed.index.digest}`;
        return {
          outcome: res.allowed ? 'admitted' : 'denied',
          ok: res.allowed === true && imageOp?.op === 'replace' && imageOp.value === want,
          lines: [
            `policy ${shown(files.bothPolicy)} (rules verify-notary and verify-cosign)`,
            res.allowed ? 'AdmissionReview response: allowed' : `AdmissionReview response: denied: ${res.status?.message ?? ''}`,
            `digest pinned: ${JSON.stringify(imageOp ?? null)}`,
          ],
          details: { allowed: res.allowed, patch, pinnedImage: imageOp?.value, ...(res.status ? { status: res.status } : {}) },
        };
      },
    },
    {
      id: 'deny-unsigned-both',
      title: 'Kyverno: deny the unsigned Pod under the Notary-and-Cosign policy',
      proves: 'Each rule judges on its own: the unsigned image has neither signature, and the denial names both rules and why each failed.',
      expected: 'denied',
      async run() {
        const { res } = await admission('unsigned-app', images.unsigned.reference, state.bothEngine);
        const message = res.status?.message ?? '';
        const ok =
          !res.allowed &&
          message.includes('check-notary-and-cosign:') &&
          message.includes('verify-notary:') &&
          message.includes('no signature is associated with') &&
          message.includes('verify-cosign:') &&
          message.includes(`failed to verify image ${ref(DEMO_REPOSITORIES.unsigned)}`) &&
          message.includes('.attestors[0].entries[0].keys: no signatures found');
        return { ...denial(res), ok };
      },
    },
  ];

  const steps: DemoStep[] = [];
  let blocked: string | undefined;
  for (const def of defs) {
    const base = { id: def.id, title: def.title, proves: def.proves, expected: def.expected };
    let step: DemoStep;
    if (blocked) {
      step = { ...base, outcome: 'not run', ok: false, lines: [`not run: step ${blocked} failed`], details: {} };
    } else {
      try {
        const r = await def.run();
        step = { ...base, outcome: r.outcome, ok: r.outcome === def.expected && r.ok !== false, lines: r.lines, details: r.details ?? {} };
      } catch (e) {
        const error = errorOf(e);
        step = { ...base, outcome: 'error', ok: false, lines: [`${error.code}: ${error.message}`], details: {}, error };
      }
      if (!step.ok && def.prerequisite) blocked = def.id;
    }
    steps.push(step);
    options.onStep?.(step, steps.length, defs.length);
  }
  const unexpected = steps.filter((s) => !s.ok).map((s) => s.id);
  return {
    mode: options.mode,
    registry: reg,
    dir: options.dir,
    images,
    steps,
    verdict: { ok: unexpected.length === 0, total: steps.length, asExpected: steps.length - unexpected.length, unexpected },
  };
}
