import type { TextSink } from './context.js';

/** A standard stream of the process as the CLI writes to it. */
export interface ProcessSink extends TextSink {
  /** The reader went away (EPIPE): later writes are dropped. */
  readonly closed: boolean;
  /** A write error other than a closed reader (a full disk, EIO …), for `bin.ts` to report. */
  readonly error: Error | undefined;
}

const sinks = new WeakMap<NodeJS.WritableStream, ProcessSink>();

function isClosedReader(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/**
 * `process.stdout` or `process.stderr` as a {@link TextSink}. A reader that stops reading
 * (`vouch verify … | grep -q …`, `| head`) is a normal end of the output, not a failure: the
 * EPIPE ends writing to that stream silently and the command finishes with its own exit code.
 * Any other write error is kept in {@link ProcessSink.error}. One sink per stream (one listener).
 */
export function processSink(stream: NodeJS.WriteStream): ProcessSink {
  const existing = sinks.get(stream);
  if (existing) return existing;
  let closed = false;
  let error: Error | undefined;
  stream.on('error', (e: Error) => {
    if (isClosedReader(e)) closed = true;
    else error ??= e;
  });
  const sink: ProcessSink = {
    get closed() {
      return closed;
    },
    get error() {
      return error;
    },
    write(chunk: string): boolean {
      if (closed || stream.destroyed) return false;
      try {
        return stream.write(chunk);
      } catch (e) {
        if (!isClosedReader(e)) throw e;
        closed = true;
        return false;
      }
    },
  };
  sinks.set(stream, sink);
  return sink;
}
