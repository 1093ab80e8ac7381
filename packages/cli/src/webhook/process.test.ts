/**
 * `vouch webhook` as a real process (bundled from source): SIGTERM turns readiness false at once,
 * every review accepted before or during the shutdown gets an answer, and the process exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedPolicyYaml } from '@vouch/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, pod, until, webhookHarness } from './test/support.js';

const h = webhookHarness();
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
let bundle: string;
let blackhole: Server;
const held = new Set<Socket>();
let child: ChildProcess | undefined;

beforeAll(async () => {
  const require = createRequire(realpathSync(join(repoRoot, 'node_modules', 'tsup', 'package.json')));
  const esbuild = require('esbuild') as typeof import('esbuild');
  bundle = join(h.dir, 'vouch.mjs');
  await esbuild.build({
    entryPoints: [join(repoRoot, 'packages/cli/src/bin.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: bundle,
    tsconfig: join(repoRoot, 'tsconfig.base.json'),
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  // a "registry" that accepts connections and never answers
  blackhole = createServer((s) => {
    held.add(s);
    s.on('error', () => {});
    s.on('close', () => held.delete(s));
  });
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  for (const s of held) s.destroy();
  await new Promise((r) => blackhole?.close(r));
});

describe('vouch webhook process', () => {
  it('SIGTERM: not ready at once, in-flight and late reviews answered, exit 0', async () => {
    const port = (blackhole.address() as { port: number }).port;
    const host = `127.0.0.1:${port}`;
    const pdir = join(h.dir, 'policies');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(pdir, 'p.yaml'), seedPolicyYaml({ certPem: h.certPem, imageReferences: [`${host}/*`] }));
    await writeFile(join(h.dir, 'tls.crt'), h.tls.cert);
    await writeFile(join(h.dir, 'tls.key'), h.tls.key);
    let out = '';
    child = spawn(
      process.execPath,
      [
        bundle,
        'webhook',
        '--policies',
        pdir,
        '--tls-cert',
        'tls.crt',
        '--tls-key',
        'tls.key',
        '--port',
        '0',
        '--address',
        '127.0.0.1',
      ].concat(['--timeout-ms', '2000', '--shutdown-delay-ms', '2000', '--insecure-registry', host]),
      { cwd: h.dir, env: { ...process.env, HOME: h.dir, XDG_CONFIG_HOME: h.dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    const lines = () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string; address?: string });
    await until(() => lines().some((l) => l.msg === 'listening'), 20_000).catch(() => {
      throw new Error(`no "listening" log; stderr: ${err}`);
    });
    const wport = Number(new URL(String(lines().find((l) => l.msg === 'listening')!.address)).port);
    const target = { address: { port: wport } };
    expect((await call(target, '/readyz')).status).toBe(200);
    // reviews that wait on the silent registry
    const inflight = Array.from({ length: 6 }, (_, i) => call(target, '/mutate', pod(`${host}/app${i}:v1`, `in-${i}`)));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    child.kill('SIGTERM');
    await until(async () => (await call(target, '/readyz')).status === 503, 2000);
    expect(Date.now() - t0).toBeLessThan(2000); // within the shutdown delay: readiness first
    // accepted during the shutdown delay: answered
    const late = await call(target, '/mutate', pod(`${host}/late:v1`, 'late'));
    expect(late.json().response).toMatchObject({ uid: 'late', allowed: false });
    const answers = await Promise.all(inflight);
    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(200);
      expect(a.json().response).toMatchObject({ uid: `in-${i}`, allowed: false });
      expect(a.json().response!.status!.message).toContain('the review deadline of 2000 ms was reached');
    }
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(2000 + 2000 + 5000);
    const msgs = lines().map((l) => l.msg);
    expect(msgs.slice(msgs.indexOf('shutting down')).filter((m) => m !== 'admission decision')).toEqual([
      'shutting down',
      'not ready: shutting down',
      'stopped',
    ]);
    expect(msgs.filter((m) => m === 'admission decision')).toHaveLength(7);
    await expect(call(target, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  }, 60_000);
});
