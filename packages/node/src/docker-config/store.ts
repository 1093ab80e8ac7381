import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { VouchError } from '@vouch/core';
import { writeFileAtomic } from '../config/fsutil.js';
import { dockerConfigPath } from '../registry/docker-credentials.js';

/** Docker's key for Docker Hub in `auths` and in credential helpers. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

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
  /** Deadline of a `docker-credential-<name>` run in ms (default 30 s). */
  helperTimeoutMs?: number;
}

/** Where credentials were written or erased. */
export interface DockerConfigWriteResult {
  /** The config.json path considered. */
  path: string;
  /** The credential helper used (`pass`, `desktop` …), when one was. */
  helper?: string;
}

/** The key of a registry in docker's `auths` map and credential helpers (`https://index.docker.io/v1/` for Docker Hub). */
export function dockerServerKey(registry: string): string {
  const r = registry.toLowerCase();
  return r === 'docker.io' || r === 'index.docker.io' || r === 'registry-1.docker.io' ? DOCKER_HUB_KEY : registry;
}

async function readConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return {};
    throw new VouchError('ERR_IO', `cannot read docker config ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new VouchError('ERR_CONFIG_INVALID', `malformed docker config ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function helperFor(config: Record<string, unknown>, key: string, override: string | undefined): string | undefined {
  if (override !== undefined) return override === '' ? undefined : override;
  const helpers = config.credHelpers as Record<string, unknown> | undefined;
  const h = helpers && typeof helpers === 'object' ? helpers[key] : undefined;
  if (typeof h === 'string' && h) return h;
  return typeof config.credsStore === 'string' && config.credsStore ? config.credsStore : undefined;
}

/**
 * Run `docker-credential-<helper> <action>` without a shell, writing `input` on stdin.
 * Rejects with ERR_CONFIG_INVALID when the helper is missing or fails.
 */
export function runCredentialHelperAction(helper: string, action: 'store' | 'erase', input: string, timeoutMs = 30_000): Promise<void> {
  if (!HELPER_NAME.test(helper)) {
    return Promise.reject(new VouchError('ERR_CONFIG_INVALID', `invalid credential helper name "${helper}"`));
  }
  const bin = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = execFile(bin, [action], { timeout: timeoutMs, shell: false, windowsHide: true }, (err, stdout, stderr) => {
      if (!err) return resolve();
      const why = `${stderr ?? ''}`.trim() || `${stdout ?? ''}`.trim() || err.message.split('\n')[0];
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        new VouchError(
          'ERR_CONFIG_INVALID',
          missing ? `credential helper ${bin} is not installed` : `credential helper ${bin} ${action} failed: ${why}`,
          { cause: err },
        ),
      );
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
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
  const config = await readConfig(path);
  const key = dockerServerKey(registry);
  const helper = helperFor(config, key, options.helper);
  if (helper) {
    const input = JSON.stringify({ ServerURL: key, Username: username || '<token>', Secret: secret });
    await runCredentialHelperAction(helper, 'store', input, options.helperTimeoutMs);
    return { path, helper };
  }
  const auths = { ...((config.auths as Record<string, unknown>) ?? {}) };
  auths[key] = username ? { auth: Buffer.from(`${username}:${secret}`, 'utf8').toString('base64') } : { identitytoken: secret };
  config.auths = auths;
  await writeFileAtomic(path, `${JSON.stringify(config, null, '\t')}\n`, 0o600);
  return { path };
}

/** Remove the credentials of `registry` (helper `erase`, or the `auths` entry). `removed` is false when there was no entry. */
export async function eraseDockerCredentials(
  registry: string,
  options: DockerConfigWriteOptions = {},
): Promise<DockerConfigWriteResult & { removed: boolean }> {
  const path = options.configPath ?? dockerConfigPath(options.env ?? process.env);
  const config = await readConfig(path);
  const key = dockerServerKey(registry);
  const helper = helperFor(config, key, options.helper);
  if (helper) {
    await runCredentialHelperAction(helper, 'erase', key, options.helperTimeoutMs);
    return { path, helper, removed: true };
  }
  const auths = { ...((config.auths as Record<string, unknown>) ?? {}) };
  if (!(key in auths)) return { path, removed: false };
  delete auths[key];
  config.auths = auths;
  await writeFileAtomic(path, `${JSON.stringify(config, null, '\t')}\n`, 0o600);
  return { path, removed: true };
}
