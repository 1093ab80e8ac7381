/**
 * cosign's registry forms built over the in-memory Sigstore stack, for tests and benchmarks that
 * need images signed the way cosign signs them, with what only Sigstore services give (a Rekor
 * SET, a Fulcio-like certificate with an SCT): the `.sig` tag (simple-signing layers with their
 * annotations), the `.att` tag (DSSE envelopes of in-toto statements), and Sigstore bundle
 * referrers (cosign 3). Nothing here verifies.
 */
import { type Descriptor, encodePem, MediaType, parseDigest, utf8 } from '@vouch/core';
import { toBase64 } from '@vouch/core/internal';
import type { WritableRepository } from '@vouch/registry';
import {
  type BodySigner,
  dsseBody,
  hashedRekordBody,
  intotoBody,
  rekorBundleAnnotation,
  signBytes,
  signDsse,
  spkiOf,
  type TestLog,
  type TestSigner,
  type TestSigstore,
} from './index.js';

/** One layer of a `.sig` / `.att` manifest: its bytes and cosign's annotations. */
export interface CosignLayer {
  readonly mediaType: string;
  readonly payload: Uint8Array;
  readonly annotations: Readonly<Record<string, string>>;
}

const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const DSSE = 'application/vnd.dsse.envelope.v1+json';

/** cosign's simple-signing payload (the claim of a legacy image signature). */
export function simpleSigningPayload(o: {
  dockerReference: string;
  digest: string;
  annotations?: Readonly<Record<string, string>>;
}): Uint8Array {
  return utf8(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': o.dockerReference },
        image: { 'docker-manifest-digest': o.digest },
        type: 'cosign container image signature',
      },
      optional: o.annotations ?? null,
    }),
  );
}

/** An in-toto statement (v0.1, as cosign 2 attests) about one image digest. */
export function imageStatement(o: { name: string; digest: string; predicateType: string; predicate: unknown }): Uint8Array {
  const { algorithm, hex } = parseDigest(o.digest);
  return utf8(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType: o.predicateType,
      subject: [{ name: o.name, digest: { [algorithm]: hex } }],
      predicate: o.predicate,
    }),
  );
}

async function signerMaterial(
  stack: TestSigstore,
  signer: TestSigner,
  chain: boolean,
): Promise<{ key: CryptoKey; body: BodySigner; annotations: Record<string, string> }> {
  if ('keyPair' in signer)
    return { key: signer.keyPair.privateKey, body: { spki: await spkiOf(signer.keyPair.publicKey) }, annotations: {} };
  const annotations: Record<string, string> = { 'dev.sigstore.cosign/certificate': encodePem('CERTIFICATE', signer.certificate.der) };
  if (chain) annotations['dev.sigstore.cosign/chain'] = stack.fulcio.chainPem;
  return { key: signer.privateKey, body: { certificate: signer.certificate }, annotations };
}

/** Options of the layer builders. */
export interface CosignLayerOptions {
  signer: TestSigner;
  /** The log the signature is recorded in (SET annotation); default the stack's Rekor v1; `false`: none. */
  log?: TestLog | false;
  /** Certificate signers: add the `…/chain` annotation (default true). */
  chain?: boolean;
  integratedTime?: number;
}

/** A `.sig` layer: the simple-signing payload of `digest`, signed, with certificate, chain and SET annotations. */
export async function cosignSignatureLayer(
  stack: TestSigstore,
  claim: { dockerReference: string; digest: string; annotations?: Readonly<Record<string, string>> },
  o: CosignLayerOptions,
): Promise<CosignLayer> {
  const payload = simpleSigningPayload(claim);
  const m = await signerMaterial(stack, o.signer, o.chain !== false);
  const signature = await signBytes(m.key, payload);
  const annotations: Record<string, string> = { 'dev.cosignproject.cosign/signature': toBase64(signature), ...m.annotations };
  const log = o.log === undefined ? stack.rekor : o.log;
  if (log) {
    const entry = await log.append(hashedRekordBody(payload, signature, m.body), {
      setOnly: true,
      ...(o.integratedTime ? { integratedTime: o.integratedTime } : {}),
    });
    annotations['dev.sigstore.cosign/bundle'] = rekorBundleAnnotation(entry);
  }
  return { mediaType: SIMPLE_SIGNING, payload, annotations };
}

/** An `.att` layer: a DSSE envelope of `statement`, with certificate, chain, predicate type and SET annotations. */
export async function cosignAttestationLayer(
  stack: TestSigstore,
  statement: Uint8Array,
  o: CosignLayerOptions & { kind?: 'dsse' | 'intoto' },
): Promise<CosignLayer> {
  const m = await signerMaterial(stack, o.signer, o.chain !== false);
  const env = await signDsse(statement, m.key);
  const predicateType = (JSON.parse(new TextDecoder().decode(statement)) as { predicateType?: string }).predicateType ?? '';
  const annotations: Record<string, string> = { predicateType, ...m.annotations };
  const log = o.log === undefined ? stack.rekor : o.log;
  if (log) {
    const body = o.kind === 'dsse' ? dsseBody(env, m.body) : intotoBody(env, m.body);
    const entry = await log.append(body, { setOnly: true, ...(o.integratedTime ? { integratedTime: o.integratedTime } : {}) });
    annotations['dev.sigstore.cosign/bundle'] = rekorBundleAnnotation(entry);
  }
  return { mediaType: DSSE, payload: utf8(env.json), annotations };
}

function tagOf(digest: string, suffix: 'sig' | 'att'): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm}-${hex}.${suffix}`;
}

/** Push `layers` as cosign's `sha256-<hex>.sig` / `.att` manifest of `subject` (replacing what the tag held). */
export async function pushCosignTag(
  repo: WritableRepository,
  subject: Descriptor,
  suffix: 'sig' | 'att',
  layers: readonly CosignLayer[],
): Promise<Descriptor> {
  const pushed: (Descriptor & { annotations: Record<string, string> })[] = [];
  for (const l of layers) {
    const d = await repo.pushBlob(l.mediaType, l.payload);
    pushed.push({ mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: { ...l.annotations } });
  }
  const config = await repo.pushBlob(
    'application/vnd.oci.image.config.v1+json',
    utf8(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: pushed.map((l) => l.digest) } })),
  );
  const manifest = { schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config, layers: pushed };
  return repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(manifest)), { tag: tagOf(subject.digest, suffix) });
}

/** Push a Sigstore bundle (JSON object) as a referrer of `subject`, laid out as cosign 3 does. */
export async function pushBundleReferrer(
  repo: WritableRepository,
  subject: Descriptor,
  bundle: object,
  predicateType: string,
): Promise<Descriptor> {
  const bundleType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const empty = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const layer = await repo.pushBlob(bundleType, utf8(JSON.stringify(bundle)));
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    artifactType: bundleType,
    config: { mediaType: MediaType.OCI_EMPTY, digest: empty.digest, size: empty.size },
    layers: [{ mediaType: bundleType, digest: layer.digest, size: layer.size }],
    annotations: {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': predicateType,
    },
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  };
  return repo.pushManifest(MediaType.OCI_MANIFEST, utf8(JSON.stringify(manifest)));
}

/** An in-toto v1 statement over an image digest, as cosign 3 writes it (the subject has no name). */
export function bundleStatement(o: { digest: string; predicateType: string; predicate?: unknown }): Uint8Array {
  const { algorithm, hex } = parseDigest(o.digest);
  return utf8(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { [algorithm]: hex } }],
      predicateType: o.predicateType,
      predicate: o.predicate ?? {},
    }),
  );
}
