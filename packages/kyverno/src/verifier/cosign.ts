/**
 * The verifier of Kyverno's `type: Cosign` and `type: SigstoreBundle` attestors, implemented with
 * @vouch/cosign (registry formats) and @vouch/sigstore (the cryptography), offline: every key,
 * root and log key comes from the policy or from a trusted root the host gives, never from the
 * network. Where Kyverno would go online (TUF for the public-good keys, a Rekor search for a
 * signature without its SET), the check fails with the reason and the policy field to set.
 */
import { encodePem, isVouchError, parseReference, type Reference, VouchError } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';
import {
  type CosignForm,
  type CosignSignatureOutcome,
  type CosignVerifyResult,
  verifyCosignAttestations,
  verifyCosignSignatures,
} from '@vouch/cosign';
import type { Repository } from '@vouch/registry';
import { type TrustMaterial, trustMaterialFromPem, type VerifiedSigner, type VerifyPolicyOptions } from '@vouch/sigstore';
import { parseCertificates } from '@vouch/x509';
import { wildcardMatch } from '../match/wildcard.js';
import { errMessage } from '../util.js';
import type { CosignAttestorMaterial } from './cosign-material.js';
import type { NotaryAttestation } from './verifier.js';

/** A key the policy names but does not carry: a Kubernetes Secret (`keys.secret`, `k8s://…`) or a KMS URI (`keys.kms`). */
export type CosignKeyRequest =
  | { readonly source: 'secret'; readonly namespace: string; readonly name: string }
  | { readonly source: 'kms'; readonly uri: string };

/** Options of {@link cosignImageVerifier}. */
export interface CosignImageVerifierOptions {
  /** The repository holding `ref` (a remote registry client, an OCI layout mapped to the reference, …). */
  repositoryFor(ref: Reference): Repository;
  /**
   * The trust Kyverno would fetch over TUF (the public-good Sigstore instance, or a private one):
   * Rekor keys where a policy names no `rekor.pubkey`, CT log keys where it names no
   * `ctlog.pubkey`, Fulcio roots for `keyless` entries without `roots`. Without it, such checks
   * fail naming the policy field to set.
   */
  trustedRoot?: TrustMaterial;
  /**
   * Resolves a key the policy names but does not carry (`keys.secret`, `keys.kms`, `k8s://…` in
   * `publicKeys`) to PEM. Without it such entries fail: the key is not available offline.
   */
  resolveKey?(request: CosignKeyRequest, signal?: AbortSignal): Promise<string> | string;
  /** The clock certificates are checked at when no verified time exists (only with `ignoreTlog`). */
  now?: () => Date;
  /** At most this many signatures are read per image (default 100). */
  maxSignatures?: number;
}

/** The verifier the engine calls for `type: Cosign` and `type: SigstoreBundle` (see {@link cosignImageVerifier}). */
export interface CosignImageVerifier {
  /** Verifies the image's signatures with the attestor; resolves with the verified manifest digest. */
  verifyImage(request: { image: string; attestor: CosignAttestorMaterial; signal?: AbortSignal }): Promise<{ digest: string }>;
  /** The image's verified attestations of predicate type `type` (statement and predicate each). */
  verifyAttestations(request: {
    image: string;
    type: string;
    attestor: CosignAttestorMaterial;
    signal?: AbortSignal;
  }): Promise<{ digest: string; attestations: NotaryAttestation[] }>;
  /** Resolves a tag reference to its manifest digest (for `mutateDigest`). */
  resolveDigest(image: string, signal?: AbortSignal): Promise<string>;
}

/** The Fulcio extensions `additionalExtensions` may name, by OID and by cosign's name. */
const EXTENSIONS: Readonly<Record<string, keyof VerifiedExtensions>> = {
  '1.3.6.1.4.1.57264.1.1': 'issuer',
  oidcIssuer: 'issuer',
  '1.3.6.1.4.1.57264.1.2': 'githubWorkflowTrigger',
  githubWorkflowTrigger: 'githubWorkflowTrigger',
  '1.3.6.1.4.1.57264.1.3': 'githubWorkflowSha',
  githubWorkflowSha: 'githubWorkflowSha',
  '1.3.6.1.4.1.57264.1.4': 'githubWorkflowName',
  githubWorkflowName: 'githubWorkflowName',
  '1.3.6.1.4.1.57264.1.5': 'githubWorkflowRepository',
  githubWorkflowRepository: 'githubWorkflowRepository',
  '1.3.6.1.4.1.57264.1.6': 'githubWorkflowRef',
  githubWorkflowRef: 'githubWorkflowRef',
};

type VerifiedExtensions = Extract<VerifiedSigner, { type: 'certificate' }>['extensions'];

/** A Go-style (RE2, unanchored) regular expression, or the error Kyverno reports for it. */
function regexp(pattern: string, what: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (e) {
    throw new VouchError('ERR_KYVERNO_POLICY_INVALID', `invalid regexp for ${what}: ${pattern} : ${errMessage(e)}`, { cause: e });
  }
}

/**
 * Kyverno's `matchCertificateData` for one verified signer: `subject` (wildcards) or
 * `subjectRegExp` against every SAN, `issuer` (wildcards) and `issuerRegExp` against the OIDC
 * issuer extension, `additionalExtensions` (wildcards). `exact`: `type: SigstoreBundle`, where
 * Kyverno compares `subject` and `issuer` literally. The mismatch, or undefined when it matches.
 */
export function certificateMismatch(signer: VerifiedSigner, m: CosignAttestorMaterial, exact = false): string | undefined {
  const eq = exact ? (p: string, v: string) => p === v : wildcardMatch;
  if (signer.type !== 'certificate') return 'certificate not found';
  if (m.subject || m.subjectRegExp) {
    const sans = signer.subjectAlternativeNames;
    const expected = m.subject || m.subjectRegExp;
    // vouch GAP: Kyverno skips the subject check of a certificate without SANs; vouch fails it
    if (sans.length === 0) return `subject mismatch: expected ${expected}, received no subject alternative name`;
    const re = m.subjectRegExp ? regexp(m.subjectRegExp, 'subject') : undefined;
    const matched = sans.some((s) => (m.subject !== undefined && eq(m.subject, s)) || re?.test(s) === true);
    if (!matched) return `subject mismatch: expected ${expected}, received ${sans.join(', ')}`;
  }
  const issuer = signer.extensions.issuer ?? '';
  if (m.issuer && !eq(m.issuer, issuer)) return `issuer mismatch: expected ${m.issuer}, received ${issuer}`;
  if (m.issuerRegExp && !regexp(m.issuerRegExp, 'issuer').test(issuer)) {
    return `issuer mismatch: expected ${m.issuerRegExp}, received ${issuer}`;
  }
  for (const [key, want] of Object.entries(m.additionalExtensions ?? {})) {
    const field = EXTENSIONS[key];
    if (!field) return `invalid certificate extension ${key}`;
    const got = signer.extensions[field] ?? '';
    if (!wildcardMatch(want, got)) return `extension mismatch: expected ${want} for key ${key}, received ${got}`;
  }
  return undefined;
}

function hasIdentity(m: CosignAttestorMaterial): boolean {
  return !!(
    m.subject ||
    m.subjectRegExp ||
    m.issuer ||
    m.issuerRegExp ||
    (m.additionalExtensions && Object.keys(m.additionalExtensions).length)
  );
}

/** `certificates.cert` as PEM: Kyverno also accepts it base64-encoded. */
function certPem(text: string): string {
  if (text.includes('-----BEGIN')) return text;
  try {
    const decoded = fromUtf8(fromBase64(text.replace(/\s+/g, '')));
    if (decoded.includes('-----BEGIN')) return decoded;
  } catch {
    // not base64: parsed as is below
  }
  return text;
}

/** The public key of the certificate `certificates.cert`, as PEM (Kyverno verifies with it without a chain). */
function certificateKey(cert: string): string {
  let parsed: ReturnType<typeof parseCertificates>;
  try {
    parsed = parseCertificates(certPem(cert));
  } catch (e) {
    throw new VouchError('ERR_KYVERNO_POLICY_INVALID', `failed to load certificate from certificates.cert: ${errMessage(e)}`, { cause: e });
  }
  if (parsed.length === 0) throw new VouchError('ERR_KYVERNO_POLICY_INVALID', 'failed to load certificate: no certs found in pem file');
  return encodePem('PUBLIC KEY', parsed[0]!.publicKey.spki);
}

/** A key reference (`k8s://ns/name`, a KMS URI) in `publicKeys`, as Kyverno passes it to cosign. */
function keyRef(text: string): CosignKeyRequest | undefined {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) return undefined;
  const k8s = /^k8s:\/\/([^/]+)\/([^/]+)$/.exec(t);
  if (k8s) return { source: 'secret', namespace: k8s[1]!, name: k8s[2]! };
  if (/^[a-z0-9]+:\/\//.test(t)) return { source: 'kms', uri: t };
  return undefined;
}

function requestText(r: CosignKeyRequest): string {
  return r.source === 'secret' ? `keys.secret ${r.namespace}/${r.name}` : `keys.kms ${r.uri}`;
}

/**
 * The verifier of `type: Cosign` and `type: SigstoreBundle` attestors. Per entry form:
 *
 * - `keys`: the signature verifies with `publicKeys` (or the key the host resolves for `secret` /
 *   `kms`); the Rekor SET is required unless `rekor.ignoreTlog`, checked with `rekor.pubkey` (or
 *   the trusted root's Rekor keys).
 * - `certificates`: `cert` alone pins the certificate's key; with `certChain` the certificate must
 *   chain to it; `certChain` alone trusts the certificates it issued (SCTs required unless
 *   `ctlog.ignoreSCT`).
 * - `keyless`: the signing certificate chains to `roots` (or the trusted root's CAs) and matches
 *   `subject`/`issuer` (wildcards, against every SAN), `subjectRegExp`/`issuerRegExp` and
 *   `additionalExtensions`.
 *
 * `type: Cosign` reads every cosign form (the `.sig`/`.att` tags, OCI 1.1 referrers, cosign 3
 * bundle referrers); `type: SigstoreBundle` reads bundle referrers only.
 * @example
 * ```ts
 * import { fetchLike } from '@vouch/core';
 * import { cosignImageVerifier, createKyvernoEngine, parsePolicies } from '@vouch/kyverno';
 * import { createRegistryClient, remoteRepository } from '@vouch/registry';
 * import { parseTrustedRoot } from '@vouch/sigstore';
 *
 * const client = createRegistryClient({ fetch: fetchLike() });
 * const cosignVerifier = cosignImageVerifier({
 *   repositoryFor: (ref) => remoteRepository(client, `${ref.registry}/${ref.repository}`),
 *   trustedRoot: parseTrustedRoot(trustedRootJson), // for keyless attestors; never fetched
 * });
 * const engine = createKyvernoEngine({ policies: parsePolicies(policyYaml), cosignVerifier });
 * ```
 */
export function cosignImageVerifier(options: CosignImageVerifierOptions): CosignImageVerifier {
  async function keyOf(m: CosignAttestorMaterial, signal: AbortSignal | undefined): Promise<string | undefined> {
    if (m.form === 'certificates' && m.cert && !m.certChain) return certificateKey(m.cert);
    if (m.form !== 'keys') return undefined;
    const ref =
      (m.publicKeys ? keyRef(m.publicKeys) : undefined) ??
      (m.secret ? { source: 'secret' as const, ...m.secret } : undefined) ??
      (m.kms ? { source: 'kms' as const, uri: m.kms } : undefined);
    if (!ref) {
      if (!m.publicKeys) throw new VouchError('ERR_KYVERNO_POLICY_INVALID', 'keys: a public key, kms key or secret is required');
      return m.publicKeys;
    }
    if (!options.resolveKey) {
      throw new VouchError(
        'ERR_TRUST_MATERIAL_MISSING',
        `${requestText(ref)}: the key is not available offline (no key resolver is configured); put the PEM public key in keys.publicKeys`,
        { details: { material: 'key', ...ref } },
      );
    }
    const pem = await options.resolveKey(ref, signal);
    if (typeof pem !== 'string' || !pem.includes('PUBLIC KEY')) {
      throw new VouchError('ERR_TRUST_MATERIAL_MISSING', `${requestText(ref)}: the resolver returned no PEM public key`, {
        details: { material: 'key', ...ref },
      });
    }
    return pem;
  }

  function trustOf(m: CosignAttestorMaterial, key: string | undefined): TrustMaterial {
    let roots: string | undefined;
    if (m.form === 'keyless') roots = m.roots;
    else if (m.form === 'certificates' && m.certChain) roots = m.certChain;
    let pem: TrustMaterial;
    try {
      pem = trustMaterialFromPem({
        ...(key ? { publicKeys: key } : {}),
        ...(roots ? { roots } : {}),
        ...(m.rekorPubKey ? { rekorPublicKeys: m.rekorPubKey } : {}),
        ...(m.ctlogPubKey ? { ctlogPublicKeys: m.ctlogPubKey } : {}),
        ...(m.tsaCertChain ? { tsaCertChain: m.tsaCertChain } : {}),
      });
    } catch (e) {
      if (isVouchError(e)) throw new VouchError('ERR_KYVERNO_POLICY_INVALID', e.message, { cause: e });
      throw e;
    }
    const root = options.trustedRoot;
    if (!root) return pem;
    // the trusted root stands in where Kyverno would fetch the public-good material over TUF
    const fulcio = m.form === 'keyless' || m.form === 'none' || m.sigstoreBundle;
    return {
      source: pem.source,
      tlogs: pem.tlogs.length > 0 ? pem.tlogs : root.tlogs,
      ctlogs: pem.ctlogs.length > 0 ? pem.ctlogs : root.ctlogs,
      certificateAuthorities: pem.certificateAuthorities.length > 0 || !fulcio ? pem.certificateAuthorities : root.certificateAuthorities,
      timestampAuthorities: pem.timestampAuthorities.length > 0 || !m.sigstoreBundle ? pem.timestampAuthorities : root.timestampAuthorities,
      publicKeys: pem.publicKeys,
    };
  }

  async function policyOf(
    m: CosignAttestorMaterial,
    signal: AbortSignal | undefined,
  ): Promise<VerifyPolicyOptions & { certificate?: string; forms?: readonly CosignForm[]; signatureRepository?: Repository }> {
    const key = await keyOf(m, signal);
    const trust = trustOf(m, key);
    const now = options.now?.();
    const out: VerifyPolicyOptions & { certificate?: string; forms?: readonly CosignForm[]; signatureRepository?: Repository } = {
      trust,
      ignoreTlog: m.ignoreTlog,
      ignoreSct: m.ignoreSct,
      ...(now ? { now } : {}),
    };
    if (key) out.key = key;
    else out.identity = 'any'; // the identity is matched afterwards, the way Kyverno matches it
    if (m.form === 'certificates' && m.cert && m.certChain) out.certificate = certPem(m.cert);
    if (m.sigstoreBundle) out.forms = ['bundle-referrer'];
    if (m.repository) out.signatureRepository = options.repositoryFor(parseReference(`${m.repository}:latest`, { normalize: true }));
    return out;
  }

  /** Adds what Kyverno did to a split multi-key entry to an error about the transparency log. */
  function explain(e: unknown, m: CosignAttestorMaterial): unknown {
    if (!m.split || !isVouchError(e) || !/transparency log|rekor/i.test(e.message)) return e;
    return new VouchError(
      e.code,
      `${e.message} (this key was split from a keys.publicKeys holding several keys; like Kyverno, vouch does not apply that entry's rekor, ctlog and signatureAlgorithm settings to the split keys: write one key per entry)`,
      { cause: e, ...(e.details ? { details: e.details } : {}) },
    );
  }

  function target(image: string): { repository: Repository; reference: string } {
    const ref = parseReference(image, { normalize: true });
    return { repository: options.repositoryFor(ref), reference: ref.digest ?? ref.tag ?? 'latest' };
  }

  /** Kyverno's identity check over the verified signatures: one must match (Cosign); SigstoreBundle drops those that do not. */
  function matching(verified: readonly CosignSignatureOutcome[], m: CosignAttestorMaterial): CosignSignatureOutcome[] {
    if (!hasIdentity(m)) return [...verified];
    const ok: CosignSignatureOutcome[] = [];
    const errors: string[] = [];
    for (const o of verified) {
      const signer = o.verification?.signer;
      const why = signer ? certificateMismatch(signer, m, m.sigstoreBundle) : 'certificate not found';
      if (why === undefined) ok.push(o);
      else errors.push(why);
    }
    if (ok.length === 0) {
      if (m.sigstoreBundle)
        throw new VouchError('ERR_IDENTITY_UNTRUSTED', 'sigstore bundle verification failed: no matching signatures found');
      throw new VouchError('ERR_IDENTITY_UNTRUSTED', errors.join('; ') || 'invalid signature');
    }
    return ok;
  }

  /**
   * `type: SigstoreBundle` image check: like Kyverno, every Sigstore bundle referrer of the image
   * counts, whatever its predicate type (a GitHub artifact attestation signs the image as well as
   * cosign 3's `sign/v1` bundle does); at least one must verify and match the identity. (With
   * `annotations`, only image-signature bundles are read: only they carry the annotations.)
   */
  async function anyBundle(o: Parameters<typeof verifyCosignSignatures>[0], m: CosignAttestorMaterial): Promise<string> {
    const verified: CosignSignatureOutcome[] = [];
    let subject: string | undefined;
    let first: unknown;
    for (const verify of [verifyCosignSignatures, verifyCosignAttestations]) {
      try {
        const r = await verify(o);
        verified.push(...r.verified);
        subject = r.subject.digest;
      } catch (e) {
        if (!isVouchError(e) || (e.code !== 'ERR_SIGNATURE_NOT_FOUND' && e.code !== 'ERR_VERIFICATION_FAILED')) throw e;
        // report a failed verification before an absence
        if (first === undefined || (e.code === 'ERR_VERIFICATION_FAILED' && (first as VouchError).code !== e.code)) first = e;
      }
    }
    if (verified.length === 0 || subject === undefined) throw first;
    matching(verified, m);
    return subject;
  }

  async function run<T>(m: CosignAttestorMaterial, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw explain(e, m);
    }
  }

  return {
    async verifyImage({ image, attestor: m, signal }) {
      return run(m, async () => {
        const policy = await policyOf(m, signal);
        const common = {
          ...target(image),
          ...policy,
          ...(options.maxSignatures !== undefined ? { maxSignatures: options.maxSignatures } : {}),
          ...(signal ? { signal } : {}),
        };
        if (m.sigstoreBundle && !m.annotations) return { digest: await anyBundle(common, m) };
        const result: CosignVerifyResult = await verifyCosignSignatures({
          ...common,
          ...(m.annotations ? { annotations: m.annotations } : {}),
        });
        matching(result.verified, m);
        return { digest: result.subject.digest };
      });
    },
    async verifyAttestations({ image, type, attestor: m, signal }) {
      return run(m, async () => {
        const policy = await policyOf(m, signal);
        const result = await verifyCosignAttestations({
          ...target(image),
          ...policy,
          ...(options.maxSignatures !== undefined ? { maxSignatures: options.maxSignatures } : {}),
          ...(signal ? { signal } : {}),
        });
        const ofType = result.verified.filter((o) => o.statement?.predicateType === type);
        let kept = ofType;
        if (ofType.length > 0 && hasIdentity(m)) {
          if (m.sigstoreBundle) kept = matching(ofType, m);
          else {
            // Kyverno: every attestation of the type must match the identity
            for (const o of ofType) {
              const why = o.verification ? certificateMismatch(o.verification.signer, m) : 'certificate not found';
              if (why !== undefined) throw new VouchError('ERR_IDENTITY_UNTRUSTED', why);
            }
          }
        }
        const attestations: NotaryAttestation[] = kept.map((o) => {
          const statement: Record<string, unknown> = { ...(o.statement as unknown as Record<string, unknown>), type };
          return { digest: o.manifest, type, predicate: statement.predicate, statement };
        });
        return { digest: result.subject.digest, attestations };
      });
    },
    async resolveDigest(image, signal) {
      const ref = parseReference(image, { normalize: true });
      if (ref.digest) return ref.digest;
      const d = await options.repositoryFor(ref).resolve(ref.tag ?? 'latest', signal ? { signal } : undefined);
      return d.digest;
    },
  };
}
