import { request } from 'node:https';
import { encodePem, MediaType, utf8, VouchError } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { createVerifier, sign } from '@vouch/notation';
import { type MemoryRepository, memoryRepository, type Repository } from '@vouch/registry';
import { memoryTrustStore } from '@vouch/trust-policy';
import { certificatesToPem, createCertificate, createTestPki, exportPrivateKeyPkcs8, generateKeyPair, type TestPki } from '@vouch/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdmissionReview, createAdmissionController, podImages } from '../src/controller.js';
import { type RunningAdmissionServer, startAdmissionServer } from '../src/server.js';

const REGISTRY = 'registry.example.com';

async function pushImage(repo: MemoryRepository, tag: string, content: string): Promise<string> {
  const cfg = await repo.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
  const layer = await repo.pushBlob(MediaType.OCI_LAYER_TAR, utf8(content));
  const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
  return (await repo.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag })).digest;
}

const review = (uid: string, ...images: string[]): AdmissionReview => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    namespace: 'default',
    name: 'app',
    operation: 'CREATE',
    object: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app' },
      spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
    },
  },
});

let pki: TestPki;
let other: TestPki;
const repos = new Map<string, MemoryRepository>();
let signedDigest: string;

function repositoryFor(ref: { registry: string; repository: string }): Repository {
  if (ref.registry === 'down.example.com') {
    // a registry that cannot be reached: "could not decide"
    const down = async () => {
      throw new VouchError('ERR_NETWORK', 'connect ECONNREFUSED down.example.com');
    };
    return { resolve: down, fetchManifest: down, fetchBlob: down, referrers: () => ({ [Symbol.asyncIterator]: () => ({ next: down }) }) };
  }
  const r = repos.get(`${ref.registry}/${ref.repository}`);
  if (!r) throw new VouchError('ERR_REGISTRY_NOT_FOUND', `no repository ${ref.registry}/${ref.repository}`);
  return r;
}

function controller(failurePolicy: 'Fail' | 'Ignore' = 'Fail') {
  return createAdmissionController({
    verifier: createVerifier({
      trustPolicy: {
        version: '1.0',
        trustPolicies: [
          {
            name: 'prod',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:prod'],
            trustedIdentities: [`x509.subject: ${pki.leaf.certificate.subject}`],
          },
        ],
      },
      trustStore: memoryTrustStore({ ca: { prod: [pki.root.certificate] } }),
      envelopes: [jws, cose],
      revocation: false,
    }),
    repositoryFor,
    imagePrefixes: [`${REGISTRY}/`, 'down.example.com/'],
    failurePolicy,
  });
}

beforeAll(async () => {
  [pki, other] = await Promise.all([createTestPki({ keySpec: 'EC-256' }), createTestPki({ keySpec: 'EC-256', name: 'other' })]);
  for (const name of ['app', 'unsigned', 'foreign']) repos.set(`${REGISTRY}/team/${name}`, memoryRepository());
  signedDigest = await pushImage(repos.get(`${REGISTRY}/team/app`)!, 'v1', 'app');
  await sign(`${REGISTRY}/team/app@${signedDigest}`, {
    repository: repos.get(`${REGISTRY}/team/app`)!,
    signer: localRawSigner(pki.leaf.privateKey, pki.chain),
    envelope: cose,
  });
  await pushImage(repos.get(`${REGISTRY}/team/unsigned`)!, 'v1', 'unsigned');
  const foreign = await pushImage(repos.get(`${REGISTRY}/team/foreign`)!, 'v1', 'foreign');
  await sign(`${REGISTRY}/team/foreign@${foreign}`, {
    repository: repos.get(`${REGISTRY}/team/foreign`)!,
    signer: localRawSigner(other.leaf.privateKey, other.chain),
    envelope: jws,
  });
});

describe('admission controller decisions', () => {
  it('lists the images of a Pod with their JSON pointers', () => {
    expect(
      podImages({
        spec: { initContainers: [{ image: 'a' }], containers: [{ image: 'b' }, { name: 'x' }], ephemeralContainers: [{ image: 'c' }] },
      }),
    ).toEqual([
      { path: '/spec/initContainers/0/image', image: 'a' },
      { path: '/spec/containers/0/image', image: 'b' },
      { path: '/spec/ephemeralContainers/0/image', image: 'c' },
    ]);
  });

  it('admits a signed image and pins it to the verified digest; leaves unchecked images alone', async () => {
    const res = (await controller().review(review('u1', `${REGISTRY}/team/app:v1`, 'docker.io/library/busybox:1'))).response!;
    expect(res.allowed).toBe(true);
    expect(JSON.parse(Buffer.from(res.patch!, 'base64').toString())).toEqual([
      { op: 'replace', path: '/spec/containers/0/image', value: `${REGISTRY}/team/app:v1@${signedDigest}` },
    ]);
  });

  it('denies unsigned images and images signed by an untrusted CA, naming each reason', async () => {
    const res = (await controller().review(review('u2', `${REGISTRY}/team/unsigned:v1`, `${REGISTRY}/team/foreign:v1`))).response!;
    expect(res.allowed).toBe(false);
    expect(res.status!.code).toBe(403);
    expect(res.status!.message).toContain(`image ${REGISTRY}/team/unsigned:v1: ERR_SIGNATURE_NOT_FOUND`);
    expect(res.status!.message).toContain(`image ${REGISTRY}/team/foreign:v1: ERR_VERIFICATION_FAILED`);
  });

  it('maps "could not decide" to failurePolicy: Fail denies, Ignore admits with a warning', async () => {
    const image = 'down.example.com/app:v1';
    expect((await controller('Fail').review(review('u3', image))).response!.allowed).toBe(false);
    const ignored = (await controller('Ignore').review(review('u4', image))).response!;
    expect(ignored.allowed).toBe(true);
    expect(ignored.warnings?.[0]).toMatch(/could not be verified \(ERR_NETWORK\)/);
    // a decided failure is never ignored
    expect((await controller('Ignore').review(review('u5', `${REGISTRY}/team/unsigned:v1`))).response!.allowed).toBe(false);
  });
});

describe('admission controller over HTTPS', () => {
  let server: RunningAdmissionServer;
  let caPem: string;

  beforeAll(async () => {
    // A serving certificate for 127.0.0.1 (subjectAltName IP 127.0.0.1), issued by a throwaway CA.
    const caKeys = await generateKeyPair('EC-256');
    const ca = await createCertificate({
      subject: 'CN=webhook test CA',
      publicKey: caKeys.publicKey,
      privateKey: caKeys.privateKey,
      basicConstraints: { ca: true },
      keyUsage: { usages: ['keyCertSign'] },
    });
    const keys = await generateKeyPair('EC-256');
    const cert = await createCertificate({
      subject: 'CN=127.0.0.1',
      publicKey: keys.publicKey,
      issuer: { certificate: ca, privateKey: caKeys.privateKey },
      keyUsage: { usages: ['digitalSignature'] },
      extKeyUsage: { usages: ['serverAuth'] },
      extensions: [{ oid: '2.5.29.17', critical: false, value: new Uint8Array([0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1]) }],
    });
    caPem = certificatesToPem([ca]);
    server = await startAdmissionServer({
      controller: controller(),
      tls: { cert: certificatesToPem([cert]), key: encodePem('PRIVATE KEY', await exportPrivateKeyPkcs8(keys.privateKey)) },
      host: '127.0.0.1',
      port: 0,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  function post(path: string, body: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${server.url}${path}`, { method: 'POST', ca: caPem, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('answers AdmissionReviews on /verify over TLS', async () => {
    const ok = await post('/verify', JSON.stringify(review('h1', `${REGISTRY}/team/app:v1`)));
    expect(ok.status).toBe(200);
    const answer = JSON.parse(ok.body) as AdmissionReview;
    expect(answer).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'h1', allowed: true } });
    const denied = JSON.parse(
      (await post('/verify', JSON.stringify(review('h2', `${REGISTRY}/team/unsigned:v1`)))).body,
    ) as AdmissionReview;
    expect(denied.response).toMatchObject({ uid: 'h2', allowed: false });
    expect((await post('/verify', 'not json')).status).toBe(400);
    expect((await post('/other', '{}')).status).toBe(404);
  });
});
