/**
 * Signing as a CI job does it: the key and certificate chain come from the job's secrets (PEM
 * text in environment variables, or files), the image was just pushed (to a registry or into
 * an OCI layout), and the job needs the signature's digest for later steps.
 */
import { MediaType } from '@vouch/core';
import { localRawSigner } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { type SignResult, sign } from '@vouch/notation';
import { EMPTY_CONFIG_BYTES, type WritableRepository } from '@vouch/registry';
import { importPrivateKey, parseCertificates } from '@vouch/x509';

/** Options of {@link signImage}. */
export interface SignImageOptions {
  /** `registry/repository@sha256:…` (or a tag, resolved and signed by digest), or a tag/digest inside an OCI layout. */
  reference: string;
  repository: WritableRepository;
  /** PEM private key (PKCS#8, PKCS#1 or SEC1). */
  keyPem: string;
  /** PEM certificates: the signing certificate first, then its intermediates, then the root (a Notary chain ends with its root). */
  certificateChainPem: string;
  /** Envelope format; default `jws` (notation's default). */
  format?: 'jws' | 'cose';
  /** Signature validity in seconds. */
  expirySeconds?: number;
  /** Signed annotations (e.g. the commit and pipeline that built the image). */
  userMetadata?: Record<string, string>;
  now?: () => Date;
}

/** Signs and pushes the signature; the result carries the signature manifest's digest. */
export async function signImage(options: SignImageOptions): Promise<SignResult> {
  const chain = parseCertificates(options.certificateChainPem);
  const key = await importPrivateKey(options.keyPem);
  // The signature manifest names the empty config `{}`; registries reject a manifest whose blobs
  // they do not have, so make sure it is there.
  await options.repository.pushBlob(MediaType.OCI_EMPTY, EMPTY_CONFIG_BYTES);
  return sign(options.reference, {
    repository: options.repository,
    signer: localRawSigner(key, chain),
    envelope: options.format === 'cose' ? cose : jws,
    signingAgent: 'vouch-example-ci-signing/0.0.0',
    ...(options.expirySeconds ? { expirySeconds: options.expirySeconds } : {}),
    ...(options.userMetadata ? { userMetadata: options.userMetadata } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

/** `90s`, `30m`, `24h`, `7d` → seconds (notation's `--expiry` units). */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration "${text}": use a number followed by s, m, h or d (e.g. 720h)`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** User metadata a CI job should sign along: who built the image, from which commit. */
export function ciMetadata(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => {
    if (v) out[k] = v;
  };
  // GitHub Actions
  put('org.opencontainers.image.revision', env.GITHUB_SHA ?? env.CI_COMMIT_SHA);
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY) {
    put('org.opencontainers.image.source', `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}`);
    if (env.GITHUB_RUN_ID) put('dev.vouch.ci.run', `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`);
  }
  // GitLab CI
  put('org.opencontainers.image.source', out['org.opencontainers.image.source'] ?? env.CI_PROJECT_URL);
  put('dev.vouch.ci.run', out['dev.vouch.ci.run'] ?? env.CI_PIPELINE_URL);
  return out;
}
