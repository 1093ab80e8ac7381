/**
 * Sigstore bundles (sigstore/protobuf-specs `dev.sigstore.bundle.v1.Bundle`, JSON form), v0.1
 * to v0.3, read strictly: one verification material, one content, and the rules each version
 * adds (v0.1: every log entry has an inclusion promise; v0.2 and later: an inclusion proof
 * with a checkpoint; v0.3: a single certificate, never a chain).
 */
import { isVouchError, VouchError } from '@vouch/core';
import { type Certificate, parseCertificate } from '@vouch/x509';
import { readDsseEnvelope } from './dsse.js';
import { JsonReader, parseJsonInput } from './internal/json.js';
import { hashOfProtoName } from './internal/keys.js';
import type { Bundle, BundleMediaType, InclusionProof, TlogEntry } from './types.js';

/** Every bundle media type vouch reads. */
export const BUNDLE_MEDIA_TYPES: readonly BundleMediaType[] = Object.freeze([
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
]);

const VERSIONS: Readonly<Record<BundleMediaType, Bundle['version']>> = {
  'application/vnd.dev.sigstore.bundle+json;version=0.1': '0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2': '0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3': '0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json': '0.3',
};

const CODE = 'ERR_BUNDLE_INVALID';

function certificateAt(r: JsonReader, what: string): Certificate {
  const der = r.bytes('rawBytes');
  try {
    return parseCertificate(der);
  } catch (e) {
    if (isVouchError(e)) throw new VouchError(e.code, `${r.path} (${what}): ${e.message}`, { cause: e });
    throw e;
  }
}

function readInclusionProof(r: JsonReader): InclusionProof {
  const logIndex = r.integer('logIndex');
  const treeSize = r.integer('treeSize');
  if (logIndex >= treeSize) r.fail(`logIndex ${logIndex} is not below treeSize ${treeSize}`);
  const rootHash = r.bytes('rootHash');
  const hashes = r.array('hashes').map((h, i) => {
    if (typeof h !== 'string') return r.fail('expected base64 strings', `hashes[${i}]`);
    return new JsonReader({ h }, `${r.path}.hashes[${i}]`, r.code).bytes('h');
  });
  const cp = r.optionalObject('checkpoint');
  const checkpoint = cp?.string('envelope');
  return checkpoint === undefined ? { logIndex, treeSize, rootHash, hashes } : { logIndex, treeSize, rootHash, hashes, checkpoint };
}

/** Read one `TransparencyLogEntry`. */
export function readTlogEntry(r: JsonReader): TlogEntry {
  const logIndex = r.integer('logIndex');
  const logId = r.object('logId').bytes('keyId');
  const kv = r.object('kindVersion');
  const kind = kv.string('kind');
  const version = kv.string('version');
  const integratedTime = r.optionalInteger('integratedTime');
  const promise = r.optionalObject('inclusionPromise');
  const proof = r.optionalObject('inclusionProof');
  const canonicalizedBody = r.bytes('canonicalizedBody');
  const entry: {
    -readonly [K in keyof TlogEntry]: TlogEntry[K];
  } = { logIndex, logId, kind, version, canonicalizedBody };
  // Rekor v2 entries carry integratedTime 0 (unset) in some writers: absent means none.
  if (integratedTime !== undefined && integratedTime !== 0) entry.integratedTime = integratedTime;
  if (promise) entry.signedEntryTimestamp = promise.bytes('signedEntryTimestamp');
  if (proof) entry.inclusionProof = readInclusionProof(proof);
  return entry;
}

/**
 * Parse a Sigstore bundle (JSON text, bytes, or the parsed JSON object) and check the rules of
 * its version. Certificates are parsed (ERR_CERT_INVALID when one is malformed); nothing is
 * verified here.
 *
 * @throws VouchError ERR_BUNDLE_INVALID when the bundle is malformed, of an unknown media type,
 *   or breaks a rule of its version.
 */
export function parseBundle(input: string | Uint8Array | object): Bundle {
  const r = new JsonReader(parseJsonInput(input, 'Sigstore bundle', CODE), 'bundle', CODE);
  const mediaType = r.string('mediaType') as BundleMediaType;
  const version = VERSIONS[mediaType];
  if (!version) {
    r.fail(`unsupported media type "${mediaType}" (vouch reads ${BUNDLE_MEDIA_TYPES.join(', ')})`, 'mediaType');
  }
  const vm = r.object('verificationMaterial');
  const kinds = ['publicKey', 'x509CertificateChain', 'certificate'].filter((k) => vm.has(k));
  if (kinds.length !== 1) {
    vm.fail(kinds.length === 0 ? 'holds no key or certificate' : `holds more than one of ${kinds.join(', ')}`);
  }
  let certificate: Certificate | undefined;
  let intermediates: Certificate[] = [];
  let publicKeyHint: string | undefined;
  if (kinds[0] === 'publicKey') {
    const pk = vm.object('publicKey');
    publicKeyHint = pk.has('hint') ? pk.string('hint') : '';
  } else if (kinds[0] === 'certificate') {
    certificate = certificateAt(vm.object('certificate'), 'certificate');
  } else {
    if (version === '0.3') vm.fail('a v0.3 bundle carries one `certificate`, not an `x509CertificateChain`', 'x509CertificateChain');
    const chain = vm.object('x509CertificateChain').objects('certificates');
    if (chain.length === 0) vm.fail('is empty', 'x509CertificateChain.certificates');
    const certs = chain.map((c, i) => certificateAt(c, `certificate ${i}`));
    const root = certs.find((c) => c.selfSigned);
    if (root) {
      vm.fail(
        `holds the self-signed certificate "${root.subject}": a bundle carries the signing certificate and its intermediates, the roots come from the trust material`,
        'x509CertificateChain',
      );
    }
    [certificate, ...intermediates] = certs;
  }
  const tlogEntries = vm.objects('tlogEntries').map((e) => readTlogEntry(e));
  for (const [i, e] of tlogEntries.entries()) {
    if (version === '0.1' && !e.signedEntryTimestamp) vm.fail('a v0.1 bundle needs an inclusion promise (SET)', `tlogEntries[${i}]`);
    if (version !== '0.1' && !e.inclusionProof) vm.fail(`a v${version} bundle needs an inclusion proof`, `tlogEntries[${i}]`);
    if (version !== '0.1' && e.inclusionProof?.checkpoint === undefined) {
      vm.fail(`a v${version} bundle needs a checkpoint in the inclusion proof`, `tlogEntries[${i}].inclusionProof`);
    }
  }
  const tsData = vm.optionalObject('timestampVerificationData');
  const rfc3161Timestamps = (tsData?.objects('rfc3161Timestamps') ?? []).map((t) => t.bytes('signedTimestamp'));

  const contents = ['messageSignature', 'dsseEnvelope'].filter((k) => r.has(k));
  if (contents.length !== 1)
    r.fail(contents.length === 0 ? 'holds no messageSignature or dsseEnvelope' : 'holds both a messageSignature and a dsseEnvelope');
  let content: Bundle['content'];
  if (contents[0] === 'messageSignature') {
    const ms = r.object('messageSignature');
    const signature = ms.bytes('signature');
    const md = ms.optionalObject('messageDigest');
    if (md) {
      const name = md.string('algorithm');
      const algorithm = hashOfProtoName(name) ?? md.fail(`unsupported hash algorithm "${name}"`, 'algorithm');
      content = { type: 'messageSignature', signature, messageDigest: { algorithm, digest: md.bytes('digest') } };
    } else content = { type: 'messageSignature', signature };
  } else {
    const envelope = readDsseEnvelope(r.object('dsseEnvelope'));
    if (envelope.signatures.length !== 1)
      r.fail(`a bundle's DSSE envelope holds exactly one signature, found ${envelope.signatures.length}`, 'dsseEnvelope');
    content = { type: 'dsseEnvelope', envelope };
  }
  const bundle: { -readonly [K in keyof Bundle]: Bundle[K] } = {
    mediaType,
    version,
    intermediates,
    tlogEntries,
    rfc3161Timestamps,
    content,
  };
  if (certificate) bundle.certificate = certificate;
  if (publicKeyHint !== undefined) bundle.publicKeyHint = publicKeyHint;
  return bundle;
}

/** True for a value that is already a parsed {@link Bundle}. */
export function isParsedBundle(v: unknown): v is Bundle {
  return typeof v === 'object' && v !== null && 'version' in v && 'content' in v && 'tlogEntries' in v && 'intermediates' in v;
}
