import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VouchError } from '@vouch/core';
import { writeFileAtomic } from '@vouch/node';

/** Docker's key for Docker Hub in `auths`. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** The docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: Record<string, string | undefined>): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  return join(env.HOME ?? homedir(), '.docker', 'config.json');
}

/** The key of a registry in docker's `auths` map. */
export function dockerServerKey(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' || registry === 'registry-1.docker.io' ? DOCKER_HUB_KEY : registry;
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
    const v = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new VouchError('ERR_CONFIG_INVALID', `malformed docker config ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function helperFor(config: Record<string, unknown>, key: string): string | undefined {
  const helpers = config.credHelpers as Record<string, unknown> | undefined;
  const h = helpers && typeof helpers === 'object' ? helpers[key] : undefined;
  if (typeof h === 'string' && h) return h;
  return typeof config.credsStore === 'string' && config.credsStore ? config.credsStore : undefined;
}

function runHelper(helper: string, action: 'store' | 'erase', input: string): Promise<void> {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
    return Promise.reject(new VouchError('ERR_CONFIG_INVALID', `invalid credential helper name "${helper}"`));
  }
  return new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${helper}`, [action], { timeout: 30_000, shell: false }, (err, _out, stderr) => {
      if (err) {
        reject(
          new VouchError(
            'ERR_CONFIG_INVALID',
            `credential helper docker-credential-${helper} ${action} failed: ${String(stderr).trim() || err.message}`,
            {
              cause: err,
            },
          ),
        );
      } else resolve();
    });
    child.stdin?.end(input);
  });
}

/**
 * Save credentials for `registry` as docker does: through the configured credential helper
 * (`credHelpers[registry]` or `credsStore`), else base64 `auth` in `auths` (an empty
 * username stores the secret as `identitytoken`). The file keeps its other fields and is
 * written atomically with mode 0600.
 */
export async function storeDockerCredentials(
  env: Record<string, string | undefined>,
  registry: string,
  username: string,
  secret: string,
): Promise<{ path: string; helper?: string }> {
  const path = dockerConfigPath(env);
  const config = await readConfig(path);
  const key = dockerServerKey(registry);
  const helper = helperFor(config, key);
  if (helper) {
    await runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: username || '<token>', Secret: secret }));
    return { path, helper };
  }
  const auths = { ...((config.auths as Record<string, unknown>) ?? {}) };
  auths[key] = username ? { auth: Buffer.from(`${username}:${secret}`, 'utf8').toString('base64') } : { identitytoken: secret };
  config.auths = auths;
  await writeFileAtomic(path, `${JSON.stringify(config, null, '\t')}\n`, 0o600);
  return { path };
}

/** Remove the credentials of `registry` (helper `erase`, or the `auths` entry). */
export async function eraseDockerCredentials(
  env: Record<string, string | undefined>,
  registry: string,
): Promise<{ path: string; helper?: string; removed: boolean }> {
  const path = dockerConfigPath(env);
  const config = await readConfig(path);
  const key = dockerServerKey(registry);
  const helper = helperFor(config, key);
  if (helper) {
    await runHelper(helper, 'erase', key);
    return { path, helper, removed: true };
  }
  const auths = { ...((config.auths as Record<string, unknown>) ?? {}) };
  if (!(key in auths)) return { path, removed: false };
  delete auths[key];
  config.auths = auths;
  await writeFileAtomic(path, `${JSON.stringify(config, null, '\t')}\n`, 0o600);
  return { path, removed: true };
}
