/**
 * Where `vouch kyverno` and `vouch webhook` fetch images and signatures from: the registries
 * (with the CLI's transport, notation's credential order and HTTP policy), or OCI image
 * layouts mapped to image references with `--oci-layout-map REF=PATH` so that CI needs no
 * live registry.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { type FetchLike, parseReference, type Reference, VouchError } from '@vouch/core';
import { type CosignImageVerifier, cosignImageVerifier, type NotaryImageVerifier, notationImageVerifier } from '@vouch/kyverno';
import { nodeOciLayout } from '@vouch/node';
import { ocspCrlRevocation } from '@vouch/notation';
import { createRegistryClient, type Repository, type RetryOptions, remoteRepository } from '@vouch/registry';
import { parseTrustedRoot, type TrustMaterial } from '@vouch/sigstore';
import type { CliContext } from '../context.js';
import { UsageError } from '../context.js';
import { envelopeCodecs } from '../deps.js';
import { cliCredentials, cliFetch, readNotationConfigSync } from '../registry.js';

/** One `--oci-layout-map` entry. */
export interface OciLayoutMapping {
  /** `registry/repository` (normalized, docker.io/library/… for Docker Hub names). */
  repository: string;
  /** Set when the key named one reference (`repo:tag` / `repo@digest`): only that reference maps. */
  tag?: string;
  digest?: string;
  /** Absolute path of the OCI layout directory. */
  path: string;
}

/**
 * Parse `--oci-layout-map REF=PATH` values: REF is an image repository (`ghcr.io/org/app`,
 * every tag and digest of it) or one reference (`ghcr.io/org/app:v1`, `…@sha256:…`), PATH an
 * OCI image layout directory. Inside the layout the image is looked up by its own tag or digest.
 */
export function parseOciLayoutMap(ctx: CliContext, values: readonly string[] | undefined): OciLayoutMapping[] {
  const out: OciLayoutMapping[] = [];
  for (const v of values ?? []) {
    const eq = v.lastIndexOf('=');
    const key = eq < 0 ? '' : v.slice(0, eq).trim();
    const dir = eq < 0 ? '' : v.slice(eq + 1).trim();
    if (!key || !dir) {
      throw new UsageError(`could not parse flag --oci-layout-map: "${v}" is not REF=PATH (e.g. ghcr.io/org/app=./layouts/app)`);
    }
    let ref: Reference;
    try {
      ref = parseReference(key, { normalize: true });
    } catch (e) {
      throw new UsageError(`could not parse flag --oci-layout-map: "${key}" is not an image reference: ${(e as Error).message}`);
    }
    const path = ctx.resolvePath(dir);
    if (!existsSync(path) || !statSync(path).isDirectory() || !existsSync(`${path}/index.json`)) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `--oci-layout-map ${v}: ${dir} is not an OCI image layout directory (no index.json)`, {
        details: { path },
      });
    }
    out.push({
      repository: `${ref.registry}/${ref.repository}`,
      ...(ref.tag && !ref.digest ? { tag: ref.tag } : {}),
      ...(ref.digest ? { digest: ref.digest } : {}),
      path,
    });
  }
  return out;
}

/** The credential helper deadline of `vouch webhook` and `vouch controller` (docker's own has none). */
export const SERVICE_CREDENTIAL_HELPER_TIMEOUT_MS = 10_000;

/** Options of {@link cliImageVerifier}. */
export interface CliImageVerifierOptions {
  /** `--insecure-registry HOST:PORT` values: plain HTTP for these registries. */
  insecureRegistries?: readonly string[];
  /** `--oci-layout-map` entries, consulted before any registry. */
  layouts?: readonly OciLayoutMapping[];
  /** Per-request registry deadline in ms (default the registry client's). */
  registryTimeoutMs?: number;
  /** Registry transport (default the CLI's pooled one; `vouch webhook` passes a guarded one). */
  fetch?: FetchLike;
  /** Wraps the registry transport (e.g. `vouch controller`'s registry request budget). */
  wrapFetch?: (fetch: FetchLike) => FetchLike;
  /** Registry retry policy (default: 2 retries). */
  retry?: RetryOptions;
  /**
   * Deadline in ms of a docker credential helper (default none, as docker and notation). Long-lived
   * services pass one: a helper that hangs would otherwise hold every later request to its registry.
   */
  credentialHelperTimeoutMs?: number;
}

/** The layout mapped to `ref`, if any: a one-reference mapping wins over a repository mapping. */
export function layoutFor(layouts: readonly OciLayoutMapping[], ref: Reference): OciLayoutMapping | undefined {
  const repo = `${ref.registry}/${ref.repository}`;
  const candidates = layouts.filter((l) => l.repository === repo);
  return (
    candidates.find((l) => (l.digest && l.digest === ref.digest) || (l.tag && !ref.digest && l.tag === (ref.tag ?? 'latest'))) ??
    candidates.find((l) => !l.tag && !l.digest)
  );
}

/** The verifiers of the Kyverno engine: Notary, and Cosign / SigstoreBundle. */
export interface CliImageVerifiers {
  verifier: NotaryImageVerifier;
  cosignVerifier: CosignImageVerifier;
}

/**
 * `--trusted-root FILE`: a Sigstore `trusted_root.json` standing in where Kyverno fetches the
 * public-good trust over TUF (Rekor and CT log keys, Fulcio roots) for Cosign attestors whose
 * policy does not carry them. Never fetched: without it such checks fail naming the policy field.
 */
export function readTrustedRoot(ctx: CliContext, file: string | undefined): TrustMaterial | undefined {
  if (file === undefined) return undefined;
  const path = ctx.resolvePath(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `--trusted-root ${file}: ${(e as Error).message}`, { cause: e, details: { path } });
  }
  return parseTrustedRoot(text);
}

/**
 * The verifiers behind `vouch kyverno`, `vouch webhook` and `vouch controller`: @vouch/kyverno's
 * `notationImageVerifier` and `cosignImageVerifier` over OCI layouts (`--oci-layout-map`) and
 * remote registries (one pooled registry client; credentials from notation's config.json helpers
 * and the docker config; revocation over the same transport). A Cosign key held in a Secret or a
 * KMS is not available to the CLI: such attestors fail, saying so.
 */
export function cliImageVerifiers(
  ctx: CliContext,
  options: CliImageVerifierOptions & { trustedRoot?: TrustMaterial } = {},
): CliImageVerifiers {
  const layouts = options.layouts ?? [];
  const base = options.fetch ?? cliFetch(ctx);
  const fetch = options.wrapFetch ? options.wrapFetch(base) : base;
  let client: ReturnType<typeof createRegistryClient> | undefined;
  const remotes = new Map<string, Repository>();
  const layoutRepos = new Map<string, Repository>();
  const registryClient = () => {
    if (client) return client;
    const config = readNotationConfigSync(ctx);
    client = createRegistryClient({
      fetch,
      credentials: cliCredentials(ctx, '', {}, config, options.credentialHelperTimeoutMs),
      insecureRegistries: [...(config.insecureRegistries ?? []), ...(options.insecureRegistries ?? [])],
      logger: ctx.logger(),
      userAgent: `vouch/${ctx.version}`,
      retry: options.retry ?? { retries: 2 },
      ...(options.registryTimeoutMs ? { timeoutMs: options.registryTimeoutMs } : {}),
    });
    return client;
  };
  const repositoryFor = (ref: Reference): Repository => {
    const layout = layoutFor(layouts, ref);
    if (layout) {
      let r = layoutRepos.get(layout.path);
      if (!r) {
        r = nodeOciLayout(layout.path);
        layoutRepos.set(layout.path, r);
      }
      return r;
    }
    const name = `${ref.registry}/${ref.repository}`;
    let r = remotes.get(name);
    if (!r) {
      r = remoteRepository(registryClient(), name);
      remotes.set(name, r);
    }
    return r;
  };
  const now = ctx.io.now;
  return {
    verifier: notationImageVerifier({
      envelopes: envelopeCodecs(),
      revocation: ocspCrlRevocation({ fetch }),
      ...(now ? { now } : {}),
      repositoryFor,
    }),
    cosignVerifier: cosignImageVerifier({
      repositoryFor,
      ...(options.trustedRoot ? { trustedRoot: options.trustedRoot } : {}),
      ...(now ? { now: () => now() } : {}),
    }),
  };
}

/** The Notary verifier of {@link cliImageVerifiers}. */
export function cliImageVerifier(ctx: CliContext, options: CliImageVerifierOptions = {}): NotaryImageVerifier {
  return cliImageVerifiers(ctx, options).verifier;
}
