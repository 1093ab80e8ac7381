import { execFile } from 'node:child_process';
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { KeySpec, PluginConfig } from '@vouch/plugin';
import { PluginError } from '@vouch/plugin';

/** A signing key with its certificate chain, leaf first. */
export interface LoadedKey {
  privateKey: KeyObject;
  /** DER certificates, leaf first, ordered by issuer. */
  chain: Uint8Array[];
  keySpec: KeySpec;
}

/** Environment variable that holds the PKCS#12 password unless `pluginConfig.passwordEnv` names another. */
export const DEFAULT_PASSWORD_ENV = 'VOUCH_PKCS12_PASSWORD';

/** Where the key store is and how to open it. */
export interface KeyStoreOptions {
  /** Environment used for the password variable and for openssl; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Resolve relative key ids against this directory; default `process.cwd()`. */
  cwd?: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    execFile(file, args, { env, maxBuffer: 16 * 1024 * 1024, timeout: 30_000, windowsHide: true }, (err, stdout, stderr) => {
      if (err) fail(Object.assign(err, { stderr: String(stderr) }));
      else done({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function pemBlocks(text: string, label: RegExp): string[] {
  const out: string[] = [];
  const re = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) if (label.test(m[1]!)) out.push(m[0]);
  return out;
}

/** Open a PKCS#12 file with `openssl pkcs12` (no password on the command line: `-passin env:`). */
async function readPkcs12(path: string, config: PluginConfig, env: NodeJS.ProcessEnv): Promise<string> {
  const openssl = config.openssl ?? 'openssl';
  const varName = config.passwordEnv ?? DEFAULT_PASSWORD_ENV;
  const passin = env[varName] !== undefined ? `env:${varName}` : 'pass:';
  const base = ['pkcs12', '-in', path, '-nodes', '-passin', passin];
  try {
    return (await run(openssl, base, env)).stdout;
  } catch (first) {
    const text = String((first as { stderr?: string }).stderr ?? '');
    if ((first as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PluginError('ERROR', `cannot run ${openssl}: it is not installed (set pluginConfig.openssl to its path)`);
    }
    if (/mac verify failure|invalid password|bad decrypt/i.test(text)) {
      throw new PluginError('ACCESS_DENIED', `wrong password for ${path} (taken from the environment variable ${varName})`);
    }
    // PKCS#12 files written by older tools use RC2/3DES, which OpenSSL 3 keeps in its legacy provider.
    try {
      return (await run(openssl, [...base, '-legacy'], env)).stdout;
    } catch (second) {
      const t2 = String((second as { stderr?: string }).stderr ?? '');
      if (/mac verify failure|invalid password|bad decrypt/i.test(t2)) {
        throw new PluginError('ACCESS_DENIED', `wrong password for ${path} (taken from the environment variable ${varName})`);
      }
      throw new PluginError('ERROR', `openssl could not read the PKCS#12 file ${path}: ${(text || t2).trim().split('\n')[0]}`);
    }
  }
}

function keySpecOf(cert: X509Certificate): KeySpec {
  const d = cert.publicKey.asymmetricKeyDetails ?? {};
  if (cert.publicKey.asymmetricKeyType === 'rsa' && [2048, 3072, 4096].includes(d.modulusLength ?? 0)) {
    return `RSA-${d.modulusLength}` as KeySpec;
  }
  const curve = { prime256v1: 'EC-256', secp384r1: 'EC-384', secp521r1: 'EC-521' }[d.namedCurve ?? ''];
  if (cert.publicKey.asymmetricKeyType === 'ec' && curve) return curve as KeySpec;
  throw new PluginError(
    'VALIDATION_ERROR',
    `the certificate's ${cert.publicKey.asymmetricKeyType} key is not one the Notary Project allows`,
  );
}

/** Leaf (the certificate of `key`) first, then each issuer in turn. */
function orderChain(certs: X509Certificate[], key: KeyObject): X509Certificate[] {
  const leaf = certs.find((c) => c.checkPrivateKey(key));
  if (!leaf) throw new PluginError('VALIDATION_ERROR', 'no certificate in the key store matches its private key');
  const chain = [leaf];
  const rest = certs.filter((c) => c !== leaf);
  for (let cur = leaf; ; ) {
    if (cur.checkIssued(cur)) break; // self-signed: the root
    const issuer = rest.find((c) => cur.checkIssued(c) && cur.verify(c.publicKey));
    if (!issuer) break;
    chain.push(issuer);
    rest.splice(rest.indexOf(issuer), 1);
    cur = issuer;
  }
  return chain;
}

/**
 * Load the key named by `keyId`: the path of a PKCS#12 file (`.p12`/`.pfx`, opened with
 * `openssl pkcs12`; password in the environment variable `pluginConfig.passwordEnv`, default
 * VOUCH_PKCS12_PASSWORD), or of a directory holding `key.pem` and `cert.pem` (the chain).
 * Relative paths resolve against `options.cwd`. An unknown key is VALIDATION_ERROR, a wrong
 * password ACCESS_DENIED.
 */
export async function loadKey(keyId: string, config: PluginConfig = {}, options: KeyStoreOptions = {}): Promise<LoadedKey> {
  const env = options.env ?? process.env;
  const path = isAbsolute(keyId) ? keyId : resolve(options.cwd ?? process.cwd(), keyId);
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new PluginError('VALIDATION_ERROR', `unknown key ${keyId}: no PKCS#12 file or key directory at ${path}`);
  }
  let text: string;
  if (isDir) {
    try {
      text = `${await readFile(join(path, 'key.pem'), 'utf8')}\n${await readFile(join(path, 'cert.pem'), 'utf8')}`;
    } catch (e) {
      throw new PluginError('VALIDATION_ERROR', `key directory ${path} must hold key.pem and cert.pem: ${(e as Error).message}`);
    }
  } else {
    text = await readPkcs12(path, config, env);
  }
  const keys = pemBlocks(text, /PRIVATE KEY$/);
  if (keys.length !== 1)
    throw new PluginError('VALIDATION_ERROR', `the key store ${path} must hold exactly one private key, found ${keys.length}`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keys[0]!);
  } catch (e) {
    throw new PluginError('VALIDATION_ERROR', `the private key in ${path} cannot be read: ${(e as Error).message}`);
  }
  const certs = pemBlocks(text, /^CERTIFICATE$/).map((p) => new X509Certificate(p));
  if (certs.length === 0) throw new PluginError('VALIDATION_ERROR', `the key store ${path} holds no certificate`);
  const chain = orderChain(certs, privateKey);
  return { privateKey, chain: chain.map((c) => new Uint8Array(c.raw)), keySpec: keySpecOf(chain[0]!) };
}
