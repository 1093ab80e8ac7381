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

/** Lines written together: see {@link batchedLines}. */
export interface LineBatcher {
  /** Queue `line` (newline included). */
  write(line: string): void;
  /** Write whatever is queued now. */
  flush(): void;
}

/**
 * Lines for `sink` written together: the lines queued in one turn of the event loop go out in one
 * write (at `setImmediate`), or at once when `maxBytes` characters wait. A server that logs every
 * request then makes one write per turn instead of one system call per line. Nothing is reordered;
 * `flush()` writes what waits (call it at shutdown and on process exit).
 */
export function batchedLines(sink: TextSink, maxBytes = 64 * 1024): LineBatcher {
  let queued: string[] = [];
  let size = 0;
  let scheduled: ReturnType<typeof setImmediate> | undefined;
  const flush = () => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    if (queued.length === 0) return;
    const text = queued.length === 1 ? queued[0]! : queued.join('');
    queued = [];
    size = 0;
    sink.write(text);
  };
  return {
    write(line: string) {
      queued.push(line);
      size += line.length;
      if (size >= maxBytes) flush();
      else scheduled ??= setImmediate(flush);
    },
    flush,
  };
}

/**
 * One structured log line of `vouch webhook` and `vouch controller`: `{"time":…,` then the entry's
 * fields, newline-terminated.
 */
export function jsonLogLine(time: Date, entry: Record<string, unknown>): string {
  const fields = JSON.stringify(entry);
  const head = `{"time":"${time.toISOString()}"`;
  return fields.length > 2 ? `${head},${fields.slice(1)}\n` : `${head}}\n`;
}
