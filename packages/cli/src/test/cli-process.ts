/**
 * Test-only: the `vouch` executable built from the TypeScript sources (esbuild, one ES module
 * file), for tests that need a real child process: closed pipes, process exit codes, and
 * process-wide settings such as NODE_EXTRA_CA_CERTS. Built once per test file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
let built: string | undefined;

/** Path of `vouch.mjs` bundled from packages/cli/src/bin.ts (workspace packages from their sources). */
export function cliExecutable(): string {
  if (built) return built;
  // esbuild is a root devDependency (the repository's one esbuild); only its buildSync is used
  const require = createRequire(join(repoRoot, 'package.json'));
  const esbuild = require('esbuild') as { buildSync(options: Record<string, unknown>): unknown };
  const out = join(mkdtempSync(join(tmpdir(), 'vouch-bin-')), 'vouch.mjs');
  esbuild.buildSync({
    entryPoints: [join(repoRoot, 'packages/cli/src/bin.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    tsconfig: join(repoRoot, 'tsconfig.base.json'),
    // CommonJS dependencies (undici …) require Node built-ins
    banner: { js: "import { createRequire as __vouchRequire } from 'node:module'; const require = __vouchRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  built = out;
  return out;
}

/** Remove the bundled executable (call in afterAll). */
export function disposeCliExecutable(): void {
  if (!built) return;
  rmSync(dirname(built), { recursive: true, force: true });
  built = undefined;
}

/** What a finished child process left behind. */
export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCliProcess}. */
export interface RunCliProcessOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Close the read end of stdout: at once (`'now'`), or after the first chunk (as `| head -c1`). */
  closeStdout?: 'now' | 'first-chunk';
  /** Close the read end of stderr at once (as `2>&1 | true`). */
  closeStderr?: boolean;
  timeoutMs?: number;
}

/** Run the bundled `vouch` with `args`; resolves when it exits (killed after `timeoutMs`). */
export function runCliProcess(args: readonly string[], options: RunCliProcessOptions = {}): Promise<ProcessResult> {
  const child: ChildProcess = spawn(process.execPath, [cliExecutable(), ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { PATH: process.env.PATH, ...options.env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  if (options.closeStdout === 'now') child.stdout!.destroy();
  else
    child.stdout!.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (options.closeStdout === 'first-chunk') child.stdout!.destroy();
    });
  if (options.closeStderr) child.stderr!.destroy();
  else child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}
