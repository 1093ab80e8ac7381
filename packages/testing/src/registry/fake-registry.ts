import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocal } from './process.js';

/** Options of {@link startFakeRegistry}. */
export interface FakeRegistryOptions {
  /** Serve the OCI 1.1 Referrers API and answer `OCI-Subject` on manifest PUT (default true). */
  referrersApi?: boolean;
  /** Referrers per page; further pages are linked with `Link: <…>; rel="next"` (default 100). */
  pageSize?: number;
  /** Apply the `artifactType` filter server-side and say so with `OCI-Filters-Applied` (default false: return everything, unfiltered). */
  applyFilters?: boolean;
}

/** A running in-memory registry. */
export interface RunningFakeRegistry {
  host: string;
  url: string;
  /** Requests seen, `METHOD path`. */
  readonly requests: string[];
  stop(): Promise<void>;
}

interface Manifest {
  mediaType: string;
  bytes: Buffer;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A small OCI distribution registry in memory, written from the distribution spec, for the
 * paths the Debian registry lacks: the Referrers API (with pagination and optional server-side
 * filtering) and `OCI-Subject`. Also serves manifests, blobs, monolithic and chunked uploads,
 * mounts and deletes. 127.0.0.1 only, no auth.
 */
export async function startFakeRegistry(options: FakeRegistryOptions = {}): Promise<RunningFakeRegistry> {
  const referrersApi = options.referrersApi ?? true;
  const pageSize = options.pageSize ?? 100;
  const manifests = new Map<string, Manifest>(); // `${repo}@${digest}`
  const tags = new Map<string, string>(); // `${repo}:${tag}` -> digest
  const blobs = new Map<string, Buffer>(); // `${repo}@${digest}`
  const uploads = new Map<string, Buffer>();
  const requests: string[] = [];

  function send(res: ServerResponse, status: number, headers: Record<string, string | number> = {}, body?: Buffer | string) {
    res.writeHead(status, headers);
    res.end(body);
  }
  function error(res: ServerResponse, status: number, code: string, message: string) {
    send(res, status, { 'content-type': 'application/json' }, JSON.stringify({ errors: [{ code, message }] }));
  }

  function referrersOf(repo: string, digest: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const [key, m] of manifests) {
      if (!key.startsWith(`${repo}@`)) continue;
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(m.bytes.toString());
      } catch {
        continue;
      }
      const subject = doc.subject as { digest?: string } | undefined;
      if (subject?.digest !== digest) continue;
      const d: Record<string, unknown> = { mediaType: m.mediaType, digest: key.slice(repo.length + 1), size: m.bytes.length };
      const at = (doc.artifactType as string | undefined) ?? (doc.config as { mediaType?: string } | undefined)?.mediaType;
      if (at) d.artifactType = at;
      if (doc.annotations) d.annotations = doc.annotations;
      out.push(d);
    }
    return out;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    requests.push(`${method} ${u.pathname}${u.search}`);
    if (u.pathname === '/v2/' || u.pathname === '/v2') return send(res, 200, { 'content-type': 'application/json' }, '{}');
    const m = /^\/v2\/(.+?)\/(manifests|blobs\/uploads|blobs|referrers|tags)\/?(.*)$/.exec(u.pathname);
    if (!m) return send(res, 404, { 'content-type': 'text/plain' }, '404 page not found');
    const [, repo, kind, rest] = m as unknown as [string, string, string, string];
    const body = await readBody(req);
    if (kind === 'manifests') {
      const ref = decodeURIComponent(rest);
      if (method === 'PUT') {
        const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!;
        const digest = sha256(body);
        if (ref.includes(':') && ref !== digest) return error(res, 400, 'DIGEST_INVALID', 'digest does not match');
        manifests.set(`${repo}@${digest}`, { mediaType, bytes: body });
        if (!ref.includes(':')) tags.set(`${repo}:${ref}`, digest);
        const headers: Record<string, string> = { location: `/v2/${repo}/manifests/${digest}`, 'docker-content-digest': digest };
        try {
          const doc = JSON.parse(body.toString()) as { subject?: { digest?: string } };
          if (referrersApi && doc.subject?.digest) headers['oci-subject'] = doc.subject.digest;
        } catch {
          return error(res, 400, 'MANIFEST_INVALID', 'not JSON');
        }
        return send(res, 201, headers);
      }
      const digest = ref.includes(':') ? ref : tags.get(`${repo}:${ref}`);
      const found = digest ? manifests.get(`${repo}@${digest}`) : undefined;
      if (method === 'DELETE') {
        if (!found || !digest) return error(res, 404, 'MANIFEST_UNKNOWN', 'unknown');
        manifests.delete(`${repo}@${digest}`);
        for (const [k, v] of tags) if (v === digest && k.startsWith(`${repo}:`)) tags.delete(k);
        return send(res, 202);
      }
      if (!found || !digest) return error(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
      const headers = { 'content-type': found.mediaType, 'docker-content-digest': digest, 'content-length': found.bytes.length };
      return send(res, 200, headers, method === 'HEAD' ? undefined : found.bytes);
    }
    if (kind === 'blobs') {
      const digest = decodeURIComponent(rest);
      const b = blobs.get(`${repo}@${digest}`);
      if (method === 'DELETE') return send(res, b && blobs.delete(`${repo}@${digest}`) ? 202 : 404);
      if (!b) return error(res, 404, 'BLOB_UNKNOWN', 'blob unknown');
      const headers = { 'content-type': 'application/octet-stream', 'docker-content-digest': digest, 'content-length': b.length };
      return send(res, 200, headers, method === 'HEAD' ? undefined : b);
    }
    if (kind === 'blobs/uploads') {
      if (method === 'POST' && rest === '') {
        const mount = u.searchParams.get('mount');
        const from = u.searchParams.get('from');
        if (mount && from && blobs.has(`${from}@${mount}`)) {
          blobs.set(`${repo}@${mount}`, blobs.get(`${from}@${mount}`)!);
          return send(res, 201, { location: `/v2/${repo}/blobs/${mount}`, 'docker-content-digest': mount });
        }
        const id = randomUUID();
        uploads.set(id, Buffer.alloc(0));
        return send(res, 202, { location: `/v2/${repo}/blobs/uploads/${id}`, range: '0-0', 'docker-upload-uuid': id });
      }
      const id = rest;
      const sofar = uploads.get(id);
      if (sofar === undefined) return error(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown');
      if (method === 'PATCH') {
        const next = Buffer.concat([sofar, body]);
        uploads.set(id, next);
        return send(res, 202, { location: `/v2/${repo}/blobs/uploads/${id}`, range: `0-${next.length - 1}` });
      }
      if (method === 'PUT') {
        const all = Buffer.concat([sofar, body]);
        const digest = u.searchParams.get('digest');
        uploads.delete(id);
        if (digest !== sha256(all)) return error(res, 400, 'DIGEST_INVALID', 'digest mismatch');
        blobs.set(`${repo}@${digest}`, all);
        return send(res, 201, { location: `/v2/${repo}/blobs/${digest}`, 'docker-content-digest': digest });
      }
      return error(res, 405, 'UNSUPPORTED', 'method');
    }
    if (kind === 'referrers') {
      if (!referrersApi) return send(res, 404, { 'content-type': 'text/plain' }, '404 page not found');
      const digest = decodeURIComponent(rest);
      let list = referrersOf(repo, digest);
      const artifactType = u.searchParams.get('artifactType');
      const headers: Record<string, string> = { 'content-type': 'application/vnd.oci.image.index.v1+json' };
      if (artifactType && options.applyFilters) {
        list = list.filter((d) => d.artifactType === artifactType);
        headers['oci-filters-applied'] = 'artifactType';
      }
      const start = Number(u.searchParams.get('n_start') ?? '0');
      const page = list.slice(start, start + pageSize);
      if (start + pageSize < list.length) {
        const next = new URLSearchParams(u.searchParams);
        next.set('n_start', String(start + pageSize));
        headers.link = `</v2/${repo}/referrers/${digest}?${next}>; rel="next"`;
      }
      return send(
        res,
        200,
        headers,
        JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: page }),
      );
    }
    if (kind === 'tags') {
      const list = [...tags.keys()].filter((k) => k.startsWith(`${repo}:`)).map((k) => k.slice(repo.length + 1));
      return send(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ name: repo, tags: list }));
    }
    return send(res, 404);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) error(res, 500, 'INTERNAL', String(e));
      else res.destroy();
    });
  });
  const { host, url, stop } = await listenLocal(server);
  return {
    host,
    url,
    requests,
    stop,
  };
}
