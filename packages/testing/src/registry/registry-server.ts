import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, run, which } from './process.js';

/** Options of {@link startRegistry}. */
export interface StartRegistryOptions {
  /** Enable htpasswd (Basic) auth with this one user (needs `htpasswd` from apache2-utils). */
  htpasswd?: { user: string; password: string };
  /** Enable token (Bearer) auth against a token server (see `startTokenServer`). */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Port to listen on (default: a free one). */
  port?: number;
  /**
   * Serve HTTPS (distribution's `http.tls`) with this PEM certificate and key file; `ca` is the
   * PEM file the readiness probe trusts (the certificate itself when self-signed).
   */
  tls?: { certificate: string; key: string; ca: string };
}

/** A running CNCF distribution registry (Debian `docker-registry`). */
export interface RunningRegistry {
  /** `127.0.0.1:<port>`: use as the registry part of references. */
  host: string;
  /** `http://127.0.0.1:<port>` (`https://` with `tls`). */
  url: string;
  /** Temporary directory holding config and storage (removed by stop). */
  dir: string;
  stop(): Promise<void>;
}

/** Path of `docker-registry`, or undefined when it is not installed. */
export function registryBinary(): string | undefined {
  return which('docker-registry');
}

/** Status of `GET <url>/v2/` over HTTPS trusting only `ca` (PEM). */
function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}/v2/`, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function waitReady(url: string, child: ChildProcess, log: () => string, ca?: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}):\n${log()}`);
    try {
      let status: number;
      if (ca) status = await httpsStatus(url, ca);
      else {
        const res = await fetch(`${url}/v2/`);
        await res.arrayBuffer();
        status = res.status;
      }
      if (status === 200 || status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not become ready at ${url}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Start `docker-registry serve` with a temporary config and storage on 127.0.0.1 (deletes
 * enabled, in-memory blob descriptor cache). Call `stop()` in afterAll.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RunningRegistry> {
  const bin = registryBinary();
  if (!bin) throw new Error('docker-registry is not installed');
  const dir = await mkdtemp(join(tmpdir(), 'vouch-registry-'));
  const port = options.port ?? (await freePort());
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: vouch-test-not-secret',
    ...(options.tls ? ['  tls:', `    certificate: ${options.tls.certificate}`, `    key: ${options.tls.key}`] : []),
    'health:',
    '  storagedriver:',
    '    enabled: false',
  ];
  if (options.htpasswd) {
    const htpasswd = which('htpasswd');
    if (!htpasswd) throw new Error('htpasswd (apache2-utils) is not installed');
    const line = await run(htpasswd, ['-Bbn', options.htpasswd.user, options.htpasswd.password]);
    await writeFile(join(dir, 'htpasswd'), line);
    lines.push('auth:', '  htpasswd:', '    realm: vouch-test-realm', `    path: ${join(dir, 'htpasswd')}`);
  } else if (options.token) {
    const t = options.token;
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${t.realm}`,
      `    service: ${t.service}`,
      `    issuer: ${t.issuer}`,
      `    rootcertbundle: ${t.rootCertBundle}`,
    );
  }
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, `${lines.join('\n')}\n`);
  const child = spawn(bin, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (b: Buffer) => {
    output = (output + b.toString()).slice(-8192);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const ca = options.tls ? await readFile(options.tls.ca, 'utf8') : undefined;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child, () => output, ca);
  } catch (e) {
    await stop();
    throw e;
  }
  return { host: `127.0.0.1:${port}`, url, dir, stop };
}

/**
 * Copy an image with skopeo (e.g. `oci:/path/layout:v1` → `docker://127.0.0.1:5000/demo:v1`),
 * keeping digests (`--preserve-digests`), TLS verification off (the test registry is plain HTTP on 127.0.0.1).
 * `destCreds` is `user:password` for a registry with auth.
 */
export async function skopeoCopy(source: string, destination: string, destCreds?: string): Promise<void> {
  const skopeo = which('skopeo');
  if (!skopeo) throw new Error('skopeo is not installed');
  const args = ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', '--src-tls-verify=false'];
  if (destCreds) args.push('--dest-creds', destCreds);
  args.push(source, destination);
  await run(skopeo, args, 60_000);
}
