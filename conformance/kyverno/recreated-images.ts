/**
 * Kyverno's registry cases re-created offline: the images its chainsaw and `kyverno test` cases pull
 * from ghcr.io are built here, in memory, under the same references, and signed the way their
 * upstream signatures were made (cosign's `.sig` / `.att` tags, OCI 1.1 signature referrers,
 * Sigstore bundle referrers over the in-memory Sigstore stack of @vouch/testing/sigstore; a Notary
 * JWS signature). The cases then run with their own policies and their own expected results, with
 * these substitutions (nothing else in a case's files is changed):
 *
 * 1. **Keys.** We do not hold the private keys behind the upstream public keys. Every upstream key
 *    listed in `UPSTREAM_KEYS` is replaced, wherever it appears (a policy's `publicKeys`, a
 *    Secret's `cosign.pub`), by a key generated here; the images that upstream key signed are
 *    signed with the replacement. Keys no image here is signed with are left as they are.
 * 2. **Public-good Sigstore.** Where a policy names no `rekor.pubkey`, `ctlog.pubkey` or `roots`,
 *    Kyverno fetches the public-good Rekor key, CT log key and Fulcio roots over TUF. Here the
 *    in-memory stack's trusted root stands in for them (the verifier's `trustedRoot` option, as
 *    `vouch kyverno apply --trusted-root` gives it); keyless certificates carry the SANs and
 *    OIDC issuers of the upstream signers, issued by the stack's Fulcio.
 * 3. **Digests.** An image built here cannot have its upstream manifest digest; every upstream
 *    digest in `UPSTREAM_DIGESTS` is replaced in the case's files (expected patches and
 *    annotations, digest references) by the digest of the image standing in for it.
 * 4. **Timestamping authority.** The `:tsa` image's signature carries an RFC 3161 timestamp from
 *    freetsa.org upstream; here one from a TSA run by openssl on 127.0.0.1 (the test PKI server),
 *    whose chain replaces freetsa's in the policy's `ctlog.tsaCertChain`. Without openssl that case
 *    is skipped with the reason.
 * 5. **Notary.** `ghcr.io/kyverno/test-verify-image:signed` also carries a Notary signature (JWS)
 *    by a local test PKI; the certificate the Notary cases trust (notation's test certificate,
 *    `UPSTREAM_NOTARY_CERT`) is replaced by that PKI's root. Its Notary attestations (SBOM, scans,
 *    VEX: signed referrers of an artifact type) are re-created with payloads made for the cases
 *    (`NOTARY_ATTESTATIONS`): upstream's contents are not available offline. The Trivy and VEX ones
 *    are signed by a second local PKI, whose root replaces the certificate those cases trust
 *    (`UPSTREAM_TRIVY_VEX_CERT`).
 * 6. **Registry.** The references resolve to in-memory repositories: no network is used.
 */
import { type Descriptor, encodePem, MediaType, type Reference, utf8, VouchError } from '@vouch/core';
import { fromBase64, fromUtf8, toBase64 } from '@vouch/core/internal';
import { CosignMediaType } from '@vouch/cosign';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import {
  type CosignImageVerifier,
  type CosignKeyRequest,
  cosignImageVerifier,
  type NotaryImageVerifier,
  notationImageVerifier,
} from '@vouch/kyverno';
import { sign } from '@vouch/notation';
import { type MemoryRepository, memoryRepository, type Repository } from '@vouch/registry';
import { parseTrustedRoot } from '@vouch/sigstore';
import { pushTestImage } from '@vouch/testing';
import {
  bundleStatement,
  type CosignLayer,
  cosignAttestationLayer,
  cosignSignatureLayer,
  createTestSigstore,
  dsseBundle,
  generateEcdsa,
  imageStatement,
  pushBundleReferrer,
  pushCosignTag,
  spkiOf,
  type TestSigstore,
} from '@vouch/testing/sigstore';
import { certificatesToPem, createTestPki } from '@vouch/x509';
import { createTimestampRequest, requestTimestamp } from '@vouch/x509/tsp';

/** The upstream public keys (their base64 SPKI, as the cases carry them) replaced here, by what they sign. */
export const UPSTREAM_KEYS = {
  /** ghcr.io/kyverno/test-verify-image:signed (and the DataVolume / namespace-selector / Secret variants). */
  testVerifyImage:
    'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==',
  /** ghcr.io/kyverno/test-verify-image:cosign-oci11 (an OCI 1.1 signature referrer). */
  oci11: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoKYkkX32oSx61B4iwKXa6llAF2dBIoL3R/9n1SJ7s00Nfkk3z4/Ar6q8el/guUmXi8akEJMxvHnvphorVUz8vQ==',
  /** ghcr.io/kyverno/test-verify-image-rollback:signed-1 and :signed-2. */
  rollback: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfnYaFSrs2pLp4ShcWBgMLJM6Gki/1tC5ZWN2IuJTe2RbyVrDEn1qLBXNzGKhIXbsUyO5+BuIfgMdek1pDYFZGQ==',
  /** ghcr.io/kyverno/test-verify-image:tsa (a Rekor entry and an RFC 3161 timestamp). */
  tsa: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEstG5Xl7UxkQsmLUxdmS85HLgYBFyc/P/oQ22iazkKm8P0sNlaZiaZC4TSEea3oh2Pim0+wxSubhKoK+7jq9Egg==',
  /** ghcr.io/stefanprodan/podinfo:6.3.3, 6.3.4, 6.3.5 (signed with a Rekor entry: the policy does not ignore the log). */
  podinfo: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMKLYTatU9CUsrA5Td6jXiZTolwsxHZKwYP5XkHhU436FGDD5Zi2nVFem6AbzXWHssIQRkAI3yJgKkB4J6Qe4OQ==',
} as const;

/** The first line of the certificate the Notary cases trust (notation's test certificate, CN=test,O=Notary). */
export const UPSTREAM_NOTARY_CERT = 'MIIDTTCCAjWgAwIBAgIJAPI+zAzn4s0xMA0GCSqGSIb3DQEBCwUAMEwxCzAJBgNV';

/** The first line of the certificate the trivy/VEX cases trust for their attestations (a second Notary signer). */
export const UPSTREAM_TRIVY_VEX_CERT = 'MIIDmDCCAoCgAwIBAgIUCntgF4FftePAhEa6nZTsu/NMT3cwDQYJKoZIhvcNAQEL';

/** The first line of freetsa.org's root certificate, which keyed-tsa's policy trusts in `ctlog.tsaCertChain`. */
const FREETSA_ROOT = 'MIIH/zCCBeegAwIBAgIJAMHphhYNqOmAMA0GCSqGSIb3DQEBDQUAMIGVMREwDwYD';

/**
 * The Notary attestations of `ghcr.io/kyverno/test-verify-image:signed`, by artifact type. Upstream's
 * payloads cannot be read offline; these carry what the cases' policies read, with the values their
 * expected results need: the SBOM's licenses are all GPL-3.0 and it is dated after the scan (the
 * `time_after` checks), the scan is of an image, the Trivy report's vulnerabilities are all in the VEX
 * document, and the `-fail-test` report has one that is not.
 */
export const NOTARY_ATTESTATIONS: Readonly<Record<string, unknown>> = {
  'sbom/cyclone-dx': {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    metadata: { timestamp: '2024-03-02T10:00:00Z', component: { type: 'container', name: 'ghcr.io/kyverno/test-verify-image' } },
    components: [
      { type: 'library', name: 'busybox', version: '1.36.1', licenses: [{ expression: 'GPL-3.0' }] },
      { type: 'library', name: 'musl', version: '1.2.4', licenses: [{ expression: 'GPL-3.0' }] },
    ],
  },
  'vulnerability-scan': {
    source: { type: 'image', target: { userInput: 'ghcr.io/kyverno/test-verify-image:signed' } },
    descriptor: { name: 'grype', version: '0.74.0', timestamp: '2024-03-01T10:00:00Z' },
    matches: [],
  },
  'trivy/vulnerability': {
    ArtifactName: 'ghcr.io/kyverno/test-verify-image:signed',
    Vulnerabilities: [{ VulnerabilityID: 'CVE-2023-42363' }, { VulnerabilityID: 'CVE-2023-42366' }],
  },
  'trivy/vulnerability-fail-test': {
    ArtifactName: 'ghcr.io/kyverno/test-verify-image:signed',
    Vulnerabilities: [{ VulnerabilityID: 'CVE-2023-42363' }, { VulnerabilityID: 'CVE-2024-00001' }],
  },
  'vex/cyclone-dx': {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    vulnerabilities: [
      { id: 'CVE-2023-42363', analysis: { state: 'not_affected' } },
      { id: 'CVE-2023-42366', analysis: { state: 'not_affected' } },
    ],
  },
};

/** Registry cases that are not re-created here, and why (given the world's options). */
export function notRecreated(o: CaseWorldOptions): Readonly<Record<string, string>> {
  return {
    'conf-vi-notary-image-verification-secret-from-policy':
      'needs internet: a private ghcr.io image read with registry credentials from a Secret (imageRegistryCredentials)',
    ...(o.tsa
      ? {}
      : {
          'conf-vi-keyed-tsa':
            "not re-created: its image's signature carries an RFC 3161 timestamp, and without openssl there is no local TSA to stand in for freetsa.org",
        }),
  };
}

/** Options of {@link createCaseWorld}. */
export interface CaseWorldOptions {
  /** A TSA on 127.0.0.1 (RFC 3161 over HTTP) and its chain (leaf first), standing in for freetsa.org. */
  tsa?: { url: string; chainPem: string };
}

/** The upstream manifest digests the cases name, by the reference they belong to. */
export const UPSTREAM_DIGESTS: Readonly<Record<string, string>> = {
  'ghcr.io/kyverno/zulu:v0.0.14': '476b21f1a75dc90fac3579ee757f4607bb5546f476195cf645c54badf558c0db',
  'ghcr.io/kyverno/test-verify-image-rollback:signed-1': 'e0cc6dba04bee00badd8b13495d4411060b5563a9499fbc20e46316328efad30',
  'ghcr.io/kyverno/test-verify-image-rollback:signed-2': '0fc1f3b764be56f7c881a69cbd553ae25a2b5523c6901fbacb8270307c29d0c4',
  'ghcr.io/kyverno/test-verify-image:signed-keyless': '445a99db22e9add9bfb15ddb1980861a329e5dff5c88d7eec9cbf08b6b2f4eb1',
  'ghcr.io/sigstore/cosign/cosign:v2': '33a6a55d2f1354bc989b791974cf4ee00a900ab9e4e54b393962321758eee3c6',
};

/** The OIDC issuer and workflow identities of the upstream keyless signers (as the cases' policies name them). */
const GITHUB = 'https://token.actions.githubusercontent.com';
const ID = {
  zuluImage: 'https://github.com/chipzoller/zulu/.github/workflows/slsa-generic-keyless.yaml@refs/tags/v0.0.14',
  slsaGenerator: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/heads/main',
  zuluScan: 'https://github.com/chipzoller/zulu/.github/workflows/vulnerability-scan.yaml@refs/heads/main',
  // the case names no identity for this image beyond `subject: https://github.com/*`: a release workflow of its repository
  cosignRelease: 'https://github.com/sigstore/cosign/.github/workflows/release.yaml@refs/tags/v2.0.0',
  artifactAttestation:
    'https://github.com/vishal-chdhry/artifact-attestation-example/.github/workflows/build-attested-image.yaml@refs/heads/main',
} as const;

/** What a case needs from the world: the rewrite of its files and a verifier over the local images. */
export interface CaseWorld {
  /** The case file's text with the substitutions applied (keys, digests). */
  rewrite(text: string): string;
  /** The Notary verifier over the local images. */
  notaryVerifier(): NotaryImageVerifier;
  /** Every string of `value` (parsed JSON/YAML) with the substitutions applied (PEM blocks in plain strings). */
  rewriteValue<T>(value: T): T;
  /** A verifier over the local images; `secret` resolves `keys.secret` (a Secret's `cosign.pub`, base64). */
  verifier(secret?: (namespace: string, name: string) => Record<string, string> | undefined): CosignImageVerifier;
  /** The local digest standing in for an upstream reference of `UPSTREAM_DIGESTS` (tests). */
  digestOf(reference: string): string;
}

const P256_SPKI = /MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE[A-Za-z0-9+/]{28}(\s*)[A-Za-z0-9+/]{58}==/g;

function bodyOf(pem: string): string {
  return pem
    .replace(/-----[A-Z ]+-----/g, '')
    .replace(/\s+/g, '')
    .trim();
}

/** Builds the images, signatures and keys of every re-created case (one world serves them all). */
export async function createCaseWorld(options: CaseWorldOptions = {}): Promise<CaseWorld> {
  const stack: TestSigstore = await createTestSigstore();
  const repos = new Map<string, MemoryRepository>();
  const digests = new Map<string, string>();
  const keyMap = new Map<string, string>(); // upstream body → local body
  const signers: Record<keyof typeof UPSTREAM_KEYS, { keyPair: CryptoKeyPair }> = {} as never;
  for (const name of Object.keys(UPSTREAM_KEYS) as (keyof typeof UPSTREAM_KEYS)[]) {
    const keyPair = await generateEcdsa();
    signers[name] = { keyPair };
    keyMap.set(UPSTREAM_KEYS[name], bodyOf(encodePem('PUBLIC KEY', await spkiOf(keyPair.publicKey))));
  }

  function repo(name: string): MemoryRepository {
    let r = repos.get(name);
    if (!r) {
      r = memoryRepository();
      repos.set(name, r);
    }
    return r;
  }

  /** Push an image `name:tag` (further tags alias it); resolves its descriptor. */
  async function image(name: string, tag: string, ...aliases: string[]): Promise<{ repo: MemoryRepository; subject: Descriptor }> {
    const r = repo(name);
    const subject = await pushTestImage(r, tag, `${name}:${tag}`);
    digests.set(`${name}:${tag}`, subject.digest);
    for (const t of aliases) {
      // the same bytes under another tag: the same manifest
      const again = await pushTestImage(r, t, `${name}:${tag}`);
      digests.set(`${name}:${t}`, again.digest);
    }
    return { repo: r, subject };
  }

  const claim = (name: string, digest: string) => ({ dockerReference: name, digest });

  // ghcr.io/kyverno/test-verify-image: `signed` (key, `.sig`), `unsigned`, `cosign-oci11` (key, OCI 1.1 referrer),
  // `signed-keyless` (only its digest matters: mutateDigest without attestors)
  const tvi = 'ghcr.io/kyverno/test-verify-image';
  let i = await image(tvi, 'signed');
  await pushCosignTag(i.repo, i.subject, 'sig', [
    await cosignSignatureLayer(stack, claim(tvi, i.subject.digest), { signer: signers.testVerifyImage }),
  ]);
  await image(tvi, 'unsigned');
  i = await image(tvi, 'cosign-oci11');
  await pushOci11Signature(
    i.repo,
    i.subject,
    await cosignSignatureLayer(stack, claim(tvi, i.subject.digest), { signer: signers.oci11, log: false }),
  );
  await image(tvi, 'signed-keyless');
  if (options.tsa) {
    // `tsa`: key-signed with a Rekor entry and an RFC 3161 timestamp over the signature (cosign sign --timestamp-server-url)
    i = await image(tvi, 'tsa');
    const layer = await cosignSignatureLayer(stack, claim(tvi, i.subject.digest), { signer: signers.tsa });
    const signature = fromBase64(layer.annotations['dev.cosignproject.cosign/signature']!);
    const token = await requestTimestamp(options.tsa.url, await createTimestampRequest({ message: signature }), {
      fetch: globalThis.fetch as never,
    });
    const stamped = {
      ...layer,
      annotations: {
        ...layer.annotations,
        'dev.sigstore.cosign/rfc3161timestamp': JSON.stringify({ SignedRFC3161Timestamp: toBase64(token.der) }),
      },
    };
    await pushCosignTag(i.repo, i.subject, 'sig', [stamped]);
  }

  // Notary: test-verify-image:signed signed by a local PKI (JWS), in place of notation's test certificate
  const pki = await createTestPki({ keySpec: 'EC-256', name: 'kyverno cases' });
  const notaryRoot = certificatesToPem([pki.root.certificate]);
  await sign(`${tvi}@${digests.get(`${tvi}:signed`)}`, {
    repository: repo(tvi),
    signer: localRawSigner(pki.leaf.privateKey, pki.chain),
    envelope: jws,
  });
  // its Notary attestations: referrers of the signed image, one JSON layer each, each Notary-signed by the same PKI
  const tviSigned = await repo(tvi).resolve('signed');
  // upstream, the Trivy and VEX attestations are signed by another certificate than the image and its SBOM and scan
  const trivyVexPki = await createTestPki({ keySpec: 'EC-256', name: 'kyverno cases trivy vex' });
  const trivyVexRoot = certificatesToPem([trivyVexPki.root.certificate]);
  for (const [artifactType, payload] of Object.entries(NOTARY_ATTESTATIONS)) {
    const by = /^(trivy|vex)\//.test(artifactType) ? trivyVexPki : pki;
    const r = repo(tvi);
    const config = await r.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
    const layer = await r.pushBlob('application/json', utf8(JSON.stringify(payload)));
    const manifest = { schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, artifactType, config, layers: [layer], subject: tviSigned };
    const pushed = await r.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(manifest)));
    await sign(`${tvi}@${pushed.digest}`, { repository: r, signer: localRawSigner(by.leaf.privateKey, by.chain), envelope: jws });
  }

  // ghcr.io/kyverno/test-verify-image-rollback: two key-signed tags
  const rb = 'ghcr.io/kyverno/test-verify-image-rollback';
  for (const t of ['signed-1', 'signed-2']) {
    i = await image(rb, t);
    await pushCosignTag(i.repo, i.subject, 'sig', [
      await cosignSignatureLayer(stack, claim(rb, i.subject.digest), { signer: signers.rollback }),
    ]);
  }

  // ghcr.io/stefanprodan/podinfo: key-signed with a Rekor entry
  const podinfo = 'ghcr.io/stefanprodan/podinfo';
  for (const t of ['6.3.3', '6.3.4', '6.3.5']) {
    i = await image(podinfo, t);
    await pushCosignTag(i.repo, i.subject, 'sig', [
      await cosignSignatureLayer(stack, claim(podinfo, i.subject.digest), { signer: signers.podinfo }),
    ]);
  }

  // ghcr.io/kyverno/zulu:v0.0.14 (= latest): keyless image signature by its release workflow, a SLSA v0.2
  // provenance by the SLSA generator, a vulnerability scan by its scan workflow (each with SET and SCT)
  const zulu = 'ghcr.io/kyverno/zulu';
  i = await image(zulu, 'v0.0.14', 'latest');
  const zuluSigner = await stack.fulcio.issue({ subject: ID.zuluImage, issuer: GITHUB });
  const slsaSigner = await stack.fulcio.issue({ subject: ID.slsaGenerator, issuer: GITHUB });
  const scanSigner = await stack.fulcio.issue({ subject: ID.zuluScan, issuer: GITHUB });
  await pushCosignTag(i.repo, i.subject, 'sig', [await cosignSignatureLayer(stack, claim(zulu, i.subject.digest), { signer: zuluSigner })]);
  const att: CosignLayer[] = [
    await cosignAttestationLayer(
      stack,
      imageStatement({
        name: zulu,
        digest: i.subject.digest,
        predicateType: 'https://slsa.dev/provenance/v0.2',
        predicate: { builder: { id: ID.slsaGenerator }, buildType: 'https://github.com/slsa-framework/slsa-github-generator/container@v1' },
      }),
      { signer: slsaSigner },
    ),
    await cosignAttestationLayer(
      stack,
      imageStatement({
        name: zulu,
        digest: i.subject.digest,
        predicateType: 'cosign.sigstore.dev/attestation/vuln/v1',
        predicate: { scanner: { uri: 'pkg:github/aquasecurity/trivy@0.34.0', version: '0.34.0' }, invocation: {} },
      }),
      { signer: scanSigner },
    ),
  ];
  await pushCosignTag(i.repo, i.subject, 'att', att);

  // ghcr.io/sigstore/cosign/cosign (referenced by digest): keyless by its release workflow
  const cosign = 'ghcr.io/sigstore/cosign/cosign';
  i = await image(cosign, 'v2');
  const cosignSigner = await stack.fulcio.issue({ subject: ID.cosignRelease, issuer: GITHUB });
  await pushCosignTag(i.repo, i.subject, 'sig', [
    await cosignSignatureLayer(stack, claim(cosign, i.subject.digest), { signer: cosignSigner }),
  ]);

  // ghcr.io/vishal-chdhry/artifact-attestation-example: a GitHub artifact attestation (Sigstore bundle
  // referrer: SLSA v1 provenance, DSSE, keyless, logged)
  const gha = 'ghcr.io/vishal-chdhry/artifact-attestation-example';
  i = await image(gha, 'artifact-attestation');
  const ghaSigner = await stack.fulcio.issue({ subject: ID.artifactAttestation, issuer: GITHUB });
  const slsaV1 = 'https://slsa.dev/provenance/v1';
  await pushBundleReferrer(
    i.repo,
    i.subject,
    await dsseBundle(
      stack,
      bundleStatement({
        digest: i.subject.digest,
        predicateType: slsaV1,
        predicate: {
          buildDefinition: { buildType: 'https://actions.github.io/buildtypes/workflow/v1', externalParameters: {} },
          runDetails: { builder: { id: ID.artifactAttestation } },
        },
      }),
      ghaSigner,
    ),
    slsaV1,
  );

  const digestMap = new Map<string, string>();
  for (const [ref, upstream] of Object.entries(UPSTREAM_DIGESTS)) {
    const local = digests.get(ref);
    if (!local) throw new Error(`no local image for ${ref}`);
    digestMap.set(upstream, local.slice('sha256:'.length));
  }

  const rewriteKeys = (text: string) =>
    text.replace(P256_SPKI, (m, ws: string) => {
      const local = keyMap.get(m.replace(/\s+/g, ''));
      if (!local) return m;
      return `${local.slice(0, 64)}${ws}${local.slice(64)}`;
    });

  const trustedRoot = parseTrustedRoot(JSON.stringify(stack.trustedRoot()));
  function repositoryFor(ref: Reference): Repository {
    const r = repos.get(`${ref.registry}/${ref.repository}`);
    if (!r)
      throw new VouchError(
        'ERR_NETWORK',
        `${ref.registry}/${ref.repository} is not among the re-created images (no network in these cases)`,
      );
    return r;
  }

  const rewrite = (text: string): string => {
    let out = rewriteKeys(text);
    if (options.tsa) out = replacePemBlock(out, FREETSA_ROOT, options.tsa.chainPem);
    out = replacePemBlock(out, UPSTREAM_NOTARY_CERT, notaryRoot);
    out = replacePemBlock(out, UPSTREAM_TRIVY_VEX_CERT, trivyVexRoot);
    for (const [upstream, local] of digestMap) out = out.replaceAll(upstream, local);
    return out;
  };

  return {
    rewrite,
    rewriteValue<T>(value: T): T {
      const walk = (v: unknown): unknown => {
        if (typeof v === 'string') return rewrite(v);
        if (Array.isArray(v)) return v.map(walk);
        if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
        return v;
      };
      return walk(value) as T;
    },
    notaryVerifier() {
      return notationImageVerifier({ repositoryFor, envelopes: [jws, cose], revocation: false });
    },
    verifier(secret) {
      return cosignImageVerifier({
        repositoryFor,
        trustedRoot,
        resolveKey(req: CosignKeyRequest) {
          if (req.source !== 'secret') throw new VouchError('ERR_TRUST_MATERIAL_MISSING', `kms key ${req.uri} is not available offline`);
          const data = secret?.(req.namespace, req.name);
          const pub = data?.['cosign.pub'];
          if (!pub) throw new VouchError('ERR_TRUST_MATERIAL_MISSING', `secret ${req.namespace}/${req.name} has no cosign.pub`);
          return rewriteKeys(fromUtf8(fromBase64(pub)));
        },
      });
    },
    digestOf(reference) {
      const d = digests.get(reference);
      if (!d) throw new Error(`no local image ${reference}`);
      return d;
    },
  };
}

/**
 * Replaces the PEM CERTIFICATE block whose first base64 line is `firstLine` (in a YAML block
 * scalar: every line indented alike) by `pem`, indented the same way.
 */
function replacePemBlock(text: string, firstLine: string, pem: string): string {
  const at = text.indexOf(firstLine);
  if (at < 0 || pem.includes(firstLine)) return text;
  const begin = text.lastIndexOf('-----BEGIN CERTIFICATE-----', at);
  const lineStart = text.lastIndexOf('\n', begin) + 1;
  const indent = text.slice(lineStart, begin);
  const endMarker = '-----END CERTIFICATE-----';
  const end = text.indexOf(endMarker, at) + endMarker.length;
  const body = pem
    .trim()
    .split('\n')
    .map((l, k) => (k === 0 ? l : `${indent}${l}`))
    .join('\n');
  // every occurrence (a policy may carry the certificate more than once)
  return replacePemBlock(`${text.slice(0, begin)}${body}${text.slice(end)}`, firstLine, pem);
}

/** cosign 2's experimental OCI 1.1 signature: a referrer whose artifact type is cosign's signature type. */
async function pushOci11Signature(repo: MemoryRepository, subject: Descriptor, layer: CosignLayer): Promise<Descriptor> {
  const empty = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const blob = await repo.pushBlob(layer.mediaType, layer.payload);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    artifactType: CosignMediaType.OCI11_SIGNATURE,
    config: { mediaType: MediaType.OCI_EMPTY, digest: empty.digest, size: empty.size },
    layers: [{ mediaType: blob.mediaType, digest: blob.digest, size: blob.size, annotations: { ...layer.annotations } }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  };
  return repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(manifest)));
}
