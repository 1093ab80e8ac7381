/**
 * Replays one notation e2e scenario through `vouch` in-process (`runCli`, in notation drop-in
 * mode so that messages name `notation` as upstream's do): per-scenario config dir, setup per
 * the scenarios README, steps with placeholders filled in, expectations as upstream checks them.
 */
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { runCli } from '@vouch/cli';
import type { FetchLike } from '@vouch/core';
import { controlPost } from '../e2e-services/revocation.js';
import { DOMAIN_REGISTRY, listReferrers, PASSWORD, seedArtifact, USERNAME } from './services.js';
import { type ActionStep, type CliStep, type Expect, type HostSetup, isCliStep, type Scenario } from './types.js';

/** What the runner shares between scenarios. */
export interface E2eEnv {
  /** `notation-e2e/` folder of the shared vectors. */
  vectorsDir: string;
  /** Registry host as the scenarios name it (`localhost:5000`). */
  registry: string;
  /** Transport for scenarios that need `notation-e2e.registry.io`. */
  domainFetch?: FetchLike;
  /** Directory to put first on PATH (credential helper stand-in). */
  binDir?: string;
  /** The e2e plugin executable and its tar.gz (`{PLUGIN_BIN}`, `{PLUGIN_TAR_GZ}`). */
  plugin?: { bin: string; tarGz: string };
}

interface StepResult {
  code: number;
  out: string;
  err: string;
}

/** Per-scenario (or per ordered group) state: dirs, placeholders, persistent env. */
export class ScenarioState {
  readonly placeholders: Record<string, string> = {};
  readonly extraEnv: Record<string, string> = {};
  readonly restores: { path: string; mode: number }[] = [];
  readonly dirs: string[] = [];
  userDir = '';
  seeded = new Set<string>();

  async init(): Promise<void> {
    const root = await mkdtemp(join(tmpdir(), 'vouch-e2e-'));
    this.dirs.push(root);
    this.userDir = join(root, 'user');
    await mkdir(join(this.userDir, 'notation'), { recursive: true });
    Object.assign(this.placeholders, {
      USER_DIR: this.userDir,
      NOTATION_DIR: join(this.userDir, 'notation'),
      BLOB: join(this.userDir, 'blobFile.txt'),
      USERNAME,
      PASSWORD,
      TAG: 'v1',
      DOMAIN_REGISTRY,
    });
  }

  /** Point `{TESTDATA}` at the vectors' testdata folder. */
  setTestdata(dir: string): void {
    this.placeholders.TESTDATA = dir;
  }

  async dispose(): Promise<void> {
    for (const r of this.restores) await chmod(r.path, r.mode).catch(() => {});
    for (const d of this.dirs) await rm(d, { recursive: true, force: true }).catch(() => {});
  }
}

/** Replace `{NAME}` placeholders that the state knows. */
export function fill(text: string, ph: Record<string, string>): string {
  return text.replace(/\{([A-Z][A-Z0-9_]*)\}/g, (m, name: string) => (name in ph ? ph[name]! : m));
}

function stdinOf(text: string): AsyncIterable<string> {
  return (async function* () {
    if (text) yield text;
  })();
}

export class ScenarioRunner {
  constructor(
    readonly scenario: Scenario,
    readonly env: E2eEnv,
    readonly state: ScenarioState,
    /** Expected substrings to leave out (E2E_CHECK_GO_TEXT=relaxed: the Go-only ones). */
    readonly ignored: readonly string[] = [],
  ) {}

  private get testdata(): string {
    return join(this.env.vectorsDir, 'testdata');
  }

  private fill(text: string): string {
    return fill(text, this.state.placeholders);
  }

  /** Path of a scenario file (`testdata/...` relative to the vectors dir, or absolute after filling). */
  private src(path: string): string {
    const p = this.fill(path);
    return p.startsWith('/') ? p : join(this.env.vectorsDir, p);
  }

  private hostDir(host: string | undefined): string {
    return host ? `${this.state.userDir}-${host}` : this.state.userDir;
  }

  private baseEnv(host: string | undefined, hostEnv: Record<string, string> | undefined): Record<string, string | undefined> {
    const userDir = this.hostDir(host);
    const path = this.env.binDir ? `${this.env.binDir}:${process.env.PATH ?? ''}` : process.env.PATH;
    const env: Record<string, string | undefined> = {
      PATH: path,
      HOME: userDir,
      TZ: 'UTC',
      XDG_CONFIG_HOME: userDir,
      NOTATION_CACHE: join(userDir, '.cache'),
      DOCKER_CONFIG: join(userDir, '.docker'),
    };
    for (const [k, v] of Object.entries(hostEnv ?? {})) env[k] = this.fill(v);
    if (!host) Object.assign(env, this.state.extraEnv);
    return env;
  }

  /** Run vouch with `args` as the given host (main host when undefined). */
  async vouch(args: string[], opts: { host?: string; stdin?: string; cwd?: string } = {}): Promise<StepResult> {
    const hostEnv = opts.host ? this.scenario.setup.hosts?.[opts.host]?.env : this.scenario.setup.env;
    let out = '';
    let err = '';
    const code = await runCli(args, {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      env: this.baseEnv(opts.host, hostEnv),
      stdin: stdinOf(opts.stdin ?? ''),
      cwd: opts.cwd ?? this.hostDir(opts.host),
      programName: 'notation',
      ...(this.scenario.needs.includes('tls-proxy') && this.env.domainFetch ? { fetch: this.env.domainFetch } : {}),
    });
    return { code, out, err };
  }

  private async setupHost(setup: HostSetup, host: string | undefined): Promise<void> {
    const notationDir = join(this.hostDir(host), 'notation');
    await mkdir(notationDir, { recursive: true });
    if (setup.signing_keys?.length) {
      await mkdir(join(notationDir, 'localkeys'), { recursive: true });
      const keys = [];
      let def: string | undefined;
      for (const k of setup.signing_keys) {
        const keyPath = join(notationDir, 'localkeys', basename(k.key));
        const certPath = join(notationDir, 'localkeys', basename(k.cert));
        await copyWritable(this.src(k.key), keyPath);
        await copyWritable(this.src(k.cert), certPath);
        keys.push({ name: k.name, keyPath, certPath });
        if (k.default) def = k.name;
      }
      await writeFile(join(notationDir, 'signingkeys.json'), JSON.stringify({ ...(def ? { default: def } : {}), keys }));
    }
    for (const t of setup.trust_store ?? []) {
      const r = await this.vouch(['cert', 'add', '--type', t.type, '--store', t.store, this.src(t.cert)], { host });
      if (r.code !== 0 || !r.out.includes('Successfully added following certificates')) {
        throw new Error(`setup: cert add ${t.type}:${t.store} ${t.cert} failed (exit ${r.code})\n${r.out}${r.err}`);
      }
    }
    if (setup.trust_policy) await copyWritable(this.src(setup.trust_policy), join(notationDir, 'trustpolicy.json'));
    if (setup.blob_trust_policy) await copyWritable(this.src(setup.blob_trust_policy), join(notationDir, 'trustpolicy.blob.json'));
    for (const f of setup.config_files ?? []) {
      const dest = this.fill(f.dest);
      await mkdir(dirname(dest), { recursive: true });
      await copyWritable(this.src(f.src), dest);
    }
  }

  /** Setup per the README, in its order. */
  async setup(): Promise<void> {
    const s = this.scenario.setup;
    const ph = this.state.placeholders;
    this.state.setTestdata(this.testdata);
    // registry artifacts: a repository per artifact, seeded when the steps use it
    for (const a of s.registry_artifacts ?? []) {
      const repoKey = a.repo_placeholder.replace(/[{}]/g, '');
      const digestKey = a.digest_placeholder.replace(/[{}]/g, '');
      if (!(repoKey in ph))
        ph[repoKey] = a.repo_name === 'e2e-<random>' ? `e2e-${BigInt(`0x${randomBytes(8).toString('hex')}`)}` : a.repo_name;
      ph[digestKey] = a.digest;
      const used = a.used_by_steps !== false && this.scenario.needs.includes('registry');
      if (used && !this.state.seeded.has(repoKey)) {
        this.state.seeded.add(repoKey);
        await seedArtifact(join(this.env.vectorsDir, a.layout), this.env.registry, ph[repoKey]!, a);
      }
    }
    ph.REGISTRY = this.env.registry;
    if (this.env.plugin) {
      ph.PLUGIN_BIN = this.env.plugin.bin;
      ph.PLUGIN_TAR_GZ = this.env.plugin.tarGz;
    }
    for (const l of s.oci_layouts ?? []) {
      const key = l.placeholder.replace(/[{}]/g, '');
      const root = await mkdtemp(join(tmpdir(), 'vouch-e2e-layout-'));
      this.state.dirs.push(root);
      const dest = join(root, `e2e-${randomBytes(4).toString('hex')}`);
      await cp(join(this.env.vectorsDir, l.source), dest, { recursive: true });
      await chmodTree(dest);
      ph[key] = dest;
      ph.DIGEST = ph.DIGEST ?? l.digest;
    }
    await this.setupHost(s, undefined);
    for (const [name, h] of Object.entries(s.hosts ?? {})) await this.setupHost(h, name);
    if (s.blob_file !== undefined) await writeFile(ph.BLOB!, 'test blob commands');
    for (const p of (s.plugins ?? []) as PluginSetup[]) await this.installPlugin(p);
  }

  /** `setup.plugins`: the e2e plugin at its install path, and the pluginkeys.json shown. */
  private async installPlugin(p: PluginSetup): Promise<void> {
    if (!this.env.plugin) throw new Error('setup: the e2e plugin was not built');
    const dest = this.fill(p.install_path);
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(this.fill(p.binary), dest);
    await chmod(dest, 0o755);
    if (p.pluginkeys_json) {
      const path = this.fill(p.pluginkeys_json.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, this.fill(JSON.stringify(p.pluginkeys_json.content)));
    }
  }

  private check(step: CliStep, r: StepResult): string[] {
    const e: Expect = step.expect;
    const problems: string[] = [];
    const f = (t: string) => this.fill(t);
    if (e.exit === 0 ? r.code !== 0 : r.code === 0) problems.push(`exit ${r.code}, expected ${e.exit === 0 ? '0' : 'non-zero'}`);
    for (const [want, got, name] of [
      [e.stdout_contains, r.out, 'stdout'],
      [e.stderr_contains, r.err, 'stderr'],
    ] as const) {
      for (const k of want ?? []) {
        if (this.ignored.includes(k)) continue;
        if (!got.toLowerCase().includes(f(k).toLowerCase())) problems.push(`${name} lacks ${JSON.stringify(f(k))}`);
      }
    }
    for (const [bad, got, name] of [
      [e.stdout_not_contains, r.out, 'stdout'],
      [e.stderr_not_contains, r.err, 'stderr'],
    ] as const) {
      for (const k of bad ?? []) if (got.includes(f(k))) problems.push(`${name} contains ${JSON.stringify(f(k))}`);
    }
    if (e.stdout_equals !== undefined && r.out !== f(e.stdout_equals)) problems.push(`stdout is not ${JSON.stringify(f(e.stdout_equals))}`);
    if (e.stderr_equals !== undefined && r.err !== f(e.stderr_equals)) problems.push(`stderr is not ${JSON.stringify(f(e.stderr_equals))}`);
    return problems;
  }

  private async action(step: ActionStep): Promise<void> {
    const p = (k: string) => this.fill(String(step[k]));
    switch (step.action) {
      case 'chmod': {
        const path = p('path');
        if (step.restore_mode_after_test)
          this.state.restores.push({ path, mode: Number.parseInt(String(step.restore_mode_after_test), 8) });
        await chmod(path, Number.parseInt(String(step.mode), 8));
        return;
      }
      case 'mkdir':
        await mkdir(p('path'), { recursive: true, mode: step.mode ? Number.parseInt(String(step.mode), 8) : 0o755 });
        return;
      case 'write_file':
        await mkdir(dirname(p('path')), { recursive: true });
        await writeFile(p('path'), this.fill(String(step.content ?? '')), {
          mode: step.mode ? Number.parseInt(String(step.mode), 8) : 0o644,
        });
        return;
      case 'remove':
        await rm(p('path'), { recursive: true, force: true });
        return;
      case 'rename':
        await rename(p('src'), p('dest'));
        return;
      case 'copy_file': {
        const dest = p('dest');
        await mkdir(dirname(dest), { recursive: true });
        await copyWritable(this.src(String(step.src)), dest);
        return;
      }
      case 'sleep':
        await new Promise((r) => setTimeout(r, Number(step.ms)));
        return;
      case 'http_post':
        await controlPost(p('url'), String(step.content_type ?? 'application/octet-stream'), this.fill(String(step.body ?? '')));
        return;
      case 'write_crl_cache': {
        const path = p('path');
        await mkdir(dirname(path), { recursive: true, mode: step.dir_mode ? Number.parseInt(String(step.dir_mode), 8) : 0o700 });
        await writeFile(path, String(step.content));
        return;
      }
      case 'decode_base64_file': {
        const dest = p('dest');
        await mkdir(dirname(dest), { recursive: true });
        const text = await readFile(this.src(String(step.src)), 'utf8');
        await writeFile(dest, Buffer.from(text.replace(/\s+/g, ''), 'base64'), {
          mode: step.mode ? Number.parseInt(String(step.mode), 8) : 0o644,
        });
        return;
      }
      case 'assert_registry_referrers': {
        const subject = p('subject');
        const at = subject.lastIndexOf('@');
        const name = subject.slice(0, at);
        const slash = name.indexOf('/');
        const found = await listReferrers(name.slice(0, slash), name.slice(slash + 1), subject.slice(at + 1), String(step.artifact_type));
        const want = (step.annotations_include ?? {}) as Record<string, string>;
        const problems: string[] = [];
        if (step.count !== undefined && found.length !== Number(step.count))
          problems.push(`${found.length} referrers, expected ${String(step.count)}`);
        for (const r of found) {
          for (const [k, v] of Object.entries(want)) {
            if (r.annotations[k] !== v)
              problems.push(`referrer ${r.digest} has annotation ${k}=${JSON.stringify(r.annotations[k])}, expected ${JSON.stringify(v)}`);
          }
        }
        if (problems.length > 0) throw new Error(`referrers of ${subject} (${String(step.artifact_type)}): ${problems.join('; ')}`);
        return;
      }
      case 'set_env':
        for (const [k, v] of Object.entries(step.env as Record<string, string>)) this.state.extraEnv[k] = this.fill(v);
        return;
      case 'assert_path_exists':
        if (!(await exists(p('path')))) throw new Error(`expected ${p('path')} to exist`);
        return;
      case 'assert_path_absent':
        if (await exists(p('path'))) throw new Error(`expected ${p('path')} to be absent`);
        return;
      default:
        throw new Error(`runner does not implement action ${step.action}`);
    }
  }

  /** Run every step; throws with the first mismatch (command, expectations, output). */
  async run(): Promise<void> {
    for (const [i, step] of this.scenario.steps.entries()) {
      if (!isCliStep(step)) {
        await this.action(step);
        continue;
      }
      const args = step.args.map((a) => this.fill(a));
      const r = await this.vouch(args, {
        ...(step.host ? { host: step.host } : {}),
        ...(step.stdin !== undefined ? { stdin: this.fill(step.stdin) } : {}),
        ...(step.workdir ? { cwd: this.fill(step.workdir) } : {}),
      });
      const problems = this.check(step, r);
      if (step.expect.stdout_equals_file) {
        const want = await readFile(this.src(step.expect.stdout_equals_file), 'utf8');
        if (r.out !== want) problems.push(`stdout differs from ${step.expect.stdout_equals_file}`);
      }
      if (problems.length > 0) {
        throw new Error(
          `step ${i + 1}: notation ${args.join(' ')}${step.host ? ` (host ${step.host})` : ''}\n  ${problems.join('\n  ')}\n--- exit ${r.code}\n--- stdout\n${r.out}--- stderr\n${r.err}`,
        );
      }
    }
  }
}

interface PluginSetup {
  name: string;
  binary: string;
  install_path: string;
  pluginkeys_json?: { path: string; content: unknown };
}

/** Copy a file from the read-only vectors and make the copy writable by its owner. */
async function copyWritable(src: string, dest: string): Promise<void> {
  await copyFile(src, dest);
  await chmod(dest, 0o644);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The shared vectors are read-only; make the layout copy writable. */
async function chmodTree(dir: string): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  await chmod(dir, 0o755);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await chmodTree(p);
    else await chmod(p, 0o644);
  }
}
