import { isVouchError, MediaType, utf8, VouchError } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { sign } from '@vouch/notation';
import { type MemoryRepository, memoryRepository, type Repository } from '@vouch/registry';
import { certificatesToPem, createTestPki, type TestPki } from '@vouch/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { handleAdmissionReview } from '../admission/admission.js';
import { createKyvernoEngine } from '../engine/engine.js';
import { policyFromObject } from '../policy/parse.js';
import { notationImageVerifier } from './notary.js';

const REG = 'registry.example.com';

async function pushImage(repo: MemoryRepository, tag: string, content: string): Promise<string> {
  const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(content));
  const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
  return (await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag })).digest;
}

let pki: TestPki;
let other: TestPki;
const repos = new Map<string, MemoryRepository>();
const digests: Record<string, string> = {};

function repositoryFor(ref: { registry: string; repository: string }): Repository {
  const r = repos.get(`${ref.registry}/${ref.repository}`);
  if (!r) throw new VouchError('ERR_NETWORK', `no route to ${ref.registry}`);
  return r;
}

beforeAll(async () => {
  [pki, other] = await Promise.all([createTestPki({ keySpec: 'EC-256' }), createTestPki({ keySpec: 'EC-256', name: 'other' })]);
  for (const [name, envelope] of [
    ['jws', jws],
    ['cose', cose],
    ['unsigned', undefined],
  ] as const) {
    const repo = memoryRepository();
    repos.set(`${REG}/${name}`, repo);
    digests[name] = await pushImage(repo, 'v1', name);
    if (envelope) await sign(digests[name]!, { repository: repo, signer: localRawSigner(pki.leaf.privateKey, pki.chain), envelope });
  }
});

const attestor = () => ({ certificates: certificatesToPem([pki.root.certificate]) });

describe('notationImageVerifier', () => {
  it('verifies JWS and COSE signatures by tag and by digest with the attestor certificate as trust store', async () => {
    const v = notationImageVerifier({ repositoryFor, envelopes: [jws, cose], revocation: false });
    for (const name of ['jws', 'cose']) {
      expect(await v.verifyImage({ image: `${REG}/${name}:v1`, attestor: attestor() })).toEqual({ digest: digests[name] });
      expect(await v.verifyImage({ image: `${REG}/${name}@${digests[name]}`, attestor: attestor() })).toEqual({ digest: digests[name] });
    }
    expect(await v.resolveDigest!(`${REG}/jws:v1`)).toBe(digests.jws);
  });

  it('rejects an unsigned image and a signature from another CA with decided (not inconclusive) codes', async () => {
    const v = notationImageVerifier({ repositoryFor, envelopes: [jws, cose], revocation: false });
    const unsigned = await v.verifyImage({ image: `${REG}/unsigned:v1`, attestor: attestor() }).catch((e) => e);
    expect(unsigned).toBeVouchError('ERR_SIGNATURE_NOT_FOUND');
    const wrong = await v
      .verifyImage({ image: `${REG}/jws:v1`, attestor: { certificates: certificatesToPem([other.root.certificate]) } })
      .catch((e) => e);
    expect(isVouchError(wrong)).toBe(true);
    expect(['ERR_SIGNATURE_NOT_FOUND', 'ERR_NETWORK']).not.toContain(wrong.code);
  });

  it('drives handleAdmissionReview: signed image allowed with the digest patch, unsigned denied', async () => {
    const engine = engineWith('Fail');
    const ok = await handleAdmissionReview(review(`${REG}/cose:v1`), engine);
    expect(ok.response!.allowed).toBe(true);
    const patch = JSON.parse(fromUtf8(fromBase64(ok.response!.patch!))) as { op: string; path: string; value: unknown }[];
    expect(patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: `${REG}/cose:v1@${digests.cose}` });
    const denied = await handleAdmissionReview(review(`${REG}/unsigned:v1`), engine);
    expect(denied.response!.allowed).toBe(false);
    const ref = `${REG}/unsigned@${digests.unsigned}`;
    expect(denied.response!.status!.message).toContain(
      `failed to verify image ${REG}/unsigned:v1: .attestors[0].entries[0]: failed to verify ${ref}: no signature is associated with "${ref}"`,
    );
  });

  it('registry down (digest unresolvable too): Fail denies with the verification message, Ignore admits', async () => {
    const fail = await handleAdmissionReview(review(`${REG}/gone:v1`), engineWith('Fail'));
    expect(fail.response!.allowed).toBe(false);
    // Kyverno records "failed to update digest" before the verification response; the latter is shown
    expect(fail.response!.status!.message).toContain(
      `verify-signature: "failed to verify image ${REG}/gone:v1: .attestors[0].entries[0]: failed to resolve digest: no route to`,
    );
    const ignore = await handleAdmissionReview(review(`${REG}/gone:v1`), engineWith('Ignore'));
    expect(ignore.response!.allowed).toBe(true);
    expect(ignore.response!.warnings!.join('\n')).toContain(`failed to verify image ${REG}/gone:v1`);
  });
});

function engineWith(failurePolicy: 'Fail' | 'Ignore') {
  const policy = policyFromObject({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'check-image-signature' },
    spec: {
      validationFailureAction: 'Enforce',
      failurePolicy,
      rules: [
        {
          name: 'verify-signature',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          verifyImages: [
            {
              type: 'Notary',
              imageReferences: [`${REG}/*`],
              attestors: [{ count: 1, entries: [{ certificates: { cert: attestor().certificates } }] }],
            },
          ],
        },
      ],
    },
  });
  return createKyvernoEngine({
    policies: [policy],
    verifier: notationImageVerifier({ repositoryFor, envelopes: [jws, cose], revocation: false }),
  });
}

const review = (image: string) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview' as const,
  request: {
    uid: 'u',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    namespace: 'default',
    name: 'p',
    operation: 'CREATE',
    object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image }] } },
  },
});
