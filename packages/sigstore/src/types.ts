/**
 * The public model of @vouch/sigstore: trust material, parsed bundles and entries, what a
 * verification is asked to check and what it reports. Plain data only (no class instances
 * besides `Certificate` objects from @vouch/x509 and `Date`), so results serialise to JSON.
 */
import type { HashAlgorithm, NamedCurve, VouchError } from '@vouch/core';
import type { Certificate } from '@vouch/x509';

// ---------------------------------------------------------------- keys and time

/**
 * A public key as Sigstore uses it: RSA, EC (P-256, P-384, P-521) or Ed25519 (Rekor v2
 * checkpoints), with its DER SubjectPublicKeyInfo.
 */
export interface SigstorePublicKey {
  readonly type: 'RSA' | 'EC' | 'Ed25519';
  /** RSA modulus size, EC field size, 256 for Ed25519. */
  readonly bits: number;
  /** EC only. */
  readonly curve?: NamedCurve;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
}

/**
 * A closed interval of trust (both ends included, as Sigstore's `TimeRange`). `start` is
 * always set for material from a trusted root; `end` absent means "still valid".
 */
export interface ValidityWindow {
  readonly start?: Date;
  readonly end?: Date;
}

// ---------------------------------------------------------------- trust material

/** A transparency log (Rekor) or certificate transparency log, identified by its log ID. */
export interface TransparencyLogKey {
  /**
   * The log ID: SHA-256 of the key's DER SubjectPublicKeyInfo (Rekor v1, CT logs), or the
   * signed-note key ID of a Rekor v2 log (SHA-256 of name, newline, 0x01 and the Ed25519 key).
   */
  readonly logId: Uint8Array;
  readonly key: SigstorePublicKey;
  readonly validFor: ValidityWindow;
  /** The log's URL, when known (`baseUrl` of a trusted root). */
  readonly baseUrl?: string;
  /**
   * The name that signs the log's checkpoints (the host of `baseUrl`, e.g. `rekor.sigstore.dev`);
   * undefined when unknown (PEM material), in which case any name with a matching key hint is
   * accepted.
   */
  readonly checkpointName?: string;
}

/** A certificate authority (Fulcio, a private CA) or a timestamping authority. */
export interface CertificateAuthority {
  /** The chain as the trust material lists it: intermediates first, the trust anchor last. */
  readonly certChain: readonly Certificate[];
  readonly validFor: ValidityWindow;
  readonly uri?: string;
}

/** A public key trusted to sign artifacts directly (cosign `--key`, Kyverno `keys.publicKeys`). */
export interface TrustedPublicKey {
  readonly key: SigstorePublicKey;
  /** Hint a bundle names the key by (`verificationMaterial.publicKey.hint`); default: none. */
  readonly hint?: string;
  readonly validFor: ValidityWindow;
}

/**
 * Everything a Sigstore verification may trust, as one value: built from a Sigstore
 * `trusted_root.json` ({@link parseTrustedRoot}) or straight from PEM material as a Kyverno
 * policy or cosign flags carry it ({@link trustMaterialFromPem}). Never fetched: a check that
 * needs material that is not here fails with `ERR_TRUST_MATERIAL_MISSING`, naming the field to set.
 */
export interface TrustMaterial {
  /** Where the material came from; error messages name that source's fields. */
  readonly source: 'trusted-root' | 'pem';
  /** Rekor logs (SETs, checkpoints). */
  readonly tlogs: readonly TransparencyLogKey[];
  /** Certificate transparency logs (embedded SCTs). */
  readonly ctlogs: readonly TransparencyLogKey[];
  /** CAs that issue signing certificates (Fulcio, or the roots of a private PKI). */
  readonly certificateAuthorities: readonly CertificateAuthority[];
  /** RFC 3161 timestamping authorities. */
  readonly timestampAuthorities: readonly CertificateAuthority[];
  /** Keys trusted to sign artifacts directly. */
  readonly publicKeys: readonly TrustedPublicKey[];
}

// ---------------------------------------------------------------- parsed material

/** The media types of Sigstore bundles, both spellings of v0.3. */
export type BundleMediaType =
  | 'application/vnd.dev.sigstore.bundle+json;version=0.1'
  | 'application/vnd.dev.sigstore.bundle+json;version=0.2'
  | 'application/vnd.dev.sigstore.bundle+json;version=0.3'
  | 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** A DSSE envelope (payload and signatures decoded). */
export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  readonly signatures: readonly { readonly keyid?: string; readonly sig: Uint8Array }[];
}

/** An in-toto statement (v0.1 or v1), as the DSSE payload of an attestation carries it. */
export interface InTotoStatement {
  /** `https://in-toto.io/Statement/v1` or `https://in-toto.io/Statement/v0.1`. */
  readonly type: string;
  readonly subject: readonly { readonly name: string; readonly digest: Readonly<Record<string, string>> }[];
  readonly predicateType: string;
  /** The predicate, as JSON (absent when the statement has none). */
  readonly predicate?: unknown;
}

/** An inclusion proof of an entry in a Merkle tree (RFC 6962 / RFC 9162). */
export interface InclusionProof {
  /** Index of the entry in the tree the proof is for (shard-local for Rekor v1). */
  readonly logIndex: number;
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  readonly hashes: readonly Uint8Array[];
  /** The signed checkpoint (signed-note text); absent only in v0.1 bundles. */
  readonly checkpoint?: string;
}

/** One transparency log entry as a bundle (or a cosign SET annotation) carries it. */
export interface TlogEntry {
  readonly logIndex: number;
  readonly logId: Uint8Array;
  /** `hashedrekord`, `dsse`, `intoto`. */
  readonly kind: string;
  /** `0.0.1`, `0.0.2`. */
  readonly version: string;
  /** Seconds since the epoch (Rekor v1); Rekor v2 entries have none. */
  readonly integratedTime?: number;
  /** The signed entry timestamp (SET), DER signature. */
  readonly signedEntryTimestamp?: Uint8Array;
  readonly inclusionProof?: InclusionProof;
  /** The canonicalized entry body (JSON bytes). */
  readonly canonicalizedBody: Uint8Array;
}

/** A parsed Sigstore bundle (v0.1, v0.2 or v0.3). */
export interface Bundle {
  readonly mediaType: BundleMediaType;
  readonly version: '0.1' | '0.2' | '0.3';
  /** The signing certificate (v0.3 `certificate`, or the first of a v0.1/v0.2 chain). */
  readonly certificate?: Certificate;
  /** Further certificates of a v0.1/v0.2 `x509CertificateChain` (intermediates). */
  readonly intermediates: readonly Certificate[];
  /** `publicKey.hint` of a key-signed bundle ('' when the bundle names none). */
  readonly publicKeyHint?: string;
  readonly tlogEntries: readonly TlogEntry[];
  /** DER RFC 3161 timestamp tokens. */
  readonly rfc3161Timestamps: readonly Uint8Array[];
  readonly content:
    | {
        readonly type: 'messageSignature';
        readonly signature: Uint8Array;
        /** The digest the bundle claims (an unauthenticated hint, checked against the artifact). */
        readonly messageDigest?: { readonly algorithm: HashAlgorithm; readonly digest: Uint8Array };
      }
    | { readonly type: 'dsseEnvelope'; readonly envelope: DsseEnvelope };
}

/** Fulcio's certificate extensions (OID arc 1.3.6.1.4.1.57264.1), those present. */
export interface FulcioExtensions {
  /** `.1.8` (DER UTF8String), or the deprecated `.1.1` (raw text). */
  readonly issuer?: string;
  /** `.1.2` (deprecated; also `githubWorkflowTrigger`). */
  readonly githubWorkflowTrigger?: string;
  /** `.1.3` */
  readonly githubWorkflowSha?: string;
  /** `.1.4` */
  readonly githubWorkflowName?: string;
  /** `.1.5` */
  readonly githubWorkflowRepository?: string;
  /** `.1.6` */
  readonly githubWorkflowRef?: string;
  /** `.1.9` */
  readonly buildSignerUri?: string;
  /** `.1.10` */
  readonly buildSignerDigest?: string;
  /** `.1.11` */
  readonly runnerEnvironment?: string;
  /** `.1.12` */
  readonly sourceRepositoryUri?: string;
  /** `.1.13` */
  readonly sourceRepositoryDigest?: string;
  /** `.1.14` */
  readonly sourceRepositoryRef?: string;
  /** `.1.15` */
  readonly sourceRepositoryIdentifier?: string;
  /** `.1.16` */
  readonly sourceRepositoryOwnerUri?: string;
  /** `.1.17` */
  readonly sourceRepositoryOwnerIdentifier?: string;
  /** `.1.18` */
  readonly buildConfigUri?: string;
  /** `.1.19` */
  readonly buildConfigDigest?: string;
  /** `.1.20` */
  readonly buildTrigger?: string;
  /** `.1.21` */
  readonly runInvocationUri?: string;
  /** `.1.22` */
  readonly sourceRepositoryVisibilityAtSigning?: string;
}

// ---------------------------------------------------------------- policy

/**
 * Who must have signed, for a certificate signer. Every field given must match. Subjects are
 * matched against every subject alternative name of the certificate (email, URI, DNS, IP, and
 * Fulcio's username otherName). Regular expressions are unanchored, as cosign's (Go's
 * `MatchString`): write `^…$` to match whole values.
 */
export interface CertificateIdentity {
  /** Exact SAN value (cosign `--certificate-identity`, Kyverno `subject` without wildcards). */
  readonly subject?: string;
  /** (cosign `--certificate-identity-regexp`, Kyverno `subjectRegExp`). */
  readonly subjectRegExp?: string | RegExp;
  /** Exact OIDC issuer (cosign `--certificate-oidc-issuer`, Kyverno `issuer`). */
  readonly issuer?: string;
  /** (cosign `--certificate-oidc-issuer-regexp`, Kyverno `issuerRegExp`). */
  readonly issuerRegExp?: string | RegExp;
  /** Fulcio extension values that must be equal (cosign `--certificate-github-workflow-*`, Kyverno `additionalExtensions`). */
  readonly extensions?: Partial<FulcioExtensions>;
}

/** A public key given by the caller: PEM text (one `PUBLIC KEY` block), DER SPKI bytes, or a parsed key. */
export type PublicKeyInput = string | Uint8Array | SigstorePublicKey;

/** What every verification is told (see {@link VerifyBundleOptions}, {@link VerifyCosignSignatureOptions}). */
export interface VerifyPolicyOptions {
  /** Keys, logs, CAs and TSAs to trust. */
  trust: TrustMaterial;
  /**
   * For certificate signers: the identities accepted (any one may match). Required for a
   * certificate signer; `'any'` accepts any identity the trusted CAs issued (use with care:
   * Kyverno `certificates` attestors pin a certificate instead).
   */
  identity?: CertificateIdentity | readonly CertificateIdentity[] | 'any';
  /**
   * For key signers: the key(s) the signature must verify with (any one). Default: the
   * trust material's `publicKeys` (matched by the bundle's key hint when it names one).
   */
  key?: PublicKeyInput | readonly PublicKeyInput[];
  /**
   * Do not require a transparency log entry (cosign `--insecure-ignore-tlog`, Kyverno
   * `rekor.ignoreTlog`). Entries present are still verified when the trust material has their
   * log; a certificate is then checked at a verified RFC 3161 time, or at `now` (with a warning).
   */
  ignoreTlog?: boolean;
  /** Do not require an embedded SCT (cosign `--insecure-ignore-sct`, Kyverno `ctlog.ignoreSCT`). */
  ignoreSct?: boolean;
  /** Verified transparency log entries required (default 1; 0 only with `ignoreTlog`). */
  tlogThreshold?: number;
  /** Verified SCTs required for a certificate signer (default 1; ignored with `ignoreSct`). */
  ctlogThreshold?: number;
  /** The current time, for certificate checks when no verified timestamp exists (default `new Date()`). */
  now?: Date;
}

/** Options of {@link verifyBundle}. */
export interface VerifyBundleOptions extends VerifyPolicyOptions {
  /**
   * The artifact. A message signature is verified over these bytes; for a DSSE bundle, one
   * in-toto subject must carry its digest. Give this or `digest`.
   */
  artifact?: Uint8Array;
  /**
   * The artifact's digest (`sha256:<hex>`, `sha384:…`, `sha512:…`), for a DSSE bundle whose
   * in-toto subject must carry it (an image digest, a blob's digest). A message signature
   * cannot be checked from a digest alone (WebCrypto has no pre-hashed ECDSA): give `artifact`.
   */
  digest?: string;
}

/** A cosign signature in the legacy (pre-bundle) registry form, as the cosign helpers find it. */
export interface CosignSignature {
  /**
   * What was signed: a message (the simple-signing payload of a `.sig` layer, or a blob) with
   * its raw signature (the `dev.cosignproject.cosign/signature` annotation, base64-decoded), or
   * a DSSE envelope (an `.att` layer: JSON text, bytes, or parsed).
   */
  content:
    | { readonly type: 'message'; readonly payload: Uint8Array; readonly signature: Uint8Array }
    | { readonly type: 'dsse'; readonly envelope: string | Uint8Array | DsseEnvelope };
  /** The signing certificate (`dev.sigstore.cosign/certificate`): PEM, DER or parsed. */
  certificate?: string | Uint8Array | Certificate;
  /** The rest of the chain (`dev.sigstore.cosign/chain`): PEM (several blocks) or parsed, intermediates then root. */
  chain?: string | readonly Certificate[];
  /**
   * The Rekor bundle (`dev.sigstore.cosign/bundle`): its JSON text or object
   * `{ SignedEntryTimestamp, Payload: { body, integratedTime, logIndex, logID } }`.
   */
  rekorBundle?: string | RekorBundle;
  /**
   * An RFC 3161 timestamp over the signature (`dev.sigstore.cosign/rfc3161timestamp`): the
   * annotation's JSON text `{"SignedRFC3161Timestamp":"<base64>"}`, or the DER token.
   */
  rfc3161Timestamp?: string | Uint8Array;
}

/** cosign's Rekor bundle annotation, as JSON. */
export interface RekorBundle {
  readonly SignedEntryTimestamp: string;
  readonly Payload: {
    readonly body: string;
    readonly integratedTime: number;
    readonly logIndex: number;
    readonly logID: string;
  };
}

/** Options of {@link verifyCosignSignature}. */
export interface VerifyCosignSignatureOptions extends VerifyPolicyOptions {
  /**
   * For a DSSE (attestation) signature: the digest one in-toto subject must carry (the image
   * digest). Ignored for message signatures, whose payload the caller checks (the
   * simple-signing `docker-manifest-digest`).
   */
  digest?: string;
}

// ---------------------------------------------------------------- results

/** The signer, once verified. */
export type VerifiedSigner =
  | {
      readonly type: 'certificate';
      readonly certificate: Certificate;
      /** The chain the certificate was validated with: leaf first, trust anchor last. */
      readonly chain: readonly Certificate[];
      /** Every subject alternative name value. */
      readonly subjectAlternativeNames: readonly string[];
      readonly extensions: FulcioExtensions;
    }
  | { readonly type: 'key'; readonly key: SigstorePublicKey; readonly hint?: string };

/** A time the signature is proven to have existed at. */
export interface VerifiedTime {
  /** `tlog`: a verified SET's integrated time; `timestamp-authority`: a verified RFC 3161 token's genTime. */
  readonly source: 'tlog' | 'timestamp-authority';
  readonly time: Date;
}

/** A transparency log entry that verified. */
export interface VerifiedTlogEntry {
  readonly logId: Uint8Array;
  readonly logIndex: number;
  readonly kind: string;
  readonly version: string;
  readonly integratedTime?: number;
  /** What proved inclusion: the SET, the inclusion proof with its signed checkpoint, or both. */
  readonly proof: readonly ('set' | 'inclusion-proof')[];
}

/** What a successful verification proves. */
export interface SigstoreVerification {
  readonly signer: VerifiedSigner;
  /** What was signed. */
  readonly content:
    | { readonly type: 'message' }
    | { readonly type: 'dsse'; readonly payloadType: string; readonly payload: Uint8Array; readonly statement?: InTotoStatement };
  readonly times: readonly VerifiedTime[];
  readonly tlogEntries: readonly VerifiedTlogEntry[];
  /** Embedded SCTs that verified (count). */
  readonly verifiedScts: number;
  /** Things checked loosely on purpose (e.g. a certificate checked at `now`); never a failure. */
  readonly warnings: VouchError[];
}
