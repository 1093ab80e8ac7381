/**
 * @vouch/testing/controller: fixtures of the controller tests and the scan benchmark: signed images in
 * in-memory repositories behind the real Notary verifier adapter, Kyverno policies, workloads.
 */

import { MediaType, utf8 } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { type NotaryImageVerifier, notationImageVerifier } from '@vouch/kyverno';
import { sign } from '@vouch/notation';
import { type MemoryRepository, memoryRepository } from '@vouch/registry';
import { certificatesToPem, createTestPki } from '@vouch/x509';

export const REGISTRY = 'reg.example';

/** Signed test images in memory, the verifier over them, and a log of verified references. */
export async function signedImages() {
  const pki = await createTestPki({ keySpec: 'EC-256' });
  const other = await createTestPki({ keySpec: 'EC-256', name: 'other' });
  const repos = new Map<string, MemoryRepository>();
  const repo = (name: string) => {
    let r = repos.get(name);
    if (!r) repos.set(name, (r = memoryRepository()));
    return r;
  };
  const verified: string[] = [];
  const inner = notationImageVerifier({
    repositoryFor: (ref) => repo(`${ref.registry}/${ref.repository}`),
    envelopes: [jws, cose],
    revocation: false,
  });
  const verifier: NotaryImageVerifier = {
    async verifyImage(req) {
      verified.push(req.image);
      return inner.verifyImage(req);
    },
    resolveDigest: (image, signal) => inner.resolveDigest!(image, signal),
  };
  /** Pushes `REGISTRY/name:tag` (content `name:tag`), signed unless `signed` is false; returns its digest. */
  async function push(name: string, tag: string, signed = true): Promise<string> {
    const r = repo(`${REGISTRY}/${name}`);
    const cfg = await r.pushBlob(MediaType.OCI_EMPTY, utf8('{}'));
    const layer = await r.pushBlob(MediaType.OCI_LAYER_TAR, utf8(`${name}:${tag}`));
    const manifest = utf8(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: cfg, layers: [layer] }));
    const digest = (await r.pushManifest(MediaType.OCI_MANIFEST, manifest, { tag })).digest;
    if (signed) await sign(digest, { repository: r, signer: localRawSigner(pki.leaf.privateKey, pki.chain), envelope: jws });
    return digest;
  }
  /** Deletes every Notary signature of `name@digest` from the registry. */
  async function unsign(name: string, digest: string): Promise<number> {
    const r = repo(`${REGISTRY}/${name}`);
    const subject = await r.resolve(digest);
    let n = 0;
    for await (const page of r.referrers(subject, { artifactType: 'application/vnd.cncf.notary.signature' })) {
      for (const d of page) if (r.delete(d.digest)) n++;
    }
    return n;
  }
  return {
    certPem: certificatesToPem([pki.root.certificate]),
    otherCertPem: certificatesToPem([other.root.certificate]),
    verifier,
    verified,
    push,
    unsign,
  };
}

/** A ClusterPolicy (or a Policy when `namespace` is set) verifying `refs` with the certificate, Audit, background on. */
export function policyObject(o: {
  name: string;
  certPem: string;
  refs: string[];
  namespace?: string;
  kinds?: string[];
  namespaces?: string[];
}) {
  return {
    apiVersion: 'kyverno.io/v1',
    kind: o.namespace ? 'Policy' : 'ClusterPolicy',
    metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) },
    spec: {
      validationFailureAction: 'Audit',
      background: true,
      rules: [
        {
          name: 'verify-signature',
          match: { any: [{ resources: { kinds: o.kinds ?? ['Pod'], ...(o.namespaces ? { namespaces: o.namespaces } : {}) } }] },
          verifyImages: [
            {
              type: 'Notary',
              mutateDigest: false,
              imageReferences: o.refs,
              attestors: [{ count: 1, entries: [{ certificates: { cert: o.certPem } }] }],
            },
          ],
        },
      ],
    },
  };
}

/** A Pod running `containers` (name → image). */
export function podObject(name: string, namespace: string, containers: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name } },
    spec: { containers: Object.entries(containers).map(([n, image]) => ({ name: n, image })) },
  };
}
