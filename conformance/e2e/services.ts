/**
 * Services the notation e2e scenarios need, started by the runner on 127.0.0.1: the registry on
 * `localhost:5000` with htpasswd `testuser`/`testpassword` (or `E2E_REGISTRY`), image seeding
 * from the scenario layouts, the TLS front end for `notation-e2e.registry.io` (upstream: nginx
 * plus /etc/hosts plus the system CA store; here: a TLS proxy reached through a test transport
 * that maps that host name to it and trusts its certificate), and a `docker-credential-pass`
 * stand-in for the login scenarios.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FetchInit, FetchLike, FetchResponse } from '@vouch/core';
import { undiciFetch } from '@vouch/node';
import { createRegistryClient, remoteRepository, staticCredentials } from '@vouch/registry';
import { type RunningRegistry, registryBinary, skopeoCopy, startRegistry } from '@vouch/testing/registry';
import type { RegistryArtifact } from './types.js';

export const REGISTRY = 'localhost:5000';
export const USERNAME = 'testuser';
export const PASSWORD = 'testpassword';
export const DOMAIN_REGISTRY = 'notation-e2e.registry.io';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createNetServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The registry the scenarios use: `E2E_REGISTRY`, else our own docker-registry on 127.0.0.1:5000. */
export async function startE2eRegistry(): Promise<{ host: string; upstream: string; stop(): Promise<void> }> {
  const given = process.env.E2E_REGISTRY;
  if (given) return { host: given, upstream: given.replace(/^localhost(?=:)/, '127.0.0.1'), stop: async () => {} };
  if (!registryBinary()) {
    throw new Error(
      'docker-registry is not installed and E2E_REGISTRY is not set: install it (apt-get install docker-registry skopeo apache2-utils) or point E2E_REGISTRY at a registry on localhost:5000 with htpasswd testuser/testpassword',
    );
  }
  if (!(await portFree(5000))) {
    throw new Error(
      'port 5000 on 127.0.0.1 is taken: the notation e2e scenarios hard-code localhost:5000 in exact outputs and trust policies, so the runner will not use another port; stop what listens there or set E2E_REGISTRY=localhost:5000 to use it',
    );
  }
  const reg: RunningRegistry = await startRegistry({ htpasswd: { user: USERNAME, password: PASSWORD }, port: 5000 });
  return { host: REGISTRY, upstream: reg.host, stop: () => reg.stop() };
}

/**
 * Seed `repo:tag` from an OCI layout as upstream's `oras.ExtendedCopy` does: the tagged image
 * with skopeo, then every signature manifest whose subject is that image (and its blobs) through
 * vouch's registry client, which maintains the referrers tag-schema index on a registry without
 * the Referrers API (as oras does). The layout's own tag-schema index is not copied: it is rebuilt.
 */
export async function seedArtifact(layoutDir: string, registry: string, repo: string, artifact: RegistryArtifact): Promise<void> {
  await skopeoCopy(`oci:${layoutDir}:${artifact.tag}`, `docker://${registry}/${repo}:${artifact.tag}`, `${USERNAME}:${PASSWORD}`);
  if (artifact.preexisting_signatures.length === 0) return;
  const fetch = undiciFetch();
  try {
    const client = createRegistryClient({
      fetch,
      credentials: staticCredentials({ [registry]: { username: USERNAME, password: PASSWORD } }),
      plainHttp: true,
    });
    const target = remoteRepository(client, `${registry}/${repo}`);
    const blob = (digest: string) => readFile(join(layoutDir, 'blobs', ...digest.split(':')));
    for (const digest of artifact.preexisting_signatures) {
      const bytes = new Uint8Array(await blob(digest));
      const doc = JSON.parse(new TextDecoder().decode(bytes)) as {
        mediaType?: string;
        config?: { mediaType: string; digest: string };
        layers?: { mediaType: string; digest: string }[];
      };
      for (const d of [doc.config, ...(doc.layers ?? [])]) {
        if (d) await target.pushBlob(d.mediaType, new Uint8Array(await blob(d.digest)));
      }
      await target.pushManifest(doc.mediaType ?? 'application/vnd.oci.image.manifest.v1+json', bytes);
    }
  } finally {
    await fetch.close();
  }
}

/**
 * The scenarios' `assert_registry_referrers` check: the referrers of `repo@digest` with this
 * artifact type, each with the annotations of its manifest. Read with vouch's registry client:
 * the Referrers API when the registry has it (zot upstream), else the referrers tag schema,
 * which is where a registry without the API keeps the same list.
 */
export async function listReferrers(
  registry: string,
  repo: string,
  digest: string,
  artifactType: string,
): Promise<{ digest: string; annotations: Record<string, string> }[]> {
  const fetch = undiciFetch();
  try {
    const client = createRegistryClient({
      fetch,
      credentials: staticCredentials({ [registry]: { username: USERNAME, password: PASSWORD } }),
      plainHttp: true,
    });
    const target = remoteRepository(client, `${registry}/${repo}`);
    const subject = await target.resolve(digest);
    const out: { digest: string; annotations: Record<string, string> }[] = [];
    for await (const page of target.referrers(subject, { artifactType })) {
      for (const d of page) {
        const { bytes } = await target.fetchManifest(d);
        const doc = JSON.parse(new TextDecoder().decode(bytes)) as { annotations?: Record<string, string> };
        out.push({ digest: d.digest, annotations: { ...(d.annotations ?? {}), ...(doc.annotations ?? {}) } });
      }
    }
    return out;
  } finally {
    await fetch.close();
  }
}

/** HTTP and HTTPS front ends for `notation-e2e.registry.io`, forwarding to the registry (nginx upstream). */
export async function startDomainProxy(
  upstream: string,
  tlsDir: string,
): Promise<{ httpPort: number; httpsPort: number; ca: string; stop(): Promise<void> }> {
  const [cert, key] = await Promise.all([
    readFile(join(tlsDir, `${DOMAIN_REGISTRY}.crt`), 'utf8'),
    readFile(join(tlsDir, `${DOMAIN_REGISTRY}.key`), 'utf8'),
  ]);
  const [uHost, uPort] = upstream.split(':');
  const forward = (proto: 'http' | 'https') => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const headers = { ...req.headers, 'x-forwarded-proto': proto };
    const out = http.request({ host: uHost, port: Number(uPort), method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  };
  const plain = http.createServer(forward('http'));
  const secure = https.createServer({ cert, key }, forward('https'));
  const listen = (s: http.Server) =>
    new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));
  const [httpPort, httpsPort] = await Promise.all([listen(plain), listen(secure)]);
  const close = (s: http.Server) =>
    new Promise<void>((resolve) => {
      s.closeAllConnections?.();
      s.close(() => resolve());
    });
  return { httpPort, httpsPort, ca: cert, stop: async () => void (await Promise.all([close(plain), close(secure)])) };
}

function toResponse(res: http.IncomingMessage, url: string): FetchResponse {
  let web: ReadableStream<Uint8Array> | undefined;
  const body = () => {
    web ??= Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>;
    return web;
  };
  const bytes = async () => {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? '',
    url,
    headers: {
      get(name: string) {
        const v = res.headers[name.toLowerCase()];
        if (v === undefined) return null;
        return Array.isArray(v) ? v.join(', ') : String(v);
      },
    },
    get body() {
      return body();
    },
    async arrayBuffer() {
      const b = await bytes();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
    async text() {
      return (await bytes()).toString('utf8');
    },
  };
}

/**
 * A test transport standing in for `/etc/hosts` and the system CA store of upstream's TLS
 * setup: `notation-e2e.registry.io` resolves to the proxy (443 → the TLS port, 80 → the HTTP
 * port) and its certificate is trusted; other hosts are reached normally.
 */
export function domainFetch(proxy: { httpPort: number; httpsPort: number; ca: string }): FetchLike {
  return (input: string, init: FetchInit = {}) =>
    new Promise<FetchResponse>((resolve, reject) => {
      const u = new URL(input);
      const secure = u.protocol === 'https:';
      const mapped = u.hostname === DOMAIN_REGISTRY;
      const port = mapped ? (secure ? proxy.httpsPort : proxy.httpPort) : Number(u.port || (secure ? 443 : 80));
      const options: https.RequestOptions = {
        host: mapped ? '127.0.0.1' : u.hostname,
        port,
        path: `${u.pathname}${u.search}`,
        method: init.method ?? 'GET',
        headers: { ...init.headers, host: u.host },
        ...(init.signal ? { signal: init.signal } : {}),
      };
      if (secure) Object.assign(options, { servername: u.hostname, ...(mapped ? { ca: proxy.ca } : {}) });
      const req = (secure ? https : http).request(options, (res) => resolve(toResponse(res, input)));
      req.on('error', reject);
      const b = init.body;
      if (b === undefined) req.end();
      else if (typeof b === 'string' || b instanceof Uint8Array) req.end(b);
      else Readable.fromWeb(b as import('node:stream/web').ReadableStream<Uint8Array>).pipe(req);
    });
}

/**
 * A `docker-credential-pass` stand-in (the login scenarios name the `pass` store; upstream needs
 * a real one set up on the host): stores credentials in a JSON file. Returns the directory to
 * put first on PATH and a reset function.
 */
export async function installCredentialHelper(dir: string): Promise<{ binDir: string; reset(): Promise<void> }> {
  const binDir = join(dir, 'bin');
  await mkdir(binDir, { recursive: true });
  const db = join(dir, 'pass-store.json');
  const script = `#!/usr/bin/env node
const fs = require('fs');
const db = ${JSON.stringify(db)};
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const store = fs.existsSync(db) ? JSON.parse(fs.readFileSync(db, 'utf8')) : {};
  const action = process.argv[2];
  if (action === 'store') {
    const c = JSON.parse(input);
    store[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
    fs.writeFileSync(db, JSON.stringify(store));
  } else if (action === 'get') {
    const e = store[input.trim()];
    if (!e) { process.stdout.write('credentials not found in native keychain'); process.exit(1); }
    process.stdout.write(JSON.stringify({ ServerURL: input.trim(), Username: e.Username, Secret: e.Secret }));
  } else if (action === 'erase') {
    delete store[input.trim()];
    fs.writeFileSync(db, JSON.stringify(store));
  } else if (action === 'list') {
    process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(store).map(([k, v]) => [k, v.Username]))));
  } else { process.exit(1); }
});
`;
  const bin = join(binDir, 'docker-credential-pass');
  await writeFile(bin, script);
  await chmod(bin, 0o755);
  return { binDir, reset: () => writeFile(db, '{}') };
}
