/**
 * `ci-sign <reference> [--oci-layout] [--signature-format jws|cose] [--expiry 720h] [-m key=value …] [--no-ci-metadata]`
 *
 * Environment:
 *   VOUCH_SIGNING_KEY / VOUCH_SIGNING_KEY_FILE     the private key (PEM text, or a file holding it)
 *   VOUCH_SIGNING_CERT / VOUCH_SIGNING_CERT_FILE   signing certificate, intermediates and root (PEM)
 *   NOTATION_USERNAME / NOTATION_PASSWORD          registry credentials (else the docker config.json)
 *   GITHUB_OUTPUT                                  when set (GitHub Actions), `signature-digest=…` is appended
 *
 * Prints the signature manifest digest alone on stdout (for `$(…)`); everything else goes to stderr.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type FetchLike, parseReference } from '@vouch/core';
import { dockerCredentials, nodeOciLayout, undiciFetch } from '@vouch/node';
import { createRegistryClient, parseLayoutReference, remoteRepository, type WritableRepository } from '@vouch/registry';
import { ciMetadata, parseDuration, signImage } from './sign.js';

/** Where main reads and writes. */
export interface MainIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env: Record<string, string | undefined>;
  cwd?: string;
  fetch?: FetchLike;
}

async function secret(env: MainIo['env'], name: string, cwd: string): Promise<string> {
  if (env[name]) return env[name]!;
  const file = env[`${name}_FILE`];
  if (file) return readFile(resolve(cwd, file), 'utf8');
  throw new Error(`set ${name} (PEM text) or ${name}_FILE (a file holding it)`);
}

/** Runs one signing; resolves the exit code (0 signed, 1 failed, 2 usage). */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
    if (args.positionals.length !== 1) throw new Error('give exactly one reference');
  } catch (e) {
    io.stderr.write(
      `error: ${e instanceof Error ? e.message : String(e)}\nusage: ci-sign <reference> [--oci-layout] [--signature-format jws|cose] [--expiry 720h] [-m key=value …]\n`,
    );
    return 2;
  }
  const cwd = io.cwd ?? process.cwd();
  const input = args.positionals[0]!;
  let pooled: ReturnType<typeof undiciFetch> | undefined;
  try {
    const format = args.values['signature-format'] ?? 'jws';
    if (format !== 'jws' && format !== 'cose') throw new Error(`--signature-format must be jws or cose, got "${format}"`);
    const userMetadata = args.values['no-ci-metadata'] ? {} : ciMetadata(io.env);
    for (const kv of args.values['user-metadata'] ?? []) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`-m expects key=value, got "${kv}"`);
      userMetadata[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    let repository: WritableRepository;
    let reference: string;
    let shownPrefix = '';
    if (args.values['oci-layout']) {
      const { path, reference: target } = parseLayoutReference(input);
      repository = nodeOciLayout(resolve(cwd, path));
      reference = target;
      shownPrefix = path;
    } else {
      const ref = parseReference(input);
      const fetch = io.fetch ?? (pooled = undiciFetch());
      const user = io.env.NOTATION_USERNAME;
      const password = io.env.NOTATION_PASSWORD;
      const docker = dockerCredentials();
      const client = createRegistryClient({
        fetch,
        credentials: {
          get: async (host) => (host === ref.registry && password ? { username: user ?? '', password } : docker.get(host)),
        },
        userAgent: 'vouch-example-ci-signing',
      });
      repository = remoteRepository(client, `${ref.registry}/${ref.repository}`);
      reference = input;
    }
    const result = await signImage({
      reference,
      repository,
      keyPem: await secret(io.env, 'VOUCH_SIGNING_KEY', cwd),
      certificateChainPem: await secret(io.env, 'VOUCH_SIGNING_CERT', cwd),
      format,
      ...(args.values.expiry ? { expirySeconds: parseDuration(args.values.expiry) } : {}),
      ...(Object.keys(userMetadata).length ? { userMetadata } : {}),
    });
    for (const w of result.warnings) io.stderr.write(`warning: ${w.message}\n`);
    io.stderr.write(`signed ${shownPrefix}${result.reference} (${format})\n`);
    io.stdout.write(`${result.signatureManifest.digest}\n`);
    if (io.env.GITHUB_OUTPUT) {
      await appendFile(
        io.env.GITHUB_OUTPUT,
        `signature-digest=${result.signatureManifest.digest}\nartifact-digest=${result.artifact.digest}\n`,
      );
    }
    return 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    io.stderr.write(`error: ${code ? `${code}: ` : ''}${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    await pooled?.close();
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'oci-layout': { type: 'boolean' },
      'signature-format': { type: 'string' },
      expiry: { type: 'string' },
      'user-metadata': { type: 'string', short: 'm', multiple: true },
      'no-ci-metadata': { type: 'boolean' },
    },
  });
}
