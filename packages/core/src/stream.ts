import { VouchError } from './errors.js';
import type { FetchResponse } from './types.js';

/**
 * Read a response body fully, failing with ERR_SIZE_LIMIT_EXCEEDED as soon as more than
 * `limit` bytes arrive (the rest is not buffered), and with ERR_NETWORK on a truncated body.
 */
export async function readLimited(
  res: Pick<FetchResponse, 'body' | 'arrayBuffer' | 'headers'>,
  limit: number,
  what = 'response',
): Promise<Uint8Array> {
  const declared = res.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) {
    await res.body?.cancel().catch(() => {});
    throw new VouchError('ERR_SIZE_LIMIT_EXCEEDED', `${what} is ${declared} bytes, over the ${limit}-byte limit`, {
      details: { limit, declared: Number(declared) },
    });
  }
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
      if (n > limit) {
        await reader.cancel().catch(() => {});
        throw new VouchError('ERR_SIZE_LIMIT_EXCEEDED', `${what} exceeds the ${limit}-byte limit`, { details: { limit } });
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof VouchError) throw e;
    throw new VouchError('ERR_NETWORK', `reading ${what} failed: ${(e as Error).message}`, { cause: e });
  }
  if (declared !== null && Number(declared) !== n) {
    throw new VouchError('ERR_NETWORK', `${what} truncated: expected ${declared} bytes, got ${n}`);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * The chunks of a WHATWG `ReadableStream` or of any async iterable, as an async iterable: the
 * one stream reader of vouch (digests, blobs). A `ReadableStream` without async iteration (older
 * browsers) is read through its reader, whose lock is released when iteration ends.
 *
 * @throws VouchError ERR_INVALID_ARGUMENT when `stream` is neither (`what` names it in the message).
 */
export function streamChunks<T>(stream: ReadableStream<T> | AsyncIterable<T>, what = 'the stream'): AsyncIterable<T> {
  if (stream !== null && typeof stream === 'object') {
    if (typeof (stream as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') return stream as AsyncIterable<T>;
    if (typeof (stream as ReadableStream<T>).getReader === 'function') return readerChunks(stream as ReadableStream<T>);
  }
  throw new VouchError('ERR_INVALID_ARGUMENT', `${what} must be a ReadableStream or an async iterable of chunks`);
}

async function* readerChunks<T>(stream: ReadableStream<T>): AsyncIterable<T> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
