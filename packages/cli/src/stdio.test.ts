/**
 * A reader that goes away early (`vouch verify … | grep -q …`, `| head`) is a normal end of the
 * output: the real `vouch` process, piped into a reader that closes, never prints an EPIPE stack
 * trace and exits with the command's own code. Every case runs several times, because the
 * failure this guards against depended on timing.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedPolicyYaml } from '@vouch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from './index.js';
import { cliExecutable, disposeCliExecutable, type ProcessResult, type RunCliProcessOptions, runCliProcess } from './test/cli-process.js';
import { layoutWithImage } from './test/layout.js';

const REPEAT = 4;
let root: string;
let cfg: string;
let env: Record<string, string>;
let digest: string;

async function inProcess(args: string[], extra: Partial<CliIo> = {}): Promise<number> {
  return runCli(['--config-dir', cfg, ...args], {
    stdout: { write: () => true },
    stderr: { write: () => true },
    env,
    cwd: root,
    ...extra,
  });
}

function child(args: string[], options: RunCliProcessOptions = {}): Promise<ProcessResult> {
  return runCliProcess(['--config-dir', cfg, ...args], { cwd: root, env, ...options });
}

/** No trace of an unhandled stream error. */
function expectClean(r: ProcessResult, code = 0): void {
  expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error' event|node:events|ERR_STREAM/);
  expect(r.signal).toBeNull();
  expect(r.code).toBe(code);
}

beforeAll(async () => {
  cliExecutable();
  root = await mkdtemp(join(tmpdir(), 'vouch-stdio-'));
  cfg = join(root, 'config');
  env = { HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker') };
  digest = await layoutWithImage(join(root, 'layout'), 'v1', 'hello');

  expect(await inProcess(['cert', 'generate-test', '--default', 'pipe.example'])).toBe(0);
  // many signatures (a long `list`) and many trust stores (a long `cert list`)
  for (let i = 0; i < 12; i++) expect(await inProcess(['sign', '--oci-layout', `layout@${digest}`, '-m', `n=${i}`])).toBe(0);
  const crt = join(cfg, 'localkeys', 'pipe.example.crt');
  for (let i = 0; i < 40; i++) expect(await inProcess(['cert', 'add', '-t', 'ca', '-s', `store-${i}`, crt])).toBe(0);
  const policy = {
    version: '1.0',
    trustPolicies: [
      {
        name: 'p',
        registryScopes: ['local.io/app'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:pipe.example'],
        trustedIdentities: ['*'],
      },
    ],
  };
  await writeFile(join(root, 'policy.json'), JSON.stringify(policy));
  expect(await inProcess(['policy', 'import', '--force', 'policy.json'])).toBe(0);
  // kyverno apply over many Pods (no image matches the policy: a long report, no network)
  await writeFile(join(root, 'policy.yaml'), seedPolicyYaml({ certPem: await readFile(crt, 'utf8') }));
  const pods = Array.from(
    { length: 300 },
    (_, i) =>
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-${i}\n  namespace: default\nspec:\n  containers:\n    - name: c\n      image: other.example/app:${i}\n`,
  );
  await writeFile(join(root, 'pods.yaml'), pods.join('---\n'));
}, 120_000);
afterAll(async () => {
  disposeCliExecutable();
  await rm(root, { recursive: true, force: true });
});

const CASES: { name: string; args: () => string[]; expectOut: RegExp; code?: number }[] = [
  {
    name: 'verify (success line, user metadata table)',
    args: () => ['verify', '--oci-layout', `layout@${digest}`, '--scope', 'local.io/app'],
    expectOut: /^Successfully verified signature for layout@sha256:/,
  },
  {
    name: 'verify by tag (a warning on stderr first)',
    args: () => ['verify', '--oci-layout', 'layout:v1', '--scope', 'local.io/app'],
    expectOut: /^Successfully verified signature for layout@sha256:/,
  },
  { name: 'list (12 signatures)', args: () => ['list', '--oci-layout', `layout@${digest}`], expectOut: /^layout@sha256:.*\n└── / },
  { name: 'inspect -o json', args: () => ['inspect', '--oci-layout', `layout@${digest}`, '-o', 'json'], expectOut: /^\{/ },
  { name: '--help', args: () => ['--help'], expectOut: /Usage:/ },
  { name: 'sign --help', args: () => ['sign', '--help'], expectOut: /Usage:/ },
  { name: 'cert list (41 stores)', args: () => ['cert', 'list'], expectOut: /^STORE TYPE/ },
  {
    name: 'kyverno apply --vouch-output json (300 Pods)',
    args: () => ['kyverno', 'apply', 'policy.yaml', '--resource', 'pods.yaml', '--vouch-output', 'json'],
    expectOut: /^\{/,
  },
  {
    name: 'a failing verify keeps its exit code 1 (stderr closed too)',
    args: () => ['verify', '--oci-layout', `layout@${digest}`, '--scope', 'other.io/app'],
    expectOut: /^$/,
    code: 1,
  },
];

describe('a closed stdout or stderr is a normal end of the output (real child process)', () => {
  for (const c of CASES) {
    it(`${c.name}: full output, then closed at once and after the first chunk`, async () => {
      const full = await child(c.args());
      expect(full.stdout).toMatch(c.expectOut);
      expect(full.code).toBe(c.code ?? 0);
      const runs: ProcessResult[] = [];
      for (let i = 0; i < REPEAT; i++) {
        const closeStdout = i % 2 === 0 ? 'now' : 'first-chunk';
        // a failing command writes its error to stderr: close that one too
        runs.push(await child(c.args(), { closeStdout, ...(c.code ? { closeStderr: true } : {}) }));
      }
      for (const r of runs) expectClean(r, c.code ?? 0);
    }, 120_000);
  }

  it('stdout and stderr both closed (`2>&1 | true`): verify by tag still exits 0', async () => {
    for (let i = 0; i < REPEAT; i++) {
      const r = await child(['verify', '--oci-layout', 'layout:v1', '--scope', 'local.io/app'], { closeStdout: 'now', closeStderr: true });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
    }
  }, 60_000);

  it.skipIf(!existsSync('/dev/full'))(
    'any other write error (a full device) still fails with exit 1',
    async () => {
      const { spawn } = await import('node:child_process');
      const { openSync, closeSync } = await import('node:fs');
      const fd = openSync('/dev/full', 'w');
      try {
        const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const p = spawn(process.execPath, [cliExecutable(), '--config-dir', cfg, 'cert', 'list'], {
            cwd: root,
            env: { PATH: process.env.PATH, ...env },
            stdio: ['ignore', fd, 'pipe'],
          });
          let stderr = '';
          p.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
          p.on('close', (code) => resolve({ code, stderr }));
        });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/^Error: .*ENOSPC/m);
      } finally {
        closeSync(fd);
      }
    },
    60_000,
  );
});
