/**
 * Test-only: the `vouch` CLI run in process ({@link runCli}) with its output captured, for the
 * CLI's tests. Each test file binds its own config dir, environment and working directory.
 */
import { type CliIo, runCli } from '../index.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON output is inspected loosely in tests
export type Json = Record<string, any>;

/** One run of the CLI: its exit code, what it wrote to stdout and stderr, and stdout as JSON. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
  json(): Json;
}

/** Run `vouch <args>` with `io` (environment, working directory, stdin…), capturing stdout and stderr. */
export async function runVouch(args: readonly string[], io: Omit<CliIo, 'stdout' | 'stderr'> = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await runCli(args, { ...io, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err, json: () => JSON.parse(out) };
}
