/**
 * docker's `config.json`: where it is, how registries are keyed in it, and which credential
 * helper (`credHelpers[registry]`, else `credsStore`) holds a registry's credentials.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VouchError } from '@vouch/core';

/** The fields of config.json vouch reads; every other field is kept as it is when writing. */
export interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [field: string]: unknown;
}

/** Docker's key for Docker Hub in `auths` and in credential helpers. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** Keys under which Docker Hub may appear in `credHelpers`. */
const DOCKER_HUB_KEYS = [DOCKER_HUB_KEY, 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1'];

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: Record<string, string | undefined> = process.env): string {
  const dir = env.DOCKER_CONFIG && env.DOCKER_CONFIG !== '' ? env.DOCKER_CONFIG : join(homedir(), '.docker');
  return join(dir, 'config.json');
}

/** True for the names Docker Hub goes by (`docker.io`, `index.docker.io`, `registry-1.docker.io`). */
export function isDockerHub(registry: string): boolean {
  return ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(registry.toLowerCase());
}

/** The key of a registry in docker's `auths` map and credential helpers (`https://index.docker.io/v1/` for Docker Hub). */
export function dockerServerKey(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_KEY : registry;
}

/** config.json at `path`; undefined when there is none. ERR_IO when unreadable, ERR_CONFIG_INVALID when not a JSON object. */
export async function readDockerConfig(path: string): Promise<DockerConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw new VouchError('ERR_IO', `cannot read docker config ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
    return doc as DockerConfigFile;
  } catch (e) {
    throw new VouchError('ERR_CONFIG_INVALID', `malformed docker config ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The credential helper config.json names for `registry`, as docker picks it:
 * `credHelpers[registry]` (Docker Hub under any of its keys), else `credsStore`.
 */
export function credentialHelperFor(config: DockerConfigFile, registry: string): string | undefined {
  const helpers = config.credHelpers && typeof config.credHelpers === 'object' ? config.credHelpers : {};
  const own = isDockerHub(registry) ? (DOCKER_HUB_KEYS.map((k) => helpers[k]).find(Boolean) ?? helpers[registry]) : helpers[registry];
  if (typeof own === 'string' && own !== '') return own;
  return typeof config.credsStore === 'string' && config.credsStore !== '' ? config.credsStore : undefined;
}
