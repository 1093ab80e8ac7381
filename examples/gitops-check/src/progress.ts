/**
 * Progress on stderr. On a terminal: one bar redrawn in place. Otherwise (CI logs, pipes):
 * one plain line per item, so logs stay readable and grep-able.
 */

/** Where progress is written: `process.stderr`, or a buffer in tests. */
export interface ProgressStream {
  write(chunk: string): unknown;
  /** True on a terminal (`process.stderr.isTTY`). */
  isTTY?: boolean;
  /** Terminal width (`process.stderr.columns`). */
  columns?: number;
}

/** A progress reporter over a known number of items. */
export interface Progress {
  start(total: number, what: string): void;
  /** One item done; `label` says which. */
  tick(label: string): void;
  /** The last line. */
  done(summary: string): void;
}

/** A reporter that fits `stream`: a redrawn bar on a TTY, plain lines otherwise. */
export function createProgress(stream: ProgressStream): Progress {
  let total = 0;
  let count = 0;
  let what = 'items';
  const tty = stream.isTTY === true;
  return {
    start(n, w) {
      total = n;
      count = 0;
      what = w;
      if (!tty) stream.write(`checking ${n} ${w}\n`);
    },
    tick(label) {
      count++;
      if (!tty) {
        stream.write(`[${count}/${total}] ${label}\n`);
        return;
      }
      const width = 24;
      const filled = total === 0 ? width : Math.round((count / total) * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      const line = `${bar} ${count}/${total} ${what}  ${label}`;
      const max = Math.max(20, (stream.columns ?? 80) - 1);
      stream.write(`\r\x1b[2K${line.length > max ? `${line.slice(0, max - 1)}…` : line}`);
    },
    done(summary) {
      stream.write(tty ? `\r\x1b[2K${summary}\n` : `${summary}\n`);
    },
  };
}
