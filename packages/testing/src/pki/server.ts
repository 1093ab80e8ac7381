/**
 * Test-only: a node HTTP server on 127.0.0.1 (port 0) that fronts openssl as real PKI
 * peers, per ../shared/docs/toolchain-and-services.md §4.4:
 *
 *   POST /<pki>/tsa                  (application/timestamp-query) → openssl ts -reply
 *   POST /<pki>/ocsp/<ca>            (application/ocsp-request)    → openssl ocsp -index … -reqin/-respout
 *   GET  /<pki>/ocsp/<ca>/<base64>   RFC 6960 GET form             → same
 *   GET  /<pki>/int.crl | root.crl | int-short.crl                 → DER CRLs from openssl ca -gencrl
 *   GET  /<pki>/big.crl, * /<pki>/big/ocsp…                         → oversized bodies (33 MiB / 32 KiB)
 *
 * `openssl ocsp -port` is never used (it binds every interface). `@vouch/testing/pki`, Node only.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRequestBody } from '../registry/process.js';
import { createOpensslPki, type OpensslPki, opensslAvailable, type PkiAlgorithm } from './openssl-pki.js';

/** One request the server saw. */
export interface LoggedRequest {
  method: string;
  path: string;
  contentType?: string;
}

export interface PkiHttpServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** An origin nothing listens on. */
  readonly closedUrl: string;
  /** Every request so far. */
  readonly log: LoggedRequest[];
  /** Generate a PKI served under `<url>/<name>/`. */
  addPki(name: string, alg: PkiAlgorithm): Promise<OpensslPki>;
  stop(): Promise<void>;
}

async function freePortUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** Run an openssl command that reads `in.der` and writes `out.der` in a scratch dir. */
async function withFiles(pki: OpensslPki, input: Uint8Array, args: (i: string, o: string) => string[]): Promise<Buffer> {
  const t = mkdtempSync(join(tmpdir(), 'vouch-pki-io-'));
  try {
    const i = join(t, 'in.der');
    const o = join(t, 'out.der');
    writeFileSync(i, input);
    await pki.run(args(i, o));
    return readFileSync(o);
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
}

function tsaReply(pki: OpensslPki, query: Uint8Array): Promise<Buffer> {
  return withFiles(pki, query, (i, o) => ['ts', '-reply', '-config', 'tsa.cnf', '-section', 'tsa_config', '-queryfile', i, '-out', o]);
}

function ocspReply(pki: OpensslPki, ca: 'int' | 'root', request: Uint8Array): Promise<Buffer> {
  const signer = ca === 'int' ? ['-rsigner', 'ocsp.crt', '-rkey', 'ocsp.key'] : ['-rsigner', 'root.crt', '-rkey', 'root.key'];
  const db = ca === 'int' ? 'db-intca' : 'db-rootca';
  return withFiles(pki, request, (i, o) => [
    'ocsp',
    '-index',
    `${db}/index.txt`,
    ...signer,
    '-CA',
    `${ca}.crt`,
    '-ndays',
    '1',
    '-reqin',
    i,
    '-respout',
    o,
  ]);
}

function send(res: ServerResponse, type: string, body: Buffer): void {
  res.writeHead(200, { 'content-type': type, 'content-length': body.length });
  res.end(body);
}

/**
 * Start the PKI HTTP server on 127.0.0.1, port 0. Call `stop()` in afterAll. PKIs are
 * generated in a temporary directory removed on stop.
 */
export async function startPkiServer(): Promise<PkiHttpServer> {
  const root = mkdtempSync(join(tmpdir(), 'vouch-pki-'));
  const pkis = new Map<string, OpensslPki>();
  const log: LoggedRequest[] = [];
  const big = Buffer.alloc(33 * 1024 * 1024, 0x30);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = req.url ?? '/';
      log.push({
        method: req.method ?? '',
        path: url,
        ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      });
      const body = await readRequestBody(req);
      const m = /^\/([^/]+)\/(.*)$/.exec(url);
      const pki = m ? pkis.get(m[1]!) : undefined;
      if (!m || !pki) {
        res.writeHead(404).end();
        return;
      }
      const rest = m[2]!;
      const ct = req.headers['content-type'];
      try {
        if (req.method === 'POST' && rest === 'tsa' && ct === 'application/timestamp-query') {
          return send(res, 'application/timestamp-reply', await tsaReply(pki, body));
        }
        const ocsp = /^ocsp\/(int|root)(?:\/(.+))?$/.exec(rest);
        if (ocsp && req.method === 'POST' && !ocsp[2] && ct === 'application/ocsp-request') {
          return send(res, 'application/ocsp-response', await ocspReply(pki, ocsp[1] as 'int' | 'root', body));
        }
        if (ocsp && req.method === 'GET' && ocsp[2]) {
          const der = Buffer.from(decodeURIComponent(ocsp[2]), 'base64');
          return send(res, 'application/ocsp-response', await ocspReply(pki, ocsp[1] as 'int' | 'root', der));
        }
        if (req.method === 'GET' && (rest === 'int.crl' || rest === 'root.crl' || rest === 'int-short.crl')) {
          return send(res, 'application/pkix-crl', readFileSync(join(pki.dir, rest)));
        }
        if (rest === 'big.crl') return send(res, 'application/pkix-crl', big);
        if (rest.startsWith('big/ocsp')) return send(res, 'application/ocsp-response', big.subarray(0, 32 * 1024));
        res.writeHead(404).end();
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String((e as Error).message));
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closedUrl = await freePortUrl();
  return {
    url,
    closedUrl,
    log,
    async addPki(name, alg) {
      const dir = join(root, name);
      mkdirSync(dir);
      const pki = await createOpensslPki({ dir, name, alg, baseUrl: url, closedUrl });
      pkis.set(name, pki);
      return pki;
    },
    async stop() {
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * For test files: true when openssl is present. When it is missing, prints a NOTICE and
 * returns false (the caller skips), except under CI=true where it throws.
 */
export async function requireOpenssl(what: string): Promise<boolean> {
  if (await opensslAvailable()) return true;
  const msg = `openssl not found: ${what} skipped`;
  if (process.env.CI === 'true') throw new Error(`${msg}; under CI=true openssl is required`);
  console.warn(`NOTICE: ${msg}`);
  return false;
}
