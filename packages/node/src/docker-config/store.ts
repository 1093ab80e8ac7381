/** Writing registry credentials to docker's config.json or its credential helper (`vouch login` / `logout`). */
import { writeFileAtomic } from '../config/fsutil.js';
import { credentialHelperFor, type DockerConfigFile, dockerConfigPath, dockerServerKey, readDockerConfig } from './config.js';
import { updateCredentialHelper } from './helper.js';

/** Options of {@link storeDockerCredentials} and {@link eraseDockerCredentials}. */
export interface DockerConfigWriteOptions {
  /** Path of config.json (default {@link dockerConfigPath} of `env`). */
  configPath?: string;
  /** Environment used to find the default path (`DOCKER_CONFIG`); default `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * Credential helper to use instead of the one config.json names (for example notation's own
   * `config.json` `credsStore`). An empty string forces the plain `auths` entry.
   */
  helper?: string;
  /** Deadline of a `docker-credential-<name>` run in ms (default: none, as docker and notation). */
  helperTimeoutMs?: number;
}

/** Where credentials were written or erased. */
export interface DockerConfigWriteResult {
  /** The config.json path considered. */
  path: string;
  /** The credential helper used (`pass`, `desktop` …), when one was. */
  helper?: string;
}

function helperFor(config: DockerConfigFile, registry: string, override: string | undefined): string | undefined {
  if (override !== undefined) return override === '' ? undefined : override;
  return credentialHelperFor(config, registry);
}

async function writeConfig(path: string, config: DockerConfigFile): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(config, null, '\t')}\n`, 0o600);
}

/**
 * Save credentials for `registry` as `docker login` does: through the credential helper
 * (`options.helper`, else config.json `credHelpers[registry]`, else `credsStore`), otherwise
 * as base64 `auth` in `auths` (an empty username stores the secret as `identitytoken`). The
 * file keeps its other fields and is written atomically with mode 0600.
 */
export async function storeDockerCredentials(
  registry: string,
  username: string,
  secret: string,
  options: DockerConfigWriteOptions = {},
): Promise<DockerConfigWriteResult> {
  const path = options.configPath ?? dockerConfigPath(options.env ?? process.env);
  const config = (await readDockerConfig(path)) ?? {};
  const key = dockerServerKey(registry);
  const helper = helperFor(config, registry, options.helper);
  if (helper) {
    const input = JSON.stringify({ ServerURL: key, Username: username || '<token>', Secret: secret });
    await updateCredentialHelper(helper, 'store', input, { timeoutMs: options.helperTimeoutMs });
    return { path, helper };
  }
  const auths = { ...(config.auths ?? {}) };
  auths[key] = username ? { auth: Buffer.from(`${username}:${secret}`, 'utf8').toString('base64') } : { identitytoken: secret };
  config.auths = auths;
  await writeConfig(path, config);
  return { path };
}

/** Remove the credentials of `registry` (helper `erase`, or the `auths` entry). `removed` is false when there was no entry. */
export async function eraseDockerCredentials(
  registry: string,
  options: DockerConfigWriteOptions = {},
): Promise<DockerConfigWriteResult & { removed: boolean }> {
  const path = options.configPath ?? dockerConfigPath(options.env ?? process.env);
  const config = (await readDockerConfig(path)) ?? {};
  const key = dockerServerKey(registry);
  const helper = helperFor(config, registry, options.helper);
  if (helper) {
    await updateCredentialHelper(helper, 'erase', key, { timeoutMs: options.helperTimeoutMs });
    return { path, helper, removed: true };
  }
  const auths = { ...(config.auths ?? {}) };
  if (!(key in auths)) return { path, removed: false };
  delete auths[key];
  config.auths = auths;
  await writeConfig(path, config);
  return { path, removed: true };
}
