import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { listenLocal } from './process.js';

/** What a fault rule does to a matching request. */
export type FaultAction =
  /** Answer with this status (and headers/body) instead of forwarding. */
  | { status: number; headers?: Record<string, string>; body?: string | Uint8Array }
  /** Forward, then send only the first half of the body (declared Content-Length kept) and cut the connection. */
  | { truncate: true }
  /** Forward, with one byte of the body changed (same length). */
  | { corrupt: true }
  /** Answer 307 to the same path on another base URL. */
  | { redirectTo: string }
  /** Answer 200 with `bytes` bytes of JSON-looking filler, with or without a Content-Length. */
  | { oversize: number; contentLength?: boolean; contentType?: string }
  /** Forward after waiting `delayMs` (a slow registry). */
  | { delayMs: number };

/** A fault rule: the first matching rule with uses left applies. */
export interface FaultRule {
  method?: string;
  /** Matched against the path and query. */
  path: RegExp;
  /** Uses (default 1; Infinity for always). */
  times?: number;
  action: FaultAction;
}

/** A seen request. */
export interface ProxyLogEntry {
  method: string;
  path: string;
  authorization?: string;
  fault?: string;
}

/** A running proxy. */
export interface RunningFaultProxy {
  host: string;
  url: string;
  readonly log: ProxyLogEntry[];
  /** Add rules (e.g. per test). */
  addRules(...rules: FaultRule[]): void;
  clearRules(): void;
  /** Requests being handled right now, and the most seen at once. */
  inFlight(): { now: number; peak: number };
  resetPeak(): void;
  stop(): Promise<void>;
}

function collect(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/**
 * An HTTP proxy on 127.0.0.1 in front of `target` (e.g. a real registry) that injects faults:
 * 5xx, 429 with Retry-After, truncated or corrupted bodies, oversized answers, redirects to
 * another host. It logs every request with its Authorization header, so a test can check
 * where credentials went.
 */
export async function startFaultProxy(target: string, rules: FaultRule[] = []): Promise<RunningFaultProxy> {
  const upstream = new URL(target);
  const active: { rule: FaultRule; left: number }[] = rules.map((rule) => ({ rule, left: rule.times ?? 1 }));
  const log: ProxyLogEntry[] = [];

  function pick(method: string, path: string): FaultRule | undefined {
    const hit = active.find((a) => a.left > 0 && (!a.rule.method || a.rule.method === method) && a.rule.path.test(path));
    if (!hit) return undefined;
    hit.left--;
    return hit.rule;
  }

  async function forward(req: IncomingMessage, body: Buffer): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers };
      const r = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (res) =>
        resolve(res),
      );
      r.on('error', reject);
      r.end(body);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const rule = pick(method, path);
    const entry: ProxyLogEntry = { method, path };
    if (req.headers.authorization) entry.authorization = req.headers.authorization;
    log.push(entry);
    const action = rule?.action;
    if (action) entry.fault = Object.keys(action)[0];
    if (action && 'status' in action) {
      res.writeHead(action.status, action.headers ?? {});
      res.end(action.body);
      return;
    }
    if (action && 'redirectTo' in action) {
      res.writeHead(307, { location: `${action.redirectTo.replace(/\/$/, '')}${path}` });
      res.end();
      return;
    }
    if (action && 'oversize' in action) {
      const filler = Buffer.alloc(action.oversize, 0x20);
      filler[0] = 0x7b;
      filler[filler.length - 1] = 0x7d;
      const headers: Record<string, string | number> = {
        'content-type': action.contentType ?? 'application/vnd.oci.image.manifest.v1+json',
      };
      if (action.contentLength !== false) headers['content-length'] = filler.length;
      res.writeHead(200, headers);
      res.end(method === 'HEAD' ? undefined : filler);
      return;
    }
    if (action && 'delayMs' in action) await new Promise((r) => setTimeout(r, action.delayMs));
    const up = await forward(req, body);
    const upBody = await collect(up);
    if (action && 'truncate' in action) {
      res.writeHead(up.statusCode ?? 502, { ...up.headers, 'content-length': String(upBody.length) });
      res.write(upBody.subarray(0, Math.floor(upBody.length / 2)));
      // cut the connection without finishing the declared body
      setTimeout(() => res.socket?.destroy(), 10);
      return;
    }
    if (action && 'corrupt' in action && upBody.length > 0) {
      upBody[Math.floor(upBody.length / 2)]! ^= 0x01;
    }
    res.writeHead(up.statusCode ?? 502, up.headers);
    res.end(upBody);
  }

  let inFlight = 0;
  let peak = 0;
  const server = createServer((req, res) => {
    inFlight++;
    if (inFlight > peak) peak = inFlight;
    let counted = true;
    const done = () => {
      if (counted) {
        counted = false;
        inFlight--;
      }
    };
    res.on('finish', done);
    res.on('close', done);
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  const { host, url, stop } = await listenLocal(server);
  return {
    host,
    url,
    log,
    addRules(...more) {
      for (const rule of more) active.push({ rule, left: rule.times ?? 1 });
    },
    clearRules() {
      active.length = 0;
    },
    inFlight: () => ({ now: inFlight, peak }),
    resetPeak() {
      peak = inFlight;
    },
    stop,
  };
}
