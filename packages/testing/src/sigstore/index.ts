/**
 * `@vouch/testing/sigstore` — a Sigstore stack in memory for tests, benchmarks and the
 * cross-runtime runs (WebCrypto only): a Rekor log (v1: ECDSA P-256 with SETs; v2: Ed25519,
 * checkpoints only) that keeps a real RFC 6962 Merkle tree and hands out inclusion proofs and
 * signed checkpoints, a CT log that signs SCTs over precertificates, a Fulcio-like CA that issues
 * code-signing certificates with SANs, Fulcio extensions and embedded SCTs, and builders of
 * bundles (v0.1–v0.3, message signatures and DSSE) and of cosign's legacy annotations. The trust
 * material comes out as a `trusted_root.json` object or as PEM, as a Kyverno policy carries it.
 *
 * Nothing here verifies: it produces what real Sigstore services produce, so @vouch/sigstore's
 * tests can check it (and tamper with it).
 */

import { encodePem, utf8 } from '@vouch/core';
import { decode, encOctets, encSeq, seq, tlv } from '@vouch/core/asn1';
import { concatBytes, ecdsaP1363ToDer, fromBase64, hashBytes, toBase64, toHex, uintBytes as u } from '@vouch/core/internal';
import { type Certificate, type CertificateWithKey, createCertificate } from '@vouch/x509';

const subtle = () => globalThis.crypto.subtle;
const ab = (b: Uint8Array): Uint8Array<ArrayBuffer> => b as Uint8Array<ArrayBuffer>;

export const FULCIO_OID = '1.3.6.1.4.1.57264.1.';
export const SCT_LIST_OID = '1.3.6.1.4.1.11129.2.4.2';

/** Sign with ECDSA (DER signature, the curve's hash) or Ed25519. */
export async function signBytes(privateKey: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  const alg = privateKey.algorithm as EcKeyAlgorithm;
  if (alg.name === 'Ed25519') return new Uint8Array(await subtle().sign({ name: 'Ed25519' }, privateKey, ab(data)));
  const hash = alg.namedCurve === 'P-384' ? 'SHA-384' : alg.namedCurve === 'P-521' ? 'SHA-512' : 'SHA-256';
  return ecdsaP1363ToDer(new Uint8Array(await subtle().sign({ name: 'ECDSA', hash }, privateKey, ab(data))));
}

export async function generateEcdsa(curve: 'P-256' | 'P-384' = 'P-256'): Promise<CryptoKeyPair> {
  return (await subtle().generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function spkiOf(publicKey: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await subtle().exportKey('spki', publicKey));
}

// ---------------------------------------------------------------- Merkle tree (RFC 6962 §2.1)

const leafHash = (e: Uint8Array) => hashBytes(concatBytes(new Uint8Array([0]), e), 'sha256');
const nodeHash = (l: Uint8Array, r: Uint8Array) => hashBytes(concatBytes(new Uint8Array([1]), l, r), 'sha256');

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) of RFC 6962 over leaf hashes. */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return hashBytes(new Uint8Array(0), 'sha256');
  if (leaves.length === 1) return leaves[0]!;
  const k = largestPowerOfTwoBelow(leaves.length);
  return nodeHash(merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf `m`. */
export function auditPath(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  if (m < k) return [...auditPath(m, leaves.slice(0, k)), merkleRoot(leaves.slice(k))];
  return [...auditPath(m - k, leaves.slice(k)), merkleRoot(leaves.slice(0, k))];
}

// ---------------------------------------------------------------- logs

/** The JSON of one bundle `TransparencyLogEntry`. */
export interface TlogEntryJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime?: string;
  inclusionPromise?: { signedEntryTimestamp: string };
  inclusionProof?: { logIndex: string; rootHash: string; treeSize: string; hashes: string[]; checkpoint?: { envelope: string } };
  canonicalizedBody: string;
}

/** A Rekor log in memory. */
export interface TestLog {
  readonly kind: 'v1' | 'v2';
  /** The checkpoint key name (and v2 origin). */
  readonly name: string;
  readonly origin: string;
  readonly baseUrl: string;
  readonly publicKeyPem: string;
  readonly spki: Uint8Array;
  readonly logId: Uint8Array;
  readonly privateKey: CryptoKey;
  /**
   * Append `body` (canonicalized JSON) and return its entry: v1 with a SET over the integrated
   * time (seconds) and an inclusion proof with a signed checkpoint; v2 with the proof only. With
   * `padding`, that many unrelated entries are appended first (a deeper tree).
   */
  append(body: Uint8Array, options?: { integratedTime?: number; padding?: number; setOnly?: boolean }): Promise<TlogEntryJson>;
}

/** A signed note over `text` by `name`: `— name base64(hint ‖ signature)`. */
export async function signNote(text: string, name: string, hint: Uint8Array, privateKey: CryptoKey): Promise<string> {
  const sig = await signBytes(privateKey, utf8(text));
  return `${text}\n\u2014 ${name} ${toBase64(concatBytes(hint.subarray(0, 4), sig))}\n`;
}

/** The C2SP note key ID of an Ed25519 key: SHA-256(name ‖ "\n" ‖ 0x01 ‖ key). */
export function noteKeyId(name: string, spki: Uint8Array): Uint8Array {
  return hashBytes(concatBytes(utf8(`${name}\n`), new Uint8Array([1]), spki.subarray(spki.length - 32)), 'sha256');
}

/** The SET payload: canonical JSON of body, integratedTime, logID (hex) and logIndex. */
export function setPayload(body: Uint8Array, integratedTime: number, logId: Uint8Array, logIndex: number): Uint8Array {
  return utf8(`{"body":"${toBase64(body)}","integratedTime":${integratedTime},"logID":"${toHex(logId)}","logIndex":${logIndex}}`);
}

export async function createTestLog(
  kind: 'v1' | 'v2' = 'v1',
  name = kind === 'v1' ? 'rekor.test' : 'log2025.rekor.test',
): Promise<TestLog> {
  const pair =
    kind === 'v1' ? await generateEcdsa() : ((await subtle().generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair);
  const spki = await spkiOf(pair.publicKey);
  const logId = kind === 'v1' ? hashBytes(spki, 'sha256') : noteKeyId(name, spki);
  const origin = kind === 'v1' ? `${name} - 1193050959916656506` : name;
  const leaves: Uint8Array[] = [];
  // Rekor v1 shards: the global index is ahead of the shard-local one.
  const shardOffset = kind === 'v1' ? 1000 : 0;
  return {
    kind,
    name,
    origin,
    baseUrl: `https://${name}`,
    publicKeyPem: encodePem('PUBLIC KEY', spki),
    spki,
    logId,
    privateKey: pair.privateKey,
    async append(body, options = {}) {
      for (let i = 0; i < (options.padding ?? 0); i++) leaves.push(leafHash(utf8(`padding ${leaves.length}`)));
      const index = leaves.length;
      leaves.push(leafHash(body));
      const size = leaves.length;
      const root = merkleRoot(leaves);
      const entry: TlogEntryJson = {
        logIndex: String(index + shardOffset),
        logId: { keyId: toBase64(logId) },
        kindVersion: kindOf(body),
        canonicalizedBody: toBase64(body),
      };
      if (kind === 'v1') {
        const t = options.integratedTime ?? Math.floor(Date.now() / 1000);
        entry.integratedTime = String(t);
        entry.inclusionPromise = {
          signedEntryTimestamp: toBase64(await signBytes(pair.privateKey, setPayload(body, t, logId, index + shardOffset))),
        };
      }
      if (!options.setOnly) {
        const text = `${origin}\n${size}\n${toBase64(root)}\n`;
        const hint = kind === 'v1' ? logId : noteKeyId(name, spki);
        entry.inclusionProof = {
          logIndex: String(index),
          rootHash: toBase64(root),
          treeSize: String(size),
          hashes: auditPath(index, leaves).map(toBase64),
          checkpoint: { envelope: await signNote(text, name, hint, pair.privateKey) },
        };
      }
      return entry;
    },
  };
}

function kindOf(body: Uint8Array): { kind: string; version: string } {
  const j = JSON.parse(new TextDecoder().decode(body)) as { kind: string; apiVersion: string };
  return { kind: j.kind, version: j.apiVersion };
}

// ---------------------------------------------------------------- CT log and Fulcio

export interface TestCtLog {
  readonly publicKeyPem: string;
  readonly spki: Uint8Array;
  readonly logId: Uint8Array;
  readonly privateKey: CryptoKey;
}

export async function createTestCtLog(): Promise<TestCtLog> {
  const pair = await generateEcdsa();
  const spki = await spkiOf(pair.publicKey);
  return { publicKeyPem: encodePem('PUBLIC KEY', spki), spki, logId: hashBytes(spki, 'sha256'), privateKey: pair.privateKey };
}

/** An SCT (RFC 6962 §3.2) by `log` over a precertificate TBS issued by the holder of `issuerSpki`. */
export async function signSct(
  log: TestCtLog,
  tbs: Uint8Array,
  issuerSpki: Uint8Array,
  timestamp: number,
  extensions = new Uint8Array(0),
): Promise<Uint8Array> {
  const signed = concatBytes(
    new Uint8Array([0, 0]),
    u(timestamp, 8),
    u(1, 2),
    hashBytes(issuerSpki, 'sha256'),
    u(tbs.length, 3),
    tbs,
    u(extensions.length, 2),
    extensions,
  );
  const sig = await signBytes(log.privateKey, signed);
  return concatBytes(
    new Uint8Array([0]),
    log.logId,
    u(timestamp, 8),
    u(extensions.length, 2),
    extensions,
    new Uint8Array([4, 3]),
    u(sig.length, 2),
    sig,
  );
}

/** The SCT list extension value (an OCTET STRING holding the TLS list) for `scts`. */
export function sctListExtension(scts: readonly Uint8Array[]): Uint8Array {
  const items = concatBytes(...scts.flatMap((s) => [u(s.length, 2), s]));
  return encOctets(concatBytes(u(items.length, 2), items));
}

/** What a Fulcio-like certificate says about its subject. */
export interface IdentityOptions {
  /** SAN: a URI (contains `://`) or an email. */
  subject: string;
  /** OIDC issuer (extension .1.8; `legacyIssuer` also writes the deprecated .1.1). */
  issuer?: string;
  legacyIssuer?: boolean;
  /** Further Fulcio extensions by number (`{ 5: 'org/repo' }` → .1.5), raw for 2–6, UTF8String from 9 on. */
  extensions?: Readonly<Record<number, string>>;
  notBefore?: Date;
  notAfter?: Date;
  /** Embed an SCT from this CT log (default: the stack's); `false`: none. */
  sct?: TestCtLog | false;
  /** Extended key usages (default codeSigning). */
  extKeyUsage?: readonly string[];
  /** The signer's key pair (default: a fresh ECDSA P-256 pair). */
  keyPair?: CryptoKeyPair;
}

export interface TestFulcio {
  readonly root: CertificateWithKey;
  readonly intermediate: CertificateWithKey;
  /** Root and intermediate, PEM (intermediate first). */
  readonly chainPem: string;
  issue(options: IdentityOptions): Promise<CertificateWithKey>;
}

function utf8String(s: string): Uint8Array {
  return tlv(0x0c, utf8(s));
}

function sanValue(subject: string): Uint8Array {
  return encSeq(subject.includes('://') ? tlv(0x86, utf8(subject)) : tlv(0x81, utf8(subject)));
}

export async function createTestFulcio(ctlog: TestCtLog, options: { notBefore?: Date; notAfter?: Date } = {}): Promise<TestFulcio> {
  const notBefore = options.notBefore ?? new Date(Date.now() - 86_400_000);
  const notAfter = options.notAfter ?? new Date(Date.now() + 10 * 365 * 86_400_000);
  const rootPair = await generateEcdsa('P-384');
  const rootCert = await createCertificate({
    subject: 'CN=sigstore-test,O=sigstore.test',
    publicKey: rootPair.publicKey,
    privateKey: rootPair.privateKey,
    notBefore,
    notAfter,
    basicConstraints: { ca: true, pathLen: 1 },
    keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
  });
  const root = { certificate: rootCert, privateKey: rootPair.privateKey };
  const intPair = await generateEcdsa('P-384');
  const intCert = await createCertificate({
    subject: 'CN=sigstore-test-intermediate,O=sigstore.test',
    publicKey: intPair.publicKey,
    issuer: root,
    notBefore,
    notAfter,
    basicConstraints: { ca: true, pathLen: 0 },
    keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
    extKeyUsage: { usages: ['codeSigning'] },
  });
  const intermediate = { certificate: intCert, privateKey: intPair.privateKey };
  return {
    root,
    intermediate,
    chainPem: encodePem('CERTIFICATE', intCert.der) + encodePem('CERTIFICATE', rootCert.der),
    async issue(o) {
      const pair = o.keyPair ?? (await generateEcdsa());
      const nb = o.notBefore ?? new Date(Date.now() - 60_000);
      const na = o.notAfter ?? new Date(nb.getTime() + 10 * 60_000);
      const serialNumber = toHex(globalThis.crypto.getRandomValues(new Uint8Array(16))).replace(/^[89a-f]/, '1');
      const exts: { oid: string; critical: boolean; value: Uint8Array }[] = [
        { oid: '2.5.29.17', critical: true, value: sanValue(o.subject) },
      ];
      if (o.issuer !== undefined) {
        if (o.legacyIssuer) exts.push({ oid: `${FULCIO_OID}1`, critical: false, value: utf8(o.issuer) });
        exts.push({ oid: `${FULCIO_OID}8`, critical: false, value: utf8String(o.issuer) });
      }
      for (const [n, v] of Object.entries(o.extensions ?? {})) {
        exts.push({ oid: `${FULCIO_OID}${n}`, critical: false, value: Number(n) <= 6 ? utf8(v) : utf8String(v) });
      }
      const base = {
        subject: [] as { type: string; value: string }[],
        publicKey: pair.publicKey,
        issuer: intermediate,
        serialNumber,
        notBefore: nb,
        notAfter: na,
        keyUsage: { usages: ['digitalSignature'] as const },
        extKeyUsage: { usages: o.extKeyUsage ?? ['codeSigning'] },
      };
      const log = o.sct === undefined ? ctlog : o.sct;
      if (!log) return { certificate: await createCertificate({ ...base, extensions: exts }), privateKey: pair.privateKey };
      const pre = await createCertificate({ ...base, extensions: exts });
      const tbs = precertTbs(pre);
      const sct = await signSct(log, tbs, intCert.publicKey.spki, nb.getTime() + 1000);
      const certificate = await createCertificate({
        ...base,
        extensions: [...exts, { oid: SCT_LIST_OID, critical: false, value: sctListExtension([sct]) }],
      });
      return { certificate, privateKey: pair.privateKey };
    },
  };
}

/** The TBSCertificate of a certificate without an SCT list (as issued before the SCT was added). */
function precertTbs(cert: Certificate): Uint8Array {
  return seq(decode(cert.der), 'Certificate')[0]!.raw;
}

// ---------------------------------------------------------------- Rekor bodies

const pemB64 = (label: string, der: Uint8Array) => toBase64(utf8(encodePem(label, der)));

/** The signer material a body names. */
export type BodySigner = { certificate: Certificate } | { spki: Uint8Array };

function verifierPem(s: BodySigner): string {
  return 'certificate' in s ? pemB64('CERTIFICATE', s.certificate.der) : pemB64('PUBLIC KEY', s.spki);
}

function v2Verifier(s: BodySigner): object {
  return 'certificate' in s
    ? { keyDetails: 'PKIX_ECDSA_P256_SHA_256', x509Certificate: { rawBytes: toBase64(s.certificate.der) } }
    : { keyDetails: 'PKIX_ECDSA_P256_SHA_256', publicKey: { rawBytes: toBase64(s.spki) } };
}

/** hashedrekord 0.0.1 (Rekor v1) or 0.0.2 (Rekor v2) over the SHA-256 of `signed`. */
export function hashedRekordBody(
  signed: Uint8Array,
  signature: Uint8Array,
  signer: BodySigner,
  version: '0.0.1' | '0.0.2' = '0.0.1',
): Uint8Array {
  const digest = hashBytes(signed, 'sha256');
  if (version === '0.0.2') {
    return utf8(
      JSON.stringify({
        apiVersion: '0.0.2',
        kind: 'hashedrekord',
        spec: {
          hashedRekordV002: {
            data: { algorithm: 'SHA2_256', digest: toBase64(digest) },
            signature: { content: toBase64(signature), verifier: v2Verifier(signer) },
          },
        },
      }),
    );
  }
  return utf8(
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: toHex(digest) } },
        signature: { content: toBase64(signature), publicKey: { content: verifierPem(signer) } },
      },
    }),
  );
}

/** dsse 0.0.1 over an envelope. */
export function dsseBody(envelope: { payload: Uint8Array; signature: Uint8Array; json: string }, signer: BodySigner): Uint8Array {
  return utf8(
    JSON.stringify({
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: toHex(hashBytes(utf8(envelope.json), 'sha256')) },
        payloadHash: { algorithm: 'sha256', value: toHex(hashBytes(envelope.payload, 'sha256')) },
        signatures: [{ signature: toBase64(envelope.signature), verifier: verifierPem(signer) }],
      },
    }),
  );
}

/** intoto 0.0.2 over an envelope (payload and signature base64 twice, as Rekor stores them). */
export function intotoBody(
  envelope: { payload: Uint8Array; payloadType: string; signature: Uint8Array; json: string },
  signer: BodySigner,
): Uint8Array {
  return utf8(
    JSON.stringify({
      apiVersion: '0.0.2',
      kind: 'intoto',
      spec: {
        content: {
          envelope: {
            payload: toBase64(utf8(toBase64(envelope.payload))),
            payloadType: envelope.payloadType,
            signatures: [{ publicKey: verifierPem(signer), sig: toBase64(utf8(toBase64(envelope.signature))) }],
          },
          hash: { algorithm: 'sha256', value: toHex(hashBytes(utf8(envelope.json), 'sha256')) },
          payloadHash: { algorithm: 'sha256', value: toHex(hashBytes(envelope.payload, 'sha256')) },
        },
      },
    }),
  );
}

// ---------------------------------------------------------------- DSSE

/** DSSE PAE. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const t = utf8(payloadType);
  return concatBytes(utf8(`DSSEv1 ${t.length} `), t, utf8(` ${payload.length} `), payload);
}

/** An in-toto v1 statement about one subject. */
export function inTotoStatement(
  subject: { name: string; sha256: string },
  predicateType = 'https://slsa.dev/provenance/v1',
  predicate: unknown = {},
): Uint8Array {
  return utf8(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: subject.name, digest: { sha256: subject.sha256 } }],
      predicateType,
      predicate,
    }),
  );
}

/** Sign a DSSE envelope; returns the JSON object and its parts. */
export async function signDsse(
  payload: Uint8Array,
  privateKey: CryptoKey,
  payloadType = 'application/vnd.in-toto+json',
): Promise<{ envelope: object; json: string; payload: Uint8Array; payloadType: string; signature: Uint8Array }> {
  const signature = await signBytes(privateKey, pae(payloadType, payload));
  const envelope = { payload: toBase64(payload), payloadType, signatures: [{ sig: toBase64(signature) }] };
  return { envelope, json: JSON.stringify(envelope), payload, payloadType, signature };
}

// ---------------------------------------------------------------- the stack

export interface TestSigstore {
  readonly rekor: TestLog;
  readonly rekorV2: TestLog;
  readonly ctlog: TestCtLog;
  readonly fulcio: TestFulcio;
  /** The stack as a `trusted_root.json` object (validity windows from a day ago). */
  trustedRoot(): object;
  /** The stack as PEM, as a Kyverno policy carries it. */
  pem(): { rekorPublicKeys: string; ctlogPublicKeys: string; roots: string };
}

export async function createTestSigstore(): Promise<TestSigstore> {
  const [rekor, rekorV2, ctlog] = await Promise.all([createTestLog('v1'), createTestLog('v2'), createTestCtLog()]);
  const fulcio = await createTestFulcio(ctlog);
  const start = new Date(Date.now() - 2 * 86_400_000).toISOString();
  const log = (l: TestLog, details: string) => ({
    baseUrl: l.baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: toBase64(l.spki), keyDetails: details, validFor: { start } },
    logId: { keyId: toBase64(l.logId) },
  });
  return {
    rekor,
    rekorV2,
    ctlog,
    fulcio,
    trustedRoot: () => ({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [log(rekor, 'PKIX_ECDSA_P256_SHA_256'), log(rekorV2, 'PKIX_ED25519')],
      certificateAuthorities: [
        {
          subject: { organization: 'sigstore.test', commonName: 'sigstore-test' },
          uri: 'https://fulcio.test',
          certChain: {
            certificates: [
              { rawBytes: toBase64(fulcio.intermediate.certificate.der) },
              { rawBytes: toBase64(fulcio.root.certificate.der) },
            ],
          },
          validFor: { start },
        },
      ],
      ctlogs: [
        {
          baseUrl: 'https://ctfe.test',
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: toBase64(ctlog.spki), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
          logId: { keyId: toBase64(ctlog.logId) },
        },
      ],
      timestampAuthorities: [],
    }),
    pem: () => ({ rekorPublicKeys: rekor.publicKeyPem, ctlogPublicKeys: ctlog.publicKeyPem, roots: fulcio.chainPem }),
  };
}

// ---------------------------------------------------------------- bundles

/** Who signs: a key pair (key-signed bundle) or a certificate with its key. */
export type TestSigner = { keyPair: CryptoKeyPair; hint?: string } | CertificateWithKey;

export interface BundleOptions {
  /** Default '0.3' (media type `application/vnd.dev.sigstore.bundle.v0.3+json`). */
  version?: '0.1' | '0.2' | '0.3';
  /** Use the `…bundle+json;version=0.3` spelling for v0.3. */
  legacyMediaType?: boolean;
  /** The log to record in (default the stack's Rekor v1); `false`: no entry. */
  log?: TestLog | false;
  /** For v0.1/v0.2 with a certificate: carry the intermediate too. */
  withIntermediate?: boolean;
  integratedTime?: number;
  /** DSSE: the body kind (default dsse 0.0.1 on v1 logs, hashedrekord 0.0.2 on v2). */
  dsseKind?: 'dsse' | 'intoto';
}

function mediaTypeOf(o: BundleOptions): string {
  const v = o.version ?? '0.3';
  return v === '0.3' && !o.legacyMediaType
    ? 'application/vnd.dev.sigstore.bundle.v0.3+json'
    : `application/vnd.dev.sigstore.bundle+json;version=${v}`;
}

async function materialOf(
  stack: TestSigstore,
  signer: TestSigner,
  o: BundleOptions,
): Promise<{ vm: Record<string, unknown>; body: BodySigner; key: CryptoKey }> {
  if ('keyPair' in signer) {
    const spki = await spkiOf(signer.keyPair.publicKey);
    return { vm: { publicKey: { hint: signer.hint ?? '' } }, body: { spki }, key: signer.keyPair.privateKey };
  }
  const v = o.version ?? '0.3';
  const vm =
    v === '0.3'
      ? { certificate: { rawBytes: toBase64(signer.certificate.der) } }
      : {
          x509CertificateChain: {
            certificates: [signer.certificate, ...(o.withIntermediate ? [stack.fulcio.intermediate.certificate] : [])].map((c) => ({
              rawBytes: toBase64(c.der),
            })),
          },
        };
  return { vm, body: { certificate: signer.certificate }, key: signer.privateKey };
}

/** Append `body` to `log` as a bundle of options `o` records it (v0.1: SET only). */
async function logged(log: TestLog, body: Uint8Array, o: BundleOptions): Promise<TlogEntryJson[]> {
  return [await log.append(body, { ...(o.integratedTime ? { integratedTime: o.integratedTime } : {}), setOnly: o.version === '0.1' })];
}

/** A bundle (JSON object) with a message signature over `artifact`. */
export async function messageBundle(
  stack: TestSigstore,
  artifact: Uint8Array,
  signer: TestSigner,
  o: BundleOptions = {},
): Promise<Record<string, unknown>> {
  const { vm, body, key } = await materialOf(stack, signer, o);
  const signature = await signBytes(key, artifact);
  const log = o.log === undefined ? stack.rekor : o.log;
  const tlogEntries = log ? await logged(log, hashedRekordBody(artifact, signature, body, log.kind === 'v2' ? '0.0.2' : '0.0.1'), o) : [];
  return {
    mediaType: mediaTypeOf(o),
    verificationMaterial: { ...vm, tlogEntries },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: toBase64(hashBytes(artifact, 'sha256')) },
      signature: toBase64(signature),
    },
  };
}

/** A bundle (JSON object) with a DSSE envelope over `statement`. */
export async function dsseBundle(
  stack: TestSigstore,
  statement: Uint8Array,
  signer: TestSigner,
  o: BundleOptions = {},
): Promise<Record<string, unknown>> {
  const { vm, body, key } = await materialOf(stack, signer, o);
  const env = await signDsse(statement, key);
  const log = o.log === undefined ? stack.rekor : o.log;
  let entryBody: Uint8Array | undefined;
  if (log) {
    if (log.kind === 'v2') entryBody = hashedRekordBody(pae(env.payloadType, env.payload), env.signature, body, '0.0.2');
    else entryBody = o.dsseKind === 'intoto' ? intotoBody(env, body) : dsseBody(env, body);
  }
  const tlogEntries = log && entryBody ? await logged(log, entryBody, o) : [];
  return { mediaType: mediaTypeOf(o), verificationMaterial: { ...vm, tlogEntries }, dsseEnvelope: env.envelope };
}

/** cosign's Rekor bundle annotation for an entry of a v1 log. */
export function rekorBundleAnnotation(entry: TlogEntryJson): string {
  return JSON.stringify({
    SignedEntryTimestamp: entry.inclusionPromise?.signedEntryTimestamp,
    Payload: {
      body: entry.canonicalizedBody,
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: toHex(fromBase64(entry.logId.keyId)),
    },
  });
}
export * from './cosign.js';
