import { Readable } from 'node:stream';
import type { FetchInit, FetchLike, FetchResponse } from '@vouch/core';
import { Agent, request } from 'undici';

/** Options of {@link undiciFetch}. */
export interface UndiciFetchOptions {
  /** Keep-alive connections per origin (default 16). */
  connections?: number;
  /** Idle keep-alive time of a pooled connection in ms (default 30 s). */
  keepAliveTimeoutMs?: number;
  /** TCP/TLS connect timeout in ms (default 10 s). */
  connectTimeoutMs?: number;
}

/** A FetchLike with a connection pool that should be closed when no longer needed. */
export type PooledFetch = FetchLike & {
  /** Close the pooled connections (pending requests finish first). */
  close(): Promise<void>;
};

function toNodeBody(body: FetchInit['body']): string | Uint8Array | Readable | undefined {
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) return body;
  return Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>);
}

/**
 * A {@link FetchLike} on undici's `request` with a keep-alive connection pool (an undici Agent).
 * Redirects are never followed here: the registry client follows them itself so that credentials
 * never reach another host.
 * @example
 * ```ts
 * import { undiciFetch } from '@vouch/node';
 * import { createRegistryClient } from '@vouch/registry';
 *
 * const fetch = undiciFetch({ connections: 16 });
 * const client = createRegistryClient({ fetch });
 * // … on shutdown
 * await fetch.close();
 * ```
 */
export function undiciFetch(options: UndiciFetchOptions = {}): PooledFetch {
  const agent = new Agent({
    connections: options.connections ?? 16,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    connect: { timeout: options.connectTimeoutMs ?? 10_000 },
  });
  const fetchLike = async (input: string, init: FetchInit = {}): Promise<FetchResponse> => {
    const res = await request(input, {
      dispatcher: agent,
      method: (init.method ?? 'GET') as 'GET',
      headers: init.headers,
      body: toNodeBody(init.body),
      signal: init.signal,
    });
    const nodeBody = res.body;
    let web: ReadableStream<Uint8Array> | undefined;
    const headers = res.headers;
    return {
      status: res.statusCode,
      statusText: res.statusText,
      url: input,
      headers: {
        get(name: string): string | null {
          const v = headers[name.toLowerCase()];
          if (v === undefined) return null;
          return Array.isArray(v) ? v.join(', ') : String(v);
        },
      },
      get body(): ReadableStream<Uint8Array> {
        web ??= Readable.toWeb(nodeBody) as unknown as ReadableStream<Uint8Array>;
        return web;
      },
      async arrayBuffer() {
        return nodeBody.arrayBuffer();
      },
      async text() {
        return nodeBody.text();
      },
    };
  };
  return Object.assign(fetchLike, { close: () => agent.close() });
}
