/**
 * Entry point: configuration from the environment, as a Deployment would set it.
 *
 *   TLS_CERT_FILE, TLS_KEY_FILE   serving certificate and key (required)
 *   NOTATION_CONFIG               notation config dir with trustpolicy.json (or trustpolicy.oci.json) and truststore/ (default /etc/notation)
 *   IMAGE_PREFIXES                comma-separated prefixes of images to check (default: every image)
 *   FAILURE_POLICY                Fail (default) or Ignore: what to do when verification cannot decide
 *   PORT                          default 8443
 *   DOCKER_CONFIG                 registry credentials (docker config.json), e.g. a mounted pull secret
 */
import { readFileSync } from 'node:fs';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { dockerCredentials, fileTrustStore, loadOciTrustPolicy, undiciFetch } from '@vouch/node';
import { createVerifier } from '@vouch/notation';
import { createRegistryClient, type RemoteRepository, remoteRepository } from '@vouch/registry';
import { createAdmissionController } from './controller.js';
import { startAdmissionServer } from './server.js';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set`);
  return v;
}

async function main(): Promise<void> {
  const configDir = process.env.NOTATION_CONFIG ?? '/etc/notation';
  const fetch = undiciFetch();
  const client = createRegistryClient({ fetch, credentials: dockerCredentials(), userAgent: 'vouch-example-admission-controller' });
  const repositories = new Map<string, RemoteRepository>();
  const controller = createAdmissionController({
    // Parsed and validated once; the file trust store re-reads certificates only when they change.
    // Revocation: notation's default (OCSP, then CRL) for certificates that name responders.
    verifier: createVerifier({
      trustPolicy: await loadOciTrustPolicy(configDir),
      trustStore: fileTrustStore(configDir),
      envelopes: [jws, cose],
    }),
    repositoryFor(ref) {
      const name = `${ref.registry}/${ref.repository}`;
      let repo = repositories.get(name);
      if (!repo) repositories.set(name, (repo = remoteRepository(client, name)));
      return repo;
    },
    imagePrefixes: process.env.IMAGE_PREFIXES?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    failurePolicy: process.env.FAILURE_POLICY === 'Ignore' ? 'Ignore' : 'Fail',
  });
  const running = await startAdmissionServer({
    controller,
    tls: { cert: readFileSync(required('TLS_CERT_FILE'), 'utf8'), key: readFileSync(required('TLS_KEY_FILE'), 'utf8') },
    port: Number(process.env.PORT ?? 8443),
    onReview: (r, ms) =>
      console.log(
        JSON.stringify({ uid: r.response?.uid, allowed: r.response?.allowed, ms: Math.round(ms), reason: r.response?.status?.message }),
      ),
  });
  console.log(`vouch example admission controller listening on ${running.url}`);
  const stop = async () => {
    await running.close();
    await fetch.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
