/**
 * Stand-ins for upstream's CRL and OCSP test services of the notation e2e suite (see
 * ../shared/vectors/notation-e2e/README.md, "OCSP and CRL test services"). The testdata
 * certificates name loopback URLs (`http://localhost:10086/leaf.crl`,
 * `…/intermediate.crl`, OCSP `http://localhost:10087`), so the scenario's own files are served
 * on exactly those ports, bound to 127.0.0.1 only:
 *
 * - CRL server (127.0.0.1:10086): `GET /leaf.crl`, `GET /intermediate.crl` answer the current
 *   file of `testdata/config/crl/` (DER, `application/pkix-crl`), `POST /leaf/revoke|unrevoke|expired`
 *   and `POST /intermediate/revoke|unrevoke` switch the file, as upstream's `crl_server.py`.
 * - OCSP responder (127.0.0.1:10087): a node HTTP server that answers each RFC 6960 request
 *   (POST body, or GET `/<base64>`) with `openssl ocsp -index demoCA/index.txt -CA root.crt
 *   -rkey ocsp.key -rsigner ocsp.crt -nmin 5 -reqin … -respout …` in a private copy of
 *   `testdata/config/ocsp/` (upstream runs `openssl ocsp -port 10087`, which binds every
 *   interface). Control server (127.0.0.1:10088): `POST /revoke|unrevoke|unknown` rewrite
 *   the index line exactly as upstream's `ocsp_server.py`. The index is read per request, so
 *   there is no responder restart to wait for.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRequestBody } from '@vouch/testing/registry';

/** Fixed ports named by the testdata certificates and the scenarios' control POSTs. */
export const CRL_PORT = 10086;
export const OCSP_PORT = 10087;
export const OCSP_CONTROL_PORT = 10088;

/** A running service; `stop()` closes its servers and removes its scratch files. */
export interface RunningService {
  stop(): Promise<void>;
}

async function listen(server: Server, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          e.code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is taken: the ${what} must listen there because the notation e2e testdata names it; stop what listens there`
            : `${what} could not listen on 127.0.0.1:${port}: ${e.message}`,
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

function reply(res: ServerResponse, status: number, type: string, body: Buffer | string): void {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'content-type': type, 'content-length': b.length });
  res.end(b);
}

/** Upstream's crl_server.py on 127.0.0.1:10086, serving the files of `crlDir` (testdata/config/crl). */
export async function startCrlServer(crlDir: string): Promise<RunningService> {
  const current = { leaf: 'leaf.crl', intermediate: 'intermediate.crl' };
  const switches: Record<string, [keyof typeof current, string]> = {
    '/leaf/revoke': ['leaf', 'leaf_revoked.crl'],
    '/leaf/unrevoke': ['leaf', 'leaf.crl'],
    '/leaf/expired': ['leaf', 'leaf_expired.crl'],
    '/intermediate/revoke': ['intermediate', 'intermediate_revoked.crl'],
    '/intermediate/unrevoke': ['intermediate', 'intermediate.crl'],
  };
  const server = createServer((req, res) => {
    void (async () => {
      await readRequestBody(req, 64 * 1024).catch(() => Buffer.alloc(0));
      const path = (req.url ?? '/').split('?')[0]!;
      try {
        if (req.method === 'GET' && (path === '/leaf.crl' || path === '/intermediate.crl')) {
          const which = path === '/leaf.crl' ? 'leaf' : 'intermediate';
          return reply(res, 200, 'application/pkix-crl', await readFile(join(crlDir, current[which])));
        }
        const sw = req.method === 'POST' ? switches[path] : undefined;
        if (sw) {
          current[sw[0]] = sw[1];
          return reply(res, 201, 'text/plain', 'ok');
        }
        reply(res, 404, 'text/plain', 'not found');
      } catch (e) {
        reply(res, 500, 'text/plain', String((e as Error).message));
      }
    })();
  });
  await listen(server, CRL_PORT, 'CRL server');
  return { stop: () => close(server) };
}

/** The index line upstream's ocsp_server.py writes for each control POST (`\t`-separated). */
const LEAF_LINE =
  '21250121012109Z\t250214013720Z\t520D9B1364D98367711DA2B6A0A0F34B23E3D02A\tunknown\t/C=US/ST=State/L=City/O=Organization/OU=OrgUnit/CN=LeafCert';
const INDEX_LINES: Record<string, string> = {
  '/revoke': `R\t${LEAF_LINE}`,
  '/unrevoke': `V\t${LEAF_LINE}`,
  // upstream writes a single empty line; the openssl here refuses to parse that index ("could
  // not load/parse file"), so an empty index stands in for it: every status is unknown
  '/unknown': '',
};

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, encoding: 'buffer' }, (err, _out, stderr) =>
      err ? reject(new Error(`openssl ${args[0]} failed: ${stderr.toString() || err.message}`)) : resolve(),
    );
  });
}

/** Adds owner write (and search) permission under `dir` (a non-root user cannot write a 0444 copy). */
async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, (await stat(dir)).mode | 0o700);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await makeWritable(p);
    else if (e.isFile()) await chmod(p, (await stat(p)).mode | 0o600);
  }
}

/**
 * Upstream's ocsp_server.py: an OCSP responder on 127.0.0.1:10087 backed by `openssl ocsp`
 * over a private copy of `ocspDir` (testdata/config/ocsp), and its control server on
 * 127.0.0.1:10088. The index starts in the committed state (no entry: every status unknown).
 */
export async function startOcspResponder(ocspDir: string): Promise<RunningService> {
  const work = await mkdtemp(join(tmpdir(), 'vouch-e2e-ocsp-'));
  await cp(ocspDir, work, { recursive: true });
  await makeWritable(work); // the shared testdata is read-only; the copy is ours to change
  const indexPath = join(work, 'demoCA', 'index.txt');
  await writeFile(indexPath, '');
  // requests are answered one at a time: the index may be rewritten between them
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(job: () => Promise<T>): Promise<T> => {
    const p = queue.then(job);
    queue = p.catch(() => {});
    return p;
  };
  let n = 0;
  const answer = (request: Buffer) =>
    serialized(async () => {
      const i = join(work, `req-${++n}.der`);
      const o = join(work, `resp-${n}.der`);
      try {
        await writeFile(i, request);
        await openssl(
          [
            'ocsp',
            '-index',
            'demoCA/index.txt',
            '-CA',
            'root.crt',
            '-rkey',
            'ocsp.key',
            '-rsigner',
            'ocsp.crt',
            '-nmin',
            '5',
            '-reqin',
            i,
            '-respout',
            o,
          ],
          work,
        );
        return await readFile(o);
      } finally {
        await rm(i, { force: true });
        await rm(o, { force: true });
      }
    });
  const responder = createServer((req, res) => {
    void (async () => {
      try {
        const body = await readRequestBody(req, 64 * 1024);
        const path = req.url ?? '/';
        let der: Buffer | undefined;
        if (req.method === 'POST') der = body;
        else if (req.method === 'GET' && path.length > 1) der = Buffer.from(decodeURIComponent(path.slice(1)), 'base64');
        if (!der || der.length === 0) return reply(res, 400, 'text/plain', 'expected an OCSP request');
        reply(res, 200, 'application/ocsp-response', await answer(der));
      } catch (e) {
        reply(res, 500, 'text/plain', String((e as Error).message));
      }
    })();
  });
  const control = createServer((req, res) => {
    void (async () => {
      await readRequestBody(req, 64 * 1024).catch(() => Buffer.alloc(0));
      const line = req.method === 'POST' ? INDEX_LINES[(req.url ?? '/').split('?')[0]!] : undefined;
      if (line === undefined) return reply(res, 404, 'text/plain', 'not found');
      await serialized(() => writeFile(indexPath, line ? `${line}\n` : ''));
      reply(res, 201, 'text/plain', 'ok');
    })();
  });
  try {
    await listen(responder, OCSP_PORT, 'OCSP responder');
    await listen(control, OCSP_CONTROL_PORT, 'OCSP control server');
  } catch (e) {
    await close(responder);
    await rm(work, { recursive: true, force: true });
    throw e;
  }
  return {
    async stop() {
      await Promise.all([close(responder), close(control)]);
      await queue;
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** POST to a service control URL (the scenarios' `http_post` action); `localhost` is reached on 127.0.0.1. */
export async function controlPost(url: string, contentType: string, body: string): Promise<void> {
  const u = new URL(url);
  if (u.hostname === 'localhost') u.hostname = '127.0.0.1';
  const res = await fetch(u, { method: 'POST', headers: { 'content-type': contentType }, body });
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`POST ${url}: HTTP ${res.status}`);
}
