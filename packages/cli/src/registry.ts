/**
 * How the CLI reaches remote registries: the HTTP transport (undici, or `CliIo.fetch`), the
 * registry client, and notation's credential order (flags, then NOTATION_USERNAME /
 * NOTATION_PASSWORD, then the credential helper of notation's config.json, then the docker
 * config). Plain HTTP as notation decides it (see {@link usesPlainHttp}).
 */
import { readFileSync } from 'node:fs';
import { type FetchLike, isVouchError, parseReference, type Reference, VouchError } from '@vouch/core';
import { dockerCredentials, undiciFetch } from '@vouch/node';
import {
  dockerConfigPath,
  dockerServerKey,
  type NotationConfig,
  notationConfigPath,
  parseNotationConfig,
  runCredentialHelper,
} from '@vouch/node/config';
import { type Credential, type CredentialProvider, createRegistryClient, type RemoteRepository, remoteRepository } from '@vouch/registry';
import type { CliContext } from './context.js';

/** Registry flags shared by sign, verify, inspect and list. */
export interface RegistryFlags {
  /** `--insecure-registry`: plain HTTP for this command's registry. */
  insecureRegistry?: boolean;
  /** `--force-referrers-tag` (sign: default true, as notation): also maintain the referrers tag-schema index where the registry has the Referrers API. */
  forceReferrersTag?: boolean;
  /** `-u/--username`. */
  username?: string;
  /** `-p/--password`. */
  password?: string;
  /** `--password-stdin`. */
  passwordStdin?: boolean;
  /** A ready bearer token (cosign `--registry-token`). */
  registryToken?: string;
  /** Plain HTTP also for loopback registries (127.0.0.1, [::1], localhost), as go-containerregistry (cosign) does. */
  plainHttpLoopback?: boolean;
  /** Docker Hub short names (`nginx:1` → `docker.io/library/nginx:1`), as cosign reads references. */
  normalize?: boolean;
}

/**
 * Whether `registry` is reached over plain HTTP, by notation's rule: `--insecure-registry`, a
 * registry listed in `insecureRegistries` of config.json (case-insensitive), or `localhost:<port>`
 * — notation splits host and port and compares the host with `localhost`, so `localhost` without a
 * port, `LOCALHOST:5000`, `127.0.0.1:5000` and `[::1]:5000` use HTTPS unless the flag or the
 * config says otherwise.
 */
export function usesPlainHttp(registry: string, insecureRegistry: boolean | undefined, config: NotationConfig): boolean {
  if (insecureRegistry) return true;
  const r = registry.toLowerCase();
  if ((config.insecureRegistries ?? []).some((x) => x.toLowerCase() === r)) return true;
  return /^localhost:\d*$/.test(registry);
}

/**
 * A hint for an error that looks like the wrong protocol: TLS spoken to a plain HTTP registry
 * (an SSL record error), or plain HTTP to a TLS one (HTTP 400). Empty when it does not apply.
 */
export function protocolHint(e: unknown, plainHttp: boolean): string {
  if (!isVouchError(e)) return '';
  if (!plainHttp && e.code === 'ERR_NETWORK' && /wrong version number|packet length too long|unknown protocol|EPROTO/i.test(e.message)) {
    return '; the registry may serve plain HTTP: if it does, use --insecure-registry or list it in insecureRegistries of config.json (only localhost:<port> is plain HTTP by default)';
  }
  if (plainHttp && e.code === 'ERR_REGISTRY_HTTP' && e.details?.status === 400) {
    return '; the registry may expect HTTPS: if it does, drop --insecure-registry (and remove it from insecureRegistries of config.json)';
  }
  return '';
}

/** notation's config.json of the context's config dir (empty when absent), read synchronously. */
export function readNotationConfigSync(ctx: CliContext): NotationConfig {
  const path = notationConfigPath(ctx.configDir());
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return {};
    throw new VouchError('ERR_IO', `cannot read config file ${path}: ${(e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new VouchError('ERR_CONFIG_INVALID', `malformed config file ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseNotationConfig(doc, path);
}

/** The transport of this invocation: `CliIo.fetch`, else one pooled undici transport closed when the command ends. */
export function cliFetch(ctx: CliContext): FetchLike {
  let base = ctx.io.fetch;
  if (!base) {
    const pooled = undiciFetch();
    ctx.onClose(() => pooled.close());
    base = pooled;
  }
  if (!ctx.globals.debug) return base;
  const inner = base;
  return async (url, init) => {
    const method = init?.method ?? 'GET';
    ctx.stderr.write(`DEBUG: > Request: ${method} ${url}\n`);
    const res = await inner(url, init);
    ctx.stderr.write(`DEBUG: < Response: ${res.status} ${method} ${url}\n`);
    return res;
  };
}

/** Credentials given on the command line or in the environment, read once (the env variables are then removed). */
async function explicitCredential(ctx: CliContext, flags: RegistryFlags): Promise<Credential | undefined> {
  if (flags.registryToken) return { registryToken: flags.registryToken };
  let username = flags.username;
  let password = flags.password;
  if (flags.passwordStdin) {
    if (password !== undefined) throw new VouchError('ERR_INVALID_ARGUMENT', '--password and --password-stdin cannot be used together');
    password = (await ctx.readStdin()).replace(/\r?\n$/, '');
  }
  const envUser = ctx.env.NOTATION_USERNAME;
  const envPass = ctx.env.NOTATION_PASSWORD;
  // read once and forget, so that child processes (plugins) never inherit them (ADA-NOT-23-5)
  delete ctx.env.NOTATION_USERNAME;
  delete ctx.env.NOTATION_PASSWORD;
  if (username === undefined && password === undefined) {
    username = envUser;
    password = envPass;
  }
  if (password === undefined || password === '') {
    if (username)
      throw new VouchError(
        'ERR_INVALID_ARGUMENT',
        `a password is required for user "${username}": use -p, --password-stdin or NOTATION_PASSWORD`,
      );
    return undefined;
  }
  // notation: an empty user name makes the password a refresh (identity) token
  return username ? { username, password } : { identityToken: password };
}

/**
 * notation's credential order for `registry`: explicit credentials (flags / env) for the
 * reference's registry, then the helper named by notation's config.json (`credHelpers`,
 * `credsStore`), then the docker config.json. Records whether any credential was found.
 */
export function cliCredentials(
  ctx: CliContext,
  registry: string,
  flags: RegistryFlags,
  config: NotationConfig,
  helperTimeoutMs?: number,
): CredentialProvider & { found(): boolean } {
  const explicit = explicitCredential(ctx, flags);
  explicit.catch(() => {});
  const helperOptions = helperTimeoutMs ? { timeoutMs: helperTimeoutMs } : {};
  const docker = dockerCredentials({ configPath: dockerConfigPath(ctx.env), ...(helperTimeoutMs ? { helperTimeoutMs } : {}) });
  let found = false;
  return {
    found: () => found,
    async get(host) {
      let c: Credential | undefined;
      if (host === registry) c = await explicit;
      if (!c) {
        const helper = config.credHelpers?.[host] || config.credsStore;
        c = helper ? await runCredentialHelper(helper, dockerServerKey(host), helperOptions) : await docker.get(host);
      }
      if (c) found = true;
      return c;
    },
  };
}

/** A remote repository for `reference` with the CLI's transport, credentials and HTTP policy. */
export function openRemoteRepository(
  ctx: CliContext,
  reference: string,
  flags: RegistryFlags,
): { ref: Reference; repository: RemoteRepository; credentials: { found(): boolean } } {
  const ref = parseReference(reference, { normalize: flags.normalize ?? false });
  const config = readNotationConfigSync(ctx);
  const credentials = cliCredentials(ctx, ref.registry, flags, config);
  const plainHttp = usesPlainHttp(ref.registry, flags.insecureRegistry, config);
  const client = createRegistryClient({
    fetch: cliFetch(ctx),
    credentials,
    // the client's own loopback rule (127.0.0.1, [::1] too) is not notation's
    plainHttpLoopback: flags.plainHttpLoopback ?? false,
    plainHttp,
    logger: ctx.logger(),
    userAgent: `vouch/${ctx.version}`,
    retry: { retries: 2 },
  });
  ctx.remote = { registry: ref.registry, credentials, plainHttp };
  const repository = remoteRepository(client, `${ref.registry}/${ref.repository}`, {
    ...(flags.forceReferrersTag !== undefined ? { forceReferrersTag: flags.forceReferrersTag } : {}),
  });
  return { ref, repository, credentials };
}
