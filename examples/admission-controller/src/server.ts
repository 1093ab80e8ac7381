/**
 * The HTTPS side of the webhook: the Kubernetes API server POSTs AdmissionReview JSON to
 * `/verify` over TLS; `/healthz` answers probes. Plain node:https, no framework.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AdmissionController, AdmissionReview } from './controller.js';

/** Options of {@link startAdmissionServer}. */
export interface AdmissionServerOptions {
  controller: AdmissionController;
  /** PEM certificate chain and key the API server trusts (caBundle of the webhook configuration). */
  tls: { cert: string; key: string };
  /** Default 8443. Use 0 for a free port (tests). */
  port?: number;
  /** Default `0.0.0.0` (in a Pod); tests use `127.0.0.1`. */
  host?: string;
  /** Largest request body accepted, in bytes (default 3 MiB, the API server's own request limit). */
  maxBodyBytes?: number;
  /** Called for every review (logging). */
  onReview?(review: AdmissionReview, ms: number): void;
}

/** A listening server. */
export interface RunningAdmissionServer {
  server: Server;
  /** `https://host:port`. */
  url: string;
  close(): Promise<void>;
}

/** Starts the HTTPS server and resolves once it listens. */
export async function startAdmissionServer(options: AdmissionServerOptions): Promise<RunningAdmissionServer> {
  const maxBody = options.maxBodyBytes ?? 3 * 1024 * 1024;
  const server = createServer({ cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
    const send = (status: number, body: unknown) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
      res.end(text);
    };
    const url = new URL(req.url ?? '/', 'https://localhost');
    if (req.method === 'GET' && (url.pathname === '/healthz' || url.pathname === '/readyz')) return send(200, 'ok');
    if (req.method !== 'POST' || url.pathname !== '/verify') return send(404, 'not found');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) {
        send(413, 'request body too large');
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', async () => {
      if (size > maxBody) return;
      const started = performance.now();
      let review: AdmissionReview;
      try {
        review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
      } catch {
        return send(400, 'body is not JSON');
      }
      try {
        const answer = await options.controller.review(review);
        options.onReview?.(answer, performance.now() - started);
        send(200, answer);
      } catch (e) {
        send(400, e instanceof Error ? e.message : String(e));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8443, options.host ?? '0.0.0.0', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    server,
    url: `https://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
