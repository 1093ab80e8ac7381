import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VouchError } from '@vouch/core';
import type { Credential, CredentialProvider } from '@vouch/registry';

/** Options of {@link dockerCredentials}. */
export interface DockerCredentialsOptions {
  /** Path of config.json (default {@link dockerConfigPath}). */
  configPath?: string;
  /** Deadline of a `docker-credential-<name> get` run in ms (default 10 s). */
  helperTimeoutMs?: number;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: Record<string, string | undefined> = process.env): string {
  const dir = env.DOCKER_CONFIG && env.DOCKER_CONFIG !== '' ? env.DOCKER_CONFIG : join(homedir(), '.docker');
  return join(dir, 'config.json');
}

const DOCKER_HUB_KEYS = [
  'https://index.docker.io/v1/',
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
  'https://index.docker.io/v1',
];
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The host[:port] part of a config.json `auths` key (`https://reg.io/v1/` → `reg.io`). */
function keyHost(key: string): string {
  let k = key.trim();
  k = k.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = k.indexOf('/');
  return (slash >= 0 ? k.slice(0, slash) : k).toLowerCase();
}

function isHub(registry: string): boolean {
  return ['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(registry.toLowerCase());
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

async function readConfig(path: string): Promise<DockerConfig | undefined> {
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
    return doc as DockerConfig;
  } catch (e) {
    throw new VouchError('ERR_CONFIG_INVALID', `docker config ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Run `docker-credential-<helper> get` (no shell, with a deadline), writing the server URL on
 * stdin. Resolves undefined when the helper has no credentials for it.
 */
export function runCredentialHelper(helper: string, serverUrl: string, timeoutMs = 10_000): Promise<Credential | undefined> {
  if (!HELPER_NAME.test(helper)) {
    return Promise.reject(new VouchError('ERR_CONFIG_INVALID', `invalid credential helper name "${helper}"`));
  }
  const bin = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = execFile(bin, ['get'], { timeout: timeoutMs, maxBuffer: 1024 * 1024, shell: false, windowsHide: true }, (err, stdout) => {
      if (err) {
        const out = `${stdout ?? ''}`.toLowerCase();
        if (out.includes('credentials not found')) return resolve(undefined);
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        if (e.code === 'ENOENT') {
          return reject(
            new VouchError('ERR_CONFIG_INVALID', `credential helper ${bin} is not installed (named by the docker config)`, { cause: err }),
          );
        }
        if (e.killed)
          return reject(new VouchError('ERR_TIMEOUT', `credential helper ${bin} did not answer within ${timeoutMs} ms`, { cause: err }));
        return reject(
          new VouchError('ERR_REGISTRY_UNAUTHORIZED', `credential helper ${bin} failed: ${err.message.split('\n')[0]}`, { cause: err }),
        );
      }
      try {
        const doc = JSON.parse(stdout) as { Username?: string; Secret?: string };
        if (!doc.Secret) return resolve(undefined);
        if (doc.Username === '<token>') return resolve({ identityToken: doc.Secret });
        return resolve({ username: doc.Username ?? '', password: doc.Secret });
      } catch (e) {
        return reject(new VouchError('ERR_MALFORMED_INPUT', `credential helper ${bin} printed invalid JSON`, { cause: e }));
      }
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(serverUrl);
  });
}

function fromAuthEntry(entry: NonNullable<DockerConfig['auths']>[string]): Credential | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const c: Credential = {};
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    let decoded: string;
    try {
      decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    } catch {
      return undefined;
    }
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
 */
export function dockerCredentials(options: DockerCredentialsOptions = {}): CredentialProvider {
  const path = options.configPath ?? dockerConfigPath();
  return {
    async get(registry) {
      const config = await readConfig(path);
      if (!config) return undefined;
      const host = registry.toLowerCase();
      const hub = isHub(host);
      const helpers = config.credHelpers && typeof config.credHelpers === 'object' ? config.credHelpers : {};
      const helper = hub ? (DOCKER_HUB_KEYS.map((k) => helpers[k]).find(Boolean) ?? helpers[registry]) : helpers[registry];
      const serverUrl = hub ? 'https://index.docker.io/v1/' : registry;
      if (typeof helper === 'string' && helper !== '') return runCredentialHelper(helper, serverUrl, options.helperTimeoutMs);
      if (typeof config.credsStore === 'string' && config.credsStore !== '') {
        return runCredentialHelper(config.credsStore, serverUrl, options.helperTimeoutMs);
      }
      const auths = config.auths && typeof config.auths === 'object' ? config.auths : {};
      for (const [key, entry] of Object.entries(auths)) {
        const k = keyHost(key);
        if (k === host || (hub && isHub(k))) return fromAuthEntry(entry);
      }
      return undefined;
    },
  };
}
