import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** Absolute path of an executable on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Run a program without a shell; resolves stdout. */
export function run(file: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Whether a test needing `tool` can run: true when present; otherwise prints a NOTICE and
 * returns false, or throws under CI=true (where the tool is required).
 */
export function requireTool(tool: string, why: string): boolean {
  if (which(tool)) return true;
  const msg = `${tool} is not installed; ${why} (apt-get install -y --no-install-recommends docker-registry skopeo apache2-utils)`;
  if (process.env.CI === 'true') throw new Error(`${msg}; required under CI=true`);
  console.warn(`NOTICE: ${msg}; skipped`);
  return false;
}

/**
 * Listen on a free port of 127.0.0.1; resolves the address and a `stop` that drops open
 * connections and closes the server.
 */
export async function listenLocal(server: HttpServer): Promise<{ host: string; url: string; stop(): Promise<void> }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The body of a request to a test server; a body over `limit` bytes destroys the request. */
export function readRequestBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) req.destroy(new Error('request too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
