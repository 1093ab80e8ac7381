/**
 * notation's own end-to-end suite (../shared/vectors/notation-e2e/scenarios.json) replayed
 * through `vouch`, one `it` per scenario; a scenario that cannot run is skipped with one reason
 * from a fixed list (SKIP_REASONS, printed with counts by `pnpm e2e`). Shared services, started
 * once and only when a running scenario needs them: the registry (`E2E_REGISTRY`, else a
 * docker-registry on 127.0.0.1:5000 with htpasswd testuser/testpassword, as upstream's), the
 * TLS front end, the credential helper stand-in, the e2e plugin (built with vouch's plugin SDK,
 * conformance/e2e-plugin), and the CRL server and OCSP responder on the loopback ports the
 * testdata certificates name (conformance/e2e-services). Scenarios that share state (upstream's
 * serial ones, ordered groups, the login pair) run alone; the others run concurrently.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { EXPERIMENTAL_WARNING, GO_ONLY_TEXT, KNOWN_DEVIATIONS, SKIP_REASONS, skipReason } from './e2e/classify.js';
import { type E2eEnv, ScenarioRunner, ScenarioState } from './e2e/runner.js';
import { DOMAIN_REGISTRY, domainFetch, installCredentialHelper, startDomainProxy, startE2eRegistry } from './e2e/services.js';
import type { Scenario } from './e2e/types.js';
import { startCrlServer, startOcspResponder } from './e2e-services/revocation.js';
import { note } from './notes.js';

process.env.TZ = 'UTC';
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const shared = process.env.VOUCH_SHARED_DIR ?? join(repoRoot, '..', 'shared');
const vectorsDir = join(shared, 'vectors', 'notation-e2e');
const scenariosPath = join(vectorsDir, 'scenarios.json');
const present = existsSync(scenariosPath);
if (!present) {
  if (process.env.CI === 'true') throw new Error(`notation e2e scenarios missing at ${scenariosPath} (required under CI=true)`);
  console.warn(`NOTICE: ${scenariosPath} not found (set VOUCH_SHARED_DIR); notation e2e scenarios skipped`);
}

const scenarios: Scenario[] = present ? (JSON.parse(readFileSync(scenariosPath, 'utf8')) as Scenario[]) : [];
const root = typeof process.getuid === 'function' && process.getuid() === 0;

// ordered groups (quickstart) run in their order and share one state
const ordered = [...scenarios].sort((a, b) => {
  if (a.ordered_group && a.ordered_group === b.ordered_group) return (a.order ?? 0) - (b.order ?? 0);
  return 0;
});

const plan = ordered.map((s) => ({ s, reason: skipReason(s, { root }) }));
const running = (need: string) => plan.some((p) => !p.reason && p.s.needs.includes(need));
const needsRegistry = running('registry');
const needsDomain = running('tls-proxy');
const needsHelper = running('credential-helper');
const needsPlugin = plan.some((p) => !p.reason && (p.s.needs.includes('plugin') || p.s.setup.plugins !== undefined));
const needsCrl = running('crl-server');
const needsOcsp = running('ocsp-responder');

const env: E2eEnv = { vectorsDir, registry: 'localhost:5000' };
const stops: (() => Promise<unknown>)[] = [];
const groups = new Map<string, ScenarioState>();
let setupError: Error | undefined;
let resetHelper: (() => Promise<void>) | undefined;

beforeAll(async () => {
  try {
    if (needsRegistry) {
      const reg = await startE2eRegistry();
      stops.push(reg.stop);
      env.registry = reg.host;
      if (needsDomain) {
        const proxy = await startDomainProxy(reg.upstream, join(vectorsDir, 'testdata', 'nginx'));
        stops.push(proxy.stop);
        env.domainFetch = domainFetch(proxy);
      }
    }
    const testdata = join(vectorsDir, 'testdata');
    if (needsCrl) stops.push((await startCrlServer(join(testdata, 'config', 'crl'))).stop);
    if (needsOcsp) stops.push((await startOcspResponder(join(testdata, 'config', 'ocsp'))).stop);
    if (needsPlugin) {
      const dir = await mkdtemp(join(tmpdir(), 'vouch-e2e-plugin-'));
      stops.push(() => rm(dir, { recursive: true, force: true }));
      const build = pathToFileURL(join(repoRoot, 'conformance', 'e2e-plugin', 'build.mjs')).href;
      const { buildE2ePlugin } = (await import(build)) as { buildE2ePlugin(dir: string): { bin: string; tarGz: string } };
      env.plugin = buildE2ePlugin(dir);
    }
    if (needsHelper) {
      const dir = await mkdtemp(join(tmpdir(), 'vouch-e2e-helper-'));
      stops.push(() => rm(dir, { recursive: true, force: true }));
      const h = await installCredentialHelper(dir);
      env.binDir = h.binDir;
      resetHelper = h.reset;
      // credential helpers run as child processes of this process: they see its PATH
      const oldPath = process.env.PATH;
      process.env.PATH = `${h.binDir}:${oldPath ?? ''}`;
      stops.push(async () => {
        process.env.PATH = oldPath;
      });
    }
  } catch (e) {
    setupError = e as Error;
  }
}, 120_000);

afterAll(async () => {
  for (const g of groups.values()) await g.dispose();
  for (const stop of stops.reverse()) await stop().catch(() => {});
  // the whole fixed list, zero counts included (tools/run-suite.mjs lists only the reasons used)
  if (present) {
    const counts = new Map<string, number>(Object.values(SKIP_REASONS).map((r) => [r, 0]));
    for (const p of plan) if (p.reason) counts.set(p.reason, (counts.get(p.reason) ?? 0) + 1);
    const lines = [...counts].map(([why, n]) => `  ${String(n).padStart(4)}  ${why}`);
    process.stderr.write(`\ne2e: skip reasons (fixed list):\n${lines.join('\n')}\n`);
  }
});

describe.skipIf(!present)('notation e2e scenarios', () => {
  for (const { s, reason } of plan) {
    if (reason) {
      note('skip', s.id, reason);
      it.skip(`${s.id} [${reason}]`, () => {});
      continue;
    }
    // Scenarios run concurrently (vitest's maxConcurrency at a time) unless they share state:
    // upstream's serial ones (CRL/OCSP server state), ordered groups (one config dir), and the
    // login scenarios (one credential store). Each other scenario has its own config dir and
    // repositories.
    const alone = !!s.serial || !!s.ordered_group || s.needs.includes('credential-helper');
    (alone ? it : it.concurrent)(
      s.id,
      async () => {
        if (setupError) throw setupError;
        if (s.needs.includes('tls-proxy') && !env.domainFetch) throw new Error(`${DOMAIN_REGISTRY} front end not started`);
        if (s.needs.includes('credential-helper')) await resetHelper?.();
        let state = s.ordered_group ? groups.get(s.ordered_group) : undefined;
        const own = !state;
        if (!state) {
          state = new ScenarioState();
          await state.init();
          if (s.ordered_group) groups.set(s.ordered_group, state);
        }
        try {
          const relaxed = process.env.E2E_CHECK_GO_TEXT === 'relaxed' ? (GO_ONLY_TEXT[s.id] ?? []) : [];
          const runner = new ScenarioRunner(s, env, state, [EXPERIMENTAL_WARNING, ...relaxed]);
          await runner.setup();
          await runner.run();
        } catch (e) {
          const why = KNOWN_DEVIATIONS[s.id];
          if (why && e instanceof Error) e.message = `known deviation: ${why}\n${e.message}`;
          throw e;
        } finally {
          if (own && !s.ordered_group) await state.dispose();
        }
      },
      120_000,
    );
  }
});
