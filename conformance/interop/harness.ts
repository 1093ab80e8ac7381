/**
 * The interop suite's harness: the real peer tools (notation 1.3.2, cosign 3.1.1 and 2.5.0,
 * oras 1.3.3, crane 0.20.7, from Debian packages; `.ci/run` fetches them), an isolated home and
 * notation config dir per test shared by vouch and the peers, images pushed with crane, and the
 * registries (CNCF distribution without the Referrers API, the in-repo fake with it).
 *
 * Where the peers are: `VOUCH_PEERS_DIR` (a folder with `sid/usr/bin/{notation,cosign,oras,crane}`
 * and `trixie/usr/bin/cosign`, as `.ci/run` and ../shared/docs/toolchain-and-services.md unpack
 * them), or one variable per tool (`VOUCH_NOTATION`, `VOUCH_COSIGN`, `VOUCH_COSIGN2`,
 * `VOUCH_ORAS`, `VOUCH_CRANE`). Nothing set: the suite is skipped with a notice, except under
 * CI=true, where a missing tool is a failure.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from '@vouch/cli';
import { type RunningFakeRegistry, type RunningRegistry, registryBinary, startFakeRegistry, startRegistry } from '@vouch/testing/registry';
import { note } from '../notes.js';

/** The peer tools, by the name the suite uses. `cosign2` is cosign 2.5.0 (trixie). */
export type Peer = 'notation' | 'cosign' | 'cosign2' | 'oras' | 'crane';

/** The versions `.ci/run` fetches (Debian package versions in its PEERS list); the suite checks them. */
export const PEER_VERSIONS: Readonly<Record<Peer, string>> = {
  notation: '1.3.2',
  cosign: '3.1.1',
  cosign2: '2.5.0',
  oras: '1.3.3',
  crane: '0.20.7',
};

const ENV_VAR: Readonly<Record<Peer, string>> = {
  notation: 'VOUCH_NOTATION',
  cosign: 'VOUCH_COSIGN',
  cosign2: 'VOUCH_COSIGN2',
  oras: 'VOUCH_ORAS',
  crane: 'VOUCH_CRANE',
};

const IN_PEERS_DIR: Readonly<Record<Peer, string>> = {
  notation: 'sid/usr/bin/notation',
  cosign: 'sid/usr/bin/cosign',
  cosign2: 'trixie/usr/bin/cosign',
  oras: 'sid/usr/bin/oras',
  crane: 'sid/usr/bin/crane',
};

function executable(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}

/** Absolute path of a peer tool, or undefined when it is not configured (or not executable). */
export function peerPath(tool: Peer, env: Record<string, string | undefined> = process.env): string | undefined {
  const own = env[ENV_VAR[tool]];
  if (own) return executable(own);
  const dir = env.VOUCH_PEERS_DIR;
  return dir ? executable(join(dir, IN_PEERS_DIR[tool])) : undefined;
}

/**
 * Whether the tests needing `tools` (plus docker-registry and openssl) can run. Missing ones:
 * under CI=true this throws (the file fails); elsewhere it prints a NOTICE, records the reason
 * for `pnpm interop` and returns false (the caller skips).
 */
export function peersAvailable(tools: readonly Peer[], what: string): boolean {
  const missing: string[] = tools.filter((t) => !peerPath(t)).map((t) => `${t} (${ENV_VAR[t]} or VOUCH_PEERS_DIR)`);
  if (!registryBinary()) missing.push('docker-registry (apt-get install docker-registry)');
  if (missing.length === 0) return true;
  const msg = `interop: ${what} need ${missing.join(', ')}; set VOUCH_PEERS_DIR=/opt/peers (see docs/interop.md) or run bash .ci/run`;
  if (process.env.CI === 'true') throw new Error(`${msg}; required under CI=true`);
  console.warn(`NOTICE: ${msg}; skipped`);
  note('skip', what, 'peer tools not configured (VOUCH_PEERS_DIR)');
  return false;
}

/** What a command did. `error` is the first line of stderr that starts with `Error:` (else ''). */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  error: string;
}

function firstError(stderr: string): string {
  return stderr.split('\n').find((l) => l.startsWith('Error:')) ?? '';
}

/** Run a program without a shell, never throwing; stdin closed unless given. */
export function exec(
  file: string,
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      [...args],
      {
        env: opts.env as NodeJS.ProcessEnv,
        cwd: opts.cwd,
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 32 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, error: firstError(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/**
 * A home of its own for one test: `HOME`, `XDG_CONFIG_HOME` (so notation's config dir is
 * `<root>/xdg/notation` for both tools), `XDG_CACHE_HOME`, `DOCKER_CONFIG`; a scratch folder as
 * the working directory. vouch runs in-process (`runCli`, as the `vouch` binary does) with the
 * same environment the peers get.
 */
export class Workspace {
  readonly root: string;
  readonly work: string;
  readonly configDir: string;
  readonly env: Record<string, string | undefined>;

  private constructor(root: string) {
    this.root = root;
    this.work = join(root, 'work');
    this.configDir = join(root, 'xdg', 'notation');
    this.env = {
      PATH: process.env.PATH,
      HOME: join(root, 'home'),
      XDG_CONFIG_HOME: join(root, 'xdg'),
      XDG_CACHE_HOME: join(root, 'cache'),
      DOCKER_CONFIG: join(root, 'docker'),
      TZ: 'UTC',
      LANG: 'C',
    };
  }

  static async create(name = 'ws'): Promise<Workspace> {
    const root = await mkdtemp(join(tmpdir(), `vouch-interop-${name}-`));
    const ws = new Workspace(root);
    for (const d of [ws.work, ws.env.HOME!, ws.env.XDG_CACHE_HOME!, ws.env.DOCKER_CONFIG!]) await mkdir(d, { recursive: true });
    return ws;
  }

  /** Environment for one command: the workspace's, plus `extra` (e.g. `NOTATION_EXPERIMENTAL`). */
  envWith(extra: Record<string, string> = {}): Record<string, string | undefined> {
    return { ...this.env, ...extra };
  }

  /** Run a peer tool. */
  peer(tool: Peer, args: readonly string[], opts: { env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<Run> {
    const bin = peerPath(tool);
    if (!bin) throw new Error(`${tool} is not configured`);
    return exec(bin, args, {
      env: this.envWith(opts.env),
      cwd: opts.cwd ?? this.work,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
  }

  notation(args: readonly string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<Run> {
    return this.peer('notation', args, opts);
  }

  /** Run vouch in-process with the workspace's environment and working directory. */
  async vouch(
    args: readonly string[],
    opts: { env?: Record<string, string>; input?: string; now?: () => Date; cwd?: string } = {},
  ): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(args, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: this.envWith(opts.env),
      cwd: opts.cwd ?? this.work,
      ...(opts.input !== undefined ? { stdin: Readable.from([opts.input]) } : {}),
      ...(opts.now ? { now: opts.now } : {}),
    });
    return { code, stdout, stderr, error: firstError(stderr) };
  }

  /** Write a file under the working directory; returns its path. */
  async file(name: string, content: string | Uint8Array): Promise<string> {
    const p = join(this.work, name);
    await writeFile(p, content);
    return p;
  }

  read(path: string): Promise<string> {
    return readFile(path, 'utf8');
  }

  dispose(): Promise<void> {
    return rm(this.root, { recursive: true, force: true });
  }
}

/** Fail with the command's output when it did not exit as expected. */
export function expectExit(r: Run, code: number, what: string): Run {
  if (r.code !== code) {
    throw new Error(`${what}: expected exit ${code}, got ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r;
}

/** The registries a test file uses: CNCF distribution (tag schema only) and the fake with the Referrers API. */
export interface Registries {
  /** docker-registry 2.8 (no Referrers API): `127.0.0.1:<port>`. */
  distribution: string;
  /** The in-repo fake registry with the Referrers API and `OCI-Subject`. */
  referrers: string;
  fake: RunningFakeRegistry;
  stop(): Promise<void>;
}

export async function startRegistries(): Promise<Registries> {
  const stops: (() => Promise<void>)[] = [];
  try {
    const dist: RunningRegistry = await startRegistry();
    stops.push(dist.stop);
    const fake = await startFakeRegistry({ referrersApi: true, applyFilters: true });
    stops.push(fake.stop);
    return {
      distribution: dist.host,
      referrers: fake.host,
      fake,
      stop: async () => {
        for (const s of stops.reverse()) await s().catch(() => {});
      },
    };
  } catch (e) {
    for (const s of stops.reverse()) await s().catch(() => {});
    throw e;
  }
}

let counter = 0;

/** A repository name no other test uses. */
export function uniqueRepo(prefix: string): string {
  counter += 1;
  return `interop/${prefix}-${process.pid}-${counter}`;
}

/** A pushed image. */
export interface Image {
  /** `host/repo`. */
  repo: string;
  tag: string;
  digest: string;
  /** `host/repo@digest`. */
  ref: string;
  /** `host/repo:tag`. */
  tagRef: string;
}

/**
 * Push a one-layer image with crane (`crane append`): `oci` gives OCI media types (empty OCI base),
 * `docker` Docker schema 2. The layer holds a file with random content, so every image is new.
 */
export async function pushImage(
  ws: Workspace,
  host: string,
  opts: { repo?: string; tag?: string; format?: 'oci' | 'docker' } = {},
): Promise<Image> {
  const repo = `${host}/${opts.repo ?? uniqueRepo('img')}`;
  const tag = opts.tag ?? 'v1';
  const dir = await mkdtemp(join(ws.work, 'layer-'));
  await writeFile(join(dir, 'content.txt'), `${Date.now()} ${Math.random()}\n`);
  const tar = join(ws.work, `${dir.split('/').pop()}.tar`);
  expectExit(await exec('tar', ['-cf', tar, '-C', dir, 'content.txt']), 0, 'tar');
  const args = ['append', '--insecure', '-f', tar, '-t', `${repo}:${tag}`];
  if ((opts.format ?? 'oci') === 'oci') args.push('--oci-empty-base');
  const r = expectExit(await ws.peer('crane', args), 0, 'crane append');
  const digest = r.stdout.trim().split('@').pop() ?? '';
  if (!digest.startsWith('sha256:')) throw new Error(`crane append printed no digest: ${r.stdout}`);
  return { repo, tag, digest, ref: `${repo}@${digest}`, tagRef: `${repo}:${tag}` };
}

/** `crane manifest` of a reference, parsed. */
export async function manifestOf(ws: Workspace, ref: string): Promise<Record<string, unknown>> {
  const r = expectExit(await ws.peer('crane', ['manifest', '--insecure', ref]), 0, `crane manifest ${ref}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** `crane ls` of a repository. */
export async function tagsOf(ws: Workspace, repo: string): Promise<string[]> {
  const r = expectExit(await ws.peer('crane', ['ls', '--insecure', repo]), 0, `crane ls ${repo}`);
  return r.stdout.split('\n').filter(Boolean);
}

/** The referrers tag-schema tag of a digest (`sha256-<hex>`). */
export function referrersTagOf(digest: string): string {
  return digest.replace(':', '-');
}

/** A trust policy document: one statement for `scopes`, strict, the given stores and identities. */
export function trustPolicy(opts: {
  scopes?: string[];
  stores: string[];
  identities?: string[];
  level?: string;
  verifyTimestamp?: 'always' | 'afterCertExpiry';
  name?: string;
}): string {
  const statement: Record<string, unknown> = {
    name: opts.name ?? 'interop',
    registryScopes: opts.scopes ?? ['*'],
    signatureVerification: { level: opts.level ?? 'strict', ...(opts.verifyTimestamp ? { verifyTimestamp: opts.verifyTimestamp } : {}) },
    trustStores: opts.stores,
    trustedIdentities: opts.identities ?? ['*'],
  };
  return `${JSON.stringify({ version: '1.0', trustPolicies: [statement] }, null, 2)}\n`;
}

/** Both tools in one list, for tests that run in both directions. */
export const DIRECTIONS = [
  { signer: 'notation', verifier: 'vouch' },
  { signer: 'vouch', verifier: 'notation' },
] as const;

export type Tool = 'notation' | 'vouch';

/** Run `args` with `tool` (vouch in-process, notation as a process). */
export function runTool(ws: Workspace, tool: Tool, args: readonly string[], opts: { env?: Record<string, string> } = {}): Promise<Run> {
  return tool === 'vouch' ? ws.vouch(args, opts) : ws.notation(args, opts);
}

/**
 * notation prints the user metadata table of `verify` from a Go map, in random order: the rows
 * after a `KEY   VALUE` header are sorted here so that outputs compare.
 */
export function unorderedTable(text: string): string {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => /^KEY\s+VALUE\s*$/.test(l));
  if (header < 0) return text;
  let end = header + 1;
  while (end < lines.length && lines[end] !== '') end++;
  return [...lines.slice(0, header + 1), ...lines.slice(header + 1, end).sort(), ...lines.slice(end)].join('\n');
}

interface TextNode {
  value: string;
  children: TextNode[];
}

/** Nodes whose children notation prints from a Go map (random order in 1.3's `inspect` tree). */
const MAP_NODES = new Set(['signed attributes', 'user defined attributes', 'unsigned attributes']);

/**
 * notation's `inspect` tree with the children of the map nodes (signed, user defined and unsigned
 * attributes) sorted, as text: two trees that differ only in map order compare equal.
 */
export function canonicalTree(text: string, opts: { keepOrder?: boolean } = {}): string {
  const root: TextNode = { value: '', children: [] };
  const stack: { depth: number; node: TextNode }[] = [{ depth: -1, node: root }];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^((?:[│ ] {3})*)(?:[├└]── )?(.*)$/.exec(line)!;
    const marker = /[├└]── /.test(line.slice(m[1]!.length, m[1]!.length + 4));
    const depth = marker ? m[1]!.length / 4 + 1 : 0;
    const node: TextNode = { value: m[2]!, children: [] };
    while (stack.length > 1 && stack[stack.length - 1]!.depth >= depth) stack.pop();
    stack[stack.length - 1]!.node.children.push(node);
    stack.push({ depth, node });
  }
  const render = (n: TextNode, indent: string): string => {
    const kids = n.children.map((c) => render(c, `${indent}  `));
    if (MAP_NODES.has(n.value) && !opts.keepOrder) kids.sort();
    return [`${indent}${n.value}`, ...kids].join('\n');
  };
  return root.children.map((c) => render(c, '')).join('\n');
}

/**
 * The version of a peer as it reports it (`notation version`, `oras version`), else, for the
 * Debian builds that report none (cosign: "devel", crane), the Debian package's changelog in
 * VOUCH_PEERS_DIR. Undefined when neither says.
 */
export async function peerVersion(tool: Peer): Promise<string | undefined> {
  const bin = peerPath(tool);
  if (!bin) return undefined;
  if (tool === 'notation' || tool === 'oras') {
    const r = await exec(bin, ['version']);
    return /^Version:\s*v?(\d+\.\d+\.\d+)/m.exec(r.stdout)?.[1];
  }
  const dir = process.env.VOUCH_PEERS_DIR;
  if (!dir || process.env[ENV_VAR[tool]]) return undefined;
  const pkg = tool === 'cosign2' ? 'cosign' : tool;
  const suite = IN_PEERS_DIR[tool].split('/')[0]!;
  try {
    const { gunzipSync } = await import('node:zlib');
    const text = gunzipSync(await readFile(join(dir, suite, 'usr', 'share', 'doc', pkg, 'changelog.Debian.gz'))).toString('utf8');
    return /^\S+ \((?:\d+:)?(\d+\.\d+\.\d+)/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * A workspace with a test key `key` generated as the default signing key, and a trust policy
 * (`policy import --force`) trusting its `ca:<key>` store plus `stores`, both written by `by`.
 */
export async function signingWorkspace(
  name: string,
  key: string,
  opts: { by?: Tool; now?: () => Date; stores?: string[]; verifyTimestamp?: 'always' | 'afterCertExpiry' } = {},
): Promise<Workspace> {
  const ws = await Workspace.create(name);
  const by = opts.by ?? 'notation';
  const generate = ['cert', 'generate-test', '--default', key];
  expectExit(
    await (by === 'vouch' ? ws.vouch(generate, opts.now ? { now: opts.now } : {}) : ws.notation(generate)),
    0,
    `${by} cert generate-test`,
  );
  const policy = trustPolicy({
    stores: [`ca:${key}`, ...(opts.stores ?? [])],
    ...(opts.verifyTimestamp ? { verifyTimestamp: opts.verifyTimestamp } : {}),
  });
  await ws.file('policy.json', policy);
  expectExit(await runTool(ws, by, ['policy', 'import', '--force', 'policy.json']), 0, `${by} policy import`);
  return ws;
}

/**
 * cosign set up to sign and verify with keys and no Sigstore services, in a folder of its own:
 * a signing config without services (cosign 3 reads it instead of looking one up), an empty
 * trusted root, and a key pair from `cosign generate-key-pair` (password `password`). Every
 * cosign run gets `HTTPS_PROXY` pointing at a closed 127.0.0.1 port, so a lookup of the public
 * TUF repository fails at once instead of leaving the machine (registries on 127.0.0.1 are
 * never proxied).
 */
export interface CosignSetup {
  dir: string;
  signingConfig: string;
  trustedRoot: string;
  /** `cosign.key` (encrypted with `password`) and `cosign.pub`. */
  key: string;
  pub: string;
  password: string;
  /** Environment for cosign runs (COSIGN_PASSWORD and the proxy guard). */
  env: Record<string, string>;
}

/** The environment that keeps cosign on 127.0.0.1 (see {@link CosignSetup}). */
export const COSIGN_OFFLINE_ENV: Readonly<Record<string, string>> = Object.freeze({
  HTTPS_PROXY: 'http://127.0.0.1:9',
  HTTP_PROXY: 'http://127.0.0.1:9',
  NO_PROXY: '127.0.0.1,localhost',
});

export async function cosignSetup(ws: Workspace, password = 'password'): Promise<CosignSetup> {
  const dir = await mkdtemp(join(ws.work, 'cosign-'));
  const env = { ...COSIGN_OFFLINE_ENV, COSIGN_PASSWORD: password };
  expectExit(await ws.peer('cosign2', ['generate-key-pair'], { env, cwd: dir }), 0, 'cosign generate-key-pair');
  const signingConfig = join(dir, 'signing-config.json');
  const trustedRoot = join(dir, 'trusted-root.json');
  await writeFile(
    signingConfig,
    '{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","rekorTlogConfig":{},"tsaConfig":{}}',
  );
  await writeFile(trustedRoot, '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}');
  return { dir, signingConfig, trustedRoot, key: join(dir, 'cosign.key'), pub: join(dir, 'cosign.pub'), password, env };
}
