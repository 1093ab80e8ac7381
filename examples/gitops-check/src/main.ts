/**
 * `gitops-check <manifests-dir> --policy <file|dir> [--policy …] [--report <file>] [--layouts <dir>]`
 *
 * Exit code: 0 when every rule passed (or skipped), 1 when any rule failed or errored, 2 for
 * a usage or configuration error. Progress goes to stderr, the summary and findings to stdout.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { FetchLike } from '@vouch/core';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { notationImageVerifier } from '@vouch/kyverno';
import { dockerCredentials, nodeOciLayout, undiciFetch } from '@vouch/node';
import { createRegistryClient, type Repository, remoteRepository } from '@vouch/registry';
import { checkManifests, loadManifests, loadPolicies } from './check.js';
import { createProgress, type ProgressStream } from './progress.js';

const USAGE = `usage: gitops-check <manifests-dir> --policy <file|dir> [--policy …] [--report <file>] [--layouts <dir>]

  --policy, -p   Kyverno ClusterPolicy/Policy YAML (file or directory); repeatable
  --report, -r   write the PolicyReport (JSON, which is also valid YAML) to this file
  --layouts      read images from OCI layouts <dir>/<registry>/<repository> instead of registries
                 (for CI jobs that receive the built images as OCI layouts)
`;

/** Where main reads and writes. */
export interface MainIo {
  stdout: { write(s: string): unknown };
  stderr: ProgressStream;
  cwd?: string;
  /** Registry transport (default: a pooled undici transport). */
  fetch?: FetchLike;
  now?: Date;
}

/** Runs the check; resolves the exit code. */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (e) {
    io.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const cwd = io.cwd ?? process.cwd();
  const dir = args.positionals[0];
  const policyPaths = args.values.policy ?? [];
  if (!dir || policyPaths.length === 0 || args.positionals.length > 1) {
    io.stderr.write(`error: give one manifests directory and at least one --policy\n${USAGE}`);
    return 2;
  }
  let pooled: ReturnType<typeof undiciFetch> | undefined;
  try {
    const policies = await loadPolicies(policyPaths.map((p) => resolve(cwd, p)));
    const manifests = await loadManifests(resolve(cwd, dir));
    const layouts = args.values.layouts ? resolve(cwd, args.values.layouts) : undefined;
    let repositoryFor: (ref: { registry: string; repository: string }) => Repository;
    if (layouts) {
      repositoryFor = (ref) => nodeOciLayout(join(layouts, ref.registry, ref.repository));
    } else {
      const fetch = io.fetch ?? (pooled = undiciFetch());
      const client = createRegistryClient({ fetch, credentials: dockerCredentials(), userAgent: 'vouch-example-gitops-check' });
      const repos = new Map<string, Repository>();
      repositoryFor = (ref) => {
        const name = `${ref.registry}/${ref.repository}`;
        let r = repos.get(name);
        if (!r) repos.set(name, (r = remoteRepository(client, name)));
        return r;
      };
    }
    const result = await checkManifests({
      manifests,
      policies,
      verifier: notationImageVerifier({ repositoryFor, envelopes: [jws, cose] }),
      progress: createProgress(io.stderr),
      ...(io.now ? { now: io.now } : {}),
    });
    const s = result.report.summary;
    io.stdout.write(
      `${result.resources} resources, ${result.images} images, ${policies.length} policies: ${s.pass} pass, ${s.fail} fail, ${s.error} error, ${s.warn} warn, ${s.skip} skip\n`,
    );
    for (const f of result.findings)
      io.stdout.write(`${f.result.toUpperCase()} ${f.file} ${f.resource} ${f.policy}/${f.rule}: ${f.message}\n`);
    if (args.values.report) {
      const path = resolve(cwd, args.values.report);
      await writeFile(path, `${JSON.stringify(result.report, null, 2)}\n`);
      io.stdout.write(`PolicyReport written to ${path}\n`);
    }
    return result.findings.length > 0 ? 1 : 0;
  } catch (e) {
    io.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  } finally {
    await pooled?.close();
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      policy: { type: 'string', short: 'p', multiple: true },
      report: { type: 'string', short: 'r' },
      layouts: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
