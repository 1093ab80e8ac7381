/** Registry credentials read from docker's config.json, as docker resolves them. */
import { VouchError } from '@vouch/core';
import type { Credential, CredentialProvider } from '@vouch/registry';
import { credentialHelperFor, type DockerConfigFile, dockerConfigPath, dockerServerKey, isDockerHub, readDockerConfig } from './config.js';
import { runCredentialHelper } from './helper.js';

/** Options of {@link dockerCredentials}. */
export interface DockerCredentialsOptions {
  /** Path of config.json (default {@link dockerConfigPath}). */
  configPath?: string;
  /** Deadline of a `docker-credential-<name> get` run in ms (default: none, as docker and notation). */
  helperTimeoutMs?: number;
}

/** The host[:port] part of a config.json `auths` key (`https://reg.io/v1/` → `reg.io`). */
function keyHost(key: string): string {
  const k = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = k.indexOf('/');
  return (slash >= 0 ? k.slice(0, slash) : k).toLowerCase();
}

function fromAuthEntry(entry: NonNullable<DockerConfigFile['auths']>[string]): Credential | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const c: Credential = {};
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new VouchError('ERR_CONFIG_INVALID', 'a docker config "auth" value is not base64 of user:password');
    c.username = decoded.slice(0, colon);
    c.password = decoded.slice(colon + 1);
  } else if (typeof entry.username === 'string' || typeof entry.password === 'string') {
    c.username = entry.username ?? '';
    c.password = entry.password ?? '';
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') c.identityToken = entry.identitytoken;
  if (typeof entry.registrytoken === 'string' && entry.registrytoken !== '') c.registryToken = entry.registrytoken;
  return Object.keys(c).length > 0 ? c : undefined;
}

/**
 * Credentials from a docker `config.json`, as docker resolves them: `credHelpers[registry]`,
 * else `credsStore`, else the `auths` entry (`auth` = base64 `user:password`, or
 * `username`/`password`, `identitytoken`, `registrytoken`). Docker Hub is looked up under
 * `https://index.docker.io/v1/`. The file is read on every lookup, so a login is seen at once.
 * @example
 * ```ts
 * import { dockerCredentials, undiciFetch } from '@vouch/node';
 * import { createRegistryClient } from '@vouch/registry';
 *
 * // what `docker login` wrote to ~/.docker/config.json (credential helpers included)
 * const client = createRegistryClient({ fetch: undiciFetch(), credentials: dockerCredentials() });
 * ```
 */
export function dockerCredentials(options: DockerCredentialsOptions = {}): CredentialProvider {
  const path = options.configPath ?? dockerConfigPath();
  return {
    async get(registry) {
      const config = await readDockerConfig(path);
      if (!config) return undefined;
      const helper = credentialHelperFor(config, registry);
      if (helper) return runCredentialHelper(helper, dockerServerKey(registry), { timeoutMs: options.helperTimeoutMs });
      const host = registry.toLowerCase();
      const hub = isDockerHub(host);
      const auths = config.auths && typeof config.auths === 'object' ? config.auths : {};
      for (const [key, entry] of Object.entries(auths)) {
        const k = keyHost(key);
        if (k === host || (hub && isDockerHub(k))) return fromAuthEntry(entry);
      }
      return undefined;
    },
  };
}
