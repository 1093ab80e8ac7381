/**
 * The docker credential helper protocol: `docker-credential-<name> get|store|erase`, run without
 * a shell, the request on stdin, the answer on stdout. One runner serves reading (`get`) and
 * `vouch login`/`logout` (`store`, `erase`).
 *
 * No deadline by default, as docker and notation (oras-go) run helpers: a helper may be waiting
 * for a person (a keychain unlock, a GPG pinentry), which a fixed timeout would break. Callers
 * that must not wait (services) pass `timeoutMs`.
 */
import { execFile } from 'node:child_process';
import { VouchError } from '@vouch/core';
import type { Credential } from '@vouch/registry';

/** Options of a credential helper run. */
export interface CredentialHelperOptions {
  /** Kill the helper after this many ms (ERR_TIMEOUT). Default: no deadline, as docker and notation. */
  timeoutMs?: number;
}

const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** How a helper run ended. */
type HelperRun =
  | { ok: true; stdout: string }
  | {
      ok: false;
      bin: string;
      cause: Error;
      error?: VouchError;
      stdout: string /** stderr, else stdout, else the exit message */;
      why: string;
    };

/**
 * Run `docker-credential-<helper> <action>` with `input` on stdin. An invalid helper name rejects
 * with ERR_CONFIG_INVALID; a failed run resolves `ok: false`, with `error` set when the helper is
 * missing (ERR_CONFIG_INVALID) or was killed at the deadline (ERR_TIMEOUT).
 */
function execHelper(
  helper: string,
  action: 'get' | 'store' | 'erase',
  input: string,
  options: CredentialHelperOptions,
): Promise<HelperRun> {
  if (!HELPER_NAME.test(helper)) {
    return Promise.reject(new VouchError('ERR_CONFIG_INVALID', `invalid credential helper name "${helper}"`));
  }
  const bin = `docker-credential-${helper}`;
  const timeout = options.timeoutMs ?? 0;
  return new Promise((resolve) => {
    const child = execFile(bin, [action], { timeout, maxBuffer: 1024 * 1024, shell: false, windowsHide: true }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout: `${stdout}` });
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      const why = `${stderr ?? ''}`.trim() || `${stdout ?? ''}`.trim() || err.message.split('\n')[0]!;
      let error: VouchError | undefined;
      if (e.code === 'ENOENT') error = new VouchError('ERR_CONFIG_INVALID', `credential helper ${bin} is not installed`, { cause: err });
      else if (e.killed && timeout > 0) {
        error = new VouchError('ERR_TIMEOUT', `credential helper ${bin} did not answer within ${timeout} ms`, { cause: err });
      }
      resolve({ ok: false, bin, cause: err, error, stdout: `${stdout ?? ''}`, why });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/**
 * `docker-credential-<helper> get` for `serverUrl`: the credential, or undefined when the helper
 * has none ("credentials not found"). A helper that fails otherwise is ERR_REGISTRY_UNAUTHORIZED;
 * one that prints something other than JSON, ERR_MALFORMED_INPUT.
 */
export async function runCredentialHelper(
  helper: string,
  serverUrl: string,
  options: CredentialHelperOptions = {},
): Promise<Credential | undefined> {
  const run = await execHelper(helper, 'get', serverUrl, options);
  if (!run.ok) {
    if (run.error) throw run.error;
    if (run.stdout.toLowerCase().includes('credentials not found')) return undefined;
    throw new VouchError('ERR_REGISTRY_UNAUTHORIZED', `credential helper ${run.bin} failed: ${run.why}`, { cause: run.cause });
  }
  let doc: { Username?: string; Secret?: string };
  try {
    doc = JSON.parse(run.stdout) as { Username?: string; Secret?: string };
  } catch (e) {
    throw new VouchError('ERR_MALFORMED_INPUT', `credential helper docker-credential-${helper} printed invalid JSON`, { cause: e });
  }
  if (!doc.Secret) return undefined;
  if (doc.Username === '<token>') return { identityToken: doc.Secret };
  return { username: doc.Username ?? '', password: doc.Secret };
}

/** `docker-credential-<helper> store|erase` with `input` on stdin; a helper that fails is ERR_CONFIG_INVALID. */
export async function updateCredentialHelper(
  helper: string,
  action: 'store' | 'erase',
  input: string,
  options: CredentialHelperOptions = {},
): Promise<void> {
  const run = await execHelper(helper, action, input, options);
  if (run.ok) return;
  throw (
    run.error ?? new VouchError('ERR_CONFIG_INVALID', `credential helper ${run.bin} ${action} failed: ${run.why}`, { cause: run.cause })
  );
}
